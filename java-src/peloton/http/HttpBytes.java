package peloton.http;

/**
 * Byte-level helpers shared by {@link peloton.http.server.RequestParser} and {@link
 * peloton.http.client.ResponseParser}: character tables (RFC 9110 §5.6) and small comparisons on a byte array range. Static, no allocation.
 */
public final class HttpBytes {
    private HttpBytes() {}

    /** tchar: the characters of a token (method, field name, transfer coding). */
    public static final boolean[] TOKEN = new boolean[256];
    /** VCHAR: visible ASCII, 0x21 to 0x7E. */
    public static final boolean[] VCHAR = new boolean[256];
    /** VCHAR or obs-text (0x80 to 0xFF): what may stand in a field value besides SP/HTAB. */
    public static final boolean[] FIELD_VCHAR = new boolean[256];

    /** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
    public static final boolean[] UNRESERVED = new boolean[256];
    /** RFC 3986 reg-name characters other than pct-encoded: unreserved / sub-delims. */
    public static final boolean[] REG_NAME = new boolean[256];

    /**
     * Request-target character classes (RFC 3986 §2, what a URI may hold outside a fragment): 0
     * refused; otherwise {@link #T_OK} plus flags for what needs a second look.
     */
    public static final byte[] TARGET_CLASS = new byte[256];
    /** {@link #TARGET_CLASS} flags: allowed; '%' (a triplet to check); '.' (a dot segment?); '[' or ']'; '?' (the query starts). */
    public static final byte T_OK = 1, T_PCT = 2, T_DOT = 4, T_BRACKET = 8, T_QUERY = 16;

    static {
        for (int c = '0'; c <= '9'; c++) TOKEN[c] = true;
        for (int c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
        for (int c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TOKEN[c] = true;
        for (int c = 0x21; c < 0x7F; c++) VCHAR[c] = true;
        for (int c = 0x21; c < 0x7F; c++) FIELD_VCHAR[c] = true;
        for (int c = 0x80; c < 0x100; c++) FIELD_VCHAR[c] = true;
        for (int c = '0'; c <= '9'; c++) UNRESERVED[c] = true;
        for (int c = 'a'; c <= 'z'; c++) UNRESERVED[c] = true;
        for (int c = 'A'; c <= 'Z'; c++) UNRESERVED[c] = true;
        for (char c : "-._~".toCharArray()) UNRESERVED[c] = true;
        for (int c = 0; c < 256; c++) REG_NAME[c] = UNRESERVED[c];
        for (char c : "!$&'()*+,;=".toCharArray()) REG_NAME[c] = true;
        for (int c = 0; c < 256; c++) if (REG_NAME[c]) TARGET_CLASS[c] = T_OK;
        for (char c : ":@/".toCharArray()) TARGET_CLASS[c] = T_OK;
        TARGET_CLASS['%'] = T_OK | T_PCT;
        TARGET_CLASS['.'] = T_OK | T_DOT;
        TARGET_CLASS['['] = T_OK | T_BRACKET;
        TARGET_CLASS[']'] = T_OK | T_BRACKET;
        TARGET_CLASS['?'] = T_OK | T_QUERY;
    }

    /** The field name {@code content-length}, lower case as the scanner leaves names. */
    public static final byte[] CONTENT_LENGTH = ascii("content-length");
    /** The field name {@code transfer-encoding}. */
    public static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
    /** The field name {@code connection}. */
    public static final byte[] CONNECTION = ascii("connection");
    /** The transfer coding {@code chunked}. */
    public static final byte[] CHUNKED = ascii("chunked");
    /** The connection option {@code close}. */
    public static final byte[] CLOSE = ascii("close");
    /** The connection option {@code keep-alive}. */
    public static final byte[] KEEP_ALIVE = ascii("keep-alive");

    /** {@link #connectionOptions} flags. */
    public static final int CONN_CLOSE = 1, CONN_KEEP_ALIVE = 2;

    /**
     * The bytes of an ASCII literal.
     *
     * @param s ASCII text
     * @return its bytes, one per char
     */
    public static byte[] ascii(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < out.length; i++) out[i] = (byte) s.charAt(i);
        return out;
    }

    /**
     * Whether b[start, end) is exactly {@code lit}.
     *
     * @param b the bytes
     * @param start the range's first index
     * @param end the index after the range's last
     * @param lit the bytes to compare with
     * @return true when the range equals {@code lit} byte for byte
     */
    public static boolean nameIs(byte[] b, int start, int end, byte[] lit) {
        if (end - start != lit.length) return false;
        for (int i = 0; i < lit.length; i++) if (b[start + i] != lit[i]) return false;
        return true;
    }

    /**
     * Whether b[start, end) is {@code lowerLit} in any ASCII case.
     *
     * @param b the bytes
     * @param start the range's first index
     * @param end the index after the range's last
     * @param lowerLit the bytes to compare with, lower case
     * @return true when the range equals {@code lowerLit} ignoring ASCII case
     */
    public static boolean equalsIgnoreCase(byte[] b, int start, int end, byte[] lowerLit) {
        if (end - start != lowerLit.length) return false;
        for (int i = 0; i < lowerLit.length; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') c += 32;
            if (c != lowerLit[i]) return false;
        }
        return true;
    }

    /**
     * Whether {@code c} is optional whitespace (RFC 9110 §5.6.3).
     *
     * @param c a byte
     * @return true for SP and HTAB
     */
    public static boolean ows(byte c) {
        return c == ' ' || c == '\t';
    }

    /**
     * Whether {@code c} is an ASCII digit.
     *
     * @param c a byte
     * @return true for '0' to '9'
     */
    public static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }

    /**
     * The value of a hex digit.
     *
     * @param c a character
     * @return 0 to 15, or -1 when {@code c} is not a hex digit
     */
    public static int hex(int c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /**
     * a + b, saturated at Integer.MAX_VALUE.
     *
     * @param a a non-negative count
     * @param b a non-negative amount to add
     * @return the sum, or Integer.MAX_VALUE when it would be larger
     */
    public static int sat(int a, long b) {
        return (int) Math.min(Integer.MAX_VALUE, a + b);
    }

    /**
     * The connection options in a Connection field value b[vs, ve) that decide persistence:
     * {@link #CONN_CLOSE} and/or {@link #CONN_KEEP_ALIVE} (any case), others ignored.
     *
     * @param b the head bytes
     * @param vs the value's first index
     * @param ve the index after the value's last
     * @return the flags found, 0 for none
     */
    public static int connectionOptions(byte[] b, int vs, int ve) {
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

    /**
     * A Content-Length value: a comma list of identical digit runs; -2 when bad.
     *
     * @param b the head bytes
     * @param vs the value's first index
     * @param ve the index after the value's last
     * @return the length, or -2 when the value is not digits or lists different lengths
     */
    public static long parseContentLength(byte[] b, int vs, int ve) {
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

    /**
     * Whether every '%' in b[s, e) starts a pct-encoded triplet ("%" HEXDIG HEXDIG).
     *
     * @param b the bytes
     * @param s the range's first index
     * @param e the index after the range's last
     * @return true when every '%' is followed by two hex digits
     */
    public static boolean validPercents(byte[] b, int s, int e) {
        for (int p = s; p < e; p++) {
            if (b[p] == '%' && (p + 2 >= e || hex(b[p + 1]) < 0 || hex(b[p + 2]) < 0)) return false;
        }
        return true;
    }

    /**
     * Where the port's ':' is in an authority b[s, e) of the form {@code uri-host [":" port]}
     * (RFC 3986 §3.2.2: IP-literal, IPv4address or reg-name, port digits up to 65535): the
     * index of the ':', {@code e} when there is no port, or -1 when the authority is invalid.
     * A userinfo ("u@h") is invalid (RFC 9110 §4.2.4 deprecates it in http URIs).
     *
     * @param b the bytes
     * @param s the authority's first index
     * @param e the index after the authority's last
     * @return the index of the port's ':', {@code e} for no port, or -1 for an invalid authority
     */
    public static int authorityHostEnd(byte[] b, int s, int e) {
        int hostEnd;
        if (s < e && b[s] == '[') {
            int close = s + 1;
            while (close < e && b[close] != ']') close++;
            if (close == e || !ipLiteral(b, s + 1, close)) return -1;
            hostEnd = close + 1;
        } else {
            int p = s;
            while (p < e && b[p] != ':') {
                int c = b[p] & 0xFF;
                if (c == '%') {
                    if (p + 2 >= e || hex(b[p + 1]) < 0 || hex(b[p + 2]) < 0) return -1;
                    p += 3;
                    continue;
                }
                if (!REG_NAME[c]) return -1;
                p++;
            }
            hostEnd = p;
        }
        if (hostEnd == e) return e;
        if (b[hostEnd] != ':') return -1;
        int port = 0;
        for (int p = hostEnd + 1; p < e; p++) {
            if (!digit(b[p])) return -1;
            port = port * 10 + (b[p] - '0');
            if (port > 65535) return -1;
        }
        return hostEnd;
    }

    /**
     * The port of a valid authority whose host ends at {@code hostEnd}.
     *
     * @param b the bytes
     * @param hostEnd what {@link #authorityHostEnd} answered for the authority
     * @param e the index after the authority's last
     * @return the port, or -1 when none is given
     */
    public static int authorityPort(byte[] b, int hostEnd, int e) {
        if (hostEnd >= e - 1) return -1; // no ':' or an empty port
        int port = 0;
        for (int p = hostEnd + 1; p < e; p++) port = port * 10 + (b[p] - '0');
        return port;
    }

    // IP-literal without brackets: IPv6address or IPvFuture (RFC 3986 §3.2.2)
    private static boolean ipLiteral(byte[] b, int s, int e) {
        if (s == e) return false;
        if (b[s] == 'v' || b[s] == 'V') { // IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
            int p = s + 1;
            while (p < e && hex(b[p]) >= 0) p++;
            if (p == s + 1 || p >= e || b[p] != '.') return false;
            if (++p == e) return false;
            for (; p < e; p++) if (!REG_NAME[b[p] & 0xFF] && b[p] != ':') return false;
            return true;
        }
        return ipv6(b, s, e);
    }

    // 8 groups of 1-4 hex digits, one "::" standing for one or more zero groups, an IPv4 tail
    private static boolean ipv6(byte[] b, int s, int e) {
        int groups = 0;
        boolean elided = false;
        int p = s;
        if (e - s >= 2 && b[s] == ':' && b[s + 1] == ':') {
            elided = true;
            p = s + 2;
            if (p == e) return true;
        } else if (b[s] == ':') {
            return false;
        }
        while (true) {
            int gs = p;
            while (p < e && hex(b[p]) >= 0 && p - gs < 5) p++;
            int n = p - gs;
            if (p < e && b[p] == '.') { // an IPv4address ends the address, counting as two groups
                if (!ipv4(b, gs, e)) return false;
                groups += 2;
                break;
            }
            if (n == 0 || n > 4) return false;
            groups++;
            if (p == e) break;
            if (b[p] != ':') return false;
            p++;
            if (p < e && b[p] == ':') {
                if (elided) return false;
                elided = true;
                p++;
                if (p == e) break;
            } else if (p == e) {
                return false; // a trailing single ':'
            }
        }
        return elided ? groups < 8 : groups == 8;
    }

    // dec-octet "." dec-octet "." dec-octet "." dec-octet
    private static boolean ipv4(byte[] b, int s, int e) {
        int p = s;
        for (int part = 0; part < 4; part++) {
            if (part > 0) {
                if (p == e || b[p] != '.') return false;
                p++;
            }
            int ds = p, v = 0;
            while (p < e && digit(b[p]) && p - ds < 3) v = v * 10 + (b[p++] - '0');
            int n = p - ds;
            if (n == 0 || v > 255 || (n > 1 && b[ds] == '0')) return false;
        }
        return p == e;
    }
}
