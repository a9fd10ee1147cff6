package dev.tollgate.core.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Period;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.store.redis.RedisTestServers;
import dev.tollgate.store.redis.RedisTestServers.Server;
import dev.tollgate.store.redis.RedisUsageStore;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Three nodes, each its own JVM ({@link NodeMain} from filter-core's test-jar, selecting the
 * Redis store by its URL), admitting against one limit on the Redis Cluster: together they
 * never admit more than the limit, and they use nearly all of it.
 */
class RedisClusterNodesTest {

    @Test
    void threeNodesHammeringOneKeyOnTheClusterAdmitAtMostTheLimitAndNearlyAllOfIt() throws Exception {
        long limit = 2_000;
        String url = Server.CLUSTER.freshUrl();
        List<ChildJvm> nodes = new ArrayList<>();
        try (RedisUsageStore store = RedisTestServers.store(url)) {
            List<String> args = new ArrayList<>(List.of("url=" + url, "mode=admit", "subject=hot", "limit=" + limit,
                    "threads=2", "seconds=5", "flush=100"));
            nodes.addAll(Nodes.start(3, "redis-allot", args));
            AtomicLong highest = new AtomicLong();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> {
                while (watching.get()) {
                    highest.accumulateAndGet(stored(store), Math::max);
                    LockSupport.parkNanos(2_000_000);
                }
            });
            try {
                watcher.start();
                Nodes.go(nodes);
                List<long[]> results = Nodes.done(nodes, Duration.ofMinutes(2));
                long admitted = results.stream().mapToLong(r -> r[0]).sum();
                assertThat(results).allSatisfy(r -> assertThat(r[0]).as("admitted by one node").isPositive());
                assertThat(admitted).as("admitted by the three nodes").isBetween(limit - limit / 100, limit);
                assertThat(stored(store)).isEqualTo(admitted);
            } finally {
                watching.set(false);
                watcher.join();
            }
            assertThat(highest.get()).as("highest stored value seen while they ran").isLessThanOrEqualTo(limit);
        } finally {
            for (ChildJvm n : nodes) {
                n.close();
            }
            Server.CLUSTER.clean(url);
        }
    }

    private static long stored(RedisUsageStore store) {
        // The nodes' clock is the system's: today's window (a run across midnight UTC would read 0 here and fail).
        long day = Period.DAY.windowStart(Instant.now(), ZoneOffset.UTC).toEpochMilli();
        return store.used(List.of(new UsageKey("hot", "requests", Period.DAY, day)))[0];
    }
}
