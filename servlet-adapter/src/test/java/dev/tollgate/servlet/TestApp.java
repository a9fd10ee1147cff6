package dev.tollgate.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The servlets and filters of the test web app ({@code test-webapp/WEB-INF/web.xml}). */
public final class TestApp {
    /** The response header the test rules read token costs from. */
    public static final String COST_HEADER = "X-Usage-Tokens";

    private TestApp() {
    }

    /** Requests of {@code ?hold=true} waiting in {@link Api} now. */
    public static final AtomicInteger HELD = new AtomicInteger();
    /** Counted down to let the held requests answer. */
    public static volatile CountDownLatch release = new CountDownLatch(0);

    /**
     * {@code /api/*}: answers 200 "ok", or {@code ?status=N} (sent with sendError for 4xx/5xx,
     * so the error page runs), sets one {@value #COST_HEADER} per {@code ?tokens=} value,
     * throws for {@code ?throw=true}, and with {@code ?hold=true} waits for {@link #release}
     * first (a slow upstream).
     */
    public static class Api extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if ("true".equals(req.getParameter("hold"))) {
                HELD.incrementAndGet();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    HELD.decrementAndGet();
                }
            }
            write(req, resp);
        }

        static void write(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String[] tokens = req.getParameterValues("tokens");
            if (tokens != null) {
                for (String t : tokens) {
                    resp.addHeader(COST_HEADER, t);
                }
            }
            if ("true".equals(req.getParameter("throw"))) {
                throw new IllegalStateException("the application failed");
            }
            String status = req.getParameter("status");
            int code = status == null ? 200 : Integer.parseInt(status);
            if (code >= 400) {
                resp.sendError(code);
                return;
            }
            resp.setStatus(code);
            resp.setContentType("text/plain");
            resp.getOutputStream().write("ok".getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * {@code /async/*}: starts async processing and, on another thread, by {@code ?mode=}:
     * {@code complete} writes the response like {@link Api} and completes; {@code dispatch}
     * dispatches to {@code /api/hello} with the same query; {@code timeout} does nothing
     * (times out after 200 ms); {@code wrapped} uses startAsync(request, response);
     * {@code error} fails in the servlet right after starting async processing (the container
     * reports it to the async listeners' {@code onError}).
     */
    public static class Async extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            String mode = req.getParameter("mode");
            AsyncContext ctx = "wrapped".equals(mode) ? req.startAsync(req, resp) : req.startAsync();
            ctx.setTimeout("timeout".equals(mode) ? 200 : 10_000);
            switch (mode) {
                case "complete", "wrapped" -> CompletableFuture.runAsync(() -> {
                    try {
                        Api.write((HttpServletRequest) ctx.getRequest(), (HttpServletResponse) ctx.getResponse());
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } finally {
                        ctx.complete();
                    }
                });
                case "dispatch" -> CompletableFuture.runAsync(() -> ctx.dispatch("/api/hello"));
                case "error" -> throw new IllegalStateException("the application failed after starting async");
                case "timeout" -> {
                }
                default -> throw new IllegalArgumentException("mode " + mode);
            }
        }
    }

    /** {@code /forward}: forwards to {@code /api/hello}. */
    public static class Forward extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
            req.getRequestDispatcher("/api/hello").forward(req, resp);
        }
    }

    /** {@code /error}: the error page. */
    public static class ErrorPage extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain");
            resp.getOutputStream().write("error page".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Stands in for authentication: {@code X-Test-User} becomes the user principal. */
    public static class FakeAuth implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            HttpServletRequest http = (HttpServletRequest) request;
            String user = http.getHeader("X-Test-User");
            if (user == null) {
                chain.doFilter(request, response);
                return;
            }
            Principal principal = () -> user;
            chain.doFilter(new HttpServletRequestWrapper(http) {
                @Override
                public Principal getUserPrincipal() {
                    return principal;
                }
            }, response);
        }
    }

    /**
     * With {@code X-Test-As-Http2}, shows the request as an HTTP/2 request without
     * {@code content-length} looks to a servlet: no declared length and no
     * {@code Transfer-Encoding}, the body there all the same.
     */
    public static class AsHttp2 implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            HttpServletRequest http = (HttpServletRequest) request;
            if (http.getHeader("X-Test-As-Http2") == null) {
                chain.doFilter(request, response);
                return;
            }
            chain.doFilter(new HttpServletRequestWrapper(http) {
                @Override
                public int getContentLength() {
                    return -1;
                }

                @Override
                public long getContentLengthLong() {
                    return -1;
                }

                @Override
                public String getHeader(String name) {
                    return name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")
                            ? null : super.getHeader(name);
                }
            }, response);
        }
    }

    /** A resolver that charges the tenant named in {@code X-Tenant}. */
    public static class TenantResolver implements SubjectResolver {
        @Override
        public String resolve(HttpServletRequest request) {
            String tenant = request.getHeader("X-Tenant");
            return tenant == null ? null : "tenant:" + tenant;
        }
    }
}
