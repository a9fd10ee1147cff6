package dev.tollgate.gateway;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.Settings;
import javax.sql.DataSource;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.gateway.filter.factory.GatewayFilterFactory;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.scheduler.Schedulers;

/**
 * Auto-configuration of Tollgate for Spring Cloud Gateway: binds {@code tollgate.*}, starts
 * the engine (from {@code tollgate.store.*}, else from the application's only
 * {@link DataSource}, else an H2 file database), and registers the {@code Quota} route
 * filter. Every bean backs off when the application defines its own.
 *
 * <p>{@code tollgate.enabled=false} starts no engine and opens no database connection; the
 * {@code Quota} filter stays registered as a pass-through so that routes naming it load.
 * The engine bean is closed on shutdown, which drains the channel and writes what is left.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration"})
@ConditionalOnClass({Tollgate.class, GatewayFilterFactory.class})
@EnableConfigurationProperties(TollgateProperties.class)
public class TollgateAutoConfiguration {

    /** The {@code Quota} route filter; a pass-through when no engine runs. */
    @Bean
    @ConditionalOnMissingBean
    public QuotaGatewayFilterFactory quotaGatewayFilterFactory(TollgateProperties properties,
                                                               ObjectProvider<Tollgate> tollgate,
                                                               ObjectProvider<KeyResolver> keyResolvers,
                                                               BeanFactory beanFactory) {
        return new QuotaGatewayFilterFactory(properties.toSettings(), tollgate.getIfAvailable(),
                name -> keyResolver(name, keyResolvers, beanFactory), Schedulers.boundedElastic());
    }

    private static KeyResolver keyResolver(String name, ObjectProvider<KeyResolver> all, BeanFactory beanFactory) {
        if (name != null) {
            return beanFactory.getBean(name, KeyResolver.class);
        }
        KeyResolver only = all.getIfUnique();
        if (only == null) {
            throw new IllegalStateException("tollgate.subject.source is resolver, but the application has no single"
                    + " KeyResolver bean: define one, name one in tollgate.subject.resolver, or set the route's"
                    + " subject-resolver argument (\"#{@beanName}\")");
        }
        return only;
    }

    /** The engine and its configuration; absent when {@code tollgate.enabled=false}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty(name = "tollgate.enabled", matchIfMissing = true)
    static class EngineConfiguration {

        /**
         * The engine's configuration, validated by the engine: a bad value fails start-up with
         * a message naming the key, the value and what is allowed.
         */
        @Bean
        @ConditionalOnMissingBean
        TollgateConfig tollgateConfig(TollgateProperties properties) {
            Settings settings = properties.toSettings();
            // Meters go to the application's registries through the MeterBinder beans of
            // TollgateMetricsAutoConfiguration, never to Micrometer's global registry.
            return TollgateConfig.from(TollgateConfig.from(settings)).metricsEnabled(false).build();
        }

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        Tollgate tollgate(TollgateConfig config, TollgateProperties properties, ObjectProvider<DataSource> dataSources) {
            Tollgate.Builder builder = Tollgate.builder(config);
            DataSource dataSource = dataSources.getIfUnique();
            if (properties.getStore().getUrl() == null && dataSource != null) {
                builder.dataSource(dataSource);
            }
            return builder.build();
        }
    }
}
