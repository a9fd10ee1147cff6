package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.testing.GatedStore;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A full channel makes callers write synchronously; nothing is lost. */
class ChannelSaturationTest {

    @Test
    void fullChannelFallsBackToSyncWritesAndLosesNothing() {
        try (TestDatabase db = TestDatabases.h2()) {
            UsageStore real = JdbiUsageStore.create(db.dataSource(), Dialect.H2, SchemaMode.CREATE,
                    Duration.ofSeconds(10), null);
            GatedStore gated = new GatedStore(real);
            gated.closeGateForBatchers();
            Tollgate t = Tollgate.builder(config().workers(1).channelCapacity(16).build()).store(gated).build();
            try {
                t.check("alice", "requests", 1);
                t.consume("alice", "requests", 1);
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> gated.waiting() == 1);
                for (int i = 1; i < 200; i++) {
                    t.consume("alice", "requests", 1);
                }
                // The batcher is stuck in its first write: 16 records queued, the rest
                // written by the caller.
                Stats s = t.stats();
                assertThat(s.syncFallbacks()).isEqualTo(200 - 1 - 16);
                assertThat(s.queueDepth()).isLessThanOrEqualTo(16);
                assertThat(t.check("alice", "requests", 0).used()).isEqualTo(200);
                assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(s.syncFallbacks());

                gated.openGate();
                assertThat(t.flush()).isTrue();
                assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(200);
                assertThat(t.stats().processed()).isEqualTo(200);
            } finally {
                gated.openGate();
                t.close();
            }
        }
    }

    @Test
    void withABlockingExecutorAFullChannelsWritesLeaveTheCallersThread() {
        try (TestDatabase db = TestDatabases.h2()) {
            UsageStore real = JdbiUsageStore.create(db.dataSource(), Dialect.H2, SchemaMode.CREATE,
                    Duration.ofSeconds(10), null);
            GatedStore gated = new GatedStore(real);
            gated.closeGateForBatchers();
            java.util.concurrent.ConcurrentLinkedQueue<Runnable> offloaded = new java.util.concurrent.ConcurrentLinkedQueue<>();
            Tollgate t = Tollgate.builder(config().workers(1).channelCapacity(16).build()).store(gated)
                    .blockingExecutor(offloaded::add).build();
            try {
                assertThat(t.recordsWithoutBlocking()).isTrue();
                t.consume("bob", "requests", 1);
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> gated.waiting() == 1);
                for (int i = 1; i < 100; i++) {
                    t.consume("bob", "requests", 1);
                }
                long fallbacks = t.stats().syncFallbacks();
                assertThat(fallbacks).isEqualTo(100 - 1 - 16);
                assertThat(offloaded).hasSize((int) fallbacks);
                assertThat(db.storedTotal("bob", "requests", "DAY")).as("nothing written by the callers").isZero();
                Runnable r;
                while ((r = offloaded.poll()) != null) {
                    r.run();
                }
                assertThat(db.storedTotal("bob", "requests", "DAY")).isEqualTo(fallbacks);
                gated.openGate();
                assertThat(t.flush()).isTrue();
                assertThat(db.storedTotal("bob", "requests", "DAY")).isEqualTo(100);
            } finally {
                gated.openGate();
                t.close();
            }
        }
    }

    @Test
    void recordingMayBlockWithoutABlockingExecutorWithAJournalOrWhenWritesAreSynchronous(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        try (TestDatabase db = TestDatabases.h2()) {
            try (Tollgate plain = Tollgate.builder(config().build()).dataSource(db.dataSource()).build()) {
                assertThat(plain.recordsWithoutBlocking()).isFalse();
            }
            try (Tollgate journaled = Tollgate.builder(config().journalPath(dir).build()).dataSource(db.dataSource())
                    .blockingExecutor(Runnable::run).build()) {
                assertThat(journaled.recordsWithoutBlocking()).isFalse();
            }
            try (Tollgate sync = Tollgate.builder(config().asyncEnabled(false).build()).dataSource(db.dataSource())
                    .blockingExecutor(Runnable::run).build()) {
                assertThat(sync.recordsWithoutBlocking()).isFalse();
            }
        }
    }
}
