package peloton.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Decoding of URL-encoded forms and query strings, and of percent-encoded paths. */
public final class Forms {
    private Forms() {}

    /**
     * Parses {@code application/x-www-form-urlencoded} text (a body or a raw query string).
     * Pairs are separated by '&amp;'; a pair without '=' has value ""; empty pairs are skipped.
     * '+' decodes to a space and {@code %XX} escapes to bytes, read as UTF-8 (invalid
     * sequences become U+FFFD). A malformed escape ('%' not followed by two hex digits) is
     * kept literally, never thrown. A repeated key maps to a {@code List<String>} of its
     * values in order; otherwise the value is a String. Keys keep their first-seen order.
     * Null or empty input gives an empty map.
     *
     * @param s the text, or null
     * @return the names with a String value, or a {@code List<String>} of values for a repeated name
     */
    public static Map<String, Object> parseUrlEncoded(String s) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (s == null || s.isEmpty()) return out;
        int n = s.length();
        int p = 0;
        while (p <= n) {
            int amp = s.indexOf('&', p);
            if (amp < 0) amp = n;
            if (amp > p) {
                int eq = s.indexOf('=', p);
                String key, value;
                if (eq < 0 || eq > amp) {
                    key = decode(s, p, amp);
                    value = "";
                } else {
                    key = decode(s, p, eq);
                    value = decode(s, eq + 1, amp);
                }
                add(out, key, value);
            }
            p = amp + 1;
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void add(Map<String, Object> out, String key, String value) {
        Object old = out.get(key);
        if (old == null) {
            out.put(key, value);
        } else if (old instanceof List) {
            ((List<String>) old).add(value);
        } else {
            List<String> list = new ArrayList<>(4);
            list.add((String) old);
            list.add(value);
            out.put(key, list);
        }
    }

    private static String decode(String s, int from, int to) {
        boolean plain = true;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%' || c == '+' || c > 0x7F) {
                plain = false;
                break;
            }
        }
        if (plain) return s.substring(from, to);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '+') {
                bytes.write(' ');
            } else if (c == '%' && i + 2 < to && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                bytes.write(hex(s.charAt(i + 1)) << 4 | hex(s.charAt(i + 2)));
                i += 2;
            } else if (c > 0x7F) {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < to) {
                    utf8 = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.write(utf8, 0, utf8.length);
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * Percent-decodes a raw path (no '+' handling: '+' stays '+'). Answers null when the path
     * has a malformed escape, an encoded NUL ({@code %00}), or escapes that are not valid
     * UTF-8. Encoded '/' ({@code %2F}) is decoded like any byte, so callers serving files
     * must check the decoded path's segments (e.g. "..") themselves.
     *
     * @param rawPath the path as sent
     * @return the decoded path, or null when it cannot be decoded
     */
    public static String percentDecodePath(String rawPath) {
        if (rawPath == null) return null;
        int first = rawPath.indexOf('%');
        if (first < 0) return rawPath;
        int n = rawPath.length();
        byte[] bytes = new byte[n * 3];
        int len = 0;
        for (int i = 0; i < n; i++) {
            char c = rawPath.charAt(i);
            if (c == '%') {
                if (i + 2 >= n) return null;
                int hi = hex(rawPath.charAt(i + 1)), lo = hex(rawPath.charAt(i + 2));
                if (hi < 0 || lo < 0) return null;
                int b = hi << 4 | lo;
                if (b == 0) return null;
                bytes[len++] = (byte) b;
                i += 2;
            } else if (c < 0x80) {
                bytes[len++] = (byte) c;
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < n ? i + 2 : i + 1;
                byte[] utf8 = rawPath.substring(i, end).getBytes(StandardCharsets.UTF_8);
                System.arraycopy(utf8, 0, bytes, len, utf8.length);
                len += utf8.length;
                i = end - 1;
            }
        }
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer chars = dec.decode(ByteBuffer.wrap(bytes, 0, len));
            return chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
}
