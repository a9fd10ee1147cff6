package dev.tollgate.demo.servlet;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.util.Map;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.resource.ResourceFactory;

/**
 * Embedded Jetty 12 (ee11) serving the demo web app: {@code WEB-INF/web.xml} is read from the
 * class path ({@code webapp/} inside the jar), exactly as a container reads it from a war.
 */
public final class DemoServer {
    /** Where the web app lives on the class path. */
    static final String WEB_XML = "/webapp/WEB-INF/web.xml";

    private DemoServer() {
    }

    /**
     * Starts the demo on {@code port} (0 for any free port).
     *
     * @param attributes ServletContext attributes, e.g. a DataSource for the filter (tests)
     * @throws Exception when the server or the web app cannot start (a bad configuration
     *                   value fails here, naming the key)
     */
    public static Server start(int port, Map<String, Object> attributes) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);

        WebAppContext webapp = new WebAppContext();
        webapp.setContextPath("/");
        webapp.setBaseResource(ResourceFactory.of(webapp).newResource(webappRoot()));
        // The servlets and the filter are on the application class path, not in WEB-INF/lib.
        webapp.setParentLoaderPriority(true);
        webapp.setThrowUnavailableOnStartupException(true);
        attributes.forEach(webapp::setAttribute);
        server.setHandler(webapp);
        // Ctrl-C / SIGTERM stops the web app, whose filter drains and flushes usage.
        server.setStopAtShutdown(true);
        server.setStopTimeout(15_000);
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        return server;
    }

    /** The port the server listens on. */
    public static int port(Server server) {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    private static URI webappRoot() throws URISyntaxException {
        URL webXml = DemoServer.class.getResource(WEB_XML);
        if (webXml == null) {
            throw new IllegalStateException(WEB_XML + " is not on the class path");
        }
        String s = webXml.toURI().toString();
        return new URI(s.substring(0, s.length() - "WEB-INF/web.xml".length()));
    }
}
