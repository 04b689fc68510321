package peloton.http;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class HttpDateTest {
    static final long RFC_EXAMPLE = 784111777000L; // Sun, 06 Nov 1994 08:49:37 GMT

    @Test
    void formatsImfFixdate() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(RFC_EXAMPLE));
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(RFC_EXAMPLE + 999));
        assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", HttpDate.format(0));
        assertEquals("Wed, 31 Dec 1969 23:59:59 GMT", HttpDate.format(-1));
        assertEquals("Tue, 29 Feb 2000 12:00:00 GMT", HttpDate.format(951825600000L));
        assertThrows(IllegalArgumentException.class, () -> HttpDate.format(Long.MAX_VALUE / 2));
    }

    @Test
    void formatAgreesWithJavaTimeOverManyInstants() {
        DateTimeFormatter rfc1123 = DateTimeFormatter.RFC_1123_DATE_TIME;
        // one instant per ~3.7 days over 60 years, crossing leap years and every weekday
        for (long t = 0; t < 60L * 365 * 86400_000; t += 321_987_654L) {
            String ours = HttpDate.format(t);
            ZonedDateTime back = ZonedDateTime.parse(ours, rfc1123);
            assertEquals(t / 1000, back.toEpochSecond(), ours);
            assertEquals(t / 1000 * 1000, HttpDate.parse(ours), ours);
        }
    }

    @Test
    void parsesAllThreeForms() {
        assertEquals(RFC_EXAMPLE, HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
        assertEquals(RFC_EXAMPLE, HttpDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT "));
        assertEquals(RFC_EXAMPLE, HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", 2025));
        assertEquals(RFC_EXAMPLE, HttpDate.parse("Sun Nov  6 08:49:37 1994"));
        assertEquals(RFC_EXAMPLE - 5 * 86400_000L, HttpDate.parse("Tue Nov 01 08:49:37 1994"));
    }

    @Test
    void rfc850TwoDigitYearsUseTheFiftyYearRule() {
        long y2030 = HttpDate.parse("Tue, 01 Jan 2030 00:00:00 GMT");
        assertEquals(y2030, HttpDate.parse("Tuesday, 01-Jan-30 00:00:00 GMT", 2025));
        long y1980 = HttpDate.parse("Tue, 01 Jan 1980 00:00:00 GMT");
        assertEquals(y1980, HttpDate.parse("Tuesday, 01-Jan-80 00:00:00 GMT", 2025));
        assertEquals(HttpDate.parse("Mon, 01 Jan 2080 00:00:00 GMT"),
                HttpDate.parse("Monday, 01-Jan-80 00:00:00 GMT", 2070));
    }

    @Test
    void leapSecondReadsAsFiftyNine() {
        assertEquals(HttpDate.parse("Sat, 31 Dec 2016 23:59:59 GMT"),
                HttpDate.parse("Sat, 31 Dec 2016 23:59:60 GMT"));
    }

    @Test
    void rejectsInvalidDates() {
        String[] bad = {
            null, "", "garbage", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37",
            "Sun, 6 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 06 Nov 1994 08-49-37 GMT", "Sun, 0a Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 06 Nov 94 08:49:37 GMT", "Sundae, 06-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov  x 08:49:37 1994",
        };
        for (String s : bad) assertEquals(-1, HttpDate.parse(s), String.valueOf(s));
    }

    @Test
    void currentBytesIsCachedPerSecond() {
        byte[] a = HttpDate.currentBytes(RFC_EXAMPLE);
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", new String(a, StandardCharsets.US_ASCII));
        assertSame(a, HttpDate.currentBytes(RFC_EXAMPLE + 999));
        byte[] b = HttpDate.currentBytes(RFC_EXAMPLE + 1000);
        assertEquals("Sun, 06 Nov 1994 08:49:38 GMT", new String(b, StandardCharsets.US_ASCII));
        assertNotSame(a, b);
    }

    @Test
    void currentBytesIsNow() {
        long before = System.currentTimeMillis() / 1000 * 1000;
        long parsed = HttpDate.parse(new String(HttpDate.currentBytes(), StandardCharsets.US_ASCII));
        long after = System.currentTimeMillis();
        assertTrue(parsed >= before && parsed <= after, parsed + " in [" + before + ", " + after + "]");
    }
}
