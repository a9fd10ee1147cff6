package dev.tollgate.demo.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.servlet.TollgateFilter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;

/** The demo as packaged: its web.xml, servlets and filter, on a test database, over loopback HTTP. */
class DemoServerTest {

    @Test
    void metersHelloAndChatAsItsWebXmlSays() throws Exception {
        try (TestDatabase db = TestDatabases.h2()) {
            Server server = DemoServer.start(0, Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource()));
            try {
                String base = "http://127.0.0.1:" + DemoServer.port(server);
                HttpClient client = HttpClient.newHttpClient();
                WebAppContext webapp = (WebAppContext) server.getHandler();
                TollgateFilter filter = (TollgateFilter) webapp.getServletContext()
                        .getAttribute(TollgateFilter.FILTER_ATTRIBUTE);
                HttpResponse<String> unknown = client.send(HttpRequest.newBuilder(URI.create(base + "/api/hello"))
                        .header("X-API-Key", "demo-key").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(unknown.statusCode()).as("only registered keys are metered").isEqualTo(401);
                assertThat(unknown.headers().firstValue("WWW-Authenticate")).isPresent();
                filter.tollgate().registerKey(Subjects.apiKey("demo-key"), null, "demo");

                HttpResponse<String> hello = client.send(HttpRequest.newBuilder(URI.create(base + "/api/hello"))
                        .header("X-API-Key", "demo-key").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(hello.statusCode()).isEqualTo(200);
                assertThat(hello.headers().firstValue("RateLimit-Policy")).hasValue("\"requests-day\";q=1000;w=86400");

                HttpResponse<String> chat = client.send(HttpRequest.newBuilder(URI.create(base + "/api/chat"))
                        .header("X-API-Key", "demo-key").POST(HttpRequest.BodyPublishers.ofString("x".repeat(40)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(chat.statusCode()).isEqualTo(200);
                assertThat(chat.body()).startsWith("{\"reply\":");
                long tokens = Long.parseLong(chat.headers().firstValue("X-Usage-Tokens").orElseThrow());
                assertThat(tokens).isPositive();

                HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(URI.create(base + "/api/hello"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(anonymous.statusCode()).isEqualTo(401);

                assertThat(filter.tollgate().flush()).isTrue();
                String subject = Subjects.apiKey("demo-key");
                assertThat(db.storedTotal(subject, "requests", "DAY")).isEqualTo(2);
                assertThat(db.storedTotal(subject, "tokens", "DAY")).isEqualTo(tokens);
            } finally {
                server.stop();
            }
        }
    }
}
