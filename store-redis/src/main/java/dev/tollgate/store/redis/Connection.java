package dev.tollgate.store.redis;

import dev.tollgate.core.TollgateException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two Lettuce connections (to a single Redis, or cluster connections that route each command
 * to the master of its slot), each shared by every thread: Lettuce pipelines concurrent
 * commands on a connection. Flushes go on {@link #bulk}, everything the request path may wait
 * for (grants, reads) on {@link #commands}, so that a grant never queues behind the scripts of a
 * large flush on the same socket. Commands issued while disconnected fail at once instead of waiting in a buffer
 * (the engine's retry and breaker handle the outage); a cluster's topology is refreshed every
 * 5 s and on redirects and reconnects, so a promoted replica is found after a failover.
 * Thread-safe.
 */
final class Connection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    /** Grants, reads and small writes: what a request may wait for. */
    final RedisClusterAsyncCommands<String, String> commands;
    /** Flushes (one script per bucket, pipelined) and maintenance. */
    final RedisClusterAsyncCommands<String, String> bulk;
    private final StatefulConnection<String, String> connection;
    private final StatefulConnection<String, String> bulkConnection;
    private final AbstractRedisClient ownedClient;

    private Connection(StatefulConnection<String, String> connection, StatefulConnection<String, String> bulkConnection,
                       AbstractRedisClient ownedClient) {
        this.commands = async(connection);
        this.bulk = async(bulkConnection);
        this.connection = connection;
        this.bulkConnection = bulkConnection;
        this.ownedClient = ownedClient;
    }

    private static RedisClusterAsyncCommands<String, String> async(StatefulConnection<String, String> c) {
        return c instanceof StatefulRedisClusterConnection<String, String> cluster ? cluster.async()
                : ((StatefulRedisConnection<String, String>) c).async();
    }

    /** Two connections of {@code client}. */
    private static Connection connect(AbstractRedisClient client, AbstractRedisClient owned) {
        if (client instanceof RedisClusterClient c) {
            StatefulRedisClusterConnection<String, String> first = c.connect();
            try {
                return new Connection(first, c.connect(), owned);
            } catch (RuntimeException e) {
                first.close();
                throw e;
            }
        }
        if (client instanceof RedisClient c) {
            StatefulRedisConnection<String, String> first = c.connect();
            try {
                return new Connection(first, c.connect(), owned);
            } catch (RuntimeException e) {
                first.close();
                throw e;
            }
        }
        throw new IllegalArgumentException("Expected a RedisClient or a RedisClusterClient, was " + client.getClass());
    }

    /** A client of its own, built from the URL; closed with the connection. */
    static Connection open(RedisStoreUrl url, Duration connectTimeout, Duration commandTimeout) {
        List<RedisURI> uris = new ArrayList<>();
        for (String node : url.nodes()) {
            int colon = node.lastIndexOf(':');
            String host = node.substring(0, colon).replace("[", "").replace("]", "");
            RedisURI.Builder b = RedisURI.Builder.redis(host, Integer.parseInt(node.substring(colon + 1)))
                    .withSsl(url.tls()).withTimeout(commandTimeout).withClientName("tollgate");
            if (!url.cluster()) {
                b.withDatabase(url.database());
            }
            if (!url.password().isEmpty()) {
                if (url.user().isEmpty()) {
                    b.withPassword(url.password().toCharArray());
                } else {
                    b.withAuthentication(url.user(), url.password().toCharArray());
                }
            }
            uris.add(b.build());
        }
        SocketOptions socket = SocketOptions.builder().connectTimeout(connectTimeout).keepAlive(true).build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(commandTimeout);
        AbstractRedisClient client = null;
        try {
            if (url.cluster()) {
                RedisClusterClient c = RedisClusterClient.create(uris);
                client = c;
                c.setOptions(ClusterClientOptions.builder().socketOptions(socket).timeoutOptions(timeouts)
                        .autoReconnect(true).disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enablePeriodicRefresh(Duration.ofSeconds(5))
                                .enableAllAdaptiveRefreshTriggers()
                                .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                                .refreshTriggersReconnectAttempts(2)
                                .build())
                        .build());
                return connect(c, c);
            }
            RedisClient c = RedisClient.create(uris.get(0));
            client = c;
            c.setOptions(ClientOptions.builder().socketOptions(socket).timeoutOptions(timeouts).autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
            return connect(c, c);
        } catch (RuntimeException e) {
            if (client != null) {
                client.shutdown(0, 2, TimeUnit.SECONDS);
            }
            throw new TollgateException("Cannot connect to " + url.describe() + ": " + e.getMessage(), e);
        }
    }

    /**
     * A connection of the application's client (a {@link RedisClient} or a
     * {@link RedisClusterClient}), with the client's own options; closing it leaves the client open.
     */
    static Connection on(AbstractRedisClient client) {
        try {
            return connect(client, null);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new TollgateException("Cannot connect to Redis through the application's client: " + e.getMessage(),
                    e);
        }
    }

    @Override
    public void close() {
        for (StatefulConnection<String, String> c : List.of(connection, bulkConnection)) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.warn("Closing a Redis connection failed", e);
            }
        }
        if (ownedClient != null) {
            ownedClient.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
