package dev.tollgate.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * What a request id costs on the flush: {@code bench.records} consumes (default 1,000, over
 * {@code bench.subjects} = 100 subjects of an unlimited quota, so nothing but the flush touches
 * the store) are written by one {@link Tollgate#flush()}, first without request ids, then each
 * with its own new id; {@code bench.rounds} flushes of each (after {@code bench.warmup}) are
 * timed, and every JDBC call the flush makes is counted through a counting {@link DataSource}
 * under the engine's pool: round trips ({@code execute*} calls) and statements (each row of a
 * JDBC batch counts as one). It then checks that the store holds exactly what was consumed.
 * Prints one {@code RESULT} line per mode.
 *
 * <p>Options as system properties: {@code -Dbench.url} (default an in-memory H2; a
 * {@code jdbc:postgresql:} URL runs on PostgreSQL, in schema {@code bench.schema}, default
 * {@code idempotency_bench}, created and dropped by the run), {@code -Dbench.user},
 * {@code -Dbench.password}, {@code -Dbench.records}, {@code -Dbench.subjects},
 * {@code -Dbench.rounds=50}, {@code -Dbench.warmup=10}.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -cp benchmarks/target/benchmarks.jar \
 *     -Dbench.url=jdbc:postgresql://127.0.0.1:5432/tollgate_test -Dbench.user=tollgate -Dbench.password=tollgate \
 *     dev.tollgate.bench.IdempotencyOverhead
 * </pre>
 */
public final class IdempotencyOverhead {
    private static final String QUOTA = "requests";

    private IdempotencyOverhead() {
    }

    /** Runs the measurement as the class documentation says; {@code args} are ignored. */
    public static void main(String[] args) throws Exception {
        String url = System.getProperty("bench.url", "jdbc:h2:mem:idempotency-bench;DB_CLOSE_DELAY=-1");
        String user = System.getProperty("bench.user", "");
        String password = System.getProperty("bench.password", "");
        String schema = System.getProperty("bench.schema", "idempotency_bench");
        int records = Integer.getInteger("bench.records", 1000);
        int subjects = Integer.getInteger("bench.subjects", 100);
        int rounds = Integer.getInteger("bench.rounds", 50);
        int warmup = Integer.getInteger("bench.warmup", 10);
        boolean postgres = url.startsWith("jdbc:postgresql:");
        if (postgres) {
            try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                s.execute("CREATE SCHEMA " + schema);
            }
        }
        Counting counting = new Counting();
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(counting.wrap(new DriverDataSource(postgres ? url + (url.contains("?") ? "&" : "?")
                + "currentSchema=" + schema : url, user, password)));
        hc.setMaximumPoolSize(4);
        TollgateConfig config = TollgateConfig.custom()
                .flushInterval(Duration.ofHours(1))
                .metricsEnabled(false)
                .build();
        try (HikariDataSource pool = new HikariDataSource(hc);
             Tollgate t = Tollgate.builder(config).dataSource(pool).build()) {
            for (boolean ids : new boolean[] {false, true}) {
                String prefix = ids ? "with-id-" : "no-id-";
                List<Long> nanos = new ArrayList<>();
                long calls = 0;
                long statements = 0;
                for (int r = 0; r < warmup + rounds; r++) {
                    for (int i = 0; i < records; i++) {
                        t.consume(prefix + (i % subjects), QUOTA, 1, ids ? "r" + r + "-" + i : null);
                    }
                    long c0 = counting.calls.sum();
                    long s0 = counting.statements.sum();
                    long t0 = System.nanoTime();
                    if (!t.flush()) {
                        throw new IllegalStateException("flush left usage waiting; see the log");
                    }
                    long elapsed = System.nanoTime() - t0;
                    if (r >= warmup) {
                        nanos.add(elapsed);
                        calls += counting.calls.sum() - c0;
                        statements += counting.statements.sum() - s0;
                    }
                }
                long stored = storedTotal(pool, prefix);
                long expected = (long) (warmup + rounds) * records;
                Collections.sort(nanos);
                double mean = nanos.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
                System.out.printf(Locale.ROOT, "RESULT store=%s ids=%s records=%d subjects=%d rounds=%d"
                                + " flush_ms_median=%.2f flush_ms_mean=%.2f flush_ms_p90=%.2f round_trips=%.1f"
                                + " statements=%.1f stored=%d expected=%d%n",
                        postgres ? "postgresql" : "h2", ids, records, subjects, rounds,
                        nanos.get(nanos.size() / 2) / 1e6, mean, nanos.get((int) (nanos.size() * 0.9)) / 1e6,
                        (double) calls / rounds, (double) statements / rounds, stored, expected);
                if (stored != expected) {
                    throw new IllegalStateException("stored " + stored + ", consumed " + expected);
                }
            }
        } finally {
            if (postgres) {
                try (Connection c = DriverManager.getConnection(url, user, password);
                     Statement s = c.createStatement()) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                }
            }
        }
    }

    private static long storedTotal(DataSource ds, String prefix) throws SQLException {
        try (Connection c = ds.getConnection();
             var ps = c.prepareStatement("SELECT COALESCE(SUM(used), 0) FROM tollgate_usage WHERE subject LIKE ?")) {
            ps.setString(1, prefix + "%");
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Counts round trips and statements of every connection it hands out. */
    static final class Counting {
        final LongAdder calls = new LongAdder();
        final LongAdder statements = new LongAdder();

        DataSource wrap(DataSource ds) {
            return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                    new Class<?>[] {DataSource.class}, (p, m, a) -> {
                        Object r = invoke(ds, m, a);
                        return r instanceof Connection c ? proxy(c, Connection.class) : r;
                    });
        }

        @SuppressWarnings("unchecked")
        private <T> T proxy(T target, Class<T> type) {
            InvocationHandler h = (p, m, a) -> {
                String name = m.getName();
                Object r = invoke(target, m, a);
                if (name.equals("addBatch")) {
                    statements.increment();
                } else if (name.equals("executeBatch") || name.equals("executeLargeBatch")) {
                    calls.increment();
                } else if (name.startsWith("execute")) {
                    calls.increment();
                    statements.increment();
                }
                if (r instanceof java.sql.PreparedStatement ps) {
                    return proxy(ps, java.sql.PreparedStatement.class);
                }
                if (r instanceof Statement s && !(r instanceof java.sql.PreparedStatement)) {
                    return proxy(s, Statement.class);
                }
                return r;
            };
            return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h);
        }

        private static Object invoke(Object target, Method m, Object[] a) throws Throwable {
            try {
                return m.invoke(target, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    /** A DataSource over {@link DriverManager}, for the pool to draw from. */
    private record DriverDataSource(String url, String user, String password) implements DataSource {
        @Override
        public Connection getConnection() throws SQLException {
            return DriverManager.getConnection(url, user, password);
        }

        @Override
        public Connection getConnection(String u, String p) throws SQLException {
            return DriverManager.getConnection(url, u, p);
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
