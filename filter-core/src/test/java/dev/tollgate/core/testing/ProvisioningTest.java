package dev.tollgate.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a fresh machine relies on: the test role and database are created when missing, by
 * several test JVMs at once (four connections here, each its own session, as four JVMs would
 * be), and again harmlessly when they exist. Uses a role and database of its own, dropped
 * afterwards.
 */
class ProvisioningTest {

    @Test
    void fourSessionsAtOnceCreateTheRoleAndDatabaseOnceAndTheRoleCanUseThem() throws Exception {
        TestDatabases.requirePostgres();
        String name = "tollgate_prov_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10)
                .toLowerCase(Locale.ROOT);
        String base = TestDatabases.pgUrl();
        String url = base.substring(0, base.lastIndexOf('/') + 1) + name;
        String password = "pw-" + name;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Callable<String> provision = () -> {
                    go.await();
                    return TestDatabases.provision(url, name, password);
                };
                results.add(pool.submit(provision));
            }
            go.countDown();
            for (Future<String> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).as("provisioning failed").isNull();
            }
            assertThat(TestDatabases.provision(url, name, password)).as("again, when it all exists").isNull();

            try (Connection c = DriverManager.getConnection(url, name, password); Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA s1");
                st.execute("CREATE TABLE s1.t (id INT)");
                try (ResultSet rs = st.executeQuery("SELECT current_user, current_database()")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo(name);
                    assertThat(rs.getString(2)).isEqualTo(name);
                }
            }
        } finally {
            pool.shutdownNow();
            drop(base, name);
        }
    }

    @Test
    void aServerOnAnotherMachineOrANameThatIsNotAPlainIdentifierIsNeverProvisioned() {
        assertThat(TestDatabases.provision("jdbc:postgresql://db.example.com:5432/tollgate_test", "tollgate", "x"))
                .startsWith("not a server on this machine");
        assertThat(TestDatabases.provision("jdbc:postgresql://127.0.0.1:5432/tollgate-test", "tollgate", "x"))
                .contains("is not a plain identifier");
        assertThat(TestDatabases.provision("jdbc:postgresql://127.0.0.1:5432/tollgate_test", "x';DROP ROLE postgres;--",
                "x")).contains("is not a plain identifier");
    }

    /** Drops the database and role, as the superuser that created them. */
    private static void drop(String base, String name) throws Exception {
        String admin = base.substring(0, base.lastIndexOf('/') + 1) + "postgres";
        for (String su : List.of("postgres", System.getProperty("user.name"))) {
            try (Connection c = DriverManager.getConnection(admin, su, ""); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + name);
                st.execute("DROP ROLE IF EXISTS " + name);
                return;
            } catch (java.sql.SQLException e) {
                // try the next superuser
            }
        }
    }
}
