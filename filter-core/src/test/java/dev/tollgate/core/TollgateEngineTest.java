package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static dev.tollgate.core.EngineTestSupport.engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.testing.ForwardingStore;
import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.OnEachDatabase;
import dev.tollgate.core.testing.ProducerLoad;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The engine end to end on a real database: totals are exact, checks see usage. */
class TollgateEngineTest extends OnEachDatabase {

    @Test
    void eightProducersTimesOneHundredThousandConsumesAreStoredExactly() throws Exception {
        int threads = 8;
        int perThread = 100_000;
        int coldSubjects = 500;
        Tollgate t = engine(db, config().channelCapacity(1 << 16).build());
        try {
            ProducerLoad.run(t, threads, perThread, coldSubjects);
            assertThat(t.flush()).isTrue();

            long total = (long) threads * perThread;
            assertThat(db.storedTotal("hot", "requests", "DAY")).isEqualTo(total / 2);
            assertThat(db.storedTotal("requests", "DAY")).isEqualTo(total);
            Stats s = t.stats();
            assertThat(s.total()).isEqualTo(total);
            assertThat(s.processed()).isEqualTo(total);
            assertThat(s.unitsWritten()).isEqualTo(total);
            assertThat(s.dropped()).isZero();
            assertThat(s.pendingDeferred()).isZero();
            // Aggregation: far fewer rows written than records.
            assertThat(s.upserts()).isLessThan(total / 10);
            // This node's view equals the store once flushed.
            assertThat(t.check("hot", "requests", 0).used()).isEqualTo(total / 2);
        } finally {
            t.close();
        }
    }

    @Test
    void checkSeesOwnConsumptionAtOnceAndDeniesAtTheLimit() {
        Tollgate t = engine(db, config().limit("free", "requests", "3/day").build());
        try {
            Decision first = t.check("alice", "requests", 1);
            assertThat(first.allowed()).isTrue();
            assertThat(first.limit()).isEqualTo(3);
            assertThat(first.remaining()).isEqualTo(2);
            assertThat(first.policy()).isEqualTo("requests-day");
            for (int i = 0; i < 3; i++) {
                t.consume("alice", "requests", 1);
            }
            Decision denied = t.check("alice", "requests", 1);
            assertThat(denied.allowed()).isFalse();
            assertThat(denied.reason()).isEqualTo(Decision.Reason.LIMIT_EXCEEDED);
            assertThat(denied.used()).isEqualTo(3);
            assertThat(denied.remaining()).isZero();
            assertThat(t.stats().denied()).isEqualTo(1);
            // Other subjects are unaffected.
            assertThat(t.check("bob", "requests", 1).allowed()).isTrue();
        } finally {
            t.close();
        }
    }

    @Test
    void twoNodesTogetherAdmitTheLimitExactly() {
        TollgateConfig cfg = config().limit("free", "requests", "5/day").build();
        Tollgate a = engine(db, cfg);
        Tollgate b = engine(db, cfg);
        try {
            int admitted = 0;
            for (int i = 0; i < 20; i++) {
                Reservation r = (i % 2 == 0 ? a : b).reserve("carol", "requests", 1);
                if (r.decision().allowed()) {
                    r.settle(1);
                    admitted++;
                }
            }
            assertThat(admitted).isEqualTo(5);
            assertThat(a.flush()).isTrue();
            assertThat(b.flush()).isTrue();
            assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(5);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void theRemainingShownIsWhatTheStoreHasLeftPlusWhatThisNodeHolds() {
        TollgateConfig cfg = config().limit("free", "requests", "100/day").build();
        Tollgate a = engine(db, cfg);
        Tollgate b = engine(db, cfg);
        try {
            // b's first decision asks the store: nothing used, and it holds its grant.
            assertThat(b.check("dave", "requests", 1).remaining()).isEqualTo(99);
            for (int i = 0; i < 30; i++) {
                a.reserve("dave", "requests", 1).settle(1);
            }
            assertThat(a.flush()).isTrue();
            Reservation r = b.reserve("dave", "requests", 2);
            r.settle(2);
            assertThat(b.flush()).isTrue();
            // a's own writes told it the stored 30 (b's 2 reach it with its next grant).
            assertThat(a.check("dave", "requests", 1).remaining()).isBetween(1L, 100L - 30 - 1);
            assertThat(db.storedTotal("dave", "requests", "DAY")).isEqualTo(32);
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void grantsOfManyCountersGoToTheStoreTogether() {
        TollgateConfig cfg = config().limit("free", "requests", "100/day").build();
        java.util.concurrent.ConcurrentLinkedQueue<Runnable> background = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Tollgate t = Tollgate.builder(cfg).dataSource(db.dataSource()).executor(background::add).build();
        int subjects = 500;
        try {
            for (int i = 0; i < subjects; i++) {
                assertThat(t.reserve("s" + i, "requests", 1).decision().allowed()).isTrue();
            }
            // Each first grant is one unit (a hundredth of the limit), taken at once: each counter
            // queues a renewal, which rides along with the next first grant sent through its lane
            // (grants go out through two lanes, by key): at the end one renewal per lane waits.
            assertThat(t.stats().grantCalls()).isEqualTo(subjects);
            assertThat(t.stats().grantRequests()).isBetween(2L * subjects - 2, 2L * subjects - 1);
            runAll(background);
            assertThat(t.stats().grantRequests()).isEqualTo(2L * subjects);

            // Every counter now holds two units; taking both puts all of them below the low-water
            // mark at once, and their renewals go to the store up to 200 counters per call.
            long calls = t.stats().grantCalls();
            for (int i = 0; i < subjects; i++) {
                t.reserve("s" + i, "requests", 1).settle(1);
                t.reserve("s" + i, "requests", 1).settle(1);
            }
            assertThat(t.stats().grantCalls()).as("no request waited").isEqualTo(calls);
            runAll(background);
            // 500 counters, at most 200 per call, in two lanes: 3 calls, or 4 when neither lane
            // holds a multiple of 200.
            assertThat(t.stats().grantCalls() - calls).isBetween(3L, 4L);
            assertThat(t.stats().grantWaits()).isEqualTo(subjects);
            for (int i = 0; i < subjects; i++) {
                assertThat(t.isCached("s" + i, "requests", 1)).as("s" + i).isTrue();
            }
        } finally {
            t.close();
        }
    }

    @Test
    void firstContactsOfManySubjectsShareTheirPolicyReads() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        List<Integer> calls = new CopyOnWriteArrayList<>();
        UsageStore held = new ForwardingStore(store()) {
            @Override
            public List<SubjectRecord> subjects(List<String> subjects) {
                calls.add(subjects.size());
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.subjects(subjects);
            }
        };
        Tollgate t = Tollgate.builder(config().limit("free", "requests", "100/day").build()).store(held).build();
        try {
            // 40 threads: 32 first contacts of 32 subjects and 8 more of one of them, while the
            // store holds its answers.
            List<Thread> threads = new ArrayList<>();
            List<Boolean> allowed = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 40; i++) {
                String subject = "s" + (i % 32);
                threads.add(new Thread(() -> allowed.add(t.reserve(subject, "requests", 1).decision().allowed())));
            }
            threads.forEach(Thread::start);
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> threads.stream()
                    .allMatch(th -> th.getState() == Thread.State.WAITING || th.getState() == Thread.State.TIMED_WAITING));
            gate.countDown();
            for (Thread th : threads) {
                th.join(20_000);
            }
            assertThat(allowed).hasSize(40).containsOnly(true);
            assertThat(calls.stream().mapToInt(Integer::intValue).sum()).as("one read per subject").isEqualTo(32);
            // Two calls went out when the first threads came; every other subject waited for
            // the next call.
            assertThat(calls).hasSizeLessThanOrEqualTo(4);
            assertThat(t.stats().policyReads()).isEqualTo(32);
        } finally {
            gate.countDown();
            t.close();
        }
    }

    private static void runAll(java.util.Queue<Runnable> tasks) {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            r.run();
        }
    }

    @Test
    void severalLimitsOnOneQuotaAreAllCountedAndTheStricterDecides() {
        // Mid-minute on an injected clock: the ten consumes and the check share one minute window.
        MutableClock clock =
                new MutableClock(java.time.Instant.parse("2026-11-26T10:15:30Z"));
        Tollgate t = Tollgate.builder(config().build()).dataSource(db.dataSource()).clock(clock).build();
        try {
            t.assignPlan("dave", "pro");
            for (int i = 0; i < 10; i++) {
                t.consume("dave", "requests", 1);
            }
            Decision d = t.check("dave", "requests", 1);
            assertThat(d.allowed()).isFalse();
            assertThat(d.policy()).isEqualTo("requests-minute");
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("dave", "requests", "MINUTE")).isEqualTo(10);
            assertThat(db.storedTotal("dave", "requests", "DAY")).isEqualTo(10);
            // Each record is counted once in the stats, whatever its number of windows.
            assertThat(t.stats().processed()).isEqualTo(10);
        } finally {
            t.close();
        }
    }

    @Test
    void aBatchNeverSplitsTheCountersOfOneRecordEvenAtBatchSizeOne() {
        MutableClock clock = new MutableClock(java.time.Instant.parse("2026-11-26T10:15:30Z"));
        Tollgate t = Tollgate.builder(config().batchSize(1).workers(1).build()).dataSource(db.dataSource())
                .clock(clock).build();
        try {
            t.assignPlan("kim", "pro");
            t.assignPlan("lee", "pro");
            t.consume("kim", "requests", 1);
            t.consume("lee", "requests", 2);
            assertThat(t.flush()).isTrue();
            Stats s = t.stats();
            // Each record has two counters (minute and day): one batch per record, both in it.
            assertThat(s.upserts()).isEqualTo(4);
            assertThat(s.batches()).isEqualTo(2);
            long applied = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_applied_batch")
                    .mapTo(Long.class).one());
            assertThat(applied).isEqualTo(2);
            assertThat(db.storedTotal("lee", "requests", "MINUTE")).isEqualTo(2);
            assertThat(db.storedTotal("lee", "requests", "DAY")).isEqualTo(2);
        } finally {
            t.close();
        }
    }

    @Test
    void overridesAndPlansApplyAtOnce() {
        Tollgate t = engine(db, config().build());
        try {
            assertThat(t.check("erin", "requests", 1).limit()).isEqualTo(1_000_000_000L);
            t.setLimit("erin", "requests", Limit.parse("2/hour"));
            Decision d = t.check("erin", "requests", 1);
            assertThat(d.limit()).isEqualTo(2);
            assertThat(d.period()).isEqualTo(Period.HOUR);
            assertThat(t.removeLimits("erin", "requests")).isEqualTo(1);
            assertThat(t.check("erin", "requests", 1).limit()).isEqualTo(1_000_000_000L);
            assertThatThrownBy(() -> t.assignPlan("erin", "gold"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gold");
        } finally {
            t.close();
        }
    }

    @Test
    void usageOfAQuotaWithoutALimitIsRecordedForTheLifetime() {
        Tollgate t = engine(db, config().build());
        try {
            assertThat(t.check("frank", "uploads", 5).reason()).isEqualTo(Decision.Reason.UNLIMITED);
            t.consume("frank", "uploads", 5);
            t.consume("never-checked", "uploads", 7);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("frank", "uploads", "TOTAL")).isEqualTo(5);
            assertThat(db.storedTotal("never-checked", "uploads", "TOTAL")).isEqualTo(7);
        } finally {
            t.close();
        }
    }

    @Test
    void consumeSyncWritesBeforeReturning() {
        Tollgate t = engine(db, config().build());
        try {
            assertThat(t.consumeSync("gina", "requests", 4)).isTrue();
            assertThat(db.storedTotal("gina", "requests", "DAY")).isEqualTo(4);
        } finally {
            t.close();
        }
    }

    @Test
    void consumeBatchRecordsEveryElement() {
        Tollgate t = engine(db, config().build());
        try {
            t.consumeBatch(List.of(new Consumption("h1", "requests", 2), new Consumption("h2", "requests", 3),
                    new Consumption("h1", "tokens", 100)));
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("h1", "requests", "DAY")).isEqualTo(2);
            assertThat(db.storedTotal("h2", "requests", "DAY")).isEqualTo(3);
            assertThat(db.storedTotal("h1", "tokens", "MONTH")).isEqualTo(100);
            assertThatThrownBy(() -> t.consumeBatch(List.of(new Consumption("ok", "requests", 1),
                    new Consumption("ok", "Bad Quota", 1)))).isInstanceOf(IllegalArgumentException.class);
            // A negative amount after a valid element: refused before anything is counted.
            assertThatThrownBy(() -> t.consumeBatch(List.of(new Consumption("ok", "requests", 1),
                    new Consumption("ok", "requests", -1)))).hasMessageContaining("amount must be >= 0");
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("ok", "requests", "DAY")).isZero();
            Stats s = t.stats();
            assertThat(s.total()).isEqualTo(3);
            assertThat(s.total()).isEqualTo(s.processed() + s.dropped());
        } finally {
            t.close();
        }
    }

    @Test
    void closeDrainsEverythingQueued() {
        Tollgate t = engine(db, config().flushInterval(java.time.Duration.ofHours(1)).build());
        t.check("ivan", "requests", 1);
        for (int i = 0; i < 20_000; i++) {
            t.consume("ivan", "requests", 1);
            t.consume("jane-" + (i % 100), "requests", 1);
        }
        t.close();
        assertThat(db.storedTotal("ivan", "requests", "DAY")).isEqualTo(20_000);
        assertThat(db.storedTotal("requests", "DAY")).isEqualTo(40_000);
        assertThat(t.stats().dropped()).isZero();
        assertThat(t.health().status()).isEqualTo(Health.Status.DOWN);
        assertThatThrownBy(() -> t.consume("ivan", "requests", 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badArgumentsAreRefusedWithClearErrors() {
        Tollgate t = engine(db, config().build());
        try {
            assertThatThrownBy(() -> t.consume("a", "requests", -1)).hasMessageContaining("amount must be >= 0");
            assertThatThrownBy(() -> t.check("a", "Requests!", 1)).hasMessageContaining("quota name");
            assertThatThrownBy(() -> t.check("", "requests", 1)).hasMessageContaining("subject");
            assertThatThrownBy(() -> t.consume("x".repeat(201), "requests", 1)).hasMessageContaining("subject");
            assertThatThrownBy(() -> t.check("a\nb", "requests", 1)).hasMessageContaining("control");
            assertThat(t.stats().total()).isZero();
        } finally {
            t.close();
        }
    }
}
