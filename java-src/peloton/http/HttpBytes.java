package peloton.http;

/**
 * Byte-level helpers shared by {@link RequestParser} and {@link ResponseParser}: character
 * tables (RFC 9110 §5.6) and small comparisons on a byte array range. Static, no allocation.
 */
final class HttpBytes {
    private HttpBytes() {}

    /** tchar: the characters of a token (method, field name, transfer coding). */
    static final boolean[] TOKEN = new boolean[256];
    /** VCHAR: visible ASCII, 0x21 to 0x7E. */
    static final boolean[] VCHAR = new boolean[256];
    /** VCHAR or obs-text (0x80 to 0xFF): what may stand in a field value besides SP/HTAB. */
    static final boolean[] FIELD_VCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) TOKEN[c] = true;
        for (int c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
        for (int c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TOKEN[c] = true;
        for (int c = 0x21; c < 0x7F; c++) VCHAR[c] = true;
        for (int c = 0x21; c < 0x7F; c++) FIELD_VCHAR[c] = true;
        for (int c = 0x80; c < 0x100; c++) FIELD_VCHAR[c] = true;
    }

    // lower-case field names and tokens both parsers look for
    static final byte[] CONTENT_LENGTH = ascii("content-length");
    static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
    static final byte[] CONNECTION = ascii("connection");
    static final byte[] CHUNKED = ascii("chunked");
    static final byte[] CLOSE = ascii("close");
    static final byte[] KEEP_ALIVE = ascii("keep-alive");

    /** {@link #connectionOptions} flags. */
    static final int CONN_CLOSE = 1, CONN_KEEP_ALIVE = 2;

    /** The bytes of an ASCII literal. */
    static byte[] ascii(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < out.length; i++) out[i] = (byte) s.charAt(i);
        return out;
    }

    /** Whether b[start, end) is exactly {@code lit}. */
    static boolean nameIs(byte[] b, int start, int end, byte[] lit) {
        if (end - start != lit.length) return false;
        for (int i = 0; i < lit.length; i++) if (b[start + i] != lit[i]) return false;
        return true;
    }

    /** Whether b[start, end) is {@code lowerLit} in any ASCII case. */
    static boolean equalsIgnoreCase(byte[] b, int start, int end, byte[] lowerLit) {
        if (end - start != lowerLit.length) return false;
        for (int i = 0; i < lowerLit.length; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') c += 32;
            if (c != lowerLit[i]) return false;
        }
        return true;
    }

    static boolean ows(byte c) {
        return c == ' ' || c == '\t';
    }

    static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** The value of a hex digit, or -1. */
    static int hex(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /** a + b, saturated at Integer.MAX_VALUE. */
    static int sat(int a, long b) {
        return (int) Math.min(Integer.MAX_VALUE, a + b);
    }

    /**
     * The connection options in a Connection field value b[vs, ve) that decide persistence:
     * {@link #CONN_CLOSE} and/or {@link #CONN_KEEP_ALIVE} (any case), others ignored.
     */
    static int connectionOptions(byte[] b, int vs, int ve) {
        int flags = 0;
        int p = vs;
        while (p < ve) {
            while (p < ve && (ows(b[p]) || b[p] == ',')) p++;
            int ts = p;
            while (p < ve && b[p] != ',' && !ows(b[p])) p++;
            if (equalsIgnoreCase(b, ts, p, CLOSE)) flags |= CONN_CLOSE;
            else if (equalsIgnoreCase(b, ts, p, KEEP_ALIVE)) flags |= CONN_KEEP_ALIVE;
        }
        return flags;
    }

    /** A Content-Length value: a comma list of identical digit runs; -2 when bad. */
    static long parseContentLength(byte[] b, int vs, int ve) {
        long result = -1;
        int p = vs;
        while (true) {
            while (p < ve && ows(b[p])) p++;
            int ds = p;
            long v = 0;
            while (p < ve && digit(b[p])) {
                if (v > (Long.MAX_VALUE - 9) / 10) return -2;
                v = v * 10 + (b[p] - '0');
                p++;
            }
            if (p == ds) return -2;
            if (result >= 0 && v != result) return -2;
            result = v;
            while (p < ve && ows(b[p])) p++;
            if (p == ve) return result;
            if (b[p] != ',') return -2;
            p++;
        }
    }
}
