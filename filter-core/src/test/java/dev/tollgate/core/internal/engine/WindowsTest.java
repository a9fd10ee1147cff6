package dev.tollgate.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Period;
import dev.tollgate.core.testing.MutableClock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The engine's calendar windows: bounds, the configured zone, and the window cached per period. */
class WindowsTest {
    private static long ms(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    @Test
    void eachPeriodHasItsCalendarWindowAroundAnInstant() {
        Windows w = new Windows(new MutableClock(Instant.parse("2026-11-26T10:15:42.500Z")), ZoneOffset.UTC);
        long now = ms("2026-11-26T10:15:42.500Z");
        assertThat(w.at(Period.MINUTE, now)).extracting(Windows.Window::start, Windows.Window::end)
                .containsExactly(ms("2026-11-26T10:15:00Z"), ms("2026-11-26T10:16:00Z"));
        assertThat(w.at(Period.HOUR, now)).extracting(Windows.Window::start, Windows.Window::end)
                .containsExactly(ms("2026-11-26T10:00:00Z"), ms("2026-11-26T11:00:00Z"));
        assertThat(w.at(Period.DAY, now)).extracting(Windows.Window::start, Windows.Window::end)
                .containsExactly(ms("2026-11-26T00:00:00Z"), ms("2026-11-27T00:00:00Z"));
        assertThat(w.at(Period.MONTH, now)).extracting(Windows.Window::start, Windows.Window::end)
                .containsExactly(ms("2026-11-01T00:00:00Z"), ms("2026-12-01T00:00:00Z"));
        Windows.Window total = w.at(Period.TOTAL, now);
        assertThat(total.start()).isZero();
        assertThat(total.end()).isEqualTo(Long.MAX_VALUE);
        assertThat(total.endInstant()).isEqualTo(Instant.MAX);
        assertThat(w.current(Period.DAY)).isEqualTo(w.at(Period.DAY, now));
    }

    @Test
    void aWindowContainsItsStartButNotItsEnd() {
        Windows w = new Windows(new MutableClock(Instant.EPOCH), ZoneOffset.UTC);
        Windows.Window day = w.at(Period.DAY, ms("2026-11-26T12:00:00Z"));
        assertThat(day.contains(ms("2026-11-26T00:00:00Z"))).isTrue();
        assertThat(day.contains(ms("2026-11-26T23:59:59.999Z"))).isTrue();
        assertThat(day.contains(ms("2026-11-27T00:00:00Z"))).isFalse();
        assertThat(day.contains(ms("2026-11-25T23:59:59.999Z"))).isFalse();
    }

    @Test
    void theCurrentWindowFollowsTheClockAcrossABoundaryAndEarlierInstantsStillGetTheirOwn() {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-26T23:59:59.999Z"));
        Windows w = new Windows(clock, ZoneOffset.UTC);
        assertThat(w.current(Period.DAY).start()).isEqualTo(ms("2026-11-26T00:00:00Z"));
        clock.set(Instant.parse("2026-11-27T00:00:00Z"));
        assertThat(w.current(Period.DAY).start()).isEqualTo(ms("2026-11-27T00:00:00Z"));
        // A record stamped before midnight, written after it, keeps its own day.
        assertThat(w.at(Period.DAY, ms("2026-11-26T23:59:59.999Z")).start()).isEqualTo(ms("2026-11-26T00:00:00Z"));
        assertThat(w.current(Period.DAY).start()).as("still today's").isEqualTo(ms("2026-11-27T00:00:00Z"));
        assertThat(w.nowMillis()).isEqualTo(ms("2026-11-27T00:00:00Z"));
    }

    @Test
    void daysAndMonthsFollowTheConfiguredZone() {
        Windows paris = new Windows(new MutableClock(Instant.EPOCH), ZoneId.of("Europe/Paris"));
        long t = ms("2026-11-26T23:30:00Z"); // 00:30 on 27 Nov in Paris
        assertThat(paris.at(Period.DAY, t).start()).isEqualTo(ms("2026-11-26T23:00:00Z"));
        assertThat(paris.at(Period.MONTH, ms("2026-11-30T23:30:00Z")).start())
                .as("already December in Paris").isEqualTo(ms("2026-11-30T23:00:00Z"));
        Windows.Window shortDay = paris.at(Period.DAY, ms("2026-03-29T12:00:00Z"));
        assertThat(shortDay.end() - shortDay.start()).as("23 hours on the spring change").isEqualTo(23 * 3_600_000L);
    }
}
