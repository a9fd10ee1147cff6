package dev.tollgate.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's configuration reference lists every key of {@link TollgateKeys} with the
 * same default, so that the tables cannot drift from the code.
 */
class ReadmeReferenceTest {

    /** Key → the default cell of its row, from the tables of the README's "Configuration reference". */
    static Map<String, String> referenceTables(String readme) {
        int start = readme.indexOf("\n## Configuration reference");
        assertThat(start).as("the README has a Configuration reference section").isNotNegative();
        int end = readme.indexOf("\n## ", start + 1);
        Map<String, String> defaults = new LinkedHashMap<>();
        for (String line : readme.substring(start, end < 0 ? readme.length() : end).split("\n")) {
            if (!line.startsWith("| `tollgate.")) {
                continue;
            }
            String[] cells = line.split(" \\| ");
            String keys = cells[0].substring(2);
            String dflt = cells[1].trim();
            String[] quoted = keys.split("`");
            for (int i = 1; i < quoted.length; i += 2) {
                defaults.put(quoted[i], dflt);
            }
        }
        return defaults;
    }

    private static String readme() throws IOException {
        // Tests run in the module's folder; the README is at the repository's root.
        return Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    }

    @Test
    void everyKeyIsInTheReferenceTablesWithItsDefault() throws IOException {
        Map<String, String> tables = referenceTables(readme());
        List<String> problems = new ArrayList<>();
        for (ConfigKey<?> key : TollgateKeys.all()) {
            String cell = tables.get(key.name());
            String expected = key.documentedDefault();
            if (cell == null) {
                problems.add(key.name() + " is missing from the README's reference tables");
            } else if (!cell.equals(expected) && !cell.startsWith(expected + " ")) {
                problems.add(key.name() + ": the README says the default is " + cell + ", the code " + expected);
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void theTablesNameNoKeyTheCodeDoesNotRead() throws IOException {
        List<String> unknown = new ArrayList<>();
        for (String key : referenceTables(readme()).keySet()) {
            boolean described = TollgateKeys.all().stream().anyMatch(k -> k.name().equals(key));
            if (!described) {
                unknown.add(key);
            }
        }
        assertThat(unknown).isEmpty();
    }

    @Test
    void aMissingKeyOrAWrongDefaultIsFound() {
        String readme = """
                # x

                ## Configuration reference

                | key | default | meaning |
                |---|---|---|
                | `tollgate.async.workers` | `3` | threads |
                | `tollgate.store.user`, `tollgate.store.password` | empty | credentials |

                ## Next
                | `tollgate.zone` | `UTC` | not in the reference section |
                """;
        Map<String, String> tables = referenceTables(readme);

        assertThat(tables).containsOnly(Map.entry("tollgate.async.workers", "`3`"),
                Map.entry("tollgate.store.user", "empty"), Map.entry("tollgate.store.password", "empty"));
        assertThat(TollgateKeys.ASYNC_WORKERS.documentedDefault()).isEqualTo("`2`");
        assertThat(TollgateKeys.STORE_USER.documentedDefault()).isEqualTo("empty");
    }
}
