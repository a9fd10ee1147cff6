package dev.tollgate.core.config;

/**
 * The names of the configuration keys as strings, for code that needs a {@code String}
 * (messages, maps of settings). Each is the name of its description in {@link TollgateKeys},
 * which holds everything else about a key (type, default, range, meaning). Stateless.
 */
public final class ConfigKeys {
    public static final String PREFIX = TollgateKeys.PREFIX;
    public static final String ASYNC_ENABLED = TollgateKeys.ASYNC_ENABLED.name();
    public static final String ASYNC_WORKERS = TollgateKeys.ASYNC_WORKERS.name();
    public static final String ASYNC_CHANNEL_CAPACITY = TollgateKeys.ASYNC_CHANNEL_CAPACITY.name();
    public static final String ASYNC_BATCH_SIZE = TollgateKeys.ASYNC_BATCH_SIZE.name();
    public static final String ASYNC_FLUSH_INTERVAL = TollgateKeys.ASYNC_FLUSH_INTERVAL.name();
    public static final String ASYNC_RETRY_MAX_ATTEMPTS = TollgateKeys.ASYNC_RETRY_MAX_ATTEMPTS.name();
    public static final String ASYNC_RETRY_WAIT = TollgateKeys.ASYNC_RETRY_WAIT.name();
    public static final String ASYNC_BREAKER_WAIT_IN_OPEN = TollgateKeys.ASYNC_BREAKER_WAIT_IN_OPEN.name();
    public static final String ASYNC_SHUTDOWN_TIMEOUT = TollgateKeys.ASYNC_SHUTDOWN_TIMEOUT.name();
    public static final String ASYNC_JOURNAL_PATH = TollgateKeys.ASYNC_JOURNAL_PATH.name();
    public static final String ASYNC_JOURNAL_FSYNC_INTERVAL = TollgateKeys.ASYNC_JOURNAL_FSYNC_INTERVAL.name();
    public static final String CHECK_CACHE_MAX_SIZE = TollgateKeys.CHECK_CACHE_MAX_SIZE.name();
    public static final String CHECK_CACHE_POLICY_REFRESH_AFTER = TollgateKeys.CHECK_CACHE_POLICY_REFRESH_AFTER.name();
    public static final String CHECK_FAIL_MODE = TollgateKeys.CHECK_FAIL_MODE.name();
    public static final String ALLOTMENT_EXPIRY = TollgateKeys.ALLOTMENT_EXPIRY.name();
    public static final String ALLOTMENT_TARGET = TollgateKeys.ALLOTMENT_TARGET.name();
    public static final String STORE_URL = TollgateKeys.STORE_URL.name();
    public static final String STORE_USER = TollgateKeys.STORE_USER.name();
    public static final String STORE_PASSWORD = TollgateKeys.STORE_PASSWORD.name();
    public static final String STORE_SCHEMA = TollgateKeys.STORE_SCHEMA.name();
    public static final String STORE_POOL_SIZE = TollgateKeys.STORE_POOL_SIZE.name();
    public static final String STORE_CONNECT_TIMEOUT = TollgateKeys.STORE_CONNECT_TIMEOUT.name();
    public static final String STORE_QUERY_TIMEOUT = TollgateKeys.STORE_QUERY_TIMEOUT.name();
    public static final String STORE_BATCH_RETENTION = TollgateKeys.STORE_BATCH_RETENTION.name();
    public static final String ZONE = TollgateKeys.ZONE.name();
    public static final String DEFAULT_PLAN = TollgateKeys.DEFAULT_PLAN.name();
    public static final String METRICS_ENABLED = TollgateKeys.METRICS_ENABLED.name();
    public static final String PLANS_PREFIX = TollgateKeys.PLANS_PREFIX;
    public static final String ENABLED = TollgateKeys.ENABLED.name();
    public static final String MODE = TollgateKeys.MODE.name();
    public static final String SUBJECT_SOURCE = TollgateKeys.SUBJECT_SOURCE.name();
    public static final String SUBJECT_HEADER = TollgateKeys.SUBJECT_HEADER.name();
    public static final String SUBJECT_REQUIRED = TollgateKeys.SUBJECT_REQUIRED.name();
    public static final String SUBJECT_RESOLVER = TollgateKeys.SUBJECT_RESOLVER.name();
    public static final String HEADERS_ENABLED = TollgateKeys.HEADERS_ENABLED.name();
    public static final String COUNT_STATUSES = TollgateKeys.COUNT_STATUSES.name();
    public static final String COST_MAX = TollgateKeys.COST_MAX.name();
    public static final String ADMIN_TOKEN = TollgateKeys.ADMIN_TOKEN.name();
    public static final String ADMIN_PATH = TollgateKeys.ADMIN_PATH.name();
    public static final String CONFIG_FILE = TollgateKeys.CONFIG_FILE.name();
    public static final String RULES_PREFIX = TollgateKeys.RULES_PREFIX;

    private ConfigKeys() {
    }
}
