package dev.tollgate.spring;

import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.TollgateKeys;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes {@code META-INF/additional-spring-configuration-metadata.json} from the key
 * descriptions in {@link TollgateKeys}: each property's description and default (which the
 * configuration processor cannot read from {@link TollgateProperties}, whose fields hold only
 * what is set) and the values of enumerated properties. The processor merges it into the
 * metadata it generates from the properties' types. Stateless.
 */
final class ConfigurationMetadata {
    /** Where the file lives in the module. */
    static final String FILE = "src/main/resources/META-INF/additional-spring-configuration-metadata.json";

    private ConfigurationMetadata() {
    }

    /** The file's content. */
    static String generate() {
        List<String> properties = new ArrayList<>();
        List<String> hints = new ArrayList<>();
        StringBuilder rules = new StringBuilder();
        for (ConfigKey<?> key : TollgateKeys.all()) {
            if (!key.isSpringBound()) {
                continue;
            }
            if (key == TollgateKeys.PLAN_LIMITS) {
                properties.add(property("tollgate.plans", key.description() + " Keys: plan, then quota.", null));
                continue;
            }
            if (TollgateKeys.isFamily(key)) {
                String leaf = key.name().substring(key.name().lastIndexOf('.') + 1);
                rules.append(rules.length() == 0 ? "" : " ").append(leaf).append(": ").append(key.description());
                continue;
            }
            properties.add(property(key.name(), key.description(), defaultValue(key)));
            if (!key.type().values().isEmpty() && key.type().javaType() != Boolean.class) {
                StringBuilder values = new StringBuilder();
                for (String v : key.type().values()) {
                    values.append(values.length() == 0 ? "" : ", ").append("{\"value\": ").append(json(v)).append('}');
                }
                hints.add("    {\"name\": " + json(key.name()) + ", \"values\": [" + values + "]}");
            }
        }
        properties.add(property("tollgate.rules", "Path-matched rules by name. " + rules, null));
        return "{\n  \"properties\": [\n" + String.join(",\n", properties) + "\n  ],\n  \"hints\": [\n"
                + String.join(",\n", hints) + "\n  ]\n}\n";
    }

    private static String property(String name, String description, String defaultValue) {
        return "    {\"name\": " + json(name) + ", \"description\": " + json(description)
                + (defaultValue == null ? "" : ", \"defaultValue\": " + defaultValue) + "}";
    }

    /** The default as a JSON value: a number or a boolean as such, anything else as text. */
    private static String defaultValue(ConfigKey<?> key) {
        Object value = key.defaultValue();
        if (value == null) {
            return null;
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        return json(key.defaultText());
    }

    private static String json(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
