package dev.tollgate.store.redis;

import dev.tollgate.core.TollgateConfig;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real Redis servers the tests use: a single Redis ({@code TOLLGATE_TEST_REDIS_URL},
 * default {@value #DEFAULT_URL}) and a Redis Cluster ({@code TOLLGATE_TEST_REDIS_CLUSTER_URL},
 * default {@value #DEFAULT_CLUSTER_URL}), the ones {@code .ci/run} starts. Each test works
 * under a key prefix of its own and deletes its keys afterwards ({@link Server#clean}). When a
 * server does not answer, its tests are skipped with a {@code SKIPPED Redis test: …} line on
 * stderr, unless {@code tollgate.test.redis.required=true} or
 * {@code TOLLGATE_TEST_REDIS_REQUIRED=true} is set (CI sets it): then they fail.
 */
public final class RedisTestServers {
    public static final String DEFAULT_URL = "redis://127.0.0.1:6379";
    public static final String DEFAULT_CLUSTER_URL =
            "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005";

    /** The two kinds of server. */
    public enum Server {
        SINGLE, CLUSTER;

        /** The server's URL without options. */
        public String url() {
            return this == SINGLE ? env("TOLLGATE_TEST_REDIS_URL", DEFAULT_URL)
                    : env("TOLLGATE_TEST_REDIS_CLUSTER_URL", DEFAULT_CLUSTER_URL);
        }

        /** The URL with a fresh key prefix; skips (or fails) the test when the server does not answer. */
        public String freshUrl() {
            require(this);
            return url() + "?prefix=t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        }

        /** Deletes every key under the prefix of {@code url} (made by {@link #freshUrl}). */
        public void clean(String url) {
            String prefix = RedisStoreUrl.parse(url).prefix();
            if (this == SINGLE) {
                RedisClient c = RedisClient.create(RedisURI.create(url()));
                try (StatefulRedisConnection<String, String> conn = c.connect()) {
                    List<String> keys = conn.sync().keys(prefix + ":*");
                    if (!keys.isEmpty()) {
                        conn.sync().del(keys.toArray(String[]::new));
                    }
                } finally {
                    c.shutdown(0, 2, TimeUnit.SECONDS);
                }
            } else {
                RedisClusterClient c = clusterClient();
                try (StatefulRedisClusterConnection<String, String> conn = c.connect()) {
                    List<String> keys = conn.sync().keys(prefix + ":*");
                    if (!keys.isEmpty()) {
                        conn.sync().del(keys.toArray(String[]::new));
                    }
                } finally {
                    c.shutdown(0, 2, TimeUnit.SECONDS);
                }
            }
        }
    }

    private RedisTestServers() {
    }

    /** A client of the test cluster (the caller shuts it down). */
    public static RedisClusterClient clusterClient() {
        RedisStoreUrl u = RedisStoreUrl.parse(Server.CLUSTER.url());
        return RedisClusterClient.create(u.nodes().stream().map(n -> RedisURI.create("redis://" + n)).toList());
    }

    /** A store on {@code url}, with the engine's defaults otherwise. */
    public static RedisUsageStore store(String url) {
        return RedisUsageStore.open(TollgateConfig.custom().storeUrl(url).queryTimeout(Duration.ofSeconds(5))
                .metricsEnabled(false).build());
    }

    /** Whether Redis tests must run (and fail when no server answers). */
    public static boolean required() {
        return Boolean.parseBoolean(System.getProperty("tollgate.test.redis.required", "false"))
                || Boolean.parseBoolean(env("TOLLGATE_TEST_REDIS_REQUIRED", "false"));
    }

    /** Skips (or fails, when required) the calling test if the server does not answer. */
    public static void require(Server server) {
        String problem = null;
        try {
            if (server == Server.SINGLE) {
                RedisClient c = RedisClient.create(RedisURI.create(server.url()));
                c.setDefaultTimeout(Duration.ofSeconds(2));
                try (StatefulRedisConnection<String, String> conn = c.connect()) {
                    conn.sync().ping();
                } finally {
                    c.shutdown(0, 2, TimeUnit.SECONDS);
                }
            } else {
                RedisClusterClient c = clusterClient();
                c.setDefaultTimeout(Duration.ofSeconds(2));
                try (StatefulRedisClusterConnection<String, String> conn = c.connect()) {
                    String info = conn.sync().clusterInfo();
                    if (!info.contains("cluster_state:ok")) {
                        problem = "cluster_state is not ok";
                    }
                } finally {
                    c.shutdown(0, 2, TimeUnit.SECONDS);
                }
            }
        } catch (RuntimeException e) {
            problem = e.getMessage();
        }
        if (problem == null) {
            return;
        }
        String what = server.name().toLowerCase(Locale.ROOT);
        String msg = "Redis (" + what + ") at " + server.url() + " does not answer: " + problem;
        if (required()) {
            Assertions.fail(msg + " — Redis tests are required (tollgate.test.redis.required=true)");
        }
        System.err.println("SKIPPED Redis test: " + msg + " (set TOLLGATE_TEST_REDIS_URL / "
                + "TOLLGATE_TEST_REDIS_CLUSTER_URL, or run .ci/run which starts both)");
        Assumptions.abort(msg);
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }
}
