package dev.tollgate.core.spi;

import dev.tollgate.core.Limit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the store holds about one subject: its assigned plan, if any, and its per-quota
 * limit overrides.
 *
 * @param plan      the assigned plan, empty when the subject uses the default plan
 * @param overrides quota → limits that replace the plan's limits for that quota
 */
public record SubjectRecord(Optional<String> plan, Map<String, List<Limit>> overrides) {
    public static final SubjectRecord NONE = new SubjectRecord(Optional.empty(), Map.of());

    public SubjectRecord {
        Objects.requireNonNull(plan, "plan");
        Map<String, List<Limit>> copy = new HashMap<>();
        overrides.forEach((quota, limits) -> copy.put(quota, List.copyOf(limits)));
        overrides = Map.copyOf(copy);
    }
}
