package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import dev.tollgate.core.testing.ForwardingStore;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.OnEachDatabase;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A batcher that dies of an {@link Error} out of the store's driver is replaced; what it held
 * (the batch it was sending, whose outcome is unknown, and the rest) is written once.
 */
class BatcherReplacedTest extends OnEachDatabase {

    /** Throws an Error from the first {@code n} batcher writes, after applying the first one. */
    static final class DyingStore extends ForwardingStore {
        final AtomicInteger errorsLeft;

        DyingStore(UsageStore delegate, int n) {
            super(delegate);
            this.errorsLeft = new AtomicInteger(n);
        }

        @Override
        public Applied apply(WriteBatch batch) {
            if (Thread.currentThread().getName().startsWith("tollgate-batcher")
                    && errorsLeft.getAndDecrement() > 0) {
                // Applied, then the driver fails: the outcome looks unknown to the engine.
                super.apply(batch);
                throw new StackOverflowError("driver bug");
            }
            return super.apply(batch);
        }
    }

    @Test
    void aBatcherKilledByAnErrorIsReplacedAndNothingIsLostOrCountedTwice() {
        DyingStore store = new DyingStore(store(), 2);
        Tollgate t = Tollgate.builder(config().workers(1).build()).store(store).build();
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 100; i++) {
                t.consume("s-" + (i % 10), "requests", 1);
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> store.errorsLeft.get() <= 0);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(t::flush);
            assertThat(db.storedTotal("requests", "DAY")).isEqualTo(100);
            Stats s = t.stats();
            assertThat(s.batchersReplaced()).isEqualTo(2);
            assertThat(s.dropped()).isZero();
            assertThat(log.text()).contains("Tollgate batcher 0 died; what it held is kept, and a new batcher takes"
                    + " its place").contains("StackOverflowError: driver bug");

            // The replacement goes on batching.
            t.consume("s-0", "requests", 5);
            assertThat(t.flush()).isTrue();
            assertThat(db.storedTotal("s-0", "requests", "DAY")).isEqualTo(15);
        } finally {
            t.close();
        }
    }
}
