package dev.tollgate.servlet;

import dev.tollgate.core.testing.FaultProxy;
import dev.tollgate.core.testing.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A store-fault drill over real HTTP: steady load on a metered endpoint of a running web app
 * (the Tollgate filter in front of it, its engine writing to PostgreSQL through a
 * {@link FaultProxy}), a fault injected for a while, then lifted. It measures the request path
 * before, during and after the fault, follows the engine's circuit breaker through the admin
 * health route, and at the end compares what the store holds with what was served.
 *
 * <p>Used by {@code StoreFaultOverHttpTest} (seconds-long faults, in CI) and by
 * {@code OutageScenarios} (10 s faults against the packaged servlet demo). Not thread-safe;
 * one drill at a time.
 */
final class OutageDrill {

    /** The faults a drill can inject between the engine and PostgreSQL. */
    enum Fault {
        /** PostgreSQL unreachable: connections closed, new ones reset. */
        CUT,
        /** Connections kept, nothing answered. */
        BLACKHOLE,
        /** Every answer {@code slowBy} late. */
        SLOW,
        /** The answers to a few COMMITs lost after the server carried them out. */
        LOST_COMMITS
    }

    /**
     * What to do.
     *
     * @param minFault       how long the fault lasts at least
     * @param maxFault       for CUT and BLACKHOLE, how long it may be held longer until the
     *                       breaker has been seen open (so the drill always sees it open)
     * @param slowBy         the added latency for SLOW
     * @param lostCommits    COMMIT answers to lose for LOST_COMMITS
     * @param clients        client threads
     * @param keys           distinct API keys (all warmed up before the fault)
     * @param steady         load before the fault (after as long again of unmeasured warm-up) and after recovery
     * @param recoverWithin  longest wait after the fault for the breaker to close and the backlog to drain
     * @param pause          pause of each client between requests
     */
    record Plan(Fault fault, Duration minFault, Duration maxFault, Duration slowBy, int lostCommits, int clients,
                int keys, Duration steady, Duration recoverWithin, Duration pause) {
    }

    /** The web app under test. */
    interface Target extends AutoCloseable {
        URI base();

        String adminToken();

        /** The metered GET path (costs one unit of {@code requests}). */
        String path();
    }

    /** Latency figures of one phase, in milliseconds. */
    record Latency(int count, double p50, double p99, double max) {
        static Latency of(long[] nanos) {
            if (nanos.length == 0) {
                return new Latency(0, 0, 0, 0);
            }
            long[] s = nanos.clone();
            Arrays.sort(s);
            return new Latency(s.length, ms(s[(int) Math.min(s.length - 1, Math.floor(s.length * 0.50))]),
                    ms(s[(int) Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]), ms(s[s.length - 1]));
        }

        private static double ms(long nanos) {
            return nanos / 1_000_000.0;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.1f / %.1f / %.1f", p50, p99, max);
        }
    }

    /** What a drill saw. */
    record Report(Fault fault, Duration faultLength, long requests, long ok, Map<Integer, Long> otherStatuses,
                  long serverErrors, long clientErrors, Latency before, Latency during, Latency after,
                  Duration breakerOpenedAfter, Duration breakerClosedAfterRestore, boolean healthUpAtEnd,
                  long maxPendingDeferred, long deferred, long storeErrors, long failedWrites, long dropped,
                  int lostCommitAnswers, long batches, long appliedBatchIds, long stored, long failOpen) {

        static String header() {
            return String.format(Locale.ROOT, "%-12s %7s %8s %8s %5s %5s %-20s %-20s %-20s %9s %9s %8s %8s %7s %5s %9s %9s %s",
                    "fault", "length", "requests", "2xx", "5xx", "other", "before p50/p99/max", "during p50/p99/max",
                    "after p50/p99/max", "open(ms)", "close(ms)", "deferred", "maxPend", "storeErr", "lost",
                    "stored", "served", "exact");
        }

        String row() {
            return String.format(Locale.ROOT, "%-12s %6.1fs %8d %8d %5d %5d %-20s %-20s %-20s %9s %9s %8d %8d %7d %5d %9d %9d %s",
                    fault, faultLength.toMillis() / 1000.0, requests, ok, serverErrors, requests - ok - serverErrors,
                    before, during, after, breakerOpenedAfter == null ? "-" : Long.toString(breakerOpenedAfter.toMillis()),
                    breakerClosedAfterRestore == null ? "-" : Long.toString(breakerClosedAfterRestore.toMillis()),
                    deferred, maxPendingDeferred, storeErrors, lostCommitAnswers, stored, ok,
                    stored == ok && dropped == 0 ? "yes" : "NO");
        }
    }

    private static final Pattern NUMBER = Pattern.compile("\"(\\w+)\":(-?\\d+)");

    private final Target target;
    private final FaultProxy proxy;
    private final TestDatabase db;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    OutageDrill(Target target, FaultProxy proxy, TestDatabase db) {
        this.target = target;
        this.proxy = proxy;
        this.db = db;
    }

    /** Phases of the load, by when a request started. */
    private enum Phase {
        /** Not measured: lets the JIT and the pools settle. */
        WARMUP, BEFORE, DURING, AFTER
    }

    /** The phase the load is in; read by every client for every request. */
    private volatile Phase phase = Phase.BEFORE;

    /** Per-client recordings. */
    private static final class Recorder {
        final long[][] latencies = {new long[1024], new long[1024], new long[1024], new long[1024]};
        final int[] counts = new int[4];

        void add(Phase p, long nanos) {
            int i = p.ordinal();
            if (counts[i] == latencies[i].length) {
                latencies[i] = Arrays.copyOf(latencies[i], counts[i] * 2);
            }
            latencies[i][counts[i]++] = nanos;
        }
    }

    Report run(Plan plan) throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < plan.keys(); i++) {
            keys.add("drill-" + plan.fault().name().toLowerCase(Locale.ROOT) + "-" + i + "-" + System.nanoTime());
        }
        // Warm-up: every key is charged once and its counters and policy are cached.
        AtomicLong ok = new AtomicLong();
        for (String k : keys) {
            if (get(target.path(), "X-API-Key", k).statusCode() / 100 == 2) {
                ok.incrementAndGet();
            }
        }
        flush(Duration.ofSeconds(30));

        AtomicBoolean stop = new AtomicBoolean();
        phase = Phase.WARMUP;
        Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
        AtomicLong requests = new AtomicLong();
        List<Recorder> recorders = new ArrayList<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < plan.clients(); c++) {
            Recorder rec = new Recorder();
            recorders.add(rec);
            int id = c;
            Thread t = new Thread(() -> {
                int n = id;
                while (!stop.get()) {
                    String key = keys.get(n++ % keys.size());
                    Phase p = phase;
                    long t0 = System.nanoTime();
                    int status;
                    try {
                        status = get(target.path(), "X-API-Key", key).statusCode();
                    } catch (Exception e) {
                        status = -1;
                    }
                    rec.add(p, System.nanoTime() - t0);
                    requests.incrementAndGet();
                    statuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
                    sleep(plan.pause().toMillis());
                }
            }, "drill-client-" + c);
            t.setDaemon(true);
            clients.add(t);
        }
        Observer observer = new Observer();
        Thread obs = new Thread(observer, "drill-observer");
        obs.setDaemon(true);

        clients.forEach(Thread::start);
        obs.start();
        sleep(plan.steady().toMillis());
        phase = Phase.BEFORE;
        sleep(plan.steady().toMillis());

        long faultStart = System.nanoTime();
        observer.faultStart = faultStart;
        phase = Phase.DURING;
        switch (plan.fault()) {
            case CUT -> proxy.cut();
            case BLACKHOLE -> proxy.blackhole();
            case SLOW -> proxy.slow(plan.slowBy());
            case LOST_COMMITS -> proxy.dropNextCommitResponses(plan.lostCommits());
        }
        long minEnd = faultStart + plan.minFault().toNanos();
        long maxEnd = minEnd + plan.maxFault().toNanos();
        while (true) {
            long now = System.nanoTime();
            boolean done = now - minEnd >= 0 && switch (plan.fault()) {
                case CUT, BLACKHOLE -> observer.openedAt != 0;
                case SLOW -> true;
                case LOST_COMMITS -> proxy.droppedCommitAnswers() >= plan.lostCommits();
            };
            if (done || now - maxEnd >= 0) {
                break;
            }
            sleep(10);
        }
        proxy.pass();
        long restoredAt = System.nanoTime();
        observer.restoredAt = restoredAt;
        phase = Phase.AFTER;

        long recoverBy = restoredAt + plan.recoverWithin().toNanos();
        while (System.nanoTime() - recoverBy < 0 && !(observer.upSinceRestore && observer.lastPending == 0)) {
            sleep(20);
        }
        sleep(plan.steady().toMillis());
        stop.set(true);
        for (Thread t : clients) {
            t.join(30_000);
        }
        observer.stop = true;
        obs.join(5_000);

        boolean flushed = flush(plan.recoverWithin());
        Map<String, Long> engine = engineStats();
        boolean up = "UP".equals(health().get("status"));
        long served = ok.get() + statuses.entrySet().stream().filter(e -> e.getKey() / 100 == 2)
                .mapToLong(e -> e.getValue().get()).sum();
        long total = requests.get() + keys.size();
        long serverErrors = statuses.entrySet().stream().filter(e -> e.getKey() >= 500 || e.getKey() < 0)
                .mapToLong(e -> e.getValue().get()).sum();
        long clientErrors = statuses.entrySet().stream().filter(e -> e.getKey() >= 400 && e.getKey() < 500)
                .mapToLong(e -> e.getValue().get()).sum();
        Map<Integer, Long> other = new TreeMap<>();
        statuses.forEach((s, n) -> {
            if (s / 100 != 2) {
                other.put(s, n.get());
            }
        });
        long stored = db.storedTotal("requests", "DAY");
        long applied = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_applied_batch")
                .mapTo(Long.class).one());
        if (!flushed) {
            System.err.println("drill: the final flush left usage pending");
        }
        return new Report(plan.fault(), Duration.ofNanos(restoredAt - faultStart), total, served, other,
                serverErrors, clientErrors,
                Latency.of(merge(recorders, Phase.BEFORE)), Latency.of(merge(recorders, Phase.DURING)),
                Latency.of(merge(recorders, Phase.AFTER)),
                observer.openedAt == 0 ? null : Duration.ofNanos(observer.openedAt - faultStart),
                observer.closedAt == 0 ? null : Duration.ofNanos(observer.closedAt - restoredAt),
                up, observer.maxPending, engine.getOrDefault("deferred", -1L),
                engine.getOrDefault("storeErrors", -1L), engine.getOrDefault("failed", -1L),
                engine.getOrDefault("dropped", -1L), proxy.droppedCommitAnswers(),
                engine.getOrDefault("batches", -1L), applied, stored, engine.getOrDefault("failOpen", -1L));
    }

    private static long[] merge(List<Recorder> recorders, Phase p) {
        int n = 0;
        for (Recorder r : recorders) {
            n += r.counts[p.ordinal()];
        }
        long[] out = new long[n];
        int at = 0;
        for (Recorder r : recorders) {
            System.arraycopy(r.latencies[p.ordinal()], 0, out, at, r.counts[p.ordinal()]);
            at += r.counts[p.ordinal()];
        }
        return out;
    }

    /** Follows the breaker (through the health route) and the deferred backlog (stats route). */
    private final class Observer implements Runnable {
        volatile boolean stop;
        volatile long faultStart;
        volatile long restoredAt;
        volatile long openedAt;
        volatile long closedAt;
        volatile boolean upSinceRestore;
        volatile long lastPending = -1;
        volatile long maxPending;

        @Override
        public void run() {
            while (!stop) {
                try {
                    Map<String, Object> h = health();
                    String reason = String.valueOf(h.get("reason"));
                    String status = String.valueOf(h.get("status"));
                    long now = System.nanoTime();
                    boolean open = reason.contains("circuit breaker open");
                    boolean halfOpen = reason.contains("half-open");
                    if (open && faultStart != 0 && openedAt == 0) {
                        openedAt = now;
                    }
                    if (restoredAt != 0 && !open && !halfOpen && closedAt == 0 && openedAt != 0) {
                        closedAt = now;
                    }
                    if (restoredAt != 0 && "UP".equals(status)) {
                        upSinceRestore = true;
                    }
                    long pending = engineStats().getOrDefault("pendingDeferred", 0L);
                    lastPending = pending;
                    maxPending = Math.max(maxPending, pending);
                } catch (Exception e) {
                    // keep observing
                }
                sleep(25);
            }
        }
    }

    private Map<String, Object> health() {
        return JsonBodies.parse(admin("GET", "/tollgate/health").body());
    }

    private Map<String, Long> engineStats() {
        String body = admin("GET", "/tollgate/stats").body();
        int edge = body.indexOf("\"edge\"");
        Matcher m = NUMBER.matcher(edge < 0 ? body : body.substring(0, edge));
        Map<String, Long> out = new TreeMap<>();
        while (m.find()) {
            out.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return out;
    }

    /** Writes what is pending through the admin route; {@code true} once nothing is left. */
    boolean flush(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() - deadline < 0) {
            HttpResponse<String> r = admin("POST", "/tollgate/flush");
            if (r.statusCode() == 200 && r.body().contains("\"flushed\":true")) {
                return true;
            }
            sleep(100);
        }
        return false;
    }

    private HttpResponse<String> admin(String method, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(target.base().resolve(path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + target.adminToken());
        b = method.equals("POST") ? b.POST(HttpRequest.BodyPublishers.noBody()) : b.GET();
        return send(b.build());
    }

    private HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(target.base().resolve(path)).timeout(Duration.ofSeconds(60));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.GET().build());
    }

    private HttpResponse<String> send(HttpRequest r) {
        try {
            return http.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
