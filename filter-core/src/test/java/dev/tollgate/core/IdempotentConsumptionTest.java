package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static dev.tollgate.core.EngineTestSupport.engine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.testing.OnEachDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Records under a request id, end to end on a real database: a repeated (subject, quota,
 * request id) is charged once, whether the repeat is in the same flush or a later one, on a
 * subject whose policy was cached or not, through consume, consumeSync, consumeBatch and a
 * settled reservation; records without an id are charged as before.
 */
class IdempotentConsumptionTest extends OnEachDatabase {

    @Test
    void aRequestIdRepeatedInOneFlushIsChargedOnce() {
        try (Tollgate t = engine(db, config().build())) {
            t.check("alice", "requests", 0);
            t.consume("alice", "requests", 3, "req-1");
            t.consume("alice", "requests", 3, "req-1");
            t.consume("alice", "requests", 1);
            t.consume("alice", "requests", 1);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(5);
        }
    }

    @Test
    void aRequestIdRepeatedAfterAFlushIsChargedOnceOnEveryWindow() {
        try (Tollgate t = engine(db, config().build())) {
            t.assignPlan("carol", "pro");
            t.check("carol", "requests", 0);
            t.consume("carol", "requests", 2, "req-1");
            assertThat(t.flush()).isTrue();
            t.consume("carol", "requests", 2, "req-1");
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("carol", "requests", "MINUTE")).isEqualTo(2);
            assertThat(db.storedTotal("carol", "requests", "DAY")).isEqualTo(2);
            assertThat(t.check("carol", "requests", 0).used()).isEqualTo(2);
        }
    }

    @Test
    void aSubjectNotYetCachedIsChargedOncePerRequestId() {
        try (Tollgate t = engine(db, config().build())) {
            // No check first: the records are resolved to counters by the batcher.
            t.consume("bob", "requests", 4, "req-1");
            t.consume("bob", "requests", 4, "req-1");
            t.consume("bob", "requests", 4, "req-2");
            assertThat(t.flush()).isTrue();
            t.consume("bob", "requests", 4, "req-2");
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("bob", "requests", "DAY")).isEqualTo(8);
        }
    }

    @Test
    void consumeSyncAndARetriedConsumeBatchAreChargedOnce() {
        try (Tollgate t = engine(db, config().build())) {
            assertThat(t.consumeSync("alice", "requests", 5, "req-1")).isTrue();
            assertThat(t.consumeSync("alice", "requests", 5, "req-1")).as("found charged: committed").isTrue();
            List<Consumption> batch = List.of(new Consumption("alice", "requests", 1, "b-1"),
                    new Consumption("alice", "tokens", 100, "b-1"), new Consumption("alice", "requests", 1));
            t.consumeBatch(batch);
            assertThat(t.flush()).isTrue();
            t.consumeBatch(batch);
            assertThat(t.flush()).isTrue();
            // The id is per quota: b-1 charged 1 request and 100 tokens once; the record without an id twice.
            assertThat(db.storedTotal("alice", "requests", "DAY")).isEqualTo(5 + 1 + 2);
            assertThat(db.storedTotal("alice", "tokens", "MONTH")).isEqualTo(100);
        }
    }

    @Test
    void aSettledReservationUnderARequestIdIsChargedOnceAndItsUnitsFreed() {
        try (Tollgate t = engine(db, config().build())) {
            t.assignPlan("dave", "pro");
            for (int i = 0; i < 3; i++) {
                Reservation r = t.reserve("dave", "requests", 1);
                assertThat(r.decision().allowed()).isTrue();
                r.settle(1, "req-1");
            }
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("dave", "requests", "MINUTE")).isEqualTo(1);
            // The repeats were served but not charged: 9 of the 10 per minute are left.
            int admitted = 0;
            for (int i = 0; i < 20; i++) {
                Reservation r = t.reserve("dave", "requests", 1);
                if (r.decision().allowed()) {
                    admitted++;
                    r.settle(1);
                } else {
                    r.release();
                }
            }
            assertThat(admitted).isEqualTo(9);
        }
    }

    @Test
    void aMalformedRequestIdIsRefusedAndNothingIsRecorded() {
        try (Tollgate t = engine(db, config().build())) {
            assertThatThrownBy(() -> t.consume("alice", "requests", 1, "has space"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("request id")
                    .hasMessageContaining("visible ASCII");
            assertThatThrownBy(() -> t.consume("alice", "requests", 1, "x".repeat(256)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 to 255 characters");
            assertThatThrownBy(() -> t.consumeBatch(List.of(new Consumption("alice", "requests", 1),
                    new Consumption("alice", "requests", 1, ""))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("request id");
            Reservation r = t.reserve("alice", "requests", 1);
            assertThatThrownBy(() -> r.settle(1, "bad\tid")).isInstanceOf(IllegalArgumentException.class);
            r.release();
            assertThat(t.flush()).isTrue();
            assertThat(t.stats().total()).isZero();
            assertThat(db.storedTotal("alice", "requests", "DAY")).isZero();
        }
    }
}
