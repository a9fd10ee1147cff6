package dev.tollgate.bench;

import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** What the JMH benchmarks share: an engine on embedded in-memory H2 with one huge limit. */
final class BenchEngines {
    static final String PLAN = "bench";
    static final String QUOTA = "requests";
    /** So large that no benchmark is ever denied: every call takes the allowed path. */
    static final String HUGE_LIMIT = "1000000000000000/day";

    /**
     * Values of the benchmarks' {@code executor} parameter: what runs the engine caches'
     * maintenance and background refresh loads ({@link Tollgate.Builder#executor}).
     * <ul>
     *   <li>{@code default}: the engine's default, {@code ForkJoinPool.commonPool()}. With 2 CPUs
     *       its parallelism is 1, and {@code CompletableFuture} then runs each async task (each
     *       Caffeine refresh) on a new thread.
     *   <li>{@code pool}: a dedicated pool of 2 daemon threads for both.
     *   <li>{@code split}: Caffeine's maintenance tasks on the calling thread (as with
     *       Caffeine's {@code Runnable::run}), every store re-read on the 2-thread pool.
     * </ul>
     */
    static final String EXECUTORS = "default,pool,split";

    private static final String CAFFEINE_PACKAGE = "com.github.benmanes.caffeine.cache.";

    private BenchEngines() {
    }

    /**
     * A config on the named in-memory H2 database (kept until the JVM exits), with
     * {@value #PLAN} as the default plan and {@value #QUOTA} limited to {@value #HUGE_LIMIT}.
     */
    static TollgateConfig.Builder h2(String database) {
        return TollgateConfig.custom()
                .storeUrl("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1")
                .defaultPlan(PLAN)
                .limit(PLAN, QUOTA, HUGE_LIMIT)
                .metricsEnabled(false)
                .flushInterval(Duration.ofMillis(100));
    }

    /** An engine with its cache executor chosen by name (see {@link #EXECUTORS}), closed together. */
    static final class Engine implements AutoCloseable {
        final Tollgate tollgate;
        private final ExecutorService pool;

        Engine(TollgateConfig config, String executor) {
            Tollgate.Builder b = Tollgate.builder(config);
            switch (executor) {
                case "default" -> pool = null;
                case "pool" -> {
                    pool = newPool();
                    b.executor(pool);
                }
                case "split" -> {
                    pool = newPool();
                    // Caffeine's own tasks are buffer maintenance, cheap enough to run inline;
                    // everything else (Caffeine's refreshes are CompletableFuture tasks, the
                    // usage view submits its re-reads itself) reads the store.
                    b.executor(task -> {
                        if (task.getClass().getName().startsWith(CAFFEINE_PACKAGE)) {
                            task.run();
                        } else {
                            pool.execute(task);
                        }
                    });
                }
                default -> throw new IllegalArgumentException(
                        "executor must be one of " + EXECUTORS + ", was '" + executor + "'");
            }
            tollgate = b.build();
        }

        private static ExecutorService newPool() {
            AtomicInteger n = new AtomicInteger();
            return Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "bench-cache-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        public void close() {
            tollgate.close();
            if (pool != null) {
                pool.shutdownNow();
                try {
                    pool.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Subject names {@code <prefix>-0 … <prefix>-(n-1)}. */
    static String[] subjects(String prefix, int n) {
        String[] s = new String[n];
        for (int i = 0; i < n; i++) {
            s[i] = prefix + "-" + i;
        }
        return s;
    }

    /**
     * Loads each subject's policy and usage into the engine's caches, as a first request
     * does; without it, {@code consume} queues unresolved records and {@code check} reads
     * the store.
     */
    static void warm(Tollgate tollgate, String... subjects) {
        for (String s : subjects) {
            if (!tollgate.check(s, QUOTA, 1).allowed()) {
                throw new IllegalStateException("warm-up check denied for " + s);
            }
        }
    }

    /** One line with the counters that tell whether the channel kept up. */
    static String describe(Stats s) {
        return String.format("records=%,d processed=%,d syncFallbacks=%,d batches=%,d upserts=%,d"
                        + " unitsWritten=%,d queueDepth=%,d/%,d deferred=%,d failed=%,d",
                s.total(), s.processed(), s.syncFallbacks(), s.batches(), s.upserts(), s.unitsWritten(),
                s.queueDepth(), s.queueCapacity(), s.deferred(), s.failed());
    }
}
