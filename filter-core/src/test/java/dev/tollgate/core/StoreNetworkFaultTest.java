package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.FaultProxy;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine with the pool it builds itself ({@code tollgate.store.url}), talking to the real
 * PostgreSQL through a {@link FaultProxy}: network faults between the engine and the store.
 * The URL carries no driver timeouts of its own, so the engine's defaults are what keeps it
 * bounded.
 */
class StoreNetworkFaultTest {
    TestDatabase db;
    FaultProxy proxy;
    Tollgate t;

    @BeforeEach
    void open() {
        db = TestDatabases.postgres();
        proxy = FaultProxy.toTestPostgres();
    }

    @AfterEach
    void close() {
        // Each part only if set-up got that far (a skipped set-up leaves nothing to close).
        try {
            if (proxy != null) {
                proxy.pass();
            }
            if (t != null) {
                t.close();
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            if (db != null) {
                db.close();
            }
        }
    }

    private Tollgate engine(TollgateConfig.Builder b) {
        t = Tollgate.builder(b.storeUrl(proxy.jdbcUrl(db.url())).storeUser(db.user()).storePassword(db.password())
                .build()).build();
        return t;
    }

    private static TollgateConfig.Builder faultConfig() {
        return config()
                .queryTimeout(Duration.ofSeconds(1))
                // The default: the first connection must be made at start even on a busy machine.
                .connectTimeout(Duration.ofSeconds(2))
                .retryMaxAttempts(2)
                .breakerWaitInOpen(Duration.ofMillis(300));
    }

    private boolean breakerOpen() {
        return t.health().reason().contains("circuit breaker open");
    }

    @Test
    void aBlackHoledStoreFailsWritesWithinTheTimeoutsAndEverythingIsWrittenAfterIt() {
        engine(faultConfig());
        t.check("alice", "requests", 1);
        for (int i = 0; i < 50; i++) {
            t.consume("alice", "requests", 1);
        }
        assertThat(t.flush()).isTrue();

        // Put a write in flight first (its answer delayed), then make the network silent: the
        // batcher is then waiting on a read that nothing will ever answer.
        proxy.slow(Duration.ofSeconds(3));
        for (int i = 0; i < 100; i++) {
            t.consume("alice", "requests", 1);
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> proxy.heldAnswers() > 0);
        proxy.blackhole();
        // The batchers must not wait for the network forever: without the driver timeouts the
        // pool sets (query timeout 1 s + 2 s, a cancel request within connect-timeout) the write
        // would wait as long as the store stays silent, and it stays silent until the end of
        // this wait. With them, the write fails, the usage is deferred and the breaker opens.
        Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> t.stats().failed() > 0 && t.stats().pendingDeferred() == 100 && breakerOpen());
        assertThat(proxy.mode()).as("still silent").isEqualTo(FaultProxy.Mode.BLACKHOLE);
        // A cached check does not wait for the store: one that did could only end by failing
        // (the store is silent), as STORE_UNAVAILABLE and counted as fail-open.
        long failOpen = t.stats().failOpen();
        Decision d = t.check("alice", "requests", 1);
        assertThat(d.reason()).isEqualTo(Decision.Reason.WITHIN_LIMIT);
        assertThat(d.used()).as("stored 50 + 100 waiting for the store").isEqualTo(150);
        assertThat(t.stats().failOpen()).isEqualTo(failOpen);

        proxy.pass();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(t::flush);
        assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(150);
        assertThat(t.stats().processed()).isEqualTo(150);
        assertThat(t.stats().dropped()).isZero();
    }

    @Test
    void aCutStoreDefersUsageOpensTheBreakerAndCatchesUpWhenItIsBack() {
        engine(faultConfig());
        t.check("bob", "requests", 1);
        proxy.cut();
        for (int i = 0; i < 200; i++) {
            t.consume("bob", "requests", 1);
        }
        Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> t.stats().pendingDeferred() == 200 && breakerOpen());
        assertThat(t.check("bob", "requests", 1).used()).isEqualTo(200);
        assertThat(t.check("never-seen", "requests", 1).reason()).as("fail-open without a cached value")
                .isEqualTo(Decision.Reason.STORE_UNAVAILABLE);

        proxy.pass();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(t::flush);
        // The breaker closes after two successful store calls in HALF_OPEN: a request on a
        // subject not cached yet makes one.
        AtomicInteger probe = new AtomicInteger();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            t.check("probe-" + probe.incrementAndGet(), "requests", 1);
            return t.health().status() == Health.Status.UP;
        });
        assertThat(db.storedTotal("bob", "requests", "DAY")).isEqualTo(200);
        assertThat(t.stats().deferred()).isEqualTo(200);
        assertThat(t.stats().processed()).isEqualTo(200);
    }

    @Test
    void commitsWhoseAnswerIsLostAreNotAppliedTwice() {
        engine(faultConfig().retryMaxAttempts(3));
        t.check("carol", "requests", 1);
        // Commits 1, 3 and 5 from now: the batch id recorded in the same transaction turns
        // each retry of a batch that did commit into a no-op.
        int dropped = 0;
        for (int round = 0; round < 6; round++) {
            if (round % 2 == 0) {
                proxy.dropNextCommitResponses(1);
            }
            for (int i = 0; i < 25; i++) {
                t.consume("carol", "requests", 1);
                t.consume("dan-" + (i % 5), "requests", 2);
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(t::flush);
            if (round % 2 == 0) {
                dropped++;
                assertThat(proxy.droppedCommitAnswers()).isEqualTo(dropped);
            }
        }
        assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(150);
        assertThat(db.storedTotal("requests", "DAY")).isEqualTo(150 + 300);
        Stats s = t.stats();
        assertThat(s.storeErrors()).as("each dropped answer failed one attempt").isGreaterThanOrEqualTo(3);
        assertThat(s.failed()).as("and the retry re-applied the batch as a no-op").isZero();
        assertThat(s.processed()).isEqualTo(300);
        long appliedBatches = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_applied_batch")
                .mapTo(Long.class).one());
        assertThat(appliedBatches).as("one applied id per batch, however often it was sent").isEqualTo(s.batches());
        assertThat(t.check("carol", "requests", 0).used()).isEqualTo(150);
    }

    @Test
    void aSlowStoreSlowsNeitherChecksNorConsumes() {
        engine(faultConfig().queryTimeout(Duration.ofSeconds(5)));
        for (int s = 0; s < 10; s++) {
            t.check("erin-" + s, "requests", 1);
        }
        // Every answer of the store is held far longer than this test: a check or a consume
        // that waited for one could only return through the driver's timeout, as a failure
        // (STORE_UNAVAILABLE, counted as fail-open).
        proxy.slow(Duration.ofHours(1));
        int n = 2_000;
        for (int i = 0; i < n; i++) {
            String subject = "erin-" + (i % 10);
            Decision d = t.check(subject, "requests", 1);
            assertThat(d.reason()).as("check %d", i).isEqualTo(Decision.Reason.WITHIN_LIMIT);
            assertThat(d.used()).as("this node's own usage, at once").isEqualTo(i / 10);
            t.consume(subject, "requests", 1);
        }
        assertThat(t.stats().failOpen()).isZero();
        // Meanwhile the batchers did try the store, and its answers were held.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> proxy.heldAnswers() > 0);
        proxy.pass();
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(t::flush);
        assertThat(db.storedTotal("requests", "DAY")).isEqualTo(n);
    }
}
