package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The edge's part in metering every served request by its rule: HEAD is a GET, the gateway's
 * raw paths are matched as routed, a cost above {@code tollgate.cost.max} is charged as the
 * maximum, and a CORS preflight is not a request of the API.
 */
class EveryServedRequestTest {
    private final TestDatabase db = TestDatabases.h2();
    private final Tollgate tollgate = Tollgate.builder(TollgateConfig.custom().limit("free", "requests", "100/day")
            .metricsEnabled(false).build()).dataSource(db.dataSource()).build();
    private final QuotaGate gate = new QuotaGate(tollgate, EdgeConfig.custom()
            .unknownSubjects(EdgeConfig.UnknownSubjects.DEFAULT_PLAN).costMax(1000)
            .rule("hello", "/api/hello", "GET", "requests")
            .rule("chat", "/api/chat", "POST", "requests,tokens:X-Usage-Tokens:10")
            .rule("any", "/api/any/**", null, "requests").build());

    @AfterEach
    void close() {
        tollgate.close();
        db.close();
    }

    @Test
    void aHeadIsChargedByTheRuleOfItsGet() {
        assertThat(gate.rule("HEAD", "/api/hello").name()).isEqualTo("hello");
        assertThat(gate.rule("head", "/api/hello").name()).isEqualTo("hello");
        assertThat(gate.rule("HEAD", "/api/chat")).as("a rule without GET").isNull();
        assertThat(gate.rule("DELETE", "/api/hello")).isNull();
    }

    @Test
    void aCorsPreflightIsNotMeteredEvenByARuleWithoutMethods() {
        assertThat(QuotaGate.isPreflight("OPTIONS", "https://shop.example", "GET")).isTrue();
        assertThat(QuotaGate.isPreflight("OPTIONS", null, "GET")).isFalse();
        assertThat(QuotaGate.isPreflight("OPTIONS", "https://shop.example", null)).isFalse();
        assertThat(QuotaGate.isPreflight("GET", "https://shop.example", "GET")).isFalse();

        assertThat(gate.rule("OPTIONS", "/api/any/thing", true)).isNull();
        assertThat(gate.rule("OPTIONS", "/api/any/thing", false).name()).as("a plain OPTIONS is a request")
                .isEqualTo("any");
    }

    @ParameterizedTest
    @CsvSource({
        "/api/hello, /api/hello",
        "/api/hell%6F, /api/hello",
        "/api/hell%6f, /api/hello",
        "/api/hello;x=1, /api/hello",
        "/api;v=2/hello;x=1, /api/hello",
        "//api//hello, /api/hello",
        "/api/./hello, /api/hello",
        "/x/../api/hello, /api/hello",
        "/../../api/hello, /api/hello",
        "/api/%2e%2e/api/hello, /api/hello",
        "/api/hello/, /api/hello/",
        "/caf%C3%A9, /café",
        "/a%zz, /a%zz",
        "/a%4, /a%4",
        "'', /",
        "/, /",
    })
    void theGatewaysRawPathIsMatchedAsRouted(String raw, String routed) {
        assertThat(RequestPath.normalize(raw)).isEqualTo(routed);
    }

    @Test
    void aCostAboveTheMaximumIsChargedAsTheMaximumAndCountedAsMalformed() {
        QuotaCost tokens = gate.config().rules().get(1).costs().get(1);
        assertThat(tokens.quota()).isEqualTo("tokens");

        assertThat(gate.costFromHeader(tokens, List.of("1000"))).isEqualTo(1000);
        assertThat(gate.stats()).containsEntry("malformedCost", 0L);
        assertThat(gate.costFromHeader(tokens, List.of("2000000000"))).isEqualTo(1000);
        assertThat(gate.costFromHeader(tokens, List.of("99999999999999999999999"))).isEqualTo(1000);
        assertThat(gate.stats()).containsEntry("malformedCost", 2L);
        assertThat(gate.costFromHeader(tokens, List.of("-5"))).as("not a cost: the estimate").isEqualTo(10);
        assertThat(gate.costFromHeader(tokens, List.of())).as("missing: the estimate").isEqualTo(10);
    }
}
