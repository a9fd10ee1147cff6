package dev.tollgate.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * Makes subjects out of credentials. A raw API key is never stored: it becomes
 * {@code key:} followed by the hex SHA-256 of the key, which is what the store sees.
 */
public final class Subjects {
    /** Prefix of subjects made from API keys. */
    public static final String API_KEY_PREFIX = "key:";

    private static final byte[] DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** One digest per thread, reset after each use: creating one per key costs more than hashing it. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(Subjects::sha256);

    private Subjects() {
    }

    /** {@code key:<sha-256 hex>} of the given API key. Thread-safe. */
    public static String apiKey(String rawKey) {
        Objects.requireNonNull(rawKey, "rawKey");
        MessageDigest md = SHA_256.get();
        byte[] hash = md.digest(rawKey.getBytes(StandardCharsets.UTF_8));
        byte[] out = new byte[API_KEY_PREFIX.length() + hash.length * 2];
        for (int i = 0; i < API_KEY_PREFIX.length(); i++) {
            out[i] = (byte) API_KEY_PREFIX.charAt(i);
        }
        int p = API_KEY_PREFIX.length();
        for (byte b : hash) {
            out[p++] = DIGITS[(b >> 4) & 0xf];
            out[p++] = DIGITS[b & 0xf];
        }
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }
}
