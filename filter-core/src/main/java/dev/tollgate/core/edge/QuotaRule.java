package dev.tollgate.core.edge;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which requests a rule charges and what: a path pattern, optional HTTP methods, and one or
 * more quota costs. Immutable.
 *
 * @param name    the rule's name (from {@code tollgate.rules.<name>.*})
 * @param path    the path pattern
 * @param methods upper-case methods this rule applies to; empty for all
 * @param costs   the quotas charged, each with its cost
 * @param order   rules are tried by ascending order, then by name; the first match applies
 */
public record QuotaRule(String name, PathPattern path, Set<String> methods, List<QuotaCost> costs, int order) {

    public QuotaRule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
        methods = methods.stream().map(m -> m.trim().toUpperCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        costs = List.copyOf(costs);
        if (costs.isEmpty()) {
            throw new IllegalArgumentException("rule '" + name + "' charges no quota");
        }
    }

    public boolean matches(String method, String requestPath) {
        return (methods.isEmpty() || (method != null && methods.contains(method.toUpperCase(Locale.ROOT))))
                && path.matches(requestPath);
    }
}
