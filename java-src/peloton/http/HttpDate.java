package peloton.http;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * HTTP dates (RFC 9110 §5.6.7). Formats IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT});
 * parses IMF-fixdate and the obsolete RFC 850 and asctime forms, as If-Modified-Since may
 * carry any of them.
 */
public final class HttpDate {
    private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] LONG_DAYS = {
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    private static final String[] MONTHS = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

    /** Formatted date of one second; immutable so readers need no lock. */
    private static final class Cached {
        final long second;
        final byte[] bytes;

        Cached(long second, byte[] bytes) {
            this.second = second;
            this.bytes = bytes;
        }
    }

    private static volatile Cached cached = new Cached(Long.MIN_VALUE, null);

    private HttpDate() {}

    /**
     * The current time as IMF-fixdate ASCII bytes (29 bytes, no CRLF), formatted at most once
     * per second and shared between threads: callers must not modify the array.
     *
     * @return the shared bytes of the current time; do not modify them
     */
    public static byte[] currentBytes() {
        return currentBytes(System.currentTimeMillis());
    }

    static byte[] currentBytes(long nowMillis) {
        long second = Math.floorDiv(nowMillis, 1000);
        Cached c = cached;
        if (c.second != second) {
            c = new Cached(second, formatSecond(second)); // racing threads make equal arrays
            cached = c;
        }
        return c.bytes;
    }

    /**
     * {@code epochMillis} as IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}.
     *
     * @throws IllegalArgumentException for years outside 0000-9999
     * @param epochMillis the time, in milliseconds since the epoch
     * @return the IMF-fixdate text, such as {@code Sun, 06 Nov 1994 08:49:37 GMT}
     */
    public static String format(long epochMillis) {
        return new String(formatSecond(Math.floorDiv(epochMillis, 1000)), StandardCharsets.US_ASCII);
    }

    private static byte[] formatSecond(long epochSecond) {
        long day = Math.floorDiv(epochSecond, 86400);
        int secOfDay = (int) Math.floorMod(epochSecond, 86400);
        LocalDate date = LocalDate.ofEpochDay(day);
        int year = date.getYear();
        if (year < 0 || year > 9999) throw new IllegalArgumentException("year " + year);
        byte[] b = new byte[29];
        put(b, 0, DAYS[(int) Math.floorMod(day + 3, 7)]); // 1970-01-01 was a Thursday
        b[3] = ',';
        b[4] = ' ';
        two(b, 5, date.getDayOfMonth());
        b[7] = ' ';
        put(b, 8, MONTHS[date.getMonthValue() - 1]);
        b[11] = ' ';
        two(b, 12, year / 100);
        two(b, 14, year % 100);
        b[16] = ' ';
        two(b, 17, secOfDay / 3600);
        b[19] = ':';
        two(b, 20, secOfDay / 60 % 60);
        b[22] = ':';
        two(b, 23, secOfDay % 60);
        put(b, 25, " GMT");
        return b;
    }

    private static void put(byte[] b, int at, String s) {
        for (int i = 0; i < s.length(); i++) b[at + i] = (byte) s.charAt(i);
    }

    private static void two(byte[] b, int at, int v) {
        b[at] = (byte) ('0' + v / 10);
        b[at + 1] = (byte) ('0' + v % 10);
    }

    /**
     * Parses an HTTP date in any of the three forms, answering epoch milliseconds, or -1 when
     * {@code s} is null or not a valid date (never a real answer: results are whole seconds).
     * Leap second 60 reads as 59. RFC 850 two-digit years more than 50 years in the future
     * are taken as the previous century.
     *
     * @param s the header value
     * @return the time in milliseconds since the epoch, or -1
     */
    public static long parse(String s) {
        return parse(s, LocalDate.now(ZoneOffset.UTC).getYear());
    }

    static long parse(String s, int currentYear) {
        if (s == null) return -1;
        s = s.trim();
        int comma = s.indexOf(',');
        if (comma == 3 && s.length() == 29) return imf(s);
        if (comma > 3) return rfc850(s, comma, currentYear);
        if (comma < 0 && s.length() == 24) return asctime(s);
        return -1;
    }

    // Sun, 06 Nov 1994 08:49:37 GMT
    private static long imf(String s) {
        if (dayIndex(DAYS, s.substring(0, 3)) < 0 || s.charAt(4) != ' ' || s.charAt(7) != ' '
                || s.charAt(11) != ' ' || s.charAt(16) != ' ' || !s.endsWith(" GMT")) {
            return -1;
        }
        return build(num(s, 12, 4), month(s, 8), num(s, 5, 2), time(s, 17));
    }

    // Sunday, 06-Nov-94 08:49:37 GMT
    private static long rfc850(String s, int comma, int currentYear) {
        if (dayIndex(LONG_DAYS, s.substring(0, comma)) < 0 || s.length() != comma + 24) return -1;
        int p = comma + 1;
        if (s.charAt(p) != ' ' || s.charAt(p + 3) != '-' || s.charAt(p + 7) != '-' || s.charAt(p + 10) != ' '
                || s.charAt(p + 19) != ' ' || !s.endsWith(" GMT")) {
            return -1;
        }
        int yy = num(s, p + 8, 2);
        if (yy < 0) return -1;
        int year = currentYear - Math.floorMod(currentYear, 100) + yy;
        if (year > currentYear + 50) year -= 100;
        return build(year, month(s, p + 4), num(s, p + 1, 2), time(s, p + 11));
    }

    // Sun Nov  6 08:49:37 1994
    private static long asctime(String s) {
        if (dayIndex(DAYS, s.substring(0, 3)) < 0 || s.charAt(3) != ' ' || s.charAt(7) != ' '
                || s.charAt(10) != ' ' || s.charAt(19) != ' ') {
            return -1;
        }
        int day = s.charAt(8) == ' ' ? num(s, 9, 1) : num(s, 8, 2);
        return build(num(s, 20, 4), month(s, 4), day, time(s, 11));
    }

    private static int dayIndex(String[] names, String name) {
        for (int i = 0; i < names.length; i++) if (names[i].equals(name)) return i;
        return -1;
    }

    private static int month(String s, int at) {
        if (at + 3 > s.length()) return -1;
        for (int i = 0; i < 12; i++) if (s.startsWith(MONTHS[i], at)) return i + 1;
        return -1;
    }

    private static int num(String s, int at, int n) {
        if (at + n > s.length()) return -1;
        int v = 0;
        for (int i = at; i < at + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
        }
        return v;
    }

    // HH:MM:SS as seconds of day, or -1
    private static int time(String s, int at) {
        int h = num(s, at, 2), m = num(s, at + 3, 2), sec = num(s, at + 6, 2);
        if (s.charAt(at + 2) != ':' || s.charAt(at + 5) != ':' || h < 0 || h > 23 || m < 0 || m > 59
                || sec < 0 || sec > 60) {
            return -1;
        }
        return h * 3600 + m * 60 + Math.min(sec, 59);
    }

    private static long build(int year, int month, int day, int secOfDay) {
        if (year < 0 || month < 1 || day < 1 || secOfDay < 0) return -1;
        try {
            return (LocalDate.of(year, month, day).toEpochDay() * 86400 + secOfDay) * 1000;
        } catch (DateTimeException e) {
            return -1;
        }
    }
}
