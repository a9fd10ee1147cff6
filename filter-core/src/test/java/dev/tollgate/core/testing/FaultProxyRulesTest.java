package dev.tollgate.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** What the fault proxy decides without a server: which statements are COMMITs, and its URLs. */
class FaultProxyRulesTest {

    @Test
    void recognisesCommitStatements() {
        assertThat(FaultProxy.isCommit("COMMIT")).isTrue();
        assertThat(FaultProxy.isCommit(" commit ; ")).isTrue();
        assertThat(FaultProxy.isCommit("END TRANSACTION")).isTrue();
        assertThat(FaultProxy.isCommit("end work")).isTrue();
        assertThat(FaultProxy.isCommit("COMMIT PREPARED 'x'")).isFalse();
        assertThat(FaultProxy.isCommit("SELECT 'COMMIT'")).isFalse();
        assertThat(FaultProxy.isCommit("ROLLBACK")).isFalse();
        assertThat(FaultProxy.isCommit("")).isFalse();
    }

    @Test
    void pointsADirectUrlAtItselfInClearText() {
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", 9)) {
            int port = proxy.port();
            assertThat(proxy.jdbcUrl("jdbc:postgresql://db.example:5432/app"))
                    .isEqualTo("jdbc:postgresql://127.0.0.1:" + port + "/app?sslmode=disable");
            assertThat(proxy.jdbcUrl("jdbc:postgresql://db.example/app?currentSchema=s1", "socketTimeout=2"))
                    .isEqualTo("jdbc:postgresql://127.0.0.1:" + port + "/app?currentSchema=s1&sslmode=disable"
                            + "&socketTimeout=2");
            assertThat(proxy.mode()).isEqualTo(FaultProxy.Mode.PASS);
            assertThatThrownBy(() -> proxy.jdbcUrl("jdbc:h2:mem:x")).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
