package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static dev.tollgate.core.EngineTestSupport.engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.MutableClock;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Admission from allotments on a real database: the units of a limit are taken at admission,
 * so requests in flight count and no number of engines sharing the store admits more than the
 * limit; settling and releasing adjust what was taken.
 */
class AllotmentTest extends OnEachDatabase {

    private long outstandingGrants(String subject) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COALESCE(SUM(granted), 0) FROM tollgate_grant"
                + " WHERE subject = :s").bind("s", subject).mapTo(Long.class).one());
    }

    @Test
    void requestsInFlightCountAtAdmission() throws Exception {
        Tollgate t = engine(db, config().limit("free", "requests", "5/minute").build());
        int requests = 50;
        ExecutorService pool = Executors.newFixedThreadPool(requests);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Reservation>> admissions = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                admissions.add(pool.submit(() -> {
                    start.await();
                    return t.reserve("slow", "requests", 1);
                }));
            }
            start.countDown();
            List<Reservation> admitted = new ArrayList<>();
            for (Future<Reservation> f : admissions) {
                Reservation r = f.get(60, TimeUnit.SECONDS);
                if (r.decision().allowed()) {
                    admitted.add(r);
                }
            }
            // None of them has been settled yet: they are all still "in flight".
            assertThat(admitted).hasSize(5);
            admitted.forEach(r -> r.settle(1));
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("slow", "requests", "MINUTE")).isEqualTo(5);
        } finally {
            pool.shutdownNow();
            t.close();
        }
    }

    @Test
    void severalEnginesOnOneStoreNeverAdmitMoreThanTheLimitAndUseAllOfIt() throws Exception {
        long limit = 300;
        TollgateConfig cfg = config().limit("free", "requests", limit + "/day").build();
        List<Tollgate> engines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            engines.add(engine(db, cfg));
        }
        AtomicInteger admitted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 12; w++) {
                Tollgate t = engines.get(w % engines.size());
                workers.add(pool.submit(() -> {
                    // Until the limit is used up (or something is stuck): then the assertion below tells.
                    while (admitted.get() < limit && System.nanoTime() - deadline < 0) {
                        Reservation r = t.reserve("hot", "requests", 1);
                        if (r.decision().allowed()) {
                            r.settle(1);
                            admitted.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get(90, TimeUnit.SECONDS);
            }
            // A few more tries on every engine: the limit is used up everywhere.
            for (Tollgate t : engines) {
                for (int i = 0; i < 20; i++) {
                    Reservation r = t.reserve("hot", "requests", 1);
                    if (r.decision().allowed()) {
                        r.settle(1);
                        admitted.incrementAndGet();
                    }
                }
            }
            for (Tollgate t : engines) {
                assertThat(t.flush()).isTrue();
            }
            assertThat(admitted.get()).isEqualTo(limit);
            assertThat(db.storedTotal("hot", "requests", "DAY")).isEqualTo(limit);
        } finally {
            pool.shutdownNow();
            engines.forEach(Tollgate::close);
        }
    }

    @Test
    void aReleasedAdmissionGivesItsUnitsBackAndAnUncountedOneCostsNothing() {
        Tollgate t = engine(db, config().limit("free", "requests", "3/day").build());
        try {
            Reservation a = t.reserve("erin", "requests", 1);
            Reservation b = t.reserve("erin", "requests", 1);
            Reservation c = t.reserve("erin", "requests", 1);
            assertThat(List.of(a, b, c)).allMatch(r -> r.decision().allowed());
            assertThat(t.reserve("erin", "requests", 1).decision().allowed()).isFalse();
            a.release();
            b.settle(0);
            assertThat(t.reserve("erin", "requests", 1).decision().allowed()).isTrue();
            assertThat(t.reserve("erin", "requests", 1).decision().allowed()).isTrue();
            assertThat(t.reserve("erin", "requests", 1).decision().allowed()).isFalse();
        } finally {
            t.close();
        }
    }

    @Test
    void aFinalCostAboveTheEstimateIsChargedAndTakesWhatIsLeft() {
        Tollgate t = engine(db, config().limit("free", "tokens", "10/day").build());
        try {
            Reservation r = t.reserve("frank", "tokens", 4);
            assertThat(r.decision().allowed()).isTrue();
            assertThat(r.taken()).isEqualTo(4);
            r.settle(7);
            assertThat(t.reserve("frank", "tokens", 4).decision().allowed()).as("only 3 are left").isFalse();
            Reservation last = t.reserve("frank", "tokens", 3);
            assertThat(last.decision().allowed()).isTrue();
            // The answer came after the response: it is charged even past the limit.
            last.settle(5);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("frank", "tokens", "DAY")).isEqualTo(12);
            assertThat(t.reserve("frank", "tokens", 1).decision().allowed()).isFalse();
        } finally {
            t.close();
        }
    }

    @Test
    void everyWindowOfAQuotaGivesTheUnitsOrNoneDoes() {
        Tollgate t = engine(db, config().build());
        try {
            t.assignPlan("gina", "pro");
            for (int i = 0; i < 10; i++) {
                t.reserve("gina", "requests", 1).settle(1);
            }
            Reservation denied = t.reserve("gina", "requests", 1);
            assertThat(denied.decision().allowed()).isFalse();
            assertThat(denied.decision().policy()).isEqualTo("requests-minute");
            assertThat(denied.taken()).isZero();
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("gina", "requests", "MINUTE")).isEqualTo(10);
            assertThat(db.storedTotal("gina", "requests", "DAY")).isEqualTo(10);
            // The day window gave back what the refused request took from it.
            assertThat(outstandingGrants("gina")).isLessThanOrEqualTo(1000 - 10);
        } finally {
            t.close();
        }
    }

    @Test
    void aQuotaWithoutALimitAsksTheStoreForNothing() {
        Tollgate t = engine(db, config().build());
        try {
            for (int i = 0; i < 100; i++) {
                Reservation r = t.reserve("hank", "unmetered", 3);
                assertThat(r.decision().reason()).isEqualTo(Decision.Reason.UNLIMITED);
                r.settle(3);
            }
            assertThat(t.stats().grantCalls()).isZero();
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("hank", "unmetered", "TOTAL")).isEqualTo(300);
        } finally {
            t.close();
        }
    }

    @Test
    void aNewWindowStartsWithTheWholeLimit() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-26T23:59:58Z"));
        Tollgate t = Tollgate.builder(config().limit("free", "requests", "3/day").build())
                .dataSource(db.dataSource()).clock(clock).build();
        try {
            for (int i = 0; i < 3; i++) {
                assertThat(t.reserve("ivy", "requests", 1).decision().allowed()).isTrue();
            }
            Decision denied = t.reserve("ivy", "requests", 1).decision();
            assertThat(denied.allowed()).isFalse();
            assertThat(denied.resetAt()).isEqualTo(Instant.parse("2026-11-27T00:00:00Z"));
            clock.advance(Duration.ofSeconds(3));
            for (int i = 0; i < 3; i++) {
                Reservation r = t.reserve("ivy", "requests", 1);
                assertThat(r.decision().allowed()).isTrue();
                assertThat(r.decision().windowStart()).isEqualTo(Instant.parse("2026-11-27T00:00:00Z"));
                r.settle(1);
            }
            assertThat(t.reserve("ivy", "requests", 1).decision().allowed()).isFalse();
        } finally {
            t.close();
        }
    }

    @Test
    void closeGivesBackWhatTheEngineHeld() {
        Tollgate a = engine(db, config().limit("free", "requests", "1000/day").build());
        a.reserve("jack", "requests", 1).settle(1);
        assertThat(outstandingGrants("jack")).as("a holds units").isPositive();
        a.close();
        assertThat(outstandingGrants("jack")).isZero();
        assertThat(db.storedTotal("jack", "requests", "DAY")).isEqualTo(1);
        // Another engine can have all the rest at once.
        Tollgate b = engine(db, config().limit("free", "requests", "1000/day").build());
        try {
            assertThat(b.reserve("jack", "requests", 999).decision().allowed()).isTrue();
            assertThat(b.reserve("jack", "requests", 1).decision().allowed()).isFalse();
        } finally {
            b.close();
        }
    }

    @Test
    void whileTheStoreIsCutAnEngineAdmitsWhatItHoldsAndThenTheFailModeDecides() {
        FlakyDataSource flaky = new FlakyDataSource(db.dataSource());
        Tollgate t = Tollgate.builder(config().limit("free", "requests", "1000/day")
                .failMode(FailMode.CLOSED).build()).dataSource(flaky).build();
        try {
            t.reserve("kate", "requests", 1).settle(1);
            // Renewals that were under way land before the cut: what is held is then fixed.
            await().atMost(Duration.ofSeconds(10)).until(() -> t.isCached("kate", "requests", 1));
            long held = outstandingGrants("kate");
            flaky.down(true);
            int admitted = 0;
            Decision last = null;
            for (int i = 0; i < 2_000; i++) {
                Reservation r = t.reserve("kate", "requests", 1);
                last = r.decision();
                if (!last.allowed()) {
                    break;
                }
                r.settle(1);
                admitted++;
            }
            assertThat(admitted).as("admitted from what it held").isPositive().isLessThanOrEqualTo((int) held);
            assertThat(last.allowed()).isFalse();
            assertThat(last.reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            flaky.down(false);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("kate", "requests", "DAY")).isEqualTo(admitted + 1);
        } finally {
            flaky.down(false);
            t.close();
        }
    }

    @Test
    void aGrantWhoseAnswerWasLostIsNotGrantedTwice() {
        FlakyDataSource flaky = new FlakyDataSource(db.dataSource());
        Tollgate t = Tollgate.builder(config().limit("free", "requests", "1000/day").build())
                .dataSource(flaky).build();
        try {
            // The policy is read first, so that the next commit is the grant's.
            assertThat(t.planOf("liam")).isEqualTo("free");
            flaky.loseCommitAnswers(1);
            Reservation lost = t.reserve("liam", "requests", 1);
            assertThat(lost.decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            lost.release();
            long committed = outstandingGrants("liam");
            assertThat(committed).as("the store granted (a hundredth of the limit); the answer was lost")
                    .isEqualTo(10);
            assertThat(t.stats().unitsGranted()).as("the node never heard of it").isZero();
            // The next admission repeats the same grant request: answered, not granted again.
            Reservation r = t.reserve("liam", "requests", 1);
            assertThat(r.decision().allowed()).isTrue();
            r.settle(1);
            assertThat(t.flush()).isTrue();
            assertThat(t.stats().unitsGranted()).isEqualTo(committed);
            assertThat(outstandingGrants("liam")).as("the one grant, less the unit used").isEqualTo(committed - 1);
        } finally {
            t.close();
        }
    }
}
