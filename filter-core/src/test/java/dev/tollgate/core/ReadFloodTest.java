package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.testing.OnEachDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A flood of first contacts (plan reads and grants) against a one-connection pool that is
 * exhausted: the reads fail and open the read breaker, and the flushes, behind their own
 * breaker, still commit.
 */
class ReadFloodTest extends OnEachDatabase {

    @Test
    void aReadFloodOnAnExhaustedOneConnectionPoolDoesNotStopTheWrites() throws Exception {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(db.url());
        hc.setUsername(db.user());
        hc.setPassword(db.password());
        hc.setMaximumPoolSize(1);
        hc.setConnectionTimeout(250);
        hc.setPoolName("tollgate-read-flood");
        // Breakers stay open for the whole test once open: what commits, commits past an open read breaker.
        TollgateConfig config = config().breakerWaitInOpen(Duration.ofMinutes(10)).build();
        ExecutorService flood = Executors.newFixedThreadPool(16);
        try (HikariDataSource pool = new HikariDataSource(hc)) {
            Tollgate t = Tollgate.builder(config).dataSource(pool).build();
            try {
                t.consume("payer", "requests", 1);
                assertThat(t.flush()).isTrue();
                AtomicInteger allowed = new AtomicInteger();
                List<Future<?>> done = new ArrayList<>();
                // The flood finds the pool's only connection taken for its whole length.
                try (Connection held = pool.getConnection()) {
                    for (int w = 0; w < 16; w++) {
                        int worker = w;
                        done.add(flood.submit(() -> {
                            for (int i = 0; i < 20; i++) {
                                if (t.check("new-" + worker + "-" + i, "requests", 1).allowed()) {
                                    allowed.incrementAndGet();
                                }
                            }
                        }));
                    }
                    for (Future<?> f : done) {
                        f.get();
                    }
                    assertThat(held.isValid(1)).isTrue();
                }
                Stats s = t.stats();
                assertThat(s.storeErrors()).as("reads failed for want of a connection").isPositive();
                assertThat(s.failOpen()).isPositive();
                assertThat(t.health().reason()).contains("store unavailable (circuit breaker open)");

                t.consume("payer", "requests", 5);
                assertThat(t.flush()).as("the write breaker is closed").isTrue();
                assertThat(db.storedTotal("payer", "requests", "DAY")).isEqualTo(6);
            } finally {
                t.close();
            }
        } finally {
            flood.shutdownNow();
        }
    }
}
