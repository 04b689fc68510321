package peloton.http.server;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class ByteRangesTest {
    static ByteRanges.Range r(long s, long e) {
        return new ByteRanges.Range(s, e);
    }

    static List<ByteRanges.Range> ranges(String h, long len) {
        ByteRanges br = ByteRanges.parse(h, len);
        assertNotNull(br, h);
        assertFalse(br.unsatisfiable(), h);
        return br.ranges();
    }

    @Test
    void singleRanges() {
        assertEquals(List.of(r(0, 499)), ranges("bytes=0-499", 10000));
        assertEquals(500, ranges("bytes=0-499", 10000).get(0).length());
        assertEquals(List.of(r(500, 999)), ranges("bytes=500-999", 10000));
        assertEquals(List.of(r(9500, 9999)), ranges("bytes=-500", 10000));
        assertEquals(List.of(r(9500, 9999)), ranges("bytes=9500-", 10000));
        assertEquals(List.of(r(0, 0)), ranges("bytes=0-0", 10000));
        assertEquals(List.of(r(9999, 9999)), ranges("bytes=-1", 10000));
        assertEquals(List.of(r(5, 9)), ranges("bytes=5-100", 10), "last-pos clamped");
        assertEquals(List.of(r(0, 9)), ranges("bytes=-100", 10), "suffix clamped");
        assertEquals(List.of(r(0, 9)), ranges("BYTES = 0-", 10), "unit is case-insensitive");
        assertEquals(List.of(r(1, 2)), ranges("bytes= 1-2 ", 10));
    }

    @Test
    void severalRangesAreSortedAndCoalesced() {
        assertEquals(List.of(r(0, 0), r(9999, 9999)), ranges("bytes=0-0,-1", 10000));
        assertEquals(List.of(r(0, 99), r(200, 299)), ranges("bytes=200-299, 0-99", 10000));
        assertEquals(List.of(r(0, 150)), ranges("bytes=0-99,50-150", 10000));
        assertEquals(List.of(r(0, 199)), ranges("bytes=0-99,100-199", 10000), "adjacent");
        assertEquals(List.of(r(0, 9)), ranges("bytes=0-,2-3", 10));
        assertEquals(List.of(r(1, 2)), ranges("bytes=1-2,,", 10), "empty elements");
        assertEquals(List.of(r(0, 1)), ranges("bytes=0-1,50-60", 10), "unsatisfiable part dropped");
    }

    @Test
    void unsatisfiable() {
        assertTrue(ByteRanges.parse("bytes=10-20", 10).unsatisfiable());
        assertTrue(ByteRanges.parse("bytes=10-", 10).unsatisfiable());
        assertTrue(ByteRanges.parse("bytes=-0", 10).unsatisfiable());
        assertTrue(ByteRanges.parse("bytes=0-5", 0).unsatisfiable());
        assertTrue(ByteRanges.parse("bytes=-5", 0).unsatisfiable());
        assertTrue(ByteRanges.parse("bytes=20-30,40-", 10).unsatisfiable());
        assertTrue(ByteRanges.parse("bytes=10-20", 10).ranges().isEmpty());
    }

    @Test
    void invalidHeadersAreIgnored() {
        String[] bad = {
            null, "", "bytes", "bytes=", "bytes=,", "items=0-1", "bytes=a-b", "bytes=5", "bytes=5-1",
            "bytes=1-2-3", "bytes=--1", "bytes=-", "bytes=0x1-2", "bytes=99999999999999999999-",
            "bytes=1-2;x", "bytes 0-1",
        };
        for (String h : bad) assertNull(ByteRanges.parse(h, 100), String.valueOf(h));
    }

    @Test
    void tooManyRangesAreIgnored() {
        StringBuilder sb = new StringBuilder("bytes=");
        for (int i = 0; i < ByteRanges.MAX_RANGES; i++) sb.append(i * 10).append('-').append(i * 10 + 1).append(',');
        assertEquals(ByteRanges.MAX_RANGES, ranges(sb.toString(), 1000).size());
        sb.append("900-901");
        assertNull(ByteRanges.parse(sb.toString(), 1000));
    }
}
