package dev.tollgate.demo.mvc;

import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The demo's API: {@code GET /api/hello} costs 1 of {@code requests}; {@code POST /api/chat}
 * costs 1 of {@code requests} plus the {@code tokens} it reports in {@value #USAGE_HEADER}
 * (prompt characters / 4 plus the reply's, at least 1). Stateless.
 */
@RestController
public class DemoController {
    /** The response header the chat rule reads the token cost from. */
    public static final String USAGE_HEADER = "X-Usage-Tokens";

    @GetMapping("/api/hello")
    public Map<String, String> hello() {
        return Map.of("message", "Hello from behind the tollgate");
    }

    @PostMapping("/api/chat")
    public ResponseEntity<Map<String, Object>> chat(@RequestBody(required = false) String prompt) {
        String text = prompt == null ? "" : prompt.strip();
        String reply = text.isEmpty() ? "Say something." : "You said " + text.length() + " characters.";
        long tokens = Math.max(1, (text.length() + 3) / 4 + (reply.length() + 3) / 4);
        return ResponseEntity.ok().header(USAGE_HEADER, Long.toString(tokens))
                .body(Map.of("reply", reply, "usage", Map.of("tokens", tokens)));
    }
}
