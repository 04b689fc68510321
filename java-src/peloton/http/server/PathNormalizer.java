package peloton.http.server;

import static peloton.http.HttpBytes.UNRESERVED;
import static peloton.http.HttpBytes.hex;

import java.nio.charset.StandardCharsets;
import peloton.http.HttpBytes;

/**
 * The path that routes see: a request path normalized the way RFC 3986 §6.2.2 allows without
 * changing what it identifies, so that a proxy's rules (nginx's {@code location}, which match the
 * normalized path) and Peloton's routes agree on what a request names.
 *
 * <ol>
 *   <li>Percent-encodings of unreserved characters ({@code ALPHA DIGIT - . _ ~}) are decoded:
 *       {@code /%61dmin} is {@code /admin}. Every other encoding stays encoded, with upper-case
 *       hex digits ({@code %2f} becomes {@code %2F}), so a decoded {@code /} can never make a new
 *       segment and a decoded {@code ?} never starts a query.</li>
 *   <li>Dot segments are removed (RFC 3986 §5.2.4): {@code /a/./b/../c} is {@code /a/c}, and
 *       {@code /a/b/..} is {@code /a/}. Encoded dots count ({@code %2e%2E} is {@code ..}).</li>
 *   <li>A path that climbs above the root ({@code /..}, {@code /a/../..}) has no meaning: it is
 *       refused (the parser answers 400) rather than clamped to {@code /}.</li>
 *   <li>A dot segment hidden behind an encoded slash ({@code /admin%2F..%2Fpublic},
 *       {@code /x/..%2Fadmin}) is refused too: here it is one segment, but a proxy that decodes
 *       {@code %2F} (nginx does, for its {@code location} rules) sees {@code /public}, and the
 *       two would route the same bytes differently. Jetty calls these ambiguous paths.</li>
 * </ol>
 * Empty segments ({@code //}) and the query are left as they are. The input must be a valid
 * origin-form path (starting with {@code /}, every {@code %} followed by two hex digits), which
 * the parser has checked.
 */
public final class PathNormalizer {
    private static final byte[] HEX_UPPER = HttpBytes.ascii("0123456789ABCDEF");

    /** {@link #normalize(byte[], int, int)}'s answers for a path it refuses (compared by identity). */
    static final String CLIMBS = new String("climbs above the root"), AMBIGUOUS = new String("ambiguous");

    private PathNormalizer() {}

    /**
     * The normalized form of {@code rawPath}, a path starting with "/".
     *
     * @param rawPath a path as a client sent it, before any {@code ?}
     * @return the path routes match
     * @throws IllegalArgumentException when it does not start with "/", has a malformed
     *     percent-encoding or a character outside US-ASCII, climbs above the root, or hides a dot
     *     segment behind an encoded slash
     */
    public static String normalize(String rawPath) {
        byte[] b = rawPath.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            if (c > 0x7E || c <= 0x20) throw new IllegalArgumentException("invalid character in path: " + rawPath);
        }
        if (b.length == 0 || b[0] != '/' || !HttpBytes.validPercents(b, 0, b.length)) {
            throw new IllegalArgumentException("not an absolute path: " + rawPath);
        }
        String n = normalize(b, 0, b.length);
        if (n == CLIMBS) throw new IllegalArgumentException("path climbs above the root: " + rawPath);
        if (n == AMBIGUOUS) throw new IllegalArgumentException("dot segment behind an encoded slash: " + rawPath);
        return n;
    }

    /**
     * Whether the valid path b[s, e) needs {@link #normalize(byte[], int, int)}: an encoded
     * unreserved character, a lower-case hex digit in an encoding, a dot segment, or an encoded
     * slash (to be checked for hidden dot segments). A quick look, so that the common path costs
     * no allocation.
     */
    static boolean needsNormalizing(byte[] b, int s, int e) {
        for (int i = s; i < e; i++) {
            int c = b[i];
            if (c == '%') {
                int hi = b[i + 1], lo = b[i + 2];
                if (UNRESERVED[hex(hi) << 4 | hex(lo)] || hi >= 'a' || lo >= 'a') return true;
                if (hi == '2' && lo == 'F') return true;
                i += 2;
            } else if (c == '.' && b[i - 1] == '/') { // i > s: the path starts with '/'
                int n = i + 1 < e && b[i + 1] == '.' ? i + 2 : i + 1;
                if (n == e || b[n] == '/') return true;
            }
        }
        return false;
    }

    /**
     * The normalized form of the valid path b[s, e) (starting with '/'), or {@link #CLIMBS} when
     * it climbs above the root, or {@link #AMBIGUOUS} when a dot segment hides behind an encoded
     * slash. Answers a new String even when nothing changed.
     */
    static String normalize(byte[] b, int s, int e) {
        byte[] out = new byte[e - s]; // never longer than the input
        int o = 0;
        int i = s;
        while (i < e) { // b[i] == '/'
            int segStart = o;
            out[o++] = '/';
            i++;
            int piece = o; // where the part after the last encoded slash of this segment starts
            while (i < e && b[i] != '/') {
                int c = b[i];
                if (c == '%') {
                    int hi = hex(b[i + 1]), lo = hex(b[i + 2]);
                    int v = hi << 4 | lo;
                    if (v == '/') {
                        if (isDots(out, piece, o)) return AMBIGUOUS;
                        piece = o + 3;
                    }
                    if (UNRESERVED[v]) {
                        out[o++] = (byte) v;
                    } else {
                        out[o++] = '%';
                        out[o++] = HEX_UPPER[hi];
                        out[o++] = HEX_UPPER[lo];
                    }
                    i += 3;
                } else {
                    out[o++] = (byte) c;
                    i++;
                }
            }
            if (piece != segStart + 1 && isDots(out, piece, o)) return AMBIGUOUS;
            int segLen = o - segStart - 1;
            if (segLen == 1 && out[segStart + 1] == '.') {
                o = segStart; // "/." goes; at the end it leaves its "/"
                if (i == e) out[o++] = '/';
            } else if (segLen == 2 && out[segStart + 1] == '.' && out[segStart + 2] == '.') {
                if (segStart == 0) return CLIMBS;
                int prev = segStart - 1;
                while (out[prev] != '/') prev--;
                o = prev; // "/x/.." goes with the segment before it
                if (i == e) out[o++] = '/';
            }
        }
        return new String(out, 0, o, StandardCharsets.ISO_8859_1);
    }

    // whether out[s, e) is "." or ".."
    private static boolean isDots(byte[] out, int s, int e) {
        return (e - s == 1 && out[s] == '.') || (e - s == 2 && out[s] == '.' && out[s + 1] == '.');
    }
}
