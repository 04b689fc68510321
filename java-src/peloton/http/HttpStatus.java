package peloton.http;

import java.nio.charset.StandardCharsets;

/** HTTP status codes: reason phrases (RFC 9110 §15) and ready-made HTTP/1.1 status lines. */
public final class HttpStatus {
    private static final String[] REASONS = new String[600];
    private static final byte[][] LINES = new byte[600][];

    static {
        r(100, "Continue"); r(101, "Switching Protocols"); r(102, "Processing"); r(103, "Early Hints");
        r(200, "OK"); r(201, "Created"); r(202, "Accepted"); r(203, "Non-Authoritative Information");
        r(204, "No Content"); r(205, "Reset Content"); r(206, "Partial Content"); r(207, "Multi-Status");
        r(208, "Already Reported"); r(226, "IM Used");
        r(300, "Multiple Choices"); r(301, "Moved Permanently"); r(302, "Found"); r(303, "See Other");
        r(304, "Not Modified"); r(305, "Use Proxy"); r(307, "Temporary Redirect");
        r(308, "Permanent Redirect");
        r(400, "Bad Request"); r(401, "Unauthorized"); r(402, "Payment Required"); r(403, "Forbidden");
        r(404, "Not Found"); r(405, "Method Not Allowed"); r(406, "Not Acceptable");
        r(407, "Proxy Authentication Required"); r(408, "Request Timeout"); r(409, "Conflict");
        r(410, "Gone"); r(411, "Length Required"); r(412, "Precondition Failed");
        r(413, "Content Too Large"); r(414, "URI Too Long"); r(415, "Unsupported Media Type");
        r(416, "Range Not Satisfiable"); r(417, "Expectation Failed"); r(418, "I'm a teapot");
        r(421, "Misdirected Request"); r(422, "Unprocessable Content"); r(423, "Locked");
        r(424, "Failed Dependency"); r(425, "Too Early"); r(426, "Upgrade Required");
        r(428, "Precondition Required"); r(429, "Too Many Requests");
        r(431, "Request Header Fields Too Large"); r(451, "Unavailable For Legal Reasons");
        r(500, "Internal Server Error"); r(501, "Not Implemented"); r(502, "Bad Gateway");
        r(503, "Service Unavailable"); r(504, "Gateway Timeout"); r(505, "HTTP Version Not Supported");
        r(506, "Variant Also Negotiates"); r(507, "Insufficient Storage"); r(508, "Loop Detected");
        r(511, "Network Authentication Required");
    }

    private static void r(int code, String reason) {
        REASONS[code] = reason;
        LINES[code] = build(code, reason);
    }

    private static byte[] build(int code, String reason) {
        return ("HTTP/1.1 " + code + " " + reason + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private HttpStatus() {}

    /**
     * The reason phrase of {@code code}, or "" for an unregistered code (RFC 9112 allows it).
     *
     * @return the reason phrase of {@code code}, or "" for an unregistered code (RFC 9112 allows it)
     * @param code the status code
     */
    public static String reason(int code) {
        if (code >= 100 && code < 600) {
            String r = REASONS[code];
            if (r != null) return r;
        }
        return "";
    }

    /**
     * The status line {@code HTTP/1.1 <code> <reason>\r\n} as bytes. Registered codes answer a
     * shared cached array: callers must not modify it. Unregistered codes get a new array with
     * an empty reason.
     *
     * @throws IllegalArgumentException when {@code code} is not a three-digit status (100-999)
     * @return the status line {@code HTTP/1.1 <code> <reason>\r\n} as bytes
     * @param code the status code
     */
    public static byte[] statusLine(int code) {
        if (code < 100 || code > 999) throw new IllegalArgumentException("status code " + code);
        if (code < 600 && LINES[code] != null) return LINES[code];
        return build(code, "");
    }
}
