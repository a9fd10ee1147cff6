package dev.tollgate.core;

/**
 * A configuration value that Tollgate cannot accept. The message always names the key,
 * the rejected value and what is allowed, for example
 * {@code tollgate.async.workers: '0' is not allowed; expected an integer from 1 to 256}.
 */
public class InvalidConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String allowed;

    public InvalidConfigException(String key, Object value, String allowed) {
        super(key + ": '" + value + "' is not allowed; expected " + allowed);
        this.key = key;
        this.allowed = allowed;
    }

    public InvalidConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
        this.allowed = null;
    }

    /** What is allowed, or {@code null} when the message is free-form. */
    public String allowed() {
        return allowed;
    }

    /** The configuration key whose value was rejected. */
    public String key() {
        return key;
    }
}
