package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.OnEachDatabase;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of new subjects while the store is down: the usage kept in memory and the journal
 * stay under their caps, what is past them is counted, health says DEGRADED, and what was kept
 * is written exactly once the store is back.
 */
class OutageBoundsTest extends OnEachDatabase {
    private static final int SUBJECTS = 200_000;
    private static final int CAP = 10_000;
    private static final long JOURNAL_CAP = 4L << 20;

    @TempDir
    Path journalDir;

    @Test
    void twoHundredThousandRandomSubjectsDuringAnOutageStayUnderTheCaps() throws IOException {
        FlakyDataSource flaky = new FlakyDataSource(db.dataSource());
        TollgateConfig config = config().deferredMaxEntries(CAP).journalPath(journalDir)
                .journalMaxSize(JOURNAL_CAP).build();
        Tollgate t = Tollgate.builder(config).dataSource(flaky).build();
        try (LogCapture log = LogCapture.start()) {
            t.consume("warm-up", "requests", 1);
            assertThat(t.flush()).isTrue();
            long heapBefore = usedHeapAfterGc();
            flaky.down(true);
            SplittableRandom random = new SplittableRandom(12);
            for (int i = 0; i < SUBJECTS; i++) {
                t.consume("r-" + Long.toHexString(random.nextLong()), "requests", 1);
            }
            // Drains the channel; a batcher may hold the kept usage for a retry meanwhile.
            t.flush();
            long heapAfter = usedHeapAfterGc();
            Stats s = t.stats();
            long journalBytes = directorySize(journalDir);
            System.out.printf("Outage bounds (%s): %d random subjects with the store down, deferred cap %d counters,"
                            + " journal cap %d bytes: used heap after GC %d MB before, %d MB after (+%d MB);"
                            + " %d records kept (in memory now), %d dropped; journal %d bytes on disk, %d appends refused%n",
                    backend, SUBJECTS, CAP, JOURNAL_CAP, heapBefore >> 20, heapAfter >> 20,
                    (heapAfter - heapBefore) >> 20, s.pendingDeferred(), s.dropped(), journalBytes, s.journalErrors());

            // What is kept may be in a batcher's hands for a retry at this moment: counted after the outage.
            assertThat(s.pendingDeferred()).isLessThanOrEqualTo(CAP);
            assertThat(s.dropped()).isPositive();
            assertThat(s.processed()).isEqualTo(1);
            // The journal's segments: its cap, plus a segment header and the intents it never refuses.
            assertThat(journalBytes).isLessThanOrEqualTo(JOURNAL_CAP + (64 << 10));
            assertThat(s.journalErrors()).isPositive();
            assertThat(t.health().status()).isEqualTo(Health.Status.DEGRADED);
            assertThat(t.health().reason()).contains("tollgate.async.deferred.max-entries");
            assertThat(log.text()).contains("Usage dropped: the usage kept in memory for the store is at its cap of "
                    + CAP + " counters").contains("subject=r-");
            // A generous bound: the 200,000 subjects' usage does not stay in memory.
            assertThat(heapAfter - heapBefore).isLessThan(64L << 20);

            flaky.down(false);
            // Every kept subject is new: its plan is read before its usage is written (batched reads).
            Awaitility.await().atMost(Duration.ofMinutes(2)).until(t::flush);
            Stats after = t.stats();
            long kept = after.processed() - 1;
            assertThat(kept).isPositive().isLessThanOrEqualTo(CAP);
            assertThat(kept + after.dropped()).isEqualTo(SUBJECTS);
            assertThat(db.storedTotal("requests", "DAY")).isEqualTo(1 + kept);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> t.health().status() == Health.Status.UP);
        } finally {
            t.close();
        }
    }

    static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long directorySize(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".tgj")).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }).sum();
        }
    }
}
