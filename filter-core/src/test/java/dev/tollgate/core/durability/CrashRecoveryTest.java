package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node under load in its own JVM is killed with SIGKILL; a new engine on the same journal
 * and database writes what the dead one had acknowledged and not stored. The node prints
 * {@code A <thread> <n>} after each consume returns, so the parent knows what was
 * acknowledged: the stored total is at least that, and at most that plus one consume in
 * progress per thread. When the load is held before the kill, it is exactly that. Without a
 * journal, the loss is bounded as the README says ("Guarantees"): what the batcher held (one
 * flush interval), the write in progress and what the channel held; nothing is counted twice.
 */
class CrashRecoveryTest {
    static final int THREADS = 4;
    static final Duration STARTUP = Duration.ofSeconds(90);

    @TempDir
    Path journal;

    private static String[] node(TestDatabase db, String subject, String... more) {
        List<String> args = new ArrayList<>(List.of("mode=crash", "url=" + db.url(), "user=" + db.user(),
                "password=" + db.password(), "subject=" + subject, "threads=" + THREADS, "flush=100"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** What a restarted node does: build (which replays the journal), write everything, close. */
    private void restart(TestDatabase db, Path journalPath) {
        TollgateConfig.Builder c = TollgateConfig.custom().limit("free", "requests", "1000000000000/day")
                .metricsEnabled(false);
        if (journalPath != null) {
            c.journalPath(journalPath);
        }
        try (Tollgate t = Tollgate.builder(c.build()).dataSource(db.dataSource()).build()) {
            assertThat(t.flush()).isTrue();
        }
    }

    private long segments() throws IOException {
        try (Stream<Path> s = Files.list(journal)) {
            return s.filter(p -> p.getFileName().toString().startsWith("segment-")).count();
        }
    }

    @Test
    void withAJournalEveryAcknowledgedUnitIsStoredAfterAKillUnderLoad() throws Exception {
        try (TestDatabase db = TestDatabases.postgres();
             ChildJvm node = ChildJvm.start("crash-journal", node(db, "crash", "journal=" + journal))) {
            node.await("READY"::equals, STARTUP);
            node.awaitAcks(20_000, STARTUP);
            node.kill();
            long acked = node.acked();
            long beforeRestart = db.storedTotal("crash", "requests", "DAY");
            assertThat(segments()).isPositive();

            restart(db, journal);
            long stored = db.storedTotal("crash", "requests", "DAY");
            System.out.printf("[measure] SIGKILL with journal: acknowledged=%d, stored at kill=%d, stored after"
                    + " replay=%d%n", acked, beforeRestart, stored);
            assertThat(stored).isBetween(acked, acked + THREADS);
            assertThat(segments()).isZero();
        }
    }

    @Test
    void withAJournalAndTheLoadHeldTheStoredTotalEqualsTheAcknowledgedCount() throws Exception {
        try (TestDatabase db = TestDatabases.postgres();
             ChildJvm node = ChildJvm.start("crash-hold", node(db, "held", "journal=" + journal, "hold=15000"))) {
            node.await("READY"::equals, STARTUP);
            node.await("HOLD 15000"::equals, STARTUP);
            // Killed at once: batches may be in the channel, in flight or committed.
            node.kill();
            assertThat(node.acked()).isEqualTo(15_000);
            long beforeRestart = db.storedTotal("held", "requests", "DAY");

            restart(db, journal);
            System.out.printf("[measure] SIGKILL with journal, load held: acknowledged=15000, stored at kill=%d,"
                    + " stored after replay=%d%n", beforeRestart, db.storedTotal("held", "requests", "DAY"));
            assertThat(db.storedTotal("held", "requests", "DAY")).isEqualTo(15_000);
        }
    }

    @Test
    void withoutAJournalAKillLosesOnlyWhatWasNotFlushedAndNeverCountsTwice() throws Exception {
        try (TestDatabase db = TestDatabases.postgres();
             // Paced well below what the batcher drains, so that the channel never fills and
             // every write the monitor sees is a batcher's (a full channel makes callers write).
             ChildJvm node = ChildJvm.start("crash-nojournal", node(db, "lossy", "monitor=true", "rate=5000"))) {
            node.await("READY"::equals, STARTUP);
            node.awaitAcks(20_000, STARTUP);
            // Let a few flush intervals pass under load, so that there are writes to reason about.
            int writesBefore = node.writes().size();
            Awaitility.await().atMost(STARTUP).until(() -> node.writes().size() >= writesBefore + 4);
            node.kill();
            long acked = node.acked();
            List<long[]> writes = node.writes();

            restart(db, null);
            long stored = db.storedTotal("lossy", "requests", "DAY");
            System.out.printf("[measure] SIGKILL without journal (flush-interval 100ms): acknowledged=%d, stored=%d,"
                    + " lost=%d%n", acked, stored, acked - stored);
            assertThat(stored).as("never counted twice").isLessThanOrEqualTo(acked + THREADS);
            long[] last = writes.get(writes.size() - 1);
            assertThat(stored).as("every write the node reported committed is in the store")
                    .isGreaterThanOrEqualTo(last[2]);
            // The bound: take a moment the monitor saw (acknowledged a, then queued q in the
            // channel), followed by two more writes. Of those a records, the ones not in the
            // channel were committed, in the write in progress then (the first write after), or
            // held by the batcher (written whole by the second); only the q queued ones may
            // still have waited in the channel. So the store holds at least a - q of them.
            long[] moment = writes.get(writes.size() - 3);
            assertThat(stored).as("lost at most one flush interval, the write in progress and the channel: %s",
                            java.util.Arrays.toString(moment))
                    .isGreaterThanOrEqualTo(moment[0] - moment[1]);
        }
    }
}
