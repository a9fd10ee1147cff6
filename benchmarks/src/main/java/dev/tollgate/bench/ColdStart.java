package dev.tollgate.bench;

import dev.tollgate.core.Reservation;
import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.ConfigKeys;
import dev.tollgate.core.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The first request of many new subjects, through the engine alone: {@code threads} request
 * threads admit ({@link Tollgate#reserve} then {@link Reservation#settle}) each of
 * {@code subjects} subjects never seen before (a fresh name prefix per run) once, then the same
 * subjects again {@code passes} times. A first admission reads the subject's policy and waits
 * for a grant; later ones decide from the allotment. Printed: admissions per second of the
 * cold pass and of the best warm pass, their ratio, the store calls the cold pass made (policy
 * reads, grant calls and counters per grant call). A plain main class: the figure is a rate
 * over a one-off pass, not the steady cost of one call.
 *
 * <p>Options as system properties: {@code -Dbench.subjects=10000}, {@code -Dbench.threads=32},
 * {@code -Dbench.passes=3}, {@code -Dbench.store=h2|pg} (embedded H2 in a temporary file, or
 * PostgreSQL at {@code TOLLGATE_BENCH_PG_URL}, user {@code TOLLGATE_BENCH_PG_USER}, password
 * {@code TOLLGATE_BENCH_PG_PASSWORD}, as {@link FlushThroughput}); any {@code -Dtollgate.*}
 * key overrides the engine's configuration.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -Dbench.store=pg -cp benchmarks/target/benchmarks.jar dev.tollgate.bench.ColdStart
 * </pre>
 */
public final class ColdStart {
    private ColdStart() {
    }

    /** Runs the measurement as the class documentation says; {@code args} are ignored. */
    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.subjects", 10_000);
        int threads = Integer.getInteger("bench.threads", 32);
        int passes = Integer.getInteger("bench.passes", 3);
        String store = System.getProperty("bench.store", "h2");

        Map<String, String> base = new LinkedHashMap<>();
        Path dir = null;
        if (store.equals("pg")) {
            String url = FlushThroughput.env("TOLLGATE_BENCH_PG_URL", FlushThroughput.DEFAULT_URL);
            String user = FlushThroughput.env("TOLLGATE_BENCH_PG_USER", "postgres");
            String password = FlushThroughput.env("TOLLGATE_BENCH_PG_PASSWORD", "");
            FlushThroughput.ensureDatabase(url, user, password);
            base.put(ConfigKeys.STORE_URL, url);
            base.put(ConfigKeys.STORE_USER, user);
            base.put(ConfigKeys.STORE_PASSWORD, password);
        } else if (store.equals("h2")) {
            dir = Files.createTempDirectory("tollgate-cold-start");
            base.put(ConfigKeys.STORE_URL, "jdbc:h2:file:" + dir.resolve("usage"));
        } else {
            throw new IllegalArgumentException("bench.store must be h2 or pg, was " + store);
        }
        base.put(ConfigKeys.DEFAULT_PLAN, BenchEngines.PLAN);
        base.put(ConfigKeys.PLANS_PREFIX + BenchEngines.PLAN + "." + BenchEngines.QUOTA, BenchEngines.HUGE_LIMIT);
        base.put(ConfigKeys.METRICS_ENABLED, "false");
        TollgateConfig config = TollgateConfig.from(Settings.of(base).overriddenBy(Settings.of(System.getProperties())));
        String[] subjects = BenchEngines.subjects("cold-" + UUID.randomUUID().toString().substring(0, 8), n);
        System.out.printf("ColdStart: %,d new subjects, %d threads, %d warm passes, store %s%n", n, threads, passes,
                store);

        try (Tollgate tollgate = Tollgate.builder(config).build()) {
            Stats s0 = tollgate.stats();
            double cold = pass(tollgate, subjects, threads);
            Stats s1 = tollgate.stats();
            double warm = 0;
            for (int p = 0; p < passes; p++) {
                warm = Math.max(warm, pass(tollgate, subjects, threads));
            }
            long calls = s1.grantCalls() - s0.grantCalls();
            long counters = s1.grantRequests() - s0.grantRequests();
            System.out.printf("SUMMARY cold %,.0f admissions/s, warm %,.0f admissions/s, cold/warm %.3f;"
                            + " cold pass: %,d policy reads, %,d grant calls, %.1f counters per call, %,d waits%n",
                    cold, warm, cold / warm, s1.policyReads() - s0.policyReads(), calls,
                    calls == 0 ? 0.0 : (double) counters / calls, s1.grantWaits() - s0.grantWaits());
        } finally {
            if (dir != null) {
                try (var files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** Admits every subject once from {@code threads} threads; returns admissions per second. */
    private static double pass(Tollgate tollgate, String[] subjects, int threads) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger denied = new AtomicInteger();
        List<Thread> workers = new ArrayList<>(threads);
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                for (int i; (i = next.getAndIncrement()) < subjects.length; ) {
                    Reservation r = tollgate.reserve(subjects[i], BenchEngines.QUOTA, 1);
                    if (r.decision().allowed()) {
                        r.settle(1);
                    } else {
                        denied.incrementAndGet();
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        long nanos = System.nanoTime() - t0;
        if (denied.get() > 0) {
            System.out.printf("  %,d of %,d admissions denied (store errors: see the log)%n", denied.get(),
                    subjects.length);
        }
        return subjects.length * 1e9 / nanos;
    }
}
