package dev.tollgate.gateway;

import dev.tollgate.core.edge.Admission;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.core.edge.QuotaRule;
import dev.tollgate.core.edge.RequestPath;
import dev.tollgate.core.edge.SubjectResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.scheduler.Scheduler;

/**
 * One route's Quota filter: translates the exchange for its {@link QuotaGate} and back.
 * Thread-safe.
 */
final class QuotaFilter implements GatewayFilter {
    /**
     * Status a request is charged with when the client went away before the upstream
     * answered (nginx's "client closed request"); a 4xx, so charged by default.
     */
    static final int CLIENT_CLOSED_REQUEST = 499;
    private static final Logger LOG = LoggerFactory.getLogger(QuotaFilter.class);

    private final QuotaGate gate;
    private final KeyResolver resolver;
    private final Scheduler scheduler;
    private final Settlements settlements;

    QuotaFilter(QuotaGate gate, KeyResolver resolver, Scheduler scheduler, Settlements settlements) {
        this.gate = gate;
        this.resolver = resolver;
        this.scheduler = scheduler;
        this.settlements = settlements;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        String method = request.getMethod().name();
        // Rules match the decoded, normalised path the route predicates see (%6F, ;x=1, //, ..).
        String path = RequestPath.normalize(request.getPath().pathWithinApplication().value());
        HttpHeaders in = request.getHeaders();
        QuotaRule rule = gate.rule(method, path, QuotaGate.isPreflight(method, in.getFirst(HttpHeaders.ORIGIN),
                in.getFirst(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD)));
        if (rule == null) {
            return chain.filter(exchange);
        }
        return SubjectSources.resolve(gate, resolver, exchange)
                .flatMap(subject -> admission(rule, method, path, subject,
                        request.getHeaders().get(gate.config().idempotencyHeader())))
                .flatMap(admission -> switch (admission.kind()) {
                    case PASS -> chain.filter(exchange);
                    case REJECT -> reject(exchange, admission);
                    case ADMIT -> proceed(exchange, chain, admission);
                });
    }

    /**
     * Decides on the calling thread (an event loop) when every check is answered from the
     * cache, else on the scheduler, where the first read of a key may wait for the store.
     */
    private Mono<Admission> admission(QuotaRule rule, String method, String path, SubjectResult subject,
                                      List<String> requestId) {
        if (!subject.present() || gate.decidesWithoutStore(subject.subject(), rule)) {
            return Mono.just(gate.admit(rule, method, path, subject, requestId));
        }
        return Mono.fromCallable(() -> gate.admit(rule, method, path, subject, requestId)).subscribeOn(scheduler);
    }

    private Mono<Void> reject(ServerWebExchange exchange, Admission admission) {
        ServerHttpResponse response = exchange.getResponse();
        response.setStatusCode(HttpStatusCode.valueOf(admission.status()));
        HttpHeaders headers = response.getHeaders();
        for (Map.Entry<String, String> h : admission.headers()) {
            headers.set(h.getKey(), h.getValue());
        }
        byte[] body = admission.body().getBytes(StandardCharsets.UTF_8);
        headers.set(HttpHeaders.CONTENT_TYPE, admission.contentType());
        headers.setContentLength(body.length);
        return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(body)));
    }

    private Mono<Void> proceed(ServerWebExchange exchange, GatewayFilterChain chain, Admission admission) {
        ServerHttpResponse response = exchange.getResponse();
        if (!admission.headers().isEmpty()) {
            // Set just before commit, after the upstream's headers were copied: ours describe this edge's quota.
            response.beforeCommit(() -> {
                for (Map.Entry<String, String> h : admission.headers()) {
                    response.getHeaders().set(h.getKey(), h.getValue());
                }
                return Mono.empty();
            });
        }
        return Mono.defer(() -> {
            // Counted from subscription, which guarantees the doFinally below.
            settlements.begin();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            return chain.filter(exchange)
                    .doOnError(failure::set)
                    .doFinally(signal -> settle(exchange, admission, signal, failure.get()));
        });
    }

    /**
     * Charges once, whatever ended the exchange: right here when recording cannot block (the
     * engine writes asynchronously, keeps no journal and hands a full channel's writes to the
     * scheduler), else on the scheduler.
     */
    private void settle(ServerWebExchange exchange, Admission admission, SignalType signal, Throwable failure) {
        int status = status(exchange, signal, failure);
        if (LOG.isDebugEnabled()) {
            LOG.debug("Settling {} {} ({}) with status {}", exchange.getRequest().getMethod(),
                    exchange.getRequest().getPath().value(), signal, status);
        }
        HttpHeaders headers = exchange.getResponse().getHeaders();
        Runnable charge = () -> {
            try {
                gate.settle(admission, status, name -> {
                    List<String> values = headers.get(name);
                    return values == null ? List.of() : values;
                });
            } finally {
                settlements.end();
            }
        };
        if (gate.tollgate().recordsWithoutBlocking()) {
            charge.run();
            return;
        }
        try {
            scheduler.schedule(charge);
        } catch (RejectedExecutionException e) {
            // The scheduler's queue is full or it is shut down: charging late on this thread beats not charging.
            charge.run();
        }
    }

    /**
     * The status the client got, or gets: the response's once committed; for a failure
     * before that, the one the error handler answers with; for a client that left before
     * the upstream answered, {@value #CLIENT_CLOSED_REQUEST}.
     */
    static int status(ServerWebExchange exchange, SignalType signal, Throwable failure) {
        ServerHttpResponse response = exchange.getResponse();
        if (!response.isCommitted()) {
            if (signal == SignalType.ON_ERROR && failure != null) {
                return errorStatus(failure);
            }
            if (signal == SignalType.CANCEL
                    && exchange.getAttribute(ServerWebExchangeUtils.CLIENT_RESPONSE_ATTR) == null) {
                return CLIENT_CLOSED_REQUEST;
            }
        }
        HttpStatusCode code = response.getStatusCode();
        return code == null ? 200 : code.value();
    }

    private static int errorStatus(Throwable failure) {
        if (failure instanceof ErrorResponse e) {
            return e.getStatusCode().value();
        }
        ResponseStatus annotated = AnnotatedElementUtils.findMergedAnnotation(failure.getClass(), ResponseStatus.class);
        return annotated != null ? annotated.code().value() : 500;
    }
}
