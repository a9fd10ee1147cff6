package dev.tollgate.gateway;

import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.core.edge.SubjectResult;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Who pays for an exchange, as the gate's configuration says: for the Quota filter and {@code GET /me}. */
final class SubjectSources {
    private SubjectSources() {
    }

    /**
     * @param resolver the KeyResolver for source {@code resolver}; else unused
     */
    static Mono<SubjectResult> resolve(QuotaGate gate, KeyResolver resolver, ServerWebExchange exchange) {
        EdgeConfig config = gate.config();
        return switch (config.subjectSource()) {
            case HEADER -> Mono.just(gate.subjectFromHeader(exchange.getRequest().getHeaders().get(config.subjectHeader())));
            case PRINCIPAL -> exchange.getPrincipal().map(p -> gate.subjectFromName(p.getName()))
                    .defaultIfEmpty(SubjectResult.absent());
            case RESOLVER -> resolver.resolve(exchange).map(gate::subjectFromName).defaultIfEmpty(SubjectResult.absent());
        };
    }
}
