package dev.tollgate.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.InvalidConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The descriptions themselves: consistent, and what the readers and the environment rely on. */
class TollgateKeysTest {

    @Test
    void everyDefaultIsWrittenInAFormItsKeyReadsBackAndIsWithinRange() {
        List<String> problems = new ArrayList<>();
        for (ConfigKey<?> key : TollgateKeys.all()) {
            String text = key.defaultText();
            if (text == null || text.isEmpty()) {
                continue;
            }
            Object parsed = key.parse(text);
            if (!parsed.toString().equals(key.defaultValue().toString())) {
                problems.add(key.name() + ": '" + text + "' reads back as " + parsed);
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyFixedKeyStartsWithThePrefixAndHasAMeaning() {
        for (ConfigKey<?> key : TollgateKeys.all()) {
            assertThat(key.name()).startsWith("tollgate.");
            assertThat(key.description()).as(key.name()).isNotBlank().endsWith(".");
        }
        assertThat(TollgateKeys.fixedKeys()).containsKeys("tollgate.async.workers", "tollgate.admin.path",
                "tollgate.config.file").doesNotContainKey("tollgate.plans.<plan>.<quota>");
    }

    @Test
    void plansAndRuleLeavesAreKnownOtherKeysAreNot() {
        assertThat(TollgateKeys.isKnown("tollgate.plans.free.requests")).isTrue();
        assertThat(TollgateKeys.isKnown("tollgate.rules.chat-api.quotas")).isTrue();
        assertThat(TollgateKeys.describe("tollgate.rules.chat.order")).isSameAs(TollgateKeys.RULE_ORDER);
        assertThat(TollgateKeys.isKnown("tollgate.plans.free")).isFalse();
        assertThat(TollgateKeys.isKnown("tollgate.rules.chat.cost")).isFalse();
        assertThat(TollgateKeys.isKnown("tollgate.async.worker")).isFalse();
    }

    @Test
    void environmentVariablesNameKeysByTheirRelaxedNames() {
        assertThat(TollgateKeys.keyOfEnvironmentVariable("TOLLGATE_ASYNC_BATCH_SIZE")).isEqualTo("tollgate.async.batch-size");
        assertThat(TollgateKeys.keyOfEnvironmentVariable("TOLLGATE_ASYNC_BATCHSIZE")).isEqualTo("tollgate.async.batch-size");
        assertThat(TollgateKeys.keyOfEnvironmentVariable("TOLLGATE_ASYNC_CIRCUIT_BREAKER_WAIT_IN_OPEN"))
                .isEqualTo("tollgate.async.circuit-breaker.wait-in-open");
        assertThat(TollgateKeys.keyOfEnvironmentVariable("TOLLGATE_RULES_CHAT_API_PATH"))
                .isEqualTo("tollgate.rules.chat-api.path");
        assertThat(TollgateKeys.keyOfEnvironmentVariable("TOLLGATE_RULES_CHAT_COST")).isNull();
        assertThat(TollgateKeys.ASYNC_BATCH_SIZE.environmentName()).isEqualTo("TOLLGATE_ASYNC_BATCH_SIZE");
    }

    @Test
    void aValueIsCheckedAgainstItsRangeWhetherItComesAsTextOrFromABuilder() {
        assertThat(TollgateKeys.ASYNC_FLUSH_INTERVAL.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> TollgateKeys.ASYNC_FLUSH_INTERVAL.parse("61m"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("tollgate.async.flush-interval: '61m' is not allowed; expected a duration from 1ms to 1h");
        assertThatThrownBy(() -> TollgateKeys.ASYNC_FLUSH_INTERVAL.check(Duration.ofMinutes(61)))
                .hasMessage("tollgate.async.flush-interval: '61m' is not allowed; expected a duration from 1ms to 1h");
        assertThatThrownBy(() -> TollgateKeys.CHECK_CACHE_MAX_SIZE.parse("lots"))
                .hasMessage("tollgate.check.cache.max-size: 'lots' is not allowed; expected a whole number");
    }

    @Test
    void secretsAreNeverQuoted() {
        assertThatThrownBy(() -> TollgateKeys.ADMIN_TOKEN.parse("hunter2"))
                .hasMessage("tollgate.admin.token: '****' is not allowed; expected a token of at least 16 characters");
        assertThat(TollgateKeys.STORE_PASSWORD.isSecret()).isTrue();
    }
}
