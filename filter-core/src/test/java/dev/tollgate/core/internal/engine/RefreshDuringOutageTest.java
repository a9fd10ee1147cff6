package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.FlakyDataSource;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cached subjects keep being served while the store is down, and the background refreshes
 * that fail meanwhile stay quiet: an outage must not turn every refresh of every active
 * subject into a logged stack trace.
 */
class RefreshDuringOutageTest {
    /** Caffeine logs through System.Logger, which is java.util.logging here. */
    private static final Logger CAFFEINE = Logger.getLogger("com.github.benmanes.caffeine");

    private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(r);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    TestDatabase db;

    @BeforeEach
    void open() {
        CAFFEINE.addHandler(handler);
        db = TestDatabases.h2();
    }

    @AfterEach
    void close() {
        CAFFEINE.removeHandler(handler);
        db.close();
    }

    @Test
    void failedRefreshesKeepTheCachedPolicyWithoutLoggingEachFailure() {
        AtomicLong nanos = new AtomicLong();
        FlakyDataSource flaky = new FlakyDataSource(db.dataSource());
        TollgateConfig config = TollgateConfig.custom().limit("free", "requests", "1000/day")
                .policyRefreshAfter(Duration.ofSeconds(1))
                .breakerWaitInOpen(Duration.ofHours(1))
                .metricsEnabled(false).build();
        try (Tollgate t = Tollgate.builder(config).dataSource(flaky).ticker(nanos::get).executor(Runnable::run)
                .build()) {
            for (int s = 0; s < 20; s++) {
                assertThat(t.check("subject-" + s, "requests", 1).allowed()).isTrue();
            }
            flaky.down(true);
            for (int round = 0; round < 5; round++) {
                nanos.addAndGet(Duration.ofSeconds(2).toNanos());
                for (int s = 0; s < 20; s++) {
                    Decision d = t.check("subject-" + s, "requests", 1);
                    assertThat(d.allowed()).isTrue();
                    assertThat(d.reason()).as("served from the cached policy and the units held")
                            .isNotEqualTo(Decision.Reason.STORE_UNAVAILABLE);
                    assertThat(d.limit()).isEqualTo(1000);
                }
            }
            assertThat(t.stats().storeErrors()).as("refreshes were tried").isPositive();
            assertThat(warnings).extracting(LogRecord::getMessage).isEmpty();

            flaky.down(false);
            nanos.addAndGet(Duration.ofSeconds(2).toNanos());
            assertThat(t.check("subject-0", "requests", 1).allowed()).isTrue();
        }
    }
}
