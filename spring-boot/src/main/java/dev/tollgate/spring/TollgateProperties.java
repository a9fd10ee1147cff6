package dev.tollgate.spring;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.config.TollgateKeys;
import dev.tollgate.core.edge.EdgeConfig.Mode;
import dev.tollgate.core.edge.EdgeConfig.SubjectSource;
import dev.tollgate.core.edge.EdgeConfig.UnknownSubjects;
import java.time.Duration;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;

/**
 * The {@code tollgate.*} properties, typed and bound by Spring Boot (relaxed names, so
 * {@code TOLLGATE_ASYNC_BATCH_SIZE} and {@code TOLLGATE_PLANS_FREE_REQUESTS} work). Every
 * key is described once, in {@link TollgateKeys}: its meaning, default and range, from which
 * the configuration metadata is generated. A property left unset is {@code null} here and
 * takes that default; {@link #toSettings()} hands what is set to the engine's and the edge's
 * own validation, so a value out of range fails start-up with the same message as in the
 * servlet filter. Immutable and thread-safe.
 *
 * @param enabled     {@code tollgate.enabled}
 * @param mode        {@code tollgate.mode}
 * @param zone        {@code tollgate.zone}
 * @param defaultPlan {@code tollgate.default-plan}
 * @param plans       {@code tollgate.plans.<plan>.<quota>}: plan, then quota, then limits such as {@code 1000/day}
 * @param rules       {@code tollgate.rules.<name>.*}
 */
@ConfigurationProperties("tollgate")
public record TollgateProperties(Boolean enabled, Mode mode, ZoneId zone, String defaultPlan,
                                 Map<String, Map<String, String>> plans, Map<String, Rule> rules,
                                 @DefaultValue Async async, @DefaultValue Check check,
                                 @DefaultValue Allotment allotment, @DefaultValue Store store,
                                 @DefaultValue Subject subject, @DefaultValue Headers headers,
                                 @DefaultValue Count count, @DefaultValue Cost cost, @DefaultValue Metrics metrics,
                                 @DefaultValue Admin admin, @DefaultValue Idempotency idempotency,
                                 @DefaultValue Export export,
                                 @Name("notify") @DefaultValue Notify notifications) {

    public TollgateProperties {
        plans = plans == null ? Map.of() : Map.copyOf(plans);
        rules = rules == null ? Map.of() : Map.copyOf(rules);
        async = async != null ? async : new Async(null, null, null, null, null, null, null, null, null, null);
        check = check != null ? check : new Check(null, null);
        allotment = allotment != null ? allotment : new Allotment(null, null);
        store = store != null ? store : new Store(null, null, null, null, null, null, null, null, null);
        subject = subject != null ? subject : new Subject(null, null, null, null, null, null);
        headers = headers != null ? headers : new Headers(null);
        count = count != null ? count : new Count(null);
        cost = cost != null ? cost : new Cost(null);
        metrics = metrics != null ? metrics : new Metrics(null);
        admin = admin != null ? admin : new Admin(null, null, null);
        idempotency = idempotency != null ? idempotency : new Idempotency(null, null);
        export = export != null ? export : new Export(null, null, null, null, null);
        notifications = notifications != null ? notifications : new Notify(null);
    }

    /** Nothing set: every key takes its default. */
    public static TollgateProperties unset() {
        return new TollgateProperties(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null);
    }

    /** The properties that are set, as engine settings ({@code tollgate.*} keys). */
    public Settings toSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        put(m, TollgateKeys.ENABLED, enabled);
        put(m, TollgateKeys.MODE, mode);
        put(m, TollgateKeys.ZONE, zone);
        put(m, TollgateKeys.DEFAULT_PLAN, defaultPlan);
        put(m, TollgateKeys.ASYNC_ENABLED, async.enabled());
        put(m, TollgateKeys.ASYNC_WORKERS, async.workers());
        put(m, TollgateKeys.ASYNC_CHANNEL_CAPACITY, async.channelCapacity());
        put(m, TollgateKeys.ASYNC_BATCH_SIZE, async.batchSize());
        put(m, TollgateKeys.ASYNC_FLUSH_INTERVAL, async.flushInterval());
        put(m, TollgateKeys.ASYNC_SHUTDOWN_TIMEOUT, async.shutdownTimeout());
        put(m, TollgateKeys.ASYNC_RETRY_MAX_ATTEMPTS, async.retry().maxAttempts());
        put(m, TollgateKeys.ASYNC_RETRY_WAIT, async.retry().waitTime());
        put(m, TollgateKeys.ASYNC_BREAKER_WAIT_IN_OPEN, async.circuitBreaker().waitInOpen());
        text(m, TollgateKeys.ASYNC_JOURNAL_PATH, async.journal().path());
        put(m, TollgateKeys.ASYNC_JOURNAL_FSYNC_INTERVAL, async.journal().fsyncInterval());
        put(m, TollgateKeys.ASYNC_JOURNAL_MAX_SIZE, async.journal().maxSize());
        put(m, TollgateKeys.ASYNC_DEFERRED_MAX_ENTRIES, async.deferred().maxEntries());
        put(m, TollgateKeys.CHECK_FAIL_MODE, check.failMode());
        put(m, TollgateKeys.CHECK_CACHE_MAX_SIZE, check.cache().maxSize());
        put(m, TollgateKeys.CHECK_CACHE_POLICY_REFRESH_AFTER, check.cache().policyRefreshAfter());
        put(m, TollgateKeys.ALLOTMENT_EXPIRY, allotment.expiry());
        put(m, TollgateKeys.ALLOTMENT_TARGET, allotment.target());
        put(m, TollgateKeys.STORE_URL, store.url());
        put(m, TollgateKeys.STORE_USER, store.user());
        put(m, TollgateKeys.STORE_PASSWORD, store.password());
        put(m, TollgateKeys.STORE_SCHEMA, store.schema());
        put(m, TollgateKeys.STORE_POOL_SIZE, store.poolSize());
        put(m, TollgateKeys.STORE_CONNECT_TIMEOUT, store.connectTimeout());
        put(m, TollgateKeys.STORE_QUERY_TIMEOUT, store.queryTimeout());
        put(m, TollgateKeys.STORE_BATCH_RETENTION, store.batchRetention());
        if (store.retention() != null) {
            text(m, TollgateKeys.STORE_RETENTION_MINUTE, store.retention().minute());
            text(m, TollgateKeys.STORE_RETENTION_HOUR, store.retention().hour());
            text(m, TollgateKeys.STORE_RETENTION_DAY, store.retention().day());
            text(m, TollgateKeys.STORE_RETENTION_MONTH, store.retention().month());
        }
        put(m, TollgateKeys.METRICS_ENABLED, metrics.enabled());
        put(m, TollgateKeys.SUBJECT_SOURCE, subject.source());
        put(m, TollgateKeys.SUBJECT_HEADER, subject.header());
        put(m, TollgateKeys.SUBJECT_REQUIRED, subject.required());
        put(m, TollgateKeys.SUBJECT_RESOLVER, subject.resolver());
        put(m, TollgateKeys.SUBJECT_UNKNOWN, subject.unknown());
        put(m, TollgateKeys.SUBJECT_KEY_CACHE_TTL, subject.keyCacheTtl());
        put(m, TollgateKeys.HEADERS_ENABLED, headers.enabled());
        text(m, TollgateKeys.COUNT_STATUSES, count.statuses());
        put(m, TollgateKeys.COST_MAX, cost.max());
        put(m, TollgateKeys.ADMIN_TOKEN, admin.token());
        put(m, TollgateKeys.ADMIN_PATH, admin.path());
        put(m, TollgateKeys.ADMIN_ME_QUOTA, admin.meQuota());
        put(m, TollgateKeys.IDEMPOTENCY_HEADER, idempotency.header());
        put(m, TollgateKeys.IDEMPOTENCY_RETENTION, idempotency.retention());
        put(m, TollgateKeys.EXPORT_SOURCE, export.source());
        put(m, TollgateKeys.EXPORT_URL, export.url());
        put(m, TollgateKeys.EXPORT_BATCH_SIZE, export.batchSize());
        put(m, TollgateKeys.EXPORT_INTERVAL, export.interval());
        put(m, TollgateKeys.EXPORT_AUTH_HEADER, export.authHeader());
        put(m, TollgateKeys.NOTIFY_THRESHOLDS, notifications.thresholds());
        plans.forEach((plan, quotas) -> quotas.forEach((quota, limits) ->
                m.put(TollgateKeys.PLANS_PREFIX + plan + "." + quota, limits)));
        rules.forEach((name, rule) -> {
            String prefix = TollgateKeys.RULES_PREFIX + name + ".";
            if (rule.path() != null) {
                m.put(prefix + "path", rule.path());
            }
            if (rule.methods() != null && !rule.methods().isEmpty()) {
                m.put(prefix + "methods", String.join(",", rule.methods()));
            }
            if (rule.quotas() != null) {
                m.put(prefix + "quotas", rule.quotas());
            }
            if (rule.order() != null) {
                m.put(prefix + "order", rule.order().toString());
            }
        });
        return Settings.of(m);
    }

    private static <T> void put(Map<String, String> m, ConfigKey<T> key, T value) {
        if (value != null) {
            m.put(key.name(), key.type().format(value));
        }
    }

    /** A value Spring keeps as text because the engine reads it ({@code 10%}, {@code 2xx,!204}). */
    private static void text(Map<String, String> m, ConfigKey<?> key, String value) {
        if (value != null) {
            m.put(key.name(), value);
        }
    }

    /** {@code tollgate.async.*}: the channel and the batchers that write usage. */
    public record Async(Boolean enabled, Integer workers, Integer channelCapacity, Integer batchSize,
                        Duration flushInterval, Duration shutdownTimeout, @DefaultValue Retry retry,
                        @DefaultValue CircuitBreaker circuitBreaker, @DefaultValue Journal journal,
                        @DefaultValue Deferred deferred) {
        public Async {
            retry = retry != null ? retry : new Retry(null, null);
            circuitBreaker = circuitBreaker != null ? circuitBreaker : new CircuitBreaker(null);
            journal = journal != null ? journal : new Journal(null, null, null);
            deferred = deferred != null ? deferred : new Deferred(null);
        }
    }

    /** {@code tollgate.async.retry.*}; {@code waitTime} is {@code tollgate.async.retry.wait}. */
    public record Retry(Integer maxAttempts, @Name("wait") Duration waitTime) {
    }

    /** {@code tollgate.async.circuit-breaker.*}. */
    public record CircuitBreaker(Duration waitInOpen) {
    }

    /** {@code tollgate.async.journal.*}. */
    public record Journal(String path, Duration fsyncInterval, Long maxSize) {
    }

    /** {@code tollgate.async.deferred.*}: usage kept in memory while the store cannot take it. */
    public record Deferred(Integer maxEntries) {
    }

    /** {@code tollgate.check.*}: decisions and the caches they read. */
    public record Check(FailMode failMode, @DefaultValue Cache cache) {
        public Check {
            cache = cache != null ? cache : new Cache(null, null);
        }
    }

    /** {@code tollgate.check.cache.*}. */
    public record Cache(Long maxSize, Duration policyRefreshAfter) {
    }

    /** {@code tollgate.allotment.*}: the units the store grants each node. */
    public record Allotment(Duration expiry, Duration target) {
    }

    /**
     * {@code tollgate.store.*}. Without a URL the engine uses the application's only
     * {@code DataSource} bean, else an H2 file database.
     */
    public record Store(String url, String user, String password, SchemaMode schema, Integer poolSize,
                        Duration connectTimeout, Duration queryTimeout, Duration batchRetention,
                        Retention retention) {
        @Override
        public String toString() {
            return "Store[url=" + url + ", user=" + user + ", password=" + (password == null ? null : "****") + "]";
        }
    }

    /**
     * {@code tollgate.store.retention.*}: how long usage rows of each period's windows are kept,
     * as text because {@code forever} is a value ({@code 2d}, {@code 35d}, {@code forever}).
     */
    public record Retention(String minute, String hour, String day, String month) {
    }

    /** {@code tollgate.subject.*}: who pays for a request. */
    public record Subject(SubjectSource source, String header, Boolean required, String resolver,
                          UnknownSubjects unknown, Duration keyCacheTtl) {
    }

    /** {@code tollgate.headers.*}. */
    public record Headers(Boolean enabled) {
    }

    /** {@code tollgate.count.*}; statuses such as {@code 1xx,2xx,3xx,4xx,!429}. */
    public record Count(String statuses) {
    }

    /** {@code tollgate.cost.*}. */
    public record Cost(Long max) {
    }

    /** {@code tollgate.metrics.*}. */
    public record Metrics(Boolean enabled) {
    }

    /** {@code tollgate.admin.*}: the admin API's token and where it is served. */
    public record Admin(String token, String path, String meQuota) {
        @Override
        public String toString() {
            return "Admin[token=" + (token == null ? null : "****") + ", path=" + path + ", meQuota=" + meQuota + "]";
        }
    }

    /** {@code tollgate.idempotency.*}: the request id header, and how long ids are remembered. */
    public record Idempotency(String header, Duration retention) {
    }

    /** {@code tollgate.notify.*} (the component is {@code notifications}: {@code notify} names a method of Object). */
    public record Notify(String thresholds) {
    }

    /**
     * {@code tollgate.export.*}: how exported usage is labelled, and the push export (off while
     * {@code url} is unset).
     */
    public record Export(String source, String url, Integer batchSize, Duration interval, String authHeader) {
        @Override
        public String toString() {
            return "Export[source=" + source + ", url=" + url + ", batchSize=" + batchSize + ", interval=" + interval
                    + ", authHeader=" + (authHeader == null ? null : "****") + "]";
        }
    }

    /**
     * One path-matched rule, {@code tollgate.rules.<name>.*}.
     *
     * @param path    path pattern, e.g. {@code /api/**}
     * @param methods HTTP methods; empty for all
     * @param quotas  costs, e.g. {@code requests:1,tokens:X-Usage-Tokens:100}
     * @param order   rules are tried by ascending order, then by name
     */
    public record Rule(String path, List<String> methods, String quotas, Integer order) {
    }
}
