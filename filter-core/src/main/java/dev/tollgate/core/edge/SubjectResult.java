package dev.tollgate.core.edge;

import java.util.Objects;

/**
 * The outcome of resolving who pays for a request: a subject, no subject, or a credential
 * that is refused (answered with 400). Immutable.
 */
public final class SubjectResult {
    private static final SubjectResult ABSENT = new SubjectResult(null, null);

    private final String subject;
    private final Problem problem;

    private SubjectResult(String subject, Problem problem) {
        this.subject = subject;
        this.problem = problem;
    }

    /** A subject, as it is stored. */
    public static SubjectResult of(String subject) {
        return new SubjectResult(Objects.requireNonNull(subject, "subject"), null);
    }

    /** The request identifies nobody. */
    public static SubjectResult absent() {
        return ABSENT;
    }

    /** The request's credential cannot be used; {@code detail} tells the caller why. */
    public static SubjectResult refused(String detail) {
        return new SubjectResult(null, Problem.badSubject(detail));
    }

    /** The subject, or {@code null} when absent or refused. */
    public String subject() {
        return subject;
    }

    public boolean present() {
        return subject != null;
    }

    /** Whether the credential was refused. */
    public boolean refused() {
        return problem != null;
    }

    /** Why the credential was refused, or {@code null}. */
    Problem problem() {
        return problem;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SubjectResult r && Objects.equals(subject, r.subject) && Objects.equals(problem, r.problem);
    }

    @Override
    public int hashCode() {
        return Objects.hash(subject, problem);
    }

    @Override
    public String toString() {
        return subject != null ? "SubjectResult[" + subject + "]"
                : problem != null ? "SubjectResult[refused: " + problem.detail() + "]" : "SubjectResult[absent]";
    }
}
