package peloton.http;

/**
 * Checks for response header names and values set by applications, so that no header can
 * smuggle a line break into the response (response splitting).
 */
public final class Headers {
    private Headers() {}

    /**
     * Answers {@code name} when it is a non-empty RFC 9110 token (letters, digits and
     * {@code !#$%&'*+-.^_`|~}).
     *
     * @throws IllegalArgumentException otherwise (CR, LF, spaces, colons, non-ASCII, ...)
     * @return {@code name} when it is a non-empty RFC 9110 token (letters, digits and {@code !#$%&'*+-.^_`|~})
     * @param name the header name
     */
    public static String checkName(String name) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("empty header name");
        for (int i = 0; i < name.length(); i++) {
            if (!isToken(name.charAt(i))) {
                throw new IllegalArgumentException("invalid character in header name: " + printable(name));
            }
        }
        return name;
    }

    /**
     * Answers {@code value} when it contains no CR, LF or NUL.
     *
     * @throws IllegalArgumentException when it is null or contains one of them
     * @return {@code value} when it contains no CR, LF or NUL
     * @param value the header value
     */
    public static String checkValue(String value) {
        if (value == null) throw new IllegalArgumentException("null header value");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                throw new IllegalArgumentException("CR, LF or NUL in header value: " + printable(value));
            }
        }
        return value;
    }

    /**
     * Whether {@code c} is an RFC 9110 tchar.
     *
     * @return whether {@code c} is an RFC 9110 tchar
     * @param c a character
     */
    public static boolean isToken(char c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') return true;
        return c < 0x80 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static String printable(String s) {
        String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return t.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0");
    }
}
