package dev.tollgate.store.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The store's Lua scripts (resources next to this class), run by their SHA-1 and sent whole
 * only when the server does not know them yet ({@code NOSCRIPT}: a new server, a promoted
 * replica, a {@code SCRIPT FLUSH}). A {@code NOSCRIPT} answer means the script did not run, so
 * sending it again cannot apply anything twice. Immutable and thread-safe.
 */
enum Scripts {
    /** One bucket's part of a write batch. */
    APPLY("apply.lua", ScriptOutputType.MULTI),
    /** One node's grants on counters of one bucket. */
    GRANT("grant.lua", ScriptOutputType.MULTI),
    /** Unused units given back on counters of one bucket. */
    RELEASE("release.lua", ScriptOutputType.INTEGER),
    /** A subject's overrides of one quota removed. */
    REMOVE_OVERRIDES("remove-overrides.lua", ScriptOutputType.INTEGER),
    REPLACE_OVERRIDES("replace-overrides.lua", ScriptOutputType.INTEGER),
    /** An export stream's lease taken or renewed, with its cursor. */
    EXPORT_LEASE("export-lease.lua", ScriptOutputType.MULTI),
    /** An export stream's cursor moved by its lease holder. */
    EXPORT_ADVANCE("export-advance.lua", ScriptOutputType.INTEGER);

    private final String body;
    private final String sha;
    private final ScriptOutputType output;

    Scripts(String resource, ScriptOutputType output) {
        this.body = load(resource);
        this.sha = sha1(body);
        this.output = output;
    }

    /** Runs the script on the shard of {@code keys} (which share one hash slot). */
    <T> CompletableFuture<T> run(RedisClusterAsyncCommands<String, String> redis, String[] keys, String... args) {
        CompletableFuture<T> bySha = redis.<T>evalsha(sha, output, keys, args).toCompletableFuture();
        return bySha.exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RedisNoScriptException
                    || (cause.getMessage() != null && cause.getMessage().startsWith("NOSCRIPT"))) {
                return redis.<T>eval(body, output, keys, args).toCompletableFuture();
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    private static String load(String resource) {
        try (InputStream in = Scripts.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Missing script resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
