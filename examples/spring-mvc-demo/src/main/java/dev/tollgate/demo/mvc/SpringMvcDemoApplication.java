package dev.tollgate.demo.mvc;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring MVC application metered by Tollgate: the dependencies {@code tollgate-spring-boot}
 * and {@code tollgate-servlet} and the {@code tollgate.*} properties of
 * {@code application.yml} register the filter, the engine, the admin API at
 * {@code /tollgate}, the health component and the meters. Run it with
 * {@code java -jar examples/spring-mvc-demo/target/tollgate-spring-mvc-demo.jar} (port 8082).
 */
@SpringBootApplication
public class SpringMvcDemoApplication {

    public static void main(String[] args) {
        SpringApplication.run(SpringMvcDemoApplication.class, args);
    }
}
