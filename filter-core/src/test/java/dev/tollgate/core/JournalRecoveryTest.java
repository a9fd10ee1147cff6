package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.OnEachDatabase;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal through the engine: what one engine could not write is written exactly once by
 * the next engine on the same journal, however much of it had been committed already. The
 * crash of a real JVM is in {@link dev.tollgate.core.durability.CrashRecoveryTest}.
 */
class JournalRecoveryTest extends OnEachDatabase {

    @TempDir
    Path journal;

    FlakyDataSource flaky;

    @BeforeEach
    void open() {
        flaky = new FlakyDataSource(db.dataSource());
    }

    private Tollgate engine() {
        return Tollgate.builder(config().journalPath(journal).shutdownTimeout(Duration.ofMillis(300)).build())
                .dataSource(flaky).build();
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(journal)) {
            return s.filter(p -> p.getFileName().toString().startsWith("segment-")).toList();
        }
    }

    @Test
    void usageACloseCouldNotWriteIsWrittenByTheNextStartNotDropped() throws IOException {
        Tollgate first = engine();
        first.check("known", "requests", 1);
        first.assignPlan("pro-user", "pro");
        flaky.down(true);
        for (int i = 0; i < 1_000; i++) {
            first.consume("known", "requests", 1);
            first.consume("never-checked-" + (i % 7), "tokens", 3);
        }
        first.consume("pro-user", "requests", 4);
        first.close();
        assertThat(first.stats().dropped()).isZero();
        assertThat(db.storedTotal("requests", "DAY")).isZero();
        assertThat(segments()).isNotEmpty();

        flaky.down(false);
        try (Tollgate second = engine()) {
            assertThat(db.storedTotal("known", "requests", "DAY")).isEqualTo(1_000);
            assertThat(db.storedTotal("tokens", "MONTH")).isEqualTo(3_000);
            // Both windows of a plan with two limits.
            assertThat(db.storedTotal("pro-user", "requests", "DAY")).isEqualTo(4);
            assertThat(db.storedTotal("pro-user", "requests", "MINUTE")).isEqualTo(4);
            // What the engine reports as used (the dead first engine's unused grant still counts
            // against the limit until it expires, so check()'s figures are not the usage).
            assertThat(second.usage("known")).filteredOn(u -> u.quota().equals("requests"))
                    .extracting(QuotaUsage::used).containsExactly(1_000L);
            assertThat(second.health().status()).isEqualTo(Health.Status.UP);
        }
        assertThat(segments()).isEmpty();
    }

    @Test
    void withAnFsyncPerConsumeUsageIsWrittenOnceAndTheJournalEmptiedAtClose() throws IOException {
        try (Tollgate t = Tollgate.builder(config().journalPath(journal).journalFsyncInterval(Duration.ZERO).build())
                .dataSource(flaky).build()) {
            t.check("fsync", "requests", 1);
            for (int i = 0; i < 200; i++) {
                t.consume("fsync", "requests", 1);
            }
            assertThat(t.flush()).isTrue();
        }
        assertThat(db.storedTotal("fsync", "requests", "DAY")).isEqualTo(200);
        assertThat(segments()).isEmpty();
    }

    @Test
    void replayAddsOnlyWhatNoCommittedBatchHolds() {
        Tollgate first = engine();
        first.check("alice", "requests", 1);
        for (int i = 0; i < 500; i++) {
            first.consume("alice", "requests", 1);
        }
        assertThat(first.flush()).isTrue();
        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(500);
        // The committed records are still in the active segment: replay must leave them out.
        flaky.down(true);
        for (int i = 0; i < 300; i++) {
            first.consume("alice", "requests", 1);
        }
        first.close();

        flaky.down(false);
        try (Tollgate second = engine()) {
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(800);
        }
    }

    @Test
    void aBatchCommittedWhoseAnswerWasLostIsNotReplayed() {
        UsageStore real = JdbiUsageStore.create(db.dataSource(), dialect(), TollgateConfig.SchemaMode.CREATE,
                Duration.ofSeconds(10), null);
        // Commits the first batch and reports its outcome as unknown; then the store is gone.
        AtomicInteger applies = new AtomicInteger();
        UsageStore losing = (UsageStore) Proxy.newProxyInstance(UsageStore.class.getClassLoader(),
                new Class<?>[] {UsageStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("apply")) {
                        if (applies.getAndIncrement() == 0) {
                            method.invoke(real, args);
                            throw new InDoubtException("commit answer lost", null);
                        }
                        throw new StoreException("store gone", null);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        // A long flush interval: the 100 records go out together in the batch flush() asks for.
        Tollgate first = Tollgate.builder(config().journalPath(journal).retryMaxAttempts(1)
                .flushInterval(Duration.ofHours(1)).shutdownTimeout(Duration.ofMillis(300)).build())
                .store(losing).build();
        first.check("carol", "requests", 1);
        for (int i = 0; i < 100; i++) {
            first.consume("carol", "requests", 1);
        }
        assertThat(first.flush()).isFalse();
        assertThat(first.stats().pendingDeferred()).isEqualTo(100);
        assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(100);
        first.close();
        assertThat(first.stats().dropped()).isZero();

        try (Tollgate second = engine()) {
            assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(100);
        }
    }

    private Dialect dialect() {
        return backend == Backend.H2 ? Dialect.H2 : Dialect.POSTGRESQL;
    }

    @Test
    void aReplayInterruptedAfterItsWriteIsNotAppliedTwice() throws IOException {
        Tollgate first = engine();
        first.check("dave", "requests", 1);
        flaky.down(true);
        for (int i = 0; i < 250; i++) {
            first.consume("dave", "requests", 2);
        }
        first.close();
        Path copy = Files.createTempDirectory("journal-copy");
        try {
            copyTree(journal, copy);
            flaky.down(false);
            engine().close();
            assertThat(db.storedTotal("dave", "requests", "DAY")).isEqualTo(500);

            // As if the replaying engine had died after its commit, before deleting the segment.
            copyTree(copy, journal);
            engine().close();
            assertThat(db.storedTotal("dave", "requests", "DAY")).isEqualTo(500);
        } finally {
            deleteTree(copy);
        }
    }

    @Test
    void whileTheStoreIsDownAtStartTheReplayWaitsAndNothingIsLost() {
        Tollgate first = engine();
        first.check("erin", "requests", 1);
        flaky.down(true);
        for (int i = 0; i < 40; i++) {
            first.consume("erin", "requests", 1);
        }
        first.close();

        // Tables exist: the engine starts without the store (the store built on the flaky source, schema left alone).
        Tollgate second = Tollgate.builder(config().journalPath(journal).schema(TollgateConfig.SchemaMode.NONE)
                        .breakerWaitInOpen(Duration.ofMillis(100)).build())
                .store(JdbiUsageStore.create(flaky, dialect(), TollgateConfig.SchemaMode.NONE, Duration.ofSeconds(10), null))
                .build();
        try {
            assertThat(second.health().status()).isEqualTo(Health.Status.DEGRADED);
            assertThat(second.flush()).isFalse();
            flaky.down(false);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(second::flush);
            assertThat(db.storedTotal("erin", "requests", "DAY")).isEqualTo(40);
        } finally {
            second.close();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.list(to)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().startsWith("segment-")) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                if (p.getFileName().toString().startsWith("segment-")) {
                    Files.copy(p, to.resolve(p.getFileName()));
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
