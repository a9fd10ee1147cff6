package dev.tollgate.store.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/** Questions to one node of the test cluster, over a connection of its own (a test tool). */
final class ClusterNodes {
    private ClusterNodes() {
    }

    /** Runs {@code call} on the node at {@code hostPort}; empty when it does not answer. */
    static <T> Optional<T> ask(String hostPort, Function<StatefulRedisConnection<String, String>, T> call) {
        int colon = hostPort.lastIndexOf(':');
        RedisClient c = RedisClient.create(RedisURI.Builder.redis(hostPort.substring(0, colon),
                Integer.parseInt(hostPort.substring(colon + 1))).withTimeout(Duration.ofSeconds(2)).build());
        try (StatefulRedisConnection<String, String> conn = c.connect()) {
            return Optional.ofNullable(call.apply(conn));
        } catch (RuntimeException e) {
            return Optional.empty();
        } finally {
            c.shutdown(0, 1, TimeUnit.SECONDS);
        }
    }

    /** The master that serves {@code slot}, as {@code host:port}, in {@code hostPort}'s view. */
    static Optional<String> masterOf(String hostPort, int slot) {
        return ask(hostPort, conn -> {
            for (String line : conn.sync().clusterNodes().split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length < 9 || !f[2].contains("master") || f[2].contains("fail")) {
                    continue;
                }
                for (int i = 8; i < f.length; i++) {
                    String[] range = f[i].split("-");
                    if (range[0].startsWith("[")) {
                        continue;
                    }
                    int from = Integer.parseInt(range[0]);
                    int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
                    if (slot >= from && slot <= to) {
                        return f[1].substring(0, f[1].indexOf('@'));
                    }
                }
            }
            return null;
        });
    }

    /** A field of {@code INFO server} (e.g. {@code process_id}, {@code config_file}). */
    static Optional<String> info(String hostPort, String field) {
        return ask(hostPort, conn -> conn.sync().info("server").lines()
                .filter(l -> l.startsWith(field + ":")).map(l -> l.substring(field.length() + 1).trim())
                .findFirst().orElse(null));
    }

    /** Polls {@code condition} every 200 ms for at most {@code timeout}; whether it became true. */
    static boolean waitFor(Supplier<Boolean> condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (condition.get()) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }
}
