package peloton.http;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpStatusTest {
    static String line(int code) {
        return new String(HttpStatus.statusLine(code), StandardCharsets.US_ASCII);
    }

    @Test
    void reasons() {
        assertEquals("OK", HttpStatus.reason(200));
        assertEquals("Not Found", HttpStatus.reason(404));
        assertEquals("Range Not Satisfiable", HttpStatus.reason(416));
        assertEquals("Request Header Fields Too Large", HttpStatus.reason(431));
        assertEquals("HTTP Version Not Supported", HttpStatus.reason(505));
        assertEquals("", HttpStatus.reason(299));
        assertEquals("", HttpStatus.reason(42));
        assertEquals("", HttpStatus.reason(700));
    }

    @Test
    void statusLines() {
        assertEquals("HTTP/1.1 200 OK\r\n", line(200));
        assertEquals("HTTP/1.1 100 Continue\r\n", line(100));
        assertEquals("HTTP/1.1 304 Not Modified\r\n", line(304));
        assertEquals("HTTP/1.1 413 Content Too Large\r\n", line(413));
        assertSame(HttpStatus.statusLine(404), HttpStatus.statusLine(404), "common lines are cached");
        assertEquals("HTTP/1.1 299 \r\n", line(299));
        assertEquals("HTTP/1.1 799 \r\n", line(799));
        assertThrows(IllegalArgumentException.class, () -> HttpStatus.statusLine(99));
        assertThrows(IllegalArgumentException.class, () -> HttpStatus.statusLine(1000));
    }

    @Test
    void everyParserErrorStatusHasAReason() {
        for (int code : new int[] {400, 413, 414, 431, 501, 505}) {
            assertFalse(HttpStatus.reason(code).isEmpty(), "reason for " + code);
        }
    }
}
