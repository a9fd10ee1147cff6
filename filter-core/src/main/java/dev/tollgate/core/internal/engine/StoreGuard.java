package dev.tollgate.core.internal.engine;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.PermanentStoreException;
import dev.tollgate.core.spi.StoreException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resilience4j around every store call: one circuit breaker shared by reads and writes (the
 * store's health is one thing), and a retry for writes only (a read on the request path
 * fails fast instead). A {@link PermanentStoreException} (the store refused the data) is
 * neither retried nor counted by the breaker. Thread-safe.
 */
final class StoreGuard {
    private static final Logger LOG = LoggerFactory.getLogger(StoreGuard.class);

    private final CircuitBreaker breaker;
    private final Retry retry;
    private final LongAdder errors = new LongAdder();

    StoreGuard(TollgateConfig config) {
        this.breaker = CircuitBreaker.of("tollgate-store", CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(10)
                .minimumNumberOfCalls(4)
                .failureRateThreshold(50)
                .waitDurationInOpenState(config.breakerWaitInOpen())
                // Leave OPEN on time, not on the next call: flushes skip the store while it is OPEN.
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .permittedNumberOfCallsInHalfOpenState(2)
                // The store refusing a batch's data says nothing about its health.
                .recordException(e -> e instanceof StoreException && !(e instanceof PermanentStoreException))
                .build());
        this.retry = Retry.of("tollgate-store", RetryConfig.custom()
                .maxAttempts(config.retryMaxAttempts())
                .intervalFunction(IntervalFunction.of(Math.max(1, config.retryWait().toMillis())))
                .retryOnException(e -> e instanceof StoreException && !(e instanceof PermanentStoreException))
                .failAfterMaxAttempts(false)
                .build());
        breaker.getEventPublisher().onStateTransition(e ->
                LOG.warn("Tollgate store circuit breaker: {}", e.getStateTransition()));
        breaker.getEventPublisher().onError(e -> errors.increment());
    }

    /** A read on the request path: no retry, fails fast while the breaker is open. */
    <T> T read(Supplier<T> call) {
        try {
            return breaker.executeSupplier(call);
        } catch (CallNotPermittedException e) {
            throw new StoreException("Store circuit breaker is " + breaker.getState() + "; not calling the store", e);
        }
    }

    /** A write, retried; fails fast while the breaker is open. */
    <T> T write(Supplier<T> call) {
        try {
            return Retry.decorateSupplier(retry, CircuitBreaker.decorateSupplier(breaker, call)).get();
        } catch (CallNotPermittedException e) {
            throw new StoreException("Store circuit breaker is " + breaker.getState() + "; not calling the store", e);
        }
    }

    CircuitBreaker breaker() {
        return breaker;
    }

    /** Store calls that failed (each attempt), since start. */
    long errors() {
        return errors.sum();
    }
}
