package dev.tollgate.core.config;

import java.util.List;
import java.util.Set;

/**
 * Every configuration key Tollgate reads, in one place, so that unknown keys can be
 * reported and environment variables bound by their relaxed names. The README's
 * configuration reference lists the same keys with their defaults.
 */
public final class ConfigKeys {
    public static final String PREFIX = "tollgate.";

    // Engine
    public static final String ASYNC_ENABLED = "tollgate.async.enabled";
    public static final String ASYNC_WORKERS = "tollgate.async.workers";
    public static final String ASYNC_CHANNEL_CAPACITY = "tollgate.async.channel-capacity";
    public static final String ASYNC_BATCH_SIZE = "tollgate.async.batch-size";
    public static final String ASYNC_FLUSH_INTERVAL = "tollgate.async.flush-interval";
    public static final String ASYNC_RETRY_MAX_ATTEMPTS = "tollgate.async.retry.max-attempts";
    public static final String ASYNC_RETRY_WAIT = "tollgate.async.retry.wait";
    public static final String ASYNC_BREAKER_WAIT_IN_OPEN = "tollgate.async.circuit-breaker.wait-in-open";
    public static final String ASYNC_SHUTDOWN_TIMEOUT = "tollgate.async.shutdown-timeout";
    public static final String ASYNC_JOURNAL_PATH = "tollgate.async.journal.path";
    public static final String ASYNC_JOURNAL_FSYNC_INTERVAL = "tollgate.async.journal.fsync-interval";
    public static final String CHECK_CACHE_REFRESH_AFTER = "tollgate.check.cache.refresh-after";
    public static final String CHECK_CACHE_MAX_SIZE = "tollgate.check.cache.max-size";
    public static final String CHECK_CACHE_POLICY_REFRESH_AFTER = "tollgate.check.cache.policy-refresh-after";
    public static final String CHECK_FAIL_MODE = "tollgate.check.fail-mode";
    public static final String CHECK_STRICT_THRESHOLD = "tollgate.check.strict.threshold";
    public static final String STORE_URL = "tollgate.store.url";
    public static final String STORE_USER = "tollgate.store.user";
    public static final String STORE_PASSWORD = "tollgate.store.password";
    public static final String STORE_SCHEMA = "tollgate.store.schema";
    public static final String STORE_POOL_SIZE = "tollgate.store.pool-size";
    public static final String STORE_CONNECT_TIMEOUT = "tollgate.store.connect-timeout";
    public static final String STORE_QUERY_TIMEOUT = "tollgate.store.query-timeout";
    public static final String STORE_BATCH_RETENTION = "tollgate.store.batch-retention";
    public static final String ZONE = "tollgate.zone";
    public static final String DEFAULT_PLAN = "tollgate.default-plan";
    public static final String METRICS_ENABLED = "tollgate.metrics.enabled";
    /** Prefix of plan limits: {@code tollgate.plans.<plan>.<quota>=<amount>/<period>[,...]}. */
    public static final String PLANS_PREFIX = "tollgate.plans.";

    // Edge (servlet filter and gateway filter)
    public static final String ENABLED = "tollgate.enabled";
    public static final String MODE = "tollgate.mode";
    public static final String SUBJECT_SOURCE = "tollgate.subject.source";
    public static final String SUBJECT_HEADER = "tollgate.subject.header";
    public static final String SUBJECT_REQUIRED = "tollgate.subject.required";
    public static final String SUBJECT_RESOLVER = "tollgate.subject.resolver";
    public static final String HEADERS_ENABLED = "tollgate.headers.enabled";
    public static final String COUNT_STATUSES = "tollgate.count.statuses";
    public static final String COST_MAX = "tollgate.cost.max";
    public static final String ADMIN_TOKEN = "tollgate.admin.token";
    public static final String ADMIN_PATH = "tollgate.admin.path";
    public static final String CONFIG_FILE = "tollgate.config.file";
    /** Prefix of edge rules: {@code tollgate.rules.<name>.path|methods|quotas}. */
    public static final String RULES_PREFIX = "tollgate.rules.";
    public static final List<String> RULE_LEAVES = List.of("path", "methods", "quotas", "order");

    /** Keys with a fixed name. */
    public static final Set<String> FIXED = Set.of(
            ASYNC_ENABLED, ASYNC_WORKERS, ASYNC_CHANNEL_CAPACITY, ASYNC_BATCH_SIZE, ASYNC_FLUSH_INTERVAL,
            ASYNC_RETRY_MAX_ATTEMPTS, ASYNC_RETRY_WAIT, ASYNC_BREAKER_WAIT_IN_OPEN, ASYNC_SHUTDOWN_TIMEOUT,
            ASYNC_JOURNAL_PATH, ASYNC_JOURNAL_FSYNC_INTERVAL,
            CHECK_CACHE_REFRESH_AFTER, CHECK_CACHE_MAX_SIZE, CHECK_CACHE_POLICY_REFRESH_AFTER, CHECK_FAIL_MODE,
            CHECK_STRICT_THRESHOLD,
            STORE_URL, STORE_USER, STORE_PASSWORD, STORE_SCHEMA, STORE_POOL_SIZE, STORE_CONNECT_TIMEOUT,
            STORE_QUERY_TIMEOUT, STORE_BATCH_RETENTION, ZONE, DEFAULT_PLAN, METRICS_ENABLED,
            ENABLED, MODE, SUBJECT_SOURCE, SUBJECT_HEADER, SUBJECT_REQUIRED, SUBJECT_RESOLVER, HEADERS_ENABLED,
            COUNT_STATUSES, COST_MAX, ADMIN_TOKEN, ADMIN_PATH, CONFIG_FILE);

    private ConfigKeys() {
    }

    /** Whether {@code key} is one Tollgate reads (fixed, a plan limit or a rule leaf). */
    public static boolean isKnown(String key) {
        if (FIXED.contains(key)) {
            return true;
        }
        if (key.startsWith(PLANS_PREFIX)) {
            String rest = key.substring(PLANS_PREFIX.length());
            int dot = rest.indexOf('.');
            return dot > 0 && dot < rest.length() - 1;
        }
        if (key.startsWith(RULES_PREFIX)) {
            String rest = key.substring(RULES_PREFIX.length());
            int dot = rest.lastIndexOf('.');
            return dot > 0 && RULE_LEAVES.contains(rest.substring(dot + 1));
        }
        return false;
    }
}
