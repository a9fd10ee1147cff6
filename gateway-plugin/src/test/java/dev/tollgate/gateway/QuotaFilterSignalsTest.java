package dev.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ResponseStatusException;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * How each way an exchange can end is charged, driven by the Reactive Streams signal itself:
 * a cancellation cannot be provoked deterministically over a socket (the route tests cover a
 * real disconnect, which the gateway notices when it writes the response).
 */
class QuotaFilterSignalsTest {
    private final TestDatabase db = TestDatabases.h2();
    private final Tollgate tollgate = Tollgate.builder(TollgateConfig.ofDefaults()).dataSource(db.dataSource()).build();
    private final Settlements settlements = new Settlements();
    private final QuotaFilter filter = new QuotaFilter(new QuotaGate(tollgate, EdgeConfig.custom()
            .unknownSubjects(EdgeConfig.UnknownSubjects.DEFAULT_PLAN)   // made-up keys: not about admission
            .countedStatuses(dev.tollgate.core.edge.StatusSet.parse("2xx,4xx,504,!429"))
            .rule("all", "/**", null, "requests").build()), null, Schedulers.immediate(), settlements);

    @AfterEach
    void tearDown() {
        tollgate.close();
        db.close();
    }

    private static MockServerWebExchange exchange(String key) {
        return MockServerWebExchange.from(MockServerHttpRequest.get("/api/x").header("X-API-Key", key));
    }

    private long charged(String key) {
        assertThat(settlements.pending()).isZero();
        tollgate.flush();
        return db.storedTotal(Subjects.apiKey(key), "requests", "TOTAL");
    }

    @Test
    void aClientThatLeavesBeforeTheUpstreamAnswersIsChargedOnceAs499() {
        MockServerWebExchange ex = exchange("gone");
        Disposable request = filter.filter(ex, e -> Mono.never()).subscribe();
        request.dispose();
        request.dispose();

        assertThat(QuotaFilter.status(ex, reactor.core.publisher.SignalType.CANCEL, null)).isEqualTo(499);
        assertThat(charged("gone")).isEqualTo(1);
    }

    @Test
    void aClientThatLeavesAfterTheUpstreamAnsweredIsChargedWithTheUpstreamsStatus() {
        MockServerWebExchange ex = exchange("gone-500");
        Disposable request = filter.filter(ex, e -> {
            e.getAttributes().put(ServerWebExchangeUtils.CLIENT_RESPONSE_ATTR, new Object());
            e.getResponse().setStatusCode(HttpStatus.INTERNAL_SERVER_ERROR);
            return Mono.never();
        }).subscribe();
        request.dispose();

        assertThat(charged("gone-500")).isZero();
    }

    @Test
    void aFailureIsChargedWithTheStatusTheErrorHandlerAnswers() {
        filter.filter(exchange("timeout"), e -> Mono.error(new ResponseStatusException(HttpStatus.GATEWAY_TIMEOUT)))
                .onErrorComplete().block();
        filter.filter(exchange("broken"), e -> Mono.error(new IllegalStateException("boom")))
                .onErrorComplete().block();

        assertThat(charged("timeout")).as("504 is counted here").isEqualTo(1);
        assertThat(charged("broken")).as("500 is not").isZero();
    }

    @Test
    void aCompletedExchangeIsChargedOnce() {
        filter.filter(exchange("ok"), e -> Mono.empty()).block();

        assertThat(charged("ok")).isEqualTo(1);
    }
}
