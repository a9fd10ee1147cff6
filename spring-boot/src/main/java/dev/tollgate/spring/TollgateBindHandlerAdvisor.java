package dev.tollgate.spring;

import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.config.ConfigKey;
import dev.tollgate.core.config.TollgateKeys;
import org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;

/**
 * Turns a {@code tollgate.*} value that Spring cannot convert to its property's type
 * ({@code tollgate.mode=loud}, {@code tollgate.async.flush-interval=soon}) into the same
 * {@link InvalidConfigException} as everywhere else: the key, the value as written and what
 * is allowed, from the key's description in {@link TollgateKeys}. Other properties are left
 * to Spring. Stateless and thread-safe.
 */
public class TollgateBindHandlerAdvisor implements ConfigurationPropertiesBindHandlerAdvisor {

    @Override
    public BindHandler apply(BindHandler bindHandler) {
        return new AbstractBindHandler(bindHandler) {
            @Override
            public Object onFailure(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
                                    Exception error) throws Exception {
                String key = name.toString();
                ConfigKey<?> described = TollgateKeys.describe(key);
                ConfigurationProperty property = context.getConfigurationProperty();
                if (described == null || property == null || !key.equals(property.getName().toString())) {
                    return super.onFailure(name, target, context, error);
                }
                String value = described.isSecret() ? "****" : String.valueOf(property.getValue());
                throw new InvalidConfigException(key, value, described.type().parseAllowed());
            }
        };
    }
}
