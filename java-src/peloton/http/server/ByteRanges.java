package peloton.http.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The Range request header (RFC 9110 §14.1.2, §14.2) for a representation of known length.
 *
 * <p>{@link #parse} answers null when the header is absent, not a {@code bytes} range, or
 * syntactically invalid: the server then ignores it and answers 200 with the whole
 * representation. Otherwise it answers either {@link #unsatisfiable()} ranges (answer 416
 * with {@code Content-Range: bytes *}{@code /length}) or the satisfiable ranges, clamped to
 * the length, sorted and with overlapping or adjacent ranges coalesced (RFC 9110 allows it).
 * More than {@link #MAX_RANGES} range specs are ignored as abuse (null, so 200).
 */
public final class ByteRanges {
    /** Most range specs honoured in one header. */
    public static final int MAX_RANGES = 16;

    /** One satisfiable byte range, both ends inclusive. */
    public record Range(long start, long end) {
        /**
         * Number of bytes in the range.
         *
         * @return number of bytes in the range
         */
        public long length() {
            return end - start + 1;
        }
    }

    private static final ByteRanges UNSATISFIABLE = new ByteRanges(List.of());

    private final List<Range> ranges;

    private ByteRanges(List<Range> ranges) {
        this.ranges = ranges;
    }

    /**
     * Whether no range was satisfiable (answer 416).
     *
     * @return whether no range was satisfiable (answer 416)
     */
    public boolean unsatisfiable() {
        return ranges.isEmpty();
    }

    /**
     * The satisfiable ranges, sorted and coalesced; empty when {@link #unsatisfiable()}.
     *
     * @return the satisfiable ranges, sorted and coalesced; empty when {@link #unsatisfiable()}
     */
    public List<Range> ranges() {
        return ranges;
    }

    /**
     * Parses {@code rangeHeader} against a representation of {@code length} bytes; see the
     * class doc for what null means.
     *
     * @return the parsed ranges, or null (see the class doc)
     * @param rangeHeader the Range header's value, or null
     * @param length the representation's length in bytes
     */
    public static ByteRanges parse(String rangeHeader, long length) {
        if (rangeHeader == null || length < 0) return null;
        int eq = rangeHeader.indexOf('=');
        if (eq < 0 || !rangeHeader.substring(0, eq).trim().equalsIgnoreCase("bytes")) return null;
        List<Range> out = new ArrayList<>(2);
        int specs = 0;
        int p = eq + 1;
        int n = rangeHeader.length();
        while (p <= n) {
            int comma = rangeHeader.indexOf(',', p);
            if (comma < 0) comma = n;
            String spec = rangeHeader.substring(p, comma).trim();
            p = comma + 1;
            if (spec.isEmpty()) continue; // empty list elements are allowed
            if (++specs > MAX_RANGES) return null;
            int dash = spec.indexOf('-');
            if (dash < 0) return null;
            if (dash == 0) { // suffix: last n bytes
                long suffix = digits(spec, 1, spec.length());
                if (suffix < 0) return null;
                if (suffix > 0 && length > 0) out.add(new Range(Math.max(0, length - suffix), length - 1));
            } else {
                long first = digits(spec, 0, dash);
                if (first < 0) return null;
                long last;
                if (dash == spec.length() - 1) {
                    last = Long.MAX_VALUE;
                } else {
                    last = digits(spec, dash + 1, spec.length());
                    if (last < 0 || last < first) return null;
                }
                if (first < length) out.add(new Range(first, Math.min(last, length - 1)));
            }
        }
        if (specs == 0) return null;
        if (out.isEmpty()) return UNSATISFIABLE;
        return new ByteRanges(coalesce(out));
    }

    private static List<Range> coalesce(List<Range> in) {
        if (in.size() == 1) return List.of(in.get(0));
        in.sort(Comparator.comparingLong(Range::start));
        List<Range> out = new ArrayList<>(in.size());
        Range cur = in.get(0);
        for (int i = 1; i < in.size(); i++) {
            Range r = in.get(i);
            if (r.start() <= cur.end() + 1) {
                cur = new Range(cur.start(), Math.max(cur.end(), r.end()));
            } else {
                out.add(cur);
                cur = r;
            }
        }
        out.add(cur);
        return Collections.unmodifiableList(out);
    }

    // a non-empty run of digits, or -1 (also on overflow)
    private static long digits(String s, int from, int to) {
        if (from >= to || to - from > 18) return -1;
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
        }
        return v;
    }

    @Override
    public String toString() {
        return unsatisfiable() ? "ByteRanges[unsatisfiable]" : "ByteRanges" + ranges;
    }
}
