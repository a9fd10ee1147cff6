package dev.tollgate.bench;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.gateway.QuotaGatewayFilterFactory;
import dev.tollgate.servlet.TollgateFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.http.HttpStatus;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.http.server.reactive.MockServerHttpResponse;
import org.springframework.mock.web.MockFilterConfig;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.adapter.DefaultServerWebExchange;
import org.springframework.web.server.i18n.AcceptHeaderLocaleContextResolver;
import org.springframework.web.server.i18n.LocaleContextResolver;
import org.springframework.web.server.session.DefaultWebSessionManager;
import org.springframework.web.server.session.WebSessionManager;
import reactor.core.scheduler.Schedulers;

/**
 * One metered request through each adapter's real filter, with the HTTP objects of a test
 * (Spring's mock servlet request and response; a mock reactive request and response in the
 * exchange the server would make) and an
 * application that answers 200 at once: the servlet {@link TollgateFilter#doFilter} and the
 * gateway {@code Quota} filter ({@link QuotaGatewayFilterFactory}), each next to the same
 * request without the filter ({@code …NoFilter}), so that the difference is what the filter
 * costs the request thread: rule, API key to subject, admission from a held allotment,
 * RateLimit fields on the response, settlement. The engine runs as a gateway runs it: on
 * embedded in-memory H2, asynchronous recording with no journal and {@code boundedElastic} for
 * what could block, so the gateway settles on the calling thread. One API key, one thread; a
 * limit nobody reaches.
 *
 * <p>Run from the repository root (about 1 minute):
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests &amp;&amp; java -jar benchmarks/target/benchmarks.jar AdapterBenchmark -f 1 -wi 3 -i 5
 * </pre>
 * Target: the filter's own cost (with − without) at most 1 µs per request in each adapter.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
@State(Scope.Benchmark)
@Threads(1)
public class AdapterBenchmark {
    private static final String KEY = "bench-api-key";
    private static final Map<String, String> RULES = Map.of(
            "tollgate.rules.api.path", "/api/**", "tollgate.rules.api.quotas", BenchEngines.QUOTA);

    private Tollgate tollgate;
    private TollgateFilter servlet;
    private GatewayFilter gateway;
    private final ServerCodecConfigurer codecs = ServerCodecConfigurer.create();
    private final WebSessionManager sessions = new DefaultWebSessionManager();
    private final LocaleContextResolver locales = new AcceptHeaderLocaleContextResolver();
    private final FilterChain app = (req, res) -> ((HttpServletResponse) res).setStatus(200);
    private final GatewayFilterChain upstream = exchange -> {
        // Commits the response, as the gateway's routing filter does once the upstream answered.
        exchange.getResponse().setStatusCode(HttpStatus.OK);
        return exchange.getResponse().setComplete();
    };

    /** Starts the engine and both filters, and sends one request through each (policy and first grant). */
    @Setup(Level.Trial)
    public void start() throws Exception {
        tollgate = Tollgate.builder(BenchEngines.h2("adapters").channelCapacity(16_000_000).batchSize(20_000).build())
                .blockingExecutor(Schedulers.boundedElastic()::schedule)
                .build();
        if (!tollgate.recordsWithoutBlocking()) {
            throw new IllegalStateException("the engine would block on recording; the gateway would hop threads");
        }
        tollgate.registerKey(Subjects.apiKey(KEY), null, null);   // only registered keys are metered
        servlet = new TollgateFilter(tollgate, EdgeConfig.from(Settings.of(RULES)), null);
        servlet.init(new MockFilterConfig());
        gateway = new QuotaGatewayFilterFactory(Settings.of(Map.of()), tollgate, name -> null,
                Schedulers.boundedElastic()).apply(new QuotaGatewayFilterFactory.Config().setQuota(BenchEngines.QUOTA));
        MockHttpServletResponse first = servletFilter();
        check(first.getStatus() == 200 ? first.getHeader("RateLimit") : null, "servlet (status " + first.getStatus()
                + ", " + first.getContentAsString() + ")");
        ServerWebExchange ex = gatewayExchange();
        gateway.filter(ex, upstream).block();
        check(HttpStatus.OK.equals(ex.getResponse().getStatusCode()) ? ex.getResponse().getHeaders().getFirst("RateLimit")
                : null, "gateway (status " + ex.getResponse().getStatusCode() + ")");
    }

    private static void check(String rateLimit, String adapter) {
        if (rateLimit == null) {
            throw new IllegalStateException("the " + adapter + " filter did not admit the request with its RateLimit field");
        }
    }

    private static MockHttpServletRequest servletRequest() {
        MockHttpServletRequest req = new MockHttpServletRequest("GET", "/api/hello");
        req.setServletPath("/api/hello");
        req.addHeader("X-API-Key", KEY);
        return req;
    }

    /**
     * A new exchange per request, as the server makes one; the codecs, session manager and
     * locale resolver are the server's, made once (a {@code MockServerWebExchange} makes them
     * per exchange, which costs a hundred times more than the filter).
     */
    private ServerWebExchange gatewayExchange() {
        return new DefaultServerWebExchange(MockServerHttpRequest.get("/api/hello").header("X-API-Key", KEY).build(),
                new MockServerHttpResponse(), sessions, codecs, locales);
    }

    /** The request and response objects and the application, without the filter. */
    @Benchmark
    public MockHttpServletResponse servletNoFilter() throws Exception {
        MockHttpServletResponse res = new MockHttpServletResponse();
        app.doFilter(servletRequest(), res);
        return res;
    }

    /** The same through {@link TollgateFilter#doFilter}. */
    @Benchmark
    public MockHttpServletResponse servletFilter() throws Exception {
        MockHttpServletResponse res = new MockHttpServletResponse();
        servlet.doFilter(servletRequest(), res, app);
        return res;
    }

    /** The exchange and the upstream, without the filter. */
    @Benchmark
    public ServerWebExchange gatewayNoFilter() {
        ServerWebExchange ex = gatewayExchange();
        upstream.filter(ex).block();
        return ex;
    }

    /** The same through the {@code Quota} gateway filter. */
    @Benchmark
    public ServerWebExchange gatewayFilter() {
        ServerWebExchange ex = gatewayExchange();
        gateway.filter(ex, upstream).block();
        return ex;
    }

    /** Prints what the engine did and closes it. */
    @TearDown(Level.Trial)
    public void stop() {
        System.out.println("[adapters] " + BenchEngines.describe(tollgate.stats()) + " grantWaits="
                + tollgate.stats().grantWaits());
        servlet.destroy();
        tollgate.close();
    }
}
