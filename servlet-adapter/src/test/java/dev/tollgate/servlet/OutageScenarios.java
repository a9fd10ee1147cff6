package dev.tollgate.servlet;

import dev.tollgate.core.testing.FaultProxy;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.servlet.OutageDrill.Fault;
import dev.tollgate.servlet.OutageDrill.Plan;
import dev.tollgate.servlet.OutageDrill.Report;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The long store-outage scenarios, against the packaged servlet demo
 * ({@code examples/servlet-demo/target/tollgate-servlet-demo.jar}) started as its own process
 * with its defaults, PostgreSQL reached through a {@link FaultProxy}: PostgreSQL cut for
 * 10 s, black-holed for 10 s, 2 s of added latency for 10 s, and five lost COMMIT answers.
 * Prints one table row per scenario. Run it with
 * {@code benchmarks/faults/run-outage-scenarios.sh}; arguments:
 * {@code <demo jar> [seconds=10] [scenarios=cut,blackhole,slow,lost] [out dir]}.
 */
public final class OutageScenarios {
    private static final String ADMIN_TOKEN = "outage-scenarios-admin-token";

    private OutageScenarios() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: OutageScenarios <demo jar> [seconds=10] [cut,blackhole,slow,lost] [out dir]");
            System.exit(2);
        }
        Path jar = Path.of(args[0]).toAbsolutePath();
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        String[] which = (args.length > 2 ? args[2] : "cut,blackhole,slow,lost").split(",");
        Path out = Path.of(args.length > 3 ? args[3] : "target/outage-scenarios");
        Files.createDirectories(out);
        TestDatabases.requirePostgres();

        List<String> rows = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (String w : which) {
            Fault fault = switch (w.trim().toLowerCase(Locale.ROOT)) {
                case "cut" -> Fault.CUT;
                case "blackhole" -> Fault.BLACKHOLE;
                case "slow" -> Fault.SLOW;
                case "lost" -> Fault.LOST_COMMITS;
                default -> throw new IllegalArgumentException("unknown scenario " + w);
            };
            Plan plan = new Plan(fault, fault == Fault.LOST_COMMITS ? Duration.ofSeconds(2) : Duration.ofSeconds(seconds),
                    Duration.ofSeconds(30), Duration.ofSeconds(2), 5, 4, 50, Duration.ofSeconds(3),
                    Duration.ofSeconds(90), Duration.ofMillis(5));
            System.err.println("== " + fault + " (" + plan.minFault().toSeconds() + " s) ...");
            Result r = runOne(jar, plan, out.resolve(fault.name().toLowerCase(Locale.ROOT) + ".log"));
            rows.add(r.report.row() + "  afterExit=" + r.storedAfterExit + " exit=" + r.exitCode);
            failures.addAll(r.problems);
        }
        StringBuilder table = new StringBuilder();
        table.append("Servlet demo (").append(jar.getFileName()).append(", defaults + PostgreSQL via fault proxy), ")
                .append("4 clients x 50 API keys on GET /api/hello, latencies in ms\n");
        table.append(Report.header()).append('\n');
        rows.forEach(r -> table.append(r).append('\n'));
        System.out.print(table);
        Files.writeString(out.resolve("report.txt"), table, StandardCharsets.UTF_8);
        if (!failures.isEmpty()) {
            System.out.println("PROBLEMS:");
            failures.forEach(f -> System.out.println("  " + f));
            System.exit(1);
        }
    }

    private record Result(Report report, long storedAfterExit, int exitCode, List<String> problems) {
    }

    private static Result runOne(Path jar, Plan plan, Path log) throws Exception {
        try (TestDatabase db = TestDatabases.postgres(); FaultProxy proxy = FaultProxy.toTestPostgres()) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            ProcessBuilder pb = new ProcessBuilder(javaBin(), "-jar", jar.toString());
            pb.environment().put("PORT", Integer.toString(port));
            pb.environment().put("TOLLGATE_STORE_URL", proxy.jdbcUrl(db.url()));
            pb.environment().put("TOLLGATE_STORE_USER", db.user());
            pb.environment().put("TOLLGATE_STORE_PASSWORD", db.password());
            pb.environment().put("TOLLGATE_ADMIN_TOKEN", ADMIN_TOKEN);
            pb.environment().put("TOLLGATE_PLANS_FREE_REQUESTS", "1000000000/day");
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            pb.directory(Files.createTempDirectory("tollgate-demo").toFile());
            Process demo = pb.start();
            List<String> problems = new ArrayList<>();
            try {
                URI base = URI.create("http://127.0.0.1:" + port + "/");
                awaitUp(base, demo);
                OutageDrill.Target target = new OutageDrill.Target() {
                    @Override
                    public URI base() {
                        return base;
                    }

                    @Override
                    public String adminToken() {
                        return ADMIN_TOKEN;
                    }

                    @Override
                    public String path() {
                        return "/api/hello";
                    }

                    @Override
                    public void close() {
                    }
                };
                Report r = new OutageDrill(target, proxy, db).run(plan);
                // SIGTERM: the demo stops Jetty, the filter drains and writes what is pending.
                demo.destroy();
                boolean exited = demo.waitFor(60, TimeUnit.SECONDS);
                long after = db.storedTotal("requests", "DAY");
                String name = plan.fault().name();
                if (r.serverErrors() > 0 || !r.otherStatuses().isEmpty()) {
                    problems.add(name + ": non-2xx answers " + r.otherStatuses());
                }
                if (r.stored() != r.ok() || after != r.ok() || r.dropped() != 0) {
                    problems.add(name + ": stored " + r.stored() + " (after exit " + after + ") != served " + r.ok()
                            + ", dropped " + r.dropped());
                }
                if (r.during().max() >= r.faultLength().toMillis()) {
                    problems.add(name + ": a request waited " + r.during().max() + " ms during a fault of "
                            + r.faultLength().toMillis() + " ms");
                }
                if ((plan.fault() == Fault.CUT || plan.fault() == Fault.BLACKHOLE)
                        && (r.breakerOpenedAfter() == null || r.breakerClosedAfterRestore() == null)) {
                    problems.add(name + ": breaker opened " + r.breakerOpenedAfter() + ", closed "
                            + r.breakerClosedAfterRestore());
                }
                return new Result(r, after, exited ? demo.exitValue() : -1, problems);
            } finally {
                if (demo.isAlive()) {
                    demo.destroyForcibly();
                }
            }
        }
    }

    private static void awaitUp(URI base, Process demo) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!demo.isAlive()) {
                throw new IllegalStateException("the demo exited with " + demo.exitValue() + " before it was up");
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(base.resolve("/tollgate/health"))
                        .header("Authorization", "Bearer " + ADMIN_TOKEN).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the demo did not come up within 90 s");
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
