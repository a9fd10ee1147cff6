package dev.tollgate.demo.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code POST /api/chat}: a stand-in for an LLM endpoint. It "answers" and reports the tokens
 * it used in the {@value #USAGE_HEADER} response header (prompt characters / 4 plus the reply's,
 * at least 1), which the filter reads after the response to charge quota {@code tokens}.
 */
public class ChatServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** The response header the filter's chat rule reads the token cost from. */
    public static final String USAGE_HEADER = "X-Usage-Tokens";
    private static final int MAX_PROMPT_BYTES = 64 * 1024;

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        byte[] prompt;
        try (InputStream in = req.getInputStream()) {
            prompt = in.readNBytes(MAX_PROMPT_BYTES + 1);
        }
        if (prompt.length > MAX_PROMPT_BYTES) {
            resp.sendError(413, "Prompts are limited to " + MAX_PROMPT_BYTES + " bytes");
            return;
        }
        String text = new String(prompt, StandardCharsets.UTF_8).strip();
        String reply = text.isEmpty() ? "Say something." : "You said " + text.length() + " characters.";
        long tokens = Math.max(1, (text.length() + 3) / 4 + (reply.length() + 3) / 4);

        String body = "{\"reply\":" + jsonString(reply) + ",\"usage\":{\"tokens\":" + tokens + "}}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        resp.setHeader(USAGE_HEADER, Long.toString(tokens));
        resp.setContentType("application/json");
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped. */
    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
