package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Limit;
import java.util.List;
import java.util.Map;

/**
 * The limits that apply to one subject: its plan's, with per-quota overrides applied.
 * Immutable.
 *
 * @param plan   the plan in force
 * @param limits quota → limits (one per period)
 */
record SubjectPolicy(String plan, Map<String, List<Limit>> limits) {
    SubjectPolicy {
        limits = Map.copyOf(limits);
    }

    /** Limits of a quota; empty when the quota is unlimited for this subject. */
    List<Limit> limits(String quota) {
        List<Limit> l = limits.get(quota);
        return l == null ? List.of() : l;
    }
}
