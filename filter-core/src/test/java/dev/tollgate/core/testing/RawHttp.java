package dev.tollgate.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 over a plain socket, byte for byte as the test writes it: for requests that
 * {@code java.net.http.HttpClient} refuses to send (control characters, bytes that are not
 * UTF-8, repeated or folded header lines, unnormalized paths). Each exchange uses its own
 * connection and {@code Connection: close}.
 */
public final class RawHttp {
    private RawHttp() {
    }

    /** The status line, header lines and body of an answer. */
    public record Response(int status, List<String> headers, String body) {
        /** Values of a header (case-insensitive name). */
        public List<String> header(String name) {
            List<String> out = new ArrayList<>();
            String prefix = name.toLowerCase(Locale.ROOT) + ":";
            for (String h : headers) {
                if (h.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                    out.add(h.substring(prefix.length()).trim());
                }
            }
            return out;
        }
    }

    /** A request built from its parts; header lines are written as given, then the body. */
    public static byte[] request(String method, String target, List<byte[]> headerLines, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((method + " ").getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(target.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".getBytes(StandardCharsets.ISO_8859_1));
        for (byte[] h : headerLines) {
            out.writeBytes(h);
            out.writeBytes(new byte[] {'\r', '\n'});
        }
        if (body != null) {
            out.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }
        out.writeBytes(new byte[] {'\r', '\n'});
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /** A header line from a name and a value given as ISO-8859-1 text (each char one byte). */
    public static byte[] header(String name, String value) {
        return (name + ": " + value).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A header line whose value is raw bytes. */
    public static byte[] header(String name, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((name + ": ").getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(value);
        return out.toByteArray();
    }

    /** Sends the bytes to 127.0.0.1:port and reads the answer until the server closes. */
    public static Response exchange(int port, byte[] request) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            try {
                while ((n = in.read(buf)) >= 0) {
                    all.write(buf, 0, n);
                }
            } catch (IOException e) {
                // A server may reset after answering a request it refused; keep what arrived.
                if (all.size() == 0) {
                    throw e;
                }
            }
            return parse(all.toString(StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Response parse(String raw) {
        int end = raw.indexOf("\r\n\r\n");
        String head = end < 0 ? raw : raw.substring(0, end);
        String body = end < 0 ? "" : raw.substring(end + 4);
        String[] lines = head.split("\r\n");
        String[] status = lines[0].split(" ", 3);
        if (status.length < 2 || !status[0].startsWith("HTTP/")) {
            throw new IllegalStateException("not an HTTP answer: " + lines[0]);
        }
        List<String> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            headers.add(lines[i]);
        }
        return new Response(Integer.parseInt(status[1]), headers, body);
    }
}
