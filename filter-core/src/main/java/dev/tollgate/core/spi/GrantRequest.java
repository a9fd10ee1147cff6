package dev.tollgate.core.spi;

import java.util.Objects;

/**
 * Units of one limited counter that a node asks for.
 *
 * @param id    the request's id: a counter that already granted this node a request of this id
 *              answers what it granted then and grants nothing more, so a request whose answer
 *              was lost is repeated with the same id
 * @param key   the counter
 * @param limit   the counter's limit: the store grants only while
 *                {@code used + pending + outstanding grants of every node + grant <= limit}
 * @param want    how many units the node would like
 * @param min     the fewest units worth granting (1 to {@code want}); fewer available grants nothing
 * @param pending usage of this node beyond its grants that the store does not hold yet (it
 *                counts against the limit like stored usage)
 */
public record GrantRequest(String id, UsageKey key, long limit, long want, long min, long pending) {
    public GrantRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(key, "key");
        if (min < 1 || want < min) {
            throw new IllegalArgumentException("need 1 <= min <= want, was min " + min + ", want " + want);
        }
        if (limit < 0 || pending < 0) {
            throw new IllegalArgumentException("limit and pending must be >= 0, were " + limit + ", " + pending);
        }
    }
}
