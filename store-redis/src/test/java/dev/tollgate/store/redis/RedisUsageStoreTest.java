package dev.tollgate.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.UsageStoreContract;
import dev.tollgate.store.redis.RedisTestServers.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The Redis store: the store contract on one Redis and on a Redis Cluster, and its set-up checks. */
class RedisUsageStoreTest {

    /** A fresh prefix per test, its keys deleted after it. */
    abstract static class OnServer extends UsageStoreContract {
        private String url;

        abstract Server server();

        @Override
        protected UsageStore openStore() {
            url = server().freshUrl();
            return RedisTestServers.store(url);
        }

        @AfterEach
        void deleteKeys() {
            if (url != null) {
                server().clean(url);
            }
        }
    }

    @Nested
    class SingleRedis extends OnServer {
        @Override
        Server server() {
            return Server.SINGLE;
        }
    }

    @Nested
    class RedisCluster extends OnServer {
        @Override
        Server server() {
            return Server.CLUSTER;
        }
    }

    @Test
    void anotherBucketCountOnTheSameDataIsRefusedAtStart() {
        String url = Server.SINGLE.freshUrl();
        try {
            RedisTestServers.store(url + "&buckets=64").close();
            assertThatThrownBy(() -> RedisTestServers.store(url + "&buckets=16"))
                    .isInstanceOf(TollgateException.class)
                    .hasMessageContaining("buckets=64").hasMessageContaining("buckets=16");
        } finally {
            Server.SINGLE.clean(url);
        }
    }

    @Test
    void aRedisThatDoesNotAnswerFailsTheStartNamingIt() {
        TollgateConfig config = TollgateConfig.custom().storeUrl("redis://127.0.0.1:1").metricsEnabled(false).build();
        assertThatThrownBy(() -> RedisUsageStore.open(config)).isInstanceOf(TollgateException.class)
                .hasMessageContaining("Redis 127.0.0.1:1");
    }

    @Test
    void badUrlsNameTheKeyTheValueAndWhatIsExpected() {
        assertThatThrownBy(() -> RedisStoreUrl.parse("redis://u:secret@h:99999"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("tollgate.store.url: 'redis://u:****@h:99999' is not allowed; expected a port from 1 to"
                        + " 65535 after each host");
        assertThatThrownBy(() -> RedisStoreUrl.parse("redis://h?colour=red"))
                .hasMessageContaining("options prefix, buckets and usage-retention only, not 'colour'");
        assertThatThrownBy(() -> RedisStoreUrl.parse("redis-cluster://a:1,b:2/3"))
                .hasMessageContaining("without a database");
        assertThatThrownBy(() -> RedisStoreUrl.parse("redis://a:1,b:2"))
                .hasMessageContaining("one host");
    }

    @Test
    void urlsCarryNodesCredentialsTlsAndOptions() {
        RedisStoreUrl u = RedisStoreUrl.parse("rediss://app:p%40ss@cache.example:6380/2?prefix=shop&buckets=128"
                + "&usage-retention=7d");
        assertThat(u.cluster()).isFalse();
        assertThat(u.tls()).isTrue();
        assertThat(u.nodes()).containsExactly("cache.example:6380");
        assertThat(u.user()).isEqualTo("app");
        assertThat(u.password()).isEqualTo("p@ss");
        assertThat(u.database()).isEqualTo(2);
        assertThat(u.prefix()).isEqualTo("shop");
        assertThat(u.buckets()).isEqualTo(128);
        assertThat(u.usageRetention()).hasDays(7);
        assertThat(u.describe()).doesNotContain("p@ss");

        RedisStoreUrl c = RedisStoreUrl.parse("redis-cluster://h1:7000,h2,h3:7002");
        assertThat(c.cluster()).isTrue();
        assertThat(c.nodes()).containsExactly("h1:7000", "h2:6379", "h3:7002");
        assertThat(c.withDefaultCredentials("u", "pw").password()).isEqualTo("pw");
        assertThat(RedisStoreUrl.parse("redis://:urlpw@h").withDefaultCredentials("u", "pw").password())
                .isEqualTo("urlpw");
    }
}
