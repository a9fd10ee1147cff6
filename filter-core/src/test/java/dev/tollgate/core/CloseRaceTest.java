package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.GatedStore;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** close() against what is still running when it gives up waiting. */
class CloseRaceTest {

    @Test
    void aWriteThatOutlivesTheCloseDeadlineAndFailsIsStillReportedAsDropped() throws Exception {
        try (TestDatabase db = TestDatabases.h2()) {
            FlakyDataSource flaky = new FlakyDataSource(db.dataSource());
            GatedStore gated = new GatedStore(JdbiUsageStore.create(flaky, Dialect.H2, SchemaMode.CREATE,
                    Duration.ofSeconds(10), null));
            // Short store bounds: close() waits for a write in progress up to attempts x (query +
            // connect timeout), here 2 s, before it returns with the write still held.
            Tollgate t = Tollgate.builder(config().workers(1).retryMaxAttempts(1)
                    .queryTimeout(Duration.ofSeconds(1)).connectTimeout(Duration.ofSeconds(1))
                    .shutdownTimeout(Duration.ofMillis(200)).build()).store(gated).build();
            t.check("alice", "requests", 1);
            gated.closeGateForBatchers();
            for (int i = 0; i < 7; i++) {
                t.consume("alice", "requests", 1);
            }
            // The batcher is inside its write when close() starts, and still is at its deadline.
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> gated.waiting() == 1);
            try (LogCapture log = LogCapture.start()) {
                t.close();
                flaky.down(true);
                gated.openGate();
                // The write fails after close() returned: its records are neither written nor
                // kept anywhere, so they must be reported as dropped, with their counter. (The
                // held write usually has all 7; when the batcher took it before the last
                // consumes arrived, close() wrote those while the store was still up.)
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> t.stats().dropped() > 0 && t.stats().processed() + t.stats().dropped() == 7);
                assertThat(log.text()).contains("Not written at close: subject=alice quota=requests");
            } finally {
                flaky.down(false);
            }
            Stats s = t.stats();
            assertThat(s.total()).isEqualTo(7).isEqualTo(s.processed() + s.dropped());
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(7 - s.dropped());
        }
    }

    @Test
    void closeDrainsTheChannelBehindABatcherHeldInItsWriteAndWritesEverything() throws Exception {
        try (TestDatabase db = TestDatabases.h2()) {
            GatedStore gated = new GatedStore(JdbiUsageStore.create(db.dataSource(), Dialect.H2, SchemaMode.CREATE,
                    Duration.ofSeconds(10), null));
            Tollgate t = Tollgate.builder(config().workers(1).flushInterval(Duration.ofMillis(10)).build())
                    .store(gated).build();
            t.check("alice", "requests", 1);
            gated.closeGateForBatchers();
            t.consume("alice", "requests", 1);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> gated.waiting() == 1);
            // The batcher is held inside its write: these wait in the channel.
            for (int i = 0; i < 99; i++) {
                t.consume("alice", "requests", 1);
                t.consume("bob-" + (i % 10), "requests", 1);
            }
            assertThat(t.stats().queueDepth()).isEqualTo(198);
            Thread closer = new Thread(t::close, "closer");
            closer.start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> t.health().status() == Health.Status.DOWN);
            assertThatThrownBy(() -> t.consume("alice", "requests", 1)).isInstanceOf(IllegalStateException.class);
            gated.openGate();
            closer.join(60_000);
            assertThat(closer.isAlive()).isFalse();

            Stats s = t.stats();
            assertThat(s.queueDepth()).isZero();
            assertThat(s.total()).isEqualTo(199);
            assertThat(s.processed()).isEqualTo(199);
            assertThat(s.dropped()).isZero();
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(100);
            assertThat(db.storedTotal("requests", "DAY")).isEqualTo(199);
        }
    }

    @Test
    void aBatchThatCloseCutsShortWhileItIsBeingBuiltLeavesTheRecordCountsEqual() throws Exception {
        try (TestDatabase db = TestDatabases.h2()) {
            CloseOnRead clock = new CloseOnRead();
            Tollgate t = Tollgate.builder(config().build()).dataSource(db.dataSource()).clock(clock).build();
            clock.engine = t;
            t.check("alice", "requests", 1);
            t.consume("alice", "requests", 2);
            // The third element's timestamp is read on a thread that closes the engine before it
            // returns: the third record is built, the fourth finds the engine closed.
            clock.closeOnRead(Thread.currentThread(), 3);
            List<Consumption> batch = List.of(new Consumption("alice", "requests", 1),
                    new Consumption("alice", "requests", 1), new Consumption("alice", "requests", 1),
                    new Consumption("alice", "requests", 1));
            assertThatThrownBy(() -> t.consumeBatch(batch)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");

            Stats s = t.stats();
            assertThat(s.total()).as("only the consume before the batch was accepted: " + s).isEqualTo(1);
            assertThat(s.processed()).isEqualTo(1);
            assertThat(s.dropped()).isZero();
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(2);
        }
    }

    /** A UTC clock that closes an engine, on another thread, at the n-th read by one thread. */
    private static final class CloseOnRead extends Clock {
        volatile Tollgate engine;
        private volatile Thread reader;
        private int left;

        void closeOnRead(Thread thread, int n) {
            left = n;
            reader = thread;
        }

        @Override
        public long millis() {
            if (Thread.currentThread() == reader && --left == 0) {
                Thread closer = new Thread(engine::close, "closer");
                closer.start();
                try {
                    closer.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return System.currentTimeMillis();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
