package peloton.http;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FormsTest {
    @Test
    void simplePairs() {
        Map<String, Object> m = Forms.parseUrlEncoded("a=1&b=two&c=");
        assertEquals(Map.of("a", "1", "b", "two", "c", ""), m);
        assertEquals(List.of("a", "b", "c"), List.copyOf(m.keySet()), "first-seen order");
        assertEquals(Map.of(), Forms.parseUrlEncoded(""));
        assertEquals(Map.of(), Forms.parseUrlEncoded(null));
        assertEquals(Map.of(), Forms.parseUrlEncoded("&&"));
        assertEquals(Map.of("flag", "", "x", "1"), Forms.parseUrlEncoded("flag&x=1&"));
        assertEquals(Map.of("a", "b=c"), Forms.parseUrlEncoded("a=b=c"));
        assertEquals(Map.of("", "v"), Forms.parseUrlEncoded("=v"));
    }

    @Test
    void repeatedKeysBecomeListsInOrder() {
        Map<String, Object> m = Forms.parseUrlEncoded("x=1&y=2&x=3&x=4");
        assertEquals(List.of("1", "3", "4"), m.get("x"));
        assertEquals("2", m.get("y"));
    }

    @Test
    void decoding() {
        assertEquals(Map.of("full name", "Ada Lovelace"), Forms.parseUrlEncoded("full+name=Ada+Lovelace"));
        assertEquals(Map.of("q", "a&b=c d+"), Forms.parseUrlEncoded("q=a%26b%3dc%20d%2B"));
        assertEquals(Map.of("city", "K\u00f6ln", "emoji", "\uD83D\uDE00"),
                Forms.parseUrlEncoded("city=K%C3%B6ln&emoji=%F0%9F%98%80"));
        assertEquals(Map.of("raw", "caf\u00e9"), Forms.parseUrlEncoded("raw=caf\u00e9"));
    }

    @Test
    void malformedEscapesAreKeptLiterally() {
        assertEquals(Map.of("a", "100%", "b", "%zz", "c", "%4"), Forms.parseUrlEncoded("a=100%&b=%zz&c=%4"));
        assertEquals(Map.of("d", "%A"), Forms.parseUrlEncoded("d=%%41"));
        assertEquals(Map.of("bad", "\uFFFD"), Forms.parseUrlEncoded("bad=%FF"), "invalid UTF-8 replaced");
    }

    @Test
    void percentDecodePath() {
        assertEquals("/a/b c/d", Forms.percentDecodePath("/a/b%20c/d"));
        assertEquals("/plain/path", Forms.percentDecodePath("/plain/path"));
        assertEquals("/a+b", Forms.percentDecodePath("/a+b"), "'+' is literal in paths");
        assertEquals("/K\u00f6ln", Forms.percentDecodePath("/K%c3%B6ln"));
        assertEquals("/a/b", Forms.percentDecodePath("/a%2Fb"));
        assertEquals("/%", Forms.percentDecodePath("/%25"));
        assertNull(Forms.percentDecodePath("/a%00b"), "encoded NUL");
        assertNull(Forms.percentDecodePath("/%FF"), "invalid UTF-8");
        assertNull(Forms.percentDecodePath("/%C3"), "truncated UTF-8");
        assertNull(Forms.percentDecodePath("/%C0%AF"), "overlong UTF-8");
        assertNull(Forms.percentDecodePath("/%ED%A0%80"), "encoded surrogate");
        assertNull(Forms.percentDecodePath("/a%"), "truncated escape");
        assertNull(Forms.percentDecodePath("/a%4"), "truncated escape");
        assertNull(Forms.percentDecodePath("/a%zz"), "bad hex");
        assertNull(Forms.percentDecodePath(null));
    }
}
