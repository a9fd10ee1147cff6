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
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resilience4j around every store call: two circuit breakers, one for the reads and grants of
 * the request path and one for the writes, so that a flood of reads (first contacts, plan
 * reads) that exhausts the pool opens only the read breaker and flushes go on; and a retry for
 * writes only (a read on the request path fails fast instead). A {@link PermanentStoreException}
 * (the store refused the data) is neither retried nor counted by a breaker. Thread-safe.
 */
final class StoreGuard {
    private static final Logger LOG = LoggerFactory.getLogger(StoreGuard.class);

    private final CircuitBreaker readBreaker;
    private final CircuitBreaker writeBreaker;
    private final Retry retry;
    private final LongAdder errors = new LongAdder();

    StoreGuard(TollgateConfig config) {
        this.readBreaker = breaker("tollgate-store-read", config);
        this.writeBreaker = breaker("tollgate-store-write", config);
        this.retry = Retry.of("tollgate-store", RetryConfig.custom()
                .maxAttempts(config.retryMaxAttempts())
                .intervalFunction(IntervalFunction.of(Math.max(1, config.retryWait().toMillis())))
                .retryOnException(e -> e instanceof StoreException && !(e instanceof PermanentStoreException))
                .failAfterMaxAttempts(false)
                .build());
    }

    private CircuitBreaker breaker(String name, TollgateConfig config) {
        CircuitBreaker b = CircuitBreaker.of(name, CircuitBreakerConfig.custom()
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
        // The error that tipped the breaker is logged with the transition: store errors alone
        // are logged at debug (one per failed call would flood the log during an outage).
        AtomicReference<String> lastError = new AtomicReference<>("none recorded");
        b.getEventPublisher().onError(e -> {
            errors.increment();
            lastError.set(String.valueOf(e.getThrowable().getMessage()));
        });
        b.getEventPublisher().onStateTransition(e -> {
            if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                LOG.warn("Tollgate store circuit breaker {}: {}; last store error: {}", name, e.getStateTransition(),
                        lastError.get());
            } else {
                LOG.warn("Tollgate store circuit breaker {}: {}", name, e.getStateTransition());
            }
        });
        return b;
    }

    /** A read (or a grant) on the request path: no retry, fails fast while the read breaker is open. */
    <T> T read(Supplier<T> call) {
        try {
            return readBreaker.executeSupplier(call);
        } catch (CallNotPermittedException e) {
            throw new StoreException("Store read circuit breaker is " + readBreaker.getState()
                    + "; not calling the store", e);
        }
    }

    /** A write, retried; fails fast while the write breaker is open. */
    <T> T write(Supplier<T> call) {
        try {
            return Retry.decorateSupplier(retry, CircuitBreaker.decorateSupplier(writeBreaker, call)).get();
        } catch (CallNotPermittedException e) {
            throw new StoreException("Store write circuit breaker is " + writeBreaker.getState()
                    + "; not calling the store", e);
        }
    }

    /** A probe through the write breaker, not retried (closes it when half-open and nothing writes). */
    <T> T probeWrite(Supplier<T> call) {
        try {
            return writeBreaker.executeSupplier(call);
        } catch (CallNotPermittedException e) {
            throw new StoreException("Store write circuit breaker is " + writeBreaker.getState()
                    + "; not calling the store", e);
        }
    }

    CircuitBreaker readBreaker() {
        return readBreaker;
    }

    CircuitBreaker writeBreaker() {
        return writeBreaker;
    }

    /** Store calls that failed (each attempt), since start. */
    long errors() {
        return errors.sum();
    }
}
