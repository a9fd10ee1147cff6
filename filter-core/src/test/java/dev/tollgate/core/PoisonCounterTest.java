package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.OnEachDatabase;
import org.junit.jupiter.api.Test;

/**
 * A counter the store cannot hold (its sum would pass {@code Long.MAX_VALUE}) is set aside with
 * a stat and a log line; the rest of its batch is written and the breaker stays closed.
 */
class PoisonCounterTest extends OnEachDatabase {

    @Test
    void aCounterThatWouldOverflowIsSetAsideAndTheOthersAreStored() {
        Tollgate t = EngineTestSupport.engine(db, config().build());
        try (LogCapture log = LogCapture.start()) {
            t.consume("big", "bytes", 1);
            assertThat(t.flush()).isTrue();
            int changed = db.jdbi().withHandle(h -> h.createUpdate("UPDATE tollgate_usage SET used = :v"
                    + " WHERE subject = 'big' AND quota = 'bytes'").bind("v", Long.MAX_VALUE - 1).execute());
            assertThat(changed).isEqualTo(1);

            for (int i = 0; i < 50; i++) {
                t.consume("small-" + i, "bytes", 3);
            }
            t.consume("big", "bytes", 5);
            for (int i = 50; i < 100; i++) {
                t.consume("small-" + i, "bytes", 3);
            }
            assertThat(t.flush()).isTrue();

            for (int i = 0; i < 100; i++) {
                assertThat(db.storedTotal("small-" + i, "bytes", "TOTAL")).as("small-" + i).isEqualTo(3);
            }
            assertThat(db.storedTotal("big", "bytes", "TOTAL")).isEqualTo(Long.MAX_VALUE - 1);
            Stats s = t.stats();
            assertThat(s.poisoned()).isEqualTo(1);
            assertThat(s.failed()).isZero();
            assertThat(s.storeErrors()).isZero();
            assertThat(s.pendingDeferred()).isZero();
            assertThat(t.health().status()).isEqualTo(Health.Status.UP);
            assertThat(log.text()).contains("Set aside a counter the store cannot hold")
                    .contains("subject=big quota=bytes TOTAL window").contains("amount=5");

            // Nothing of it is retried: the next flushes write the others as usual.
            t.consume("small-0", "bytes", 4);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("small-0", "bytes", "TOTAL")).isEqualTo(7);
            assertThat(t.stats().poisoned()).isEqualTo(1);
        } finally {
            t.close();
        }
    }

    @Test
    void aSumThatOverflowsInMemoryIsSetAsideTheSameWay() {
        Tollgate t = EngineTestSupport.engine(db, config().build());
        try {
            t.consume("huge", "bytes", Long.MAX_VALUE);
            t.consume("huge", "bytes", Long.MAX_VALUE);
            t.consume("other", "bytes", 2);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("other", "bytes", "TOTAL")).isEqualTo(2);
            Stats s = t.stats();
            // In memory or in the store (when the two records land in different flushes): one counter set aside.
            assertThat(s.poisoned()).isEqualTo(1);
            assertThat(db.storedTotal("huge", "bytes", "TOTAL")).isIn(0L, Long.MAX_VALUE);
            assertThat(t.health().status()).isEqualTo(Health.Status.UP);
        } finally {
            t.close();
        }
    }
}
