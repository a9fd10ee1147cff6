package dev.tollgate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.config.Settings;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every validation rule of the engine's configuration names the key, the value and what is allowed. */
class TollgateConfigTest {

    @Test
    void defaults() {
        TollgateConfig c = TollgateConfig.ofDefaults();
        assertThat(c.asyncEnabled()).isTrue();
        // The README's figures, written out.
        assertThat(c.workers()).isEqualTo(2);
        assertThat(c.channelCapacity()).isEqualTo(65_536);
        assertThat(c.batchSize()).isEqualTo(10_000);
        assertThat(c.flushInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.queryTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.batchRetention()).isEqualTo(Duration.ofDays(1));
        assertThat(c.failMode()).isEqualTo(FailMode.OPEN);
        assertThat(c.zone()).isEqualTo(ZoneId.of("UTC"));
        assertThat(c.storeUrl()).startsWith("jdbc:h2:file:");
        assertThat(c.schema()).isEqualTo(TollgateConfig.SchemaMode.CREATE);
        assertThat(c.plans()).isEmpty();
        assertThat(c.journalPath()).isNull();
        assertThat(c.journalFsyncInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(c.allotmentExpiry()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.allotmentTarget()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aRetiredKeyStopsStartUpSayingWhatReplacedIt() {
        assertThatThrownBy(() -> TollgateConfig.from(Settings.of(Map.of("tollgate.check.strict.threshold", "10%"))))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("tollgate.check.strict.threshold: was removed")
                .hasMessageContaining("allotments");
        assertThatThrownBy(() -> TollgateConfig.from(Settings.of(Map.of("tollgate.check.cache.refresh-after", "1s"))))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith("tollgate.check.cache.refresh-after: was removed");
    }

    @Test
    void readsEveryKeyFromSettings() {
        TollgateConfig c = TollgateConfig.from(Settings.of(Map.ofEntries(
                Map.entry("tollgate.async.enabled", "false"),
                Map.entry("tollgate.async.workers", "3"),
                Map.entry("tollgate.async.channel-capacity", "2_000"),
                Map.entry("tollgate.async.batch-size", "20"),
                Map.entry("tollgate.async.flush-interval", "3s"),
                Map.entry("tollgate.async.retry.max-attempts", "5"),
                Map.entry("tollgate.async.retry.wait", "250ms"),
                Map.entry("tollgate.async.circuit-breaker.wait-in-open", "PT30S"),
                Map.entry("tollgate.async.shutdown-timeout", "1m"),
                Map.entry("tollgate.async.journal.path", "/var/lib/tollgate/journal"),
                Map.entry("tollgate.async.journal.fsync-interval", "0"),
                Map.entry("tollgate.allotment.expiry", "45s"),
                Map.entry("tollgate.allotment.target", "250ms"),
                Map.entry("tollgate.check.cache.max-size", "5000"),
                Map.entry("tollgate.check.cache.policy-refresh-after", "1m"),
                Map.entry("tollgate.check.fail-mode", "closed"),
                Map.entry("tollgate.store.url", "jdbc:postgresql://db/x"),
                Map.entry("tollgate.store.user", "u"),
                Map.entry("tollgate.store.password", "p"),
                Map.entry("tollgate.store.schema", "validate"),
                Map.entry("tollgate.store.pool-size", "8"),
                Map.entry("tollgate.store.connect-timeout", "500ms"),
                Map.entry("tollgate.store.query-timeout", "3s"),
                Map.entry("tollgate.store.batch-retention", "2d"),
                Map.entry("tollgate.zone", "Europe/Paris"),
                Map.entry("tollgate.default-plan", "pro"),
                Map.entry("tollgate.plans.pro.requests", "10/minute, 1000/day"),
                Map.entry("tollgate.plans.pro.tokens", "1_000_000/month"),
                Map.entry("tollgate.metrics.enabled", "off"),
                Map.entry("unrelated.key", "ignored"))));
        assertThat(c.asyncEnabled()).isFalse();
        assertThat(c.workers()).isEqualTo(3);
        assertThat(c.channelCapacity()).isEqualTo(2000);
        assertThat(c.batchSize()).isEqualTo(20);
        assertThat(c.flushInterval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.retryMaxAttempts()).isEqualTo(5);
        assertThat(c.retryWait()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.breakerWaitInOpen()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofMinutes(1));
        assertThat(c.journalPath()).isEqualTo(java.nio.file.Path.of("/var/lib/tollgate/journal"));
        assertThat(c.journalFsyncInterval()).isZero();
        assertThat(c.allotmentExpiry()).isEqualTo(Duration.ofSeconds(45));
        assertThat(c.allotmentTarget()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.cacheMaxSize()).isEqualTo(5000);
        assertThat(c.policyRefreshAfter()).isEqualTo(Duration.ofMinutes(1));
        assertThat(c.failMode()).isEqualTo(FailMode.CLOSED);
        assertThat(c.storeUrl()).isEqualTo("jdbc:postgresql://db/x");
        assertThat(c.storeUser()).isEqualTo("u");
        assertThat(c.storePassword()).isEqualTo("p");
        assertThat(c.schema()).isEqualTo(TollgateConfig.SchemaMode.VALIDATE);
        assertThat(c.poolSize()).isEqualTo(8);
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.queryTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.batchRetention()).isEqualTo(Duration.ofDays(2));
        assertThat(c.zone()).isEqualTo(ZoneId.of("Europe/Paris"));
        assertThat(c.defaultPlan()).isEqualTo("pro");
        assertThat(c.plans().get("pro").get("requests"))
                .containsExactly(Limit.of(10, Period.MINUTE), Limit.of(1000, Period.DAY));
        assertThat(c.plans().get("pro").get("tokens")).containsExactly(Limit.of(1_000_000, Period.MONTH));
        assertThat(c.metricsEnabled()).isFalse();
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("tollgate.async.enabled", "maybe", "true or false"),
                Arguments.of("tollgate.async.workers", "0", "from 1 to 64"),
                Arguments.of("tollgate.async.workers", "65", "from 1 to 64"),
                Arguments.of("tollgate.async.workers", "two", "an integer"),
                Arguments.of("tollgate.async.workers", "-3", "from 1 to 64"),
                Arguments.of("tollgate.async.channel-capacity", "8", "from 16 to 16777216"),
                Arguments.of("tollgate.async.channel-capacity", "99999999999", "an integer"),
                Arguments.of("tollgate.async.batch-size", "0", "from 1 to 100000"),
                Arguments.of("tollgate.async.flush-interval", "0ms", "from 1ms to 1h"),
                Arguments.of("tollgate.async.flush-interval", "5 parsecs", "a duration"),
                Arguments.of("tollgate.async.flush-interval", "2h", "from 1ms to 1h"),
                Arguments.of("tollgate.async.retry.max-attempts", "0", "from 1 to 100"),
                Arguments.of("tollgate.async.retry.wait", "-1s", "from 0ms to 1m"),
                Arguments.of("tollgate.async.circuit-breaker.wait-in-open", "1ms", "from 10ms to 1h"),
                Arguments.of("tollgate.async.shutdown-timeout", "1h", "from 0ms to 10m"),
                Arguments.of("tollgate.async.journal.path", "bad\u0000path", "a directory path"),
                Arguments.of("tollgate.async.journal.fsync-interval", "-1ms", "from 0ms to 10s"),
                Arguments.of("tollgate.async.journal.fsync-interval", "1m", "from 0ms to 10s"),
                Arguments.of("tollgate.allotment.expiry", "500ms", "from 1s to 1h"),
                Arguments.of("tollgate.allotment.target", "5ms", "from 10ms to 10m"),
                Arguments.of("tollgate.check.cache.max-size", "10", "from 100 to 100000000"),
                Arguments.of("tollgate.check.cache.policy-refresh-after", "5ms", "from 100ms to 1d"),
                Arguments.of("tollgate.check.fail-mode", "sideways", "one of open, closed"),
                Arguments.of("tollgate.store.url", "jdbc:mysql://x/y", "a jdbc:h2: or jdbc:postgresql: URL"),
                Arguments.of("tollgate.store.schema", "drop", "one of create, validate, none"),
                Arguments.of("tollgate.store.pool-size", "0", "from 1 to 200"),
                Arguments.of("tollgate.store.connect-timeout", "10ms", "from 250ms to 5m"),
                Arguments.of("tollgate.store.query-timeout", "0s", "from 1s to 1h"),
                Arguments.of("tollgate.store.batch-retention", "1s", "from 1m to 365d"),
                Arguments.of("tollgate.zone", "Mars/Olympus", "a time-zone id"),
                Arguments.of("tollgate.default-plan", "Gold Plan", "[a-z0-9_.-]{1,64}"),
                Arguments.of("tollgate.plans.free.requests", "1000", "<amount>/<period>"),
                Arguments.of("tollgate.plans.free.requests", "1000/fortnight", "unknown period 'fortnight'"),
                Arguments.of("tollgate.plans.free.requests", "-5/day", "<amount>/<period>"),
                Arguments.of("tollgate.plans.free.requests", "1e3/day", "must be a whole number"),
                Arguments.of("tollgate.plans.free.requests", "5/day,6/day", "names the period day twice"),
                Arguments.of("tollgate.plans.Free.requests", "5/day", "a plan name matching"),
                Arguments.of("tollgate.plans.free.Req uests", "5/day", "a quota name matching"),
                Arguments.of("tollgate.plans.free", "5/day", "tollgate.plans.<plan>.<quota>"),
                Arguments.of("tollgate.metrics.enabled", "2", "true or false"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void badValueIsRefusedNamingKeyValueAndWhatIsAllowed(String key, String value, String allowed) {
        Map<String, String> map = new java.util.HashMap<>(Map.of("tollgate.plans.free.requests", "1/day"));
        map.put(key, value);
        assertThatThrownBy(() -> TollgateConfig.from(Settings.of(map)))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageStartingWith(key + ": '" + value + "' is not allowed; expected")
                .hasMessageContaining(allowed)
                .satisfies(e -> assertThat(((InvalidConfigException) e).key()).isEqualTo(key));
    }

    @Test
    void defaultPlanMustBeAConfiguredPlan() {
        assertThatThrownBy(() -> TollgateConfig.custom().limit("pro", "requests", "5/day").build())
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("tollgate.default-plan: 'free' is not allowed; expected one of the configured plans [pro]");
    }

    @Test
    void builderSettersValidateToo() {
        assertThatThrownBy(() -> TollgateConfig.custom().workers(0))
                .hasMessage("tollgate.async.workers: '0' is not allowed; expected an integer from 1 to 64");
        assertThatThrownBy(() -> TollgateConfig.custom().flushInterval(Duration.ZERO))
                .hasMessageContaining("tollgate.async.flush-interval");
    }

    @Test
    void environmentVariablesBindByRelaxedNames() {
        Settings env = Settings.fromEnvironment(Map.of(
                "TOLLGATE_ASYNC_BATCH_SIZE", "77",
                "TOLLGATE_ASYNC_FLUSHINTERVAL", "2s",
                "TOLLGATE_CHECK_FAIL_MODE", "closed",
                "TOLLGATE_STORE_URL", "jdbc:h2:mem:env",
                "TOLLGATE_PLANS_FREE_REQUESTS", "1000/day",
                "TOLLGATE_PLANS_FREE_API_CALLS", "5/minute",
                "TOLLGATE_RULES_CHAT_QUOTAS", "requests:1",
                "TOLLGATE_NO_SUCH_THING", "x",
                "PATH", "/usr/bin"));
        assertThat(env.asMap()).containsOnly(
                Map.entry("tollgate.async.batch-size", "77"),
                Map.entry("tollgate.async.flush-interval", "2s"),
                Map.entry("tollgate.check.fail-mode", "closed"),
                Map.entry("tollgate.store.url", "jdbc:h2:mem:env"),
                Map.entry("tollgate.plans.free.requests", "1000/day"),
                Map.entry("tollgate.plans.free.api_calls", "5/minute"),
                Map.entry("tollgate.rules.chat.quotas", "requests:1"));
        TollgateConfig c = TollgateConfig.from(env);
        assertThat(c.batchSize()).isEqualTo(77);
        assertThat(c.plans().get("free").get("api_calls")).containsExactly(Limit.of(5, Period.MINUTE));
    }

    @Test
    void laterSourcesOverrideEarlierOnes() {
        Settings file = Settings.of(Map.of("tollgate.async.workers", "2", "tollgate.async.batch-size", "10"));
        Settings env = Settings.fromEnvironment(Map.of("TOLLGATE_ASYNC_WORKERS", "4"));
        TollgateConfig c = TollgateConfig.from(file.overriddenBy(env));
        assertThat(c.workers()).isEqualTo(4);
        assertThat(c.batchSize()).isEqualTo(10);
    }

    @Test
    void secretsAreMaskedWhenSettingsArePrinted() {
        Settings s = Settings.of(Map.of("tollgate.store.password", "hunter2", "tollgate.admin.token", "0123456789abcdefXYZ"));
        assertThat(s.toString()).doesNotContain("hunter2").doesNotContain("0123456789abcdefXYZ").contains("****");
    }

    @Test
    void limitsParseAndPrint() {
        assertThat(Limit.parse("1000/day")).isEqualTo(Limit.of(1000, Period.DAY));
        assertThat(Limit.parse(" 5 / MINUTE ")).isEqualTo(Limit.of(5, Period.MINUTE));
        assertThat(Limit.parseList("10/m,1000/d")).isEqualTo(List.of(Limit.of(10, Period.MINUTE),
                Limit.of(1000, Period.DAY)));
        assertThat(Limit.of(7, Period.TOTAL)).hasToString("7/total");
        assertThat(Settings.parseDuration("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Settings.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    }
}
