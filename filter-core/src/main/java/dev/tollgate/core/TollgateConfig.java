package dev.tollgate.core;

import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.config.TollgateKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The engine's configuration: immutable, built with {@link #custom()} or read from
 * {@code tollgate.*} settings with {@link #from(Settings)}. Every setter validates its value
 * against the key's description in {@link TollgateKeys} and names the key in its error;
 * {@link Builder#build()} checks the combinations. The defaults are those of the
 * descriptions, also published as the {@code DEFAULT_*} constants. Thread-safe.
 */
public final class TollgateConfig {
    public static final boolean DEFAULT_ASYNC_ENABLED = TollgateKeys.ASYNC_ENABLED.defaultValue();
    public static final int DEFAULT_WORKERS = TollgateKeys.ASYNC_WORKERS.defaultValue();
    public static final int DEFAULT_CHANNEL_CAPACITY = TollgateKeys.ASYNC_CHANNEL_CAPACITY.defaultValue();
    public static final int DEFAULT_BATCH_SIZE = TollgateKeys.ASYNC_BATCH_SIZE.defaultValue();
    public static final Duration DEFAULT_FLUSH_INTERVAL = TollgateKeys.ASYNC_FLUSH_INTERVAL.defaultValue();
    public static final int DEFAULT_RETRY_MAX_ATTEMPTS = TollgateKeys.ASYNC_RETRY_MAX_ATTEMPTS.defaultValue();
    public static final Duration DEFAULT_RETRY_WAIT = TollgateKeys.ASYNC_RETRY_WAIT.defaultValue();
    public static final Duration DEFAULT_BREAKER_WAIT_IN_OPEN =
            TollgateKeys.ASYNC_BREAKER_WAIT_IN_OPEN.defaultValue();
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = TollgateKeys.ASYNC_SHUTDOWN_TIMEOUT.defaultValue();
    /** How often the journal is forced to disk when it has new records. */
    public static final Duration DEFAULT_JOURNAL_FSYNC_INTERVAL =
            TollgateKeys.ASYNC_JOURNAL_FSYNC_INTERVAL.defaultValue();
    public static final long DEFAULT_CACHE_MAX_SIZE = TollgateKeys.CHECK_CACHE_MAX_SIZE.defaultValue();
    public static final Duration DEFAULT_POLICY_REFRESH_AFTER = TollgateKeys.CHECK_CACHE_POLICY_REFRESH_AFTER.defaultValue();
    public static final Duration DEFAULT_KEY_CACHE_TTL = TollgateKeys.SUBJECT_KEY_CACHE_TTL.defaultValue();
    public static final FailMode DEFAULT_FAIL_MODE = TollgateKeys.CHECK_FAIL_MODE.defaultValue();
    /** How long a grant stays live in the store unless this node uses it. */
    public static final Duration DEFAULT_ALLOTMENT_EXPIRY = TollgateKeys.ALLOTMENT_EXPIRY.defaultValue();
    /** How much of a counter's recent rate one grant covers. */
    public static final Duration DEFAULT_ALLOTMENT_TARGET = TollgateKeys.ALLOTMENT_TARGET.defaultValue();
    /**
     * An H2 file database under {@code ./tollgate-data}. {@code DB_CLOSE_ON_EXIT=FALSE}: H2's
     * own shutdown hook must not close the database before Tollgate's close writes the last
     * usage; the pool closes it.
     */
    public static final String DEFAULT_STORE_URL = TollgateKeys.STORE_URL.defaultValue();
    public static final SchemaMode DEFAULT_SCHEMA = TollgateKeys.STORE_SCHEMA.defaultValue();
    public static final int DEFAULT_POOL_SIZE = TollgateKeys.STORE_POOL_SIZE.defaultValue();
    public static final Duration DEFAULT_CONNECT_TIMEOUT = TollgateKeys.STORE_CONNECT_TIMEOUT.defaultValue();
    public static final Duration DEFAULT_QUERY_TIMEOUT = TollgateKeys.STORE_QUERY_TIMEOUT.defaultValue();
    public static final Duration DEFAULT_BATCH_RETENTION = TollgateKeys.STORE_BATCH_RETENTION.defaultValue();
    public static final Duration DEFAULT_IDEMPOTENCY_RETENTION = TollgateKeys.IDEMPOTENCY_RETENTION.defaultValue();
    public static final ZoneId DEFAULT_ZONE = TollgateKeys.ZONE.defaultValue();
    public static final String DEFAULT_PLAN_NAME = TollgateKeys.DEFAULT_PLAN.defaultValue();

    /** What the engine does with the schema at start-up. */
    public enum SchemaMode {
        /** Create missing tables (idempotent). */
        CREATE,
        /** Fail at start-up with a clear message if a table or column is missing. */
        VALIDATE,
        /** Leave the schema alone. */
        NONE
    }

    private final boolean asyncEnabled;
    private final int workers;
    private final int channelCapacity;
    private final int batchSize;
    private final Duration flushInterval;
    private final int retryMaxAttempts;
    private final Duration retryWait;
    private final Duration breakerWaitInOpen;
    private final Duration shutdownTimeout;
    private final Path journalPath;
    private final Duration journalFsyncInterval;
    private final long journalMaxSize;
    private final int deferredMaxEntries;
    private final long cacheMaxSize;
    private final Duration policyRefreshAfter;
    private final Duration keyCacheTtl;
    private final FailMode failMode;
    private final Duration allotmentExpiry;
    private final Duration allotmentTarget;
    private final String storeUrl;
    private final String storeUser;
    private final String storePassword;
    private final SchemaMode schema;
    private final int poolSize;
    private final Duration connectTimeout;
    private final Duration queryTimeout;
    private final Duration batchRetention;
    private final Map<Period, Duration> retention;
    private final Duration idempotencyRetention;
    private final int[] notifyThresholds;
    private final ZoneId zone;
    private final String defaultPlan;
    private final Map<String, Map<String, List<Limit>>> plans;
    private final boolean metricsEnabled;
    private final Export export;

    private TollgateConfig(Builder b) {
        asyncEnabled = b.asyncEnabled;
        workers = b.workers;
        channelCapacity = b.channelCapacity;
        batchSize = b.batchSize;
        flushInterval = b.flushInterval;
        retryMaxAttempts = b.retryMaxAttempts;
        retryWait = b.retryWait;
        breakerWaitInOpen = b.breakerWaitInOpen;
        shutdownTimeout = b.shutdownTimeout;
        journalPath = b.journalPath;
        journalFsyncInterval = b.journalFsyncInterval;
        journalMaxSize = b.journalMaxSize;
        deferredMaxEntries = b.deferredMaxEntries;
        cacheMaxSize = b.cacheMaxSize;
        policyRefreshAfter = b.policyRefreshAfter;
        keyCacheTtl = b.keyCacheTtl;
        failMode = b.failMode;
        allotmentExpiry = b.allotmentExpiry;
        allotmentTarget = b.allotmentTarget;
        storeUrl = b.storeUrl;
        storeUser = b.storeUser;
        storePassword = b.storePassword;
        schema = b.schema;
        poolSize = b.poolSize;
        connectTimeout = b.connectTimeout;
        queryTimeout = b.queryTimeout;
        batchRetention = b.batchRetention;
        retention = Map.copyOf(b.retention);
        idempotencyRetention = b.idempotencyRetention;
        notifyThresholds = b.notifyThresholds.clone();
        zone = b.zone;
        defaultPlan = b.defaultPlan;
        Map<String, Map<String, List<Limit>>> p = new TreeMap<>();
        b.plans.forEach((plan, quotas) -> p.put(plan, Map.copyOf(quotas)));
        plans = Map.copyOf(p);
        metricsEnabled = b.metricsEnabled;
        export = b.export;
    }

    /** The defaults. */
    public static TollgateConfig ofDefaults() {
        return custom().build();
    }

    /** A builder holding the defaults. */
    public static Builder custom() {
        return new Builder();
    }

    /** A builder holding the values of {@code base}. */
    public static Builder from(TollgateConfig base) {
        return new Builder(base);
    }

    /**
     * Reads the engine's keys from settings (see the README's configuration reference).
     *
     * @throws InvalidConfigException naming the first bad key, its value and what is allowed
     */
    public static TollgateConfig from(Settings s) {
        TollgateKeys.RETIRED.forEach((key, why) -> {
            if (s.has(key)) {
                throw new InvalidConfigException(key, why);
            }
        });
        Builder b = custom()
                .asyncEnabled(s.get(TollgateKeys.ASYNC_ENABLED))
                .workers(s.get(TollgateKeys.ASYNC_WORKERS))
                .channelCapacity(s.get(TollgateKeys.ASYNC_CHANNEL_CAPACITY))
                .batchSize(s.get(TollgateKeys.ASYNC_BATCH_SIZE))
                .flushInterval(s.get(TollgateKeys.ASYNC_FLUSH_INTERVAL))
                .retryMaxAttempts(s.get(TollgateKeys.ASYNC_RETRY_MAX_ATTEMPTS))
                .retryWait(s.get(TollgateKeys.ASYNC_RETRY_WAIT))
                .breakerWaitInOpen(s.get(TollgateKeys.ASYNC_BREAKER_WAIT_IN_OPEN))
                .shutdownTimeout(s.get(TollgateKeys.ASYNC_SHUTDOWN_TIMEOUT))
                .journalPath(s.get(TollgateKeys.ASYNC_JOURNAL_PATH))
                .journalFsyncInterval(s.get(TollgateKeys.ASYNC_JOURNAL_FSYNC_INTERVAL))
                .journalMaxSize(s.get(TollgateKeys.ASYNC_JOURNAL_MAX_SIZE))
                .deferredMaxEntries(s.get(TollgateKeys.ASYNC_DEFERRED_MAX_ENTRIES))
                .cacheMaxSize(s.get(TollgateKeys.CHECK_CACHE_MAX_SIZE))
                .policyRefreshAfter(s.get(TollgateKeys.CHECK_CACHE_POLICY_REFRESH_AFTER))
                .keyCacheTtl(s.get(TollgateKeys.SUBJECT_KEY_CACHE_TTL))
                .failMode(s.get(TollgateKeys.CHECK_FAIL_MODE))
                .allotmentExpiry(s.get(TollgateKeys.ALLOTMENT_EXPIRY))
                .allotmentTarget(s.get(TollgateKeys.ALLOTMENT_TARGET))
                .storeUrl(s.get(TollgateKeys.STORE_URL))
                .storeUser(s.get(TollgateKeys.STORE_USER))
                .storePassword(s.get(TollgateKeys.STORE_PASSWORD))
                .schema(s.get(TollgateKeys.STORE_SCHEMA))
                .poolSize(s.get(TollgateKeys.STORE_POOL_SIZE))
                .connectTimeout(s.get(TollgateKeys.STORE_CONNECT_TIMEOUT))
                .queryTimeout(s.get(TollgateKeys.STORE_QUERY_TIMEOUT))
                .batchRetention(s.get(TollgateKeys.STORE_BATCH_RETENTION))
                .retention(Period.MINUTE, s.get(TollgateKeys.STORE_RETENTION_MINUTE))
                .retention(Period.HOUR, s.get(TollgateKeys.STORE_RETENTION_HOUR))
                .retention(Period.DAY, s.get(TollgateKeys.STORE_RETENTION_DAY))
                .retention(Period.MONTH, s.get(TollgateKeys.STORE_RETENTION_MONTH))
                .idempotencyRetention(s.get(TollgateKeys.IDEMPOTENCY_RETENTION))
                .notifyThresholds(s.get(TollgateKeys.NOTIFY_THRESHOLDS))
                .zone(s.get(TollgateKeys.ZONE))
                .defaultPlan(s.get(TollgateKeys.DEFAULT_PLAN))
                .metricsEnabled(s.get(TollgateKeys.METRICS_ENABLED))
                .export(new Export(s.get(TollgateKeys.EXPORT_URL), s.get(TollgateKeys.EXPORT_BATCH_SIZE),
                        s.get(TollgateKeys.EXPORT_INTERVAL), s.get(TollgateKeys.EXPORT_AUTH_HEADER),
                        s.get(TollgateKeys.EXPORT_SOURCE)));
        s.asMap().forEach((key, value) -> {
            if (key.startsWith(TollgateKeys.PLANS_PREFIX)) {
                String rest = key.substring(TollgateKeys.PLANS_PREFIX.length());
                int dot = rest.indexOf('.');
                if (dot <= 0 || dot == rest.length() - 1) {
                    throw new InvalidConfigException(key, value,
                            "a key of the form tollgate.plans.<plan>.<quota>");
                }
                b.limit(rest.substring(0, dot), rest.substring(dot + 1), value);
            }
        });
        return b.build();
    }

    public boolean asyncEnabled() {
        return asyncEnabled;
    }

    public int workers() {
        return workers;
    }

    public int channelCapacity() {
        return channelCapacity;
    }

    /** Largest number of distinct (subject, quota, window) keys written in one flush transaction. */
    public int batchSize() {
        return batchSize;
    }

    public Duration flushInterval() {
        return flushInterval;
    }

    public int retryMaxAttempts() {
        return retryMaxAttempts;
    }

    public Duration retryWait() {
        return retryWait;
    }

    public Duration breakerWaitInOpen() {
        return breakerWaitInOpen;
    }

    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /** Directory of the local journal, or {@code null} when there is none. */
    public Path journalPath() {
        return journalPath;
    }

    /** How often the journal is forced to disk; zero: every consume waits for its fsync. */
    public Duration journalFsyncInterval() {
        return journalFsyncInterval;
    }

    /** {@code tollgate.async.journal.max-size}: bytes this run's journal segments may take. */
    public long journalMaxSize() {
        return journalMaxSize;
    }

    /** {@code tollgate.async.deferred.max-entries}: counters of unwritten usage kept in memory. */
    public int deferredMaxEntries() {
        return deferredMaxEntries;
    }

    public long cacheMaxSize() {
        return cacheMaxSize;
    }

    /** Age after which a subject's plan and overrides are re-read in the background. */
    public Duration policyRefreshAfter() {
        return policyRefreshAfter;
    }

    /**
     * How long this node trusts what it read about an API key (registered or not): a key
     * revoked or issued through another node is refused or accepted here at most this long later.
     */
    public Duration keyCacheTtl() {
        return keyCacheTtl;
    }

    public FailMode failMode() {
        return failMode;
    }

    /** How long a grant stays live in the store unless this node uses it (writes extend it). */
    public Duration allotmentExpiry() {
        return allotmentExpiry;
    }

    /** How much of a counter's recent rate on this node one grant covers. */
    public Duration allotmentTarget() {
        return allotmentTarget;
    }

    public String storeUrl() {
        return storeUrl;
    }

    public String storeUser() {
        return storeUser;
    }

    public String storePassword() {
        return storePassword;
    }

    public SchemaMode schema() {
        return schema;
    }

    public int poolSize() {
        return poolSize;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration queryTimeout() {
        return queryTimeout;
    }

    public Duration batchRetention() {
        return batchRetention;
    }

    /**
     * {@code tollgate.store.retention.<period>}: how long usage rows of {@code period}'s windows
     * are kept after their window ended; {@link Duration#ZERO} keeps them forever (always so for
     * {@link Period#TOTAL}, whose window never ends).
     */
    public Duration retention(Period period) {
        return retention.getOrDefault(period, Duration.ZERO);
    }

    /** {@code tollgate.idempotency.retention}: how long request ids are remembered. */
    public Duration idempotencyRetention() {
        return idempotencyRetention;
    }

    /** {@code tollgate.notify.thresholds}: percentages of a limit, ascending; empty for none. */
    public int[] notifyThresholds() {
        return notifyThresholds.clone();
    }

    public ZoneId zone() {
        return zone;
    }

    public String defaultPlan() {
        return defaultPlan;
    }

    /** Plans: plan name → quota name → limits (one per period). */
    public Map<String, Map<String, List<Limit>>> plans() {
        return plans;
    }

    public boolean metricsEnabled() {
        return metricsEnabled;
    }

    /** {@code tollgate.export.*}: the push export, {@link Export#enabled()} when a URL is set. */
    public Export export() {
        return export;
    }

    /**
     * The push export's settings ({@code tollgate.export.*}).
     *
     * @param url        where closed windows are POSTed; {@code null}: no push export
     * @param batchSize  most events per POST
     * @param interval   pause between runs
     * @param authHeader the {@code Authorization} value sent, or {@code null}; never in {@link #toString()}
     * @param source     the CloudEvents {@code source} ({@code tollgate.export.source}, as the pull export)
     */
    public record Export(String url, int batchSize, Duration interval, String authHeader, String source) {
        /** No push export. */
        public static final Export OFF = new Export(null, TollgateKeys.EXPORT_BATCH_SIZE.defaultValue(),
                TollgateKeys.EXPORT_INTERVAL.defaultValue(), null, TollgateKeys.EXPORT_SOURCE.defaultValue());

        /**
         * @throws InvalidConfigException naming the key, the value and what is allowed
         */
        public Export {
            url = url == null ? null : TollgateKeys.EXPORT_URL.check(url);
            batchSize = TollgateKeys.EXPORT_BATCH_SIZE.check(batchSize);
            interval = TollgateKeys.EXPORT_INTERVAL.check(Objects.requireNonNull(interval, "interval"));
            authHeader = authHeader == null ? null : TollgateKeys.EXPORT_AUTH_HEADER.check(authHeader);
            source = TollgateKeys.EXPORT_SOURCE.check(Objects.requireNonNull(source, "source"));
        }

        /** Whether windows are pushed. */
        public boolean enabled() {
            return url != null;
        }

        @Override
        public String toString() {
            return url == null ? "off" : "{url=" + url + ", batchSize=" + batchSize + ", interval="
                    + Settings.format(interval) + ", authHeader=" + (authHeader == null ? "none" : "****") + "}";
        }
    }

    @Override
    public String toString() {
        return "TollgateConfig{async=" + asyncEnabled + ", workers=" + workers + ", channelCapacity="
                + channelCapacity + ", batchSize=" + batchSize + ", flushInterval=" + flushInterval
                + ", journal=" + (journalPath == null ? "off" : journalPath + " (fsync every "
                + Settings.format(journalFsyncInterval) + ")") + ", allotment={expiry="
                + Settings.format(allotmentExpiry) + ", target=" + Settings.format(allotmentTarget) + "}"
                + ", failMode=" + failMode + ", schema=" + schema + ", zone=" + zone
                + ", defaultPlan=" + defaultPlan + ", plans=" + plans + ", export=" + export + "}";
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private boolean asyncEnabled = DEFAULT_ASYNC_ENABLED;
        private int workers = DEFAULT_WORKERS;
        private int channelCapacity = DEFAULT_CHANNEL_CAPACITY;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Duration flushInterval = DEFAULT_FLUSH_INTERVAL;
        private int retryMaxAttempts = DEFAULT_RETRY_MAX_ATTEMPTS;
        private Duration retryWait = DEFAULT_RETRY_WAIT;
        private Duration breakerWaitInOpen = DEFAULT_BREAKER_WAIT_IN_OPEN;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private Path journalPath;
        private Duration journalFsyncInterval = DEFAULT_JOURNAL_FSYNC_INTERVAL;
        private long journalMaxSize = TollgateKeys.ASYNC_JOURNAL_MAX_SIZE.defaultValue();
        private int deferredMaxEntries = TollgateKeys.ASYNC_DEFERRED_MAX_ENTRIES.defaultValue();
        private long cacheMaxSize = DEFAULT_CACHE_MAX_SIZE;
        private Duration policyRefreshAfter = DEFAULT_POLICY_REFRESH_AFTER;
        private Duration keyCacheTtl = DEFAULT_KEY_CACHE_TTL;
        private FailMode failMode = DEFAULT_FAIL_MODE;
        private Duration allotmentExpiry = DEFAULT_ALLOTMENT_EXPIRY;
        private Duration allotmentTarget = DEFAULT_ALLOTMENT_TARGET;
        private String storeUrl = DEFAULT_STORE_URL;
        private String storeUser = TollgateKeys.STORE_USER.defaultValue();
        private String storePassword = TollgateKeys.STORE_PASSWORD.defaultValue();
        private SchemaMode schema = DEFAULT_SCHEMA;
        private int poolSize = DEFAULT_POOL_SIZE;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration queryTimeout = DEFAULT_QUERY_TIMEOUT;
        private Duration batchRetention = DEFAULT_BATCH_RETENTION;
        private final Map<Period, Duration> retention = new EnumMap<>(Map.of(
                Period.MINUTE, TollgateKeys.STORE_RETENTION_MINUTE.defaultValue(),
                Period.HOUR, TollgateKeys.STORE_RETENTION_HOUR.defaultValue(),
                Period.DAY, TollgateKeys.STORE_RETENTION_DAY.defaultValue(),
                Period.MONTH, TollgateKeys.STORE_RETENTION_MONTH.defaultValue()));
        private Duration idempotencyRetention = DEFAULT_IDEMPOTENCY_RETENTION;
        private int[] notifyThresholds = TollgateKeys.parseThresholds(TollgateKeys.NOTIFY_THRESHOLDS.defaultValue());
        private ZoneId zone = DEFAULT_ZONE;
        private String defaultPlan = DEFAULT_PLAN_NAME;
        private final Map<String, Map<String, List<Limit>>> plans = new TreeMap<>();
        private boolean metricsEnabled = TollgateKeys.METRICS_ENABLED.defaultValue();
        private Export export = Export.OFF;

        private Builder() {
        }

        private Builder(TollgateConfig c) {
            asyncEnabled = c.asyncEnabled;
            workers = c.workers;
            channelCapacity = c.channelCapacity;
            batchSize = c.batchSize;
            flushInterval = c.flushInterval;
            retryMaxAttempts = c.retryMaxAttempts;
            retryWait = c.retryWait;
            breakerWaitInOpen = c.breakerWaitInOpen;
            shutdownTimeout = c.shutdownTimeout;
            journalPath = c.journalPath;
            journalFsyncInterval = c.journalFsyncInterval;
            journalMaxSize = c.journalMaxSize;
            deferredMaxEntries = c.deferredMaxEntries;
            cacheMaxSize = c.cacheMaxSize;
            policyRefreshAfter = c.policyRefreshAfter;
            keyCacheTtl = c.keyCacheTtl;
            failMode = c.failMode;
            allotmentExpiry = c.allotmentExpiry;
            allotmentTarget = c.allotmentTarget;
            storeUrl = c.storeUrl;
            storeUser = c.storeUser;
            storePassword = c.storePassword;
            schema = c.schema;
            poolSize = c.poolSize;
            connectTimeout = c.connectTimeout;
            queryTimeout = c.queryTimeout;
            batchRetention = c.batchRetention;
            retention.putAll(c.retention);
            idempotencyRetention = c.idempotencyRetention;
            notifyThresholds = c.notifyThresholds.clone();
            zone = c.zone;
            defaultPlan = c.defaultPlan;
            c.plans.forEach((plan, quotas) -> plans.put(plan, new TreeMap<>(quotas)));
            metricsEnabled = c.metricsEnabled;
            export = c.export;
        }

        /** {@code tollgate.async.enabled}: false writes each consumption synchronously. */
        public Builder asyncEnabled(boolean enabled) {
            this.asyncEnabled = enabled;
            return this;
        }

        /** {@code tollgate.async.workers}: batcher threads, 1 to 64. */
        public Builder workers(int workers) {
            this.workers = TollgateKeys.ASYNC_WORKERS.check(workers);
            return this;
        }

        /** {@code tollgate.async.channel-capacity}: records the channel holds, 16 to 16,777,216. */
        public Builder channelCapacity(int capacity) {
            this.channelCapacity = TollgateKeys.ASYNC_CHANNEL_CAPACITY.check(capacity);
            return this;
        }

        /** {@code tollgate.async.batch-size}: distinct keys per flush transaction, 1 to 100,000. */
        public Builder batchSize(int batchSize) {
            this.batchSize = TollgateKeys.ASYNC_BATCH_SIZE.check(batchSize);
            return this;
        }

        /** {@code tollgate.async.flush-interval}: longest time a record waits in memory, 1ms to 1h. */
        public Builder flushInterval(Duration interval) {
            this.flushInterval = TollgateKeys.ASYNC_FLUSH_INTERVAL.check(interval);
            return this;
        }

        /** {@code tollgate.async.retry.max-attempts}: attempts per store write, 1 to 100. */
        public Builder retryMaxAttempts(int attempts) {
            this.retryMaxAttempts = TollgateKeys.ASYNC_RETRY_MAX_ATTEMPTS.check(attempts);
            return this;
        }

        /** {@code tollgate.async.retry.wait}: pause between attempts, 0 to 1 minute. */
        public Builder retryWait(Duration wait) {
            this.retryWait = TollgateKeys.ASYNC_RETRY_WAIT.check(wait);
            return this;
        }

        /** {@code tollgate.async.circuit-breaker.wait-in-open}: how long the breaker stays open, 10ms to 1h. */
        public Builder breakerWaitInOpen(Duration wait) {
            this.breakerWaitInOpen = TollgateKeys.ASYNC_BREAKER_WAIT_IN_OPEN.check(wait);
            return this;
        }

        /** {@code tollgate.async.shutdown-timeout}: deadline for close() to drain and flush, 0 to 10 min. */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = TollgateKeys.ASYNC_SHUTDOWN_TIMEOUT.check(timeout);
            return this;
        }

        /**
         * {@code tollgate.async.journal.path}: directory of the local journal, where consumption
         * is appended before it is queued and from which what was not written is replayed at
         * the next start; {@code null} or blank turns the journal off. The directory is created
         * when missing; one engine at a time may use it.
         */
        public Builder journalPath(String path) {
            this.journalPath = path == null || path.isBlank() ? null : TollgateKeys.ASYNC_JOURNAL_PATH.parse(path);
            return this;
        }

        /** {@code tollgate.async.journal.path} as a path; {@code null} turns the journal off. */
        public Builder journalPath(Path path) {
            this.journalPath = path;
            return this;
        }

        /**
         * {@code tollgate.async.journal.max-size}: bytes this run's journal segments may take on
         * disk, 1 MiB to 1 PiB; beyond it consumption is not journaled (counted as a journal error).
         */
        public Builder journalMaxSize(long bytes) {
            this.journalMaxSize = TollgateKeys.ASYNC_JOURNAL_MAX_SIZE.check(bytes);
            return this;
        }

        /**
         * {@code tollgate.async.deferred.max-entries}: counters of usage kept in memory while the
         * store cannot take it, 100 to 100,000,000; beyond it new counters' usage is dropped.
         */
        public Builder deferredMaxEntries(int entries) {
            this.deferredMaxEntries = TollgateKeys.ASYNC_DEFERRED_MAX_ENTRIES.check(entries);
            return this;
        }

        /**
         * {@code tollgate.async.journal.fsync-interval}: how often new journal records are forced
         * to disk, 0 to 10s. 0 makes every consume wait until its record is on disk (group commit).
         */
        public Builder journalFsyncInterval(Duration interval) {
            this.journalFsyncInterval = TollgateKeys.ASYNC_JOURNAL_FSYNC_INTERVAL.check(interval);
            return this;
        }

        /** {@code tollgate.check.cache.max-size}: cached keys, 100 to 100,000,000. */
        public Builder cacheMaxSize(long maxSize) {
            this.cacheMaxSize = TollgateKeys.CHECK_CACHE_MAX_SIZE.check(maxSize);
            return this;
        }

        /**
         * {@code tollgate.check.cache.policy-refresh-after}: age after which a subject's plan and
         * overrides are re-read (changes made through this node apply at once), 100ms to 1d.
         */
        public Builder policyRefreshAfter(Duration refresh) {
            this.policyRefreshAfter = TollgateKeys.CHECK_CACHE_POLICY_REFRESH_AFTER.check(refresh);
            return this;
        }

        /**
         * {@code tollgate.subject.key-cache-ttl}: how long a node trusts what it read about an
         * API key, 100ms to 1h.
         */
        public Builder keyCacheTtl(Duration ttl) {
            this.keyCacheTtl = TollgateKeys.SUBJECT_KEY_CACHE_TTL.check(ttl);
            return this;
        }

        /** {@code tollgate.check.fail-mode}: open or closed. */
        public Builder failMode(FailMode mode) {
            this.failMode = TollgateKeys.CHECK_FAIL_MODE.check(mode);
            return this;
        }

        /**
         * {@code tollgate.allotment.expiry}: how long a grant stays live in the store unless
         * this node uses it, 1s to 1h. A node that dies strands its unused units for at most
         * this long; an idle node's units return to the others after it.
         */
        public Builder allotmentExpiry(Duration expiry) {
            this.allotmentExpiry = TollgateKeys.ALLOTMENT_EXPIRY.check(expiry);
            return this;
        }

        /**
         * {@code tollgate.allotment.target}: how much of a counter's recent rate on this node
         * one grant covers, 10ms to 10 min (near a limit, grants shrink to a fair share of what
         * is left, down to single units).
         */
        public Builder allotmentTarget(Duration target) {
            this.allotmentTarget = TollgateKeys.ALLOTMENT_TARGET.check(target);
            return this;
        }


        /**
         * {@code tollgate.store.url}: a {@code jdbc:h2:} or {@code jdbc:postgresql:} URL, or one a
         * {@link dev.tollgate.core.spi.UsageStoreProvider} on the class path accepts.
         */
        public Builder storeUrl(String url) {
            this.storeUrl = TollgateKeys.STORE_URL.check(url);
            return this;
        }

        /** {@code tollgate.store.user}. */
        public Builder storeUser(String user) {
            this.storeUser = TollgateKeys.STORE_USER.check(user);
            return this;
        }

        /** {@code tollgate.store.password}. */
        public Builder storePassword(String password) {
            this.storePassword = TollgateKeys.STORE_PASSWORD.check(password);
            return this;
        }

        /** {@code tollgate.store.schema}: create, validate or none. */
        public Builder schema(SchemaMode mode) {
            this.schema = TollgateKeys.STORE_SCHEMA.check(mode);
            return this;
        }

        /** {@code tollgate.store.pool-size}: connections in the pool Tollgate builds, 1 to 200. */
        public Builder poolSize(int size) {
            this.poolSize = TollgateKeys.STORE_POOL_SIZE.check(size);
            return this;
        }

        /** {@code tollgate.store.connect-timeout}: wait for a pooled connection, 250ms to 5 min. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = TollgateKeys.STORE_CONNECT_TIMEOUT.check(timeout);
            return this;
        }

        /** {@code tollgate.store.query-timeout}: longest a statement may run, 1s to 1h. */
        public Builder queryTimeout(Duration timeout) {
            this.queryTimeout = TollgateKeys.STORE_QUERY_TIMEOUT.check(timeout);
            return this;
        }

        /** {@code tollgate.store.batch-retention}: how long applied batch ids are kept, 1 min to 365 days. */
        public Builder batchRetention(Duration retention) {
            this.batchRetention = TollgateKeys.STORE_BATCH_RETENTION.check(retention);
            return this;
        }

        /**
         * {@code tollgate.store.retention.<period>}: how long usage rows of the period's windows
         * are kept after their window ended, 1 minute to 36,500 days, or {@link Duration#ZERO}
         * to keep them forever.
         *
         * @throws IllegalArgumentException for {@link Period#TOTAL} (its window never ends) or a
         *                                  duration out of range
         */
        public Builder retention(Period period, Duration keep) {
            ConfigKey<Duration> key = switch (Objects.requireNonNull(period, "period")) {
                case MINUTE -> TollgateKeys.STORE_RETENTION_MINUTE;
                case HOUR -> TollgateKeys.STORE_RETENTION_HOUR;
                case DAY -> TollgateKeys.STORE_RETENTION_DAY;
                case MONTH -> TollgateKeys.STORE_RETENTION_MONTH;
                case TOTAL -> throw new IllegalArgumentException("TOTAL windows never end; their rows are kept");
            };
            retention.put(period, key.check(keep));
            return this;
        }

        /**
         * {@code tollgate.idempotency.retention}: how long request ids are remembered (a repeat
         * within it is charged once), 1 min to 365 days.
         */
        public Builder idempotencyRetention(Duration retention) {
            this.idempotencyRetention = TollgateKeys.IDEMPOTENCY_RETENTION.check(retention);
            return this;
        }

        /**
         * {@code tollgate.notify.thresholds}: percentages of a limit, e.g. {@code 80%,100%}
         * (1% to 1000%); empty for none.
         *
         * @throws InvalidConfigException naming the key, the value and what is allowed
         */
        public Builder notifyThresholds(String thresholds) {
            String v = thresholds == null ? "" : thresholds;
            try {
                this.notifyThresholds = TollgateKeys.parseThresholds(v);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(TollgateKeys.NOTIFY_THRESHOLDS.name(), v,
                        TollgateKeys.NOTIFY_THRESHOLDS.type().allowed());
            }
            return this;
        }

        /** {@code tollgate.zone}: time zone of calendar windows, e.g. UTC or Europe/Paris. */
        public Builder zone(String zoneId) {
            this.zone = TollgateKeys.ZONE.parse(Objects.requireNonNull(zoneId, TollgateKeys.ZONE.name()));
            return this;
        }

        public Builder zone(ZoneId zone) {
            this.zone = TollgateKeys.ZONE.check(zone);
            return this;
        }

        /** {@code tollgate.default-plan}: plan of subjects with no assigned plan. */
        public Builder defaultPlan(String plan) {
            if (plan == null) {
                throw new InvalidConfigException(TollgateKeys.DEFAULT_PLAN.name(), null, Names.NAME.pattern());
            }
            this.defaultPlan = TollgateKeys.DEFAULT_PLAN.check(plan);
            return this;
        }

        /**
         * {@code tollgate.plans.<plan>.<quota>}: sets the limits of a quota in a plan,
         * e.g. {@code limit("free", "requests", "1000/day")} or {@code "10/minute,1000/day"}.
         */
        public Builder limit(String plan, String quota, String limits) {
            String key = TollgateKeys.PLANS_PREFIX + plan + "." + quota;
            if (plan == null || !Names.NAME.matcher(plan).matches()) {
                throw new InvalidConfigException(key, limits, "a plan name matching " + Names.NAME.pattern());
            }
            if (quota == null || !Names.NAME.matcher(quota).matches()) {
                throw new InvalidConfigException(key, limits, "a quota name matching " + Names.NAME.pattern());
            }
            List<Limit> parsed;
            try {
                parsed = Limit.parseList(Objects.requireNonNull(limits, key));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(key, limits,
                        TollgateKeys.PLAN_LIMITS.type().allowed() + " (" + e.getMessage() + ")");
            }
            plans.computeIfAbsent(plan, p -> new TreeMap<>()).put(quota, parsed);
            return this;
        }

        /** Sets one limit of a quota in a plan. */
        public Builder limit(String plan, String quota, Limit limit) {
            return limit(plan, quota, limit.toString());
        }

        /** {@code tollgate.export.*}: the push export ({@link Export#OFF} by default). */
        public Builder export(Export export) {
            this.export = Objects.requireNonNull(export, "export");
            return this;
        }

        /** {@code tollgate.metrics.enabled}: register Micrometer meters when Micrometer is present. */
        public Builder metricsEnabled(boolean enabled) {
            this.metricsEnabled = enabled;
            return this;
        }

        /**
         * @throws InvalidConfigException if plans are configured but the default plan is not one of them
         */
        public TollgateConfig build() {
            if (!plans.isEmpty() && !plans.containsKey(defaultPlan)) {
                throw new InvalidConfigException(TollgateKeys.DEFAULT_PLAN.name(), defaultPlan,
                        "one of the configured plans " + plans.keySet());
            }
            return new TollgateConfig(this);
        }
    }
}
