package dev.tollgate.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/** The engine's UP, DEGRADED and DOWN as Actuator health. */
class TollgateHealthIndicatorTest {
    private final TestDatabase db = TestDatabases.h2();
    private final Tollgate tollgate = Tollgate.builder(TollgateConfig.custom()
                    .retryMaxAttempts(1).retryWait(Duration.ZERO).build())
            .dataSource(db.dataSource()).build();
    private final TollgateHealthIndicator indicator = new TollgateHealthIndicator(tollgate);

    @AfterEach
    void tearDown() {
        tollgate.close();
        db.close();
    }

    @Test
    void upWhileUsageReachesTheStore() {
        tollgate.consume("alice", "requests", 1);
        tollgate.flush();

        Health health = indicator.health();
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("pending", 0L).containsEntry("queueCapacity", 65536)
                .doesNotContainKey("reason");
    }

    @Test
    void degradedWithTheReasonWhileUsageWaitsForTheStore() {
        db.jdbi().useHandle(h -> h.execute("DROP TABLE tollgate_usage"));
        tollgate.consume("alice", "requests", 1);
        tollgate.flush();

        Health health = indicator.health();
        assertThat(health.getStatus()).isEqualTo(TollgateHealthIndicator.DEGRADED);
        assertThat(health.getStatus().getCode()).isEqualTo("DEGRADED");
        assertThat(health.getDetails()).containsEntry("pending", 1L)
                .containsEntry("reason", "1 records waiting to be written to the store");
        assertThat((long) health.getDetails().get("storeErrors")).isPositive();
    }

    @Test
    void downOnceClosed() {
        tollgate.close();

        Health health = indicator.health();
        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.getDetails()).containsEntry("reason", "closed");
    }
}
