package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store goes away and comes back: usage is deferred, then written exactly once. */
class StoreOutageTest extends OnEachDatabase {

    FlakyDataSource flaky;

    @BeforeEach
    void open() {
        flaky = new FlakyDataSource(db.dataSource());
    }

    private Tollgate engine(TollgateConfig config) {
        return Tollgate.builder(config).dataSource(flaky).build();
    }

    @Test
    void usageDuringAnOutageIsDeferredThenWrittenExactly() {
        Tollgate t = engine(config().build());
        try {
            t.check("alice", "requests", 1);
            flaky.down(true);
            for (int i = 0; i < 5_000; i++) {
                t.consume("alice", "requests", 1);
                t.consume("bob-" + (i % 50), "requests", 2);
            }
            assertThat(t.flush()).isFalse();
            Stats during = t.stats();
            assertThat(during.failed()).isPositive();
            assertThat(during.deferred()).isEqualTo(10_000);
            assertThat(during.pendingDeferred()).isEqualTo(10_000);
            assertThat(during.dropped()).isZero();
            assertThat(t.health().status()).isEqualTo(Health.Status.DEGRADED);
            // This node still counts what it could not write.
            assertThat(t.check("alice", "requests", 0).used()).isEqualTo(5_000);

            flaky.down(false);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(t::flush);
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(5_000);
            assertThat(db.storedTotal("requests", "DAY")).isEqualTo(5_000 + 10_000);
            Stats after = t.stats();
            assertThat(after.processed()).isEqualTo(10_000);
            assertThat(after.pendingDeferred()).isZero();
            // Deferred records were counted once, however many flushes failed.
            assertThat(after.deferred()).isEqualTo(10_000);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> t.health().status() == Health.Status.UP);
            assertThat(t.check("alice", "requests", 0).used()).isEqualTo(5_000);
        } finally {
            t.close();
        }
    }

    @Test
    void aCommitWhoseAnswerWasLostIsNotAppliedTwice() {
        Tollgate t = engine(config().retryMaxAttempts(3).build());
        try {
            t.check("carol", "requests", 1);
            flaky.loseCommitAnswers(2);
            for (int i = 0; i < 100; i++) {
                t.consume("carol", "requests", 1);
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(t::flush);
            assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(100);
            assertThat(t.stats().processed()).isEqualTo(100);
            assertThat(t.check("carol", "requests", 0).used()).isEqualTo(100);
        } finally {
            t.close();
        }
    }

    @Test
    void closeDuringAnOutageReportsWhatItCouldNotWrite() {
        Tollgate t = engine(config().shutdownTimeout(Duration.ofMillis(300)).build());
        t.check("dave", "requests", 1);
        flaky.down(true);
        for (int i = 0; i < 10; i++) {
            t.consume("dave", "requests", 3);
        }
        t.close();
        assertThat(t.stats().dropped()).isEqualTo(10);
        flaky.down(false);
        assertThat(db.storedTotal("dave", "requests", "DAY")).isZero();
    }

    @Test
    void closeDuringAnOutageAlsoReportsUsageOfUnseenSubjectsAndBatchesInDoubt() {
        Tollgate t = engine(config().flushInterval(Duration.ofHours(1)).retryMaxAttempts(1)
                .shutdownTimeout(Duration.ofMillis(300)).build());
        t.check("erin", "requests", 1);
        // A commit carried out whose answer is lost: the batch is kept whole, in doubt.
        flaky.loseCommitAnswers(1);
        assertThat(t.consumeSync("erin", "requests", 2)).isFalse();
        flaky.down(true);
        // A subject never seen: its policy cannot be read, so its records have no counters yet.
        t.consume("frida", "requests", 5);
        t.consume("frida", "requests", 5);
        String log;
        try (LogCapture capture = LogCapture.start()) {
            t.close();
            log = capture.text();
        }
        assertThat(t.stats().dropped()).as("1 record in doubt + 2 unresolved").isEqualTo(3);
        assertThat(t.stats().total()).isEqualTo(t.stats().processed() + t.stats().dropped());
        assertThat(log).containsPattern("Not written at close: subject=frida quota=requests minute from \\S+ amount=10")
                .containsPattern("Not written at close: subject=erin quota=requests DAY window from \\S+ \\(batch \\S+"
                        + " may have been committed\\) amount=2")
                .contains("Tollgate closed with 3 records it could not write");
        flaky.down(false);
        assertThat(db.storedTotal("erin", "requests", "DAY")).as("the lost answer's commit did happen").isEqualTo(2);
        assertThat(db.storedTotal("frida", "requests", "DAY")).isZero();
    }

    @Test
    void failOpenAllowsAndCountsWhenNothingIsCached() {
        Tollgate t = engine(config().failMode(FailMode.OPEN).build());
        try {
            flaky.down(true);
            Decision d = t.check("erin", "requests", 1);
            assertThat(d.allowed()).isTrue();
            assertThat(d.reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            assertThat(t.stats().failOpen()).isEqualTo(1);
            assertThat(t.stats().failClosed()).isZero();
        } finally {
            flaky.down(false);
            t.close();
        }
    }

    @Test
    void failClosedDeniesWhenNothingIsCachedButCachedKeysStillServe() {
        Tollgate t = engine(config().failMode(FailMode.CLOSED).build());
        try {
            assertThat(t.check("cached", "requests", 1).allowed()).isTrue();
            flaky.down(true);
            Decision d = t.check("frank", "requests", 1);
            assertThat(d.allowed()).isFalse();
            assertThat(d.reason()).isEqualTo(Decision.Reason.STORE_UNAVAILABLE);
            assertThat(t.stats().failClosed()).isEqualTo(1);
            // A key already cached is still checked from the cache.
            assertThat(t.check("cached", "requests", 1).allowed()).isTrue();
            // Enough failures open the breaker; with fail-closed the engine reports DOWN.
            for (int i = 0; i < 10; i++) {
                t.check("other-" + i, "requests", 1);
            }
            assertThat(t.health().status()).isEqualTo(Health.Status.DOWN);
            assertThat(t.health().reason()).contains("circuit breaker open");
        } finally {
            flaky.down(false);
            t.close();
        }
    }

    @Test
    void anIdleEngineBecomesHealthyAgainAfterAnOutage() {
        Tollgate t = engine(config().build());
        try {
            flaky.down(true);
            for (int i = 0; i < 10; i++) {
                t.check("idle-" + i, "requests", 1);
            }
            assertThat(t.health().status()).isEqualTo(Health.Status.DEGRADED);
            flaky.down(false);
            // No traffic: the engine's own probe closes the breaker.
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> t.health().status() == Health.Status.UP);
        } finally {
            t.close();
        }
    }
}
