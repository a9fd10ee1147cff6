package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.metrics.TollgateMetrics;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.spring.EdgeMetrics;
import dev.tollgate.spring.TollgateAutoConfiguration;
import dev.tollgate.spring.TollgateHealthAutoConfiguration;
import dev.tollgate.spring.TollgateHealthIndicator;
import dev.tollgate.spring.TollgateMetricsAutoConfiguration;
import dev.tollgate.spring.TollgateProperties;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import reactor.core.scheduler.Schedulers;

/** What the auto-configuration registers, how it binds {@code tollgate.*}, and when it backs off. */
class TollgateAutoConfigurationTest {

    private final ReactiveWebApplicationContextRunner runner = new ReactiveWebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TollgateAutoConfiguration.class,
                    TollgateHealthAutoConfiguration.class, TollgateMetricsAutoConfiguration.class,
                    TollgateGatewayAutoConfiguration.class));

    private static String memoryUrl() {
        return "tollgate.store.url=jdbc:h2:mem:a" + UUID.randomUUID().toString().replace("-", "") + ";DB_CLOSE_DELAY=-1";
    }

    @Test
    void startsTheEngineFromTheStoreUrlWithItsFilterHealthIndicatorAndMeters() {
        String url = memoryUrl();
        runner.withPropertyValues(url).run(context -> {
            assertThat(context).hasSingleBean(Tollgate.class)
                    .hasSingleBean(QuotaGatewayFilterFactory.class)
                    .hasSingleBean(TollgateHealthIndicator.class)
                    .hasSingleBean(TollgateMetrics.class)
                    .hasSingleBean(EdgeMetrics.class);
            Tollgate tollgate = context.getBean(Tollgate.class);
            assertThat(tollgate.config().storeUrl()).isEqualTo(url.substring("tollgate.store.url=".length()));
            assertThat(tollgate.config().metricsEnabled()).as("meters are bound by Boot, not to the global registry")
                    .isFalse();
        });
    }

    @Test
    void usesTheApplicationsDataSourceWhenNoStoreUrlIsSet() {
        try (TestDatabase db = TestDatabases.h2()) {
            runner.withBean(DataSource.class, db::dataSource).run(context -> {
                Tollgate tollgate = context.getBean(Tollgate.class);
                assertThat(tollgate.consumeSync("alice", "requests", 3)).isTrue();
                assertThat(db.storedTotal("alice", "requests", "TOTAL")).isEqualTo(3);
            });
        }
    }

    @Test
    void bindsTheEnginesAndTheEdgesProperties() {
        runner.withPropertyValues(memoryUrl(), "tollgate.async.batch-size=500", "tollgate.async.flush-interval=2s",
                "tollgate.check.fail-mode=closed", "tollgate.plans.pro.requests=10/minute,1000/day",
                "tollgate.default-plan=pro", "tollgate.subject.header=X-Key").run(context -> {
            TollgateConfig config = context.getBean(TollgateConfig.class);
            assertThat(config.batchSize()).isEqualTo(500);
            assertThat(config.flushInterval()).hasSeconds(2);
            assertThat(config.failMode()).isEqualTo(FailMode.CLOSED);
            assertThat(config.defaultPlan()).isEqualTo("pro");
            assertThat(config.plans().get("pro").get("requests"))
                    .containsExactly(new Limit(10, Period.MINUTE), new Limit(1000, Period.DAY));
            assertThat(context.getBean(TollgateProperties.class).toSettings().asMap())
                    .containsEntry("tollgate.subject.header", "X-Key");
        });
    }

    @Test
    void environmentVariablesBindByTheirRelaxedNames() {
        Map<String, Object> env = Map.of("TOLLGATE_PLANS_FREE_REQUESTS", "7/day", "TOLLGATE_ASYNC_BATCH_SIZE", "123",
                "TOLLGATE_ASYNC_ENABLED", "false", "TOLLGATE_CHECK_FAIL_MODE", "closed");
        runner.withPropertyValues(memoryUrl())
                .withInitializer(context -> context.getEnvironment().getPropertySources()
                        .addFirst(new SystemEnvironmentPropertySource("systemEnvironment", env)))
                .run(context -> {
                    TollgateConfig config = context.getBean(TollgateConfig.class);
                    assertThat(config.plans().get("free").get("requests")).containsExactly(new Limit(7, Period.DAY));
                    assertThat(config.batchSize()).isEqualTo(123);
                    assertThat(config.asyncEnabled()).isFalse();
                    assertThat(config.failMode()).isEqualTo(FailMode.CLOSED);
                });
    }

    @Test
    void aBadEnginePropertyFailsStartUpWithTheEnginesMessage() {
        runner.withPropertyValues(memoryUrl(), "tollgate.async.workers=0").run(context ->
                assertThat(context).getFailure().rootCause()
                        .isInstanceOf(InvalidConfigException.class)
                        .hasMessage("tollgate.async.workers: '0' is not allowed; expected an integer from 1 to 64"));
    }

    @Test
    void aBadEdgePropertyFailsStartUpWithTheEnginesMessage() {
        runner.withPropertyValues(memoryUrl(), "tollgate.mode=loud").run(context ->
                assertThat(context).getFailure().rootCause()
                        .isInstanceOf(InvalidConfigException.class)
                        .hasMessageStartingWith("tollgate.mode: 'loud' is not allowed; expected one of enforce, shadow"));
    }

    @Test
    void switchedOffItStartsNoEngineAndTheFilterPassesThrough() {
        runner.withPropertyValues("tollgate.enabled=false", "tollgate.store.url=jdbc:postgresql://127.0.0.1:1/none")
                .run(context -> {
                    assertThat(context).hasNotFailed()
                            .doesNotHaveBean(Tollgate.class)
                            .doesNotHaveBean(TollgateHealthIndicator.class)
                            .doesNotHaveBean(TollgateMetrics.class)
                            .hasSingleBean(QuotaGatewayFilterFactory.class);
                });
    }

    @Test
    void everyBeanBacksOffWhenTheApplicationDefinesItsOwn() {
        try (Tollgate own = Tollgate.builder(TollgateConfig.custom().storeUrl(memoryUrl().substring(19)).build())
                .build()) {
            QuotaGatewayFilterFactory ownFactory = new QuotaGatewayFilterFactory(
                    TollgateProperties.unset().toSettings(), own, name -> null, Schedulers.immediate());
            TollgateHealthIndicator ownHealth = new TollgateHealthIndicator(own);
            TollgateMetrics ownMetrics = new TollgateMetrics(own);
            EdgeMetrics ownEdgeMetrics = new EdgeMetrics(ownFactory::stats);
            TollgateConfig ownConfig = own.config();
            runner.withBean(Tollgate.class, () -> own, d -> d.setDestroyMethodName(""))
                    .withBean(TollgateConfig.class, () -> ownConfig)
                    .withBean(QuotaGatewayFilterFactory.class, () -> ownFactory)
                    .withBean("tollgateHealthIndicator", TollgateHealthIndicator.class, () -> ownHealth)
                    .withBean(TollgateMetrics.class, () -> ownMetrics)
                    .withBean(EdgeMetrics.class, () -> ownEdgeMetrics)
                    .run(context -> {
                        assertThat(context.getBean(Tollgate.class)).isSameAs(own);
                        assertThat(context.getBean(TollgateConfig.class)).isSameAs(ownConfig);
                        assertThat(context.getBean(QuotaGatewayFilterFactory.class)).isSameAs(ownFactory);
                        assertThat(context.getBean(TollgateHealthIndicator.class)).isSameAs(ownHealth);
                        assertThat(context.getBean(TollgateMetrics.class)).isSameAs(ownMetrics);
                        assertThat(context.getBean(EdgeMetrics.class)).isSameAs(ownEdgeMetrics);
                    });
        }
    }

    @Test
    void theDefaultsOfThePropertiesAreTheEngines() {
        TollgateConfig fromProperties = TollgateConfig.from(TollgateProperties.unset().toSettings());

        assertThat(fromProperties).usingRecursiveComparison().isEqualTo(TollgateConfig.ofDefaults());
        assertThat(List.of(TollgateProperties.unset().toSettings().asMap().keySet().toArray()))
                .doesNotContain("tollgate.store.url");
    }
}
