package dev.tollgate.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Period;
import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.testing.ProducerLoad;
import dev.tollgate.store.redis.RedisTestServers.Server;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Exact totals through the engine on the Redis Cluster: what eight producers consume is what
 * the shards hold, summed over every counter, with grants taken on the way (the quota has a
 * limit, so every counter is written with its granted part).
 */
class RedisEngineTotalsTest {
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    private String url;

    @AfterEach
    void deleteKeys() {
        if (url != null) {
            Server.CLUSTER.clean(url);
        }
    }

    @Test
    void eightProducersTimesOneHundredThousandConsumesAreStoredExactlyOnTheCluster() throws Exception {
        url = Server.CLUSTER.freshUrl();
        int threads = 8;
        int perThread = 100_000;
        int coldSubjects = 500;
        TollgateConfig config = TollgateConfig.custom().storeUrl(url)
                .limit("free", "requests", "1000000000/day")
                .flushInterval(Duration.ofMillis(50)).retryWait(Duration.ofMillis(5))
                .shutdownTimeout(Duration.ofSeconds(30)).metricsEnabled(false).build();
        Tollgate t = Tollgate.builder(config).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        try {
            ProducerLoad.run(t, threads, perThread, coldSubjects);
            assertThat(t.flush()).isTrue();

            long total = (long) threads * perThread;
            Stats s = t.stats();
            assertThat(s.total()).isEqualTo(total);
            assertThat(s.unitsWritten()).isEqualTo(total);
            assertThat(s.dropped()).isZero();
        } finally {
            t.close();
        }
        long day = Period.DAY.windowStart(NOW, ZoneOffset.UTC).toEpochMilli();
        List<UsageKey> keys = new ArrayList<>();
        keys.add(new UsageKey("hot", "requests", Period.DAY, day));
        for (int s = 0; s < coldSubjects; s++) {
            keys.add(new UsageKey("cold-" + s, "requests", Period.DAY, day));
        }
        try (RedisUsageStore store = RedisTestServers.store(url)) {
            long[] used = store.used(keys);
            assertThat(used[0]).as("hot").isEqualTo((long) threads * perThread / 2);
            assertThat(LongStream.of(used).sum()).as("every counter").isEqualTo((long) threads * perThread);
        }
    }
}
