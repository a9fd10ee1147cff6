package dev.tollgate.spring;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.store.redis.RedisUsageStore;
import io.lettuce.core.AbstractRedisClient;
import java.util.Map;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.util.ClassUtils;

/**
 * The engine on the application's own Redis connection: with
 * {@code tollgate.store.redis.use-application-connection=true}, the Redis store
 * ({@code tollgate-store-redis}) is built on the application's Lettuce {@code RedisClient} or
 * {@code RedisClusterClient} bean, else on the client of its Spring Data Redis
 * {@code LettuceConnectionFactory}; {@code tollgate.store.url}, when it is a Redis URL, then
 * only gives the store's options ({@code prefix}, {@code buckets}, {@code usage-retention}).
 * Without the property a {@code redis://} or {@code redis-cluster://} URL works without this
 * class: the store builds a client of its own from the URL.
 *
 * <p>Applications without Lettuce or without the Redis store are unaffected; the engine of
 * {@link TollgateAutoConfiguration} backs off when this one is defined. The store closes its
 * own connection on shutdown, never the application's client.
 */
@AutoConfiguration(before = TollgateAutoConfiguration.class, afterName = {
        "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
        "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration"})
@ConditionalOnClass(name = {"dev.tollgate.store.redis.RedisUsageStore", "io.lettuce.core.AbstractRedisClient"})
public class TollgateRedisAutoConfiguration {
    static final String USE_APPLICATION_CONNECTION = "tollgate.store.redis.use-application-connection";
    private static final String FACTORY = "org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory";

    /** The engine on the application's Redis client, when asked for. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty(name = "tollgate.enabled", matchIfMissing = true)
    @ConditionalOnBooleanProperty(name = USE_APPLICATION_CONNECTION)
    static class ApplicationConnection {

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        Tollgate tollgate(TollgateConfig config, ObjectProvider<AbstractRedisClient> clients,
                          ListableBeanFactory beans) {
            AbstractRedisClient client = clients.getIfUnique();
            if (client == null) {
                client = fromConnectionFactory(beans);
            }
            if (client == null) {
                throw new IllegalStateException(USE_APPLICATION_CONNECTION + "=true needs one Lettuce RedisClient or"
                        + " RedisClusterClient bean, or one Spring Data Redis LettuceConnectionFactory; found none");
            }
            return Tollgate.builder(config).store(RedisUsageStore.on(client, config)).build();
        }

        private static AbstractRedisClient fromConnectionFactory(ListableBeanFactory beans) {
            return ClassUtils.isPresent(FACTORY, TollgateRedisAutoConfiguration.class.getClassLoader())
                    ? SpringDataRedis.client(beans) : null;
        }
    }

    /** Touches Spring Data Redis only when it is on the class path. */
    private static final class SpringDataRedis {
        static AbstractRedisClient client(ListableBeanFactory beans) {
            Map<String, LettuceConnectionFactory> factories = beans.getBeansOfType(LettuceConnectionFactory.class);
            return factories.size() == 1 ? factories.values().iterator().next().getNativeClient() : null;
        }
    }
}
