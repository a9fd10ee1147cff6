package dev.tollgate.core.edge;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.config.TollgateKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Configuration of the request edge, shared by the servlet filter and the gateway filter:
 * rules, where the subject comes from, which statuses are charged, headers, shadow mode and
 * the admin token. Immutable; read with {@link #from(Settings)} or built with
 * {@link #custom()}.
 */
public final class EdgeConfig {
    public static final String DEFAULT_SUBJECT_HEADER = TollgateKeys.SUBJECT_HEADER.defaultValue();
    public static final long DEFAULT_COST_MAX = TollgateKeys.COST_MAX.defaultValue();
    public static final String DEFAULT_ADMIN_PATH = TollgateKeys.ADMIN_PATH.defaultValue();

    /** Enforce limits, or only log what would have been denied. */
    public enum Mode {
        ENFORCE, SHADOW
    }

    /** Where the subject (who pays) comes from. */
    public enum SubjectSource {
        /** An API key in a request header, stored as its SHA-256 fingerprint. */
        HEADER,
        /** The authenticated principal's name. */
        PRINCIPAL,
        /** A user-supplied resolver (a class for the servlet filter, a bean for the gateway). */
        RESOLVER
    }

    /** What becomes of an API key Tollgate does not know ({@code tollgate.subject.unknown}). */
    public enum UnknownSubjects {
        /** 401 with a problem body and {@code WWW-Authenticate}; no usage, no row. */
        REJECT,
        /** Any key is a subject on the default plan: an authentication layer in front refuses unknown keys. */
        DEFAULT_PLAN
    }

    private final boolean enabled;
    private final Mode mode;
    private final SubjectSource subjectSource;
    private final String subjectHeader;
    private final String idempotencyHeader;
    private final String exportSource;
    private final boolean subjectRequired;
    private final UnknownSubjects unknownSubjects;
    private final String subjectResolver;
    private final boolean headersEnabled;
    private final StatusSet countedStatuses;
    private final long costMax;
    private final String adminToken;
    private final String adminPath;
    private final String meQuota;
    private final FailMode failMode;
    private final List<QuotaRule> rules;

    private EdgeConfig(Builder b) {
        enabled = b.enabled;
        mode = b.mode;
        subjectSource = b.subjectSource;
        subjectHeader = b.subjectHeader;
        idempotencyHeader = b.idempotencyHeader;
        exportSource = b.exportSource;
        subjectRequired = b.subjectRequired;
        unknownSubjects = b.unknownSubjects;
        subjectResolver = b.subjectResolver;
        headersEnabled = b.headersEnabled;
        countedStatuses = b.countedStatuses;
        costMax = b.costMax;
        adminToken = b.adminToken;
        adminPath = b.adminPath;
        meQuota = b.meQuota;
        failMode = b.failMode;
        List<QuotaRule> sorted = new ArrayList<>(b.rules);
        sorted.sort(Comparator.comparingInt(QuotaRule::order).thenComparing(QuotaRule::name));
        rules = List.copyOf(sorted);
    }

    public static Builder custom() {
        return new Builder();
    }

    /**
     * Reads the edge keys.
     *
     * @throws InvalidConfigException naming the first bad key, its value and what is allowed
     */
    public static EdgeConfig from(Settings s) {
        Builder b = custom()
                .enabled(s.get(TollgateKeys.ENABLED))
                .mode(s.get(TollgateKeys.MODE))
                .subjectSource(s.get(TollgateKeys.SUBJECT_SOURCE))
                .subjectHeader(s.get(TollgateKeys.SUBJECT_HEADER))
                .idempotencyHeader(s.get(TollgateKeys.IDEMPOTENCY_HEADER))
                .exportSource(s.get(TollgateKeys.EXPORT_SOURCE))
                .subjectRequired(s.get(TollgateKeys.SUBJECT_REQUIRED))
                .unknownSubjects(s.get(TollgateKeys.SUBJECT_UNKNOWN))
                .subjectResolver(s.get(TollgateKeys.SUBJECT_RESOLVER))
                .headersEnabled(s.get(TollgateKeys.HEADERS_ENABLED))
                .countedStatuses(s.get(TollgateKeys.COUNT_STATUSES))
                .costMax(s.get(TollgateKeys.COST_MAX))
                .adminToken(s.get(TollgateKeys.ADMIN_TOKEN))
                .adminPath(s.get(TollgateKeys.ADMIN_PATH))
                .meQuota(s.get(TollgateKeys.ADMIN_ME_QUOTA))
                // Set here only when configured: unset, the engine's fail mode applies.
                .failMode(s.has(TollgateKeys.CHECK_FAIL_MODE.name()) ? s.get(TollgateKeys.CHECK_FAIL_MODE) : null);
        Map<String, Map<String, String>> rules = new TreeMap<>();
        s.asMap().forEach((key, value) -> {
            if (key.startsWith(TollgateKeys.RULES_PREFIX)) {
                String rest = key.substring(TollgateKeys.RULES_PREFIX.length());
                int dot = rest.lastIndexOf('.');
                if (dot <= 0 || !TollgateKeys.RULE_LEAVES.contains(rest.substring(dot + 1))) {
                    throw new InvalidConfigException(key, value,
                            "a key of the form tollgate.rules.<name>." + String.join("|", TollgateKeys.RULE_LEAVES));
                }
                rules.computeIfAbsent(rest.substring(0, dot), n -> new TreeMap<>()).put(rest.substring(dot + 1), value);
            }
        });
        rules.forEach((name, leaves) -> b.rule(rule(name, leaves)));
        return b.build();
    }

    private static QuotaRule rule(String name, Map<String, String> leaves) {
        String prefix = TollgateKeys.RULES_PREFIX + name + ".";
        String path = leaves.get("path");
        if (path == null || path.isBlank()) {
            throw new InvalidConfigException(prefix + "path", "", "a path pattern such as /api/** (every rule needs one)");
        }
        PathPattern pattern;
        try {
            pattern = PathPattern.compile(path);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(prefix + "path", path, "a path pattern starting with /, e.g. /api/**");
        }
        Set<String> methods = new LinkedHashSet<>();
        String m = leaves.getOrDefault("methods", "");
        for (String method : m.split(",")) {
            if (!method.isBlank()) {
                if (!method.trim().matches("[A-Za-z]+")) {
                    throw new InvalidConfigException(prefix + "methods", m, "HTTP methods separated by commas, e.g. GET,POST");
                }
                methods.add(method.trim());
            }
        }
        String q = leaves.get("quotas");
        if (q == null || q.isBlank()) {
            throw new InvalidConfigException(prefix + "quotas", "", "quota costs such as requests:1,tokens:X-Usage-Tokens");
        }
        List<QuotaCost> costs;
        try {
            costs = QuotaCost.parseList(q);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(prefix + "quotas", q,
                    "quota[:cost] or quota:Header-Name[:estimate], separated by commas (" + e.getMessage() + ")");
        }
        int order = TollgateKeys.RULE_ORDER.defaultValue();
        String o = leaves.get("order");
        if (o != null && !o.isBlank()) {
            try {
                order = Integer.parseInt(o.trim());
            } catch (NumberFormatException e) {
                throw new InvalidConfigException(prefix + "order", o, TollgateKeys.RULE_ORDER.type().allowed());
            }
        }
        return new QuotaRule(name, pattern, methods, costs, order);
    }

    public boolean enabled() {
        return enabled;
    }

    public Mode mode() {
        return mode;
    }

    public SubjectSource subjectSource() {
        return subjectSource;
    }

    public String subjectHeader() {
        return subjectHeader;
    }

    public boolean subjectRequired() {
        return subjectRequired;
    }

    /**
     * What becomes of an API key the store does not hold; applies to source {@code header}
     * only (principal and resolver subjects are known by definition).
     */
    public UnknownSubjects unknownSubjects() {
        return unknownSubjects;
    }

    /** Whether API keys must be registered: source {@code header} and {@code tollgate.subject.unknown=reject}. */
    public boolean keysRegistered() {
        return subjectSource == SubjectSource.HEADER && unknownSubjects == UnknownSubjects.REJECT;
    }

    /** {@code tollgate.idempotency.header}: the request header holding the request id. */
    public String idempotencyHeader() {
        return idempotencyHeader;
    }

    /** {@code tollgate.export.source}: the CloudEvents {@code source} of exported usage. */
    public String exportSource() {
        return exportSource;
    }

    /** Class name of the subject resolver, or {@code null}. */
    public String subjectResolver() {
        return subjectResolver;
    }

    public boolean headersEnabled() {
        return headersEnabled;
    }

    public StatusSet countedStatuses() {
        return countedStatuses;
    }

    public long costMax() {
        return costMax;
    }

    /** The admin bearer token, or {@code null} when the admin API is disabled. */
    public String adminToken() {
        return adminToken;
    }

    public String adminPath() {
        return adminPath;
    }

    /** The quota each {@code GET {admin}/me} is charged 1 unit of ({@code tollgate.admin.me-quota}). */
    public String meQuota() {
        return meQuota;
    }

    /**
     * The fail mode applied to checks that could not read the store, or {@code null} to keep
     * the engine's ({@code tollgate.check.fail-mode}). Set on its own only where one engine
     * serves edges that need different fail modes (a gateway route).
     */
    public FailMode failMode() {
        return failMode;
    }

    /** Rules in the order they are tried. */
    public List<QuotaRule> rules() {
        return rules;
    }

    /** The first rule that matches, or {@code null}. */
    public QuotaRule match(String method, String path) {
        for (QuotaRule r : rules) {
            if (r.matches(method, path)) {
                return r;
            }
        }
        return null;
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private boolean enabled = TollgateKeys.ENABLED.defaultValue();
        private Mode mode = TollgateKeys.MODE.defaultValue();
        private SubjectSource subjectSource = TollgateKeys.SUBJECT_SOURCE.defaultValue();
        private String subjectHeader = TollgateKeys.SUBJECT_HEADER.defaultValue();
        private String idempotencyHeader = TollgateKeys.IDEMPOTENCY_HEADER.defaultValue();
        private String exportSource = TollgateKeys.EXPORT_SOURCE.defaultValue();
        private boolean subjectRequired = TollgateKeys.SUBJECT_REQUIRED.defaultValue();
        private UnknownSubjects unknownSubjects = TollgateKeys.SUBJECT_UNKNOWN.defaultValue();
        private String subjectResolver;
        private boolean headersEnabled = TollgateKeys.HEADERS_ENABLED.defaultValue();
        private StatusSet countedStatuses = TollgateKeys.COUNT_STATUSES.defaultValue();
        private long costMax = TollgateKeys.COST_MAX.defaultValue();
        private String adminToken;
        private String adminPath = TollgateKeys.ADMIN_PATH.defaultValue();
        private String meQuota = TollgateKeys.ADMIN_ME_QUOTA.defaultValue();
        private FailMode failMode;
        private final List<QuotaRule> rules = new ArrayList<>();

        private Builder() {
        }

        /** {@code tollgate.enabled}: false makes the filter a pass-through. */
        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        /** {@code tollgate.mode}: enforce, or shadow (never deny, log what would be denied). */
        public Builder mode(Mode mode) {
            this.mode = TollgateKeys.MODE.check(mode);
            return this;
        }

        /** {@code tollgate.subject.source}: header, principal or resolver. */
        public Builder subjectSource(SubjectSource source) {
            this.subjectSource = TollgateKeys.SUBJECT_SOURCE.check(source);
            return this;
        }

        /** {@code tollgate.subject.header}: header holding the API key. */
        public Builder subjectHeader(String header) {
            if (header == null) {
                throw new InvalidConfigException(TollgateKeys.SUBJECT_HEADER.name(), null, "an HTTP header name");
            }
            this.subjectHeader = TollgateKeys.SUBJECT_HEADER.check(header);
            return this;
        }

        /**
         * {@code tollgate.idempotency.header}: the request header holding the request id; a
         * metered request repeated with the same value is charged once.
         */
        public Builder idempotencyHeader(String header) {
            if (header == null) {
                throw new InvalidConfigException(TollgateKeys.IDEMPOTENCY_HEADER.name(), null, "an HTTP header name");
            }
            this.idempotencyHeader = TollgateKeys.IDEMPOTENCY_HEADER.check(header);
            return this;
        }

        /** {@code tollgate.export.source}: the CloudEvents {@code source} of exported usage. */
        public Builder exportSource(String source) {
            if (source == null) {
                throw new InvalidConfigException(TollgateKeys.EXPORT_SOURCE.name(), null,
                        TollgateKeys.EXPORT_SOURCE.type().allowed());
            }
            this.exportSource = TollgateKeys.EXPORT_SOURCE.check(source);
            return this;
        }

        /** {@code tollgate.subject.required}: answer 401 when a charged request has no subject. */
        public Builder subjectRequired(boolean required) {
            this.subjectRequired = required;
            return this;
        }

        /** {@code tollgate.subject.unknown}: reject unknown API keys, or put them on the default plan. */
        public Builder unknownSubjects(UnknownSubjects unknown) {
            this.unknownSubjects = TollgateKeys.SUBJECT_UNKNOWN.check(unknown);
            return this;
        }

        /** {@code tollgate.subject.resolver}: class name of a resolver (servlet filter). */
        public Builder subjectResolver(String className) {
            this.subjectResolver = className == null || className.isBlank() ? null : className.trim();
            return this;
        }

        /** {@code tollgate.headers.enabled}: send RateLimit-Policy and RateLimit fields. */
        public Builder headersEnabled(boolean enabled) {
            this.headersEnabled = enabled;
            return this;
        }

        /** {@code tollgate.count.statuses}: which response statuses are charged. */
        public Builder countedStatuses(StatusSet statuses) {
            this.countedStatuses = TollgateKeys.COUNT_STATUSES.check(statuses);
            return this;
        }

        /** {@code tollgate.cost.max}: largest cost a response header may report, 1 to 10^15. */
        public Builder costMax(long max) {
            this.costMax = TollgateKeys.COST_MAX.check(max);
            return this;
        }

        /** {@code tollgate.admin.token}: bearer token of the admin API; unset disables it. */
        public Builder adminToken(String token) {
            this.adminToken = token == null || token.isEmpty() ? null : TollgateKeys.ADMIN_TOKEN.check(token);
            return this;
        }

        /** {@code tollgate.admin.path}: where the admin API is mounted. */
        public Builder adminPath(String path) {
            if (path == null) {
                throw new InvalidConfigException(TollgateKeys.ADMIN_PATH.name(), null,
                        TollgateKeys.ADMIN_PATH.type().allowed());
            }
            this.adminPath = TollgateKeys.ADMIN_PATH.check(path);
            return this;
        }

        /** {@code tollgate.admin.me-quota}: the quota each {@code GET {admin}/me} is charged 1 unit of. */
        public Builder meQuota(String quota) {
            if (quota == null) {
                throw new InvalidConfigException(TollgateKeys.ADMIN_ME_QUOTA.name(), null,
                        TollgateKeys.ADMIN_ME_QUOTA.type().allowed());
            }
            this.meQuota = TollgateKeys.ADMIN_ME_QUOTA.check(quota);
            return this;
        }

        /** {@code tollgate.check.fail-mode} at the edge: open, closed, or {@code null} for the engine's. */
        public Builder failMode(FailMode mode) {
            this.failMode = mode;
            return this;
        }

        public Builder rule(QuotaRule rule) {
            for (QuotaRule r : rules) {
                if (r.name().equals(rule.name())) {
                    throw new IllegalArgumentException("two rules are named '" + rule.name() + "'");
                }
            }
            rules.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /** Adds a rule: {@code rule("chat", "/api/chat", "POST", "requests:1,tokens:X-Usage-Tokens")}. */
        public Builder rule(String name, String path, String methods, String costs) {
            Set<String> m = new HashSet<>();
            if (methods != null && !methods.isBlank()) {
                m.addAll(Arrays.asList(methods.split(",")));
            }
            return rule(new QuotaRule(name, PathPattern.compile(path), m, QuotaCost.parseList(costs), 0));
        }

        public EdgeConfig build() {
            return new EdgeConfig(this);
        }
    }
}
