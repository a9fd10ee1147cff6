package dev.tollgate.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.TollgateKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The configuration metadata shipped in the jar is generated from the key descriptions:
 * the checked-in file must be what {@link ConfigurationMetadata} writes now. To update it,
 * run this test with {@code -Dtollgate.metadata.write=true}.
 */
class ConfigurationMetadataTest {

    @Test
    void theCheckedInFileIsTheGeneratedOne() throws IOException {
        Path file = Path.of(ConfigurationMetadata.FILE);
        String generated = ConfigurationMetadata.generate();
        if (Boolean.getBoolean("tollgate.metadata.write")) {
            Files.writeString(file, generated, StandardCharsets.UTF_8);
        }
        String checkedIn = Files.readString(file, StandardCharsets.UTF_8);
        if (!checkedIn.equals(generated)) {
            fail(ConfigurationMetadata.FILE + " is not what the key descriptions generate; run this test with"
                    + " -Dtollgate.metadata.write=true to rewrite it. Differences:\n" + diff(checkedIn, generated));
        }
    }

    @Test
    void theMetadataSpringGeneratesDescribesEveryPropertyWithTheDescriptionsDefault() throws IOException {
        // Written by the configuration processor at compile time, merging the generated file.
        Map<?, ?> metadata = JsonMapper.builder().build().readValue(
                Path.of("target/classes/META-INF/spring-configuration-metadata.json").toFile(), Map.class);
        List<String> problems = new ArrayList<>();
        for (Object o : (List<?>) metadata.get("properties")) {
            Map<?, ?> p = (Map<?, ?>) o;
            String name = (String) p.get("name");
            ConfigKey<?> key = TollgateKeys.fixedKeys().get(name);
            if (key == null) {
                assertThat(name).isIn("tollgate.plans", "tollgate.rules");
                continue;
            }
            if (!key.description().equals(p.get("description"))) {
                problems.add(name + " is described as " + p.get("description"));
            }
            Object dflt = p.get("defaultValue");
            String expected = key.defaultText();
            if (expected == null ? dflt != null : dflt == null || !expected.equals(dflt.toString())) {
                problems.add(name + " has the default " + dflt + ", its description " + expected);
            }
        }
        assertThat(problems).isEmpty();
        assertThat(((List<?>) metadata.get("properties"))).hasSize((int) TollgateKeys.fixedKeys().values().stream()
                .filter(ConfigKey::isSpringBound).count() + 2);
    }

    private static String diff(String a, String b) {
        String[] x = a.split("\n");
        String[] y = b.split("\n");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            String l = i < x.length ? x[i] : "";
            String r = i < y.length ? y[i] : "";
            if (!l.equals(r)) {
                sb.append("line ").append(i + 1).append(":\n- ").append(l).append("\n+ ").append(r).append('\n');
            }
        }
        return sb.toString();
    }
}
