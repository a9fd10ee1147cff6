package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.GatedStore;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
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
            Tollgate t = Tollgate.builder(config().workers(1).retryMaxAttempts(1)
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
                // The write fails after close() returned: its 7 records are neither written
                // nor kept anywhere, so they must be reported as dropped, with their counter.
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> t.stats().dropped() == 7);
                assertThat(log.text()).contains("Not written at close: subject=alice quota=requests");
            } finally {
                flaky.down(false);
            }
            Stats s = t.stats();
            assertThat(s.total()).isEqualTo(s.processed() + s.dropped());
            assertThat(db.storedTotal("alice", "requests", "DAY")).isZero();
        }
    }
}
