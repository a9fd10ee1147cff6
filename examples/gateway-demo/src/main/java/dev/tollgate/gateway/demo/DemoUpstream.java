package dev.tollgate.gateway.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The demo's own upstream, a small JDK HTTP server on loopback that the gateway proxies to
 * over real HTTP:
 * <ul>
 *   <li>{@code GET /api/hello}: a greeting;</li>
 *   <li>{@code /api/chat}: a canned reply with {@code X-Usage-Tokens} (20 plus a quarter of the
 *       request body's bytes, or {@code ?tokens=N}), which the gateway charges to the
 *       {@code tokens} quota.</li>
 * </ul>
 */
public final class DemoUpstream implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    private DemoUpstream(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts on {@code port} of the loopback interface (0 picks a free one). */
    public static DemoUpstream start(int port) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 100);
            ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
                Thread t = new Thread(r, "demo-upstream");
                t.setDaemon(true);
                return t;
            });
            server.createContext("/", DemoUpstream::handle);
            server.setExecutor(executor);
            server.start();
            return new DemoUpstream(server, executor);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot start the demo upstream on port " + port + ": " + e.getMessage(), e);
        }
    }

    /** Base URL, e.g. {@code http://127.0.0.1:40123}. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] request = ex.getRequestBody().readAllBytes();
            URI uri = ex.getRequestURI();
            int status = 200;
            String body;
            switch (uri.getPath()) {
                case "/api/hello" -> body = "{\"message\":\"Hello from the demo upstream\"}";
                case "/api/chat" -> {
                    long tokens = tokens(uri.getQuery(), request.length);
                    ex.getResponseHeaders().add("X-Usage-Tokens", Long.toString(tokens));
                    body = "{\"reply\":\"This answer cost " + tokens + " tokens.\"}";
                }
                default -> {
                    status = 404;
                    body = "{\"error\":\"no such upstream path\"}";
                }
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static long tokens(String query, int requestBytes) {
        if (query != null) {
            for (String param : query.split("&")) {
                if (param.startsWith("tokens=")) {
                    try {
                        return Long.parseLong(param.substring("tokens=".length()));
                    } catch (NumberFormatException e) {
                        break;
                    }
                }
            }
        }
        return 20 + requestBytes / 4;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
