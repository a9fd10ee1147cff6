package dev.tollgate.gateway;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.config.ConfigKeys;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.edge.EdgeConfig;
import dev.tollgate.core.edge.QuotaGate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.cloud.gateway.filter.GatewayFilter;
import org.springframework.cloud.gateway.filter.factory.AbstractGatewayFilterFactory;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.cloud.gateway.support.HasRouteId;
import reactor.core.scheduler.Scheduler;

/**
 * The {@code Quota} route filter: checks a request's quotas before it is routed (429 with
 * {@code Retry-After} and a problem body when over a limit, 401 without a subject) and
 * charges them once the upstream response completes, also when the client disconnects or
 * the upstream fails. Decisions, headers, bodies and costs come from the engine's
 * {@link QuotaGate}; this class only adapts them to the gateway.
 *
 * <p>Shortcut form, {@code quota,cost}:
 * <pre>
 * filters:
 *   - Quota=requests,1
 * </pre>
 * Full form (every argument optional; unset ones fall back to the {@code tollgate.*} properties):
 * <pre>
 * filters:
 *   - name: Quota
 *     args:
 *       quotas: requests:1, tokens:X-Usage-Tokens:100   # fixed, or read from a response header (estimate 100)
 *       subject-source: header                           # header | principal | resolver
 *       subject-header: X-API-Key
 *       subject-resolver: "#{@tenantKeyResolver}"         # a KeyResolver bean, for source resolver
 *       subject-required: true
 *       fail-mode: closed                                 # open | closed
 *       mode: shadow                                      # enforce | shadow
 *       count-statuses: 2xx,3xx,4xx,!429
 * </pre>
 * A route that names no quotas is charged by the {@code tollgate.rules.*} that match its path,
 * or {@code requests} (cost 1) when there are no such rules.
 *
 * <p>Quota checks run on the event loop when everything they need is cached, and on
 * {@code scheduler} otherwise; charging always runs on {@code scheduler}, because a full
 * channel (or {@code tollgate.async.enabled=false}) makes it write to the store. On shutdown
 * this bean waits, up to {@code tollgate.async.shutdown-timeout}, for admitted requests to be
 * charged before the engine drains and closes. Thread-safe.
 */
public class QuotaGatewayFilterFactory extends AbstractGatewayFilterFactory<QuotaGatewayFilterFactory.Config>
        implements DisposableBean {
    private static final Logger LOG = LoggerFactory.getLogger(QuotaGatewayFilterFactory.class);
    /** Name of the rule a route's own quotas become. */
    private static final String ROUTE_RULE = ConfigKeys.RULES_PREFIX + "route.";
    private static final Map<String, String> ARGUMENTS = Map.of(
            ConfigKeys.MODE, "mode",
            ConfigKeys.SUBJECT_SOURCE, "subject-source",
            ConfigKeys.SUBJECT_HEADER, "subject-header",
            ConfigKeys.SUBJECT_REQUIRED, "subject-required",
            ConfigKeys.CHECK_FAIL_MODE, "fail-mode",
            ConfigKeys.COUNT_STATUSES, "count-statuses",
            ROUTE_RULE + "quotas", "quotas");

    private final Settings settings;
    private final Tollgate tollgate;
    private final Function<String, KeyResolver> resolvers;
    private final Scheduler scheduler;
    private final Settlements settlements = new Settlements();
    private final List<QuotaGate> gates = new CopyOnWriteArrayList<>();

    /**
     * @param settings  the {@code tollgate.*} settings routes fall back to
     * @param tollgate  the engine, or {@code null} when Tollgate is disabled (every route passes through)
     * @param resolvers finds a {@link KeyResolver} bean by name, or the only one for {@code null}
     * @param scheduler where checks that may read the store, and charges, run
     * @throws InvalidConfigException if an edge setting is invalid
     */
    public QuotaGatewayFilterFactory(Settings settings, Tollgate tollgate, Function<String, KeyResolver> resolvers,
                                     Scheduler scheduler) {
        super(Config.class);
        this.settings = settings;
        this.tollgate = tollgate;
        this.resolvers = resolvers;
        this.scheduler = scheduler;
        if (tollgate != null) {
            EdgeConfig.from(settings);
        }
    }

    @Override
    public List<String> shortcutFieldOrder() {
        return List.of("quota", "cost");
    }

    /**
     * @throws InvalidConfigException naming the route, the argument, its value and what is allowed
     */
    @Override
    public GatewayFilter apply(Config config) {
        if (tollgate == null) {
            return (exchange, chain) -> chain.filter(exchange);
        }
        String route = config.getRouteId() == null ? "?" : config.getRouteId();
        EdgeConfig edge = edgeConfig(route, config);
        QuotaGate gate = new QuotaGate(tollgate, edge);
        gates.add(gate);
        KeyResolver resolver = null;
        if (edge.subjectSource() == EdgeConfig.SubjectSource.RESOLVER) {
            resolver = config.getSubjectResolver() != null ? config.getSubjectResolver()
                    : resolvers.apply(edge.subjectResolver());
        }
        return new QuotaFilter(gate, resolver, scheduler, settlements);
    }

    private EdgeConfig edgeConfig(String route, Config c) {
        Map<String, String> own = new LinkedHashMap<>();
        put(own, ConfigKeys.MODE, c.getMode());
        put(own, ConfigKeys.SUBJECT_SOURCE, c.getSubjectSource());
        put(own, ConfigKeys.SUBJECT_HEADER, c.getSubjectHeader());
        put(own, ConfigKeys.SUBJECT_REQUIRED, c.getSubjectRequired());
        put(own, ConfigKeys.CHECK_FAIL_MODE, c.getFailMode());
        put(own, ConfigKeys.COUNT_STATUSES, c.getCountStatuses());
        String quotas = quotas(route, c);
        Map<String, String> merged = new TreeMap<>(settings.asMap());
        boolean globalRules = merged.keySet().stream().anyMatch(k -> k.startsWith(ConfigKeys.RULES_PREFIX));
        if (quotas != null || !globalRules) {
            merged.keySet().removeIf(k -> k.startsWith(ConfigKeys.RULES_PREFIX));
            own.put(ROUTE_RULE + "path", "/**");
            own.put(ROUTE_RULE + "quotas", quotas != null ? quotas : "requests");
        }
        merged.putAll(own);
        try {
            return EdgeConfig.from(Settings.of(merged));
        } catch (InvalidConfigException e) {
            String argument = ARGUMENTS.getOrDefault(e.key(), e.key());
            throw e.renamed("route '" + route + "', Quota filter argument " + argument);
        }
    }

    private static String quotas(String route, Config c) {
        List<String> list = new ArrayList<>();
        if (c.getQuotas() != null) {
            c.getQuotas().stream().filter(q -> q != null && !q.isBlank()).map(String::trim).forEach(list::add);
        }
        if (c.getQuota() != null && !c.getQuota().isBlank()) {
            if (!list.isEmpty()) {
                throw new InvalidConfigException("route '" + route + "', Quota filter",
                        "set either quota and cost (the shortcut form) or quotas, not both");
            }
            String cost = c.getCost() == null || c.getCost().isBlank() ? "" : ":" + c.getCost().trim();
            list.add(c.getQuota().trim() + cost);
        }
        return list.isEmpty() ? null : String.join(",", list);
    }

    private static void put(Map<String, String> m, String key, String value) {
        if (value != null && !value.isBlank()) {
            m.put(key, value.trim());
        }
    }

    /**
     * The edge counters of every route's filter added up (admitted, passedThrough,
     * rejectedQuota, rejectedNoSubject, rejectedUnknownKey, rejectedBadSubject, rejectedStoreUnavailable,
     * shadowDenied, malformedCost, notCharged).
     */
    public Map<String, Long> stats() {
        Map<String, Long> sum = new LinkedHashMap<>();
        for (QuotaGate g : gates) {
            g.stats().forEach((k, v) -> sum.merge(k, v, Long::sum));
        }
        return sum;
    }

    /** Admitted requests not charged yet (their response is still running, or the charge is queued). */
    public int pendingCharges() {
        return settlements.pending();
    }

    /**
     * Waits for admitted requests to be charged, up to {@code tollgate.async.shutdown-timeout},
     * so that the engine (closed after this bean) drains and writes them.
     */
    @Override
    public void destroy() throws InterruptedException {
        if (tollgate == null) {
            return;
        }
        Duration timeout = tollgate.config().shutdownTimeout();
        if (!settlements.awaitNone(timeout)) {
            LOG.warn("{} admitted requests were still running after {}; they are not charged",
                    settlements.pending(), Settings.format(timeout));
        }
    }

    /**
     * Arguments of one route's Quota filter. Every one is optional; unset ones take the
     * {@code tollgate.*} property of the same meaning. Not thread-safe; bound once per route.
     */
    public static class Config implements HasRouteId {
        private String routeId;
        private String quota;
        private String cost;
        private List<String> quotas;
        private String subjectSource;
        private String subjectHeader;
        private String subjectRequired;
        private KeyResolver subjectResolver;
        private String failMode;
        private String mode;
        private String countStatuses;

        @Override
        public void setRouteId(String routeId) {
            this.routeId = routeId;
        }

        @Override
        public String getRouteId() {
            return routeId;
        }

        /** Shortcut form: the quota charged, e.g. {@code requests}. */
        public String getQuota() {
            return quota;
        }

        public Config setQuota(String quota) {
            this.quota = quota;
            return this;
        }

        /**
         * Shortcut form: the cost, a whole number ({@code 1} when unset) or
         * {@code Header-Name[:estimate]} to read it from the upstream response.
         */
        public String getCost() {
            return cost;
        }

        public Config setCost(String cost) {
            this.cost = cost;
            return this;
        }

        /** Full form: quota costs, each {@code quota[:cost]} or {@code quota:Header-Name[:estimate]}. */
        public List<String> getQuotas() {
            return quotas;
        }

        public Config setQuotas(List<String> quotas) {
            this.quotas = quotas;
            return this;
        }

        /** header, principal or resolver ({@code tollgate.subject.source}). */
        public String getSubjectSource() {
            return subjectSource;
        }

        public Config setSubjectSource(String subjectSource) {
            this.subjectSource = subjectSource;
            return this;
        }

        /** Header holding the API key ({@code tollgate.subject.header}). */
        public String getSubjectHeader() {
            return subjectHeader;
        }

        public Config setSubjectHeader(String subjectHeader) {
            this.subjectHeader = subjectHeader;
            return this;
        }

        /** Whether a request without a subject gets 401 ({@code tollgate.subject.required}). */
        public String getSubjectRequired() {
            return subjectRequired;
        }

        public Config setSubjectRequired(String subjectRequired) {
            this.subjectRequired = subjectRequired;
            return this;
        }

        /** The KeyResolver for source resolver, e.g. {@code "#{@tenantKeyResolver}"}. */
        public KeyResolver getSubjectResolver() {
            return subjectResolver;
        }

        public Config setSubjectResolver(KeyResolver subjectResolver) {
            this.subjectResolver = subjectResolver;
            return this;
        }

        /** open or closed ({@code tollgate.check.fail-mode}). */
        public String getFailMode() {
            return failMode;
        }

        public Config setFailMode(String failMode) {
            this.failMode = failMode;
            return this;
        }

        /** enforce or shadow ({@code tollgate.mode}). */
        public String getMode() {
            return mode;
        }

        public Config setMode(String mode) {
            this.mode = mode;
            return this;
        }

        /** Charged response statuses ({@code tollgate.count.statuses}). */
        public String getCountStatuses() {
            return countStatuses;
        }

        public Config setCountStatuses(String countStatuses) {
            this.countStatuses = countStatuses;
            return this;
        }
    }
}
