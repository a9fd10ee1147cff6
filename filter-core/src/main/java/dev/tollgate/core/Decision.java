package dev.tollgate.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The answer of {@link Tollgate#check}: whether {@code amount} more of a quota may be used
 * now, and the figures the edge shows in its headers. Immutable.
 *
 * @param allowed   whether the request may proceed
 * @param reason    why: within the limit, over it, no limit, or the store was unavailable
 * @param quota     the quota name
 * @param period    the window of the limit that decided ({@code null} when unlimited)
 * @param limit     the limit of that window ({@code -1} when unlimited)
 * @param used      usage in the window before this request, as this node sees it
 * @param remaining what is left after this request if allowed, else what is left now; never negative
 * @param windowStart start of the window ({@code null} when unlimited)
 * @param resetAt   when the window ends ({@code null} when unlimited or {@link Period#TOTAL})
 */
public record Decision(boolean allowed, Reason reason, String quota, Period period, long limit, long used,
                       long remaining, Instant windowStart, Instant resetAt) {

    /** Why a decision came out as it did. */
    public enum Reason {
        /** Within the limit. */
        WITHIN_LIMIT,
        /** The request would exceed the limit. */
        LIMIT_EXCEEDED,
        /** No limit applies to this subject and quota. */
        UNLIMITED,
        /** The store could not be read and nothing was cached; the fail mode decided. */
        STORE_UNAVAILABLE
    }

    public Decision {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(quota, "quota");
    }

    /** An allowed decision for a quota that has no limit for the subject. */
    public static Decision unlimited(String quota) {
        return new Decision(true, Reason.UNLIMITED, quota, null, -1, 0, Long.MAX_VALUE, null, null);
    }

    /** Decides {@code amount} against {@code limit} given {@code used} so far. */
    public static Decision evaluate(String quota, Limit limit, long used, long amount,
                                    Instant windowStart, Instant resetAt) {
        long max = limit.max();
        boolean allowed = used <= max && amount <= max - used;
        long remaining = allowed ? max - used - amount : Math.max(0, max - used);
        Instant reset = resetAt == Instant.MAX ? null : resetAt;
        return new Decision(allowed, allowed ? Reason.WITHIN_LIMIT : Reason.LIMIT_EXCEEDED, quota,
                limit.period(), max, used, remaining, windowStart, reset);
    }

    /** Whether a limit applies (false for {@link Reason#UNLIMITED}). */
    public boolean limited() {
        return period != null;
    }

    /**
     * The policy name used in {@code RateLimit-Policy} headers and problem bodies:
     * {@code <quota>-<period>}, e.g. {@code requests-day}.
     */
    public String policy() {
        return period == null ? quota : quota + "-" + period.label();
    }

    /** Seconds from {@code now} until the window resets, at least 1; -1 if it never resets. */
    public long secondsUntilReset(Instant now) {
        if (resetAt == null) {
            return -1;
        }
        long millis = resetAt.toEpochMilli() - now.toEpochMilli();
        return Math.max(1, (millis + 999) / 1000);
    }

    /** Length of the window in seconds, -1 for {@link Period#TOTAL} or unlimited. */
    public long windowSeconds() {
        if (resetAt == null || windowStart == null) {
            return -1;
        }
        return Duration.between(windowStart, resetAt).getSeconds();
    }

    /**
     * The more restrictive of two decisions: a denial over an allowance, else the one with
     * less remaining.
     */
    public static Decision stricter(Decision a, Decision b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.allowed != b.allowed) {
            return a.allowed ? b : a;
        }
        if (a.remaining != b.remaining) {
            return a.remaining < b.remaining ? a : b;
        }
        // Same remaining: the one that resets later keeps the caller waiting longer.
        if (a.resetAt == null) {
            return a;
        }
        if (b.resetAt == null) {
            return b;
        }
        return a.resetAt.isAfter(b.resetAt) ? a : b;
    }
}
