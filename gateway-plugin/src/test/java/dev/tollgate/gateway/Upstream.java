package dev.tollgate.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real upstream on loopback for the gateway's routes (JDK HTTP server on an ephemeral port):
 * <ul>
 *   <li>{@code /api/chat} answers 200 with {@code X-Usage-Tokens} set to the request's
 *       {@code X-Test-Tokens} (absent when the request has none);</li>
 *   <li>{@code .../status/<code>} answers with that status;</li>
 *   <li>{@code /api/slow} answers once {@link #releaseSlow()} is called, and counts down
 *       {@link #slowArrived} when a request arrives;</li>
 *   <li>anything else answers 200 {@code hello}.</li>
 * </ul>
 */
final class Upstream implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(8);
    volatile CountDownLatch slowArrived = new CountDownLatch(1);
    /** Requests waiting in {@code /api/slow} now. */
    final AtomicInteger slowHeld = new AtomicInteger();
    private volatile CountDownLatch slowRelease = new CountDownLatch(1);

    private Upstream() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    static Upstream start() {
        try {
            return new Upstream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** A loopback URL where nothing listens (connections are refused). */
    static String deadUrl() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "http://127.0.0.1:" + s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    void releaseSlow() {
        slowRelease.countDown();
    }

    void resetSlow() {
        slowArrived = new CountDownLatch(1);
        slowRelease = new CountDownLatch(1);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            int status = 200;
            if (path.equals("/api/chat")) {
                String tokens = ex.getRequestHeaders().getFirst("X-Test-Tokens");
                if (tokens != null) {
                    ex.getResponseHeaders().add("X-Usage-Tokens", tokens);
                }
            } else if (path.contains("/status/")) {
                status = Integer.parseInt(path.substring(path.lastIndexOf('/') + 1));
            } else if (path.equals("/api/slow")) {
                slowArrived.countDown();
                slowHeld.incrementAndGet();
                try {
                    slowRelease.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    slowHeld.decrementAndGet();
                }
            }
            byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/plain");
            ex.sendResponseHeaders(status, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        releaseSlow();
        server.stop(0);
        executor.shutdownNow();
    }
}
