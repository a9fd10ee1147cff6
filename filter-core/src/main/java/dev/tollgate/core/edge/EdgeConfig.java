package dev.tollgate.core.edge;

import static dev.tollgate.core.config.ConfigKeys.*;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.config.Settings;
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
    public static final String DEFAULT_SUBJECT_HEADER = "X-API-Key";
    public static final long DEFAULT_COST_MAX = 1_000_000_000L;
    public static final String DEFAULT_ADMIN_PATH = "/tollgate";

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

    private final boolean enabled;
    private final Mode mode;
    private final SubjectSource subjectSource;
    private final String subjectHeader;
    private final boolean subjectRequired;
    private final String subjectResolver;
    private final boolean headersEnabled;
    private final StatusSet countedStatuses;
    private final long costMax;
    private final String adminToken;
    private final String adminPath;
    private final FailMode failMode;
    private final List<QuotaRule> rules;

    private EdgeConfig(Builder b) {
        enabled = b.enabled;
        mode = b.mode;
        subjectSource = b.subjectSource;
        subjectHeader = b.subjectHeader;
        subjectRequired = b.subjectRequired;
        subjectResolver = b.subjectResolver;
        headersEnabled = b.headersEnabled;
        countedStatuses = b.countedStatuses;
        costMax = b.costMax;
        adminToken = b.adminToken;
        adminPath = b.adminPath;
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
                .enabled(s.bool(ENABLED, true))
                .mode(s.enumValue(MODE, Mode.ENFORCE, Mode.class))
                .subjectSource(s.enumValue(SUBJECT_SOURCE, SubjectSource.HEADER, SubjectSource.class))
                .subjectHeader(s.string(SUBJECT_HEADER, DEFAULT_SUBJECT_HEADER))
                .subjectRequired(s.bool(SUBJECT_REQUIRED, true))
                .subjectResolver(s.string(SUBJECT_RESOLVER, null))
                .headersEnabled(s.bool(HEADERS_ENABLED, true))
                .countedStatuses(s.parse(COUNT_STATUSES, StatusSet.parse(StatusSet.DEFAULT), StatusSet::parse,
                        "comma-separated codes, classes and ranges, e.g. 1xx,2xx,3xx,4xx,!429"))
                .costMax(s.longValue(COST_MAX, DEFAULT_COST_MAX))
                .adminToken(s.string(ADMIN_TOKEN, null))
                .adminPath(s.string(ADMIN_PATH, DEFAULT_ADMIN_PATH))
                .failMode(s.has(CHECK_FAIL_MODE) ? s.enumValue(CHECK_FAIL_MODE, null, FailMode.class) : null);
        Map<String, Map<String, String>> rules = new TreeMap<>();
        s.asMap().forEach((key, value) -> {
            if (key.startsWith(RULES_PREFIX)) {
                String rest = key.substring(RULES_PREFIX.length());
                int dot = rest.lastIndexOf('.');
                if (dot <= 0 || !RULE_LEAVES.contains(rest.substring(dot + 1))) {
                    throw new InvalidConfigException(key, value,
                            "a key of the form tollgate.rules.<name>." + String.join("|", RULE_LEAVES));
                }
                rules.computeIfAbsent(rest.substring(0, dot), n -> new TreeMap<>()).put(rest.substring(dot + 1), value);
            }
        });
        rules.forEach((name, leaves) -> b.rule(rule(name, leaves)));
        return b.build();
    }

    private static QuotaRule rule(String name, Map<String, String> leaves) {
        String prefix = RULES_PREFIX + name + ".";
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
        int order;
        try {
            order = Integer.parseInt(leaves.getOrDefault("order", "0").trim());
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(prefix + "order", leaves.get("order"), "an integer");
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
        private boolean enabled = true;
        private Mode mode = Mode.ENFORCE;
        private SubjectSource subjectSource = SubjectSource.HEADER;
        private String subjectHeader = DEFAULT_SUBJECT_HEADER;
        private boolean subjectRequired = true;
        private String subjectResolver;
        private boolean headersEnabled = true;
        private StatusSet countedStatuses = StatusSet.parse(StatusSet.DEFAULT);
        private long costMax = DEFAULT_COST_MAX;
        private String adminToken;
        private String adminPath = DEFAULT_ADMIN_PATH;
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
            this.mode = Objects.requireNonNull(mode, MODE);
            return this;
        }

        /** {@code tollgate.subject.source}: header, principal or resolver. */
        public Builder subjectSource(SubjectSource source) {
            this.subjectSource = Objects.requireNonNull(source, SUBJECT_SOURCE);
            return this;
        }

        /** {@code tollgate.subject.header}: header holding the API key. */
        public Builder subjectHeader(String header) {
            if (header == null || !header.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                throw new InvalidConfigException(SUBJECT_HEADER, header, "an HTTP header name");
            }
            this.subjectHeader = header;
            return this;
        }

        /** {@code tollgate.subject.required}: answer 401 when a charged request has no subject. */
        public Builder subjectRequired(boolean required) {
            this.subjectRequired = required;
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
            this.countedStatuses = Objects.requireNonNull(statuses, COUNT_STATUSES);
            return this;
        }

        /** {@code tollgate.cost.max}: largest cost a response header may report, 1 to 10^15. */
        public Builder costMax(long max) {
            if (max < 1 || max > 1_000_000_000_000_000L) {
                throw new InvalidConfigException(COST_MAX, max, "a whole number from 1 to 1000000000000000");
            }
            this.costMax = max;
            return this;
        }

        /** {@code tollgate.admin.token}: bearer token of the admin API; unset disables it. */
        public Builder adminToken(String token) {
            if (token != null && !token.isEmpty() && token.length() < 16) {
                throw new InvalidConfigException(ADMIN_TOKEN, "****", "a token of at least 16 characters");
            }
            this.adminToken = token == null || token.isEmpty() ? null : token;
            return this;
        }

        /** {@code tollgate.admin.path}: where the admin API is mounted. */
        public Builder adminPath(String path) {
            if (path == null || !path.startsWith("/") || path.endsWith("/") && path.length() > 1) {
                throw new InvalidConfigException(ADMIN_PATH, path, "a path starting with / and not ending with /");
            }
            this.adminPath = path;
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
