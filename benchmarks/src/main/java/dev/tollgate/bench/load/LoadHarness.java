package dev.tollgate.bench.load;

import dev.tollgate.bench.load.Model.Config;
import dev.tollgate.bench.load.Model.Row;
import dev.tollgate.bench.load.Model.Run;
import dev.tollgate.bench.load.Server.Db;
import dev.tollgate.bench.load.Server.Kind;
import dev.tollgate.bench.load.Server.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * End-to-end load harness: starts the servlet demo and the gateway demo in each mode (no filter,
 * sync, async) against H2 and PostgreSQL, drives them with {@code wrk} (closed loop, maximum
 * throughput) and {@link OpenLoop} (fixed rates, corrected for coordinated omission), collects
 * the engine's counters, PostgreSQL's row statistics, heap after GC and the machine's CPU load,
 * and writes {@code benchmarks/results/<yyyy-MM-dd-HHmm>-<quick|full>/REPORT.md} with PNG charts.
 *
 * <p>Run from the repository root with the demo jars and {@code benchmarks/target/benchmarks.jar}
 * built ({@code benchmarks/run.sh} does that):
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.tollgate.bench.load.LoadHarness --quick   # about 90 s
 * java -cp benchmarks/target/benchmarks.jar dev.tollgate.bench.load.LoadHarness --full    # about 15 min
 * </pre>
 * Options: {@code --sweep} (full mode: also the engine-settings sweep, {@link #SWEEP}, on the
 * servlet demo, async, on PostgreSQL and H2), {@code --only=<text>} (only configurations whose name contains it),
 * {@code --jfr} (servers record a JFR file into the results' {@code raw/} folder),
 * {@code --out=<dir>}. PostgreSQL: {@code TOLLGATE_BENCH_PG_URL}, {@code _USER}, {@code _PASSWORD}.
 *
 * <p>Exit status 0 when the harness ran (targets missed or not), 1 when it could not run.
 */
public final class LoadHarness {
    /** JVM flags of every server under test. */
    static final List<String> SERVER_JVM_FLAGS = List.of("-Xms256m", "-Xmx256m", "-XX:+UseG1GC", "-Djava.awt.headless=true");
    static final int MANY_KEYS = 10_000;
    static final int WRK_THREADS = 2;
    static final int WRK_CONNECTIONS = 32;
    static final int OPEN_LOOP_CONNECTIONS = 100;
    static final int TIMEOUT_MS = 2000;

    /** Durations of one plan, seconds. */
    record Plan(String name, int warmup, int max, int maxLong, double fixed100, double fixed1000,
                double burstLow, double burstHigh, double burstAfter, int sweepMax, int slackSeconds, int settleMs,
                int warmupMax) {
        static final Plan QUICK = new Plan("quick", 1, 1, 1, 1, 1, 0.5, 1, 0.5, 0, 1, 400, 1);
        static final Plan FULL = new Plan("full", 15, 10, 60, 8, 12, 5, 10, 5, 10, 5, 1500, 60);
    }

    private static final AtomicReference<Server> CURRENT = new AtomicReference<>();
    /** Every server process started and not yet stopped; the shutdown hook kills them. */
    private static final java.util.Set<Server> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A server started ahead of its turn, and how long its start took. */
    private record Started(Server server, double seconds) {
    }

    /** Quick mode: H2 servers started in the background while earlier configurations run. */
    private final Map<Config, java.util.concurrent.CompletableFuture<Started>> prestarted = new LinkedHashMap<>();

    private final Plan plan;
    private final Path root;
    private final Path out;
    private final Path raw;
    private final Pg pg;
    private final boolean jfr;
    /** Demo jars of an earlier revision to run next to this build's ({@code --baseline}), or null. */
    private final Path baseline;
    private final List<String> notes = new ArrayList<>();

    private LoadHarness(Plan plan, Path root, Path out, Pg pg, boolean jfr, Path baseline) {
        this.baseline = baseline;
        this.plan = plan;
        this.root = root;
        this.out = out;
        this.raw = out.resolve("raw");
        this.pg = pg;
        this.jfr = jfr;
    }

    public static void main(String[] args) throws Exception {
        Plan plan = Plan.QUICK;
        boolean sweep = false;
        boolean jfr = false;
        String only = null;
        Path outArg = null;
        Path baseline = null;
        for (String a : args) {
            if (a.equals("--quick")) {
                plan = Plan.QUICK;
            } else if (a.equals("--full")) {
                plan = Plan.FULL;
            } else if (a.equals("--sweep")) {
                sweep = true;
            } else if (a.equals("--jfr")) {
                jfr = true;
            } else if (a.startsWith("--only=")) {
                only = a.substring("--only=".length());
            } else if (a.startsWith("--out=")) {
                outArg = Path.of(a.substring("--out=".length()));
            } else if (a.startsWith("--baseline=")) {
                baseline = Path.of(a.substring("--baseline=".length())).toAbsolutePath();
            } else {
                System.err.println("Unknown option '" + a + "'; expected --quick, --full, --sweep, --jfr, --only=<text>, --out=<dir>,"
                        + " --baseline=<dir>");
                System.exit(1);
            }
        }
        Path root = Path.of("").toAbsolutePath();
        for (Kind k : Kind.values()) {
            if (!Files.isRegularFile(root.resolve(k.jar))) {
                System.err.println("Missing " + k.jar + " (run from the repository root after mvn -B -q package -DskipTests)");
                System.exit(1);
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmm"));
        Path out = outArg != null ? outArg : root.resolve("benchmarks/results/" + stamp + "-" + plan.name());
        Files.createDirectories(out.resolve("raw"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Server s : LIVE) {
                s.process.destroyForcibly();
            }
        }, "load-harness-cleanup"));

        LoadHarness h = new LoadHarness(plan, root, out, Pg.fromEnv(), jfr, baseline);
        h.execute(sweep && plan == Plan.FULL, only);
    }

    private void execute(boolean sweep, String only) throws Exception {
        long t0 = System.nanoTime();
        String pgProblem = pg.probe();
        boolean pgUp = pgProblem == null;
        if (!pgUp) {
            notes.add("PostgreSQL at " + pg.url + " did not answer (" + pgProblem + "): PostgreSQL configurations skipped.");
        }
        String redisProblem = Redis.ensureRunning();
        boolean redisUp = redisProblem == null;
        if (!redisUp) {
            notes.add("Redis did not answer (" + redisProblem + "): the RedisRateLimiter peer was skipped.");
        }
        List<Config> configs = configs(pgUp, redisUp);
        configs.addAll(baselineConfigs(pgUp));
        if (sweep) {
            configs.addAll(sweepConfigs(pgUp));
        }
        if (only != null) {
            configs.removeIf(c -> !c.name().contains(only));
        }
        if (plan == Plan.QUICK) {
            // The gateway takes longest to start: start it now, while the servlet runs (quick
            // figures are a smoke test, not measurements).
            for (Config c : configs) {
                if (c.kind() == Kind.GATEWAY && c.db() == Db.H2) {
                    Path work = raw.resolve(c.shortName());
                    prestarted.put(c, java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return start(c, work);
                        } catch (IOException | InterruptedException e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    }));
                }
            }
            notes.add("Quick mode: a smoke test. The gateway server was started while the servlet scenarios ran.");
        }
        List<Run> runs = new ArrayList<>();
        for (Config c : configs) {
            log("== " + c.name());
            Run r = runConfig(c);
            runs.add(r);
            if (r.error() != null) {
                log("   FAILED: " + r.error());
            }
        }
        double minutes = (System.nanoTime() - t0) / 60e9;
        Report report = new Report(plan, out, runs, notes, pgUp ? pg.version() : "PostgreSQL unreachable", minutes);
        String summary = report.write();
        System.out.println();
        System.out.println(summary);
        System.out.println("Report: " + out.resolve("REPORT.md"));
        for (var f : prestarted.values()) {
            f.thenAccept(st -> st.server().close());
        }
        long failed = runs.stream().filter(r -> r.error() != null).count();
        if (failed == runs.size() && !runs.isEmpty()) {
            System.err.println("Every server run failed; see " + raw);
            System.exit(1);
        }
    }

    private List<Config> configs(boolean pgUp, boolean redisUp) {
        List<Config> list = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (plan == Plan.QUICK) {
                // Fewest restarts that still run every scenario, both demos, both stores and all modes.
                if (k == Kind.SERVLET) {
                    list.add(new Config(k, Mode.NONE, Db.H2, Map.of(), null));
                    list.add(new Config(k, Mode.ASYNC, pgUp ? Db.PG : Db.H2, Map.of(), null));
                    list.add(new Config(k, Mode.SYNC, pgUp ? Db.PG : Db.H2, Map.of(), null));
                } else {
                    list.add(new Config(k, Mode.ASYNC, Db.H2, Map.of(), null));
                    if (redisUp) {
                        list.add(new Config(k, Mode.PEER, Db.REDIS, Map.of(), null));
                    }
                }
                continue;
            }
            list.add(new Config(k, Mode.NONE, Db.H2, Map.of(), null));
            if (k == Kind.GATEWAY && redisUp) {
                list.add(new Config(k, Mode.PEER, Db.REDIS, Map.of(), null));
            }
            for (Db db : new Db[] {Db.H2, Db.PG}) {
                if (db == Db.PG && !pgUp) {
                    continue;
                }
                list.add(new Config(k, Mode.ASYNC, db, Map.of(), null));
                list.add(new Config(k, Mode.SYNC, db, Map.of(), null));
            }
        }
        return list;
    }

    /**
     * Engine settings tried on the servlet demo, async, at maximum throughput over 10,000
     * subjects and at 1000 QPS: the defaults as the sweep's own baseline, one setting changed
     * at a time, and the two seed-style profiles (README, "Profiles").
     */
    static final String[][] SWEEP = {
            {"defaults"},
            {"w1", "TOLLGATE_ASYNC_WORKERS", "1"},
            {"w4", "TOLLGATE_ASYNC_WORKERS", "4"},
            {"bs500", "TOLLGATE_ASYNC_BATCH_SIZE", "500"},
            {"bs2000", "TOLLGATE_ASYNC_BATCH_SIZE", "2000"},
            {"fi250ms", "TOLLGATE_ASYNC_FLUSH_INTERVAL", "250ms"},
            {"fi2s", "TOLLGATE_ASYNC_FLUSH_INTERVAL", "2s"},
            {"cap4096", "TOLLGATE_ASYNC_CHANNEL_CAPACITY", "4096"},
            {"high-concurrency", "TOLLGATE_ASYNC_WORKERS", "2", "TOLLGATE_ASYNC_BATCH_SIZE", "10000",
                    "TOLLGATE_ASYNC_FLUSH_INTERVAL", "2s", "TOLLGATE_ASYNC_CHANNEL_CAPACITY", "262144"},
            {"low-latency", "TOLLGATE_ASYNC_WORKERS", "2", "TOLLGATE_ASYNC_BATCH_SIZE", "500",
                    "TOLLGATE_ASYNC_FLUSH_INTERVAL", "250ms", "TOLLGATE_ASYNC_CHANNEL_CAPACITY", "65536"},
    };

    /** Where {@code benchmarks/baseline.sh} puts a demo's jar, by demo. */
    static String baselineJar(Kind k) {
        return k == Kind.SERVLET ? "servlet-demo.jar" : "gateway-demo.jar";
    }

    /**
     * The asynchronous configurations of each demo whose baseline jar is there, on H2 and
     * PostgreSQL (when it answers), named after the baseline's revision.
     */
    private List<Config> baselineConfigs(boolean pgUp) throws IOException {
        List<Config> list = new ArrayList<>();
        if (baseline == null) {
            return list;
        }
        Path revFile = baseline.resolve("REVISION");
        String rev = Files.isRegularFile(revFile) ? Files.readString(revFile).strip() : baseline.getFileName().toString();
        for (Kind k : Kind.values()) {
            Path jar = baseline.resolve(baselineJar(k));
            if (!Files.isRegularFile(jar)) {
                notes.add("No baseline jar " + jar + ": the " + k.label + " baseline was skipped.");
                continue;
            }
            for (Db db : new Db[] {Db.H2, Db.PG}) {
                if (db != Db.PG || pgUp) {
                    list.add(new Config(k, Mode.ASYNC, db, Map.of(), "baseline " + rev, jar));
                }
            }
        }
        return list;
    }

    /** Every {@link #SWEEP} variant on PostgreSQL (when it answers) and on H2. */
    private static List<Config> sweepConfigs(boolean pgUp) {
        List<Config> list = new ArrayList<>();
        for (Db db : new Db[] {Db.PG, Db.H2}) {
            if (db == Db.PG && !pgUp) {
                continue;
            }
            for (String[] v : SWEEP) {
                Map<String, String> env = new LinkedHashMap<>();
                for (int i = 1; i + 1 < v.length; i += 2) {
                    env.put(v[i], v[i + 1]);
                }
                list.add(new Config(Kind.SERVLET, Mode.ASYNC, db, env, v[0]));
            }
        }
        return list;
    }

    /** Size of the H2 database files the server left in its working directory, MiB; NaN on PostgreSQL. */
    private static double h2FileMiB(Config c, Path work) {
        if (c.db() != Db.H2 || !c.mode().tollgate()) {
            return Double.NaN;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(work)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".mv.db"))
                    .mapToLong(f -> f.toFile().length()).sum() / (1024.0 * 1024.0);
        } catch (IOException | java.io.UncheckedIOException e) {
            return Double.NaN;
        }
    }

    private Run runConfig(Config c) {
        List<Row> rows = new ArrayList<>();
        List<OpenLoop.Second> burst = List.of();
        Path work = raw.resolve(c.shortName());
        long requests = 0;
        double heapStart = -1;
        double heapEnd = -1;
        Map<String, Double> engineTotal = Map.of();
        Pg.Counters pgDelta = null;
        double startup = -1;
        double warmup = 0;
        List<Double> warmupSeries = new ArrayList<>();
        int chunk = plan == Plan.QUICK ? plan.warmup() : 5;
        Server server = null;
        try {
            if (c.db() == Db.PG) {
                pg.reset();
            }
            java.util.concurrent.CompletableFuture<Started> pre = prestarted.remove(c);
            Started started;
            try {
                started = pre != null ? pre.get() : start(c, work);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            }
            server = started.server();
            CURRENT.set(server);
            startup = started.seconds();
            log(String.format("   ready in %.1f s on port %d (pid %d)", startup, server.port, server.pid()));
            Pg.Counters pgBefore = c.db() == Db.PG ? pg.counters() : null;
            Path hot = Wrk.script(work, 1);
            Path many = Wrk.script(work, MANY_KEYS);
            Path wrkLog = work.resolve("wrk.log");

            // Warm up until the rate stops growing (JIT, and the first store read of each of the
            // 10,000 subjects), at least plan.warmup() and at most plan.warmupMax() seconds.
            double previous = 0;
            int flat = 0;
            while (true) {
                Result warm = Wrk.run(server.port, many, WRK_THREADS, WRK_CONNECTIONS, chunk, wrkLog);
                requests += warm.requests();
                warmupSeries.add(warm.rps());
                warmup += chunk;
                log(String.format("   warm-up %3d s: %.0f req/s", (int) warmup, warm.rps()));
                // A plateau is two steps in a row that grew by less than 10 % (one flat step can be noise).
                flat = previous > 0 && warm.rps() < 1.1 * previous ? flat + 1 : 0;
                previous = Math.max(previous, warm.rps());
                if (warmup >= plan.warmupMax() || (flat >= (plan == Plan.QUICK ? 1 : 2) && warmup >= plan.warmup())) {
                    break;
                }
            }
            if (plan != Plan.QUICK) {
                Result warmHot = Wrk.run(server.port, hot, WRK_THREADS, WRK_CONNECTIONS, 3, wrkLog);
                requests += warmHot.requests();
                warmup += 3;
            }
            heapStart = plan == Plan.QUICK ? -1 : server.heapAfterGcMiB();
            boolean sweepRun = c.sweep();
            boolean longMax = plan == Plan.FULL && c.kind() == Kind.SERVLET && c.mode() == Mode.ASYNC && c.db() == Db.PG && !sweepRun;
            int maxSecs = sweepRun ? plan.sweepMax() : plan.max();
            if (!sweepRun) {
                rows.add(measure(server, c, "max hot", 1, () -> Wrk.run(server0(), hot, WRK_THREADS, WRK_CONNECTIONS, maxSecs, wrkLog)));
            }
            int manySecs = longMax ? plan.maxLong() : maxSecs;
            rows.add(measure(server, c, "max many" + (longMax ? " 60s" : ""), MANY_KEYS,
                    () -> Wrk.run(server0(), many, WRK_THREADS, WRK_CONNECTIONS, manySecs, wrkLog)));
            if (!sweepRun) {
                rows.add(measure(server, c, "100 QPS", MANY_KEYS, () -> OpenLoop.run(server0(),
                        List.of(new OpenLoop.Phase(plan.fixed100(), 100)), MANY_KEYS, OPEN_LOOP_CONNECTIONS, TIMEOUT_MS, plan.slackSeconds()).result()));
            }
            rows.add(measure(server, c, "1000 QPS", MANY_KEYS, () -> OpenLoop.run(server0(),
                    List.of(new OpenLoop.Phase(plan.fixed1000(), 1000)), MANY_KEYS, OPEN_LOOP_CONNECTIONS, TIMEOUT_MS, plan.slackSeconds()).result()));
            if (!sweepRun) {
                List<OpenLoop.Second>[] series = new List[1];
                rows.add(measure(server, c, "burst 100→2000→100", MANY_KEYS, () -> {
                    OpenLoop.Outcome o = OpenLoop.run(server0(), List.of(new OpenLoop.Phase(plan.burstLow(), 100),
                            new OpenLoop.Phase(plan.burstHigh(), 2000), new OpenLoop.Phase(plan.burstAfter(), 100)),
                            MANY_KEYS, OPEN_LOOP_CONNECTIONS, TIMEOUT_MS, plan.slackSeconds());
                    series[0] = o.perSecond();
                    return o.result();
                }));
                burst = series[0];
            }
            for (Row r : rows) {
                requests += r.result().requests();
            }
            engineTotal = server.stats();
            heapEnd = plan == Plan.QUICK ? -1 : server.heapAfterGcMiB(); // jcmd costs seconds; quick mode skips it
            if (heapEnd > 0) {
                log(String.format("   heap after GC: %.1f MiB after warm-up, %.1f MiB at the end", heapStart, heapEnd));
            }
            CURRENT.set(null);
            server.close();
            LIVE.remove(server);
            if (c.db() == Db.PG) {
                Thread.sleep(1200); // backends report their statistics as they exit
                pgDelta = pg.counters().minus(pgBefore);
            }
            return new Run(c, startup, warmup, heapStart, heapEnd, pgDelta, requests, engineTotal, null, rows, burst,
                    h2FileMiB(c, work), warmupSeries, chunk);
        } catch (Exception e) {
            return new Run(c, startup, warmup, heapStart, heapEnd, pgDelta, requests, engineTotal,
                    e.getClass().getSimpleName() + ": " + e.getMessage(), rows, burst,
                    h2FileMiB(c, work), warmupSeries, chunk);
        } finally {
            if (server != null) {
                CURRENT.set(null);
                server.close();
                LIVE.remove(server);
            }
        }
    }

    private Started start(Config c, Path work) throws IOException, InterruptedException {
        deleteRecursively(work);
        List<String> flags = new ArrayList<>(SERVER_JVM_FLAGS);
        if (jfr) {
            flags.add("-XX:StartFlightRecording=filename=" + work.resolve("server.jfr") + ",settings=profile");
        }
        long s0 = System.nanoTime();
        Path jar = c.baseline() ? c.jar() : root.resolve(c.kind().jar);
        Server s = Server.start(jar, c.kind(), c.mode(), c.db(), pg, c.env(), flags, work, Duration.ofSeconds(90), LIVE);
        return new Started(s, (System.nanoTime() - s0) / 1e9);
    }

    private static int server0() {
        return CURRENT.get().port;
    }

    /** Something that produces one scenario's client result. */
    private interface Load {
        Result run() throws Exception;
    }

    private Row measure(Server server, Config c, String scenario, int keys, Load load) throws Exception {
        Map<String, Double> before = server.stats();
        double[] peak = {0};
        Thread sampler = null;
        if (c.mode().tollgate()) {
            sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    double d = server.queueDepth();
                    peak[0] = Math.max(peak[0], d);
                    try {
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "depth-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }
        double load1 = CpuMeter.loadAverage();
        CpuMeter.Snapshot cpu0 = CpuMeter.snapshot(server.pid());
        Result r = load.run();
        CpuMeter.Snapshot cpu1 = CpuMeter.snapshot(server.pid());
        if (sampler != null) {
            sampler.interrupt();
            sampler.join(2000);
        }
        // Let the last flush of this scenario land before reading the engine's counters.
        Thread.sleep(c.mode() == Mode.ASYNC ? plan.settleMs() : 200);
        Map<String, Double> after = server.stats();
        Map<String, Double> delta = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : after.entrySet()) {
            Double b = before.get(e.getKey());
            delta.put(e.getKey(), e.getKey().equals("queueDepth") || b == null ? e.getValue() : e.getValue() - b);
        }
        double load2 = CpuMeter.loadAverage();
        Row row = new Row(c, scenario, keys, r, delta, !c.mode().tollgate() ? Double.NaN : peak[0],
                cpu1.othersShare(cpu0), cpu1.serverShare(cpu0), cpu1.generatorShare(cpu0), Math.max(load1, load2));
        log(String.format("   %-22s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  max %8.2f ms  err %d  timeouts %d  others %.0f%%",
                scenario, r.rps(), r.p50() / 1000.0, r.p99() / 1000.0, r.max() / 1000.0, r.errors(), r.timeouts(),
                100 * row.othersShare()));
        return row;
    }

    static void log(String s) {
        System.out.println(LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + " " + s);
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
