package dev.tollgate.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fault proxy itself, against the real test PostgreSQL: each fault does what it says,
 * shown by what the client gets and by the proxy's own counters, never by a stopwatch. The
 * parts that need no server are in {@link FaultProxyRulesTest}.
 */
class FaultProxyTest {
    TestDatabase db;
    FaultProxy proxy;

    @BeforeEach
    void open() throws SQLException {
        db = TestDatabases.postgres();
        proxy = FaultProxy.toTestPostgres();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE probe (id INT PRIMARY KEY)");
        }
    }

    @AfterEach
    void close() {
        // Each part only if set-up got that far (a skipped set-up leaves nothing to close).
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }

    private Connection connect(String... params) throws SQLException {
        return DriverManager.getConnection(proxy.jdbcUrl(db.url(), params), db.user(), db.password());
    }

    private static int one(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private long rows() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM probe").mapTo(Long.class).one());
    }

    @Test
    void passesTrafficThrough() throws SQLException {
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
        }
        assertThat(proxy.accepted()).isEqualTo(1);
    }

    @Test
    void aCutClosesOpenConnectionsAndRefusesNewOnesUntilRestored() throws SQLException {
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
            assertThat(proxy.openConnections()).isEqualTo(1);
            proxy.cut();
            assertThat(proxy.openConnections()).as("the open connection is closed by the cut").isZero();
            assertThatThrownBy(() -> one(c)).isInstanceOf(SQLException.class);
            // Generous client timeouts: a connection left waiting would fail with a timeout,
            // one refused fails at once with a reset, and the proxy counts it.
            assertThatThrownBy(() -> connect("connectTimeout=30", "loginTimeout=60").close())
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(causes(e)).noneMatch(x -> x instanceof SocketTimeoutException)
                            .noneMatch(x -> String.valueOf(x.getMessage()).contains("timed out")));
            assertThat(proxy.resetDuringCut()).isEqualTo(1);
        }
        proxy.pass();
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
        }
    }

    @Test
    void aBlackHoleHoldsTrafficUntilTheClientTimesOutOrTheFaultEnds() throws Exception {
        try (Connection c = connect("socketTimeout=1")) {
            assertThat(one(c)).isEqualTo(1);
            proxy.blackhole();
            // The query is held, so the client gives up by its own read timeout, not by a reset.
            assertThatThrownBy(() -> one(c)).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(causes(e)).anyMatch(x -> x instanceof SocketTimeoutException));
            assertThat(proxy.openConnections()).as("kept open, not closed").isEqualTo(1);
        }
        // Held, not refused: a new connection is accepted and waits; it and its query are
        // answered once the fault ends.
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            int before = proxy.accepted();
            Future<Integer> answer = client.submit(() -> {
                try (Connection c = connect()) {
                    return one(c);
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> proxy.accepted() == before + 1);
            assertThat(answer).as("held while the fault lasts").isNotDone();
            assertThat(proxy.resetDuringCut()).isZero();
            proxy.pass();
            assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        } finally {
            client.shutdownNow();
        }
    }

    @Test
    void slowHoldsEveryAnswerForTheDelay() throws Exception {
        ExecutorService client = Executors.newSingleThreadExecutor();
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
            // A delay far longer than the test: the server's answer waits in the proxy.
            proxy.slow(Duration.ofHours(1));
            Future<Integer> answer = client.submit(() -> one(c));
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> proxy.heldAnswers() > 0);
            assertThat(answer).as("the answer is held for the delay").isNotDone();
            // A short delay applies at once to what is held, and to every later answer.
            proxy.slow(Duration.ofMillis(1));
            assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(one(c)).isEqualTo(1);
            assertThat(proxy.heldAnswers()).isZero();
            proxy.pass();
            assertThat(one(c)).isEqualTo(1);
        } finally {
            client.shutdownNow();
        }
    }

    @Test
    void aDroppedCommitAnswerLeavesTheTransactionCommitted() throws SQLException {
        // Enough commits first that pgjdbc switches its COMMIT to a named server-side statement.
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            for (int i = 0; i < 10; i++) {
                insert(c, i);
                c.commit();
            }
            proxy.dropNextCommitResponses(1);
            insert(c, 100);
            assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
        }
        assertThat(proxy.droppedCommitAnswers()).isEqualTo(1);
        assertThat(rows()).as("the server committed what the client saw fail").isEqualTo(11);

        // The simple-protocol path (preferQueryMode=simple sends COMMIT as a Query message).
        proxy.dropNextCommitResponses(1);
        try (Connection c = connect("preferQueryMode=simple")) {
            c.setAutoCommit(false);
            insert(c, 200);
            assertThatThrownBy(c::commit).isInstanceOf(SQLException.class);
        }
        assertThat(proxy.droppedCommitAnswers()).isEqualTo(2);
        assertThat(rows()).isEqualTo(12);
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
        }
    }

    private static void insert(Connection c, int id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO probe (id) VALUES (?)")) {
            ps.setInt(1, id);
            ps.executeUpdate();
        }
    }

    private static List<Throwable> causes(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable x = e; x != null && !chain.contains(x); x = x.getCause()) {
            chain.add(x);
        }
        return chain;
    }
}
