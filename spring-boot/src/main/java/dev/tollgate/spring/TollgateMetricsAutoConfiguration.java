package dev.tollgate.spring;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.metrics.TollgateMetrics;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Registers the engine's meters ({@code tollgate.*}) as a {@link MeterBinder} bean, which
 * Spring Boot binds to the application's meter registries when it has any (the adapters add
 * their {@link EdgeMetrics}). {@code tollgate.metrics.enabled=false} switches them off.
 */
@AutoConfiguration(after = TollgateAutoConfiguration.class)
@ConditionalOnClass(MeterBinder.class)
@ConditionalOnBean(Tollgate.class)
@ConditionalOnBooleanProperty(name = "tollgate.metrics.enabled", matchIfMissing = true)
public class TollgateMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public TollgateMetrics tollgateMetrics(Tollgate tollgate) {
        return new TollgateMetrics(tollgate);
    }
}
