package dev.tollgate.core.internal.journal;

import dev.tollgate.core.TollgateException;

/** The journal could not be written; what was being appended is not in it. */
public class JournalException extends TollgateException {
    private static final long serialVersionUID = 1L;

    public JournalException(String message, Throwable cause) {
        super(message, cause);
    }
}
