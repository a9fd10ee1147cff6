package dev.tollgate.core.config;

import static dev.tollgate.core.config.ConfigKey.edge;
import static dev.tollgate.core.config.ConfigKey.engine;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.Names;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.edge.EdgeConfig.Mode;
import dev.tollgate.core.edge.EdgeConfig.SubjectSource;
import dev.tollgate.core.edge.EdgeConfig.UnknownSubjects;
import dev.tollgate.core.edge.StatusSet;
import dev.tollgate.core.spi.UsageStoreProvider;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every configuration key Tollgate reads, described once: the keys with a fixed name, and
 * the two families {@code tollgate.plans.<plan>.<quota>} and
 * {@code tollgate.rules.<name>.<leaf>}. The engine ({@code TollgateConfig}) and the edge
 * ({@code EdgeConfig}) read their values through these descriptions; the Spring Boot module
 * generates its configuration metadata from them, and a test holds the README's reference
 * tables to them. Stateless and thread-safe.
 */
public final class TollgateKeys {
    /** Prefix of every key. */
    public static final String PREFIX = "tollgate.";
    /** Prefix of plan limits: {@code tollgate.plans.<plan>.<quota>=<amount>/<period>[,...]}. */
    public static final String PLANS_PREFIX = "tollgate.plans.";
    /** Prefix of edge rules: {@code tollgate.rules.<name>.path|methods|quotas|order}. */
    public static final String RULES_PREFIX = "tollgate.rules.";

    private static final Duration MS = Duration.ofMillis(1);

    // Engine

    public static final ConfigKey<String> DEFAULT_PLAN = engine("tollgate.default-plan",
            ValueType.text(s -> Names.NAME.matcher(s).matches(), Names.NAME.pattern()), "free",
            "Plan of subjects without an assignment; must be a configured plan when any plan is configured.");
    public static final ConfigKey<ZoneId> ZONE = engine("tollgate.zone",
            ValueType.of(ZoneId.class, ZoneId::of, ZoneId::getId, "a time-zone id such as UTC or Europe/Paris"),
            ZoneId.of("UTC"), "Time zone of the calendar windows (day, month).");
    public static final ConfigKey<Boolean> ASYNC_ENABLED = engine("tollgate.async.enabled", ValueType.bool(), true,
            "Whether usage is written in the background; false writes every consumption synchronously.");
    public static final ConfigKey<Integer> ASYNC_WORKERS = engine("tollgate.async.workers",
            ValueType.integer(1, 64), 2, "Batcher threads; each counter is always written by the same one.");
    public static final ConfigKey<Integer> ASYNC_CHANNEL_CAPACITY = engine("tollgate.async.channel-capacity",
            ValueType.integer(16, 16_777_216), 65_536,
            "Records the in-memory channel holds; when it is full, callers write synchronously.");
    public static final ConfigKey<Integer> ASYNC_BATCH_SIZE = engine("tollgate.async.batch-size",
            ValueType.integer(1, 100_000), 10_000, "Distinct counters per flush transaction.");
    public static final ConfigKey<Duration> ASYNC_FLUSH_INTERVAL = engine("tollgate.async.flush-interval",
            ValueType.duration(MS, Duration.ofHours(1)), Duration.ofMillis(500),
            "Longest time a record waits in memory before its flush.");
    public static final ConfigKey<Integer> ASYNC_RETRY_MAX_ATTEMPTS = engine("tollgate.async.retry.max-attempts",
            ValueType.integer(1, 100), 3, "Attempts per store write.");
    public static final ConfigKey<Duration> ASYNC_RETRY_WAIT = engine("tollgate.async.retry.wait",
            ValueType.duration(Duration.ZERO, Duration.ofMinutes(1)), Duration.ofMillis(100),
            "Pause between attempts.");
    public static final ConfigKey<Duration> ASYNC_BREAKER_WAIT_IN_OPEN = engine(
            "tollgate.async.circuit-breaker.wait-in-open", ValueType.duration(Duration.ofMillis(10), Duration.ofHours(1)),
            Duration.ofSeconds(5), "How long the store's circuit breaker stays open before it tries again.");
    public static final ConfigKey<Duration> ASYNC_SHUTDOWN_TIMEOUT = engine("tollgate.async.shutdown-timeout",
            ValueType.duration(Duration.ZERO, Duration.ofMinutes(10)), Duration.ofSeconds(10),
            "Deadline for shutdown to drain the channel and write what is left.");
    public static final ConfigKey<Path> ASYNC_JOURNAL_PATH = engine("tollgate.async.journal.path",
            ValueType.of(Path.class, TollgateKeys::path, Path::toString, "a directory path"), null,
            "Directory of the local crash journal; unset turns the journal off.").defaultLabel("— (off)");
    public static final ConfigKey<Duration> ASYNC_JOURNAL_FSYNC_INTERVAL = engine(
            "tollgate.async.journal.fsync-interval", ValueType.duration(Duration.ZERO, Duration.ofSeconds(10)),
            Duration.ofMillis(50), "How often new journal records are forced to disk; 0 waits for each.");
    public static final ConfigKey<Integer> ASYNC_DEFERRED_MAX_ENTRIES = engine("tollgate.async.deferred.max-entries",
            ValueType.integer(100, 100_000_000), 200_000,
            "Counters (subject, quota, window) of usage kept in memory while the store cannot take it; beyond it new"
                    + " counters' usage is dropped (counted, logged) and health says DEGRADED.");
    public static final ConfigKey<Long> ASYNC_JOURNAL_MAX_SIZE = engine("tollgate.async.journal.max-size",
            ValueType.wholeNumber(1L << 20, 1L << 50, "a number of bytes"), 1L << 30,
            "Bytes the journal's segments of this run may take on disk; beyond it usage is not journaled (counted,"
                    + " logged) and health says DEGRADED.");
    public static final ConfigKey<Long> CHECK_CACHE_MAX_SIZE = engine("tollgate.check.cache.max-size",
            ValueType.wholeNumber(100, 100_000_000, "a number"), 100_000L,
            "Counters (and subjects) kept in the cache.");
    public static final ConfigKey<Duration> CHECK_CACHE_POLICY_REFRESH_AFTER = engine(
            "tollgate.check.cache.policy-refresh-after", ValueType.duration(Duration.ofMillis(100), Duration.ofDays(1)),
            Duration.ofSeconds(30), "Age after which a subject's plan and overrides are re-read in the background.");
    public static final ConfigKey<Duration> SUBJECT_KEY_CACHE_TTL = engine("tollgate.subject.key-cache-ttl",
            ValueType.duration(Duration.ofMillis(100), Duration.ofHours(1)), Duration.ofSeconds(5),
            "How long a node trusts what it read about an API key: a key revoked (or issued) through another node is"
                    + " refused (or accepted) here at most this long later. Unknown keys are remembered as long, in a"
                    + " cache bounded by tollgate.check.cache.max-size.");
    public static final ConfigKey<FailMode> CHECK_FAIL_MODE = engine("tollgate.check.fail-mode",
            ValueType.enumeration(FailMode.class), FailMode.OPEN,
            "When the store cannot be read and nothing is cached: open allows, closed refuses (503 at the edge).");
    public static final ConfigKey<Duration> ALLOTMENT_EXPIRY = engine("tollgate.allotment.expiry",
            ValueType.duration(Duration.ofSeconds(1), Duration.ofHours(1)), Duration.ofSeconds(30),
            "How long units the store granted a node stay its own unless it uses them; a node that dies strands its"
                    + " unused units for at most this long.");
    public static final ConfigKey<Duration> ALLOTMENT_TARGET = engine("tollgate.allotment.target",
            ValueType.duration(Duration.ofMillis(10), Duration.ofMinutes(10)), Duration.ofSeconds(2),
            "How much of a counter's recent rate on a node one grant covers; near a limit grants shrink to a fair"
                    + " share of what is left, down to single units.");
    public static final ConfigKey<String> STORE_URL = engine("tollgate.store.url",
            ValueType.text(s -> s.startsWith("jdbc:h2:") || s.startsWith("jdbc:postgresql:")
                            || UsageStoreProvider.find(s).isPresent(),
                    "a jdbc:h2: or jdbc:postgresql: URL, or one a store provider on the class path accepts"
                            + " (redis://host:port or redis-cluster://host:port,host:port with tollgate-store-redis)"),
            "jdbc:h2:file:./tollgate-data/tollgate;DB_CLOSE_ON_EXIT=FALSE",
            "A jdbc:h2: or jdbc:postgresql: URL, or redis://… / redis-cluster://… with tollgate-store-redis on the"
                    + " class path; ignored when the application passes a DataSource.");
    public static final ConfigKey<String> STORE_USER = engine("tollgate.store.user", ValueType.text(), "",
            "Database user of the pool Tollgate builds.");
    public static final ConfigKey<String> STORE_PASSWORD = engine("tollgate.store.password", ValueType.text(), "",
            "Database password of the pool Tollgate builds.").secret();
    public static final ConfigKey<SchemaMode> STORE_SCHEMA = engine("tollgate.store.schema",
            ValueType.enumeration(SchemaMode.class), SchemaMode.CREATE,
            "create: create missing tables; validate: fail at start-up if one is missing; none: leave it alone.");
    public static final ConfigKey<Integer> STORE_POOL_SIZE = engine("tollgate.store.pool-size",
            ValueType.integer(1, 200), 4, "Connections in the pool Tollgate builds.");
    public static final ConfigKey<Duration> STORE_CONNECT_TIMEOUT = engine("tollgate.store.connect-timeout",
            ValueType.duration(Duration.ofMillis(250), Duration.ofMinutes(5)), Duration.ofSeconds(2),
            "Longest wait for a connection.");
    public static final ConfigKey<Duration> STORE_QUERY_TIMEOUT = engine("tollgate.store.query-timeout",
            ValueType.duration(Duration.ofSeconds(1), Duration.ofHours(1)), Duration.ofSeconds(10),
            "Longest a statement may run.");
    public static final ConfigKey<Duration> STORE_BATCH_RETENTION = engine("tollgate.store.batch-retention",
            ValueType.duration(Duration.ofMinutes(1), Duration.ofDays(365)), Duration.ofDays(1),
            "How long applied batch ids are kept (they make a retried flush a no-op).");
    public static final ConfigKey<Duration> STORE_RETENTION_MINUTE = retention("minute", Duration.ofDays(2));
    public static final ConfigKey<Duration> STORE_RETENTION_HOUR = retention("hour", Duration.ofDays(35));
    public static final ConfigKey<Duration> STORE_RETENTION_DAY = retention("day", Duration.ZERO);
    public static final ConfigKey<Duration> STORE_RETENTION_MONTH = retention("month", Duration.ZERO);
    public static final ConfigKey<Duration> IDEMPOTENCY_RETENTION = engine("tollgate.idempotency.retention",
            ValueType.duration(Duration.ofMinutes(1), Duration.ofDays(365)), Duration.ofDays(1),
            "How long a request id is remembered: a record with the same subject, quota and request id within it is"
                    + " charged once.");
    public static final ConfigKey<String> NOTIFY_THRESHOLDS = engine("tollgate.notify.thresholds",
            ValueType.text(TollgateKeys::thresholds, "percentages of a limit from 1% to 1000%, comma-separated, e.g."
                    + " 80%,100%; empty for none"), "80%,100%",
            "When a subject's usage of a limited window crosses one: a meter, a log line and the listeners, once per"
                    + " window.");
    public static final ConfigKey<String> EXPORT_URL = engine("tollgate.export.url",
            ValueType.text(s -> s.matches("(?i)https?://[^\\s]+") && s.length() <= 2000,
                    "an http:// or https:// URL; unset for no push export"), null,
            "Where closed windows are pushed (POST, application/cloudevents-batch+json); unset: no push export.");
    public static final ConfigKey<Integer> EXPORT_BATCH_SIZE = engine("tollgate.export.batch-size",
            ValueType.integer(1, 10_000), 500, "Most events per POST of the push export.");
    public static final ConfigKey<Duration> EXPORT_INTERVAL = engine("tollgate.export.interval",
            ValueType.duration(Duration.ofMillis(100), Duration.ofHours(1)), Duration.ofSeconds(30),
            "Pause between runs of the push export; a run delivers every closed window not yet delivered.");
    public static final ConfigKey<String> EXPORT_AUTH_HEADER = engine("tollgate.export.auth-header",
            ValueType.text(s -> !s.isBlank() && s.chars().allMatch(c -> c >= 0x20 && c < 0x7f),
                    "a header value of visible ASCII characters and spaces, e.g. Bearer <token>"), null,
            "Authorization header value of the push export's POSTs (never logged).").secret();
    public static final ConfigKey<Boolean> METRICS_ENABLED = engine("tollgate.metrics.enabled", ValueType.bool(), true,
            "Whether Micrometer meters are registered when Micrometer is present.");
    /** The family {@code tollgate.store.retention.<period>}: one key per calendar period. */
    private static ConfigKey<Duration> retention(String period, Duration dflt) {
        return engine("tollgate.store.retention." + period,
                ValueType.retention(Duration.ofMinutes(1), Duration.ofDays(36_500)), dflt,
                "How long usage rows of " + period + " windows are kept after their window ended; forever keeps"
                        + " them. Purged in chunks by the maintenance task; never a current window.");
    }

    /** The family {@code tollgate.plans.<plan>.<quota>}. */
    public static final ConfigKey<String> PLAN_LIMITS = engine(PLANS_PREFIX + "<plan>.<quota>",
            ValueType.text(s -> true, "<amount>/<period>[,<amount>/<period>...] with period minute, hour, day,"
                    + " month or total"), null,
            "Limits of a quota in a plan, e.g. 1000/day or 10/minute,1000/day.");

    // Edge

    public static final ConfigKey<Boolean> ENABLED = edge("tollgate.enabled", ValueType.bool(), true,
            "Whether requests are metered; false makes the filters pass every request through.");
    public static final ConfigKey<Mode> MODE = edge("tollgate.mode", ValueType.enumeration(Mode.class), Mode.ENFORCE,
            "enforce: deny requests over a limit; shadow: never deny, log and count what would have been denied.");
    public static final ConfigKey<SubjectSource> SUBJECT_SOURCE = edge("tollgate.subject.source",
            ValueType.enumeration(SubjectSource.class), SubjectSource.HEADER,
            "Who pays: header (an API key, stored as its SHA-256 fingerprint), principal or resolver.");
    public static final ConfigKey<String> SUBJECT_HEADER = edge("tollgate.subject.header",
            ValueType.text(s -> s.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+"), "an HTTP header name"), "X-API-Key",
            "Request header holding the API key.");
    public static final ConfigKey<UnknownSubjects> SUBJECT_UNKNOWN = edge("tollgate.subject.unknown",
            ValueType.enumeration(UnknownSubjects.class), UnknownSubjects.REJECT,
            "API keys Tollgate does not know: reject (401, no usage row; keys are registered through the admin API)"
                    + " or default-plan (any key is a subject on the default plan, for an authentication layer in"
                    + " front that already refuses unknown keys). Principal and resolver subjects are always known.");
    public static final ConfigKey<String> IDEMPOTENCY_HEADER = edge("tollgate.idempotency.header",
            ValueType.text(s -> s.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+"), "an HTTP header name"), "Idempotency-Key",
            "Request header holding the request id: a metered request repeated with the same value is charged once.");
    public static final ConfigKey<String> EXPORT_SOURCE = edge("tollgate.export.source",
            ValueType.text(s -> !s.isBlank() && s.length() <= 255 && s.chars().allMatch(c -> c > 0x20 && c < 0x7f),
                    "a URI-reference of 1 to 255 visible ASCII characters"), "tollgate",
            "CloudEvents source of exported usage: with the event id it identifies an event to a receiver.");
    public static final ConfigKey<Boolean> SUBJECT_REQUIRED = edge("tollgate.subject.required", ValueType.bool(), true,
            "Whether a metered request without a subject is answered 401 (else passed through uncharged).");
    public static final ConfigKey<String> SUBJECT_RESOLVER = edge("tollgate.subject.resolver", ValueType.text(), null,
            "The resolver of source resolver: a class name (servlet filter) or a bean name (Spring).");
    public static final ConfigKey<Boolean> HEADERS_ENABLED = edge("tollgate.headers.enabled", ValueType.bool(), true,
            "Whether responses carry the RateLimit-Policy and RateLimit fields.");
    public static final ConfigKey<StatusSet> COUNT_STATUSES = edge("tollgate.count.statuses",
            ValueType.of(StatusSet.class, StatusSet::parse, StatusSet::toString,
                    "comma-separated codes, classes and ranges, e.g. 1xx,2xx,3xx,4xx,!429"),
            StatusSet.parse(StatusSet.DEFAULT), "Response statuses that are charged: codes, classes, ranges, ! excludes.");
    public static final ConfigKey<Long> COST_MAX = edge("tollgate.cost.max",
            ValueType.wholeNumber(1, 1_000_000_000_000_000L, "a whole number"), 1_000_000_000L,
            "Largest cost a response header may report; a higher one is charged as this and counted as malformed.");
    public static final ConfigKey<String> ADMIN_TOKEN = edge("tollgate.admin.token",
            ValueType.text(s -> s.length() >= 16, "a token of at least 16 characters"), null,
            "Bearer token of the admin API (16 characters or more); unset disables its token routes.").secret();
    public static final ConfigKey<String> ADMIN_PATH = edge("tollgate.admin.path",
            ValueType.text(p -> p.startsWith("/") && !p.endsWith("/"),
                    "a path starting with / and not ending with /"), "/tollgate",
            "Where the admin API is served; requests under it are never metered.");
    public static final ConfigKey<String> ADMIN_ME_QUOTA = edge("tollgate.admin.me-quota",
            ValueType.text(s -> Names.NAME.matcher(s).matches(), Names.NAME.pattern()), "requests",
            "Quota each GET {admin}/me is charged 1 unit of, admitted like a metered request (the caller's key,"
                    + " 401, 429 and RateLimit fields as for the API); give it its own limits in the plans, e.g."
                    + " tollgate.plans.free.me=60/minute with tollgate.admin.me-quota=me.");
    public static final ConfigKey<String> CONFIG_FILE = edge("tollgate.config.file", ValueType.text(), null,
            "Properties file the servlet filter reads first: a file path or classpath:<resource>.").servletOnly();
    /** The family {@code tollgate.rules.<name>.path}. */
    public static final ConfigKey<String> RULE_PATH = edge(RULES_PREFIX + "<name>.path",
            ValueType.text(s -> true, "a path pattern starting with /, e.g. /api/**"), null,
            "Ant-style path pattern of a rule: /api/hello, /api/*, /api/**.");
    /** The family {@code tollgate.rules.<name>.methods}. */
    public static final ConfigKey<String> RULE_METHODS = edge(RULES_PREFIX + "<name>.methods", ValueType.text(), null,
            "HTTP methods of a rule, comma-separated; unset for all.").defaultLabel("all");
    /** The family {@code tollgate.rules.<name>.quotas}. */
    public static final ConfigKey<String> RULE_QUOTAS = edge(RULES_PREFIX + "<name>.quotas",
            ValueType.text(s -> true, "quota costs such as requests:1,tokens:X-Usage-Tokens"), null,
            "Costs of a rule: requests, requests:5, tokens:X-Usage-Tokens or tokens:X-Usage-Tokens:500.");
    /** The family {@code tollgate.rules.<name>.order}. */
    public static final ConfigKey<Integer> RULE_ORDER = edge(RULES_PREFIX + "<name>.order", ValueType.integer(), 0,
            "Rules are tried by ascending order, then by name; the first match applies.");

    private static final List<ConfigKey<?>> ALL = List.of(
            PLAN_LIMITS, DEFAULT_PLAN, ZONE, ASYNC_ENABLED, ASYNC_WORKERS, ASYNC_CHANNEL_CAPACITY, ASYNC_BATCH_SIZE,
            ASYNC_FLUSH_INTERVAL, ASYNC_RETRY_MAX_ATTEMPTS, ASYNC_RETRY_WAIT, ASYNC_BREAKER_WAIT_IN_OPEN,
            ASYNC_SHUTDOWN_TIMEOUT, ASYNC_JOURNAL_PATH, ASYNC_JOURNAL_FSYNC_INTERVAL, ASYNC_JOURNAL_MAX_SIZE,
            ASYNC_DEFERRED_MAX_ENTRIES, CHECK_CACHE_MAX_SIZE,
            CHECK_CACHE_POLICY_REFRESH_AFTER, SUBJECT_KEY_CACHE_TTL, CHECK_FAIL_MODE, ALLOTMENT_EXPIRY,
            ALLOTMENT_TARGET, STORE_URL, STORE_USER, STORE_PASSWORD, STORE_SCHEMA, STORE_POOL_SIZE,
            STORE_CONNECT_TIMEOUT, STORE_QUERY_TIMEOUT, STORE_BATCH_RETENTION, STORE_RETENTION_MINUTE,
            STORE_RETENTION_HOUR, STORE_RETENTION_DAY, STORE_RETENTION_MONTH, IDEMPOTENCY_RETENTION,
            NOTIFY_THRESHOLDS, EXPORT_URL, EXPORT_BATCH_SIZE, EXPORT_INTERVAL, EXPORT_AUTH_HEADER,
            METRICS_ENABLED,
            ENABLED, MODE, RULE_PATH, RULE_METHODS, RULE_QUOTAS, RULE_ORDER, SUBJECT_SOURCE, SUBJECT_HEADER,
            SUBJECT_UNKNOWN, SUBJECT_REQUIRED, SUBJECT_RESOLVER, IDEMPOTENCY_HEADER, EXPORT_SOURCE, HEADERS_ENABLED,
            COUNT_STATUSES, COST_MAX, ADMIN_TOKEN, ADMIN_PATH, ADMIN_ME_QUOTA, CONFIG_FILE);
    private static final Map<String, ConfigKey<?>> FIXED = fixed();
    /**
     * Keys Tollgate no longer reads, with what replaced them: setting one stops start-up, since
     * the behaviour it asked for is not what the engine does now.
     */
    public static final Map<String, String> RETIRED = Map.of(
            "tollgate.check.strict.threshold", "was removed: every limited counter is now decided from units the"
                    + " store granted this node (allotments), so limits hold exactly across nodes without a threshold;"
                    + " remove the setting (tollgate.allotment.* tunes the grants)",
            "tollgate.check.cache.refresh-after", "was removed: limited counters are no longer re-read on a timer;"
                    + " each node decides from its allotment, which its grants and writes keep current; remove the"
                    + " setting");
    /** Leaves of a rule, in the order they are documented: path, methods, quotas, order. */
    public static final List<String> RULE_LEAVES = List.of(leaf(RULE_PATH), leaf(RULE_METHODS), leaf(RULE_QUOTAS),
            leaf(RULE_ORDER));
    private static final Map<String, String> ENV_NAMES = envNames();

    private TollgateKeys() {
    }

    /** Every key, the families included, in the order of the reference tables (engine, then edge). */
    public static List<ConfigKey<?>> all() {
        return ALL;
    }

    /** The keys with a fixed name, by name. */
    public static Map<String, ConfigKey<?>> fixedKeys() {
        return FIXED;
    }

    /** Whether {@code key} is a family's pattern ({@code tollgate.rules.<name>.path}) rather than a name. */
    public static boolean isFamily(ConfigKey<?> key) {
        return key.name().contains("<");
    }

    /**
     * The description of a concrete key: a fixed key, or the family a plan limit or a rule
     * leaf belongs to; {@code null} for a key Tollgate does not read.
     */
    public static ConfigKey<?> describe(String key) {
        ConfigKey<?> fixed = FIXED.get(key);
        if (fixed != null || key == null) {
            return fixed;
        }
        if (key.startsWith(PLANS_PREFIX)) {
            String rest = key.substring(PLANS_PREFIX.length());
            int dot = rest.indexOf('.');
            return dot > 0 && dot < rest.length() - 1 ? PLAN_LIMITS : null;
        }
        if (key.startsWith(RULES_PREFIX)) {
            String rest = key.substring(RULES_PREFIX.length());
            int dot = rest.lastIndexOf('.');
            if (dot > 0) {
                String leaf = rest.substring(dot + 1);
                for (ConfigKey<?> k : List.of(RULE_PATH, RULE_METHODS, RULE_QUOTAS, RULE_ORDER)) {
                    if (leaf(k).equals(leaf)) {
                        return k;
                    }
                }
            }
        }
        return null;
    }

    /**
     * {@code url} as it may be shown in a log or a message: the password of a
     * {@code user:password@} part ({@code redis://user:secret@host}, {@code jdbc:postgresql://u:p@host/db})
     * and of a {@code password=} parameter ({@code ?password=…}, {@code ;password=…}) replaced by
     * {@code ****}. The one place such URLs are masked; {@code null} stays {@code null}.
     */
    public static String maskUrl(String url) {
        return url == null ? null : url.replaceAll("(?i)(password=)[^&;]*", "$1****")
                .replaceAll("(//[^/@:]*):[^/@]*@", "$1:****@");
    }

    /** Whether {@code key} is one Tollgate reads (fixed, a plan limit or a rule leaf). */
    public static boolean isKnown(String key) {
        return describe(key) != null;
    }

    /**
     * The key an environment variable sets, by relaxed name: {@code TOLLGATE_ASYNC_BATCH_SIZE}
     * or {@code TOLLGATE_ASYNC_BATCHSIZE} → {@code tollgate.async.batch-size};
     * {@code TOLLGATE_PLANS_FREE_API_CALLS} → {@code tollgate.plans.free.api_calls} (the plan
     * is one word, the rest is the quota, lower-cased); {@code TOLLGATE_RULES_CHAT_QUOTAS} →
     * {@code tollgate.rules.chat.quotas}. {@code null} when it names no key.
     */
    public static String keyOfEnvironmentVariable(String envName) {
        String fixed = ENV_NAMES.get(envName);
        if (fixed != null) {
            return fixed;
        }
        if (envName.startsWith("TOLLGATE_PLANS_")) {
            String rest = envName.substring("TOLLGATE_PLANS_".length());
            int us = rest.indexOf('_');
            if (us <= 0 || us == rest.length() - 1) {
                return null;
            }
            return PLANS_PREFIX + rest.substring(0, us).toLowerCase(Locale.ROOT) + "."
                    + rest.substring(us + 1).toLowerCase(Locale.ROOT);
        }
        if (envName.startsWith("TOLLGATE_RULES_")) {
            String rest = envName.substring("TOLLGATE_RULES_".length());
            int us = rest.lastIndexOf('_');
            if (us <= 0) {
                return null;
            }
            String leaf = rest.substring(us + 1).toLowerCase(Locale.ROOT);
            if (!RULE_LEAVES.contains(leaf)) {
                return null;
            }
            return RULES_PREFIX + rest.substring(0, us).toLowerCase(Locale.ROOT).replace('_', '-') + "." + leaf;
        }
        return null;
    }

    private static String leaf(ConfigKey<?> ruleKey) {
        return ruleKey.name().substring(ruleKey.name().lastIndexOf('.') + 1);
    }

    private static Path path(String text) {
        try {
            return Path.of(text.trim());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(e.getReason());
        }
    }

    private static Map<String, ConfigKey<?>> fixed() {
        Map<String, ConfigKey<?>> m = new LinkedHashMap<>();
        for (ConfigKey<?> k : ALL) {
            if (!isFamily(k) && m.put(k.name(), k) != null) {
                throw new IllegalStateException("two descriptions of " + k.name());
            }
        }
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, String> envNames() {
        Map<String, String> names = new LinkedHashMap<>();
        for (String key : FIXED.keySet()) {
            String upper = key.toUpperCase(Locale.ROOT).replace('.', '_');
            names.put(upper.replace('-', '_'), key);
            names.put(upper.replace("-", ""), key);
        }
        return names;
    }

    /** The names of the keys of one scope, in catalogue order (for messages and tests). */
    static List<String> names(ConfigKey.Scope scope) {
        List<String> out = new ArrayList<>();
        for (ConfigKey<?> k : ALL) {
            if (k.scope() == scope) {
                out.add(k.name());
            }
        }
        return out;
    }

    /** Whether {@code value} is a list of thresholds for {@link #NOTIFY_THRESHOLDS}. */
    private static boolean thresholds(String value) {
        try {
            parseThresholds(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The percentages of {@code tollgate.notify.thresholds}, ascending and distinct: {@code 80%,100%}
     * is {80, 100}; empty is none.
     *
     * @throws IllegalArgumentException when an item is not a percentage from 1% to 1000%
     */
    public static int[] parseThresholds(String value) {
        if (value == null || value.isBlank()) {
            return new int[0];
        }
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        for (String item : value.split(",")) {
            String t = item.trim();
            if (!t.matches("[0-9]{1,4}%")) {
                throw new IllegalArgumentException("'" + t + "' is not a percentage such as 80%");
            }
            int p = Integer.parseInt(t.substring(0, t.length() - 1));
            if (p < 1 || p > 1000) {
                throw new IllegalArgumentException("'" + t + "' is not from 1% to 1000%");
            }
            out.add(p);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
