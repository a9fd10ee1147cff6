package dev.tollgate.servlet;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Decides who pays for a request when neither an API-key header nor the authenticated
 * principal fits (a tenant header checked against a session, a claim of a token that an
 * earlier filter verified...). Selected with {@code tollgate.subject.source=resolver} and
 * {@code tollgate.subject.resolver=<class name>}; the class needs a public no-argument
 * constructor. One instance serves all requests, so implementations must be thread-safe.
 *
 * <p>The returned string is stored as the quota subject as it is: never return a secret.
 * For a credential, return {@link dev.tollgate.core.Subjects#apiKey(String)} of it (a
 * SHA-256 fingerprint).
 */
@FunctionalInterface
public interface SubjectResolver {

    /**
     * The subject of a request.
     *
     * @return the subject (1 to 200 characters, no control characters), or {@code null} or
     *         blank when the request identifies nobody (answered with 401 when a subject is
     *         required)
     */
    String resolve(HttpServletRequest request);
}
