package dev.tollgate.bench;

import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.GrantBatch;
import dev.tollgate.core.spi.GrantRequest;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.UsageStoreProvider;
import dev.tollgate.core.spi.WriteBatch;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The store's capacity, through the store SPI alone (no engine in the way): how many counter
 * writes per second ({@code UsageStore.apply}) and counter grants per second
 * ({@code UsageStore.grant}) one PostgreSQL, one Redis and a Redis Cluster sustain on this
 * machine. {@code writers} threads stand for nodes: each flushes batches of {@code batch}
 * deltas (one per counter, as a flush does) over its own {@code counters} counters, then grants
 * in batches of 200 counters (as the engine's renewals do). The operator's write-load model in
 * {@code docs/ARCHITECTURE.md} compares its load with these figures. One line per store and
 * phase: {@code STORE <name> <phase> <per second> per second (<n> in <s> s)}.
 *
 * <p>Stores, each skipped with a message when it does not answer: PostgreSQL
 * ({@code TOLLGATE_BENCH_PG_URL}, default {@code jdbc:postgresql://127.0.0.1:5432/tollgate_bench};
 * {@code TOLLGATE_BENCH_PG_USER} / {@code _PASSWORD}, default {@code tollgate} / {@code tollgate};
 * in a schema {@code tollgate_storebench} dropped afterwards), Redis
 * ({@code TOLLGATE_BENCH_REDIS_URL}, default {@code redis://127.0.0.1:6379}) and the Redis
 * Cluster ({@code TOLLGATE_BENCH_REDIS_CLUSTER_URL}, default the six nodes on 7000–7005 that
 * {@code .ci/run} starts), under a key prefix of their own, deleted afterwards.
 *
 * <p>Options as system properties: {@code -Dbench.seconds=10} (per phase),
 * {@code -Dbench.writers=4}, {@code -Dbench.counters=10000}, {@code -Dbench.batch=2000},
 * {@code -Dbench.only=redis} (stores whose name contains it). Run from the repository root:
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -cp benchmarks/target/benchmarks.jar dev.tollgate.bench.StoreWriteThroughput
 * </pre>
 */
public final class StoreWriteThroughput {
    private static final Instant DAY = Instant.parse("2026-11-29T00:00:00Z");

    private StoreWriteThroughput() {
    }

    /** Runs every store that answers, as the class documentation says; {@code args} are ignored. */
    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 10);
        int writers = Integer.getInteger("bench.writers", 4);
        int counters = Integer.getInteger("bench.counters", 10_000);
        int batch = Integer.getInteger("bench.batch", 2_000);
        String only = System.getProperty("bench.only", "");
        String pg = env("TOLLGATE_BENCH_PG_URL", "jdbc:postgresql://127.0.0.1:5432/tollgate_bench");
        String pgUser = env("TOLLGATE_BENCH_PG_USER", "tollgate");
        String pgPassword = env("TOLLGATE_BENCH_PG_PASSWORD", "tollgate");
        String prefix = "bench" + UUID.randomUUID().toString().substring(0, 8);
        String[][] stores = {
            {"postgresql", pg + (pg.contains("?") ? "&" : "?") + "currentSchema=tollgate_storebench"},
            {"redis", env("TOLLGATE_BENCH_REDIS_URL", "redis://127.0.0.1:6379") + "?prefix=" + prefix},
            {"redis-cluster", env("TOLLGATE_BENCH_REDIS_CLUSTER_URL", "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,"
                    + "127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005") + "?prefix=" + prefix},
        };
        System.out.printf("writers %d, counters %d per writer, batch %d, %d s per phase%n", writers, counters, batch,
                seconds);
        for (String[] s : stores) {
            if (!s[0].contains(only)) {
                continue;
            }
            boolean postgres = s[0].equals("postgresql");
            TollgateConfig config = TollgateConfig.custom().storeUrl(s[1])
                    .storeUser(postgres ? pgUser : "").storePassword(postgres ? pgPassword : "").poolSize(writers).queryTimeout(Duration.ofSeconds(30)).metricsEnabled(false).build();
            UsageStore store;
            try {
                if (s[0].equals("postgresql")) {
                    schema(pg, pgUser, pgPassword, "CREATE SCHEMA IF NOT EXISTS tollgate_storebench");
                    store = JdbiUsageStore.open(config, null);
                } else {
                    store = UsageStoreProvider.find(s[1]).orElseThrow().open(config);
                }
            } catch (RuntimeException e) {
                System.out.println("SKIPPED " + s[0] + ": " + e.getMessage());
                continue;
            }
            try (store) {
                run(s[0], store, seconds, writers, counters, batch);
            } finally {
                if (s[0].equals("postgresql")) {
                    schema(pg, pgUser, pgPassword, "DROP SCHEMA IF EXISTS tollgate_storebench CASCADE");
                } else {
                    RedisCleanup.delete(s[1]);
                }
            }
        }
    }

    private static void run(String name, UsageStore store, int seconds, int writers, int counters, int batch)
            throws InterruptedException {
        phase(name, "writes", seconds, writers, (w, round) -> {
            List<UsageDelta> deltas = new ArrayList<>(batch);
            int from = (int) ((round * batch) % counters);
            for (int i = 0; i < batch; i++) {
                deltas.add(new UsageDelta(key(w, (from + i) % counters), 1));
            }
            deltas.sort((a, b) -> a.key().compareTo(b.key()));
            store.apply(new WriteBatch(UUID.randomUUID().toString(), "node-" + w, Instant.now(),
                    Duration.ofSeconds(30), deltas));
            return batch;
        });
        phase(name, "grants", seconds, writers, (w, round) -> {
            List<GrantRequest> requests = new ArrayList<>(200);
            int from = (int) ((round * 200) % counters);
            for (int i = 0; i < 200; i++) {
                requests.add(new GrantRequest(UUID.randomUUID().toString(), key(w, (from + i) % counters),
                        Long.MAX_VALUE / 4, 10, 1, 0));
            }
            requests.sort((a, b) -> a.key().compareTo(b.key()));
            store.grant(new GrantBatch("node-" + w, Duration.ofSeconds(30), requests));
            return 200;
        });
    }

    /** One unit of work of writer {@code w} in round {@code round}; returns how many counters it touched. */
    private interface Work {
        int run(int w, long round);
    }

    private static void phase(String name, String what, int seconds, int writers, Work work)
            throws InterruptedException {
        LongAdder done = new LongAdder();
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int id = w;
            Thread t = new Thread(() -> {
                for (long round = 0; running.get(); round++) {
                    int n = work.run(id, round);
                    if (measuring.get()) {
                        done.add(n);
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        Thread.sleep(2_000); // warm-up: connections, scripts, JIT
        measuring.set(true);
        long start = System.nanoTime();
        Thread.sleep(seconds * 1_000L);
        measuring.set(false);
        double elapsed = (System.nanoTime() - start) / 1e9;
        running.set(false);
        for (Thread t : threads) {
            t.join();
        }
        System.out.printf("STORE %-13s %-6s %,10.0f per second (%,d in %.1f s)%n", name, what, done.sum() / elapsed,
                done.sum(), elapsed);
    }

    private static UsageKey key(int writer, int counter) {
        return new UsageKey("w" + writer + "-s" + counter, "requests", Period.DAY, DAY.toEpochMilli());
    }

    private static void schema(String url, String user, String password, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }
}
