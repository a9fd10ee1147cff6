package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One call per phase: the rule is found once, then the admission uses it; the admin path is never metered. */
class QuotaGatePhasesTest {
    private final TestDatabase db = TestDatabases.h2();
    private final Tollgate tollgate = Tollgate.builder(TollgateConfig.custom().failMode(FailMode.CLOSED)
            .limit("free", "requests", "2/day").build()).dataSource(db.dataSource()).build();

    @AfterEach
    void tearDown() {
        tollgate.close();
        db.close();
    }

    private QuotaGate gate(EdgeConfig.Builder edge) {
        // Subjects here are not API keys to register: this test is about the phases of a request.
        return new QuotaGate(tollgate, edge.unknownSubjects(EdgeConfig.UnknownSubjects.DEFAULT_PLAN)
                .rule("all", "/**", null, "requests").build());
    }

    @Test
    void theRuleFoundForARequestIsTheOneItsAdmissionCharges() {
        QuotaGate gate = gate(EdgeConfig.custom());
        QuotaRule rule = gate.rule("GET", "/api/hello");

        assertThat(rule.name()).isEqualTo("all");
        Admission a = gate.admit(rule, "GET", "/api/hello", SubjectResult.of("alice"));
        assertThat(a.kind()).isEqualTo(Admission.Kind.ADMIT);
        assertThat(a.decisions()).extracting(d -> d.quota()).containsExactly("requests");
        assertThat(gate.admit(null, "GET", "/api/hello", SubjectResult.of("alice")).kind())
                .isEqualTo(Admission.Kind.PASS);
    }

    @Test
    void nothingUnderTheAdminPathIsMeteredAndItCountsAsPassedThrough() {
        QuotaGate gate = gate(EdgeConfig.custom().adminPath("/ops/quota"));

        assertThat(gate.rule("GET", "/ops/quota")).isNull();
        assertThat(gate.rule("GET", "/ops/quota/me")).isNull();
        assertThat(gate.rule("GET", "/ops/quotas")).isNotNull();
        assertThat(gate.rule("GET", "/tollgate/me")).isNotNull();
        assertThat(gate.stats()).containsEntry("passedThrough", 2L);
    }

    @Test
    void aDisabledEdgeMetersNothingAndCountsNothing() {
        QuotaGate gate = gate(EdgeConfig.custom().enabled(false));

        assertThat(gate.rule("GET", "/api/hello")).isNull();
        assertThat(gate.stats()).containsEntry("passedThrough", 0L);
    }

    @Test
    void theFailModeIsTheEdgesOwnElseTheEngines() {
        assertThat(gate(EdgeConfig.custom()).failMode()).isEqualTo(FailMode.CLOSED);
        assertThat(gate(EdgeConfig.custom().failMode(FailMode.OPEN)).failMode()).isEqualTo(FailMode.OPEN);
    }
}
