package dev.tollgate.gateway;

import dev.tollgate.core.edge.AdminApi;
import dev.tollgate.core.edge.QuotaGate;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.util.UriUtils;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Serves the admin and self-service API ({@link AdminApi}) at {@code tollgate.admin.path}
 * on the gateway's own server: requests there are answered by the gateway, never routed,
 * and never metered. Handling runs on {@code scheduler}, since it may read and write the
 * store. Bodies over {@value AdminApi#MAX_BODY_BYTES} bytes are refused with 413.
 * Thread-safe.
 */
final class AdminRoutes {
    private AdminRoutes() {
    }

    /**
     * @param api       the API, over the engine and the gateway's edge counters
     * @param gate      resolves the caller of {@code GET /me} as a route would (the {@code tollgate.subject.*} properties)
     * @param resolver  the KeyResolver for subject source {@code resolver}; else {@code null}
     * @param adminPath where the API is served, e.g. {@code /tollgate}
     */
    static RouterFunction<ServerResponse> create(AdminApi api, QuotaGate gate, KeyResolver resolver, String adminPath,
                                                 Scheduler scheduler) {
        return RouterFunctions.route(RequestPredicates.path(adminPath).or(RequestPredicates.path(adminPath + "/**")),
                request -> handle(api, gate, resolver, adminPath, scheduler, request));
    }

    private static Mono<ServerResponse> handle(AdminApi api, QuotaGate gate, KeyResolver resolver, String adminPath,
                                               Scheduler scheduler, ServerRequest request) {
        if (request.headers().contentLength().orElse(0) > AdminApi.MAX_BODY_BYTES) {
            return write(tooLarge());
        }
        String below = UriUtils.decode(request.path().substring(adminPath.length()), StandardCharsets.UTF_8);
        String authorization = request.headers().firstHeader(HttpHeaders.AUTHORIZATION);
        return body(request).flatMap(body -> body.length > AdminApi.MAX_BODY_BYTES ? Mono.just(tooLarge())
                        : SubjectSources.resolve(gate, resolver, request.exchange())
                                .flatMap(caller -> Mono.fromCallable(() -> api.handle(request.method().name(), below,
                                                request.uri().getRawQuery(), authorization, body.length == 0 ? null
                                                        : new String(body, StandardCharsets.UTF_8), () -> caller))
                                        .subscribeOn(scheduler)))
                .flatMap(AdminRoutes::write);
    }

    /** The body, read until it passes the limit by one buffer at most. */
    private static Mono<byte[]> body(ServerRequest request) {
        return DataBufferUtils.join(request.bodyToFlux(DataBuffer.class), AdminApi.MAX_BODY_BYTES + 1)
                .map(buffer -> {
                    byte[] bytes = new byte[buffer.readableByteCount()];
                    buffer.read(bytes);
                    DataBufferUtils.release(buffer);
                    return bytes;
                })
                .onErrorResume(org.springframework.core.io.buffer.DataBufferLimitException.class,
                        e -> Mono.just(new byte[AdminApi.MAX_BODY_BYTES + 1]))
                .defaultIfEmpty(new byte[0]);
    }

    private static AdminApi.Response tooLarge() {
        return AdminApi.problem(413, "Content Too Large", "Admin request bodies are limited to "
                + AdminApi.MAX_BODY_BYTES + " bytes.");
    }

    private static Mono<ServerResponse> write(AdminApi.Response r) {
        ServerResponse.BodyBuilder b = ServerResponse.status(HttpStatusCode.valueOf(r.status()))
                .contentType(MediaType.parseMediaType(r.contentType()));
        for (Map.Entry<String, String> h : r.headers()) {
            b.header(h.getKey(), h.getValue());
        }
        return b.bodyValue(r.body());
    }
}
