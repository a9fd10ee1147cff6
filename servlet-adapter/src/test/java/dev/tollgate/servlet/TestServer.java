package dev.tollgate.servlet;

import dev.tollgate.core.Tollgate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.resource.ResourceFactory;

/**
 * The test web app ({@code test-webapp/WEB-INF/web.xml}) in embedded Jetty on a free loopback
 * port, with per-test filter init-params (written to a Jetty override descriptor, which wins
 * over web.xml) and ServletContext attributes; plus a real HTTP client.
 */
final class TestServer implements AutoCloseable {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Server server;
    private final WebAppContext webapp;
    private final Path override;
    private final URI base;

    private TestServer(Server server, WebAppContext webapp, Path override) {
        this.server = server;
        this.webapp = webapp;
        this.override = override;
        int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
        this.base = URI.create("http://127.0.0.1:" + port);
    }

    /** Starts the app; {@code initParams} override the tollgate filter's, {@code attributes} are set on the context. */
    static TestServer start(Map<String, String> initParams, Map<String, Object> attributes) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);

        WebAppContext webapp = new WebAppContext();
        webapp.setContextPath("/");
        webapp.setBaseResource(ResourceFactory.of(webapp).newResource(TestServer.class.getResource("/test-webapp").toURI()));
        webapp.setParentLoaderPriority(true);
        webapp.setThrowUnavailableOnStartupException(true);
        Path override = Files.createTempFile("tollgate-override-web", ".xml");
        Files.writeString(override, overrideDescriptor(initParams), StandardCharsets.UTF_8);
        webapp.setOverrideDescriptors(List.of(override.toString()));
        attributes.forEach(webapp::setAttribute);
        server.setHandler(webapp);
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            Files.deleteIfExists(override);
            throw e;
        }
        return new TestServer(server, webapp, override);
    }

    private static String overrideDescriptor(Map<String, String> initParams) {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.1\">\n"
                + "  <filter>\n    <filter-name>tollgate</filter-name>\n");
        initParams.forEach((k, v) -> sb.append("    <init-param><param-name>").append(xml(k))
                .append("</param-name><param-value>").append(xml(v)).append("</param-value></init-param>\n"));
        return sb.append("  </filter>\n</web-app>\n").toString();
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** The filter instance, published in the ServletContext. */
    TollgateFilter filter() {
        return (TollgateFilter) webapp.getServletContext().getAttribute(TollgateFilter.FILTER_ATTRIBUTE);
    }

    Tollgate tollgate() {
        return filter().tollgate();
    }

    /** Writes every pending charge to the store. */
    void flush() {
        if (!tollgate().flush()) {
            throw new AssertionError("flush left usage pending");
        }
    }

    URI uri(String pathAndQuery) {
        try {
            return new URI(base + pathAndQuery);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    HttpResponse<String> get(String pathAndQuery, String... headers) {
        return send(request(pathAndQuery, headers).GET().build());
    }

    HttpResponse<String> post(String pathAndQuery, String body, String... headers) {
        return send(request(pathAndQuery, headers).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    HttpResponse<String> put(String pathAndQuery, String body, String... headers) {
        return send(request(pathAndQuery, headers).PUT(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    HttpResponse<String> delete(String pathAndQuery, String... headers) {
        return send(request(pathAndQuery, headers).DELETE().build());
    }

    HttpRequest.Builder request(String pathAndQuery, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b;
    }

    static HttpResponse<String> send(HttpRequest request) {
        try {
            return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Convenience: a mutable map of init-params. */
    static Map<String, String> params(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            Files.deleteIfExists(override);
        }
    }
}
