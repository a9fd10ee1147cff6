package dev.tollgate.bench.load;

import java.io.IOException;
import java.net.InetAddress;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One demo server under test, run as a child process on a free loopback port with fixed JVM
 * flags, its own working directory (so its H2 file database starts empty) and the environment
 * that selects its mode. Reads the engine's counters over HTTP (servlet demo:
 * {@code GET /tollgate/stats}; gateway demo: {@code /actuator/metrics/tollgate.*}) and the heap
 * after a full GC with {@code jcmd}. Not thread-safe except {@link #stats()}, which may be
 * called from a sampler thread.
 */
final class Server implements AutoCloseable {
    static final String ADMIN_TOKEN = "bench-admin-token-0123456789";

    /** Which demo. */
    enum Kind {
        SERVLET("servlet", "examples/servlet-demo/target/tollgate-servlet-demo.jar"),
        GATEWAY("gateway", "examples/gateway-demo/target/tollgate-gateway-demo.jar");

        final String label;
        final String jar;

        Kind(String label, String jar) {
            this.label = label;
            this.jar = jar;
        }
    }

    /** Filter mode. */
    enum Mode {
        NONE("no-filter"), SYNC("sync"), ASYNC("async"),
        /** The gateway metered by Spring Cloud Gateway's own RequestRateLimiter (RedisRateLimiter), not Tollgate. */
        PEER("RedisRateLimiter");

        final String label;

        Mode(String label) {
            this.label = label;
        }

        /** Whether Tollgate meters the requests (and has counters to read). */
        boolean tollgate() {
            return this == SYNC || this == ASYNC;
        }
    }

    /** Store. */
    enum Db {
        H2("H2"), PG("PostgreSQL"), REDIS("Redis");

        final String label;

        Db(String label) {
            this.label = label;
        }
    }

    final Kind kind;
    final Mode mode;
    final Db db;
    final int port;
    final Process process;
    final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private Server(Kind kind, Mode mode, Db db, int port, Process process, Path log) {
        this.kind = kind;
        this.mode = mode;
        this.db = db;
        this.port = port;
        this.process = process;
        this.log = log;
    }

    long pid() {
        return process.pid();
    }

    /**
     * Starts the demo, adds it to {@code live} at once (so that a shutdown hook can kill it), and
     * waits until {@code GET /api/hello} answers 200.
     *
     * @throws IOException when the process exits or does not answer within {@code readyTimeout}
     */
    static Server start(Path jar, Kind kind, Mode mode, Db db, Pg pg, Map<String, String> extraEnv,
                        List<String> jvmFlags, Path workDir, Duration readyTimeout, java.util.Set<Server> live)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        int port = freePort();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.add("-jar");
        cmd.add(jar.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("TOLLGATE_") || k.startsWith("SPRING_") || k.equals("PORT"));
        env.put("PORT", Integer.toString(port));
        env.put("TOLLGATE_PLANS_FREE_REQUESTS", "1000000000/day");
        env.put("TOLLGATE_PLANS_FREE_TOKENS", "1000000000/day");
        env.put("TOLLGATE_ADMIN_TOKEN", ADMIN_TOKEN);
        // The load uses 10,000 made-up keys, as runs of earlier revisions (--baseline) do: the
        // edge's cost is measured on the same path, not with a key registry in front of it.
        env.put("TOLLGATE_SUBJECT_UNKNOWN", "default-plan");
        if (mode == Mode.NONE) {
            env.put("TOLLGATE_ENABLED", "false");
        } else if (mode == Mode.PEER) {
            env.put("SPRING_PROFILES_ACTIVE", "redis-ratelimiter");
        } else if (mode == Mode.SYNC) {
            env.put("TOLLGATE_ASYNC_ENABLED", "false");
        }
        if (db == Db.PG) {
            env.put("TOLLGATE_STORE_URL", pg.serverUrl());
            env.put("TOLLGATE_STORE_USER", pg.user);
            env.put("TOLLGATE_STORE_PASSWORD", pg.password);
        }
        env.putAll(extraEnv);
        Path log = workDir.resolve("server.log");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        Server s = new Server(kind, mode, db, port, p, log);
        live.add(s);
        long deadline = System.nanoTime() + readyTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException(kind.label + " server exited with status " + p.exitValue() + " before it was ready; see " + log);
            }
            if (s.get("/api/hello", Map.of("X-API-Key", "bench-ready")) == 200) {
                return s;
            }
            Thread.sleep(200);
        }
        s.close();
        throw new IOException(kind.label + " server not ready within " + readyTimeout + "; see " + log);
    }

    static int freePort() throws IOException {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return ss.getLocalPort();
        }
    }

    private int get(String path, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(3));
            headers.forEach(b::header);
            return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String body(String path, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5));
            headers.forEach(b::header);
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static final Pattern NUMBER_FIELD = Pattern.compile("\"(\\w+)\":(-?[0-9.Ee+-]+)");
    private static final Pattern VALUE = Pattern.compile("\"value\"\\s*:\\s*(-?[0-9.Ee+-]+)");

    /** Gateway meter name for each servlet stats field the harness uses. */
    private static final Map<String, String> GATEWAY_METERS = new LinkedHashMap<>();

    static {
        GATEWAY_METERS.put("total", "tollgate.consume.records");
        GATEWAY_METERS.put("processed", "tollgate.consume.processed");
        GATEWAY_METERS.put("upserts", "tollgate.store.upserts");
        GATEWAY_METERS.put("batches", "tollgate.store.batches");
        GATEWAY_METERS.put("syncFallbacks", "tollgate.consume.sync.fallbacks");
        GATEWAY_METERS.put("deferred", "tollgate.consume.deferred");
        GATEWAY_METERS.put("storeErrors", "tollgate.store.errors");
        GATEWAY_METERS.put("queueDepth", "tollgate.channel.depth");
        GATEWAY_METERS.put("grantRequests", "tollgate.store.grant.requests");
        GATEWAY_METERS.put("policyReads", "tollgate.store.policy.reads");
    }

    /** The engine's counters (servlet field names); empty when the filter is off or they cannot be read. */
    Map<String, Double> stats() {
        Map<String, Double> out = new LinkedHashMap<>();
        if (!mode.tollgate()) {
            return out;
        }
        if (kind == Kind.SERVLET) {
            String b = body("/tollgate/stats", Map.of("Authorization", "Bearer " + ADMIN_TOKEN));
            if (b != null) {
                int end = b.indexOf("\"edge\"");
                Matcher m = NUMBER_FIELD.matcher(end > 0 ? b.substring(0, end) : b);
                while (m.find()) {
                    out.put(m.group(1), Double.parseDouble(m.group(2)));
                }
            }
        } else {
            for (Map.Entry<String, String> e : GATEWAY_METERS.entrySet()) {
                String b = body("/actuator/metrics/" + e.getValue(), Map.of());
                if (b != null) {
                    Matcher m = VALUE.matcher(b);
                    if (m.find()) {
                        out.put(e.getKey(), Double.parseDouble(m.group(1)));
                    }
                }
            }
        }
        return out;
    }

    /** Channel depth only (cheap enough to sample during load); -1 when unknown. */
    double queueDepth() {
        if (!mode.tollgate()) {
            return -1;
        }
        if (kind == Kind.SERVLET) {
            Double d = stats().get("queueDepth");
            return d == null ? -1 : d;
        }
        String b = body("/actuator/metrics/tollgate.channel.depth", Map.of());
        if (b != null) {
            Matcher m = VALUE.matcher(b);
            if (m.find()) {
                return Double.parseDouble(m.group(1));
            }
        }
        return -1;
    }

    private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total\\s+(\\d+)K,\\s+used\\s+(\\d+)K");

    /** Heap used after a full GC, in MiB ({@code jcmd GC.run}, then {@code GC.heap_info}); -1 when unknown. */
    double heapAfterGcMiB() {
        try {
            jcmd("GC.run");
            String info = jcmd("GC.heap_info");
            Matcher m = HEAP_USED.matcher(info);
            return m.find() ? Long.parseLong(m.group(2)) / 1024.0 : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }

    /** SIGTERM (the demos write pending usage on the way out), then SIGKILL after 30 s. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
