package dev.tollgate.core;

import java.util.regex.Pattern;

/** Validation of names used as keys in the store. */
public final class Names {
    /** Quota and plan names: lower-case letters, digits, {@code _ . -}, 1 to 64 characters. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9_.-]{1,64}");

    /** The longest subject Tollgate accepts, in characters. */
    public static final int MAX_SUBJECT_LENGTH = 200;

    /** The longest request id (idempotency key) Tollgate accepts, in characters. */
    public static final int MAX_REQUEST_ID_LENGTH = 255;

    private Names() {
    }

    /**
     * Checks a quota name.
     *
     * @throws IllegalArgumentException if it does not match {@link #NAME}
     */
    public static String quota(String quota) {
        if (quota == null || !NAME.matcher(quota).matches()) {
            throw new IllegalArgumentException("quota name '" + quota + "' is not allowed; expected "
                    + NAME.pattern());
        }
        return quota;
    }

    /** Checks a plan name, like {@link #quota}. */
    public static String plan(String plan) {
        if (plan == null || !NAME.matcher(plan).matches()) {
            throw new IllegalArgumentException("plan name '" + plan + "' is not allowed; expected "
                    + NAME.pattern());
        }
        return plan;
    }

    /**
     * Checks a subject: 1 to {@value #MAX_SUBJECT_LENGTH} characters, no control characters.
     *
     * @throws IllegalArgumentException otherwise
     */
    public static String subject(String subject) {
        if (subject == null || subject.isEmpty() || subject.length() > MAX_SUBJECT_LENGTH) {
            throw new IllegalArgumentException("subject must be 1 to " + MAX_SUBJECT_LENGTH + " characters");
        }
        for (int i = 0; i < subject.length(); i++) {
            char c = subject.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("subject must not contain control characters");
            }
        }
        return subject;
    }

    /**
     * Checks a request id (an idempotency key): 1 to {@value #MAX_REQUEST_ID_LENGTH} visible
     * ASCII characters (no spaces, no control characters).
     *
     * @throws IllegalArgumentException otherwise
     */
    public static String requestId(String requestId) {
        if (requestId == null || requestId.isEmpty() || requestId.length() > MAX_REQUEST_ID_LENGTH) {
            throw new IllegalArgumentException("request id must be 1 to " + MAX_REQUEST_ID_LENGTH + " characters, was "
                    + (requestId == null ? "null" : requestId.length() + " characters"));
        }
        for (int i = 0; i < requestId.length(); i++) {
            char c = requestId.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new IllegalArgumentException("request id may only hold visible ASCII characters; character "
                        + i + " is U+" + String.format("%04X", (int) c));
            }
        }
        return requestId;
    }
}
