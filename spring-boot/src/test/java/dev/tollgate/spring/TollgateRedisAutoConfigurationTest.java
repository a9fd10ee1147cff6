package dev.tollgate.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Period;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.store.redis.RedisStoreUrl;
import dev.tollgate.store.redis.RedisTestServers;
import dev.tollgate.store.redis.RedisTestServers.Server;
import dev.tollgate.store.redis.RedisUsageStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/** The engine on Redis in a Spring Boot application: from the URL, or on the application's own connection. */
class TollgateRedisAutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TollgateAutoConfiguration.class,
                    TollgateRedisAutoConfiguration.class));
    private String url;

    @AfterEach
    void deleteKeys() {
        if (url != null) {
            Server.SINGLE.clean(url);
        }
    }

    private long stored(String subject) {
        long day = Period.DAY.windowStart(Instant.now(), ZoneOffset.UTC).toEpochMilli();
        try (RedisUsageStore store = RedisTestServers.store(url)) {
            return store.used(List.of(new UsageKey(subject, "requests", Period.DAY, day)))[0];
        }
    }

    private static void consumeThree(Tollgate t, String subject) {
        t.consume(subject, "requests", 3);
        assertThat(t.flush()).isTrue();
    }

    @Test
    void aRedisUrlAloneSelectsTheRedisStoreWithAClientOfItsOwn() {
        url = Server.SINGLE.freshUrl();
        runner.withPropertyValues("tollgate.store.url=" + url, "tollgate.plans.free.requests=100/day")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(Tollgate.class);
                    consumeThree(context.getBean(Tollgate.class), "from-url");
                });
        assertThat(stored("from-url")).isEqualTo(3);
    }

    @Test
    void onTheApplicationsLettuceClientTheUrlGivesOnlyTheOptionsAndTheClientStaysOpen() {
        url = Server.SINGLE.freshUrl();
        RedisClient client = RedisClient.create(RedisURI.create(Server.SINGLE.url()));
        try {
            // The URL's host is never contacted: the application's client is used.
            String options = "redis://unused.invalid:1?prefix=" + RedisStoreUrl.parse(url).prefix();
            runner.withBean(RedisClient.class, () -> client, b -> b.setDestroyMethodName(""))
                    .withPropertyValues("tollgate.store.url=" + options, "tollgate.plans.free.requests=100/day",
                            TollgateRedisAutoConfiguration.USE_APPLICATION_CONNECTION + "=true")
                    .run(context -> {
                        assertThat(context).hasNotFailed().hasSingleBean(Tollgate.class);
                        consumeThree(context.getBean(Tollgate.class), "on-client");
                    });
            assertThat(stored("on-client")).isEqualTo(3);
            try (var conn = client.connect()) {
                assertThat(conn.sync().ping()).isEqualTo("PONG");
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void onASpringDataRedisConnectionFactory() {
        url = Server.SINGLE.freshUrl();
        RedisStoreUrl u = RedisStoreUrl.parse(url);
        String node = u.nodes().get(0);
        int colon = node.lastIndexOf(':');
        runner.withBean(LettuceConnectionFactory.class, () -> new LettuceConnectionFactory(
                        new RedisStandaloneConfiguration(node.substring(0, colon),
                                Integer.parseInt(node.substring(colon + 1)))))
                .withPropertyValues("tollgate.store.url=redis://unused.invalid:1?prefix=" + u.prefix(),
                        "tollgate.plans.free.requests=100/day",
                        TollgateRedisAutoConfiguration.USE_APPLICATION_CONNECTION + "=true")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(Tollgate.class);
                    consumeThree(context.getBean(Tollgate.class), "on-factory");
                });
        assertThat(stored("on-factory")).isEqualTo(3);
    }

    @Test
    void withoutAnyRedisConnectionTheStartFailsSayingWhatIsMissing() {
        runner.withPropertyValues(TollgateRedisAutoConfiguration.USE_APPLICATION_CONNECTION + "=true")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("needs one Lettuce RedisClient or RedisClusterClient bean"));
    }
}
