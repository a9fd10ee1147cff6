package dev.tollgate.core.spi;

/**
 * The commit of a batch was sent but its answer was lost: the batch may or may not have
 * been applied. Re-applying it with the same batch id is safe, since the store records
 * applied batch ids in the same transaction.
 */
public class InDoubtException extends StoreException {
    private static final long serialVersionUID = 1L;

    public InDoubtException(String message, Throwable cause) {
        super(message, cause);
    }
}
