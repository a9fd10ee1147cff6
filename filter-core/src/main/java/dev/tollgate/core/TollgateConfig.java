package dev.tollgate.core;

import static dev.tollgate.core.config.ConfigKeys.*;

import dev.tollgate.core.config.Settings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The engine's configuration: immutable, built with {@link #custom()} or read from
 * {@code tollgate.*} settings with {@link #from(Settings)}. Every setter validates its value
 * and names the configuration key in its error; {@link Builder#build()} checks the
 * combinations. The defaults are the public {@code DEFAULT_*} constants.
 */
public final class TollgateConfig {
    public static final boolean DEFAULT_ASYNC_ENABLED = true;
    public static final int DEFAULT_WORKERS = 2;
    public static final int DEFAULT_CHANNEL_CAPACITY = 65_536;
    public static final int DEFAULT_BATCH_SIZE = 10_000;
    public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofMillis(500);
    public static final int DEFAULT_RETRY_MAX_ATTEMPTS = 3;
    public static final Duration DEFAULT_RETRY_WAIT = Duration.ofMillis(100);
    public static final Duration DEFAULT_BREAKER_WAIT_IN_OPEN = Duration.ofSeconds(5);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    /** How often the journal is forced to disk when it has new records. */
    public static final Duration DEFAULT_JOURNAL_FSYNC_INTERVAL = Duration.ofMillis(50);
    public static final Duration DEFAULT_CACHE_REFRESH_AFTER = Duration.ofSeconds(1);
    public static final long DEFAULT_CACHE_MAX_SIZE = 100_000;
    public static final Duration DEFAULT_POLICY_REFRESH_AFTER = Duration.ofSeconds(30);
    public static final FailMode DEFAULT_FAIL_MODE = FailMode.OPEN;
    /** Strict mode is off unless a threshold is configured. */
    public static final StrictThreshold DEFAULT_STRICT_THRESHOLD = StrictThreshold.OFF;
    /**
     * An H2 file database under {@code ./tollgate-data}. {@code DB_CLOSE_ON_EXIT=FALSE}: H2's
     * own shutdown hook must not close the database before Tollgate's close writes the last
     * usage; the pool closes it.
     */
    public static final String DEFAULT_STORE_URL = "jdbc:h2:file:./tollgate-data/tollgate;DB_CLOSE_ON_EXIT=FALSE";
    public static final SchemaMode DEFAULT_SCHEMA = SchemaMode.CREATE;
    public static final int DEFAULT_POOL_SIZE = 4;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_BATCH_RETENTION = Duration.ofDays(1);
    public static final ZoneId DEFAULT_ZONE = ZoneId.of("UTC");
    public static final String DEFAULT_PLAN_NAME = "free";

    /**
     * {@code tollgate.check.strict.threshold}: when what is left of a limit is at or below
     * this, checks of that counter reserve in the store (a conditional atomic update) instead
     * of reading the cache. Either a number of units or a percentage of the limit; immutable.
     *
     * @param units   absolute threshold in the quota's units, used when {@code percent} is 0
     * @param percent threshold as a percentage of the limit, 0 to 100
     */
    public record StrictThreshold(long units, int percent) {
        /** Strict mode off. */
        public static final StrictThreshold OFF = new StrictThreshold(0, 0);
        static final String ALLOWED = "0 (off), a number of units such as 100, or a percentage of the limit"
                + " from 1% to 100% such as 10%";

        public StrictThreshold {
            if (units < 0 || percent < 0 || percent > 100 || (units > 0 && percent > 0)) {
                throw new IllegalArgumentException("units must be >= 0, percent 0 to 100, not both set");
            }
        }

        /**
         * Parses {@code 0}, {@code off}, {@code <units>} or {@code <percent>%}.
         *
         * @throws IllegalArgumentException for anything else
         */
        public static StrictThreshold parse(String text) {
            String s = text.trim().replace("_", "");
            if (s.equalsIgnoreCase("off") || s.equals("0") || s.equals("0%")) {
                return OFF;
            }
            boolean pct = s.endsWith("%");
            String digits = pct ? s.substring(0, s.length() - 1).trim() : s;
            if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("not a whole number or percentage");
            }
            long n = Long.parseLong(digits);
            if (pct && n > 100) {
                throw new IllegalArgumentException("a percentage above 100%");
            }
            return pct ? new StrictThreshold(0, (int) n) : new StrictThreshold(n, 0);
        }

        public boolean enabled() {
            return units > 0 || percent > 0;
        }

        /** The threshold in units for a limit of {@code max}: a percentage is rounded up. */
        public long unitsFor(long max) {
            if (percent == 0) {
                return units;
            }
            long whole = max / 100 * percent;
            long part = (max % 100 * percent + 99) / 100;
            return whole + part;
        }

        @Override
        public String toString() {
            return percent > 0 ? percent + "%" : Long.toString(units);
        }
    }

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
    private final Duration cacheRefreshAfter;
    private final long cacheMaxSize;
    private final Duration policyRefreshAfter;
    private final FailMode failMode;
    private final StrictThreshold strictThreshold;
    private final String storeUrl;
    private final String storeUser;
    private final String storePassword;
    private final SchemaMode schema;
    private final int poolSize;
    private final Duration connectTimeout;
    private final Duration queryTimeout;
    private final Duration batchRetention;
    private final ZoneId zone;
    private final String defaultPlan;
    private final Map<String, Map<String, List<Limit>>> plans;
    private final boolean metricsEnabled;

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
        cacheRefreshAfter = b.cacheRefreshAfter;
        cacheMaxSize = b.cacheMaxSize;
        policyRefreshAfter = b.policyRefreshAfter;
        failMode = b.failMode;
        strictThreshold = b.strictThreshold;
        storeUrl = b.storeUrl;
        storeUser = b.storeUser;
        storePassword = b.storePassword;
        schema = b.schema;
        poolSize = b.poolSize;
        connectTimeout = b.connectTimeout;
        queryTimeout = b.queryTimeout;
        batchRetention = b.batchRetention;
        zone = b.zone;
        defaultPlan = b.defaultPlan;
        Map<String, Map<String, List<Limit>>> p = new TreeMap<>();
        b.plans.forEach((plan, quotas) -> p.put(plan, Map.copyOf(quotas)));
        plans = Map.copyOf(p);
        metricsEnabled = b.metricsEnabled;
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
        try {
            return read(s);
        } catch (InvalidConfigException e) {
            throw asWritten(s, e);
        }
    }

    /**
     * The same error, quoting the value as the user wrote it rather than as it was parsed
     * ({@code 0s} rather than {@code 0ms}).
     */
    static InvalidConfigException asWritten(Settings s, InvalidConfigException e) {
        if (e.allowed() != null && s.has(e.key())) {
            return new InvalidConfigException(e.key(), s.string(e.key(), ""), e.allowed());
        }
        return e;
    }

    private static TollgateConfig read(Settings s) {
        Builder b = custom()
                .asyncEnabled(s.bool(ASYNC_ENABLED, DEFAULT_ASYNC_ENABLED))
                .workers(s.intValue(ASYNC_WORKERS, DEFAULT_WORKERS))
                .channelCapacity(s.intValue(ASYNC_CHANNEL_CAPACITY, DEFAULT_CHANNEL_CAPACITY))
                .batchSize(s.intValue(ASYNC_BATCH_SIZE, DEFAULT_BATCH_SIZE))
                .flushInterval(s.duration(ASYNC_FLUSH_INTERVAL, DEFAULT_FLUSH_INTERVAL))
                .retryMaxAttempts(s.intValue(ASYNC_RETRY_MAX_ATTEMPTS, DEFAULT_RETRY_MAX_ATTEMPTS))
                .retryWait(s.duration(ASYNC_RETRY_WAIT, DEFAULT_RETRY_WAIT))
                .breakerWaitInOpen(s.duration(ASYNC_BREAKER_WAIT_IN_OPEN, DEFAULT_BREAKER_WAIT_IN_OPEN))
                .shutdownTimeout(s.duration(ASYNC_SHUTDOWN_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT))
                .journalPath(s.string(ASYNC_JOURNAL_PATH, null))
                .journalFsyncInterval(s.duration(ASYNC_JOURNAL_FSYNC_INTERVAL, DEFAULT_JOURNAL_FSYNC_INTERVAL))
                .cacheRefreshAfter(s.duration(CHECK_CACHE_REFRESH_AFTER, DEFAULT_CACHE_REFRESH_AFTER))
                .cacheMaxSize(s.longValue(CHECK_CACHE_MAX_SIZE, DEFAULT_CACHE_MAX_SIZE))
                .policyRefreshAfter(s.duration(CHECK_CACHE_POLICY_REFRESH_AFTER, DEFAULT_POLICY_REFRESH_AFTER))
                .failMode(s.enumValue(CHECK_FAIL_MODE, DEFAULT_FAIL_MODE, FailMode.class))
                .strictThreshold(s.parse(CHECK_STRICT_THRESHOLD, DEFAULT_STRICT_THRESHOLD, StrictThreshold::parse,
                        StrictThreshold.ALLOWED))
                .storeUrl(s.string(STORE_URL, DEFAULT_STORE_URL))
                .storeUser(s.string(STORE_USER, ""))
                .storePassword(s.string(STORE_PASSWORD, ""))
                .schema(s.enumValue(STORE_SCHEMA, DEFAULT_SCHEMA, SchemaMode.class))
                .poolSize(s.intValue(STORE_POOL_SIZE, DEFAULT_POOL_SIZE))
                .connectTimeout(s.duration(STORE_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT))
                .queryTimeout(s.duration(STORE_QUERY_TIMEOUT, DEFAULT_QUERY_TIMEOUT))
                .batchRetention(s.duration(STORE_BATCH_RETENTION, DEFAULT_BATCH_RETENTION))
                .zone(s.string(ZONE, DEFAULT_ZONE.getId()))
                .defaultPlan(s.string(DEFAULT_PLAN, DEFAULT_PLAN_NAME))
                .metricsEnabled(s.bool(METRICS_ENABLED, true));
        s.asMap().forEach((key, value) -> {
            if (key.startsWith(PLANS_PREFIX)) {
                String rest = key.substring(PLANS_PREFIX.length());
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

    public Duration cacheRefreshAfter() {
        return cacheRefreshAfter;
    }

    public long cacheMaxSize() {
        return cacheMaxSize;
    }

    /** Age after which a subject's plan and overrides are re-read in the background. */
    public Duration policyRefreshAfter() {
        return policyRefreshAfter;
    }

    public FailMode failMode() {
        return failMode;
    }

    /** Below which remaining quota checks reserve in the store; {@link StrictThreshold#OFF} by default. */
    public StrictThreshold strictThreshold() {
        return strictThreshold;
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

    @Override
    public String toString() {
        return "TollgateConfig{async=" + asyncEnabled + ", workers=" + workers + ", channelCapacity="
                + channelCapacity + ", batchSize=" + batchSize + ", flushInterval=" + flushInterval
                + ", journal=" + (journalPath == null ? "off" : journalPath + " (fsync every "
                + Settings.format(journalFsyncInterval) + ")") + ", strictThreshold=" + strictThreshold
                + ", failMode=" + failMode + ", schema=" + schema + ", zone=" + zone
                + ", defaultPlan=" + defaultPlan + ", plans=" + plans + "}";
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
        private Duration cacheRefreshAfter = DEFAULT_CACHE_REFRESH_AFTER;
        private long cacheMaxSize = DEFAULT_CACHE_MAX_SIZE;
        private Duration policyRefreshAfter = DEFAULT_POLICY_REFRESH_AFTER;
        private FailMode failMode = DEFAULT_FAIL_MODE;
        private StrictThreshold strictThreshold = DEFAULT_STRICT_THRESHOLD;
        private String storeUrl = DEFAULT_STORE_URL;
        private String storeUser = "";
        private String storePassword = "";
        private SchemaMode schema = DEFAULT_SCHEMA;
        private int poolSize = DEFAULT_POOL_SIZE;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration queryTimeout = DEFAULT_QUERY_TIMEOUT;
        private Duration batchRetention = DEFAULT_BATCH_RETENTION;
        private ZoneId zone = DEFAULT_ZONE;
        private String defaultPlan = DEFAULT_PLAN_NAME;
        private final Map<String, Map<String, List<Limit>>> plans = new TreeMap<>();
        private boolean metricsEnabled = true;

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
            cacheRefreshAfter = c.cacheRefreshAfter;
            cacheMaxSize = c.cacheMaxSize;
            policyRefreshAfter = c.policyRefreshAfter;
            failMode = c.failMode;
            strictThreshold = c.strictThreshold;
            storeUrl = c.storeUrl;
            storeUser = c.storeUser;
            storePassword = c.storePassword;
            schema = c.schema;
            poolSize = c.poolSize;
            connectTimeout = c.connectTimeout;
            queryTimeout = c.queryTimeout;
            batchRetention = c.batchRetention;
            zone = c.zone;
            defaultPlan = c.defaultPlan;
            c.plans.forEach((plan, quotas) -> plans.put(plan, new TreeMap<>(quotas)));
            metricsEnabled = c.metricsEnabled;
        }

        /** {@code tollgate.async.enabled}: false writes each consumption synchronously. */
        public Builder asyncEnabled(boolean enabled) {
            this.asyncEnabled = enabled;
            return this;
        }

        /** {@code tollgate.async.workers}: batcher threads, 1 to 64. */
        public Builder workers(int workers) {
            this.workers = range(ASYNC_WORKERS, workers, 1, 64);
            return this;
        }

        /** {@code tollgate.async.channel-capacity}: records the channel holds, 16 to 16,777,216. */
        public Builder channelCapacity(int capacity) {
            this.channelCapacity = range(ASYNC_CHANNEL_CAPACITY, capacity, 16, 16_777_216);
            return this;
        }

        /** {@code tollgate.async.batch-size}: distinct keys per flush transaction, 1 to 100,000. */
        public Builder batchSize(int batchSize) {
            this.batchSize = range(ASYNC_BATCH_SIZE, batchSize, 1, 100_000);
            return this;
        }

        /** {@code tollgate.async.flush-interval}: longest time a record waits in memory, 1ms to 1h. */
        public Builder flushInterval(Duration interval) {
            this.flushInterval = range(ASYNC_FLUSH_INTERVAL, interval, Duration.ofMillis(1), Duration.ofHours(1));
            return this;
        }

        /** {@code tollgate.async.retry.max-attempts}: attempts per store write, 1 to 100. */
        public Builder retryMaxAttempts(int attempts) {
            this.retryMaxAttempts = range(ASYNC_RETRY_MAX_ATTEMPTS, attempts, 1, 100);
            return this;
        }

        /** {@code tollgate.async.retry.wait}: pause between attempts, 0 to 1 minute. */
        public Builder retryWait(Duration wait) {
            this.retryWait = range(ASYNC_RETRY_WAIT, wait, Duration.ZERO, Duration.ofMinutes(1));
            return this;
        }

        /** {@code tollgate.async.circuit-breaker.wait-in-open}: how long the breaker stays open, 10ms to 1h. */
        public Builder breakerWaitInOpen(Duration wait) {
            this.breakerWaitInOpen = range(ASYNC_BREAKER_WAIT_IN_OPEN, wait, Duration.ofMillis(10),
                    Duration.ofHours(1));
            return this;
        }

        /** {@code tollgate.async.shutdown-timeout}: deadline for close() to drain and flush, 0 to 10 min. */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = range(ASYNC_SHUTDOWN_TIMEOUT, timeout, Duration.ZERO, Duration.ofMinutes(10));
            return this;
        }

        /**
         * {@code tollgate.async.journal.path}: directory of the local journal, where consumption
         * is appended before it is queued and from which what was not written is replayed at
         * the next start; {@code null} or blank turns the journal off. The directory is created
         * when missing; one engine at a time may use it.
         */
        public Builder journalPath(String path) {
            if (path == null || path.isBlank()) {
                this.journalPath = null;
                return this;
            }
            try {
                this.journalPath = Path.of(path.trim());
            } catch (InvalidPathException e) {
                throw new InvalidConfigException(ASYNC_JOURNAL_PATH, path, "a directory path (" + e.getReason() + ")");
            }
            return this;
        }

        /** {@code tollgate.async.journal.path} as a path; {@code null} turns the journal off. */
        public Builder journalPath(Path path) {
            this.journalPath = path;
            return this;
        }

        /**
         * {@code tollgate.async.journal.fsync-interval}: how often new journal records are forced
         * to disk, 0 to 10s. 0 makes every consume wait until its record is on disk (group commit).
         */
        public Builder journalFsyncInterval(Duration interval) {
            this.journalFsyncInterval = range(ASYNC_JOURNAL_FSYNC_INTERVAL, interval, Duration.ZERO,
                    Duration.ofSeconds(10));
            return this;
        }

        /** {@code tollgate.check.cache.refresh-after}: age after which a cached usage is re-read, 10ms to 1d. */
        public Builder cacheRefreshAfter(Duration refresh) {
            this.cacheRefreshAfter = range(CHECK_CACHE_REFRESH_AFTER, refresh, Duration.ofMillis(10),
                    Duration.ofDays(1));
            return this;
        }

        /** {@code tollgate.check.cache.max-size}: cached keys, 100 to 100,000,000. */
        public Builder cacheMaxSize(long maxSize) {
            if (maxSize < 100 || maxSize > 100_000_000) {
                throw new InvalidConfigException(CHECK_CACHE_MAX_SIZE, maxSize, "a number from 100 to 100000000");
            }
            this.cacheMaxSize = maxSize;
            return this;
        }

        /**
         * {@code tollgate.check.cache.policy-refresh-after}: age after which a subject's plan and
         * overrides are re-read (changes made through this node apply at once), 100ms to 1d.
         */
        public Builder policyRefreshAfter(Duration refresh) {
            this.policyRefreshAfter = range(CHECK_CACHE_POLICY_REFRESH_AFTER, refresh, Duration.ofMillis(100),
                    Duration.ofDays(1));
            return this;
        }

        /** {@code tollgate.check.fail-mode}: open or closed. */
        public Builder failMode(FailMode mode) {
            this.failMode = Objects.requireNonNull(mode, CHECK_FAIL_MODE);
            return this;
        }

        /**
         * {@code tollgate.check.strict.threshold}: {@code 0} (off), units ({@code 100}) or a
         * percentage of the limit ({@code 10%}). When what is left of a limit is at or below
         * it, {@link Tollgate#reserve} reserves in the store atomically; {@code 100%} makes
         * every reservation strict.
         */
        public Builder strictThreshold(String threshold) {
            try {
                this.strictThreshold = StrictThreshold.parse(Objects.requireNonNull(threshold, CHECK_STRICT_THRESHOLD));
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(CHECK_STRICT_THRESHOLD, threshold, StrictThreshold.ALLOWED);
            }
            return this;
        }

        public Builder strictThreshold(StrictThreshold threshold) {
            this.strictThreshold = Objects.requireNonNull(threshold, CHECK_STRICT_THRESHOLD);
            return this;
        }

        /** {@code tollgate.store.url}: a {@code jdbc:h2:} or {@code jdbc:postgresql:} URL. */
        public Builder storeUrl(String url) {
            Objects.requireNonNull(url, STORE_URL);
            if (!url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:postgresql:")) {
                throw new InvalidConfigException(STORE_URL, url, "a jdbc:h2: or jdbc:postgresql: URL");
            }
            this.storeUrl = url;
            return this;
        }

        /** {@code tollgate.store.user}. */
        public Builder storeUser(String user) {
            this.storeUser = Objects.requireNonNull(user, STORE_USER);
            return this;
        }

        /** {@code tollgate.store.password}. */
        public Builder storePassword(String password) {
            this.storePassword = Objects.requireNonNull(password, STORE_PASSWORD);
            return this;
        }

        /** {@code tollgate.store.schema}: create, validate or none. */
        public Builder schema(SchemaMode mode) {
            this.schema = Objects.requireNonNull(mode, STORE_SCHEMA);
            return this;
        }

        /** {@code tollgate.store.pool-size}: connections in the pool Tollgate builds, 1 to 200. */
        public Builder poolSize(int size) {
            this.poolSize = range(STORE_POOL_SIZE, size, 1, 200);
            return this;
        }

        /** {@code tollgate.store.connect-timeout}: wait for a pooled connection, 250ms to 5 min. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = range(STORE_CONNECT_TIMEOUT, timeout, Duration.ofMillis(250),
                    Duration.ofMinutes(5));
            return this;
        }

        /** {@code tollgate.store.query-timeout}: longest a statement may run, 1s to 1h. */
        public Builder queryTimeout(Duration timeout) {
            this.queryTimeout = range(STORE_QUERY_TIMEOUT, timeout, Duration.ofSeconds(1), Duration.ofHours(1));
            return this;
        }

        /** {@code tollgate.store.batch-retention}: how long applied batch ids are kept, 1 min to 365 days. */
        public Builder batchRetention(Duration retention) {
            this.batchRetention = range(STORE_BATCH_RETENTION, retention, Duration.ofMinutes(1),
                    Duration.ofDays(365));
            return this;
        }

        /** {@code tollgate.zone}: time zone of calendar windows, e.g. UTC or Europe/Paris. */
        public Builder zone(String zoneId) {
            try {
                this.zone = ZoneId.of(Objects.requireNonNull(zoneId, ZONE));
            } catch (DateTimeException e) {
                throw new InvalidConfigException(ZONE, zoneId, "a time-zone id such as UTC or Europe/Paris");
            }
            return this;
        }

        public Builder zone(ZoneId zone) {
            this.zone = Objects.requireNonNull(zone, ZONE);
            return this;
        }

        /** {@code tollgate.default-plan}: plan of subjects with no assigned plan. */
        public Builder defaultPlan(String plan) {
            try {
                this.defaultPlan = Names.plan(plan);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(DEFAULT_PLAN, plan, Names.NAME.pattern());
            }
            return this;
        }

        /**
         * {@code tollgate.plans.<plan>.<quota>}: sets the limits of a quota in a plan,
         * e.g. {@code limit("free", "requests", "1000/day")} or {@code "10/minute,1000/day"}.
         */
        public Builder limit(String plan, String quota, String limits) {
            String key = PLANS_PREFIX + plan + "." + quota;
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
                        "<amount>/<period>[,<amount>/<period>...] with period minute, hour, day, month or total ("
                                + e.getMessage() + ")");
            }
            plans.computeIfAbsent(plan, p -> new TreeMap<>()).put(quota, parsed);
            return this;
        }

        /** Sets one limit of a quota in a plan. */
        public Builder limit(String plan, String quota, Limit limit) {
            return limit(plan, quota, limit.toString());
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
                throw new InvalidConfigException(DEFAULT_PLAN, defaultPlan,
                        "one of the configured plans " + plans.keySet());
            }
            return new TollgateConfig(this);
        }

        private static int range(String key, int value, int min, int max) {
            if (value < min || value > max) {
                throw new InvalidConfigException(key, value, "an integer from " + min + " to " + max);
            }
            return value;
        }

        private static Duration range(String key, Duration value, Duration min, Duration max) {
            Objects.requireNonNull(value, key);
            if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
                throw new InvalidConfigException(key, Settings.format(value), "a duration from " + Settings.format(min) + " to " + Settings.format(max));
            }
            return value;
        }
    }
}
