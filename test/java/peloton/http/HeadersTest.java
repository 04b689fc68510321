package peloton.http;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class HeadersTest {
    @Test
    void acceptsTokensAndOrdinaryValues() {
        assertEquals("Content-Type", Headers.checkName("Content-Type"));
        assertEquals("x!#$%&'*+-.^_`|~1", Headers.checkName("x!#$%&'*+-.^_`|~1"));
        assertEquals("text/html; charset=utf-8", Headers.checkValue("text/html; charset=utf-8"));
        assertEquals("", Headers.checkValue(""));
        assertEquals("tab\tand caf\u00e9", Headers.checkValue("tab\tand caf\u00e9"));
    }

    @Test
    void refusesResponseSplitting() {
        for (String bad : new String[] {"a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\0b"}) {
            assertThrows(IllegalArgumentException.class, () -> Headers.checkValue(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Headers.checkValue(null));
        for (String bad : new String[] {"", "X\r\nY", "X\nY", "X Y", "X:Y", "X\tY", "caf\u00e9", "a(b)", "a\"b",
                                        "a/b", "a@b", "a=b", "a{b"}) {
            assertThrows(IllegalArgumentException.class, () -> Headers.checkName(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Headers.checkName(null));
    }
}
