package dev.tollgate.bench;

import dev.tollgate.store.redis.RedisStoreUrl;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Deletes the keys a benchmark wrote under its prefix on a Redis or a Redis Cluster. Stateless. */
public final class RedisCleanup {
    private RedisCleanup() {
    }

    public static void delete(String url) {
        RedisStoreUrl u = RedisStoreUrl.parse(url);
        String pattern = u.prefix() + ":*";
        List<RedisURI> uris = u.nodes().stream().map(n -> RedisURI.create("redis://" + n)).toList();
        if (u.cluster()) {
            RedisClusterClient c = RedisClusterClient.create(uris);
            try (StatefulRedisClusterConnection<String, String> conn = c.connect()) {
                List<String> keys = conn.sync().keys(pattern);
                for (int i = 0; i < keys.size(); i += 1000) {
                    conn.sync().del(keys.subList(i, Math.min(keys.size(), i + 1000)).toArray(String[]::new));
                }
            } finally {
                c.shutdown(0, 2, TimeUnit.SECONDS);
            }
        } else {
            RedisClient c = RedisClient.create(uris.get(0));
            try (StatefulRedisConnection<String, String> conn = c.connect()) {
                List<String> keys = conn.sync().keys(pattern);
                for (int i = 0; i < keys.size(); i += 1000) {
                    conn.sync().del(keys.subList(i, Math.min(keys.size(), i + 1000)).toArray(String[]::new));
                }
            } finally {
                c.shutdown(0, 2, TimeUnit.SECONDS);
            }
        }
    }
}
