package dev.tollgate.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Captures what is logged while it is open: slf4j-simple (the tests' binding) writes to
 * whatever {@code System.err} is at the moment of writing, so this tees {@code System.err} into
 * a buffer and restores it on {@link #close()}. Output still reaches the original stream.
 */
public final class LogCapture implements AutoCloseable {
    private final PrintStream original;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    private LogCapture() {
        original = System.err;
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (buffer) {
                    buffer.write(b);
                }
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (buffer) {
                    buffer.write(b, off, len);
                }
                original.write(b, off, len);
            }

            @Override
            public void flush() {
                original.flush();
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    /** Starts capturing. */
    public static LogCapture start() {
        return new LogCapture();
    }

    /** Everything written to {@code System.err} since {@link #start()}. */
    public String text() {
        System.err.flush();
        synchronized (buffer) {
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        System.err.flush();
        System.setErr(original);
    }
}
