package dev.tollgate.spring;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.servlet.SubjectResolver;
import dev.tollgate.servlet.TollgateAdminServlet;
import dev.tollgate.servlet.TollgateFilter;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Tollgate for servlet (Spring MVC) applications, without {@code web.xml}: registers the
 * servlet adapter's {@link TollgateFilter} on {@code /*}, fed with the engine bean and the
 * {@code tollgate.*} properties, and its {@link TollgateAdminServlet} at
 * {@code tollgate.admin.path} (default {@code /tollgate}), which the filter leaves
 * unmetered. With {@code tollgate.subject.source=resolver} the subject comes from a
 * {@link SubjectResolver} bean: the one named by {@code tollgate.subject.resolver}, else the
 * only one. Each bean backs off when the application defines one of the same name.
 *
 * <p>The filter runs at order {@value #FILTER_ORDER}, after Spring Security's filter chain
 * (so {@code principal} sees the authenticated user) and before the {@code DispatcherServlet}.
 * {@code tollgate.enabled=false} registers the filter as a pass-through and no admin servlet.
 */
@AutoConfiguration(after = TollgateAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({TollgateFilter.class, FilterRegistrationBean.class})
public class TollgateServletAutoConfiguration {
    /** Order of the filter registration: after Spring Security's filter chain (-100). */
    public static final int FILTER_ORDER = 0;

    /** The filter on every request; a pass-through when no engine runs. */
    @Bean
    @ConditionalOnMissingBean(name = "tollgateFilter")
    public FilterRegistrationBean<TollgateFilter> tollgateFilter(TollgateProperties properties,
                                                                 ObjectProvider<Tollgate> tollgate,
                                                                 ObjectProvider<SubjectResolver> resolvers,
                                                                 BeanFactory beanFactory) {
        EdgeConfig edge = EdgeConfig.from(properties.toSettings());
        Tollgate engine = edge.enabled() ? tollgate.getObject() : null;
        SubjectResolver resolver = edge.subjectSource() == EdgeConfig.SubjectSource.RESOLVER
                ? resolver(edge.subjectResolver(), resolvers, beanFactory) : null;
        FilterRegistrationBean<TollgateFilter> registration =
                new FilterRegistrationBean<>(new TollgateFilter(engine, edge, resolver));
        registration.setName("tollgate");
        registration.addUrlPatterns("/*");
        registration.setAsyncSupported(true);
        registration.setOrder(FILTER_ORDER);
        return registration;
    }

    private static SubjectResolver resolver(String name, ObjectProvider<SubjectResolver> all, BeanFactory beanFactory) {
        if (name != null) {
            return beanFactory.getBean(name, SubjectResolver.class);
        }
        SubjectResolver only = all.getIfUnique();
        if (only == null) {
            throw new IllegalStateException("tollgate.subject.source is resolver, but the application has no single"
                    + " SubjectResolver bean: define one, or name one in tollgate.subject.resolver");
        }
        return only;
    }

    /** The admin and self-service API at {@code tollgate.admin.path}, over the filter's engine. */
    @Bean
    @ConditionalOnMissingBean(name = "tollgateAdminServlet")
    @ConditionalOnBooleanProperty(name = "tollgate.enabled", matchIfMissing = true)
    public ServletRegistrationBean<TollgateAdminServlet> tollgateAdminServlet(
            FilterRegistrationBean<TollgateFilter> tollgateFilter, TollgateProperties properties) {
        String path = EdgeConfig.from(properties.toSettings()).adminPath();
        ServletRegistrationBean<TollgateAdminServlet> registration =
                new ServletRegistrationBean<>(new TollgateAdminServlet(tollgateFilter.getFilter()), path + "/*");
        registration.setName("tollgate-admin");
        return registration;
    }

    /** The filter's counters as {@code tollgate.edge.events}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    @ConditionalOnBean(Tollgate.class)
    @ConditionalOnBooleanProperty(name = "tollgate.metrics.enabled", matchIfMissing = true)
    static class EdgeMetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        EdgeMetrics tollgateEdgeMetrics(FilterRegistrationBean<TollgateFilter> tollgateFilter) {
            TollgateFilter filter = tollgateFilter.getFilter();
            return new EdgeMetrics(() -> {
                QuotaGate gate = filter.gate();
                return gate == null ? Map.of() : gate.stats();
            });
        }
    }
}
