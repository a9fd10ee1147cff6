package dev.tollgate.core.testing;

import dev.tollgate.core.Tollgate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The exact-totals load any store must pass: producer threads consume one {@code requests} unit
 * at a time, half on one hot subject ({@code hot}) and half spread over {@code cold-0} …
 * {@code cold-(coldSubjects - 1)}. Every second cold subject is warmed by a check first (resolved
 * at consume time), the others are not (resolved by the batcher), so both paths are exercised.
 */
public final class ProducerLoad {
    private ProducerLoad() {
    }

    /** Runs the load to completion (at most five minutes per thread); the caller flushes and compares. */
    public static void run(Tollgate t, int threads, int perThread, int coldSubjects) throws Exception {
        for (int s = 0; s < coldSubjects; s += 2) {
            t.check("cold-" + s, "requests", 1);
        }
        t.check("hot", "requests", 1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int id = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int n = 0; n < perThread; n++) {
                        if ((n & 1) == 0) {
                            t.consume("hot", "requests", 1);
                        } else {
                            t.consume("cold-" + ((id * perThread + n) / 2 % coldSubjects), "requests", 1);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
