package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.Subjects;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Route arguments: the shortcut form, the full form, and errors that name the route and the argument. */
class QuotaGatewayFilterFactoryTest {
    private final TestDatabase db = TestDatabases.h2();
    private final Tollgate tollgate = Tollgate.builder(TollgateConfig.ofDefaults()).dataSource(db.dataSource()).build();

    @AfterEach
    void tearDown() {
        tollgate.close();
        db.close();
    }

    private QuotaGatewayFilterFactory factory(Map<String, String> settings) {
        // Made-up keys: these tests are about routes and rules, not admission.
        Map<String, String> s = new HashMap<>(settings);
        s.putIfAbsent("tollgate.subject.unknown", "default-plan");
        return new QuotaGatewayFilterFactory(Settings.of(s), tollgate, name -> null, Schedulers.immediate());
    }

    private static QuotaGatewayFilterFactory.Config route(String id) {
        QuotaGatewayFilterFactory.Config c = new QuotaGatewayFilterFactory.Config();
        c.setRouteId(id);
        return c;
    }

    @Test
    void isNamedQuotaAndItsShortcutIsQuotaThenCost() {
        QuotaGatewayFilterFactory f = factory(Map.of());

        assertThat(f.name()).isEqualTo("Quota");
        assertThat(f.shortcutFieldOrder()).containsExactly("quota", "cost");
    }

    @Test
    void acceptsTheShortcutAndTheFullForm() {
        QuotaGatewayFilterFactory f = factory(Map.of());

        assertThat(f.apply(route("a").setQuota("requests").setCost("1"))).isNotNull();
        assertThat(f.apply(route("b").setQuota("tokens").setCost("X-Usage-Tokens:100"))).isNotNull();
        assertThat(f.apply(route("c").setQuotas(List.of("requests:1", "tokens:X-Usage-Tokens:100"))
                .setMode("shadow").setFailMode("closed").setSubjectSource("principal").setCountStatuses("2xx")))
                .isNotNull();
    }

    @Test
    void aBadArgumentNamesTheRouteTheArgumentAndWhatIsAllowed() {
        QuotaGatewayFilterFactory f = factory(Map.of());

        assertThatThrownBy(() -> f.apply(route("chat").setQuotas(List.of("tokens:"))))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("route 'chat', Quota filter argument quotas: 'tokens:' is not allowed; expected");
        assertThatThrownBy(() -> f.apply(route("chat").setFailMode("sometimes")))
                .hasMessageStartingWith("route 'chat', Quota filter argument fail-mode: 'sometimes' is not allowed;"
                        + " expected one of open, closed");
        assertThatThrownBy(() -> f.apply(route("chat").setQuota("requests").setQuotas(List.of("tokens"))))
                .hasMessageContaining("set either quota and cost (the shortcut form) or quotas, not both");
    }

    /** Sends a request through the route's filter and returns what its subject was charged of {@code quota}. */
    private long charge(QuotaGatewayFilterFactory f, QuotaGatewayFilterFactory.Config config, String path, String key,
                        String quota) {
        f.apply(config).filter(MockServerWebExchange.from(MockServerHttpRequest.get(path).header("X-API-Key", key)),
                exchange -> Mono.empty()).block();
        await().atMost(Duration.ofSeconds(10)).until(() -> f.pendingCharges() == 0);
        tollgate.flush();
        return db.storedTotal(Subjects.apiKey(key), quota, "TOTAL");
    }

    @Test
    void aRouteWithoutQuotasIsChargedByTheRulesThatMatchItsPath() {
        QuotaGatewayFilterFactory f = factory(Map.of("tollgate.rules.chat.path", "/api/chat/**",
                "tollgate.rules.chat.quotas", "tokens:5"));

        assertThat(charge(f, route("r"), "/api/chat/x", "rule-hit", "tokens")).isEqualTo(5);
        assertThat(charge(f, route("r"), "/api/other", "rule-miss", "tokens")).isZero();
        assertThat(charge(f, route("r"), "/api/other", "rule-miss", "requests")).isZero();
    }

    @Test
    void aRouteWithoutQuotasOrRulesChargesOneRequest() {
        assertThat(charge(factory(Map.of()), route("r"), "/anything", "plain", "requests")).isEqualTo(1);
    }

    @Test
    void withoutAnEngineEveryRoutePassesThrough() {
        QuotaGatewayFilterFactory f = new QuotaGatewayFilterFactory(Settings.empty(), null, name -> null,
                Schedulers.immediate());

        assertThat(f.apply(route("a").setQuota("not a quota"))).isNotNull();
        assertThat(f.stats()).isEmpty();
    }
}
