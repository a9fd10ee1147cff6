package dev.tollgate.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Period;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import dev.tollgate.store.redis.RedisTestServers.Server;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A write whose answer is lost (the server applied it; the client saw its connection close)
 * is applied once when it is sent again under the same batch id, by the store and by the
 * engine's retry of an in-doubt flush. Real Redis behind a proxy that swallows one answer.
 */
class LostAnswerTest {
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    private String url;
    private String proxiedUrl;
    private AnswerDroppingProxy proxy;

    @BeforeEach
    void start() throws Exception {
        url = Server.SINGLE.freshUrl();
        RedisStoreUrl u = RedisStoreUrl.parse(url);
        String node = u.nodes().get(0);
        int colon = node.lastIndexOf(':');
        proxy = new AnswerDroppingProxy(node.substring(0, colon), Integer.parseInt(node.substring(colon + 1)));
        proxiedUrl = "redis://127.0.0.1:" + proxy.port() + "?prefix=" + u.prefix();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (url != null) {
            Server.SINGLE.clean(url);
        }
    }

    private static UsageKey day(String subject) {
        return new UsageKey(subject, "requests", Period.DAY, Period.DAY.windowStart(NOW, ZoneOffset.UTC).toEpochMilli());
    }

    /**
     * A first write makes the server know the write script, so that the answer the proxy loses
     * is the write's own (not a NOSCRIPT answer, after which the script is sent whole).
     */
    private static void loadScripts(UsageStore direct) {
        direct.apply(new WriteBatch("warm-up", "node-w", NOW, Duration.ofSeconds(30),
                List.of(new UsageDelta(day("warm-up"), 1))));
    }

    @Test
    void aBatchWhoseAnswerWasLostIsAppliedOnceWhenSentAgain() {
        UsageKey k = day("alice");
        WriteBatch batch = new WriteBatch("lost-1", "node-a", NOW, Duration.ofSeconds(30), List.of(new UsageDelta(k, 7)));
        try (UsageStore through = RedisTestServers.store(proxiedUrl); UsageStore direct = RedisTestServers.store(url)) {
            loadScripts(direct);
            proxy.dropNextAnswer();
            boolean inDoubt = false;
            UsageStore.Applied first = null;
            try {
                first = through.apply(batch);
            } catch (InDoubtException e) {
                inDoubt = true;
            }
            // Never a plain failure (the engine would write the usage again under a new id): in
            // doubt, or, when the client re-sent it on its new connection, "applied before".
            assertThat(inDoubt || !first.appliedNow()).as("reported in doubt or applied before").isTrue();
            assertThat(proxy.dropped()).as("answers lost").isEqualTo(1);
            assertThat(direct.used(List.of(k))[0]).as("the server applied it").isEqualTo(7);
            // Sent again (by the engine, or by the client's reconnect): nothing changes.
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> !through.apply(batch).appliedNow());
            assertThat(direct.used(List.of(k))[0]).isEqualTo(7);
            assertThat(direct.appliedBatches(List.of("lost-1"))).containsExactly("lost-1");
        }
    }

    @Test
    void anEnginesFlushRetriedAfterALostAnswerIsAppliedOnce() {
        TollgateConfig config = TollgateConfig.custom().storeUrl(proxiedUrl).limit("free", "requests", "1000000/day")
                .flushInterval(Duration.ofHours(1)).retryWait(Duration.ofMillis(10)).retryMaxAttempts(1)
                .queryTimeout(Duration.ofSeconds(2)).metricsEnabled(false).build();
        try (Tollgate t = Tollgate.builder(config).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
             UsageStore direct = RedisTestServers.store(url)) {
            loadScripts(direct);
            // The subject's plan is read and a grant taken now, so the next answer is the flush's.
            assertThat(t.check("bob", "requests", 1).allowed()).isTrue();
            for (int i = 0; i < 25; i++) {
                t.consume("bob", "requests", 1);
            }
            proxy.dropNextAnswer();
            t.flush();
            assertThat(proxy.dropped()).isEqualTo(1);
            assertThat(direct.used(List.of(day("bob")))[0]).as("applied by the server at once").isEqualTo(25);
            // Whatever the first flush reported, later flushes leave exactly what was consumed.
            await().atMost(Duration.ofSeconds(20)).until(t::flush);
            t.consume("bob", "requests", 1);
            await().atMost(Duration.ofSeconds(20)).until(t::flush);
            assertThat(direct.used(List.of(day("bob")))[0]).isEqualTo(26);
            assertThat(t.stats().dropped()).isZero();
        }
    }
}
