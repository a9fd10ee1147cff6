package dev.tollgate.store.redis;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.UsageStoreProvider;

/**
 * Opens a {@link RedisUsageStore} for {@code redis://}, {@code rediss://},
 * {@code redis-cluster://} and {@code rediss-cluster://} URLs ({@link RedisStoreUrl}). Listed
 * in {@code META-INF/services}, so putting {@code tollgate-store-redis} on the class path and
 * setting {@code tollgate.store.url} is all it takes. Stateless and thread-safe.
 */
public final class RedisStoreProvider implements UsageStoreProvider {

    @Override
    public boolean accepts(String url) {
        return RedisStoreUrl.isRedis(url);
    }

    @Override
    public UsageStore open(TollgateConfig config) {
        return RedisUsageStore.open(config);
    }

    @Override
    public String describe() {
        return "redis://[user:password@]host:port[/db], rediss://…, redis-cluster://host:port,host:port…,"
                + " rediss-cluster://…";
    }
}
