package dev.tollgate.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Makes subjects out of credentials. A raw API key is never stored: it becomes
 * {@code key:} followed by the hex SHA-256 of the key, which is what the store sees.
 */
public final class Subjects {
    /** Prefix of subjects made from API keys. */
    public static final String API_KEY_PREFIX = "key:";

    private static final HexFormat HEX = HexFormat.of();

    private Subjects() {
    }

    /** {@code key:<sha-256 hex>} of the given API key. Thread-safe. */
    public static String apiKey(String rawKey) {
        Objects.requireNonNull(rawKey, "rawKey");
        return API_KEY_PREFIX + HEX.formatHex(sha256().digest(rawKey.getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
