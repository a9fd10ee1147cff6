package dev.tollgate.store.redis;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.config.TollgateKeys;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A parsed Redis {@code tollgate.store.url}:
 *
 * <pre>
 * redis://[user:password@]host[:port][/database][?options]          one Redis (database 0 by default)
 * rediss://…                                                          the same over TLS
 * redis-cluster://[user:password@]host:port[,host:port…][?options]  a Redis Cluster, from any of its nodes
 * rediss-cluster://…                                                  the same over TLS
 * </pre>
 *
 * <p>Options, {@code name=value} joined by {@code &}:
 * <ul>
 * <li>{@code prefix} (default {@value #DEFAULT_PREFIX}): the start of every key, so several
 *     Tollgate installations can share one Redis;</li>
 * <li>{@code buckets} (default {@value #DEFAULT_BUCKETS}, 1–16384): subjects are spread over this
 *     many hash slots; a batch is written as one script per bucket it touches. Every node must
 *     use the same value, and it cannot change once data exists (the store refuses to start on
 *     a Redis set up with another value);</li>
 * <li>{@code usage-retention} (default {@code 35d}): how long a counter is kept after its
 *     window ends (or after its last write, when later); minute and hour windows at most a day;
 *     {@code total} counters forever.</li>
 * </ul>
 * Credentials in the URL win over {@code tollgate.store.user} / {@code tollgate.store.password}.
 * Immutable.
 *
 * @param cluster        whether the URL names a Redis Cluster
 * @param tls            {@code rediss} schemes
 * @param nodes          {@code host:port} of each node named (one for a single Redis)
 * @param user           user name, or empty
 * @param password       password, or empty
 * @param database       the database of a single Redis
 * @param prefix         the start of every key
 * @param buckets        how many hash slots subjects are spread over
 * @param usageRetention how long a counter is kept after its window ends
 */
public record RedisStoreUrl(boolean cluster, boolean tls, List<String> nodes, String user, String password,
                            int database, String prefix, int buckets, Duration usageRetention) {
    public static final String DEFAULT_PREFIX = "tollgate";
    public static final int DEFAULT_BUCKETS = 64;
    public static final Duration DEFAULT_USAGE_RETENTION = Duration.ofDays(35);
    private static final String KEY = TollgateKeys.STORE_URL.name();

    public RedisStoreUrl {
        nodes = List.copyOf(nodes);
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(prefix, "prefix");
    }

    /** Whether {@code url} has one of the Redis schemes (nothing else is checked). */
    public static boolean isRedis(String url) {
        String s = url.toLowerCase(Locale.ROOT);
        return s.startsWith("redis://") || s.startsWith("rediss://") || s.startsWith("redis-cluster://")
                || s.startsWith("rediss-cluster://");
    }

    /**
     * Parses a Redis URL.
     *
     * @throws InvalidConfigException naming {@code tollgate.store.url}, the URL (its password
     *                                hidden) and what is wrong
     */
    public static RedisStoreUrl parse(String url) {
        if (!isRedis(url)) {
            throw invalid(url, "a redis://, rediss://, redis-cluster:// or rediss-cluster:// URL");
        }
        int colon = url.indexOf("://");
        String scheme = url.substring(0, colon).toLowerCase(Locale.ROOT);
        String rest = url.substring(colon + 3);
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String user = "";
        String password = "";
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String info = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int c = info.indexOf(':');
            user = decode(c >= 0 ? info.substring(0, c) : "");
            password = decode(c >= 0 ? info.substring(c + 1) : info);
        }
        int database = 0;
        int slash = rest.indexOf('/');
        boolean cluster = scheme.endsWith("-cluster");
        if (slash >= 0) {
            String db = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
            if (!db.isEmpty()) {
                if (cluster) {
                    throw invalid(url, "a cluster URL without a database (Redis Cluster has only database 0)");
                }
                try {
                    database = Integer.parseInt(db);
                } catch (NumberFormatException e) {
                    throw invalid(url, "a database number after the host, e.g. redis://127.0.0.1:6379/0");
                }
            }
        }
        List<String> nodes = new ArrayList<>();
        for (String n : rest.split(",")) {
            String node = n.trim();
            if (node.isEmpty() || node.startsWith(":")) {
                throw invalid(url, "host[:port] of each node, separated by commas");
            }
            int p = node.lastIndexOf(':');
            if (p < 0 || node.endsWith("]")) {
                node = node + ":6379";
            } else {
                try {
                    int port = Integer.parseInt(node.substring(p + 1));
                    if (port < 1 || port > 65535) {
                        throw new NumberFormatException();
                    }
                } catch (NumberFormatException e) {
                    throw invalid(url, "a port from 1 to 65535 after each host");
                }
            }
            nodes.add(node);
        }
        if (!cluster && nodes.size() != 1) {
            throw invalid(url, "one host in a redis:// URL (redis-cluster:// takes several)");
        }
        String prefix = DEFAULT_PREFIX;
        int buckets = DEFAULT_BUCKETS;
        Duration retention = DEFAULT_USAGE_RETENTION;
        for (String option : query.isEmpty() ? new String[0] : query.split("&")) {
            int eq = option.indexOf('=');
            String name = eq < 0 ? option : option.substring(0, eq);
            String value = eq < 0 ? "" : decode(option.substring(eq + 1));
            switch (name) {
                case "prefix" -> {
                    if (!value.matches("[A-Za-z0-9_.:-]{1,64}")) {
                        throw invalid(url, "prefix of 1 to 64 letters, digits, _ . : -");
                    }
                    prefix = value;
                }
                case "buckets" -> {
                    try {
                        buckets = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        buckets = 0;
                    }
                    if (buckets < 1 || buckets > 16384) {
                        throw invalid(url, "buckets from 1 to 16384");
                    }
                }
                case "usage-retention" -> {
                    try {
                        retention = Settings.parseDuration(value);
                    } catch (RuntimeException e) {
                        throw invalid(url, "usage-retention as a duration such as 35d or 12h");
                    }
                    if (retention.compareTo(Duration.ofMinutes(1)) < 0) {
                        throw invalid(url, "usage-retention of at least 1m");
                    }
                }
                default -> throw invalid(url, "options prefix, buckets and usage-retention only, not '" + name + "'");
            }
        }
        return new RedisStoreUrl(cluster, scheme.startsWith("rediss"), nodes, user, password, database, prefix,
                buckets, retention);
    }

    /** This URL with other credentials, when it has none of its own. */
    public RedisStoreUrl withDefaultCredentials(String defaultUser, String defaultPassword) {
        if (!password.isEmpty() || defaultPassword == null || defaultPassword.isEmpty()) {
            return this;
        }
        return new RedisStoreUrl(cluster, tls, nodes, defaultUser == null ? "" : defaultUser, defaultPassword,
                database, prefix, buckets, usageRetention);
    }

    /** Where the store is, for logs and messages: the nodes, never the password. */
    public String describe() {
        return (cluster ? "Redis Cluster " : "Redis ") + String.join(",", nodes)
                + (cluster || database == 0 ? "" : "/" + database) + (tls ? " (TLS)" : "") + ", prefix " + prefix;
    }

    @Override
    public String toString() {
        return describe();
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static InvalidConfigException invalid(String url, String expected) {
        return new InvalidConfigException(KEY, TollgateKeys.maskUrl(url), expected);
    }
}
