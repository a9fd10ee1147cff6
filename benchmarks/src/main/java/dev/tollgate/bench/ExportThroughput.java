package dev.tollgate.bench;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.Period;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Push export throughput: {@code bench.windows} closed minute windows (default 100,000:
 * {@code bench.subjects} = 1,000 subjects × 100 minutes) are written to the store directly, then
 * one {@link Tollgate#exportNow()} delivers them all to a JDK {@code HttpServer} on loopback that
 * answers 200, {@code bench.batch} events per POST (default 500). Prints the windows delivered
 * per second of that run (store pages, event rendering, POSTs and cursor moves included) and
 * checks that the receiver got every window.
 *
 * <p>Options as system properties: {@code -Dbench.url} (default an in-memory H2; a
 * {@code jdbc:postgresql:} URL runs on PostgreSQL in schema {@code export_bench}, created and
 * dropped by the run), {@code -Dbench.user}, {@code -Dbench.password}, {@code -Dbench.subjects},
 * {@code -Dbench.minutes=100}, {@code -Dbench.batch=500}.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -cp benchmarks/target/benchmarks.jar \
 *     -Dbench.url=jdbc:postgresql://127.0.0.1:5432/tollgate_test -Dbench.user=tollgate -Dbench.password=tollgate \
 *     dev.tollgate.bench.ExportThroughput
 * </pre>
 */
public final class ExportThroughput {
    private static final Instant T0 = Instant.parse("2026-11-26T00:00:00Z");
    private static final String SCHEMA = "export_bench";

    private ExportThroughput() {
    }

    /** Runs the measurement as the class documentation says; {@code args} are ignored. */
    public static void main(String[] args) throws Exception {
        String url = System.getProperty("bench.url", "jdbc:h2:mem:export-bench;DB_CLOSE_DELAY=-1");
        String user = System.getProperty("bench.user", "");
        String password = System.getProperty("bench.password", "");
        int subjects = Integer.getInteger("bench.subjects", 1000);
        int minutes = Integer.getInteger("bench.minutes", 100);
        int batch = Integer.getInteger("bench.batch", 500);
        boolean postgres = url.startsWith("jdbc:postgresql:");
        if (postgres) {
            schema(url, user, password, "DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE", "CREATE SCHEMA " + SCHEMA);
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(postgres ? url + (url.contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA : url);
        hc.setUsername(user);
        hc.setPassword(password);
        hc.setMaximumPoolSize(4);
        AtomicLong received = new AtomicLong();
        AtomicLong posts = new AtomicLong();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        receiver.createContext("/events", x -> {
            try (InputStream in = x.getRequestBody()) {
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                received.addAndGet(count(body, "\"specversion\""));
            }
            posts.incrementAndGet();
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        receiver.start();
        try (HikariDataSource pool = new HikariDataSource(hc)) {
            long windows = fill(pool, postgres, subjects, minutes);
            String target = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/events";
            TollgateConfig config = TollgateConfig.custom().flushInterval(Duration.ofMillis(500)).metricsEnabled(false)
                    .export(new TollgateConfig.Export(target, batch, Duration.ofHours(1), "Bearer bench", "bench"))
                    .build();
            Clock after = Clock.fixed(T0.plus(Duration.ofMinutes(minutes + 5)), ZoneOffset.UTC);
            try (Tollgate t = Tollgate.builder(config).dataSource(pool).clock(after).build()) {
                long start = System.nanoTime();
                boolean ok = t.exportNow();
                double seconds = (System.nanoTime() - start) / 1e9;
                if (!ok || received.get() != windows || t.stats().exportDelivered() != windows) {
                    throw new IllegalStateException("export incomplete: ok=" + ok + ", received " + received.get()
                            + " of " + windows + ", delivered " + t.stats().exportDelivered());
                }
                System.out.printf(Locale.ROOT, "RESULT store=%s windows=%d batch=%d posts=%d seconds=%.2f"
                        + " windowsPerSecond=%.0f%n", postgres ? "postgresql" : "h2", windows, batch, posts.get(),
                        seconds, windows / seconds);
            }
        } finally {
            receiver.stop(0);
            if (postgres) {
                schema(url, user, password, "DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            }
        }
    }

    /** Writes one minute window per (subject, minute), 5,000 counters per store batch. */
    private static long fill(HikariDataSource pool, boolean postgres, int subjects, int minutes) {
        UsageStore store = JdbiUsageStore.create(pool, postgres ? Dialect.POSTGRESQL : Dialect.H2,
                TollgateConfig.SchemaMode.CREATE, Duration.ofSeconds(60), null);
        List<UsageDelta> deltas = new ArrayList<>();
        long windows = 0;
        int batches = 0;
        for (int m = 0; m < minutes; m++) {
            long start = T0.plus(Duration.ofMinutes(m)).toEpochMilli();
            for (int s = 0; s < subjects; s++) {
                deltas.add(new UsageDelta(new UsageKey("s" + s, "requests", Period.MINUTE, start), 1 + s % 7));
                windows++;
                if (deltas.size() == 5000) {
                    write(store, deltas, batches++);
                }
            }
        }
        if (!deltas.isEmpty()) {
            write(store, deltas, batches);
        }
        return windows;
    }

    private static void write(UsageStore store, List<UsageDelta> deltas, int n) {
        deltas.sort(Comparator.comparing(UsageDelta::key));
        store.apply(new WriteBatch("fill-" + n, "bench", T0, Duration.ofSeconds(30), List.copyOf(deltas)));
        deltas.clear();
    }

    private static long count(String body, String what) {
        long n = 0;
        for (int i = body.indexOf(what); i >= 0; i = body.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private static void schema(String url, String user, String password, String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }
}
