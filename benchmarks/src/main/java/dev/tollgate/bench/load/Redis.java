package dev.tollgate.bench.load;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The local Redis that the gateway's peer configuration (Spring Cloud Gateway's
 * RequestRateLimiter with RedisRateLimiter) talks to: 127.0.0.1:6379, started with
 * {@code redis-server} when it does not answer, as the harness does for PostgreSQL's schema.
 */
final class Redis {
    static final String HOST = "127.0.0.1";
    static final int PORT = 6379;

    private Redis() {
    }

    /** Whether Redis answers {@code PING}; starts it (nothing persisted) when it does not. Returns a problem, or null. */
    static String ensureRunning() {
        if (ping()) {
            return null;
        }
        try {
            Process p = new ProcessBuilder("redis-server", "--daemonize", "yes", "--bind", HOST, "--port",
                    Integer.toString(PORT), "--save", "", "--appendonly", "no").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
            for (int i = 0; i < 50 && !ping(); i++) {
                Thread.sleep(100);
            }
        } catch (IOException e) {
            return "redis-server could not be started: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return ping() ? null : "Redis does not answer on " + HOST + ":" + PORT;
    }

    private static boolean ping() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(HOST, PORT), 1000);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] b = new byte[7];
            int n = in.read(b);
            return n > 0 && new String(b, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }
}
