package peloton.http.server;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import peloton.http.ParserHarness;

class PathNormalizerTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "/                    |/",
        "/a/b/c               |/a/b/c",
        "/a/./b               |/a/b",
        "/a/../b              |/b",
        "/a/b/../../c         |/c",
        "/a/b/..              |/a/",
        "/a/b/.               |/a/b/",
        "/./                  |/",
        "/a/..                |/",
        "//                   |//",
        "/a//b/../c           |/a//c",
        "/a/.b/..c/...        |/a/.b/..c/...",
        "/a/%2e/%2E%2e/x      |/x",
        "/a/%2e%2e            |/",
        "/%7Euser             |/~user",
        "/%7euser             |/~user",
        "/%2fetc%2Fpasswd     |/%2Fetc%2Fpasswd",
        "/a%2F.b%2F..c        |/a%2F.b%2F..c",
        "/%2F%2F              |/%2F%2F",
        "/%c3%a9              |/%C3%A9",
        "/%20%25%3F%23        |/%20%25%3F%23",
        "/a:b@c!$&'()*+,;=    |/a:b@c!$&'()*+,;=",
    })
    void normalizes(String raw, String expected) {
        assertEquals(expected.strip(), PathNormalizer.normalize(raw.strip()));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/..", "/../", "/a/../..", "/./..", "/%2e%2e", "/.%2E", "/a/b/../../../c"})
    void climbingAboveTheRootIsRefused(String raw) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathNormalizer.normalize(raw));
        assertTrue(e.getMessage().contains("above the root"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/a%2F..%2Fb", "/a%2f..", "/..%2Fadmin", "/x/.%2Fy", "/x/%2e%2e%2fy", "/a/b%2F.",
        "/p%2F%2e"})
    void aDotSegmentBehindAnEncodedSlashIsRefused(String raw) {
        // a proxy that decodes %2F would resolve it, Peloton would not: refuse rather than disagree
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathNormalizer.normalize(raw));
        assertTrue(e.getMessage().contains("encoded slash"), e.getMessage());
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"", "a/b", "/%", "/%4", "/%zz", "/a b", "/caf\u00e9", "/a\u0000"})
    void invalidInputIsRefused(String raw) {
        assertThrows(IllegalArgumentException.class, () -> PathNormalizer.normalize(raw));
    }

    @Test
    void needsNormalizingIsExact() {
        for (String p : new String[] {"/", "/a.b", "/a/.b", "/a/b.", "/..a", "/%2A", "/%C3%A9", "/a%20b"}) {
            byte[] b = ParserHarness.bytes(p);
            assertFalse(PathNormalizer.needsNormalizing(b, 0, b.length), p);
            assertEquals(p, PathNormalizer.normalize(p));
        }
        for (String p : new String[] {"/.", "/..", "/a/./b", "/a/", "/%41", "/%2f", "/%c3%A9", "/x/%2e"}) {
            byte[] b = ParserHarness.bytes(p);
            if (p.equals("/a/")) {
                assertFalse(PathNormalizer.needsNormalizing(b, 0, b.length));
                continue;
            }
            assertTrue(PathNormalizer.needsNormalizing(b, 0, b.length), p);
        }
    }

    /**
     * The reference: RFC 3986 §5.2.4's remove_dot_segments written as the spec's own steps on an
     * input and an output buffer, after decoding encoded unreserved characters and upper-casing
     * the remaining encodings (§6.2.2.1-2), with "climbed above the root" noted where step C
     * finds no segment to remove.
     */
    private static String reference(String path) {
        StringBuilder dec = new StringBuilder();
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%') {
                int v = Integer.parseInt(path.substring(i + 1, i + 3), 16);
                char d = (char) v;
                boolean unreserved = Character.isLetterOrDigit(d) && d < 0x80 || "-._~".indexOf(d) >= 0;
                dec.append(unreserved ? String.valueOf(d) : path.substring(i, i + 3).toUpperCase());
                i += 2;
            } else {
                dec.append(c);
            }
        }
        String in = dec.toString();
        StringBuilder out = new StringBuilder();
        while (!in.isEmpty()) {
            if (in.startsWith("../")) {
                in = in.substring(3);
            } else if (in.startsWith("./")) {
                in = in.substring(2);
            } else if (in.startsWith("/./")) {
                in = in.substring(2);
            } else if (in.equals("/.")) {
                in = "/";
            } else if (in.startsWith("/../") || in.equals("/..")) {
                in = in.equals("/..") ? "/" : in.substring(3);
                int last = out.lastIndexOf("/");
                if (last < 0) return null; // nothing to go up from: above the root
                out.setLength(last);
            } else if (in.equals(".") || in.equals("..")) {
                in = "";
            } else {
                int next = in.indexOf('/', in.startsWith("/") ? 1 : 0);
                if (next < 0) next = in.length();
                out.append(in, 0, next);
                in = in.substring(next);
            }
        }
        return out.toString();
    }

    @Test
    void agreesWithRfc3986sAlgorithmOnRandomPaths() {
        String[] parts = {"a", "b", ".", "..", "", "%2e", "%2E%2e", ".%2e", "%2F", "%41", "%7e", "...", ".x", "%c3"};
        Random rnd = new Random(3986);
        int refused = 0;
        for (int round = 0; round < 20_000; round++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(7);
            for (int i = 0; i < n; i++) sb.append('/').append(parts[rnd.nextInt(parts.length)]);
            String raw = sb.toString();
            String expected = reference(raw);
            if (expected == null) {
                refused++;
                assertThrows(IllegalArgumentException.class, () -> PathNormalizer.normalize(raw), raw);
            } else {
                assertEquals(expected, PathNormalizer.normalize(raw), raw);
            }
        }
        assertTrue(refused > 1000 && refused < 19_000, "both kinds were tried: " + refused);
    }
}
