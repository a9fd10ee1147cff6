package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FlatJsonTest {

    @Test
    void readsAFlatObjectInOrder() {
        Map<String, Object> m = FlatJson.parseObject(
                " {\"plan\" : \"pro\", \"n\":-12, \"big\":123456789012345678901, \"x\":1.5e2, \"t\":true,"
                        + " \"f\":false, \"z\":null, \"s\":\"a\\\"\\\\\\/\\n\\u00e9\"}\n");
        assertThat(m.keySet()).containsExactly("plan", "n", "big", "x", "t", "f", "z", "s");
        assertThat(m).containsEntry("plan", "pro").containsEntry("n", -12L)
                .containsEntry("big", new BigDecimal("123456789012345678901"))
                .containsEntry("x", new BigDecimal("1.5e2")).containsEntry("t", true).containsEntry("f", false)
                .containsEntry("z", null).containsEntry("s", "a\"\\/\n\u00e9");
        assertThat(FlatJson.parseObject("{}")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{'a':1}",
            "{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
            "{\"a\":\"line\nbreak\"}", "{\"a\":1,\"a\":2}", "{\"a\":\"open}", "{a:1}"})
    void refusesAnythingElse(String text) {
        assertThatThrownBy(() -> FlatJson.parseObject(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Malformed JSON at character ");
    }

    @Test
    void namesTheDuplicateMember() {
        assertThatThrownBy(() -> FlatJson.parseObject("{\"plan\":\"a\",\"plan\":\"b\"}"))
                .hasMessageContaining("member 'plan' appears twice");
    }
}
