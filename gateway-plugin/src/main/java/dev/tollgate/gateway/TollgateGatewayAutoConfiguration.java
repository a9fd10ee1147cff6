package dev.tollgate.gateway;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.edge.AdminApi;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.spring.EdgeMetrics;
import dev.tollgate.spring.TollgateAutoConfiguration;
import dev.tollgate.spring.TollgateBuilderCustomizer;
import dev.tollgate.spring.TollgateMetricsAutoConfiguration;
import dev.tollgate.spring.TollgateProperties;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.cloud.gateway.filter.factory.GatewayFilterFactory;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.scheduler.Schedulers;

/**
 * Tollgate for Spring Cloud Gateway: the {@code Quota} route filter, its counters as meters
 * and the admin API at {@code tollgate.admin.path}, on the engine and the {@code tollgate.*}
 * properties of the shared Spring Boot module ({@link TollgateAutoConfiguration}). Every bean
 * backs off when the application defines its own.
 *
 * <p>{@code tollgate.enabled=false} starts no engine; the {@code Quota} filter stays
 * registered as a pass-through so that routes naming it load, and no admin route is served.
 */
@AutoConfiguration(after = {TollgateAutoConfiguration.class, TollgateMetricsAutoConfiguration.class})
@ConditionalOnClass({Tollgate.class, GatewayFilterFactory.class})
public class TollgateGatewayAutoConfiguration {

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

    /**
     * A full channel's writes go to the bounded elastic scheduler, so that a settlement on an
     * event loop never waits for the store (the {@code Quota} filter then settles inline).
     */
    @Bean
    public TollgateBuilderCustomizer tollgateGatewayBlockingExecutor() {
        return builder -> builder.blockingExecutor(task -> Schedulers.boundedElastic().schedule(task));
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

    /**
     * The admin and self-service API at {@code tollgate.admin.path} (default {@code /tollgate}),
     * answered by the gateway itself: {@code GET /me} for any caller, the other routes with
     * {@code tollgate.admin.token}.
     */
    @Bean
    @ConditionalOnBean(Tollgate.class)
    @ConditionalOnMissingBean(name = "tollgateAdminRoutes")
    public RouterFunction<ServerResponse> tollgateAdminRoutes(Tollgate tollgate, TollgateProperties properties,
                                                              QuotaGatewayFilterFactory filters,
                                                              ObjectProvider<KeyResolver> keyResolvers,
                                                              BeanFactory beanFactory) {
        EdgeConfig edge = EdgeConfig.from(properties.toSettings());
        QuotaGate gate = new QuotaGate(tollgate, edge);
        KeyResolver resolver = edge.subjectSource() == EdgeConfig.SubjectSource.RESOLVER
                ? keyResolver(edge.subjectResolver(), keyResolvers, beanFactory) : null;
        return AdminRoutes.create(new AdminApi(gate, filters::stats), gate, resolver, edge.adminPath(),
                Schedulers.boundedElastic());
    }

    /** The Quota filters' counters as {@code tollgate.edge.events}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    @ConditionalOnBean(Tollgate.class)
    @ConditionalOnBooleanProperty(name = "tollgate.metrics.enabled", matchIfMissing = true)
    static class EdgeMetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        EdgeMetrics tollgateEdgeMetrics(QuotaGatewayFilterFactory filters) {
            return new EdgeMetrics(filters::stats);
        }
    }
}
