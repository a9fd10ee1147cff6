package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.edge.Admission;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.core.edge.SubjectResult;
import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Strict mode: near the limit a check becomes a conditional atomic update in the store, so no
 * number of engines can push stored usage past the limit. Engines here are separate
 * {@link Tollgate} instances, each with its own cache, sharing one database; the same with
 * separate JVMs runs in {@code scripts/scenarios.sh}.
 */
class StrictModeTest extends OnEachDatabase {

    private TollgateConfig.Builder strict(String threshold) {
        return config().limit("free", "requests", "200/day").strictThreshold(threshold)
                .cacheRefreshAfter(Duration.ofSeconds(1));
    }

    /** Four engines × three threads hammer one key; a reader watches the stored value meanwhile. */
    private void hammer(TollgateConfig config, String subject, int attemptsPerThread) throws Exception {
        List<Tollgate> engines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            engines.add(EngineTestSupport.engine(db, config));
        }
        AtomicLong admitted = new AtomicLong();
        AtomicLong denied = new AtomicLong();
        AtomicLong maxSeen = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (running.get()) {
                maxSeen.accumulateAndGet(db.storedTotal(subject, "requests", "DAY"), Math::max);
            }
        });
        watcher.start();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (Tollgate t : engines) {
            for (int k = 0; k < 3; k++) {
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < attemptsPerThread; i++) {
                        Reservation r = t.reserve(subject, "requests", 1);
                        if (r.decision().allowed()) {
                            r.settle(1);
                            admitted.incrementAndGet();
                        } else {
                            denied.incrementAndGet();
                        }
                    }
                });
                th.start();
                threads.add(th);
            }
        }
        start.countDown();
        for (Thread th : threads) {
            th.join();
        }
        for (Tollgate t : engines) {
            t.close();
        }
        running.set(false);
        watcher.join();
        long stored = db.storedTotal(subject, "requests", "DAY");
        assertThat(maxSeen.get()).isLessThanOrEqualTo(200);
        assertThat(stored).isLessThanOrEqualTo(200).isEqualTo(admitted.get() + preloaded);
        assertThat(denied.get()).isPositive();
        assertThat(admitted.get()).isPositive();
    }

    long preloaded;

    @Test
    void withEveryCheckStrictFourEnginesNeverPassTheLimit() throws Exception {
        hammer(strict("100%").build(), "hot", 40);
    }

    @Test
    void enginesThatAllStartInsideTheThresholdNeverPassTheLimit() throws Exception {
        // Usage written before the engines start puts every engine in the strict zone at its first read.
        try (Tollgate seed = EngineTestSupport.engine(db, config().build())) {
            seed.consumeSync("near", "requests", 150);
        }
        preloaded = 150;
        hammer(strict("60").build(), "near", 30);
    }

    @Test
    void aReservationHoldsTheEstimateAndSettleChargesTheDifference() {
        try (Tollgate t = EngineTestSupport.engine(db, strict("100%").limit("free", "tokens", "100/day").build())) {
            Reservation r = t.reserve("alice", "tokens", 30);
            assertThat(r.strict()).isTrue();
            assertThat(r.reserved()).isEqualTo(30);
            assertThat(r.decision().allowed()).isTrue();
            assertThat(r.decision().remaining()).isEqualTo(70);
            // Written before reserve returned.
            assertThat(db.storedTotal("alice", "tokens", "DAY")).isEqualTo(30);
            r.settle(12);
            r.settle(99); // only the first settle counts
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("alice", "tokens", "DAY")).isEqualTo(12);

            Reservation more = t.reserve("alice", "tokens", 50);
            more.settle(80);
            assertThat(t.flush()).isTrue();
            // A final cost above the estimate is charged even past the limit: the request was served.
            assertThat(db.storedTotal("alice", "tokens", "DAY")).isEqualTo(92);

            Reservation refused = t.reserve("alice", "tokens", 9);
            assertThat(refused.decision().allowed()).isFalse();
            assertThat(refused.strict()).isFalse();
            assertThat(t.check("alice", "tokens", 0).used()).isEqualTo(92);

            Reservation released = t.reserve("alice", "tokens", 8);
            assertThat(released.decision().allowed()).isTrue();
            assertThat(db.storedTotal("alice", "tokens", "DAY")).isEqualTo(100);
            released.release();
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("alice", "tokens", "DAY")).isEqualTo(92);
            assertThat(t.check("alice", "tokens", 0).used()).isEqualTo(92);
        }
    }

    @Test
    void everyWindowOfTheQuotaIsReservedAtOnce() {
        // A fixed clock: the minute window must not roll over during the test.
        Clock clock = Clock.fixed(Instant.parse("2026-11-26T10:00:30Z"), ZoneOffset.UTC);
        try (Tollgate t = Tollgate.builder(strict("100%").build()).dataSource(db.dataSource()).clock(clock).build()) {
            t.assignPlan("bob", "pro"); // 10/minute, 1000/day
            int allowed = 0;
            for (int i = 0; i < 15; i++) {
                Reservation r = t.reserve("bob", "requests", 1);
                if (r.decision().allowed()) {
                    allowed++;
                    r.settle(1);
                }
            }
            assertThat(allowed).isEqualTo(10);
            assertThat(db.storedTotal("bob", "requests", "MINUTE")).isEqualTo(10);
            assertThat(db.storedTotal("bob", "requests", "DAY")).isEqualTo(10);
        }
    }

    @Test
    void outsideTheThresholdTheCacheDecidesAndUnwrittenUsageCountsAgainstTheLimit() {
        TollgateConfig c = strict("5").limit("free", "requests", "10/day").flushInterval(Duration.ofHours(1)).build();
        try (Tollgate t = EngineTestSupport.engine(db, c)) {
            List<Boolean> strictness = new ArrayList<>();
            int allowed = 0;
            for (int i = 0; i < 15; i++) {
                Reservation r = t.reserve("carol", "requests", 1);
                if (r.decision().allowed()) {
                    strictness.add(r.strict());
                    allowed++;
                    r.settle(1);
                }
            }
            // Five cached admissions (not written yet), then five in the store.
            assertThat(strictness).containsExactly(false, false, false, false, false, true, true, true, true, true);
            assertThat(allowed).isEqualTo(10);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(10);
        }
    }

    @Test
    void aKeyInsideTheThresholdIsNotAnsweredFromMemory() {
        TollgateConfig c = strict("3").limit("free", "requests", "10/day").build();
        try (Tollgate t = EngineTestSupport.engine(db, c)) {
            t.check("hana", "requests", 1);
            assertThat(t.isCached("hana", "requests")).isTrue();
            t.consume("hana", "requests", 7);
            // 3 left: a reservation would go to the store, so an event loop must not make it inline.
            assertThat(t.isCached("hana", "requests")).isFalse();
            t.consume("hana", "requests", 3);
            // Exhausted: the cache denies without the store again.
            assertThat(t.isCached("hana", "requests")).isTrue();
        }
    }

    @Test
    void whenTheStoreFailsTheFailModeDecides() {
        FlakyDataSource flaky = new FlakyDataSource(db.dataSource());
        try (Tollgate t = Tollgate.builder(strict("100%").failMode(FailMode.CLOSED).build()).dataSource(flaky).build()) {
            assertThat(t.reserve("dave", "requests", 1).decision().allowed()).isTrue();
            flaky.down(true);
            Reservation r = t.reserve("dave", "requests", 1);
            assertThat(r.decision().allowed()).isFalse();
            assertThat(r.decision().reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            assertThat(r.strict()).isFalse();
            flaky.down(false);
        }
    }

    @Test
    void theEdgeReleasesWhatItReservedForARejectedOrUnchargedRequest() {
        TollgateConfig c = strict("100%").limit("free", "tokens", "5/day").build();
        try (Tollgate t = EngineTestSupport.engine(db, c)) {
            QuotaGate gate = new QuotaGate(t, EdgeConfig.custom()
                    .rule("chat", "/chat", "POST", "requests, tokens:X-Usage-Tokens:3").build());
            SubjectResult erin = gate.subjectFromName("erin");

            Admission ok = gate.admit("POST", "/chat", erin);
            assertThat(ok.kind()).isEqualTo(Admission.Kind.ADMIT);
            assertThat(db.storedTotal("erin", "tokens", "DAY")).isEqualTo(3);
            gate.settle(ok, 200, h -> h.equals("X-Usage-Tokens") ? List.of("4") : List.of());
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("erin", "requests", "DAY")).isEqualTo(1);
            assertThat(db.storedTotal("erin", "tokens", "DAY")).isEqualTo(4);

            // 3 more tokens would pass 5: rejected, and the request unit reserved for it is given back.
            Admission no = gate.admit("POST", "/chat", erin);
            assertThat(no.kind()).isEqualTo(Admission.Kind.REJECT);
            assertThat(no.status()).isEqualTo(429);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("erin", "requests", "DAY")).isEqualTo(1);

            // A response status that is not charged gives back everything.
            Admission failed = gate.admit("POST", "/chat", gate.subjectFromName("frank"));
            assertThat(db.storedTotal("frank", "tokens", "DAY")).isEqualTo(3);
            gate.settle(failed, 500, h -> List.of());
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("frank", "tokens", "DAY")).isZero();
            assertThat(db.storedTotal("frank", "requests", "DAY")).isZero();
            assertThat(gate.stats()).containsEntry("notCharged", 1L).containsEntry("rejectedQuota", 1L);
        }
    }

    @Test
    void withoutAThresholdReserveIsACheckAndSettleAConsume() {
        try (Tollgate t = EngineTestSupport.engine(db, config().build())) {
            Reservation r = t.reserve("gina", "requests", 1);
            assertThat(r.strict()).isFalse();
            assertThat(r.decision().allowed()).isTrue();
            assertThat(db.storedTotal("gina", "requests", "DAY")).isZero();
            r.settle(4);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("gina", "requests", "DAY")).isEqualTo(4);
        }
    }
}
