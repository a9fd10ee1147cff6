package dev.tollgate.demo.servlet;

import java.util.Map;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the servlet demo: {@code java -jar examples/servlet-demo/target/tollgate-servlet-demo.jar}.
 *
 * <p>Environment: {@code PORT} (default {@value #DEFAULT_PORT}); every {@code tollgate.*}
 * setting by its relaxed name, e.g. {@code TOLLGATE_PLANS_FREE_REQUESTS=5/minute},
 * {@code TOLLGATE_ADMIN_TOKEN=...} (16+ characters; enables {@code /tollgate/*}),
 * {@code TOLLGATE_STORE_URL=jdbc:postgresql://127.0.0.1:5432/tollgate} with
 * {@code TOLLGATE_STORE_USER} and {@code TOLLGATE_STORE_PASSWORD}, {@code TOLLGATE_ENABLED=false}
 * (pass-through) and {@code TOLLGATE_ASYNC_ENABLED=false} (one synchronous write per request).
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    static final int DEFAULT_PORT = 8080;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        int port = port(System.getenv("PORT"));
        Server server;
        try {
            server = DemoServer.start(port, Map.of());
        } catch (Exception e) {
            LOG.error("The demo did not start: {}", rootMessage(e));
            System.exit(1);
            return;
        }
        int actual = DemoServer.port(server);
        LOG.info("Tollgate servlet demo running at http://localhost:{}/ - only registered API keys are metered;"
                + " get one (with TOLLGATE_ADMIN_TOKEN set): curl -s -X POST -H 'Authorization: Bearer <token>'"
                + " http://localhost:{}/tollgate/keys", actual, actual);
        server.join();
    }

    static int port(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_PORT;
        }
        try {
            int p = Integer.parseInt(value.trim());
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println("PORT: '" + value + "' is not allowed; expected a port number from 0 to 65535");
        System.exit(2);
        return -1;
    }

    /** The first message along the cause chain (Jetty wraps the filter's ServletException). */
    private static String rootMessage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null) {
                return t.getMessage();
            }
        }
        return e.toString();
    }
}
