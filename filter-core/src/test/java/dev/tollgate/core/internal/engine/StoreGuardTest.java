package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.PermanentStoreException;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.testing.LogCapture;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The resilience around store calls: writes are retried on store failures only, reads never;
 * reads and writes each have a breaker, which opens after half of at least four calls failed,
 * then refuses without calling, and lets calls through again after its wait.
 */
class StoreGuardTest {

    private static StoreGuard guard(int attempts, Duration waitInOpen) {
        return new StoreGuard(TollgateConfig.custom().retryMaxAttempts(attempts).retryWait(Duration.ofMillis(1))
                .breakerWaitInOpen(waitInOpen).metricsEnabled(false).build());
    }

    @Test
    void aWriteIsRetriedUpToTheAttemptsOnStoreFailuresAndTheLastFailureIsThrown() {
        StoreGuard g = guard(3, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> g.write(() -> {
            throw new StoreException("attempt " + calls.incrementAndGet(), null);
        })).isInstanceOf(StoreException.class).hasMessage("attempt 3");
        assertThat(calls).hasValue(3);
        assertThat(g.errors()).isEqualTo(3);
    }

    @Test
    void aWriteThatSucceedsOnARetryReturnsItsValue() {
        StoreGuard g = guard(3, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        String v = g.write(() -> {
            if (calls.incrementAndGet() < 3) {
                throw new StoreException("transient", null);
            }
            return "ok";
        });
        assertThat(v).isEqualTo("ok");
        assertThat(calls).hasValue(3);
        assertThat(g.errors()).isEqualTo(2);
    }

    @Test
    void otherFailuresAreNeitherRetriedNorCountedAgainstTheStore() {
        StoreGuard g = guard(3, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            assertThatThrownBy(() -> g.write(() -> {
                calls.incrementAndGet();
                throw new IllegalArgumentException("a bug, not an outage");
            })).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(calls).hasValue(10);
        assertThat(g.writeBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void aReadIsNotRetried() {
        StoreGuard g = guard(3, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> g.read(() -> {
            calls.incrementAndGet();
            throw new StoreException("down", null);
        })).isInstanceOf(StoreException.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void theWriteBreakerOpensAfterHalfOfFourCallsFailedAndThenRefusesWritesWithoutCalling() {
        StoreGuard g = guard(1, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        assertThat(g.write(() -> "ok")).isEqualTo("ok");
        assertThat(g.write(() -> "ok")).isEqualTo("ok");
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> g.write(() -> {
                throw new StoreException("down", null);
            })).isInstanceOf(StoreException.class);
        }
        assertThat(g.writeBreaker().getState()).as("2 of 4 failed").isEqualTo(CircuitBreaker.State.OPEN);
        assertThatThrownBy(() -> g.write(() -> calls.incrementAndGet()))
                .isInstanceOf(StoreException.class).hasMessageContaining("write circuit breaker is OPEN");
        assertThat(calls).as("the store was not called").hasValue(0);
        // Reads have their own breaker.
        assertThat(g.read(() -> calls.incrementAndGet())).isEqualTo(1);
        assertThat(g.readBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void theErrorThatOpensABreakerIsLoggedWithTheTransition() {
        StoreGuard g = guard(1, Duration.ofHours(1));
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 4; i++) {
                int n = i;
                assertThatThrownBy(() -> g.write(() -> {
                    throw new StoreException("Timeout trying to lock table (call " + n + ")", null);
                })).isInstanceOf(StoreException.class);
            }
            assertThat(g.writeBreaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(log.text()).contains("tollgate-store-write: State transition from CLOSED to OPEN;"
                    + " last store error: Timeout trying to lock table (call 3)");
        }
    }

    @Test
    void failingReadsOpenTheReadBreakerOnlyAndWritesGoOn() {
        StoreGuard g = guard(1, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            assertThatThrownBy(() -> g.read(() -> {
                throw new StoreException("no connection within the timeout", null);
            })).isInstanceOf(StoreException.class);
        }
        assertThat(g.readBreaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThatThrownBy(() -> g.read(() -> calls.incrementAndGet()))
                .isInstanceOf(StoreException.class).hasMessageContaining("read circuit breaker is OPEN");
        assertThat(calls).hasValue(0);
        assertThat(g.write(() -> calls.incrementAndGet())).isEqualTo(1);
        assertThat(g.writeBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void theStoreRefusingDataIsNeitherRetriedNorCountedByABreaker() {
        StoreGuard g = guard(3, Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            assertThatThrownBy(() -> g.write(() -> {
                calls.incrementAndGet();
                throw new PermanentStoreException("numeric value out of range", null);
            })).isInstanceOf(PermanentStoreException.class);
        }
        assertThat(calls).as("not retried").hasValue(10);
        assertThat(g.writeBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.errors()).isZero();
    }

    @Test
    void oneFailureInFourCallsKeepsTheBreakerClosed() {
        StoreGuard g = guard(1, Duration.ofHours(1));
        for (int i = 0; i < 3; i++) {
            g.read(() -> "ok");
        }
        assertThatThrownBy(() -> g.read(() -> {
            throw new StoreException("down", null);
        })).isInstanceOf(StoreException.class);
        assertThat(g.readBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void anOpenBreakerLetsCallsThroughAgainAfterItsWaitAndClosesOnTwoSuccesses() {
        StoreGuard g = guard(1, Duration.ofMillis(200));
        for (int i = 0; i < 4; i++) {
            assertThatThrownBy(() -> g.read(() -> {
                throw new StoreException("down", null);
            })).isInstanceOf(StoreException.class);
        }
        assertThat(g.readBreaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> g.readBreaker().getState() == CircuitBreaker.State.HALF_OPEN);
        assertThat(g.read(() -> 1)).isEqualTo(1);
        assertThat(g.readBreaker().getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(g.read(() -> 2)).isEqualTo(2);
        assertThat(g.readBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
