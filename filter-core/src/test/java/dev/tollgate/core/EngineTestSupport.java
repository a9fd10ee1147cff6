package dev.tollgate.core;

import dev.tollgate.core.testing.TestDatabase;
import java.time.Duration;

/** Builders shared by the engine tests. */
final class EngineTestSupport {
    private EngineTestSupport() {
    }

    /** A config with a generous plan and a quick flush interval. */
    static TollgateConfig.Builder config() {
        return TollgateConfig.custom()
                .limit("free", "requests", "1000000000/day")
                .limit("free", "tokens", "5000000000/month")
                .limit("pro", "requests", "10/minute,1000/day")
                .flushInterval(Duration.ofMillis(50))
                .retryWait(Duration.ofMillis(5))
                .breakerWaitInOpen(Duration.ofMillis(200))
                .shutdownTimeout(Duration.ofSeconds(30))
                .metricsEnabled(false);
    }

    static Tollgate engine(TestDatabase db, TollgateConfig config) {
        return Tollgate.builder(config).dataSource(db.dataSource()).build();
    }
}
