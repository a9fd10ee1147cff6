package dev.tollgate.core.edge;

/**
 * The outcome of resolving who pays for a request: a subject, no subject, or a problem
 * with the credential (answered with 400).
 *
 * @param subject the subject, or {@code null}
 * @param problem why the credential was refused, or {@code null}
 */
public record SubjectResult(String subject, Problem problem) {
    private static final SubjectResult ABSENT = new SubjectResult(null, null);

    public static SubjectResult of(String subject) {
        return new SubjectResult(subject, null);
    }

    public static SubjectResult absent() {
        return ABSENT;
    }

    public static SubjectResult refused(String detail) {
        return new SubjectResult(null, Problem.badSubject(detail));
    }

    public boolean present() {
        return subject != null;
    }
}
