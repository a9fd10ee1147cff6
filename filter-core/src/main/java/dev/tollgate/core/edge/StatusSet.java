package dev.tollgate.core.edge;

import java.util.BitSet;

/**
 * Which response statuses are charged. Text form: comma-separated codes ({@code 200}),
 * classes ({@code 2xx}) and ranges ({@code 200-299}), each optionally negated with {@code !};
 * negations win. Default {@value #DEFAULT}: everything but server errors and 429. Immutable.
 */
public final class StatusSet {
    public static final String DEFAULT = "1xx,2xx,3xx,4xx,!429";

    private final BitSet included;
    private final String text;

    private StatusSet(BitSet included, String text) {
        this.included = included;
        this.text = text;
    }

    /**
     * @throws IllegalArgumentException naming the token that is not a code, class or range
     */
    public static StatusSet parse(String text) {
        BitSet in = new BitSet(600);
        BitSet out = new BitSet(600);
        for (String raw : text.split(",")) {
            String t = raw.trim();
            if (t.isEmpty()) {
                continue;
            }
            boolean neg = t.startsWith("!");
            if (neg) {
                t = t.substring(1).trim();
            }
            int from;
            int to;
            if (t.matches("[1-5][xX][xX]")) {
                from = (t.charAt(0) - '0') * 100;
                to = from + 99;
            } else if (t.matches("\\d{3}-\\d{3}")) {
                from = Integer.parseInt(t.substring(0, 3));
                to = Integer.parseInt(t.substring(4));
            } else if (t.matches("\\d{3}")) {
                from = Integer.parseInt(t);
                to = from;
            } else {
                throw new IllegalArgumentException("'" + raw.trim() + "' is not a status code, class (2xx) or range"
                        + " (200-299)");
            }
            if (from < 100 || to > 599 || from > to) {
                throw new IllegalArgumentException("'" + raw.trim() + "' is outside 100-599");
            }
            (neg ? out : in).set(from, to + 1);
        }
        in.andNot(out);
        return new StatusSet(in, text);
    }

    public boolean contains(int status) {
        return status >= 0 && status < 600 && included.get(status);
    }

    @Override
    public String toString() {
        return text;
    }
}
