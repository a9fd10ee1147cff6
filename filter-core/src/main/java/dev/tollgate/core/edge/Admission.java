package dev.tollgate.core.edge;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Reservation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the edge decided for one request before it ran: pass it through uncharged, admit it
 * (and charge it once after the response), or reject it with a status, headers and a problem
 * body. Adapters copy {@link #headers()} onto the response and, for a rejection, write
 * {@link #body()} with {@link #contentType()}. Thread-safe; {@link QuotaGate#settle} charges
 * an admission at most once. An admission holds the reservations made for it (the units taken
 * from this node's allotments), which settle turns into the final charge.
 */
public final class Admission {

    /** The three outcomes. */
    public enum Kind {
        /** Not metered (no rule matched, or Tollgate is disabled). */
        PASS,
        /** Proceed; charge after the response. */
        ADMIT,
        /** Answer now with {@link #status()} and {@link #body()}. */
        REJECT
    }

    private static final Admission PASS = new Admission(Kind.PASS, 0, List.of(), null, null, null, List.of(),
            List.of());

    private final Kind kind;
    private final int status;
    private final List<Map.Entry<String, String>> headers;
    private final String body;
    final String subject;
    final QuotaRule rule;
    private final List<Decision> decisions;
    /** One per cost of the rule, in order, for an admitted request; empty otherwise. */
    final List<Reservation> reservations;
    final AtomicBoolean settled = new AtomicBoolean();
    /** The request's id from {@code tollgate.idempotency.header}, or {@code null}: charged once per id. */
    final String requestId;

    Admission(Kind kind, int status, List<Map.Entry<String, String>> headers, String body, String subject,
              QuotaRule rule, List<Decision> decisions, List<Reservation> reservations) {
        this(kind, status, headers, body, subject, rule, decisions, reservations, null);
    }

    Admission(Kind kind, int status, List<Map.Entry<String, String>> headers, String body, String subject,
              QuotaRule rule, List<Decision> decisions, List<Reservation> reservations, String requestId) {
        this.kind = kind;
        this.status = status;
        this.headers = Collections.unmodifiableList(new ArrayList<>(headers));
        this.body = body;
        this.subject = subject;
        this.rule = rule;
        this.decisions = List.copyOf(decisions);
        this.reservations = List.copyOf(reservations);
        this.requestId = requestId;
    }

    static Admission pass() {
        return PASS;
    }

    public Kind kind() {
        return kind;
    }

    public boolean proceed() {
        return kind != Kind.REJECT;
    }

    /** Status of a rejection (401, 400, 429, 503); 0 otherwise. */
    public int status() {
        return status;
    }

    /** Header fields to add to the response, in order. */
    public List<Map.Entry<String, String>> headers() {
        return headers;
    }

    /** Problem body of a rejection, else {@code null}. */
    public String body() {
        return body;
    }

    public String contentType() {
        return body == null ? null : Problem.CONTENT_TYPE;
    }

    /** The subject charged, or {@code null}. */
    public String subject() {
        return subject;
    }

    /** The request id it is charged under ({@code tollgate.idempotency.header}), or {@code null}. */
    public String requestId() {
        return requestId;
    }

    /** The decisions made, one per quota of the rule. */
    public List<Decision> decisions() {
        return decisions;
    }
}
