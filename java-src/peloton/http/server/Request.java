package peloton.http.server;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import peloton.http.HttpBytes;

/**
 * A parsed request head, made by {@link RequestParser} when {@link RequestParser#parseHead}
 * answers {@code HEAD_DONE}. It owns a copy of the head bytes, so it stays valid after the
 * parser is {@link RequestParser#reset() reset} for the next request. Strings are made from
 * the bytes only when asked (ISO-8859-1, one char per byte; the request-target is ASCII).
 *
 * <p>Header names are lower-cased, values trimmed of surrounding SP/HTAB. Trailer fields of a
 * chunked body are filled in when {@link RequestParser#parseBody} answers {@code BODY_DONE}.
 */
public final class Request {
    private static final int[] NO_FIELDS = new int[0];

    private final byte[] head;
    private final int[] fields; // 4 ints per field: nameStart, nameEnd, valueStart, valueEnd
    private final int fieldCount;
    private final String method;
    private final int targetStart, targetEnd, pathStart, pathEnd, queryStart;
    private final String normalPath; // null: the raw path is already normal
    private final int authStart, authHostEnd, authEnd; // the effective authority, -1 when none
    private final int versionMinor;
    private final boolean keepAlive, chunked, expectContinue;
    private final long contentLength;

    private byte[] trailerBytes;
    private int[] trailerFields = NO_FIELDS;
    private int trailerCount;

    Request(byte[] head, int[] fields, int fieldCount, String method, int targetStart, int targetEnd,
            int pathStart, int pathEnd, int queryStart, String normalPath, int authStart,
            int authHostEnd, int authEnd, int versionMinor, boolean keepAlive, boolean chunked,
            boolean expectContinue, long contentLength) {
        this.head = head;
        this.fields = fields;
        this.fieldCount = fieldCount;
        this.method = method;
        this.targetStart = targetStart;
        this.targetEnd = targetEnd;
        this.pathStart = pathStart;
        this.pathEnd = pathEnd;
        this.queryStart = queryStart;
        this.normalPath = normalPath;
        this.authStart = authStart;
        this.authHostEnd = authHostEnd;
        this.authEnd = authEnd;
        this.versionMinor = versionMinor;
        this.keepAlive = keepAlive;
        this.chunked = chunked;
        this.expectContinue = expectContinue;
        this.contentLength = contentLength;
    }

    void setTrailers(byte[] bytes, int[] offsets, int count) {
        trailerBytes = bytes;
        trailerFields = offsets;
        trailerCount = count;
    }

    private static String str(byte[] b, int start, int end) {
        return new String(b, start, end - start, StandardCharsets.ISO_8859_1);
    }

    /**
     * The method, e.g. "GET"; common methods are shared constant strings.
     *
     * @return the method, e.g. "GET"; common methods are shared constant strings
     */
    public String method() { return method; }

    /**
     * The raw request-target as sent (origin, absolute, authority or asterisk form), query
     * included. The parser has checked it holds only characters RFC 3986 allows (no fragment).
     *
     * @return the raw request-target as sent (origin, absolute, authority or asterisk form)
     */
    public String target() { return str(head, targetStart, targetEnd); }

    /**
     * The normalized path, what routes match: the raw path with percent-encoded unreserved
     * characters decoded, other encodings kept (upper-cased), and dot segments removed; see
     * {@link PathNormalizer}. A path that climbed above the root was refused with 400. The same
     * as {@link #rawPath()} for most requests.
     *
     * @return the raw (not percent-decoded) path: the target before '?'
     */
    public String path() { return normalPath != null ? normalPath : rawPath(); }

    /**
     * The raw path as sent: the target before '?'. For an absolute-form target
     * ({@code http://host/p?q}) the path component ({@code /p}, or "/" when empty); for the
     * asterisk and authority forms the target itself.
     *
     * @return the raw path
     */
    public String rawPath() { return pathEnd == pathStart ? "/" : str(head, pathStart, pathEnd); }

    /**
     * The host the request is for, without the port: from an absolute-form target's authority
     * (RFC 9112 §3.2.2: it overrides Host), else from the Host header (validated: a reg-name,
     * IPv4 address or bracketed IP literal, as sent); null when neither names one (HTTP/1.0
     * without Host). May be empty: {@code Host:} with no value is allowed.
     *
     * @return the host, or null
     */
    public String host() { return authStart < 0 ? null : str(head, authStart, authHostEnd); }

    /**
     * The port given with {@link #host()} (the target's or the Host header's), or -1 when none.
     *
     * @return the port, or -1
     */
    public int port() { return authStart < 0 ? -1 : HttpBytes.authorityPort(head, authHostEnd, authEnd); }

    /**
     * The raw query after '?', or null when the target has no '?'.
     *
     * @return the raw query after '?', or null when the target has no '?'
     */
    public String query() { return queryStart < 0 ? null : str(head, queryStart + 1, targetEnd); }

    /**
     * 0 for HTTP/1.0, 1 for HTTP/1.1 (and for a higher 1.x, served as 1.1: RFC 9110 §2.5).
     *
     * @return the minor version
     */
    public int versionMinor() { return versionMinor; }

    /**
     * Number of header field lines.
     *
     * @return number of header field lines
     */
    public int headerCount() { return fieldCount; }

    /**
     * Lower-cased name of header line {@code i}.
     *
     * @param i the field's index, from 0
     * @return the lower-case name
     */
    public String headerName(int i) {
        check(i, fieldCount);
        return str(head, fields[4 * i], fields[4 * i + 1]);
    }

    /**
     * Value of header line {@code i}, trimmed of leading/trailing SP and HTAB.
     *
     * @param i the field's index, from 0
     * @return the trimmed value
     */
    public String headerValue(int i) {
        check(i, fieldCount);
        return str(head, fields[4 * i + 2], fields[4 * i + 3]);
    }

    /**
     * First value of the header named {@code lowerName} (must be lower case), or null.
     *
     * @param lowerName the header name in lower case
     * @return the first value, or null
     */
    public String header(String lowerName) {
        int i = find(head, fields, fieldCount, lowerName, 0);
        return i < 0 ? null : str(head, fields[4 * i + 2], fields[4 * i + 3]);
    }

    /**
     * All values of the header named {@code lowerName} (lower case), in order; maybe empty.
     *
     * @return all values of the header named {@code lowerName} (lower case), in order; maybe empty
     * @param lowerName the header name in lower case
     */
    public List<String> headers(String lowerName) {
        List<String> out = new ArrayList<>(2);
        for (int i = find(head, fields, fieldCount, lowerName, 0); i >= 0;
             i = find(head, fields, fieldCount, lowerName, i + 1)) {
            out.add(str(head, fields[4 * i + 2], fields[4 * i + 3]));
        }
        return out;
    }

    /**
     * Number of trailer field lines (0 until a chunked body is done, or when none were sent).
     *
     * @return number of trailer field lines (0 until a chunked body is done, or when none were sent)
     */
    public int trailerCount() { return trailerCount; }

    /**
     * Lower-cased name of trailer line {@code i}.
     *
     * @param i the trailer field's index, from 0
     * @return the lower-case name
     */
    public String trailerName(int i) {
        check(i, trailerCount);
        return str(trailerBytes, trailerFields[4 * i], trailerFields[4 * i + 1]);
    }

    /**
     * Trimmed value of trailer line {@code i}.
     *
     * @param i the trailer field's index, from 0
     * @return the trimmed value
     */
    public String trailerValue(int i) {
        check(i, trailerCount);
        return str(trailerBytes, trailerFields[4 * i + 2], trailerFields[4 * i + 3]);
    }

    /**
     * First value of the trailer named {@code lowerName}, or null.
     *
     * @param lowerName the trailer name in lower case
     * @return the first value, or null
     */
    public String trailer(String lowerName) {
        int i = find(trailerBytes, trailerFields, trailerCount, lowerName, 0);
        return i < 0 ? null : str(trailerBytes, trailerFields[4 * i + 2], trailerFields[4 * i + 3]);
    }

    /**
     * Whether the connection may stay open after this exchange: HTTP/1.1 unless a
     * Connection header lists "close"; HTTP/1.0 only when it lists "keep-alive" (and not
     * "close").
     *
     * @return whether the connection may stay open after this exchange
     */
    public boolean keepAlive() { return keepAlive; }

    /**
     * The Content-Length, or -1 when none was sent.
     *
     * @return the Content-Length, or -1 when none was sent
     */
    public long contentLength() { return contentLength; }

    /**
     * Whether the body uses chunked transfer coding.
     *
     * @return whether the body uses chunked transfer coding
     */
    public boolean chunked() { return chunked; }

    /**
     * Whether an HTTP/1.1 request sent {@code Expect: 100-continue}.
     *
     * @return whether an HTTP/1.1 request sent {@code Expect: 100-continue}
     */
    public boolean expectContinue() { return expectContinue; }

    /**
     * Whether a body follows the head (chunked, or Content-Length above 0).
     *
     * @return whether a body follows the head (chunked, or Content-Length above 0)
     */
    public boolean hasBody() { return chunked || contentLength > 0; }

    private static void check(int i, int count) {
        if (i < 0 || i >= count) throw new IndexOutOfBoundsException("field " + i + " of " + count);
    }

    private static int find(byte[] b, int[] f, int count, String name, int from) {
        int n = name.length();
        outer:
        for (int i = from; i < count; i++) {
            int s = f[4 * i];
            if (f[4 * i + 1] - s != n) continue;
            for (int k = 0; k < n; k++) {
                char c = name.charAt(k);
                if (c > 0x7F || b[s + k] != (byte) c) continue outer;
            }
            return i;
        }
        return -1;
    }

    @Override
    public String toString() {
        return method + " " + target() + " HTTP/1." + versionMinor + " (" + fieldCount + " headers)";
    }
}
