package dev.tollgate.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Period;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.store.redis.RedisTestServers.Server;
import io.lettuce.core.cluster.SlotHash;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A master of the local Redis Cluster is killed (SIGKILL) while an engine admits and charges
 * requests at a steady rate; its replica takes over. No call fails (admissions go on from held
 * units, then by the fail mode; writes wait in memory and are retried), and the usage lost is
 * at most what the README states: what the dead master acknowledged but had not passed to its
 * replica, at most one flush of its buckets. The killed server is restarted from its config
 * file afterwards and rejoins as a replica, so the cluster is whole again for the next test.
 */
class RedisFailoverTest {
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    private static final Duration FLUSH = Duration.ofMillis(100);
    private static final int SUBJECTS = 60;
    private static final int THREADS = 4;
    /** Requests per second per thread. */
    private static final int RATE = 1_000;

    @Test
    void aMasterKilledUnderLoadIsReplacedByItsReplicaAndNoCallFails() throws Exception {
        String url = Server.CLUSTER.freshUrl();
        RedisStoreUrl u = RedisStoreUrl.parse(url);
        Keys keys = new Keys(u.prefix(), u.buckets(), u.usageRetention());
        long day = Period.DAY.windowStart(NOW, ZoneOffset.UTC).toEpochMilli();
        int slot = SlotHash.getSlot(keys.counter(new UsageKey("s-0", "requests", Period.DAY, day)));
        String victim = ClusterNodes.masterOf(u.nodes().get(0), slot).orElseThrow();
        String observer = u.nodes().stream().filter(n -> !n.equals(victim)).findFirst().orElseThrow();
        long pid = Long.parseLong(ClusterNodes.info(victim, "process_id").orElseThrow());
        String configFile = ClusterNodes.info(victim, "config_file").orElse("");
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        Assumptions.assumeTrue(process.isPresent() && !configFile.isEmpty(),
                "the cluster's servers must run on this machine, each from a config file (as .ci/run starts them)");

        TollgateConfig config = TollgateConfig.custom().storeUrl(url).limit("free", "requests", "1000000000/day")
                .flushInterval(FLUSH).retryWait(Duration.ofMillis(50)).breakerWaitInOpen(Duration.ofMillis(500))
                .queryTimeout(Duration.ofSeconds(2)).shutdownTimeout(Duration.ofSeconds(30)).metricsEnabled(false)
                .build();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong admitted = new AtomicLong();
        AtomicLong denied = new AtomicLong();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        long tookMillis;
        long seconds;
        try (Tollgate t = Tollgate.builder(config).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build()) {
            List<Thread> load = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < THREADS; i++) {
                int id = i;
                Thread th = new Thread(() -> {
                    long next = System.nanoTime();
                    for (long n = id; running.get(); n += THREADS) {
                        next += 1_000_000_000L / RATE;
                        LockSupport.parkNanos(next - System.nanoTime());
                        try {
                            Reservation r = t.reserve("s-" + (n % SUBJECTS), "requests", 1);
                            if (r.decision().allowed()) {
                                r.settle(1);
                                admitted.incrementAndGet();
                            } else {
                                denied.incrementAndGet();
                            }
                        } catch (RuntimeException e) {
                            failures.add(e);
                        }
                    }
                }, "load-" + i);
                th.start();
                load.add(th);
            }
            Thread.sleep(2_000);
            long killedAt = System.nanoTime();
            process.get().destroyForcibly();
            boolean promoted = ClusterNodes.waitFor(() -> ClusterNodes.masterOf(observer, slot)
                    .filter(m -> !m.equals(victim)).isPresent(), Duration.ofSeconds(30));
            tookMillis = (System.nanoTime() - killedAt) / 1_000_000;
            assertThat(promoted).as("a replica took over slot " + slot + " of " + victim).isTrue();
            Thread.sleep(3_000);
            running.set(false);
            for (Thread th : load) {
                th.join();
            }
            seconds = Math.max(1, (System.nanoTime() - start) / 1_000_000_000L);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(t::flush);
            assertThat(t.stats().dropped()).isZero();
        } finally {
            running.set(false);
            restart(configFile, victim, observer);
        }
        List<UsageKey> counters = new ArrayList<>();
        for (int s = 0; s < SUBJECTS; s++) {
            counters.add(new UsageKey("s-" + s, "requests", Period.DAY, day));
        }
        long stored;
        try (RedisUsageStore store = RedisTestServers.store(url)) {
            stored = LongStream.of(store.used(counters)).sum();
        } finally {
            Server.CLUSTER.clean(url);
        }
        long consumed = admitted.get();
        long perFlush = consumed / seconds * FLUSH.toMillis() / 1_000;
        System.out.printf("FAILOVER %s killed: replica serving after %d ms; consumed %d, stored %d, lost %d"
                + " (bound: one flush, %d)%n", victim, tookMillis, consumed, stored, consumed - stored, perFlush);
        assertThat(failures).as("calls that failed").isEmpty();
        assertThat(denied.get()).as("requests denied").isZero();
        assertThat(stored).as("stored (never more than consumed)").isLessThanOrEqualTo(consumed);
        assertThat(consumed - stored).as("usage lost in the failover").isLessThanOrEqualTo(perFlush);
    }

    /** Starts the killed server again and waits until it is a replica of its successor. */
    private static void restart(String configFile, String victim, String observer) throws Exception {
        if (configFile.isEmpty()) {
            return;
        }
        try {
            new ProcessBuilder("redis-server", configFile).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new AssertionError("could not restart " + victim + " from " + configFile, e);
        }
        boolean rejoined = ClusterNodes.waitFor(() -> ClusterNodes.ask(victim, c -> c.sync().info("replication"))
                .filter(i -> i.contains("role:slave") && i.contains("master_link_status:up")).isPresent()
                && ClusterNodes.ask(observer, c -> c.sync().clusterNodes()).filter(n -> !n.contains("fail")).isPresent(),
                Duration.ofSeconds(60));
        assertThat(rejoined).as(victim + " rejoined the cluster as a replica").isTrue();
    }
}
