package dev.tollgate.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fault proxy itself, against the real test PostgreSQL: each fault does what it says. */
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
        proxy.close();
        db.close();
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
        try (Connection c = connect("connectTimeout=2", "loginTimeout=3")) {
            assertThat(one(c)).isEqualTo(1);
            proxy.cut();
            assertThatThrownBy(() -> one(c)).isInstanceOf(SQLException.class);
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> connect("connectTimeout=2", "loginTimeout=3").close())
                    .isInstanceOf(SQLException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("refused, not left waiting")
                    .isLessThan(Duration.ofSeconds(3));
            assertThat(proxy.resetDuringCut()).isEqualTo(1);
        }
        proxy.pass();
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
        }
    }

    @Test
    void aBlackHoleHoldsTrafficUntilTheClientTimesOutOrTheFaultEnds() throws SQLException {
        try (Connection c = connect("socketTimeout=1")) {
            assertThat(one(c)).isEqualTo(1);
            proxy.blackhole();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> one(c)).isInstanceOf(SQLException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        // Held, not refused: a new connection and its query are answered once the fault ends.
        Thread lift = new Thread(() -> {
            sleep(500);
            proxy.pass();
        });
        long t0 = System.nanoTime();
        lift.start();
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }

    @Test
    void slowDelaysEveryAnswer() throws SQLException {
        try (Connection c = connect()) {
            assertThat(one(c)).isEqualTo(1);
            proxy.slow(Duration.ofMillis(300));
            long t0 = System.nanoTime();
            assertThat(one(c)).isEqualTo(1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(300);
            proxy.pass();
            assertThat(one(c)).isEqualTo(1);
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

    @Test
    void recognisesCommitStatements() {
        assertThat(FaultProxy.isCommit("COMMIT")).isTrue();
        assertThat(FaultProxy.isCommit(" commit ; ")).isTrue();
        assertThat(FaultProxy.isCommit("END TRANSACTION")).isTrue();
        assertThat(FaultProxy.isCommit("COMMIT PREPARED 'x'")).isFalse();
        assertThat(FaultProxy.isCommit("SELECT 'COMMIT'")).isFalse();
    }

    private static void insert(Connection c, int id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO probe (id) VALUES (?)")) {
            ps.setInt(1, id);
            ps.executeUpdate();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
