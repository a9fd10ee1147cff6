package dev.tollgate.gateway.demo;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The demo's own upstream, a small Reactor Netty server on loopback that the gateway proxies to
 * over real HTTP:
 * <ul>
 *   <li>{@code GET /api/hello}: a greeting;</li>
 *   <li>{@code /api/chat}: a canned reply with {@code X-Usage-Tokens} (20 plus a quarter of the
 *       request body's bytes, or {@code ?tokens=N}), which the gateway charges to the
 *       {@code tokens} quota.</li>
 * </ul>
 *
 * <p>It was a JDK {@code HttpServer} until the load harness showed every proxied request
 * taking ~44 ms: that server writes a response's headers and body in two writes without
 * {@code TCP_NODELAY}, so on a kept-alive connection the body waited for the gateway's delayed
 * ACK (Nagle), and the gateway topped out at ~700 req/s with or without Tollgate. Reactor Netty
 * sets {@code TCP_NODELAY} and writes a small response at once.
 */
public final class DemoUpstream implements AutoCloseable {
    private static final byte[] NOT_FOUND = "{\"error\":\"no such upstream path\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HELLO = "{\"message\":\"Hello from the demo upstream\"}".getBytes(StandardCharsets.UTF_8);

    private final DisposableServer server;

    private DemoUpstream(DisposableServer server) {
        this.server = server;
    }

    /** Starts on {@code port} of the loopback interface (0 picks a free one). */
    public static DemoUpstream start(int port) {
        try {
            DisposableServer server = HttpServer.create()
                    .host("127.0.0.1")
                    .port(port)
                    .handle((request, response) -> request.receive().aggregate().asByteArray()
                            .defaultIfEmpty(new byte[0])
                            .flatMap(body -> respond(request, response, body.length)))
                    .bindNow(Duration.ofSeconds(10));
            return new DemoUpstream(server);
        } catch (RuntimeException e) {
            throw new IllegalStateException("Cannot start the demo upstream on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** Base URL, e.g. {@code http://127.0.0.1:40123}. */
    public String url() {
        return "http://127.0.0.1:" + server.port();
    }

    private static Mono<Void> respond(HttpServerRequest request, HttpServerResponse response, int requestBytes) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        byte[] body;
        switch (uri.path()) {
            case "/api/hello" -> body = HELLO;
            case "/api/chat" -> {
                long tokens = tokens(uri.parameters().get("tokens"), requestBytes);
                response.header("X-Usage-Tokens", Long.toString(tokens));
                body = ("{\"reply\":\"This answer cost " + tokens + " tokens.\"}").getBytes(StandardCharsets.UTF_8);
            }
            default -> {
                response.status(HttpResponseStatus.NOT_FOUND);
                body = NOT_FOUND;
            }
        }
        return response.header("Content-Type", "application/json")
                .header("Content-Length", Integer.toString(body.length))
                .sendByteArray(Mono.just(body))
                .then();
    }

    private static long tokens(List<String> param, int requestBytes) {
        if (param != null && !param.isEmpty()) {
            try {
                return Long.parseLong(param.get(0));
            } catch (NumberFormatException e) {
                // falls through to the estimate from the body
            }
        }
        return 20 + requestBytes / 4;
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
