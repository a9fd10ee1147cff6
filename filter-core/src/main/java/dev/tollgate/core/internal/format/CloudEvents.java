package dev.tollgate.core.internal.format;

import dev.tollgate.core.ThresholdCrossing;
import dev.tollgate.core.UsageWindow;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The CloudEvents 1.0 Tollgate writes, in one place for the pull export ({@code GET {admin}/usage})
 * and the push exporter: a window's usage ({@value #USAGE_TYPE}) and a threshold crossing
 * ({@value #THRESHOLD_TYPE}). An event's id is a name-based UUID of what it tells, so the same
 * window (or crossing) gets the same id every time it is sent and a receiver's de-duplication on
 * (source, id) makes repeats safe. Stateless.
 */
public final class CloudEvents {
    /** CloudEvents type of a window's usage. */
    public static final String USAGE_TYPE = "dev.tollgate.usage";
    /** CloudEvents type of a threshold crossing. */
    public static final String THRESHOLD_TYPE = "dev.tollgate.quota.threshold";
    /** Media type of a JSON array of events (CloudEvents JSON batch format). */
    public static final String BATCH_MEDIA_TYPE = "application/cloudevents-batch+json";

    private CloudEvents() {
    }

    /**
     * A window's usage: {@code time} is the window start; {@code data} holds the quota, the
     * period, the window's start and end, and the amount.
     */
    public static Map<String, Object> usage(String source, UsageWindow w) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("quota", w.quota());
        data.put("period", w.period().label());
        data.put("windowStart", w.start().toString());
        data.put("windowEnd", w.end().toString());
        data.put("amount", w.used());
        return event(usageId(w), source, USAGE_TYPE, w.subject(), w.start().toString(), data);
    }

    /** The same for every export of the window: a name-based UUID of its identity. */
    public static String usageId(UsageWindow w) {
        return id(USAGE_TYPE + "\n" + w.subject() + "\n" + w.quota() + "\n" + w.period().name() + "\n"
                + w.start().toEpochMilli());
    }

    /**
     * A threshold crossing: {@code time} is the window start; {@code data} holds the quota, the
     * period, the window, the threshold in percent, the limit and the usage that crossed it. Its
     * id names (subject, quota, period, window start, percent): a crossing is told once per window.
     */
    public static Map<String, Object> threshold(String source, ThresholdCrossing c) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("quota", c.quota());
        data.put("period", c.period().label());
        data.put("windowStart", c.windowStart().toString());
        data.put("windowEnd", c.windowEnd() == null ? null : c.windowEnd().toString());
        data.put("percent", c.percent());
        data.put("limit", c.limit());
        data.put("used", c.used());
        String id = id(THRESHOLD_TYPE + "\n" + c.subject() + "\n" + c.quota() + "\n" + c.period().name() + "\n"
                + c.windowStart().toEpochMilli() + "\n" + c.percent());
        return event(id, source, THRESHOLD_TYPE, c.subject(), c.windowStart().toString(), data);
    }

    private static Map<String, Object> event(String id, String source, String type, String subject, String time,
                                             Map<String, Object> data) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("specversion", "1.0");
        e.put("id", id);
        e.put("source", source);
        e.put("type", type);
        e.put("subject", subject);
        e.put("time", time);
        e.put("datacontenttype", "application/json");
        e.put("data", data);
        return e;
    }

    private static String id(String name) {
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
