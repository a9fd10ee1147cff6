package dev.tollgate.core;

/**
 * Root of the unchecked exceptions Tollgate throws when something fails at run time
 * (the store cannot be reached, a schema is missing). API misuse is reported with the
 * JDK's own exceptions ({@link NullPointerException}, {@link IllegalArgumentException},
 * {@link IllegalStateException}).
 */
public class TollgateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TollgateException(String message) {
        super(message);
    }

    public TollgateException(String message, Throwable cause) {
        super(message, cause);
    }
}
