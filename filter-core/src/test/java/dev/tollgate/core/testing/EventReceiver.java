package dev.tollgate.core.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A CloudEvents batch receiver on loopback (the JDK's {@code HttpServer}): records every POST
 * and answers the status set by {@link #answer}. It may be started after its URL was handed out,
 * so that a sender first finds nothing listening. Thread-safe.
 */
public final class EventReceiver implements AutoCloseable {
    /** One POST as received. */
    public record Post(int answered, String contentType, String authorization, String body) {
    }

    private final int port;
    private final List<Post> posts = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private HttpServer server;

    /** Picks a free loopback port; nothing listens on it until {@link #start}. */
    public EventReceiver() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + port + "/events";
    }

    /** The status of the next answers. */
    public void answer(int status) {
        this.status = status;
    }

    public synchronized EventReceiver start() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/events", x -> {
            String body;
            try (InputStream in = x.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            int answer = status;
            posts.add(new Post(answer, x.getRequestHeaders().getFirst("Content-Type"),
                    x.getRequestHeaders().getFirst("Authorization"), body));
            x.sendResponseHeaders(answer, -1);
            x.close();
        });
        server.start();
        return this;
    }

    /** Every POST so far, answered 2xx or not. */
    public List<Post> posts() {
        return List.copyOf(posts);
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }
}
