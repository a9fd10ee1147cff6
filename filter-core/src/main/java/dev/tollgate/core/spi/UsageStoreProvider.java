package dev.tollgate.core.spi;

import dev.tollgate.core.TollgateConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Opens a {@link UsageStore} for the {@code tollgate.store.url} values it recognises, so that a
 * backend outside filter-core (the Redis store, {@code tollgate-store-redis}) is selected by
 * its URL alone. Implementations are found with {@link ServiceLoader}: a jar lists its
 * provider in {@code META-INF/services/dev.tollgate.core.spi.UsageStoreProvider}.
 * {@code Tollgate.builder(config).build()} asks them for every URL that is not {@code jdbc:},
 * and the validation of {@code tollgate.store.url} accepts what one of them accepts.
 *
 * <p>Implementations are stateless and thread-safe; {@link #open} builds a new store (with its
 * own connections, which the store owns and closes) at every call.
 */
public interface UsageStoreProvider {

    /** Whether this provider opens stores at {@code url} (a cheap check of its scheme, no connection). */
    boolean accepts(String url);

    /**
     * A store at {@code config.storeUrl()}, connected and ready.
     *
     * @throws dev.tollgate.core.TollgateException if the store cannot be reached or set up
     */
    UsageStore open(TollgateConfig config);

    /** The URL forms this provider accepts, as a user reads them ({@code redis://host:port}). */
    String describe();

    /**
     * The first provider on the class path (this interface's class loader, then the thread's
     * context class loader) that accepts {@code url}.
     */
    static Optional<UsageStoreProvider> find(String url) {
        for (UsageStoreProvider p : all()) {
            if (p.accepts(url)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Every provider on the class path, each once (by class name). */
    static List<UsageStoreProvider> all() {
        Map<String, UsageStoreProvider> found = new LinkedHashMap<>();
        List<ClassLoader> loaders = new ArrayList<>();
        loaders.add(UsageStoreProvider.class.getClassLoader());
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null) {
            loaders.add(context);
        }
        for (ClassLoader loader : loaders) {
            try {
                for (UsageStoreProvider p : ServiceLoader.load(UsageStoreProvider.class, loader)) {
                    found.putIfAbsent(p.getClass().getName(), p);
                }
            } catch (ServiceConfigurationError e) {
                // A broken provider must not hide the others, nor the JDBC store.
                System.getLogger(UsageStoreProvider.class.getName())
                        .log(System.Logger.Level.WARNING, "Skipping a store provider that cannot be loaded", e);
            }
        }
        return List.copyOf(found.values());
    }
}
