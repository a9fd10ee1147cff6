package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.spi.RequestCharge;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.WriteBatch;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;

/**
 * The request ids of a write batch, inside its transaction: each (subject, quota, request id)
 * is recorded in {@code tollgate_request} if absent, in one statement per {@value #CHUNK} ids
 * (H2) or {@value #ARRAY_CHUNK} (PostgreSQL), in one sorted order (so that two flushes never wait on each other's ids
 * in opposite orders, and ids are locked before any usage row); a request whose id was there
 * already is taken off its counters' deltas. A batch without ids costs nothing here.
 * Stateless.
 */
final class Requests {
    /** Ids recorded per statement on H2, which binds three parameters per id. */
    static final int CHUNK = 500;
    /** Ids recorded per statement on PostgreSQL, which binds three arrays whatever their length. */
    static final int ARRAY_CHUNK = 10_000;

    private static final Comparator<RequestCharge> ORDER = Comparator.comparing(RequestCharge::subject)
            .thenComparing(RequestCharge::quota)
            .thenComparing(RequestCharge::requestId);

    private Requests() {
    }

    /** A request's identity: what the table's primary key holds. */
    private record Id(String subject, String quota, String requestId) {
        static Id of(RequestCharge r) {
            return new Id(r.subject(), r.quota(), r.requestId());
        }
    }

    /**
     * Records the batch's new request ids and returns the amount to add to each delta: its own,
     * less the requests charged before (or repeated within the batch).
     */
    static long[] charge(Handle h, Dialect dialect, WriteBatch batch) {
        List<UsageDelta> deltas = batch.deltas();
        long[] amounts = new long[deltas.size()];
        for (int i = 0; i < amounts.length; i++) {
            amounts[i] = deltas.get(i).amount();
        }
        if (batch.requests().isEmpty()) {
            return amounts;
        }
        List<RequestCharge> distinct = new ArrayList<>();
        Set<Id> seen = new HashSet<>();
        for (RequestCharge r : batch.requests()) {
            if (seen.add(Id.of(r))) {
                distinct.add(r);
            }
        }
        distinct.sort(ORDER);
        OffsetDateTime now = Sql.utc(batch.at());
        OffsetDateTime expires = Sql.utc(batch.at().plus(batch.requestRetention()));
        Set<Id> recorded = new HashSet<>();
        int size = dialect == Dialect.POSTGRESQL ? ARRAY_CHUNK : CHUNK;
        for (int from = 0; from < distinct.size(); from += size) {
            List<RequestCharge> chunk = distinct.subList(from, Math.min(distinct.size(), from + size));
            Query q = h.createQuery(dialect.claimRequests(chunk.size())).bind("now", now).bind("expiresAt", expires);
            if (dialect == Dialect.POSTGRESQL) {
                q.bindArray("subjects", String.class, chunk.stream().map(RequestCharge::subject).toList())
                        .bindArray("quotas", String.class, chunk.stream().map(RequestCharge::quota).toList())
                        .bindArray("requestIds", String.class, chunk.stream().map(RequestCharge::requestId).toList());
            } else {
                for (int i = 0; i < chunk.size(); i++) {
                    RequestCharge r = chunk.get(i);
                    q.bind("subject" + i, r.subject()).bind("quota" + i, r.quota()).bind("requestId" + i, r.requestId());
                }
            }
            q.map((rs, ctx) -> new Id(rs.getString(1), rs.getString(2), rs.getString(3))).forEach(recorded::add);
        }
        Map<UsageKey, Integer> index = new HashMap<>();
        for (int i = 0; i < deltas.size(); i++) {
            index.put(deltas.get(i).key(), i);
        }
        for (RequestCharge r : batch.requests()) {
            // The first occurrence of a newly recorded id is charged; every other is not.
            if (recorded.remove(Id.of(r))) {
                continue;
            }
            for (UsageKey k : r.keys()) {
                Integer i = index.get(k);
                if (i == null) {
                    throw new IllegalArgumentException("request " + r.requestId() + " of " + r.subject() + "/"
                            + r.quota() + " names counter " + k + ", which is not among the batch's deltas");
                }
                amounts[i] -= r.amount();
            }
        }
        return amounts;
    }
}
