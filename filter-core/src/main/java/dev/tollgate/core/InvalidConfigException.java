package dev.tollgate.core;

/**
 * A configuration value that Tollgate cannot accept. The message always names the key,
 * the rejected value and what is allowed, for example
 * {@code tollgate.async.workers: '0' is not allowed; expected an integer from 1 to 64}.
 * Immutable once thrown.
 */
public class InvalidConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String value;
    private final String allowed;
    private final String detail;

    /** {@code <key>: '<value>' is not allowed; expected <allowed>}. */
    public InvalidConfigException(String key, Object value, String allowed) {
        super(key + ": '" + value + "' is not allowed; expected " + allowed);
        this.key = key;
        this.value = String.valueOf(value);
        this.allowed = allowed;
        this.detail = null;
    }

    /** {@code <key>: <message>}, for a problem that is not one value. */
    public InvalidConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
        this.value = null;
        this.allowed = null;
        this.detail = message;
    }

    /**
     * The same problem told of another name, e.g. a gateway route's argument that stands for
     * a key: {@code route 'chat', Quota filter argument fail-mode: 'sometimes' is not allowed; ...}.
     */
    public InvalidConfigException renamed(String name) {
        InvalidConfigException e = allowed != null ? new InvalidConfigException(name, value, allowed)
                : new InvalidConfigException(name, detail);
        e.initCause(this);
        return e;
    }

    /** The rejected value as quoted in the message ({@code ****} for a secret), or {@code null} when free-form. */
    public String value() {
        return value;
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
