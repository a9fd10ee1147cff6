package dev.tollgate.core.spi;

/**
 * The store answered, and refused the data of the call: a value out of range (a counter that
 * would pass {@code Long.MAX_VALUE}), a constraint the data breaks. Retrying the same data fails
 * the same way, so the engine does not retry it and its circuit breaker does not count it; a
 * write batch that fails so is split until the counters that cause it are found and set aside.
 * Nothing of the failed call was applied.
 */
public class PermanentStoreException extends StoreException {
    private static final long serialVersionUID = 1L;

    public PermanentStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
