package dev.tollgate.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.TollgateKeys;
import dev.tollgate.core.metrics.TollgateMetrics;
import dev.tollgate.servlet.SubjectResolver;
import dev.tollgate.servlet.TollgateAdminServlet;
import dev.tollgate.servlet.TollgateFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;

/** What a servlet (Spring MVC) application gets, how {@code tollgate.*} binds, and when beans back off. */
class TollgateServletAutoConfigurationTest {

    private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TollgateAutoConfiguration.class,
                    TollgateHealthAutoConfiguration.class, TollgateMetricsAutoConfiguration.class,
                    TollgateServletAutoConfiguration.class));

    private static String memoryUrl() {
        return "tollgate.store.url=jdbc:h2:mem:s" + UUID.randomUUID().toString().replace("-", "") + ";DB_CLOSE_DELAY=-1";
    }

    @Test
    void registersTheFilterTheAdminServletAtTheAdminPathTheEngineHealthAndMeters() {
        runner.withPropertyValues(memoryUrl(), "tollgate.admin.path=/ops/quota").run(context -> {
            assertThat(context).hasSingleBean(Tollgate.class).hasSingleBean(TollgateHealthIndicator.class)
                    .hasSingleBean(TollgateMetrics.class).hasSingleBean(EdgeMetrics.class);
            FilterRegistrationBean<?> filter = context.getBean("tollgateFilter", FilterRegistrationBean.class);
            assertThat(filter.getFilter()).isInstanceOf(TollgateFilter.class);
            assertThat(filter.getUrlPatterns()).containsExactly("/*");
            ServletRegistrationBean<?> admin = context.getBean("tollgateAdminServlet", ServletRegistrationBean.class);
            assertThat(admin.getServlet()).isInstanceOf(TollgateAdminServlet.class);
            assertThat(admin.getUrlMappings()).containsExactly("/ops/quota/*");
        });
    }

    @Test
    void switchedOffTheFilterPassesThroughWithoutEngineOrAdminServlet() {
        runner.withPropertyValues("tollgate.enabled=false", "tollgate.store.url=jdbc:postgresql://127.0.0.1:1/none")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(Tollgate.class)
                        .doesNotHaveBean("tollgateAdminServlet").doesNotHaveBean(EdgeMetrics.class)
                        .hasBean("tollgateFilter"));
    }

    @Test
    void aResolverSubjectComesFromTheApplicationsSubjectResolverBean() {
        SubjectResolver tenant = request -> request.getHeader("X-Tenant");
        runner.withPropertyValues(memoryUrl(), "tollgate.subject.source=resolver")
                .withBean("tenantResolver", SubjectResolver.class, () -> tenant)
                .run(context -> assertThat(context).hasNotFailed().hasBean("tollgateFilter"));
        runner.withPropertyValues(memoryUrl(), "tollgate.subject.source=resolver")
                .run(context -> assertThat(context).getFailure().rootCause()
                        .hasMessageContaining("no single SubjectResolver bean"));
    }

    @Test
    void aValueSpringCannotConvertIsReportedWithTheKeyTheValueAndWhatIsAllowed() {
        runner.withPropertyValues(memoryUrl(), "tollgate.mode=loud").run(context ->
                assertThat(context).getFailure().rootCause().isInstanceOf(InvalidConfigException.class)
                        .hasMessage("tollgate.mode: 'loud' is not allowed; expected one of enforce, shadow"));
        runner.withPropertyValues(memoryUrl(), "tollgate.async.workers=two").run(context ->
                assertThat(context).getFailure().rootCause()
                        .hasMessage("tollgate.async.workers: 'two' is not allowed; expected an integer"));
        runner.withPropertyValues(memoryUrl(), "tollgate.store.schema=drop").run(context ->
                assertThat(context).getFailure().rootCause()
                        .hasMessage("tollgate.store.schema: 'drop' is not allowed; expected one of create, validate, none"));
        runner.withPropertyValues(memoryUrl(), "tollgate.async.workers=65").run(context ->
                assertThat(context).getFailure().rootCause()
                        .hasMessage("tollgate.async.workers: '65' is not allowed; expected an integer from 1 to 64"));
    }

    @Test
    void everyKeySpringBindsReachesTheEngineSettings() {
        Map<String, String> values = new java.util.LinkedHashMap<>();
        for (ConfigKey<?> key : TollgateKeys.fixedKeys().values()) {
            if (key.isSpringBound()) {
                values.put(key.name(), sample(key));
            }
        }
        values.put("tollgate.plans.pro.requests", "10/minute");
        values.put("tollgate.rules.chat.path", "/api/chat");
        values.put("tollgate.rules.chat.methods", "POST,PUT");
        values.put("tollgate.rules.chat.quotas", "tokens:X-Usage-Tokens:100");
        values.put("tollgate.rules.chat.order", "3");
        TollgateProperties bound = new Binder(new MapConfigurationPropertySource(values))
                .bind("tollgate", TollgateProperties.class).get();

        Map<String, String> settings = bound.toSettings().asMap();
        List<String> lost = new ArrayList<>();
        values.forEach((k, v) -> {
            if (!v.equals(settings.get(k))) {
                lost.add(k + "=" + v + " became " + settings.get(k));
            }
        });
        assertThat(lost).isEmpty();
    }

    /** A value of the key's type that is not its default, written as the engine writes it. */
    private static String sample(ConfigKey<?> key) {
        return switch (key.name()) {
            case "tollgate.enabled", "tollgate.async.enabled", "tollgate.metrics.enabled", "tollgate.headers.enabled",
                 "tollgate.subject.required" -> "false";
            case "tollgate.mode" -> "shadow";
            case "tollgate.zone" -> "Europe/Paris";
            case "tollgate.default-plan" -> "pro";
            case "tollgate.async.journal.path" -> "/var/lib/tollgate";
            case "tollgate.check.fail-mode" -> "closed";
            case "tollgate.allotment.expiry" -> "45s";
            case "tollgate.allotment.target" -> "250ms";
            case "tollgate.store.url" -> "jdbc:postgresql://db/x";
            case "tollgate.store.schema" -> "validate";
            case "tollgate.subject.source" -> "principal";
            case "tollgate.subject.header" -> "X-Key";
            case "tollgate.subject.unknown" -> "default-plan";
            case "tollgate.count.statuses" -> "2xx";
            case "tollgate.admin.path" -> "/ops";
            case "tollgate.admin.token", "tollgate.store.password" -> "0123456789abcdef0123";
            case "tollgate.store.user", "tollgate.subject.resolver" -> "someone";
            default -> key.type().javaType() == java.time.Duration.class ? "7s" : "7";
        };
    }
}
