package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Stats;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.internal.journal.Cover;
import dev.tollgate.core.internal.journal.FileJournal;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.internal.journal.JournalException;
import dev.tollgate.core.internal.journal.Recovery;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's journal paths that a crash test cannot reach: a journal that fails to write
 * (usage still recorded, the failure counted in {@code journalErrors}), replay in transactions
 * of 500 (subject, quota, minute) buckets, and the warning for a journal older than the
 * store's batch retention. On H2, with the real file journal.
 */
class JournalPathsTest {
    static final Instant T0 = Instant.parse("2026-11-26T00:00:00Z");
    static final TollgateConfig CONFIG = TollgateConfig.custom()
            .limit("free", "requests", "1000000000/day")
            .flushInterval(Duration.ofMillis(20))
            .batchRetention(Duration.ofDays(1))
            .metricsEnabled(false).build();

    @TempDir
    Path dir;
    TestDatabase db;
    Engine engine;

    @BeforeEach
    void open() {
        db = TestDatabases.h2();
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
        if (db != null) {
            db.close();
        }
    }

    private Engine start(Journal journal, MutableClock clock) {
        JdbiUsageStore store = JdbiUsageStore.create(db.dataSource(), Dialect.H2, SchemaMode.CREATE,
                Duration.ofSeconds(10), null);
        engine = new Engine(CONFIG, store, journal, clock, Ticker.systemTicker(), null, null);
        engine.start();
        return engine;
    }

    private FileJournal journal(MutableClock clock) {
        return FileJournal.open(dir, Duration.ofMillis(10), Ticker.systemTicker(), clock);
    }

    private List<String> appliedBatchIds() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT batch_id FROM tollgate_applied_batch ORDER BY batch_id")
                .mapTo(String.class).list());
    }

    /** A journal that an earlier run left with {@code buckets} records, each in its own minute. */
    private void leaveJournal(int buckets) {
        MutableClock clock = new MutableClock(T0);
        FileJournal j = journal(clock);
        for (int i = 0; i < buckets; i++) {
            j.append("alice", "requests", 1, T0.toEpochMilli() + i * 60_000L);
        }
        j.close(); // as a crash leaves it: the records are in the file, nothing is in the store
    }

    /** A real journal whose appends or intents can be made to fail, as on a full disk. */
    private static final class FailingJournal implements Journal {
        final Journal delegate;
        volatile boolean failAppends;
        volatile boolean failIntents;

        FailingJournal(Journal delegate) {
            this.delegate = delegate;
        }

        private static JournalException diskFull() {
            return new JournalException("No space left on device", new IOException("No space left on device"));
        }

        @Override
        public long append(String subject, String quota, long amount, long at) {
            if (failAppends) {
                throw diskFull();
            }
            return delegate.append(subject, quota, amount, at);
        }

        @Override
        public void intent(String batchId, Collection<Cover> covers) {
            if (failIntents) {
                throw diskFull();
            }
            delegate.intent(batchId, covers);
        }

        @Override
        public void committed(long segment, long records) {
            delegate.committed(segment, records);
        }

        @Override
        public Recovery recovery() {
            return delegate.recovery();
        }

        @Override
        public Path directory() {
            return delegate.directory();
        }

        @Override
        public boolean full() {
            return delegate.full();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    @Test
    void aJournalThatCannotBeWrittenIsCountedAndTheUsageIsStillRecorded() {
        MutableClock clock = new MutableClock(T0);
        FailingJournal j = new FailingJournal(journal(clock));
        Engine e = start(j, clock);
        j.failAppends = true;
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 3; i++) {
                e.recorder().consume("bob", "requests", 2);
            }
            assertThat(e.flush()).isTrue();
            assertThat(log.text()).containsOnlyOnce("Cannot journal usage (it is still recorded, but not crash-safe)");
        }
        Stats s = e.reports().stats();
        assertThat(s.journalErrors()).isEqualTo(3);
        assertThat(s.processed()).isEqualTo(3);
        assertThat(db.storedTotal("bob", "requests", "DAY")).isEqualTo(6);
    }

    @Test
    void aBatchWhoseIntentCannotBeJournaledIsCountedAndStillWritten() {
        MutableClock clock = new MutableClock(T0);
        FailingJournal j = new FailingJournal(journal(clock));
        Engine e = start(j, clock);
        j.failIntents = true;
        e.recorder().consume("carol", "requests", 5);
        assertThat(e.flush()).isTrue();
        assertThat(e.reports().stats().journalErrors()).as("one batch, one failed intent").isEqualTo(1);
        assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(5);
    }

    @Test
    void fiveHundredBucketsAreReplayedInOneTransaction() {
        leaveJournal(500);
        FileJournal j = journal(new MutableClock(T0));
        String first = j.recovery().pending(Set.of()).get(0).batchId(0);
        start(j, new MutableClock(T0.plus(Duration.ofHours(9))));
        assertThat(engine.flush()).isTrue();
        assertThat(appliedBatchIds()).containsExactly(first);
        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(500);
    }

    @Test
    void fiveHundredAndOneBucketsTakeTwoTransactionsWithIdsThatAreTheSameAtEveryStart() {
        leaveJournal(501);
        FileJournal j = journal(new MutableClock(T0));
        Recovery.Pending p = j.recovery().pending(Set.of()).get(0);
        assertThat(p.units()).hasSize(501);
        start(j, new MutableClock(T0.plus(Duration.ofHours(9))));
        assertThat(engine.flush()).isTrue();
        assertThat(appliedBatchIds()).containsExactlyInAnyOrder(p.batchId(0), p.batchId(1));
        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(501);
    }

    @Test
    void replayedUsageIsCountedSeenByChecksAndAnUnlimitedQuotaGoesToItsTotalRow() {
        MutableClock clock = new MutableClock(T0);
        FileJournal j = journal(clock);
        j.append("dora", "requests", 4, T0.toEpochMilli());
        j.append("dora", "uploads", 9, T0.toEpochMilli());
        j.close();
        Engine e = start(journal(clock), new MutableClock(T0.plus(Duration.ofHours(1))));
        assertThat(e.flush()).isTrue();
        Stats s = e.reports().stats();
        assertThat(s.unitsWritten()).isEqualTo(13);
        assertThat(s.upserts()).as("requests DAY and uploads TOTAL").isEqualTo(2);
        assertThat(s.batches()).isEqualTo(1);
        assertThat(db.storedTotal("dora", "requests", "DAY")).isEqualTo(4);
        assertThat(db.storedTotal("dora", "uploads", "TOTAL")).isEqualTo(9);
        assertThat(e.admissions().check("dora", "requests", 1).used()).isEqualTo(4);
    }

    @Test
    void aJournalExactlyAsOldAsTheBatchRetentionIsNotWarnedAboutAndOneMillisecondOlderIs() {
        leaveJournal(1);
        try (LogCapture log = LogCapture.start()) {
            start(journal(new MutableClock(T0)), new MutableClock(T0.plus(Duration.ofDays(1))));
            assertThat(engine.flush()).isTrue();
            assertThat(log.text()).doesNotContain("batch-retention");
        }
        engine.close();
        engine = null;
        db.close();
        db = TestDatabases.h2();
        leaveJournal(1);
        try (LogCapture log = LogCapture.start()) {
            start(journal(new MutableClock(T0)), new MutableClock(T0.plus(Duration.ofDays(1)).plusMillis(1)));
            assertThat(engine.flush()).isTrue();
            assertThat(log.text()).contains("older than tollgate.store.batch-retention");
        }
    }

    @Test
    void aJournalOlderThanTheBatchRetentionIsReplayedWithAWarning() {
        leaveJournal(3);
        try (LogCapture log = LogCapture.start()) {
            start(journal(new MutableClock(T0)), new MutableClock(T0.plus(Duration.ofDays(2))));
            assertThat(engine.flush()).isTrue();
            assertThat(log.text()).contains("older than tollgate.store.batch-retention");
        }
        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(3);
    }

    @Test
    void aJournalWithinTheBatchRetentionIsReplayedWithoutAWarning() {
        leaveJournal(3);
        try (LogCapture log = LogCapture.start()) {
            start(journal(new MutableClock(T0)), new MutableClock(T0.plus(Duration.ofHours(23))));
            assertThat(engine.flush()).isTrue();
            assertThat(log.text()).doesNotContain("batch-retention");
        }
        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(3);
    }
}
