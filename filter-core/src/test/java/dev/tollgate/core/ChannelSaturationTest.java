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
}
