package dev.tollgate.gateway;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.ConfigKeys;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.internal.journal.Journal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code tollgate.*} properties, bound by Spring Boot (relaxed names, so
 * {@code TOLLGATE_ASYNC_BATCH_SIZE} and {@code TOLLGATE_PLANS_FREE_REQUESTS} work) and
 * described in the generated configuration metadata for IDE completion.
 *
 * <p>Every value is kept as text and validated by the engine's own configuration
 * ({@link dev.tollgate.core.TollgateConfig#from(Settings)} and
 * {@link dev.tollgate.core.edge.EdgeConfig#from(Settings)}), so a bad value fails start-up
 * with the same message as in the servlet filter: the key, the value and what is allowed.
 * The defaults shown here are the engine's. Not thread-safe; Spring binds it once.
 */
@ConfigurationProperties(prefix = "tollgate")
public class TollgateProperties {

    /**
     * Whether Tollgate meters requests. When false no engine starts and the Quota filter
     * passes every request through uncharged, so routes that use it still load.
     */
    private String enabled = "true";

    /** enforce: deny requests over a limit; shadow: never deny, log what would have been denied. */
    private String mode = "enforce";

    /** Time zone of calendar windows (day, month), e.g. UTC or Europe/Paris. */
    private String zone = "UTC";

    /** Plan of subjects with no assigned plan; must be one of the configured plans. */
    private String defaultPlan = "free";

    /**
     * Plan limits: plan name, then quota name, then {@code <amount>/<period>[,...]} with
     * period minute, hour, day, month or total, e.g. {@code tollgate.plans.free.requests=1000/day}.
     * Plan and quota names are lower-case.
     */
    private Map<String, Map<String, String>> plans = new LinkedHashMap<>();

    /**
     * Path-matched rules (as in the servlet filter), used by routes whose Quota filter names
     * no quotas: {@code tollgate.rules.<name>.path|methods|quotas|order}.
     */
    private Map<String, Rule> rules = new LinkedHashMap<>();

    private final Async async = new Async();
    private final Check check = new Check();
    private final Store store = new Store();
    private final Subject subject = new Subject();
    private final Headers headers = new Headers();
    private final Count count = new Count();
    private final Cost cost = new Cost();
    private final Metrics metrics = new Metrics();

    /**
     * The bound values as engine settings ({@code tollgate.*} keys), unset ones left out.
     */
    public Settings toSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(ConfigKeys.ENABLED, enabled);
        m.put(ConfigKeys.MODE, mode);
        m.put(ConfigKeys.ZONE, zone);
        m.put(ConfigKeys.DEFAULT_PLAN, defaultPlan);
        m.put(ConfigKeys.ASYNC_ENABLED, async.enabled);
        m.put(ConfigKeys.ASYNC_WORKERS, async.workers);
        m.put(ConfigKeys.ASYNC_CHANNEL_CAPACITY, async.channelCapacity);
        m.put(ConfigKeys.ASYNC_BATCH_SIZE, async.batchSize);
        m.put(ConfigKeys.ASYNC_FLUSH_INTERVAL, async.flushInterval);
        m.put(ConfigKeys.ASYNC_RETRY_MAX_ATTEMPTS, async.retry.maxAttempts);
        m.put(ConfigKeys.ASYNC_RETRY_WAIT, async.retry.wait);
        m.put(ConfigKeys.ASYNC_BREAKER_WAIT_IN_OPEN, async.circuitBreaker.waitInOpen);
        m.put(ConfigKeys.ASYNC_SHUTDOWN_TIMEOUT, async.shutdownTimeout);
        m.put(ConfigKeys.ASYNC_JOURNAL_PATH, async.journal.path);
        m.put(ConfigKeys.ASYNC_JOURNAL_FSYNC_INTERVAL, async.journal.fsyncInterval);
        m.put(ConfigKeys.CHECK_STRICT_THRESHOLD, check.strict.threshold);
        m.put(ConfigKeys.CHECK_CACHE_REFRESH_AFTER, check.cache.refreshAfter);
        m.put(ConfigKeys.CHECK_CACHE_MAX_SIZE, check.cache.maxSize);
        m.put(ConfigKeys.CHECK_CACHE_POLICY_REFRESH_AFTER, check.cache.policyRefreshAfter);
        m.put(ConfigKeys.CHECK_FAIL_MODE, check.failMode);
        m.put(ConfigKeys.STORE_URL, store.url);
        m.put(ConfigKeys.STORE_USER, store.user);
        m.put(ConfigKeys.STORE_PASSWORD, store.password);
        m.put(ConfigKeys.STORE_SCHEMA, store.schema);
        m.put(ConfigKeys.STORE_POOL_SIZE, store.poolSize);
        m.put(ConfigKeys.STORE_CONNECT_TIMEOUT, store.connectTimeout);
        m.put(ConfigKeys.STORE_QUERY_TIMEOUT, store.queryTimeout);
        m.put(ConfigKeys.STORE_BATCH_RETENTION, store.batchRetention);
        m.put(ConfigKeys.SUBJECT_SOURCE, subject.source);
        m.put(ConfigKeys.SUBJECT_HEADER, subject.header);
        m.put(ConfigKeys.SUBJECT_REQUIRED, subject.required);
        m.put(ConfigKeys.SUBJECT_RESOLVER, subject.resolver);
        m.put(ConfigKeys.HEADERS_ENABLED, headers.enabled);
        m.put(ConfigKeys.COUNT_STATUSES, count.statuses);
        m.put(ConfigKeys.COST_MAX, cost.max);
        m.put(ConfigKeys.METRICS_ENABLED, metrics.enabled);
        plans.forEach((plan, quotas) -> quotas.forEach((quota, limits) ->
                m.put(ConfigKeys.PLANS_PREFIX + plan + "." + quota, limits)));
        rules.forEach((name, rule) -> {
            String prefix = ConfigKeys.RULES_PREFIX + name + ".";
            m.put(prefix + "path", rule.path);
            m.put(prefix + "methods", rule.methods);
            m.put(prefix + "quotas", rule.quotas);
            m.put(prefix + "order", rule.order);
        });
        m.values().removeIf(v -> v == null);
        return Settings.of(m);
    }

    public String getEnabled() {
        return enabled;
    }

    public void setEnabled(String enabled) {
        this.enabled = enabled;
    }

    public String getMode() {
        return mode;
    }

    public void setMode(String mode) {
        this.mode = mode;
    }

    public String getZone() {
        return zone;
    }

    public void setZone(String zone) {
        this.zone = zone;
    }

    public String getDefaultPlan() {
        return defaultPlan;
    }

    public void setDefaultPlan(String defaultPlan) {
        this.defaultPlan = defaultPlan;
    }

    public Map<String, Map<String, String>> getPlans() {
        return plans;
    }

    public void setPlans(Map<String, Map<String, String>> plans) {
        this.plans = plans;
    }

    public Map<String, Rule> getRules() {
        return rules;
    }

    public void setRules(Map<String, Rule> rules) {
        this.rules = rules;
    }

    public Async getAsync() {
        return async;
    }

    public Check getCheck() {
        return check;
    }

    public Store getStore() {
        return store;
    }

    public Subject getSubject() {
        return subject;
    }

    public Headers getHeaders() {
        return headers;
    }

    public Count getCount() {
        return count;
    }

    public Cost getCost() {
        return cost;
    }

    public Metrics getMetrics() {
        return metrics;
    }

    /** {@code tollgate.async.*}: the channel and the batcher that write usage. */
    public static class Async {
        /** Whether usage is written in the background; false writes each consumption before the response is settled. */
        private String enabled = "true";
        /** Batcher threads, 1 to 64. */
        private String workers = String.valueOf(TollgateConfig.DEFAULT_WORKERS);
        /** Records the in-memory channel holds, 16 to 16777216; when full, the caller writes (sync fallback). */
        private String channelCapacity = String.valueOf(TollgateConfig.DEFAULT_CHANNEL_CAPACITY);
        /** Distinct (subject, quota, window) keys per flush transaction, 1 to 100000. */
        private String batchSize = String.valueOf(TollgateConfig.DEFAULT_BATCH_SIZE);
        /** Longest time a record waits in memory, 1ms to 1h. */
        private String flushInterval = "500ms";
        /** Deadline for shutdown to drain the channel and flush, 0 to 10m. */
        private String shutdownTimeout = "10s";
        private final Retry retry = new Retry();
        private final CircuitBreaker circuitBreaker = new CircuitBreaker();
        private final Journal journal = new Journal();

        public Journal getJournal() {
            return journal;
        }

        public String getEnabled() {
            return enabled;
        }

        public void setEnabled(String enabled) {
            this.enabled = enabled;
        }

        public String getWorkers() {
            return workers;
        }

        public void setWorkers(String workers) {
            this.workers = workers;
        }

        public String getChannelCapacity() {
            return channelCapacity;
        }

        public void setChannelCapacity(String channelCapacity) {
            this.channelCapacity = channelCapacity;
        }

        public String getBatchSize() {
            return batchSize;
        }

        public void setBatchSize(String batchSize) {
            this.batchSize = batchSize;
        }

        public String getFlushInterval() {
            return flushInterval;
        }

        public void setFlushInterval(String flushInterval) {
            this.flushInterval = flushInterval;
        }

        public String getShutdownTimeout() {
            return shutdownTimeout;
        }

        public void setShutdownTimeout(String shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
        }

        public Retry getRetry() {
            return retry;
        }

        public CircuitBreaker getCircuitBreaker() {
            return circuitBreaker;
        }
    }

    /** {@code tollgate.async.retry.*}. */
    public static class Retry {
        /** Attempts per store write, 1 to 100. */
        private String maxAttempts = "3";
        /** Pause between attempts, 0 to 1m. */
        private String wait = "100ms";

        public String getMaxAttempts() {
            return maxAttempts;
        }

        public void setMaxAttempts(String maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        public String getWait() {
            return wait;
        }

        public void setWait(String wait) {
            this.wait = wait;
        }
    }

    /** {@code tollgate.async.circuit-breaker.*}. */
    public static class CircuitBreaker {
        /** How long the store's circuit breaker stays open, 10ms to 1h. */
        private String waitInOpen = "5s";

        public String getWaitInOpen() {
            return waitInOpen;
        }

        public void setWaitInOpen(String waitInOpen) {
            this.waitInOpen = waitInOpen;
        }
    }

    /** {@code tollgate.check.*}: the cached view that quota checks read. */
    public static class Check {
        /**
         * open: allow requests whose usage cannot be read (store down, nothing cached); closed:
         * refuse them with 503. Routes may choose their own.
         */
        private String failMode = "open";
        private final Cache cache = new Cache();
        private final Strict strict = new Strict();

        public Strict getStrict() {
            return strict;
        }

        public String getFailMode() {
            return failMode;
        }

        public void setFailMode(String failMode) {
            this.failMode = failMode;
        }

        public Cache getCache() {
            return cache;
        }
    }

    /** {@code tollgate.check.strict.*}: synchronous, conditional reservations near the limit. */
    public static class Strict {
        /**
         * When what is left of a limit is at or below this (units such as 100, or a share such
         * as 10%), checks reserve in the store so no node can pass the limit; 0 turns it off.
         */
        private String threshold = "0";

        public String getThreshold() {
            return threshold;
        }

        public void setThreshold(String threshold) {
            this.threshold = threshold;
        }
    }

    /** {@code tollgate.async.journal.*}: the local crash journal. */
    public static class Journal {
        /** Directory of the append-only journal; unset turns the journal off. */
        private String path;
        /** How often the journal is forced to disk, 0 (every consume) to 10s. */
        private String fsyncInterval = "50ms";

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public String getFsyncInterval() {
            return fsyncInterval;
        }

        public void setFsyncInterval(String fsyncInterval) {
            this.fsyncInterval = fsyncInterval;
        }
    }

    /** {@code tollgate.check.cache.*}. */
    public static class Cache {
        /** Age after which a cached usage is re-read in the background, 10ms to 1d. */
        private String refreshAfter = "1s";
        /** Cached (subject, quota, window) keys, 100 to 100000000. */
        private String maxSize = "100000";
        /** Age after which a subject's plan and overrides are re-read in the background, 100ms to 1d. */
        private String policyRefreshAfter = "30s";

        public String getPolicyRefreshAfter() {
            return policyRefreshAfter;
        }

        public void setPolicyRefreshAfter(String policyRefreshAfter) {
            this.policyRefreshAfter = policyRefreshAfter;
        }

        public String getRefreshAfter() {
            return refreshAfter;
        }

        public void setRefreshAfter(String refreshAfter) {
            this.refreshAfter = refreshAfter;
        }

        public String getMaxSize() {
            return maxSize;
        }

        public void setMaxSize(String maxSize) {
            this.maxSize = maxSize;
        }
    }

    /** {@code tollgate.store.*}: where usage is stored. */
    public static class Store {
        /**
         * A jdbc:h2: or jdbc:postgresql: URL. Unset: the application's DataSource bean when it has
         * exactly one, else an H2 file database under ./tollgate-data (the engine's default URL).
         */
        private String url;
        /** Database user (with url). */
        private String user;
        /** Database password (with url). */
        private String password;
        /** create: create missing tables; validate: fail at start-up if one is missing; none. */
        private String schema = "create";
        /** Connections in the pool Tollgate builds for url, 1 to 200. */
        private String poolSize = "4";
        /** Longest wait for a pooled connection, 250ms to 5m. */
        private String connectTimeout = "2s";
        /** Longest a statement may run, 1s to 1h. */
        private String queryTimeout = "10s";
        /** How long applied batch ids are kept to make replayed flushes no-ops, 1m to 365d. */
        private String batchRetention = "1d";

        public String getUrl() {
            return url;
        }

        public void setUrl(String url) {
            this.url = url;
        }

        public String getUser() {
            return user;
        }

        public void setUser(String user) {
            this.user = user;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public String getSchema() {
            return schema;
        }

        public void setSchema(String schema) {
            this.schema = schema;
        }

        public String getPoolSize() {
            return poolSize;
        }

        public void setPoolSize(String poolSize) {
            this.poolSize = poolSize;
        }

        public String getConnectTimeout() {
            return connectTimeout;
        }

        public void setConnectTimeout(String connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        public String getQueryTimeout() {
            return queryTimeout;
        }

        public void setQueryTimeout(String queryTimeout) {
            this.queryTimeout = queryTimeout;
        }

        public String getBatchRetention() {
            return batchRetention;
        }

        public void setBatchRetention(String batchRetention) {
            this.batchRetention = batchRetention;
        }
    }

    /** {@code tollgate.subject.*}: who pays for a request. Routes may choose their own. */
    public static class Subject {
        /**
         * header: an API key in a request header, stored as its SHA-256 fingerprint; principal:
         * the authenticated principal's name; resolver: a KeyResolver bean.
         */
        private String source = "header";
        /** Request header holding the API key (source header). */
        private String header = "X-API-Key";
        /** Whether a charged request without a subject is answered 401 (else passed through uncharged). */
        private String required = "true";
        /**
         * Name of the KeyResolver bean (source resolver); unset: the application's only
         * KeyResolver bean.
         */
        private String resolver;

        public String getSource() {
            return source;
        }

        public void setSource(String source) {
            this.source = source;
        }

        public String getHeader() {
            return header;
        }

        public void setHeader(String header) {
            this.header = header;
        }

        public String getRequired() {
            return required;
        }

        public void setRequired(String required) {
            this.required = required;
        }

        public String getResolver() {
            return resolver;
        }

        public void setResolver(String resolver) {
            this.resolver = resolver;
        }
    }

    /** {@code tollgate.headers.*}. */
    public static class Headers {
        /** Whether responses carry the RateLimit-Policy and RateLimit fields. */
        private String enabled = "true";

        public String getEnabled() {
            return enabled;
        }

        public void setEnabled(String enabled) {
            this.enabled = enabled;
        }
    }

    /** {@code tollgate.count.*}. */
    public static class Count {
        /**
         * Response statuses that are charged: codes, classes and ranges separated by commas,
         * each optionally negated with !. Routes may choose their own.
         */
        private String statuses = "1xx,2xx,3xx,4xx,!429";

        public String getStatuses() {
            return statuses;
        }

        public void setStatuses(String statuses) {
            this.statuses = statuses;
        }
    }

    /** {@code tollgate.cost.*}. */
    public static class Cost {
        /** Largest cost a response header may report; above it the estimate is charged. */
        private String max = "1000000000";

        public String getMax() {
            return max;
        }

        public void setMax(String max) {
            this.max = max;
        }
    }

    /** {@code tollgate.metrics.*}. */
    public static class Metrics {
        /** Whether Micrometer meters are registered (when the application has a MeterRegistry). */
        private String enabled = "true";

        public String getEnabled() {
            return enabled;
        }

        public void setEnabled(String enabled) {
            this.enabled = enabled;
        }
    }

    /** One path-matched rule, {@code tollgate.rules.<name>.*}. */
    public static class Rule {
        /** Path pattern, e.g. /api/** . */
        private String path;
        /** HTTP methods separated by commas; unset for all. */
        private String methods;
        /** Quota costs, e.g. requests:1,tokens:X-Usage-Tokens:100 . */
        private String quotas;
        /** Rules are tried by ascending order, then by name. */
        private String order;

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public String getMethods() {
            return methods;
        }

        public void setMethods(String methods) {
            this.methods = methods;
        }

        public String getQuotas() {
            return quotas;
        }

        public void setQuotas(String quotas) {
            this.quotas = quotas;
        }

        public String getOrder() {
            return order;
        }

        public void setOrder(String order) {
            this.order = order;
        }
    }
}
