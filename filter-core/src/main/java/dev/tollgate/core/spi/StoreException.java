package dev.tollgate.core.spi;

import dev.tollgate.core.TollgateException;

/**
 * A store call failed. Unless it is an {@link InDoubtException}, nothing of the failed
 * call was applied.
 */
public class StoreException extends TollgateException {
    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
