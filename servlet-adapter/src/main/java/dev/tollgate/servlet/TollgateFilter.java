package dev.tollgate.servlet;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.TollgateKeys;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.edge.AdminApi;
import dev.tollgate.core.edge.Admission;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import dev.tollgate.core.edge.QuotaRule;
import dev.tollgate.core.edge.SubjectResult;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces Tollgate quotas in a plain Servlet 6 web app, declared in {@code web.xml}:
 *
 * <pre>{@code
 * <filter>
 *   <filter-name>tollgate</filter-name>
 *   <filter-class>dev.tollgate.servlet.TollgateFilter</filter-class>
 *   <async-supported>true</async-supported>
 *   <init-param>
 *     <param-name>tollgate.config.file</param-name>
 *     <param-value>classpath:tollgate.properties</param-value>
 *   </init-param>
 * </filter>
 * <filter-mapping>
 *   <filter-name>tollgate</filter-name>
 *   <url-pattern>/*</url-pattern>
 * </filter-mapping>
 * }</pre>
 *
 * <p>For each request that a rule matches, the filter resolves who pays (the subject),
 * checks every quota of the rule against the cached view, and either lets the request
 * through with {@code RateLimit-Policy} and {@code RateLimit} fields, or answers at once
 * ({@code 429} with {@code Retry-After} and a problem body; {@code 401} without a subject;
 * {@code 400} for a malformed API key; {@code 503} when fail mode is closed and the store is
 * down). After the response is complete, the request is charged once: in {@code finally},
 * or, for an asynchronous request, in an {@link AsyncListener} ({@code onComplete},
 * {@code onTimeout}, {@code onError}). ERROR, ASYNC, FORWARD and INCLUDE dispatches are
 * never metered again. All decisions, header values and problem bodies come from
 * {@link QuotaGate}; this class only translates servlet objects.
 *
 * <h2>Configuration and its precedence</h2>
 * Every {@code tollgate.*} key (described in {@link TollgateKeys}, listed with its default
 * in the README's configuration reference) can be set, from lowest to highest precedence:
 * <ol>
 * <li>by its default;</li>
 * <li>in a properties file (UTF-8) named by {@code tollgate.config.file}: a file path, or
 *     {@code classpath:<resource>} (looked up in the web app's class loader);</li>
 * <li>as a filter {@code <init-param>} whose name is the key;</li>
 * <li>as an environment variable with the relaxed name ({@code tollgate.async.enabled} →
 *     {@code TOLLGATE_ASYNC_ENABLED}, {@code tollgate.plans.free.requests} →
 *     {@code TOLLGATE_PLANS_FREE_REQUESTS}), so operators override {@code web.xml} without
 *     rebuilding the app.</li>
 * </ol>
 * Unknown {@code tollgate.*} keys are logged as warnings. An invalid value fails
 * {@link #init} with a {@link ServletException} whose message names the key, the value and
 * what is allowed, so the web app does not start. The engine's keys are ignored when the
 * engine comes from a ServletContext attribute. {@code tollgate.subject.resolver} names a
 * {@link SubjectResolver} class with a public no-argument constructor.
 *
 * <p>Requests under {@code tollgate.admin.path} (default {@code /tollgate}) are never
 * metered. In {@code web.xml} the {@link TollgateAdminServlet}'s {@code <url-pattern>} places
 * the admin API; it must be {@code <tollgate.admin.path>/*}, and the filter refuses to start
 * when the admin servlet is mapped elsewhere.
 *
 * <h2>The engine</h2>
 * At {@link #init} the filter takes, in this order: a {@link Tollgate} the application put
 * in the ServletContext attribute {@value #ENGINE_ATTRIBUTE} (used as is, never closed by
 * the filter); else a {@link DataSource} in the attribute {@value #DATA_SOURCE_ATTRIBUTE},
 * on which it builds an engine; else an engine with its own pool for
 * {@code tollgate.store.url}. An engine it built is closed (drained and flushed) in
 * {@link #destroy}. The filter publishes itself in the attribute {@value #FILTER_ATTRIBUTE},
 * where {@link TollgateAdminServlet} finds it; declare one {@code TollgateFilter} per web app.
 *
 * <p>Thread-safe: one instance serves all requests after {@link #init}.
 */
public class TollgateFilter implements Filter {
    private static final Logger LOG = LoggerFactory.getLogger(TollgateFilter.class);

    /** ServletContext attribute holding an application-provided {@link Tollgate}. */
    public static final String ENGINE_ATTRIBUTE = "dev.tollgate.core.Tollgate";
    /** ServletContext attribute holding a {@link DataSource} to build the engine on. */
    public static final String DATA_SOURCE_ATTRIBUTE = "dev.tollgate.servlet.DataSource";
    /** ServletContext attribute where the filter publishes itself. */
    public static final String FILTER_ATTRIBUTE = "dev.tollgate.servlet.TollgateFilter";

    private static final String RESOLVER_KEY = TollgateKeys.SUBJECT_RESOLVER.name();

    /** Marks a request this filter has already handled (a second instance, a re-dispatch). */
    private static final String HANDLED = TollgateFilter.class.getName() + ".handled";

    private final Tollgate givenEngine;
    private final EdgeConfig givenEdge;
    private final SubjectResolver givenResolver;
    private volatile EdgeConfig edge;
    private volatile QuotaGate gate;
    private volatile AdminApi admin;
    private volatile SubjectResolver resolver;
    private ServletContext context;
    private Tollgate owned;

    /** The filter {@code web.xml} declares: it reads its configuration and obtains its engine at {@link #init}. */
    public TollgateFilter() {
        this(null, null, null);
    }

    /**
     * A filter given its engine and edge configuration, as a Spring Boot application registers
     * it: {@link #init} reads no init-params, file or environment, and {@link #destroy} does not
     * close the engine.
     *
     * @param tollgate the engine; may be {@code null} only when {@code edge} is disabled
     * @param edge     the edge configuration
     * @param resolver the subject resolver, required when {@code tollgate.subject.source} is
     *                 {@code resolver}; else {@code null}
     */
    public TollgateFilter(Tollgate tollgate, EdgeConfig edge, SubjectResolver resolver) {
        this.givenEngine = tollgate;
        this.givenEdge = edge;
        this.givenResolver = resolver;
        if (edge != null && edge.enabled() && tollgate == null) {
            throw new IllegalArgumentException("an enabled filter needs an engine");
        }
    }

    /**
     * Reads the configuration, obtains the engine and publishes the filter.
     *
     * @throws ServletException naming the key, value and what is allowed when the
     *                          configuration is invalid, or when the store cannot be set up
     */
    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        String name = filterConfig.getFilterName();
        context = filterConfig.getServletContext();
        Map<String, String> params = new LinkedHashMap<>();
        for (String p : Collections.list(filterConfig.getInitParameterNames())) {
            params.put(p, filterConfig.getInitParameter(p));
        }
        TollgateConfig engineConfig = null;
        try {
            if (givenEdge != null) {
                edge = givenEdge;
                resolver = givenResolver;
                if (edge.subjectSource() == EdgeConfig.SubjectSource.RESOLVER && resolver == null) {
                    throw new InvalidConfigException(RESOLVER_KEY, "",
                            "a SubjectResolver (required when tollgate.subject.source=resolver)");
                }
            } else {
                Settings settings = ConfigSources.load(params, System.getenv(), classLoader());
                edge = EdgeConfig.from(settings);
                engineConfig = TollgateConfig.from(settings);
                resolver = resolver(edge);
            }
            checkAdminMapping(edge);
        } catch (InvalidConfigException e) {
            LOG.error("Tollgate filter '{}' not started: {}", name, e.getMessage());
            throw new ServletException("Tollgate filter '" + name + "': " + e.getMessage(), e);
        }
        Object previous = context.getAttribute(FILTER_ATTRIBUTE);
        if (previous != null && previous != this) {
            LOG.warn("Another TollgateFilter is already declared in this web app; '{}' replaces it for the admin"
                    + " servlet. Declare one TollgateFilter per web app.", name);
        }
        if (!edge.enabled()) {
            context.setAttribute(FILTER_ATTRIBUTE, this);
            LOG.info("Tollgate filter '{}' is disabled (tollgate.enabled=false): requests pass through unmetered", name);
            return;
        }
        Tollgate engine;
        String from;
        try {
            Object provided = givenEngine != null ? givenEngine : context.getAttribute(ENGINE_ATTRIBUTE);
            Object ds = context.getAttribute(DATA_SOURCE_ATTRIBUTE);
            if (provided != null) {
                if (!(provided instanceof Tollgate t)) {
                    throw new ServletException("ServletContext attribute " + ENGINE_ATTRIBUTE + " holds a "
                            + provided.getClass().getName() + "; expected " + Tollgate.class.getName());
                }
                engine = t;
                from = givenEngine != null ? "the engine it was given"
                        : "the engine in ServletContext attribute " + ENGINE_ATTRIBUTE;
            } else if (ds != null) {
                if (!(ds instanceof DataSource dataSource)) {
                    throw new ServletException("ServletContext attribute " + DATA_SOURCE_ATTRIBUTE + " holds a "
                            + ds.getClass().getName() + "; expected " + DataSource.class.getName());
                }
                engine = owned = Tollgate.builder(engineConfig).dataSource(dataSource).build();
                from = "the DataSource in ServletContext attribute " + DATA_SOURCE_ATTRIBUTE;
            } else {
                engine = owned = Tollgate.builder(engineConfig).build();
                from = TollgateKeys.maskUrl(engineConfig.storeUrl());   // never the URL's password
            }
        } catch (RuntimeException e) {
            LOG.error("Tollgate filter '{}' not started: {}", name, e.getMessage());
            throw new ServletException("Tollgate filter '" + name + "': cannot start the engine: " + e.getMessage(), e);
        }
        QuotaGate g = new QuotaGate(engine, edge);
        admin = new AdminApi(g);
        gate = g;
        context.setAttribute(FILTER_ATTRIBUTE, this);
        LOG.info("Tollgate filter '{}' ready: {} mode, subject from {}, rules [{}], counted statuses {}, headers {},"
                        + " admin routes {}, store: {}", name, edge.mode().name().toLowerCase(), describeSubject(edge),
                edge.rules().stream().map(QuotaRule::name).collect(Collectors.joining(", ")),
                edge.countedStatuses(), edge.headersEnabled() ? "on" : "off",
                admin.enabled() ? "enabled at " + edge.adminPath() : "disabled (no tollgate.admin.token)", from);
    }

    private ClassLoader classLoader() {
        ClassLoader l = Thread.currentThread().getContextClassLoader();
        return l != null ? l : TollgateFilter.class.getClassLoader();
    }

    /**
     * In {@code web.xml} the admin servlet's mapping places the admin API: it must be where
     * {@code tollgate.admin.path} says, which the filter leaves unmetered.
     */
    private void checkAdminMapping(EdgeConfig e) {
        Collection<? extends ServletRegistration> registrations;
        try {
            registrations = context.getServletRegistrations().values();
        } catch (UnsupportedOperationException notAllowed) {
            return;
        }
        String expected = e.adminPath() + "/*";
        for (ServletRegistration r : registrations) {
            if (TollgateAdminServlet.class.getName().equals(r.getClassName()) && !r.getMappings().isEmpty()
                    && !r.getMappings().contains(expected)) {
                throw new InvalidConfigException(TollgateKeys.ADMIN_PATH.name(), e.adminPath(),
                        "the path TollgateAdminServlet is mapped to, without /* (its url-pattern is "
                                + String.join(", ", r.getMappings()) + ")");
            }
        }
    }

    private SubjectResolver resolver(EdgeConfig e) {
        String cls = e.subjectResolver();
        if (e.subjectSource() != EdgeConfig.SubjectSource.RESOLVER) {
            if (cls != null) {
                LOG.warn("tollgate.subject.resolver is set but tollgate.subject.source is {}; the resolver is not used",
                        e.subjectSource().name().toLowerCase());
            }
            return null;
        }
        String allowed = "the name of a class implementing " + SubjectResolver.class.getName()
                + " with a public no-argument constructor";
        if (cls == null) {
            throw new InvalidConfigException(RESOLVER_KEY, "", allowed + " (required when"
                    + " tollgate.subject.source=resolver)");
        }
        try {
            Class<?> c = Class.forName(cls, true, classLoader());
            if (!SubjectResolver.class.isAssignableFrom(c)) {
                throw new InvalidConfigException(RESOLVER_KEY, cls, allowed + " (it does not implement it)");
            }
            return (SubjectResolver) c.getConstructor().newInstance();
        } catch (ClassNotFoundException e1) {
            throw new InvalidConfigException(RESOLVER_KEY, cls, allowed + " (class not found)");
        } catch (NoSuchMethodException | IllegalAccessException | InstantiationException e2) {
            throw new InvalidConfigException(RESOLVER_KEY, cls, allowed + " (cannot instantiate: " + e2 + ")");
        } catch (InvocationTargetException e3) {
            throw new InvalidConfigException(RESOLVER_KEY, cls, allowed + " (its constructor threw "
                    + e3.getCause() + ")");
        }
    }

    private static String describeSubject(EdgeConfig e) {
        return switch (e.subjectSource()) {
            case HEADER -> "header " + e.subjectHeader();
            case PRINCIPAL -> "the user principal";
            case RESOLVER -> e.subjectResolver();
        };
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        QuotaGate g = gate;
        if (g == null || !(req instanceof HttpServletRequest request) || !(res instanceof HttpServletResponse response)
                || request.getDispatcherType() != DispatcherType.REQUEST || request.getAttribute(HANDLED) != null) {
            chain.doFilter(req, res);
            return;
        }
        request.setAttribute(HANDLED, Boolean.TRUE);
        String method = request.getMethod();
        String path = pathWithinApp(request);
        QuotaRule rule = g.rule(method, path, QuotaGate.isPreflight(method, request.getHeader("Origin"),
                request.getHeader("Access-Control-Request-Method")));
        // Resolve the subject only for metered paths: static files and the like pay nothing.
        SubjectResult who = rule == null ? SubjectResult.absent() : subjectOf(request);
        Admission admission = g.admit(rule, method, path, who, rule == null ? null
                : Collections.list(request.getHeaders(g.config().idempotencyHeader())));
        for (Map.Entry<String, String> h : admission.headers()) {
            response.addHeader(h.getKey(), h.getValue());
        }
        switch (admission.kind()) {
            case PASS -> chain.doFilter(request, response);
            case REJECT -> reject(admission, response);
            case ADMIT -> proceed(g, admission, request, response, chain);
        }
    }

    private void proceed(QuotaGate g, Admission admission, HttpServletRequest request, HttpServletResponse response,
                         FilterChain chain) throws IOException, ServletException {
        Settlement settlement = new Settlement(g, admission, response);
        // The wrapper registers the listener the moment the app starts async processing, so a
        // dispatch() or complete() from another thread before the chain returns is still seen.
        HttpServletRequest chained = request.isAsyncSupported() ? new Settlement.AsyncAware(request, settlement) : request;
        boolean threw = true;
        try {
            chain.doFilter(chained, response);
            threw = false;
        } finally {
            if (!settlement.async && request.isAsyncStarted()) {
                // Async started on the unwrapped request: still within this dispatch, so
                // onComplete cannot have fired yet.
                settlement.watch(request.getAsyncContext());
            }
            if (!settlement.async) {
                settlement.settle(threw && !response.isCommitted() ? 500 : response.getStatus());
            }
        }
    }

    private static void reject(Admission admission, HttpServletResponse response) throws IOException {
        response.setStatus(admission.status());
        byte[] body = admission.body().getBytes(StandardCharsets.UTF_8);
        response.setContentType(admission.contentType());
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /** The request path within the web app, decoded and normalized by the container. */
    static String pathWithinApp(HttpServletRequest request) {
        String servletPath = request.getServletPath();
        String info = request.getPathInfo();
        String p = info == null ? servletPath : servletPath + info;
        return p == null || p.isEmpty() ? "/" : p;
    }

    /** Who pays for a request, resolved as configured (used by the admin servlet's {@code /me} too). */
    SubjectResult subjectOf(HttpServletRequest request) {
        QuotaGate g = gate;
        EdgeConfig e = edge;
        return switch (e.subjectSource()) {
            case HEADER -> g.subjectFromHeader(Collections.list(request.getHeaders(e.subjectHeader())));
            case PRINCIPAL -> {
                Principal p = request.getUserPrincipal();
                yield g.subjectFromName(p == null ? null : p.getName());
            }
            case RESOLVER -> g.subjectFromName(resolver.resolve(request));
        };
    }

    /** The engine in use, or {@code null} when disabled or not initialized. */
    public Tollgate tollgate() {
        QuotaGate g = gate;
        return g == null ? null : g.tollgate();
    }

    /** The shared edge logic in use, or {@code null} when disabled or not initialized. */
    public QuotaGate gate() {
        return gate;
    }

    /** The admin API over this filter's engine, or {@code null} when disabled or not initialized. */
    AdminApi adminApi() {
        return admin;
    }

    /** Whether {@code tollgate.enabled} is true (after {@link #init}). */
    boolean enabled() {
        EdgeConfig e = edge;
        return e != null && e.enabled();
    }

    /** Unpublishes the filter and closes (drains and flushes) the engine it built. */
    @Override
    public void destroy() {
        gate = null;
        admin = null;
        if (context != null && context.getAttribute(FILTER_ATTRIBUTE) == this) {
            context.removeAttribute(FILTER_ATTRIBUTE);
        }
        Tollgate t = owned;
        owned = null;
        if (t != null) {
            t.close();
            LOG.info("Tollgate filter stopped; the engine it built is closed (pending usage written, or logged"
                    + " as dropped)");
        }
    }
}
