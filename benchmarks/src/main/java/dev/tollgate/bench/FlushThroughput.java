package dev.tollgate.bench;

import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.ConfigKeys;
import dev.tollgate.core.config.Settings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sustained flush into PostgreSQL: producer threads call {@link Tollgate#consume} on
 * {@code keys} distinct subjects (one usage counter each) as fast as they can for
 * {@code seconds}, after {@code warmup} seconds not counted. Measured over the window, up to
 * the {@link Tollgate#flush()} that follows it: units committed per second
 * ({@link Stats#unitsWritten()} delta over elapsed time) and upserts per batch
 * ({@link Stats#upserts()} / {@link Stats#batches()} deltas), which must not exceed the
 * number of distinct keys (each batch writes a key at most once). It then checks that the
 * stored usage equals what the producers consumed (nothing lost, nothing doubled): after
 * {@code flush()}, or, when that left records waiting in memory (store errors, open circuit
 * breaker), after {@code close()}, which writes them. It prints one {@code SUMMARY} line;
 * the exit status is 1 when a target is missed.
 * Targets: at least 200,000 units/s committed, at most one upsert per distinct key per batch.
 * A plain main class rather than JMH: the figure is a rate over a long window with a flush at
 * the end, not the cost of one call.
 *
 * <p>PostgreSQL: {@code TOLLGATE_BENCH_PG_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/tollgate_bench}), {@code TOLLGATE_BENCH_PG_USER}
 * (default {@code postgres}), {@code TOLLGATE_BENCH_PG_PASSWORD} (default none). A missing
 * database is created through the server's {@code postgres} database; to create it by hand:
 * {@code psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE tollgate_bench'}. The engine
 * creates its tables; each run first deletes the usage rows of its own subjects
 * ({@code flush-bench-*}).
 *
 * <p>Options as system properties: {@code -Dbench.seconds=20}, {@code -Dbench.warmup=5},
 * {@code -Dbench.keys=1000}, {@code -Dbench.producers=2}; any {@code -Dtollgate.*} key
 * overrides the engine's configuration,
 * e.g. {@code -Dtollgate.async.batch-size=5000}.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -cp benchmarks/target/benchmarks.jar dev.tollgate.bench.FlushThroughput
 * </pre>
 */
public final class FlushThroughput {
    static final String DEFAULT_URL = "jdbc:postgresql://127.0.0.1:5432/tollgate_bench";
    static final String SUBJECT_PREFIX = "flush-bench";
    static final double TARGET_UNITS_PER_SECOND = 200_000;

    private FlushThroughput() {
    }

    /** Runs the harness as the class documentation says; {@code args} are ignored. */
    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("bench.seconds", 20);
        int warmup = Integer.getInteger("bench.warmup", 5);
        int keys = Integer.getInteger("bench.keys", 1000);
        int producers = Integer.getInteger("bench.producers", 2);
        String url = env("TOLLGATE_BENCH_PG_URL", DEFAULT_URL);
        String user = env("TOLLGATE_BENCH_PG_USER", "postgres");
        String password = env("TOLLGATE_BENCH_PG_PASSWORD", "");

        ensureDatabase(url, user, password);
        Map<String, String> base = new LinkedHashMap<>();
        base.put(ConfigKeys.STORE_URL, url);
        base.put(ConfigKeys.STORE_USER, user);
        base.put(ConfigKeys.STORE_PASSWORD, password);
        base.put(ConfigKeys.DEFAULT_PLAN, BenchEngines.PLAN);
        base.put(ConfigKeys.PLANS_PREFIX + BenchEngines.PLAN + "." + BenchEngines.QUOTA, BenchEngines.HUGE_LIMIT);
        base.put(ConfigKeys.METRICS_ENABLED, "false");
        Settings settings = Settings.of(base).overriddenBy(Settings.of(System.getProperties()));
        TollgateConfig config = TollgateConfig.from(settings);
        System.out.printf("FlushThroughput: %d s (+%d s warm-up), %,d keys, %d producers, workers=%d,"
                        + " channel=%,d, batch-size=%,d, flush-interval=%s, store=%s%n",
                seconds, warmup, keys, producers, config.workers(), config.channelCapacity(),
                config.batchSize(), config.flushInterval(), url);

        String rates;
        boolean ratesMet;
        long stored;
        long total;
        try (Tollgate tollgate = Tollgate.builder(config).build()) {
            deleteRows(url, user, password);
            String[] subjects = BenchEngines.subjects(SUBJECT_PREFIX, keys);
            BenchEngines.warm(tollgate, subjects);

            LongAdder consumed = new LongAdder();
            List<Producer> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                Producer t = new Producer(tollgate, subjects, keys * p / producers, consumed);
                threads.add(t);
                t.start();
            }
            TimeUnit.SECONDS.sleep(warmup);

            Stats s0 = tollgate.stats();
            long t0 = System.nanoTime();
            Stats last = s0;
            long lastNanos = t0;
            for (int elapsed = 1; elapsed <= seconds; elapsed++) {
                TimeUnit.NANOSECONDS.sleep(t0 + TimeUnit.SECONDS.toNanos(elapsed) - System.nanoTime());
                if (elapsed % 5 == 0 || elapsed == seconds) {
                    Stats now = tollgate.stats();
                    long nanos = System.nanoTime();
                    System.out.printf("  t=%2ds committed %,.0f units/s, %,d batches, %,d upserts, queue %,d,"
                                    + " sync fallbacks %,d%n",
                            elapsed, (now.unitsWritten() - last.unitsWritten()) * 1e9 / (nanos - lastNanos),
                            now.batches() - last.batches(), now.upserts() - last.upserts(), now.queueDepth(),
                            now.syncFallbacks() - last.syncFallbacks());
                    last = now;
                    lastNanos = nanos;
                }
            }
            for (Producer t : threads) {
                t.running = false;
            }
            for (Producer t : threads) {
                t.join();
            }
            boolean drained = tollgate.flush();
            long t1 = System.nanoTime();
            Stats s1 = tollgate.stats();
            long consumedInWindow = s1.total() - s0.total();

            double secs = (t1 - t0) / 1e9;
            long units = s1.unitsWritten() - s0.unitsWritten();
            long batches = s1.batches() - s0.batches();
            long upserts = s1.upserts() - s0.upserts();
            double unitsPerSecond = units / secs;
            double upsertsPerBatch = batches == 0 ? 0 : (double) upserts / batches;
            stored = storedUnits(url, user, password);
            total = consumed.sum();

            System.out.printf("  window %.1f s incl. final flush: consumed %,d, committed %,d units in %,d batches,"
                            + " %,d upserts (%.0f records per upsert), sync fallbacks %,d, failed writes %,d,"
                            + " store errors %,d%n",
                    secs, consumedInWindow, units, batches, upserts, upserts == 0 ? 0.0 : (double) units / upserts,
                    s1.syncFallbacks() - s0.syncFallbacks(), s1.failed() - s0.failed(),
                    s1.storeErrors() - s0.storeErrors());
            System.out.println("  engine totals: " + BenchEngines.describe(s1));
            boolean fastEnough = unitsPerSecond >= TARGET_UNITS_PER_SECOND;
            boolean oneUpsertPerKey = upsertsPerBatch <= keys;
            ratesMet = fastEnough && oneUpsertPerKey;
            rates = String.format("%,.0f units/s committed (target >= %,.0f: %s) |"
                            + " %.1f upserts/batch for %,d keys (target <= %,d: %s)",
                    unitsPerSecond, TARGET_UNITS_PER_SECOND, fastEnough ? "PASS" : "FAIL",
                    upsertsPerBatch, keys, keys, oneUpsertPerKey ? "PASS" : "FAIL");
            if (!drained || stored != total) {
                System.out.printf("  after flush(): stored %,d of %,d consumed; flush() reported %s, %,d records"
                                + " waiting in memory; closing the engine, which writes them%n",
                        stored, total, drained ? "everything written" : "records left waiting",
                        s1.pendingDeferred());
            }
        }
        // close() drains and writes what flush() left waiting (store outage, open breaker):
        // a difference that remains now is usage lost or written twice.
        String when = "after flush()";
        if (stored != total) {
            stored = storedUnits(url, user, password);
            when = "only after close()";
        }
        boolean exact = stored == total;
        System.out.printf("SUMMARY FlushThroughput: %s | stored %,d = consumed %,d %s: %s%n",
                rates, stored, total, when, exact ? "PASS" : "FAIL");
        boolean pass = ratesMet && exact;
        if (!pass) {
            System.exit(1);
        }
    }

    /** Consumes one unit at a time, round-robin over the subjects, until told to stop. */
    private static final class Producer extends Thread {
        private final Tollgate tollgate;
        private final String[] subjects;
        private final LongAdder consumed;
        private int next;
        volatile boolean running = true;

        Producer(Tollgate tollgate, String[] subjects, int start, LongAdder consumed) {
            super("flush-bench-producer-" + start);
            this.tollgate = tollgate;
            this.subjects = subjects;
            this.next = start;
            this.consumed = consumed;
            setDaemon(true);
        }

        @Override
        public void run() {
            long n = 0;
            while (running) {
                tollgate.consume(subjects[next], BenchEngines.QUOTA, 1);
                next = next + 1 == subjects.length ? 0 : next + 1;
                n++;
            }
            consumed.add(n);
        }
    }

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    /** Creates the database of {@code url} through the server's {@code postgres} database if it is missing. */
    static void ensureDatabase(String url, String user, String password) throws SQLException {
        try {
            DriverManager.getConnection(url, user, password).close();
            return;
        } catch (SQLException e) {
            if (!"3D000".equals(e.getSQLState())) { // invalid_catalog_name: the database does not exist
                throw e;
            }
        }
        int slash = url.lastIndexOf('/');
        int query = url.indexOf('?', slash);
        String name = url.substring(slash + 1, query < 0 ? url.length() : query);
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new SQLException("database '" + name + "' does not exist; create it by hand");
        }
        String admin = url.substring(0, slash + 1) + "postgres" + (query < 0 ? "" : url.substring(query));
        try (Connection c = DriverManager.getConnection(admin, user, password); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        System.out.println("Created database " + name);
    }

    private static void deleteRows(String url, String user, String password) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM tollgate_usage WHERE subject LIKE '" + SUBJECT_PREFIX + "-%'");
        }
    }

    private static long storedUnits(String url, String user, String password) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(SUM(used), 0) FROM tollgate_usage WHERE subject LIKE '"
                     + SUBJECT_PREFIX + "-%'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
