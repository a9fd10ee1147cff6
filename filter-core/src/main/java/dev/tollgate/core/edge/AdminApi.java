package dev.tollgate.core.edge;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Health;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Names;
import dev.tollgate.core.QuotaUsage;
import dev.tollgate.core.Stats;
import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.internal.format.Json;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin and self-service API, independent of any HTTP stack: an adapter passes the
 * method, the path below where it mounts the API, the {@code Authorization} header and the
 * body, and writes back the {@link Response}. Thread-safe.
 *
 * <p>Routes (paths relative to the mount point, e.g. {@code /tollgate}); every answer is JSON,
 * errors are {@code application/problem+json}:
 * <table>
 * <caption>Admin API</caption>
 * <tr><th>method and path</th><th>does</th></tr>
 * <tr><td>{@code GET /me}</td><td>self-service: the caller's own plan and, per limit, window,
 *     used, limit, remaining and reset, as this node sees them (no store read per call); the
 *     caller identified and admitted exactly as for a metered request of 1 unit of
 *     {@code tollgate.admin.me-quota} (its {@code X-API-Key}; 401, 429 and RateLimit fields
 *     alike), so it is metered and counts itself; needs no admin token</td></tr>
 * <tr><td>{@code GET /health}</td><td>the engine's health (200, or 503 when DOWN)</td></tr>
 * <tr><td>{@code GET /stats}</td><td>engine counters and edge counters</td></tr>
 * <tr><td>{@code GET /subjects/{subject}}</td><td>a subject's plan and, per quota limit,
 *     window, used, stored, limit, remaining and reset</td></tr>
 * <tr><td>{@code PUT /subjects/{subject}/plan}</td><td>body {@code {"plan":"pro"}}: assign a
 *     configured plan</td></tr>
 * <tr><td>{@code PUT /subjects/{subject}/limits/{quota}}</td><td>body
 *     {@code {"limit":"100/day"}} (or {@code "10/minute,1000/day"}): replace the subject's
 *     overrides of that quota, in one store transaction; they replace the plan's limits of the quota</td></tr>
 * <tr><td>{@code DELETE /subjects/{subject}/limits/{quota}}</td><td>remove the overrides, so
 *     the plan's limits apply again</td></tr>
 * <tr><td>{@code POST /flush}</td><td>write all pending usage to the store now: 200
 *     {@code {"flushed":true}} when all of it is in the store, 202 {@code {"flushed":false,…}} when
 *     it is not after {@link #FLUSH_DEADLINE} (or the store does not take it); it stays queued</td></tr>
 * <tr><td>{@code POST /keys}</td><td>body {@code {"plan":"free"}} (both members optional, plus
 *     {@code "name"}, a label): issue a new API key, answered 201 with
 *     {@code {"key":"tg_…","subject":"key:…","plan":"free"}}, the only time the key is shown
 *     (256 bits from {@link SecureRandom}, URL-safe); or body
 *     {@code {"fingerprint":"<sha-256 hex of the key>","plan":"free"}}: register a key the
 *     caller already holds, by its fingerprint (201 without {@code key})</td></tr>
 * <tr><td>{@code DELETE /keys/{subject}}</td><td>revoke a key (refused on this node at once, on
 *     every node within {@code tollgate.subject.key-cache-ttl}); 404 when not registered</td></tr>
 * <tr><td>{@code GET /usage?from=…&to=…[&subject=…][&period=…]}</td><td>closed windows as
 *     newline-delimited CloudEvents, a page at a time ({@link UsageExport})</td></tr>
 * <tr><td>{@code GET /subjects/{subject}/usage?from=…&to=…[&period=…]}</td><td>a subject's
 *     windows (usage history)</td></tr>
 * <tr><td>{@code GET /me/usage?from=…&to=…[&period=…]}</td><td>self-service: the caller's own
 *     windows, the caller identified as for {@code /me}</td></tr>
 * </table>
 *
 * <p>Every route but {@code /me} needs {@code Authorization: Bearer <tollgate.admin.token>}:
 * no or a non-bearer credential is answered with 401, a wrong token with 403. The token is
 * compared in constant time and never logged. Without a configured token those routes
 * answer 404. Request bodies are flat JSON objects of at most
 * {@value #MAX_BODY_BYTES} bytes (else 413); unknown members are refused with 400.
 * Subjects are given as they are stored ({@code key:<sha-256>} for API keys, which
 * {@code GET /me} shows); adapters pass the path URL-decoded.
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

    /** Largest request body accepted, in bytes. */
    public static final int MAX_BODY_BYTES = 16 * 1024;
    /** How long {@code POST /flush} waits for the usage to be written before it answers 202. */
    public static final Duration FLUSH_DEADLINE = Duration.ofSeconds(10);

    /** Content type of successful answers. */
    public static final String JSON = "application/json";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final QuotaGate gate;
    private final Supplier<Map<String, Long>> edgeStats;
    private final Tollgate tollgate;
    private final byte[] tokenDigest;
    private final Duration flushDeadline;
    private final UsageExport export;

    /** An API over the gate's engine, protected by the gate's {@code tollgate.admin.token}. */
    public AdminApi(QuotaGate gate) {
        this(gate, gate::stats);
    }

    /**
     * An API over the gate's engine, whose {@code GET /stats} shows {@code edgeStats} as the
     * edge's counters (the sum over several gates, e.g. one per gateway route).
     */
    public AdminApi(QuotaGate gate, Supplier<Map<String, Long>> edgeStats) {
        this(gate, edgeStats, FLUSH_DEADLINE);
    }

    /** As {@link #AdminApi(QuotaGate, Supplier)}, with {@code POST /flush} waiting at most {@code flushDeadline}. */
    public AdminApi(QuotaGate gate, Supplier<Map<String, Long>> edgeStats, Duration flushDeadline) {
        this.flushDeadline = Objects.requireNonNull(flushDeadline, "flushDeadline");
        this.gate = Objects.requireNonNull(gate, "gate");
        this.edgeStats = Objects.requireNonNull(edgeStats, "edgeStats");
        this.tollgate = gate.tollgate();
        String token = gate.config().adminToken();
        this.tokenDigest = token == null ? null : sha256(token);
        this.export = new UsageExport(tollgate, gate.config().exportSource());
    }

    /** Whether the token-protected routes are enabled (a token is configured). */
    public boolean enabled() {
        return tokenDigest != null;
    }

    /** What to send back: status, extra header fields, content type and body. */
    public record Response(int status, List<Map.Entry<String, String>> headers, String contentType, String body) {
        public Response {
            headers = List.copyOf(headers);
        }
    }

    /**
     * Handles one request.
     *
     * @param method        the HTTP method
     * @param path          the path below the mount point, URL-decoded; {@code null} or empty is {@code /}
     * @param authorization the {@code Authorization} header, or {@code null}
     * @param body          the request body, or {@code null}; the adapter bounds it to {@value #MAX_BODY_BYTES} bytes
     * @param caller        resolves the caller as a metered request would (only {@code GET /me} calls it)
     */
    public Response handle(String method, String path, String authorization, String body,
                           Supplier<SubjectResult> caller) {
        return handle(method, path, null, authorization, body, caller);
    }

    /**
     * Handles one request whose URL had a query string (the usage routes read it).
     *
     * @param query the raw, still URL-encoded query string, or {@code null}
     * @see #handle(String, String, String, String, Supplier)
     */
    public Response handle(String method, String path, String query, String authorization, String body,
                           Supplier<SubjectResult> caller) {
        String m = method == null ? "" : method.toUpperCase(Locale.ROOT);
        String p = path == null || path.isEmpty() ? "/" : path;
        if (body != null && (body.length() > MAX_BODY_BYTES
                || body.getBytes(StandardCharsets.UTF_8).length > MAX_BODY_BYTES)) {
            return problem(413, "Content Too Large", "Admin request bodies are limited to " + MAX_BODY_BYTES
                    + " bytes.");
        }
        List<String> seg = segments(p);
        try {
            if (seg.equals(List.of("me"))) {
                return allow(m, Set.of("GET")) ? me(m, caller) : notAllowed("GET");
            }
            if (seg.equals(List.of("me", "usage"))) {
                return allow(m, Set.of("GET")) ? myUsage(caller.get(), query) : notAllowed("GET");
            }
            if (tokenDigest == null) {
                return problem(404, "Not Found", "The admin API is disabled: set tollgate.admin.token to enable it.");
            }
            Response denied = authorize(authorization);
            if (denied != null) {
                return denied;
            }
            return route(m, seg, query, body);
        } catch (IllegalArgumentException e) {
            return problem(400, "Bad Request", e.getMessage());
        } catch (TollgateException e) {
            LOG.warn("Admin request {} {} failed: {}", m, p, e.getMessage());
            return problem(503, "Service Unavailable", "The quota store cannot be reached; retry later.");
        }
    }

    private Response route(String m, List<String> seg, String query, String body) {
        if (seg.equals(List.of("usage"))) {
            return allow(m, Set.of("GET")) ? export.export(UsageExport.query(query, null), "usage", query)
                    : notAllowed("GET");
        }
        if (seg.equals(List.of("health"))) {
            return allow(m, Set.of("GET")) ? health() : notAllowed("GET");
        }
        if (seg.equals(List.of("stats"))) {
            return allow(m, Set.of("GET")) ? stats() : notAllowed("GET");
        }
        if (seg.equals(List.of("flush"))) {
            if (!allow(m, Set.of("POST"))) {
                return notAllowed("POST");
            }
            if (tollgate.flush(flushDeadline)) {
                return json(200, Map.of("flushed", true));
            }
            // Accepted: what is not in the store yet stays queued (or deferred) and is written later.
            return json(202, Map.of("flushed", false, "detail", "not all usage is in the store after "
                    + Settings.format(flushDeadline) + "; it stays queued and is written later, see /health"));
        }
        if (!seg.isEmpty() && seg.get(0).equals("keys") && seg.size() <= 2) {
            return keys(m, seg, body);
        }
        if (seg.size() >= 2 && seg.get(0).equals("subjects")) {
            String subject = Names.subject(seg.get(1));
            if (seg.size() == 2) {
                return allow(m, Set.of("GET")) ? json(200, subjectView(subject)) : notAllowed("GET");
            }
            if (seg.size() == 3 && seg.get(2).equals("usage")) {
                return allow(m, Set.of("GET")) ? json(200, export.history(UsageExport.query(query, subject)))
                        : notAllowed("GET");
            }
            if (seg.size() == 3 && seg.get(2).equals("plan")) {
                if (!allow(m, Set.of("PUT"))) {
                    return notAllowed("PUT");
                }
                Map<String, Object> in = body(body, "plan");
                tollgate.assignPlan(subject, stringMember(in, "plan"));
                return json(200, subjectView(subject));
            }
            if (seg.size() == 4 && seg.get(2).equals("limits")) {
                String quota = Names.quota(seg.get(3));
                if (m.equals("PUT")) {
                    List<Limit> limits = Limit.parseList(stringMember(body(body, "limit"), "limit"));
                    tollgate.replaceLimits(subject, quota, limits);
                    return json(200, subjectView(subject));
                }
                if (m.equals("DELETE")) {
                    tollgate.removeLimits(subject, quota);
                    return json(200, subjectView(subject));
                }
                return notAllowed("PUT, DELETE");
            }
        }
        return problem(404, "Not Found", "No admin route for " + String.join("/", seg)
                + "; see the admin API reference.");
    }

    private Response keys(String m, List<String> seg, String body) {
        if (seg.size() == 1) {
            if (!allow(m, Set.of("POST"))) {
                return notAllowed("POST");
            }
            Map<String, Object> in = body == null || body.isBlank() ? Map.of()
                    : body(body, "plan", "name", "fingerprint");
            String plan = optionalString(in, "plan");
            String name = optionalString(in, "name");
            String fingerprint = optionalString(in, "fingerprint");
            String key = null;
            String subject;
            if (fingerprint != null) {
                if (!fingerprint.matches("[0-9a-fA-F]{64}")) {
                    throw new IllegalArgumentException("Member 'fingerprint' must be the SHA-256 of the key in hex"
                            + " (64 hex digits), e.g. printf %s \"$KEY\" | sha256sum.");
                }
                subject = Subjects.API_KEY_PREFIX + fingerprint.toLowerCase(Locale.ROOT);
            } else {
                key = newKey();
                subject = Subjects.apiKey(key);
            }
            tollgate.registerKey(subject, plan, name);
            Map<String, Object> out = new LinkedHashMap<>();
            if (key != null) {
                out.put("key", key);
            }
            out.put("subject", subject);
            out.put("plan", plan != null ? plan : tollgate.planOf(subject));
            if (name != null) {
                out.put("name", name);
            }
            LOG.info("API key {} registered ({})", subject, key != null ? "issued" : "by fingerprint");
            return json(201, out);
        }
        if (!m.equals("DELETE")) {
            return notAllowed("DELETE");
        }
        String subject = Names.subject(seg.get(1));
        if (!tollgate.revokeKey(subject)) {
            return problem(404, "Not Found", "No API key " + subject + " is registered.");
        }
        LOG.info("API key {} revoked", subject);
        return json(200, Map.of("subject", subject, "revoked", true));
    }

    /** A new API key: {@code tg_} and 256 random bits, URL-safe base64 without padding. */
    static String newKey() {
        byte[] bits = new byte[32];
        RANDOM.nextBytes(bits);
        return "tg_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    private Response authorize(String authorization) {
        String given = null;
        if (authorization != null) {
            String a = authorization.trim();
            if (a.length() > 7 && a.regionMatches(true, 0, "Bearer ", 0, 7)) {
                given = a.substring(7).trim();
            }
        }
        if (given == null || given.isEmpty()) {
            Response r = problem(401, "Unauthorized", "Send the admin token as 'Authorization: Bearer <token>'.");
            List<Map.Entry<String, String>> h = new ArrayList<>(r.headers());
            h.add(Map.entry("WWW-Authenticate", "Bearer realm=\"tollgate\""));
            return new Response(r.status(), h, r.contentType(), r.body());
        }
        // Digests of equal length, compared in constant time: neither content nor length leaks.
        if (!MessageDigest.isEqual(tokenDigest, sha256(given))) {
            LOG.warn("Admin request with a wrong token refused");
            return problem(403, "Forbidden", "The admin token is not valid.");
        }
        return null;
    }

    /**
     * The caller's own limits: admitted like a metered request of 1 unit of
     * {@code tollgate.admin.me-quota} (the caller's key, 400/401/429/503 and RateLimit fields
     * as for the API), then served from this node's view ({@link Tollgate#limitsOf}), so a call
     * costs no store read once the caller has been seen.
     */
    private Response me(String method, Supplier<SubjectResult> callerOf) {
        SubjectResult caller = callerOf.get();
        Admission a = gate.admit(gate.meRule(), method, gate.config().adminPath() + "/me", caller);
        if (a.kind() == Admission.Kind.REJECT) {
            List<Map.Entry<String, String>> h = new ArrayList<>(noStore());
            h.addAll(a.headers());
            return new Response(a.status(), h, Problem.CONTENT_TYPE, a.body());
        }
        if (a.kind() == Admission.Kind.PASS) {
            // No subject (tollgate.subject.required=false), or shadow mode let an unknown key by:
            // there is nothing of the caller's own to show.
            EdgeConfig c = gate.config();
            Problem p = caller.present()
                    ? Problem.unknownKey("The API key in the " + c.subjectHeader() + " header is not valid.")
                    : Problem.missingSubject(c.subjectSource() == EdgeConfig.SubjectSource.HEADER
                            ? "Send your API key in the " + c.subjectHeader() + " header."
                            : "Identify yourself as for any metered request.");
            return new Response(p.status(), withChallenge(), Problem.CONTENT_TYPE, p.toJson(null));
        }
        int status = 200;
        try {
            Tollgate.SubjectLimits view = tollgate.limitsOf(caller.subject());
            List<Object> quotas = new ArrayList<>();
            for (Decision d : view.limits()) {
                Map<String, Object> q = new LinkedHashMap<>();
                q.put("quota", d.quota());
                q.put("policy", d.policy());
                q.put("window", d.period().label());
                q.put("windowStart", d.windowStart().toString());
                q.put("reset", d.resetAt() == null ? null : d.resetAt().toString());
                q.put("used", d.used());
                q.put("limit", d.limit());
                q.put("remaining", d.remaining());
                quotas.add(q);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("subject", caller.subject());
            m.put("plan", view.plan());
            m.put("quotas", quotas);
            List<Map.Entry<String, String>> h = new ArrayList<>(noStore());
            h.addAll(a.headers());
            return new Response(200, h, JSON, Json.write(m));
        } catch (RuntimeException e) {
            status = 503;
            throw e;
        } finally {
            gate.settle(a, status, name -> List.of());
        }
    }

    private List<Map.Entry<String, String>> withChallenge() {
        List<Map.Entry<String, String>> h = new ArrayList<>(noStore());
        h.add(gate.wwwAuthenticate());
        return h;
    }

    private Response myUsage(SubjectResult caller, String query) {
        Response refused = refusedCaller(caller);
        if (refused != null) {
            return refused;
        }
        return json(200, export.history(UsageExport.query(query, caller.subject())));
    }

    /** The answer to a caller that cannot be identified, or {@code null} when it can. */
    private Response refusedCaller(SubjectResult caller) {
        if (caller.problem() != null) {
            Problem p = caller.problem();
            return new Response(p.status(), noStore(), Problem.CONTENT_TYPE, p.toJson(null));
        }
        if (!caller.present()) {
            EdgeConfig c = gate.config();
            String how = c.subjectSource() == EdgeConfig.SubjectSource.HEADER
                    ? "Send your API key in the " + c.subjectHeader() + " header."
                    : "Identify yourself as for any metered request.";
            Problem p = Problem.missingSubject(how);
            return new Response(p.status(), withChallenge(), Problem.CONTENT_TYPE, p.toJson(null));
        }
        if (gate.config().keysRegistered() && !tollgate.isRegisteredKey(caller.subject())) {
            // Only registered keys see anything; the answer comes from the key cache, like a metered request's.
            Problem p = Problem.unknownKey("The API key in the " + gate.config().subjectHeader()
                    + " header is not valid.");
            return new Response(p.status(), withChallenge(), Problem.CONTENT_TYPE, p.toJson(null));
        }
        return null;
    }

    private Response health() {
        Health h = tollgate.health();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", h.status().name());
        m.put("reason", h.reason());
        return json(h.status() == Health.Status.DOWN ? 503 : 200, m);
    }

    private Response stats() {
        Map<String, Object> engine = new LinkedHashMap<>();
        Stats s = tollgate.stats();
        for (RecordComponent rc : Stats.class.getRecordComponents()) {
            Object v;
            try {
                v = rc.getAccessor().invoke(s);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            if (v instanceof Duration d) {
                engine.put(rc.getName() + "Ms", d.toMillis());
            } else {
                engine.put(rc.getName(), v);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("engine", engine);
        m.put("edge", edgeStats.get());
        return json(200, m);
    }

    private Map<String, Object> subjectView(String subject) {
        List<Object> quotas = new ArrayList<>();
        for (QuotaUsage u : tollgate.usage(subject)) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("quota", u.quota());
            q.put("policy", u.quota() + "-" + u.period().label());
            q.put("window", u.period().label());
            q.put("windowStart", u.windowStart().toString());
            q.put("reset", u.resetAt() == null ? null : u.resetAt().toString());
            q.put("used", u.used());
            q.put("stored", u.stored());
            q.put("limit", u.limit());
            q.put("remaining", u.remaining());
            quotas.add(q);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("subject", subject);
        m.put("plan", tollgate.planOf(subject));
        m.put("quotas", quotas);
        return m;
    }

    private static Map<String, Object> body(String body, String... allowed) {
        if (body == null || body.isBlank()) {
            throw new IllegalArgumentException("A JSON body with " + Arrays.toString(allowed) + " is required.");
        }
        Map<String, Object> in = FlatJson.parseObject(body);
        for (String k : in.keySet()) {
            if (!Arrays.asList(allowed).contains(k)) {
                throw new IllegalArgumentException("Unknown member '" + k + "'; allowed: " + Arrays.toString(allowed));
            }
        }
        return in;
    }

    private static String stringMember(Map<String, Object> in, String name) {
        Object v = in.get(name);
        if (!(v instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException("Member '" + name + "' must be a non-empty string.");
        }
        return s.trim();
    }

    private static String optionalString(Map<String, Object> in, String name) {
        return in.containsKey(name) ? stringMember(in, name) : null;
    }

    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    private static boolean allow(String method, Set<String> methods) {
        return methods.contains(method) || (method.equals("HEAD") && methods.contains("GET"));
    }

    private static Response notAllowed(String allow) {
        Response r = problem(405, "Method Not Allowed", "Allowed: " + allow + ".");
        List<Map.Entry<String, String>> h = new ArrayList<>(r.headers());
        h.add(Map.entry("Allow", allow));
        return new Response(405, h, r.contentType(), r.body());
    }

    private static Response json(int status, Object value) {
        return new Response(status, noStore(), JSON, Json.write(value));
    }

    /**
     * An {@code application/problem+json} answer of type {@code about:blank}, for adapters
     * that must refuse an admin request before it reaches {@link #handle} (a body too large,
     * no engine).
     */
    public static Response problem(int status, String title, String detail) {
        return new Response(status, noStore(), Problem.CONTENT_TYPE,
                new Problem(status, "about:blank", title, detail, Map.of()).toJson(null));
    }

    private static List<Map.Entry<String, String>> noStore() {
        return List.of(Map.entry("Cache-Control", "no-store"));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
