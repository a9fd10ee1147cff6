package dev.tollgate.bench.load;

import dev.tollgate.bench.load.Server.Db;
import dev.tollgate.bench.load.Server.Kind;
import dev.tollgate.bench.load.Server.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The servlet demo (async) on each store, side by side: H2 file, PostgreSQL, one Redis and the
 * Redis Cluster, selected by {@code TOLLGATE_STORE_URL} alone. Per store: a fresh server, warm-up
 * over 10,000 keys (5 s {@code wrk} steps until the rate stops growing, 15–60 s), then max throughput over 10,000 keys
 * ({@code wrk -t2 -c32}, 10 s) and p99 at 1000 QPS over 10,000 keys (the harness's open-loop
 * generator, 12 s, corrected for coordinated omission). Uses the load harness's pieces
 * ({@link Server}, {@link Wrk}, {@link OpenLoop}) without changing its runs. Prints a Markdown
 * table; a store that does not answer is reported as skipped.
 *
 * <p>Stores: PostgreSQL as the harness ({@code TOLLGATE_BENCH_PG_*}); Redis
 * {@code TOLLGATE_BENCH_REDIS_URL} (default {@code redis://127.0.0.1:6379}) and
 * {@code TOLLGATE_BENCH_REDIS_CLUSTER_URL} (default the six local nodes on 7000–7005), each
 * under a fresh key prefix; {@code -Dbench.only=Redis} runs the stores whose name contains it.
 * Run from the repository root after
 * {@code mvn -B -q package -DskipTests}:
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.tollgate.bench.load.StoreComparison
 * </pre>
 */
public final class StoreComparison {
    private StoreComparison() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of("").toAbsolutePath();
        Path work = Files.createTempDirectory("tollgate-store-comparison");
        Pg pg = Pg.fromEnv();
        boolean pgUp = pg.probe() == null;
        String prefix = "load" + UUID.randomUUID().toString().substring(0, 8);
        String redis = env("TOLLGATE_BENCH_REDIS_URL", "redis://127.0.0.1:6379") + "?prefix=" + prefix;
        String cluster = env("TOLLGATE_BENCH_REDIS_CLUSTER_URL", "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,"
                + "127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005") + "?prefix=" + prefix;
        Map<String, Map<String, String>> stores = new LinkedHashMap<>();
        stores.put("H2 file", Map.of());
        if (pgUp) {
            stores.put("PostgreSQL", Map.of());
        }
        stores.put("Redis", Map.of("TOLLGATE_STORE_URL", redis));
        stores.put("Redis Cluster (3 masters)", Map.of("TOLLGATE_STORE_URL", cluster));
        Set<Server> live = ConcurrentHashMap.newKeySet();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> live.forEach(s -> s.process.destroyForcibly())));
        List<String> rows = new ArrayList<>();
        String only = System.getProperty("bench.only", "");
        for (Map.Entry<String, Map<String, String>> store : stores.entrySet()) {
            String name = store.getKey();
            if (!name.contains(only)) {
                continue;
            }
            Db db = name.equals("PostgreSQL") ? Db.PG : Db.H2;
            if (db == Db.PG) {
                pg.reset();
            }
            Path dir = work.resolve(name.replaceAll("\\W+", "-"));
            System.out.println("== " + name);
            try (Server s = Server.start(root, Kind.SERVLET, Mode.ASYNC, db, pg, store.getValue(),
                    LoadHarness.SERVER_JVM_FLAGS, dir, Duration.ofSeconds(120), live)) {
                Path many = Wrk.script(dir, LoadHarness.MANY_KEYS);
                Path log = dir.resolve("wrk.log");
                // As the harness: 5 s steps until two in a row grow the best rate by less than 10 %
                // (JIT, and the first store read of each subject), 15 to 60 s.
                double best = 0;
                int flat = 0;
                for (int warm = 5; ; warm += 5) {
                    double rps = Wrk.run(s.port, many, LoadHarness.WRK_THREADS, LoadHarness.WRK_CONNECTIONS, 5, log).rps();
                    System.out.printf("   warm-up %2d s: %.0f req/s%n", warm, rps);
                    flat = best > 0 && rps < 1.1 * best ? flat + 1 : 0;
                    best = Math.max(best, rps);
                    if (warm >= 60 || (flat >= 2 && warm >= 15)) {
                        break;
                    }
                }
                Result max = Wrk.run(s.port, many, LoadHarness.WRK_THREADS, LoadHarness.WRK_CONNECTIONS, 10, log);
                Thread.sleep(1_000);
                Map<String, Double> before = s.stats();
                Result fixed = OpenLoop.run(s.port, List.of(new OpenLoop.Phase(12, 1000)), LoadHarness.MANY_KEYS,
                        LoadHarness.OPEN_LOOP_CONNECTIONS, LoadHarness.TIMEOUT_MS, 5).result();
                Thread.sleep(1_500);
                Map<String, Double> after = s.stats();
                StringBuilder delta = new StringBuilder("   engine during 1000 QPS:");
                after.forEach((k, v) -> {
                    double d = v - before.getOrDefault(k, 0.0);
                    if (d != 0 && !k.contains("Capacity")) {
                        delta.append(' ').append(k).append('=').append(String.format("%.0f", d));
                    }
                });
                System.out.println(delta);
                String row = String.format("| %s | %,.0f | %.2f ms | %d |", name, max.rps(), fixed.p99() / 1000.0,
                        max.errors() + fixed.errors() + fixed.timeouts());
                System.out.println(row);
                rows.add(row);
            } catch (Exception e) {
                rows.add("| " + name + " | skipped: " + e.getMessage() + " | | |");
            }
        }
        if (!pgUp) {
            rows.add("| PostgreSQL | skipped: no answer at " + pg.url + " | | |");
        }
        System.out.println();
        System.out.println("| servlet demo, async | max req/s, 10,000 keys | p99 at 1000 QPS, 10,000 keys | errors |");
        System.out.println("|---|---:|---:|---:|");
        rows.forEach(System.out::println);
        dev.tollgate.bench.RedisCleanup.delete(redis);
        dev.tollgate.bench.RedisCleanup.delete(cluster);
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }
}
