package peloton.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Test helpers shared by the request and response parser tests: input cut into pieces the way a
 * connection receives it, a collecting body sink, and the "same result however the input is
 * split" checks.
 */
public final class ParserHarness {
    private ParserHarness() {}

    /** A parser test's driver: parses {@code data} cut at {@code cuts} and describes the result. */
    public interface Driver {
        String drive(byte[] data, int[] cuts, boolean direct);
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Java-style escapes in CSV test data: \r \n \t \\uXXXX, any other char after \ as itself. */
    public static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'r': sb.append('\r'); break;
                case 'n': sb.append('\n'); break;
                case 't': sb.append('\t'); break;
                case 'u': sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16)); i += 4; break;
                default: sb.append(n);
            }
        }
        return sb.toString();
    }

    /** Cuts before every byte: byte-by-byte input. */
    public static int[] eachByte(int length) {
        int[] each = new int[length];
        for (int i = 0; i < length; i++) each[i] = i;
        return each;
    }

    /**
     * {@code data} arriving in pieces cut at {@code cuts}: each {@link #next()} appends the next
     * piece to one buffer after what the parser left unconsumed, as a connection's read would.
     */
    public static final class Feed {
        private final byte[] data;
        private final int[] cuts;
        private final ByteBuffer acc;
        private int k, from;

        public Feed(byte[] data, int[] cuts, boolean direct) {
            this.data = data;
            this.cuts = cuts;
            acc = direct ? ByteBuffer.allocateDirect(data.length) : ByteBuffer.allocate(data.length);
            acc.flip();
        }

        /** The buffer with the next piece appended, ready to read; null after the last piece. */
        public ByteBuffer next() {
            if (k > cuts.length) return null;
            int to = k < cuts.length ? cuts[k] : data.length;
            k++;
            acc.compact();
            acc.put(data, from, to - from);
            acc.flip();
            from = to;
            return acc;
        }
    }

    /** A sink that keeps the body bytes it is given. */
    public static final class Collect implements BodySink {
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        public void onData(ByteBuffer slice) {
            while (slice.hasRemaining()) body.write(slice.get());
        }

        /** The bytes so far as ISO-8859-1, then forgets them. */
        public String take() {
            String s = body.toString(StandardCharsets.ISO_8859_1);
            body.reset();
            return s;
        }
    }

    /** Whole, cut at every single point and byte by byte, heap and direct: the same result. */
    public static void assertEverySplitMatches(String expected, String sample, Driver d) {
        byte[] data = bytes(sample);
        for (boolean direct : new boolean[] {false, true}) {
            for (int i = 0; i <= data.length; i++) {
                assertEquals(expected, d.drive(data, new int[] {i}, direct), "split at " + i + " of " + sample);
            }
            assertEquals(expected, d.drive(data, eachByte(data.length), direct), "byte by byte");
        }
    }

    /** Cut at every pair of points (heap buffer): the same result. */
    public static void assertEveryPairOfSplitsMatches(String expected, String sample, Driver d) {
        byte[] data = bytes(sample);
        for (int i = 0; i <= data.length; i++) {
            for (int j = i; j <= data.length; j++) {
                assertEquals(expected, d.drive(data, new int[] {i, j}, false), "split at " + i + "," + j);
            }
        }
    }
}
