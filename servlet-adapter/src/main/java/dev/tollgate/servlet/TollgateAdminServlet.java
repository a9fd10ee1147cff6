package dev.tollgate.servlet;

import dev.tollgate.core.edge.AdminApi;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Serves Tollgate's admin and self-service API ({@link AdminApi}) under the path it is mapped
 * to in {@code web.xml}; that mapping is the admin path:
 *
 * <pre>{@code
 * <servlet>
 *   <servlet-name>tollgate-admin</servlet-name>
 *   <servlet-class>dev.tollgate.servlet.TollgateAdminServlet</servlet-class>
 * </servlet>
 * <servlet-mapping>
 *   <servlet-name>tollgate-admin</servlet-name>
 *   <url-pattern>/tollgate/*</url-pattern>
 * </servlet-mapping>
 * }</pre>
 *
 * <p>It has no init-params of its own: it uses the engine and the configuration of the web
 * app's {@link TollgateFilter} (found in the ServletContext attribute
 * {@value TollgateFilter#FILTER_ATTRIBUTE}), including {@code tollgate.admin.token}. Routes,
 * below the mapping: {@code GET /me} (self-service: the caller's own remaining quota,
 * admitted as a metered request of {@code tollgate.admin.me-quota}, e.g. by its
 * {@code X-API-Key}; no admin token needed),
 * and, with {@code Authorization: Bearer <tollgate.admin.token>}, {@code GET /health},
 * {@code GET /stats}, {@code GET /subjects/{subject}}, {@code PUT /subjects/{subject}/plan},
 * {@code PUT|DELETE /subjects/{subject}/limits/{quota}}, {@code POST /flush},
 * {@code POST /keys} and {@code DELETE /keys/{subject}}: see {@link AdminApi}. Without a
 * configured token those routes answer 404. Bodies larger than
 * {@value AdminApi#MAX_BODY_BYTES} bytes are refused with 413 before they are read in full;
 * a body without a declared length (chunked, or HTTP/2 without {@code content-length}) is read
 * up to that bound too.
 * Answers {@code 503} when the filter is missing or disabled.
 *
 * <p>Thread-safe.
 */
public class TollgateAdminServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient TollgateFilter given;

    /** The servlet {@code web.xml} declares: it serves the API of the web app's {@link TollgateFilter}. */
    public TollgateAdminServlet() {
        this(null);
    }

    /** A servlet serving the API of {@code filter}, as a Spring Boot application registers it. */
    public TollgateAdminServlet(TollgateFilter filter) {
        this.given = filter;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        Object attr = given != null ? given : getServletContext().getAttribute(TollgateFilter.FILTER_ATTRIBUTE);
        TollgateFilter filter = attr instanceof TollgateFilter f ? f : null;
        AdminApi api = filter == null ? null : filter.adminApi();
        if (api == null) {
            String detail = filter != null && !filter.enabled()
                    ? "Tollgate is disabled (tollgate.enabled=false)."
                    : "No TollgateFilter is running in this web app; declare dev.tollgate.servlet.TollgateFilter"
                    + " in web.xml.";
            problem(response, 503, "Service Unavailable", detail);
            return;
        }
        String body;
        try {
            body = readBody(request);
        } catch (TooLarge e) {
            problem(response, 413, "Content Too Large", "Admin request bodies are limited to "
                    + AdminApi.MAX_BODY_BYTES + " bytes.");
            return;
        }
        AdminApi.Response r = api.handle(request.getMethod(), request.getPathInfo(), request.getQueryString(),
                request.getHeader("Authorization"), body, () -> filter.subjectOf(request));
        write(response, r.status(), r.headers(), r.contentType(), r.body());
    }

    private static String readBody(HttpServletRequest request) throws IOException, TooLarge {
        long declared = request.getContentLengthLong();
        if (declared > AdminApi.MAX_BODY_BYTES) {
            throw new TooLarge();
        }
        if (declared == 0) {
            return null;
        }
        // No declared length: chunked, or HTTP/2 without content-length. Read it, bounded.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try (InputStream in = request.getInputStream()) {
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
                if (out.size() > AdminApi.MAX_BODY_BYTES) {
                    throw new TooLarge();
                }
            }
        }
        return out.size() == 0 ? null : out.toString(StandardCharsets.UTF_8);
    }

    private static void problem(HttpServletResponse response, int status, String title, String detail)
            throws IOException {
        AdminApi.Response r = AdminApi.problem(status, title, detail);
        write(response, r.status(), r.headers(), r.contentType(), r.body());
    }

    private static void write(HttpServletResponse response, int status, Iterable<Map.Entry<String, String>> headers,
                              String contentType, String body) throws IOException {
        response.setStatus(status);
        for (Map.Entry<String, String> h : headers) {
            response.addHeader(h.getKey(), h.getValue());
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setContentType(contentType);
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    /** A body over the limit. */
    private static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge() {
            super(null, null, false, false);
        }
    }
}
