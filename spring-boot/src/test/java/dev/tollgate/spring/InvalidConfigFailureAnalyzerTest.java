package dev.tollgate.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** A bad {@code tollgate.*} value stops the application with the engine's message and where to fix it. */
@ExtendWith(OutputCaptureExtension.class)
class InvalidConfigFailureAnalyzerTest {

    @SpringBootConfiguration
    @ImportAutoConfiguration(TollgateAutoConfiguration.class)
    static class App {
    }

    @Test
    void startUpFailsWithAReportNamingTheKeyTheValueAndWhatIsAllowed(CapturedOutput output) {
        SpringApplicationBuilder app = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .properties("tollgate.store.url=jdbc:h2:mem:analyzer");

        assertThatThrownBy(() -> app.run("--tollgate.async.flush-interval=soon")).hasRootCauseInstanceOf(dev.tollgate.core.InvalidConfigException.class);
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Invalid Tollgate configuration: tollgate.async.flush-interval: 'soon' is not allowed;"
                        + " expected a duration such as 500ms, 5s, 2m, 1h or PT5S")
                .contains("TOLLGATE_ASYNC_FLUSH_INTERVAL");
    }
}
