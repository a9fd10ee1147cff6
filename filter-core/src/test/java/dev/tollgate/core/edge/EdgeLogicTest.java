package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.Decision;
import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.config.Settings;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The adapter-neutral pieces of the edge: patterns, costs, statuses, fields, problems, config. */
class EdgeLogicTest {

    @Test
    void pathPatterns() {
        PathPattern api = PathPattern.compile("/api/**");
        assertThat(api.matches("/api")).isTrue();
        assertThat(api.matches("/api/hello")).isTrue();
        assertThat(api.matches("/api/a/b/c")).isTrue();
        assertThat(api.matches("/apix")).isFalse();
        PathPattern one = PathPattern.compile("/api/*/items");
        assertThat(one.matches("/api/x/items")).isTrue();
        assertThat(one.matches("/api/x/y/items")).isFalse();
        assertThat(PathPattern.compile("/api/hello").matches("/api/hello/")).isFalse();
        assertThat(PathPattern.compile("/a.b").matches("/aXb")).isFalse();
        assertThatThrownBy(() -> PathPattern.compile("api")).hasMessageContaining("must start with /");
    }

    @Test
    void quotaCosts() {
        assertThat(QuotaCost.parse("requests")).isEqualTo(QuotaCost.fixed("requests", 1));
        assertThat(QuotaCost.parse("requests:5")).isEqualTo(QuotaCost.fixed("requests", 5));
        assertThat(QuotaCost.parse("tokens:X-Usage-Tokens")).isEqualTo(QuotaCost.fromHeader("tokens", "X-Usage-Tokens", 1));
        assertThat(QuotaCost.parse("tokens:X-Usage-Tokens:500")).isEqualTo(QuotaCost.fromHeader("tokens", "X-Usage-Tokens", 500));
        assertThat(QuotaCost.parseList("requests:1, tokens:X-Usage-Tokens")).hasSize(2);
        assertThatThrownBy(() -> QuotaCost.parse("requests:-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> QuotaCost.parse("tokens:Bad Header")).hasMessageContaining("header name");
        assertThatThrownBy(() -> QuotaCost.parse("Requests:1")).hasMessageContaining("quota name");
    }

    @Test
    void statusSets() {
        StatusSet d = StatusSet.parse(StatusSet.DEFAULT);
        assertThat(d.contains(200)).isTrue();
        assertThat(d.contains(404)).isTrue();
        assertThat(d.contains(429)).isFalse();
        assertThat(d.contains(500)).isFalse();
        assertThat(d.contains(503)).isFalse();
        StatusSet only2xx = StatusSet.parse("200-299,!204");
        assertThat(only2xx.contains(201)).isTrue();
        assertThat(only2xx.contains(204)).isFalse();
        assertThat(only2xx.contains(301)).isFalse();
        assertThatThrownBy(() -> StatusSet.parse("2xx,teapot")).hasMessageContaining("'teapot'");
        assertThatThrownBy(() -> StatusSet.parse("700")).hasMessageContaining("outside 100-599");
    }

    @Test
    void rateLimitFieldsFollowTheDraftSyntax() {
        Instant start = Instant.parse("2026-11-26T00:00:00Z");
        Instant reset = Instant.parse("2026-11-27T00:00:00Z");
        Decision day = Decision.evaluate("requests", Limit.of(1000, Period.DAY), 1, 1, start, reset);
        Decision total = Decision.evaluate("bytes", Limit.of(50, Period.TOTAL), 0, 10, Instant.EPOCH, Instant.MAX);
        List<Decision> all = List.of(day, total, Decision.unlimited("uploads"));
        assertThat(RateLimitFields.policy(all))
                .isEqualTo("\"requests-day\";q=1000;w=86400, \"bytes-total\";q=50;qu=\"content-bytes\"");
        assertThat(RateLimitFields.rateLimit(all, Instant.parse("2026-11-26T23:00:00Z")))
                .isEqualTo("\"requests-day\";r=998;t=3600, \"bytes-total\";r=40");
        assertThat(RateLimitFields.policy(List.of(Decision.unlimited("x")))).isNull();
    }

    @Test
    void problemBodiesAreEscapedJson() {
        String json = Problem.quotaExceeded("He said \"no\"\n", Map.of("limit", 5)).toJson("/api/x\u0001");
        assertThat(json).isEqualTo("{\"type\":\"https://tollgate.dev/problems/quota-exceeded\",\"title\":\"Quota exceeded\","
                + "\"status\":429,\"detail\":\"He said \\\"no\\\"\\n\",\"instance\":\"/api/x\\u0001\",\"limit\":5}");
    }

    @Test
    void edgeConfigReadsRulesAndRefusesBadOnes() {
        EdgeConfig c = EdgeConfig.from(Settings.of(Map.of(
                "tollgate.rules.hello.path", "/api/hello",
                "tollgate.rules.hello.methods", "GET",
                "tollgate.rules.hello.quotas", "requests:1",
                "tollgate.rules.chat.path", "/api/chat",
                "tollgate.rules.chat.quotas", "requests:1,tokens:X-Usage-Tokens:100",
                "tollgate.mode", "shadow",
                "tollgate.count.statuses", "2xx")));
        assertThat(c.mode()).isEqualTo(EdgeConfig.Mode.SHADOW);
        assertThat(c.match("GET", "/api/hello").name()).isEqualTo("hello");
        assertThat(c.match("POST", "/api/hello")).isNull();
        assertThat(c.match("POST", "/api/chat").costs()).hasSize(2);
        assertThat(c.countedStatuses().contains(404)).isFalse();

        assertThatThrownBy(() -> EdgeConfig.from(Settings.of(Map.of("tollgate.rules.x.quotas", "requests"))))
                .isInstanceOf(InvalidConfigException.class).hasMessageStartingWith("tollgate.rules.x.path:");
        assertThatThrownBy(() -> EdgeConfig.from(Settings.of(Map.of("tollgate.rules.x.path", "/a",
                "tollgate.rules.x.quotas", "requests:-3"))))
                .hasMessageStartingWith("tollgate.rules.x.quotas: 'requests:-3' is not allowed");
        assertThatThrownBy(() -> EdgeConfig.from(Settings.of(Map.of("tollgate.count.statuses", "2xx,abc"))))
                .hasMessageStartingWith("tollgate.count.statuses: '2xx,abc' is not allowed");
        assertThatThrownBy(() -> EdgeConfig.from(Settings.of(Map.of("tollgate.admin.token", "short"))))
                .hasMessage("tollgate.admin.token: '****' is not allowed; expected a token of at least 16 characters");
        assertThatThrownBy(() -> EdgeConfig.from(Settings.of(Map.of("tollgate.subject.header", "X Key"))))
                .hasMessageStartingWith("tollgate.subject.header:");
        assertThatThrownBy(() -> EdgeConfig.from(Settings.of(Map.of("tollgate.mode", "loud"))))
                .hasMessageContaining("one of enforce, shadow");
    }
}
