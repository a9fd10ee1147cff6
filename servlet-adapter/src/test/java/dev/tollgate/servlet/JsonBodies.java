package dev.tollgate.servlet;

import java.util.Map;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Reads the JSON bodies the tests receive; whole numbers become {@link Long}s. */
final class JsonBodies {
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS).build();

    private JsonBodies() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String body) {
        return MAPPER.readValue(body, Map.class);
    }
}
