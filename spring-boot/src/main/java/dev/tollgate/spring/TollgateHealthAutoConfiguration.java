package dev.tollgate.spring;

import dev.tollgate.core.Tollgate;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Registers {@link TollgateHealthIndicator} as the {@code tollgate} health component when
 * Actuator's health support is present; {@code management.health.tollgate.enabled=false}
 * switches it off.
 */
@AutoConfiguration(after = TollgateAutoConfiguration.class)
@ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(Tollgate.class)
@ConditionalOnEnabledHealthIndicator("tollgate")
public class TollgateHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "tollgateHealthIndicator")
    public TollgateHealthIndicator tollgateHealthIndicator(Tollgate tollgate) {
        return new TollgateHealthIndicator(tollgate);
    }
}
