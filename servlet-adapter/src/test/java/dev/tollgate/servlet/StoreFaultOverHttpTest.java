package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.FaultProxy;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.servlet.OutageDrill.Fault;
import dev.tollgate.servlet.OutageDrill.Plan;
import dev.tollgate.servlet.OutageDrill.Report;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bounded (CI) versions of the store-outage scenarios: steady load over real HTTP through
 * the filter booted from the test web app's web.xml, its engine building its own pool to the
 * real PostgreSQL through a {@link FaultProxy}. A few seconds of fault each; the 10 s
 * versions run against the packaged servlet demo from
 * {@code benchmarks/faults/run-outage-scenarios.sh}.
 *
 * <p>In every scenario: no request fails, none needed the store while it was faulty (a check
 * that did would have failed open, and the engine counts those), and after recovery the store
 * holds exactly one unit per request served — nothing lost, nothing counted twice. Latencies
 * are printed, not asserted: on a shared machine they measure the machine; that a request
 * never waits for the store is shown in filter-core's {@code StoreNetworkFaultTest}.
 */
class StoreFaultOverHttpTest {
    TestDatabase db;
    FaultProxy proxy;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        db = TestDatabases.postgres();
        proxy = FaultProxy.toTestPostgres();
        server = TestServer.start(TestServer.params(
                "tollgate.store.url", proxy.jdbcUrl(db.url()),
                "tollgate.store.user", db.user(),
                "tollgate.store.password", db.password(),
                "tollgate.plans.free.requests", "1000000000/day",
                "tollgate.async.flush-interval", "100ms",
                "tollgate.async.retry.max-attempts", "2",
                "tollgate.async.retry.wait", "20ms",
                "tollgate.async.circuit-breaker.wait-in-open", "500ms",
                "tollgate.store.query-timeout", "1s",
                "tollgate.store.connect-timeout", "2s"), Map.of());
    }

    @AfterEach
    void stop() throws Exception {
        // Each part only if set-up got that far (a skipped set-up leaves nothing to close).
        try {
            if (proxy != null) {
                proxy.pass();
            }
            if (server != null) {
                server.close();
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            if (db != null) {
                db.close();
            }
        }
    }

    private Report drill(Fault fault, Duration length, Duration slowBy, int lostCommits) throws Exception {
        OutageDrill.Target target = new OutageDrill.Target() {
            @Override
            public URI base() {
                return server.uri("/");
            }

            @Override
            public String adminToken() {
                return ServletTestSupport.ADMIN_TOKEN;
            }

            @Override
            public String path() {
                return "/api/hello";
            }

            @Override
            public void close() {
            }
        };
        Report r = new OutageDrill(target, proxy, db).run(new Plan(fault, length, Duration.ofSeconds(10), slowBy,
                lostCommits, 3, 20, Duration.ofMillis(700), Duration.ofSeconds(30), Duration.ofMillis(5)));
        System.err.println(Report.header());
        System.err.println(r.row());
        assertThat(r.otherStatuses()).as("every request answered 2xx").isEmpty();
        assertThat(r.serverErrors()).isZero();
        assertThat(r.during().count()).isPositive();
        // Every key was cached before the fault: no request needed the store (one that did,
        // during a cut or a black hole, could only have failed open, and been counted).
        assertThat(r.failOpen()).as("requests that needed the store").isZero();
        assertThat(r.stored()).as("stored units == requests served").isEqualTo(r.ok());
        assertThat(r.dropped()).isZero();
        assertThat(r.appliedBatchIds()).as("one applied batch id per committed batch").isEqualTo(r.batches());
        assertThat(r.healthUpAtEnd()).isTrue();

        // Closing the app writes nothing more and loses nothing.
        server.close();
        server = null;
        assertThat(db.storedTotal("requests", "DAY")).isEqualTo(r.ok());
        return r;
    }

    @Test
    void postgresCutForTwoSeconds() throws Exception {
        Report r = drill(Fault.CUT, Duration.ofSeconds(2), Duration.ZERO, 0);
        assertThat(r.breakerOpenedAfter()).as("breaker opened").isNotNull();
        assertThat(r.breakerClosedAfterRestore()).as("breaker closed again").isNotNull();
        assertThat(r.deferred()).as("usage deferred during the cut, written after").isPositive();
        assertThat(r.storeErrors()).isPositive();
    }

    @Test
    void postgresBlackHoledForTwoSeconds() throws Exception {
        Report r = drill(Fault.BLACKHOLE, Duration.ofSeconds(2), Duration.ZERO, 0);
        assertThat(r.breakerOpenedAfter()).as("breaker opened").isNotNull();
        assertThat(r.breakerClosedAfterRestore()).as("breaker closed again").isNotNull();
        assertThat(r.deferred()).isPositive();
    }

    @Test
    void postgresAnsweringOneSecondLate() throws Exception {
        Report r = drill(Fault.SLOW, Duration.ofSeconds(3), Duration.ofSeconds(1), 0);
        assertThat(r.during().count()).as("requests served while the store answered late").isPositive();
    }

    @Test
    void answersToThreeCommitsLost() throws Exception {
        Report r = drill(Fault.LOST_COMMITS, Duration.ofMillis(500), Duration.ZERO, 3);
        assertThat(r.lostCommitAnswers()).isEqualTo(3);
        assertThat(r.storeErrors()).as("each lost answer failed an attempt that was retried").isGreaterThanOrEqualTo(3);
    }
}
