package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Period;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RateLimit fields: units of quotas that are not requests, and integers within 15 digits. */
class RateLimitFieldsTest {
    private static final Instant START = Instant.parse("2026-11-29T00:00:00Z");
    private static final Instant RESET = Instant.parse("2026-11-30T00:00:00Z");
    private static final Instant NOW = Instant.parse("2026-11-29T23:00:00Z");

    private static Decision day(String quota, long limit, long remaining) {
        return new Decision(true, Decision.Reason.WITHIN_LIMIT, quota, Period.DAY, limit, limit - remaining, remaining,
                START, RESET);
    }

    @Test
    void aQuotaThatIsNotRequestsCarriesItsUnit() {
        List<Decision> d = List.of(day("requests", 1000, 10), day("tokens", 5000, 4000), day("bytes", 100, 1),
                day("upload_bytes", 100, 1));
        assertThat(RateLimitFields.policy(d)).isEqualTo("\"requests-day\";q=1000;w=86400, "
                + "\"tokens-day\";q=5000;qu=\"tokens\";w=86400, \"bytes-day\";q=100;qu=\"content-bytes\";w=86400, "
                + "\"upload_bytes-day\";q=100;qu=\"content-bytes\";w=86400");
    }

    @Test
    void numbersAboveFifteenDigitsAreSentAsTheLargestStructuredFieldInteger() {
        List<Decision> d = List.of(day("tokens", Long.MAX_VALUE, Long.MAX_VALUE - 5),
                day("requests", 999_999_999_999_999L, 1_000_000_000_000_000L));
        assertThat(RateLimitFields.policy(d)).isEqualTo("\"tokens-day\";q=999999999999999;qu=\"tokens\";w=86400, "
                + "\"requests-day\";q=999999999999999;w=86400");
        assertThat(RateLimitFields.rateLimit(d, NOW)).isEqualTo("\"tokens-day\";r=999999999999999;t=3600, "
                + "\"requests-day\";r=999999999999999;t=3600");
    }
}
