package dev.tollgate.core.edge;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which requests a rule charges and what: a path pattern, optional HTTP methods, and one or
 * more quota costs. Immutable. Built by {@link EdgeConfig} from {@code tollgate.rules.<name>.*}
 * or {@link EdgeConfig.Builder#rule(String, String, String, String)}.
 */
public final class QuotaRule {
    private final String name;
    private final PathPattern path;
    private final Set<String> methods;
    private final List<QuotaCost> costs;
    private final int order;

    /**
     * @param methods HTTP methods this rule applies to; empty for all
     * @param order   rules are tried by ascending order, then by name; the first match applies
     * @throws IllegalArgumentException if the rule charges no quota
     */
    QuotaRule(String name, PathPattern path, Set<String> methods, List<QuotaCost> costs, int order) {
        this.name = Objects.requireNonNull(name, "name");
        this.path = Objects.requireNonNull(path, "path");
        this.methods = methods.stream().map(m -> m.trim().toUpperCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        this.costs = List.copyOf(costs);
        this.order = order;
        if (this.costs.isEmpty()) {
            throw new IllegalArgumentException("rule '" + name + "' charges no quota");
        }
    }

    /** The rule's name ({@code tollgate.rules.<name>.*}). */
    public String name() {
        return name;
    }

    /** The path pattern, e.g. {@code /api/**}. */
    public String path() {
        return path.toString();
    }

    /** Upper-case methods this rule applies to; empty for all. */
    public Set<String> methods() {
        return methods;
    }

    /** The quotas charged, each with its cost, in order. */
    public List<QuotaCost> costs() {
        return costs;
    }

    public int order() {
        return order;
    }

    public boolean matches(String method, String requestPath) {
        return matchesMethod(method) && path.matches(requestPath);
    }

    /**
     * Whether the rule applies to {@code method}: any method when it names none; else one it
     * names, and {@code HEAD} when it names {@code GET} (a container answers a HEAD with the
     * GET handler, so a HEAD is served like a GET and is charged like one).
     */
    private boolean matchesMethod(String method) {
        if (methods.isEmpty()) {
            return true;
        }
        if (method == null) {
            return false;
        }
        String m = method.toUpperCase(Locale.ROOT);
        return methods.contains(m) || (m.equals("HEAD") && methods.contains("GET"));
    }

    @Override
    public String toString() {
        return "QuotaRule[" + name + ": " + (methods.isEmpty() ? "" : String.join(",", methods) + " ") + path
                + " " + costs + "]";
    }
}
