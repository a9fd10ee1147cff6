package dev.tollgate.spring;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.TollgateKeys;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Auto-configuration of the Tollgate engine for any Spring Boot application: binds
 * {@code tollgate.*} ({@link TollgateProperties}) and starts the engine from
 * {@code tollgate.store.*}, else from the application's only {@link DataSource}, else an H2
 * file database. The gateway's {@code Quota} filter and the Spring MVC servlet filter use
 * this engine. Every bean backs off when the application defines its own.
 *
 * <p>{@code tollgate.enabled=false} starts no engine and opens no database connection. The
 * engine bean is closed on shutdown, which drains the channel and writes what is left.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration"})
@ConditionalOnClass(Tollgate.class)
@EnableConfigurationProperties(TollgateProperties.class)
public class TollgateAutoConfiguration {

    /** Reports a {@code tollgate.*} value Spring cannot convert as the engine would (key, value, allowed). */
    @Bean
    @ConditionalOnMissingBean
    public static TollgateBindHandlerAdvisor tollgateBindHandlerAdvisor() {
        return new TollgateBindHandlerAdvisor();
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
        TollgateConfig tollgateConfig(TollgateProperties properties, Environment environment) {
            // A retired key binds to nothing: refuse it as the engine would, naming what replaced it.
            TollgateKeys.RETIRED.forEach((key, why) -> {
                if (environment.containsProperty(key)) {
                    throw new InvalidConfigException(key, why);
                }
            });
            // Meters go to the application's registries through the MeterBinder beans of
            // TollgateMetricsAutoConfiguration, never to Micrometer's global registry.
            return TollgateConfig.from(TollgateConfig.from(properties.toSettings())).metricsEnabled(false).build();
        }

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        Tollgate tollgate(TollgateConfig config, TollgateProperties properties, ObjectProvider<DataSource> dataSources,
                          ObjectProvider<TollgateBuilderCustomizer> customizers) {
            Tollgate.Builder builder = Tollgate.builder(config);
            DataSource dataSource = dataSources.getIfUnique();
            if (properties.store().url() == null && dataSource != null) {
                builder.dataSource(dataSource);
            }
            customizers.orderedStream().forEach(c -> c.customize(builder));
            return builder.build();
        }
    }
}
