package dev.tollgate.core.edge;

import dev.tollgate.core.Decision;
import dev.tollgate.core.FailMode;
import dev.tollgate.core.Names;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request-edge logic both adapters share, one call per phase of a request:
 * {@link #rule} (which rule meters it, if any), {@link #admit} (check every quota of the rule,
 * build the headers or the rejection) and, after the response, {@link #settle} (charge the
 * final costs once). Adapters only resolve the subject and translate their HTTP objects.
 *
 * <p>Requests under {@code tollgate.admin.path} are never metered. When the store cannot be
 * read, one fail mode decides: the edge's own ({@link EdgeConfig#failMode()}, e.g. a gateway
 * route's) when set, else the engine's {@code tollgate.check.fail-mode}. Thread-safe.
 */
public final class QuotaGate {
    private static final Logger LOG = LoggerFactory.getLogger(QuotaGate.class);
    /** Longest API key accepted in the subject header. */
    public static final int MAX_KEY_LENGTH = 512;

    private final Tollgate tollgate;
    private final EdgeConfig config;
    private final Clock clock;
    private final FailMode failMode;
    private final QuotaRule meRule;

    private final LongAdder admitted = new LongAdder();
    private final LongAdder passed = new LongAdder();
    private final LongAdder rejectedQuota = new LongAdder();
    private final LongAdder rejectedNoSubject = new LongAdder();
    private final LongAdder rejectedUnknownKey = new LongAdder();
    private final LongAdder rejectedBadSubject = new LongAdder();
    private final LongAdder rejectedStore = new LongAdder();
    private final LongAdder shadowDenied = new LongAdder();
    private final LongAdder malformedCost = new LongAdder();
    private final LongAdder notCharged = new LongAdder();
    private final LongAdder rejectedBadRequestId = new LongAdder();

    public QuotaGate(Tollgate tollgate, EdgeConfig config) {
        this(tollgate, config, Clock.systemUTC());
    }

    public QuotaGate(Tollgate tollgate, EdgeConfig config, Clock clock) {
        this.tollgate = tollgate;
        this.config = config;
        this.clock = clock;
        this.failMode = config.failMode() != null ? config.failMode() : tollgate.config().failMode();
        this.meRule = new QuotaRule("me", PathPattern.compile(config.adminPath() + "/me"), Set.of(),
                List.of(QuotaCost.parse(config.meQuota())), 0);
    }

    public EdgeConfig config() {
        return config;
    }

    public Tollgate tollgate() {
        return tollgate;
    }

    /**
     * The subject for the values of the API-key header: absent when there is none, refused
     * (400) when repeated, longer than {@value #MAX_KEY_LENGTH} characters or not visible
     * ASCII; otherwise the key's SHA-256 fingerprint (the raw key goes nowhere).
     */
    public SubjectResult subjectFromHeader(List<String> values) {
        if (values == null || values.isEmpty()) {
            return SubjectResult.absent();
        }
        String header = config.subjectHeader();
        if (values.size() > 1) {
            return SubjectResult.refused("The " + header + " header must appear once");
        }
        String v = values.get(0) == null ? "" : values.get(0).trim();
        if (v.isEmpty()) {
            return SubjectResult.absent();
        }
        if (v.length() > MAX_KEY_LENGTH) {
            return SubjectResult.refused("The " + header + " header is longer than " + MAX_KEY_LENGTH + " characters");
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return SubjectResult.refused("The " + header + " header may only hold visible ASCII characters");
            }
        }
        return SubjectResult.of(Subjects.apiKey(v));
    }

    /** The subject for a principal or resolver name; refused (400) when not a valid subject. */
    public SubjectResult subjectFromName(String name) {
        if (name == null || name.isBlank()) {
            return SubjectResult.absent();
        }
        try {
            return SubjectResult.of(Names.subject(name));
        } catch (IllegalArgumentException e) {
            return SubjectResult.refused("The caller's identity cannot be used as a quota subject: " + e.getMessage());
        }
    }

    /**
     * The rule {@code GET {admin}/me} is admitted by: 1 unit of {@code tollgate.admin.me-quota},
     * the caller identified, refused and answered exactly as for a metered request.
     */
    QuotaRule meRule() {
        return meRule;
    }

    /** The fail mode that decides requests whose usage cannot be read. */
    public FailMode failMode() {
        return failMode;
    }

    /**
     * The rule that meters a request, or {@code null} when none does: Tollgate is disabled,
     * the path is under {@code tollgate.admin.path}, or no rule matches (counted as passed
     * through). Adapters call it once per request and resolve the subject only when it
     * returns a rule.
     *
     * @param method the HTTP method
     * @param path   the request path within the application (normalized by the container)
     */
    public QuotaRule rule(String method, String path) {
        return rule(method, path, false);
    }

    /**
     * {@link #rule(String, String)} for a request that may be a CORS preflight: an
     * {@code OPTIONS} request with {@code Origin} and {@code Access-Control-Request-Method}
     * ({@link #isPreflight}) is never metered, even by a rule without methods; the browser
     * sends it on its own before the real request, which is metered.
     */
    public QuotaRule rule(String method, String path, boolean preflight) {
        if (!config.enabled()) {
            return null;
        }
        QuotaRule rule = underAdminPath(path) || preflight ? null : config.match(method, path);
        if (rule == null) {
            passed.increment();
        }
        return rule;
    }

    /**
     * Whether a request is a CORS preflight: method {@code OPTIONS} with an {@code Origin}
     * and an {@code Access-Control-Request-Method} header.
     */
    public static boolean isPreflight(String method, String origin, String accessControlRequestMethod) {
        return "OPTIONS".equalsIgnoreCase(method) && origin != null && accessControlRequestMethod != null;
    }

    /**
     * Whether {@link #admit} can decide for {@code subject} under {@code rule} without waiting
     * for the store: the key's registration (when keys must be registered) and every quota's
     * units are answered from this node's caches. Never blocks; the gateway decides on the
     * event loop when it is true.
     */
    public boolean decidesWithoutStore(String subject, QuotaRule rule) {
        if (config.keysRegistered() && !tollgate.isKeyCached(subject)) {
            return false;
        }
        for (QuotaCost cost : rule.costs()) {
            if (!tollgate.isCached(subject, cost.quota(), cost.fixed())) {
                return false;
            }
        }
        return true;
    }

    private boolean underAdminPath(String path) {
        String admin = config.adminPath();
        return path != null && path.startsWith(admin)
                && (path.length() == admin.length() || path.charAt(admin.length()) == '/');
    }

    /**
     * Decides a request before it runs: {@link #rule}, then {@link #admit(QuotaRule, String, String, SubjectResult)}.
     */
    public Admission admit(String method, String path, SubjectResult subject) {
        return admit(rule(method, path), method, path, subject);
    }

    /**
     * Decides a request before it runs.
     *
     * @param rule    the rule {@link #rule} returned for the request; {@code null} passes it through
     * @param method  the HTTP method
     * @param path    the request path within the application
     * @param subject who pays, from {@link #subjectFromHeader} or {@link #subjectFromName}
     */
    public Admission admit(QuotaRule rule, String method, String path, SubjectResult subject) {
        return admit(rule, method, path, subject, null);
    }

    /**
     * Decides a request before it runs, as {@link #admit(QuotaRule, String, String, SubjectResult)}
     * does, and charges it under the request id its {@code tollgate.idempotency.header} carries:
     * a request repeated with the same id (a client's retry) is served, and charged once per
     * subject and quota, however many nodes it reaches within {@code tollgate.idempotency.retention}.
     * A malformed id (repeated, longer than {@value Names#MAX_REQUEST_ID_LENGTH} characters, not
     * visible ASCII) is refused with 400 and nothing is taken.
     *
     * @param requestId the values of the idempotency header ({@code null} or empty when absent)
     */
    public Admission admit(QuotaRule rule, String method, String path, SubjectResult subject,
                           List<String> requestId) {
        if (rule == null) {
            return Admission.pass();
        }
        String id = null;
        if (requestId != null && !requestId.isEmpty()) {
            String header = config.idempotencyHeader();
            if (requestId.size() > 1) {
                rejectedBadRequestId.increment();
                return reject(Problem.badRequestId("The " + header + " header must appear once"), path, List.of(),
                        null, rule);
            }
            String v = requestId.get(0) == null ? "" : requestId.get(0).trim();
            // A structured-field string ("…", per the IETF draft) and a bare token name the same id.
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                v = v.substring(1, v.length() - 1);
            }
            if (!v.isEmpty()) {
                try {
                    id = Names.requestId(v);
                } catch (IllegalArgumentException e) {
                    rejectedBadRequestId.increment();
                    return reject(Problem.badRequestId("The " + header + " header is not a usable request id: "
                            + e.getMessage()), path, List.of(), null, rule);
                }
            }
        }
        if (subject.problem() != null) {
            rejectedBadSubject.increment();
            return reject(subject.problem(), path, List.of(), null, rule);
        }
        if (!subject.present()) {
            if (!config.subjectRequired()) {
                passed.increment();
                return Admission.pass();
            }
            rejectedNoSubject.increment();
            return reject(Problem.missingSubject(missingSubjectDetail()), path, List.of(wwwAuthenticate()), null,
                    rule);
        }
        String who = subject.subject();
        if (config.keysRegistered()) {
            Admission refused = unregistered(who, method, path, rule);
            if (refused != null) {
                return refused;
            }
        }
        List<Decision> decisions = new ArrayList<>(rule.costs().size());
        List<Reservation> reservations = new ArrayList<>(rule.costs().size());
        Decision denied = null;
        for (QuotaCost cost : rule.costs()) {
            // Takes the estimate from this node's allotment of every window, so requests in flight count.
            Reservation r = tollgate.reserve(who, cost.quota(), cost.fixed());
            reservations.add(r);
            Decision d = r.decision();
            decisions.add(d);
            boolean blocked = d.reason() == Decision.Reason.STORE_UNAVAILABLE ? failMode == FailMode.CLOSED
                    : !d.allowed();
            if (blocked) {
                denied = denied == null ? d : Decision.stricter(denied, d);
            }
        }
        Instant now = clock.instant();
        List<Map.Entry<String, String>> headers = rateLimitHeaders(decisions, now);
        if (denied != null) {
            if (config.mode() == EdgeConfig.Mode.SHADOW) {
                shadowDenied.increment();
                LOG.info("Shadow mode: would deny {} {} for subject {} ({} {}, limit {}, used {})", method, path, who,
                        denied.policy(), denied.reason(), denied.limit(), denied.used());
            } else if (denied.reason() == Decision.Reason.STORE_UNAVAILABLE) {
                release(reservations);
                rejectedStore.increment();
                long retry = Math.max(1, tollgate.config().breakerWaitInOpen().toSeconds());
                return reject(Problem.storeUnavailable("Quotas cannot be checked right now; retry later."), path,
                        List.of(Map.entry(RateLimitFields.RETRY_AFTER, Long.toString(retry))), who, rule);
            } else {
                release(reservations);
                rejectedQuota.increment();
                // Nothing is charged for a denied request: show what is left now, not after it.
                List<Map.Entry<String, String>> h = new ArrayList<>(rateLimitHeaders(uncharged(decisions), now));
                long retry = denied.secondsUntilReset(now);
                if (retry > 0) {
                    h.add(0, Map.entry(RateLimitFields.RETRY_AFTER, Long.toString(retry)));
                }
                Map<String, Object> ext = new LinkedHashMap<>();
                ext.put("policy", denied.policy());
                ext.put("quota", denied.quota());
                ext.put("limit", denied.limit());
                ext.put("used", denied.used());
                ext.put("remaining", denied.remaining());
                if (denied.resetAt() != null) {
                    ext.put("reset", denied.resetAt().toString());
                }
                String detail = "The " + denied.quota() + " quota of " + denied.limit() + " per "
                        + denied.period().label() + " is exhausted"
                        + (denied.resetAt() != null ? "; it resets at " + denied.resetAt() + "." : ".");
                return reject(Problem.quotaExceeded(detail, ext), path, h, who, rule, decisions);
            }
        }
        admitted.increment();
        return new Admission(Admission.Kind.ADMIT, 0, headers, null, who, rule, decisions, reservations, id);
    }

    /**
     * The answer to a key that is not registered ({@code tollgate.subject.unknown=reject}):
     * 401, or 503 while the store cannot tell whether it is (whatever the fail mode: a key
     * nobody can vouch for is never admitted); {@code null} for a registered key. Nothing is
     * reserved, so an unknown key costs no row. In shadow mode it passes, uncharged.
     */
    private Admission unregistered(String who, String method, String path, QuotaRule rule) {
        boolean registered;
        try {
            registered = tollgate.isRegisteredKey(who);
        } catch (TollgateException e) {
            rejectedStore.increment();
            long retry = Math.max(1, tollgate.config().breakerWaitInOpen().toSeconds());
            return reject(Problem.storeUnavailable("API keys cannot be checked right now; retry later."), path,
                    List.of(Map.entry(RateLimitFields.RETRY_AFTER, Long.toString(retry))), null, rule);
        }
        if (registered) {
            return null;
        }
        if (config.mode() == EdgeConfig.Mode.SHADOW) {
            shadowDenied.increment();
            LOG.info("Shadow mode: would refuse {} {} with an unregistered API key ({})", method, path, who);
            return Admission.pass();
        }
        rejectedUnknownKey.increment();
        return reject(Problem.unknownKey("The API key in the " + config.subjectHeader() + " header is not valid."),
                path, List.of(wwwAuthenticate()), null, rule);
    }

    /**
     * The challenge of a 401: {@code ApiKey realm="tollgate", header="X-API-Key"} for API keys
     * (naming the header to send), {@code Bearer realm="tollgate"} for principal and resolver
     * subjects.
     */
    public Map.Entry<String, String> wwwAuthenticate() {
        return Map.entry("WWW-Authenticate", config.subjectSource() == EdgeConfig.SubjectSource.HEADER
                ? "ApiKey realm=\"tollgate\", header=\"" + config.subjectHeader() + "\""
                : "Bearer realm=\"tollgate\"");
    }

    /** A rejected request is not charged: what was taken for its other quotas goes back. */
    private static void release(List<Reservation> reservations) {
        for (Reservation r : reservations) {
            try {
                r.release();
            } catch (IllegalStateException e) {
                LOG.error("Reservation not released because Tollgate is closed: {}", r);
            }
        }
    }

    private String missingSubjectDetail() {
        return switch (config.subjectSource()) {
            case HEADER -> "Send your API key in the " + config.subjectHeader() + " header.";
            case PRINCIPAL -> "Authenticate to use this API.";
            case RESOLVER -> "The request does not identify who pays for it.";
        };
    }

    private List<Map.Entry<String, String>> rateLimitHeaders(List<Decision> decisions, Instant now) {
        if (!config.headersEnabled()) {
            return List.of();
        }
        List<Map.Entry<String, String>> h = new ArrayList<>(2);
        String policy = RateLimitFields.policy(decisions);
        if (policy != null) {
            h.add(Map.entry(RateLimitFields.POLICY, policy));
            h.add(Map.entry(RateLimitFields.RATE_LIMIT, RateLimitFields.rateLimit(decisions, now)));
        }
        return h;
    }

    private static List<Decision> uncharged(List<Decision> decisions) {
        List<Decision> out = new ArrayList<>(decisions.size());
        for (Decision d : decisions) {
            out.add(!d.limited() ? d : new Decision(d.allowed(), d.reason(), d.quota(), d.period(), d.limit(), d.used(),
                    Math.max(0, d.limit() - d.used()), d.windowStart(), d.resetAt()));
        }
        return out;
    }

    private Admission reject(Problem p, String path, List<Map.Entry<String, String>> headers, String who,
                             QuotaRule rule) {
        return reject(p, path, headers, who, rule, List.of());
    }

    private Admission reject(Problem p, String path, List<Map.Entry<String, String>> headers, String who,
                             QuotaRule rule, List<Decision> decisions) {
        return new Admission(Admission.Kind.REJECT, p.status(), headers, p.toJson(path), who, rule, decisions,
                List.of());
    }

    /**
     * Charges an admitted request once its response is complete: each quota of its rule, at
     * its fixed cost or the cost in its response header. Only statuses in
     * {@code tollgate.count.statuses} are charged. Calling it again for the same admission
     * does nothing, so adapters may call it from every completion path.
     *
     * @param status         the response status
     * @param responseHeader the values of a response header, by name (empty list when absent)
     */
    public void settle(Admission admission, int status, Function<String, List<String>> responseHeader) {
        if (admission.kind() != Admission.Kind.ADMIT || !admission.settled.compareAndSet(false, true)) {
            return;
        }
        if (!config.countedStatuses().contains(status)) {
            notCharged.increment();
            release(admission.reservations);
            return;
        }
        List<QuotaCost> costs = admission.rule.costs();
        for (int i = 0; i < costs.size(); i++) {
            QuotaCost cost = costs.get(i);
            long amount = cost.fromResponse() ? costFromHeader(cost, responseHeader.apply(cost.costHeader()))
                    : cost.fixed();
            try {
                if (i < admission.reservations.size()) {
                    admission.reservations.get(i).settle(amount, admission.requestId);
                } else {
                    tollgate.consume(admission.subject, cost.quota(), amount, admission.requestId);
                }
            } catch (IllegalStateException e) {
                LOG.error("Usage not recorded because Tollgate is closed: subject={} quota={} amount={}",
                        admission.subject, cost.quota(), amount);
            }
        }
    }

    /**
     * The cost in a response header, or the estimate when the header is missing or malformed
     * (repeated, not a plain non-negative whole number), or {@code tollgate.cost.max} when it
     * reports more (the request was served: it is charged as much as a response may cost, not
     * as little as its estimate). A malformed or excessive one is logged and counted.
     */
    long costFromHeader(QuotaCost cost, List<String> values) {
        if (values == null || values.isEmpty()) {
            return cost.fixed();
        }
        String reason = null;
        long charged = cost.fixed();
        if (values.size() > 1) {
            reason = "repeated";
        } else {
            String v = values.get(0) == null ? "" : values.get(0).trim();
            if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                reason = "not a non-negative whole number";
            } else if (v.length() > 19 || Long.parseLong(v) > config.costMax()) {
                // More digits than a long holds is above any cost.max as well.
                reason = "above tollgate.cost.max (" + config.costMax() + ")";
                charged = config.costMax();
            } else {
                return Long.parseLong(v);
            }
        }
        malformedCost.increment();
        String shown = String.join(" | ", values).replaceAll("[^\\x20-\\x7e]", "?");
        LOG.warn("Malformed {} response header ({}): '{}'; charging {} of quota {}", cost.costHeader(), reason,
                shown.length() > 64 ? shown.substring(0, 64) + "..." : shown, charged, cost.quota());
        return charged;
    }

    /** The edge's counters, by name. */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("admitted", admitted.sum());
        m.put("passedThrough", passed.sum());
        m.put("rejectedQuota", rejectedQuota.sum());
        m.put("rejectedNoSubject", rejectedNoSubject.sum());
        m.put("rejectedUnknownKey", rejectedUnknownKey.sum());
        m.put("rejectedBadSubject", rejectedBadSubject.sum());
        m.put("rejectedStoreUnavailable", rejectedStore.sum());
        m.put("shadowDenied", shadowDenied.sum());
        m.put("malformedCost", malformedCost.sum());
        m.put("notCharged", notCharged.sum());
        m.put("rejectedBadRequestId", rejectedBadRequestId.sum());
        return m;
    }
}
