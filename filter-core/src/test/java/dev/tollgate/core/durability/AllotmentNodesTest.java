package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Reservation;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Several nodes, each its own JVM with its own allotments, admitting against one limit on one
 * PostgreSQL: they never admit more than the limit together, they use nearly all of it while
 * they are alive, and a node killed while it holds units strands them only until its grants
 * expire.
 */
class AllotmentNodesTest {

    private static void createSchema(TestDatabase db) {
        Tollgate.builder(TollgateConfig.custom().metricsEnabled(false).build()).dataSource(db.dataSource()).build()
                .close();
    }

    @Test
    void fourNodesHammeringOneKeyAdmitAtMostTheLimitAndNearlyAllOfIt() throws Exception {
        long limit = 2_000;
        try (TestDatabase db = TestDatabases.postgres()) {
            createSchema(db);
            List<String> args = Nodes.base(db);
            args.addAll(List.of("mode=admit", "subject=hot", "limit=" + limit, "threads=2", "seconds=5", "flush=100"));
            List<ChildJvm> nodes = Nodes.start(4, "allot", args);
            AtomicLong highest = new AtomicLong();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> {
                while (watching.get()) {
                    highest.accumulateAndGet(db.storedTotal("hot", "requests", "DAY"), Math::max);
                    LockSupport.parkNanos(2_000_000);
                }
            });
            try {
                watcher.start();
                Nodes.go(nodes);
                List<long[]> results = Nodes.done(nodes, Duration.ofMinutes(2));
                long admitted = results.stream().mapToLong(r -> r[0]).sum();
                assertThat(admitted).as("admitted by the four nodes").isBetween(limit - limit / 100, limit);
                assertThat(db.storedTotal("hot", "requests", "DAY")).isEqualTo(admitted);
            } finally {
                watching.set(false);
                watcher.join();
                for (ChildJvm n : nodes) {
                    n.close();
                }
            }
            assertThat(highest.get()).as("highest stored value seen while they ran").isLessThanOrEqualTo(limit);
        }
    }

    @Test
    void aNodeKilledWhileHoldingUnitsStrandsThemOnlyUntilItsGrantsExpire() throws Exception {
        long limit = 100;
        try (TestDatabase db = TestDatabases.postgres()) {
            createSchema(db);
            List<String> args = Nodes.base(db);
            args.addAll(List.of("mode=hold", "subject=k", "amount=60", "limit=" + limit, "expiry=2000"));
            TollgateConfig config = TollgateConfig.custom().metricsEnabled(false)
                    .limit("free", "requests", limit + "/day").allotmentExpiry(Duration.ofSeconds(2)).build();
            long admitted = 0;
            try (ChildJvm holder = ChildJvm.start("holder", args.toArray(String[]::new));
                 Tollgate other = Tollgate.builder(config).dataSource(db.dataSource()).build()) {
                holder.await("READY"::equals, Nodes.STARTUP);
                assertThat(holder.await(l -> l.startsWith("HOLD"), Nodes.STARTUP)).isEqualTo("HOLD true");
                holder.kill();
                // The dead node's 60 (and what its renewal took besides) still count.
                admitted += take(other, 50);
                assertThat(admitted).isPositive().isLessThanOrEqualTo(limit - 60);
                // Once its grant expires, they come back.
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                        .until(() -> take(other, 1) == 1);
                admitted += 1;
                admitted += take(other, 100);
                assertThat(admitted).isEqualTo(limit);
                assertThat(other.flush()).isTrue();
            }
            assertThat(db.storedTotal("k", "requests", "DAY")).isEqualTo(limit);
        }
    }

    /** Admits up to {@code n} requests of one unit, settling each; returns how many were admitted. */
    private static long take(Tollgate t, int n) {
        long admitted = 0;
        for (int i = 0; i < n; i++) {
            Reservation r = t.reserve("k", "requests", 1);
            if (!r.decision().allowed()) {
                break;
            }
            r.settle(1);
            admitted++;
        }
        return admitted;
    }
}
