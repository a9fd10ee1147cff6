package dev.tollgate.servlet;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.config.TollgateKeys;
import dev.tollgate.core.config.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Layers the filter's configuration sources: defaults &lt; properties file &lt; init-params &lt;
 * environment variables. Stateless.
 */
final class ConfigSources {
    static final String CLASSPATH_PREFIX = "classpath:";
    private static final String FILE_KEY = TollgateKeys.CONFIG_FILE.name();

    private ConfigSources() {
    }

    /**
     * The filter's settings.
     *
     * @param initParams the filter's init-params
     * @param env        the environment ({@code System.getenv()})
     * @param loader     loads {@code classpath:} files
     * @throws InvalidConfigException if the named properties file cannot be read
     */
    static Settings load(Map<String, String> initParams, Map<String, String> env, ClassLoader loader) {
        Settings params = Settings.of(initParams);
        Settings environment = Settings.fromEnvironment(env);
        String file = environment.string(FILE_KEY, params.string(FILE_KEY, null));
        Settings fromFile = file == null ? Settings.empty() : read(file, loader);
        return fromFile.overriddenBy(params).overriddenBy(environment).warnUnknownKeys();
    }

    /** Reads a properties file (UTF-8) from a file path or, with {@code classpath:}, a resource. */
    static Settings read(String name, ClassLoader loader) {
        String allowed = "a readable properties file: a file path, or classpath:<resource>";
        Properties p = new Properties();
        try (InputStream in = open(name, loader)) {
            if (in == null) {
                throw new InvalidConfigException(FILE_KEY, name, allowed + " (not found)");
            }
            try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                p.load(r);
            }
        } catch (IOException | IllegalArgumentException e) {
            if (e instanceof InvalidConfigException ice) {
                throw ice;
            }
            throw new InvalidConfigException(FILE_KEY, name, allowed + " (" + e.getMessage() + ")");
        }
        return Settings.of(p);
    }

    private static InputStream open(String name, ClassLoader loader) throws IOException {
        if (name.startsWith(CLASSPATH_PREFIX)) {
            String resource = name.substring(CLASSPATH_PREFIX.length());
            while (resource.startsWith("/")) {
                resource = resource.substring(1);
            }
            InputStream in = loader == null ? null : loader.getResourceAsStream(resource);
            return in != null ? in : ConfigSources.class.getClassLoader().getResourceAsStream(resource);
        }
        Path path = Path.of(name);
        return Files.isReadable(path) ? Files.newInputStream(path) : null;
    }
}
