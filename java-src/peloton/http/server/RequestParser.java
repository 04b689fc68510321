package peloton.http.server;

import static peloton.http.HttpBytes.*;

import java.nio.ByteBuffer;
import java.util.Arrays;
import peloton.http.BodyDecoder;
import peloton.http.BodySink;
import peloton.http.HeadScanner;
import peloton.http.HttpLimits;

/**
 * Incremental HTTP/1.1 request parser: a byte-level state machine, no IO. One instance per
 * connection, {@link #reset()} before each next request (keep-alive, pipelining).
 *
 * <p>Head: {@link #parseHead} copies head bytes into a reusable growable array (in bulk,
 * a few KiB at a time), scans them once, and records offsets; header names are lower-cased
 * in place. On {@link #HEAD_DONE} it gives back the bytes it read past the head (the input's
 * position is left just after the head's final CRLF) and {@link #request()} answers a
 * {@link Request} with its own copy of the head. Input may be split anywhere.
 *
 * <p>Body: {@link #parseBody} decodes a Content-Length or chunked body and hands the data
 * to a {@link BodySink} as views into the input buffer (no copy). Chunk extensions are
 * checked against their grammar and their per-line and per-body limits, then ignored. Trailer
 * fields are parsed like headers (more than {@link HttpLimits#maxHeaders} lines or
 * {@link HttpLimits#maxTrailerBytes} gives 431) and exposed by {@link Request#trailer} and
 * friends; their meaning is not acted upon (a trailer Content-Length changes nothing).
 *
 * <p>Memory: the head buffer and offset table are borrowed from a per-thread pool when a head
 * starts arriving and given back once the {@link Request} has its copy, so an idle connection's
 * parser holds neither.
 *
 * <p>The request-target (RFC 9112 §3.2, RFC 3986): origin-form ({@code /p?q}), absolute-form
 * ({@code http://host:port/p?q}, whose authority then names the host instead of the Host
 * header, §3.2.2), authority-form for CONNECT ({@code host:port}), or {@code *}. Only the
 * characters RFC 3986 allows (unreserved, sub-delims, {@code : @ / ? %}, brackets only in an
 * authority), every {@code %} starting a valid encoding. {@link Request#path()} is the
 * {@link PathNormalizer normalized} path.
 *
 * <p>What is accepted and refused (RFC 9110/9112), as {@link #errorStatus()}:
 * <ul>
 *   <li>400: bad token characters in method or field name, a space before a field colon,
 *       a missing colon, a character RFC 3986 does not allow in the request-target (a fragment
 *       {@code #}, a space, {@code "<>\^`{|}}, controls, non-ASCII), a malformed
 *       percent-encoding, a target in none of the four forms, a userinfo or invalid authority in
 *       an absolute-form target, a path climbing above the root ({@code /../x}) or hiding a
 *       dot segment behind an encoded slash ({@code /a%2F..%2Fb}), control
 *       characters in a field value, a bare CR anywhere, more than one SP between request
 *       line parts, a request line without HTTP version (HTTP/0.9), malformed version,
 *       obsolete line folding (field line starting with SP/HTAB, including whitespace
 *       right after the request line), Content-Length together with Transfer-Encoding,
 *       differing or malformed Content-Length values (identical repeats such as
 *       {@code 5, 5} are accepted), Transfer-Encoding in an HTTP/1.0 request (faulty
 *       framing, RFC 9112 §6.1), chunked applied twice, HTTP/1.1 without Host, more than
 *       one Host, a Host that is not {@code uri-host [":" port]} (RFC 3986 reg-name, IPv4 or
 *       IP-literal; port digits up to 65535), bad chunk size (non-hex, overflow), a chunk
 *       extension off its grammar (an unterminated quoted string, say), chunk extensions over
 *       {@link HttpLimits#maxChunkExtension} on a line or {@link HttpLimits#maxChunkExtensionTotal}
 *       in a body, missing CRLF after chunk data, more leading empty lines than the request line limit.</li>
 *   <li>414: request line longer than {@link HttpLimits#maxRequestLine}.</li>
 *   <li>431: field section over {@link HttpLimits#maxHeaderBytes} (trailers:
 *       {@link HttpLimits#maxTrailerBytes}) or more than {@link HttpLimits#maxHeaders} field
 *       lines.</li>
 *   <li>413: Content-Length over {@link HttpLimits#maxBody} (at head time) or chunk sizes
 *       adding up over it (at the chunk-size line, before its data).</li>
 *   <li>501: Transfer-Encoding with any coding other than chunked, or not ending in chunked.</li>
 *   <li>505: a well-formed version whose major is not 1 (HTTP/0.9, HTTP/2.0). A higher
 *       1.x minor ({@code HTTP/1.2}) is served as HTTP/1.1 (RFC 9110 §2.5). The HTTP/2
 *       prior-knowledge preface ({@code PRI * HTTP/2.0}) gets 505 as soon as its request
 *       line ends.</li>
 * </ul>
 * Lenient where harmless: empty lines before the request line are skipped (RFC 9112 §2.2);
 * a bare LF ends a request or field line when {@link HttpLimits#allowBareLf} (default true;
 * chunk framing always needs CRLF).
 */
public final class RequestParser {
    /** All input consumed; the head or body is not complete yet. */
    public static final int NEED_MORE = 0;
    /** The head is complete; see {@link #request()}. */
    public static final int HEAD_DONE = 1;
    /** The body (and trailers) is complete. */
    public static final int BODY_DONE = 2;
    /** The request is malformed; see {@link #errorStatus()} and {@link #errorReason()}. */
    public static final int ERROR = -1;

    // head states: the request line's, then the field section's (in HeadScanner)
    private static final int H_START = 0, H_START_LF = 1, H_METHOD = 2, H_TARGET_FIRST = 3,
            H_TARGET = 4, H_VERSION = 5, H_RL_LF = 6, H_FIELDS = 7, H_DONE = 8, H_ERROR = 9;

    // body states: BodyDecoder's framing, then trailer fields
    private static final int B_NONE = 0, B_DECODE = 1, B_TRAILERS = 2, B_DONE = 3, B_ERROR = 4;


    private static final String[] METHODS = {
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE"};
    private static final byte[][] METHOD_BYTES = new byte[METHODS.length][];

    static {
        for (int i = 0; i < METHODS.length; i++) METHOD_BYTES[i] = ascii(METHODS[i]);
    }

    private static final byte[] HOST = ascii("host");
    private static final byte[] EXPECT = ascii("expect");
    private static final byte[] CONTINUE_100 = ascii("100-continue");

    private final int maxRequestLine, maxHeaderBytes, maxTrailerBytes;
    private final long maxBody;
    private final boolean bareLf;

    private final HeadScanner head;
    private int state;
    private int lineLimit;
    private int skipped;
    private int lineStart, methodEnd, targetStart, targetEnd, queryStart, versionStart, versionEnd;
    private int targetFlags; // HttpBytes.T_* seen in the target
    private boolean inTrailers;

    private final BodyDecoder body;
    private int bodyState;

    private Request request;
    private int errorStatus;
    private String errorReason;

    /**
     * A parser enforcing {@code limits} (copied now).
     *
     * @param limits the size limits to apply
     */
    public RequestParser(HttpLimits limits) {
        maxRequestLine = limits.maxRequestLine;
        maxHeaderBytes = limits.maxHeaderBytes;
        maxTrailerBytes = limits.maxTrailerBytes;
        maxBody = limits.maxBody;
        bareLf = limits.allowBareLf;
        head = new HeadScanner(limits.maxHeaders, bareLf, false, true);
        body = new BodyDecoder(limits.maxChunkExtension, limits.maxChunkExtensionTotal, maxBody, false);
        reset();
    }

    /** A parser with default {@link HttpLimits}. */
    public RequestParser() {
        this(new HttpLimits());
    }

    /** Forgets the current request; the next {@link #parseHead} starts a new one. */
    public void reset() {
        head.clear();
        state = H_START;
        lineLimit = Integer.MAX_VALUE;
        skipped = 0;
        queryStart = -1;
        inTrailers = false;
        bodyState = B_NONE;
        request = null;
        errorStatus = 0;
        errorReason = null;
        head.release(); // an idle connection holds no head buffer
    }

    /**
     * Consumes head bytes from {@code in}. Answers {@link #NEED_MORE} (all of {@code in}
     * consumed), {@link #HEAD_DONE} (position just after the head) or {@link #ERROR}.
     * After HEAD_DONE or ERROR, further calls answer the same without consuming.
     *
     * @param in the bytes read so far, from its position
     * @return NEED_MORE, HEAD_DONE or ERROR
     */
    public int parseHead(ByteBuffer in) {
        if (state == H_DONE) return HEAD_DONE;
        if (state == H_ERROR) return ERROR;
        int r = run(in);
        if (r == HEAD_DONE) return finishHead();
        return r;
    }

    /**
     * The request whose head was parsed; null before {@link #HEAD_DONE}.
     *
     * @return the request, or null
     */
    public Request request() { return request; }

    /**
     * The HTTP status to answer after {@link #ERROR} (400, 413, 414, 431, 501, 505), else 0.
     *
     * @return the status, or 0
     */
    public int errorStatus() { return errorStatus; }

    /**
     * A short human-readable reason after {@link #ERROR}, else null.
     *
     * @return the reason, or null
     */
    public String errorReason() { return errorReason; }

    // Copies input in bulk and scans it; gives back what was read past the end.
    private int run(ByteBuffer in) {
        final HeadScanner h = head;
        while (true) {
            if (h.pos == h.len) {
                if (state == H_START || state == H_START_LF) { // drop skipped empty lines
                    h.len = 0;
                    h.pos = 0;
                }
                if (!h.fill(in)) return NEED_MORE;
            }
            int r = scan();
            if (r == NEED_MORE) continue;
            if (r == HEAD_DONE) h.giveBack(in);
            return r;
        }
    }

    private int fail(int status, String reason) {
        head.release();
        state = H_ERROR;
        bodyState = B_ERROR;
        errorStatus = status;
        errorReason = reason;
        return ERROR;
    }

    /** Scans head bytes; answers NEED_MORE, HEAD_DONE (pos after the final LF) or ERROR. */
    private int scan() {
        if (state == H_FIELDS) return scanFields();
        final byte[] b = head.buf;
        final int end = head.len;
        int p = head.pos;
        int s = state;
        while (p < end) {
            if (p >= lineLimit) return fail(414, "request line too long");
            int c = b[p] & 0xFF;
            switch (s) {
                case H_START:
                    if (c == '\r') {
                        s = H_START_LF;
                    } else if (c == '\n') {
                        if (!bareLf) return fail(400, "bare LF");
                    } else if (TOKEN[c]) {
                        lineStart = p;
                        lineLimit = sat(p, maxRequestLine + 2L);
                        s = H_METHOD;
                        break;
                    } else {
                        return fail(400, "invalid character in method");
                    }
                    if (++skipped > maxRequestLine) return fail(400, "too many empty lines");
                    break;
                case H_START_LF:
                    if (c != '\n') return fail(400, "bare CR");
                    if (++skipped > maxRequestLine) return fail(400, "too many empty lines");
                    s = H_START;
                    break;
                case H_METHOD:
                    if (c == ' ') {
                        methodEnd = p;
                        targetStart = p + 1;
                        queryStart = -1;
                        s = H_TARGET_FIRST;
                    } else if (!TOKEN[c]) {
                        return fail(400, "invalid character in method");
                    }
                    break;
                case H_TARGET_FIRST: {
                    int k = TARGET_CLASS[c];
                    if (k == 0) return fail(400, c == '#' ? "fragment in request target" : "invalid request target");
                    if ((k & T_QUERY) != 0) queryStart = p;
                    targetFlags = k;
                    s = H_TARGET;
                    break;
                }
                case H_TARGET: {
                    int lim = Math.min(end, lineLimit);
                    int flags = targetFlags;
                    int k;
                    while ((k = TARGET_CLASS[c]) != 0) {
                        if ((k & T_QUERY) != 0 && queryStart < 0) queryStart = p;
                        flags |= k;
                        if (++p == lim) break;
                        c = b[p] & 0xFF;
                    }
                    targetFlags = flags;
                    if (p == lim) continue;
                    if (c != ' ') {
                        return fail(400, c == '#' ? "fragment in request target" : "invalid character in request target");
                    }
                    targetEnd = p;
                    versionStart = p + 1;
                    s = H_VERSION;
                    break;
                }
                case H_VERSION:
                    if (c == '\r') {
                        versionEnd = p;
                        s = H_RL_LF;
                    } else if (c == '\n') {
                        if (!bareLf) return fail(400, "bare LF");
                        versionEnd = p;
                        return endRequestLine(p);
                    } else if (!VCHAR[c]) {
                        return fail(400, "malformed request line");
                    }
                    break;
                case H_RL_LF:
                    if (c != '\n') return fail(400, "bare CR");
                    return endRequestLine(p);
                default:
                    throw new IllegalStateException("state " + s);
            }
            p++;
        }
        head.pos = p;
        state = s;
        return NEED_MORE;
    }

    // The request line ends at lf: check it, then scan the header fields.
    private int endRequestLine(int lf) {
        if (versionEnd - lineStart > maxRequestLine) return fail(414, "request line too long");
        byte[] b = head.buf;
        int v = versionStart;
        if (versionEnd - v != 8 || b[v] != 'H' || b[v + 1] != 'T' || b[v + 2] != 'T' || b[v + 3] != 'P'
                || b[v + 4] != '/' || !digit(b[v + 5]) || b[v + 6] != '.' || !digit(b[v + 7])) {
            return fail(400, "malformed HTTP version");
        }
        // RFC 9110 §2.5: a higher 1.x minor version is answered as the highest we speak, 1.1
        if (b[v + 5] != '1') return fail(505, "HTTP version not supported");
        head.pos = lf + 1;
        state = H_FIELDS;
        head.startFields(sat(lf + 1, maxHeaderBytes));
        return scanFields();
    }

    // Header or trailer fields, in the shared scanner.
    private int scanFields() {
        HeadScanner h = head;
        int r = h.scanFields();
        if (r == HeadScanner.DONE) {
            state = H_DONE;
            return HEAD_DONE;
        }
        if (r == NEED_MORE) return NEED_MORE;
        if (h.errorKind == HeadScanner.TOO_LARGE) {
            return fail(431, inTrailers ? "trailer section too large" : "header section too large");
        }
        if (h.errorKind == HeadScanner.TOO_MANY) {
            return fail(431, inTrailers ? "too many trailers" : "too many headers");
        }
        return fail(400, h.error);
    }

    // Framing and connection semantics, then the Request.
    private int finishHead() {
        final byte[] b = head.buf;
        final int[] f = head.fields;
        final int fieldCount = head.fieldCount;
        int minor = b[versionStart + 7] == '0' ? 0 : 1;
        long contentLength = -1;
        int teCount = 0, hostCount = 0, hostField = -1;
        boolean chunked = false, close = false, keepAliveToken = false, expect100 = false;
        boolean badTe = false, unknownCoding = false, chunkedTwice = false, chunkedLast = false;

        for (int i = 0; i < fieldCount; i++) {
            int ns = f[4 * i], ne = f[4 * i + 1], vs = f[4 * i + 2], ve = f[4 * i + 3];
            switch (ne - ns) {
                case 14:
                    if (nameIs(b, ns, ne, CONTENT_LENGTH)) {
                        long v = parseContentLength(b, vs, ve);
                        if (v == -2) return fail(400, "invalid Content-Length");
                        if (contentLength >= 0 && v != contentLength) {
                            return fail(400, "conflicting Content-Length");
                        }
                        contentLength = v;
                    }
                    break;
                case 17:
                    if (nameIs(b, ns, ne, TRANSFER_ENCODING)) {
                        teCount++;
                        // list of codings; only a single, final "chunked" is understood
                        int p = vs;
                        boolean any = false;
                        while (p < ve) {
                            while (p < ve && (ows(b[p]) || b[p] == ',')) p++;
                            if (p == ve) break;
                            int ts = p;
                            while (p < ve && b[p] != ',' && !ows(b[p])) p++;
                            int te = p;
                            while (p < ve && ows(b[p])) p++;
                            if (p < ve && b[p] != ',') { // parameters or junk after the coding
                                unknownCoding = true;
                                while (p < ve && b[p] != ',') p++;
                            }
                            any = true;
                            if (equalsIgnoreCase(b, ts, te, CHUNKED)) {
                                if (chunked) chunkedTwice = true;
                                chunked = true;
                                chunkedLast = true;
                            } else {
                                for (int k = ts; k < te; k++) if (!TOKEN[b[k] & 0xFF]) badTe = true;
                                unknownCoding = true;
                                chunkedLast = false;
                            }
                        }
                        if (!any) badTe = true;
                    }
                    break;
                case 4:
                    if (nameIs(b, ns, ne, HOST)) {
                        hostCount++;
                        hostField = i;
                    }
                    break;
                case 10:
                    if (nameIs(b, ns, ne, CONNECTION)) {
                        int options = connectionOptions(b, vs, ve);
                        if ((options & CONN_CLOSE) != 0) close = true;
                        if ((options & CONN_KEEP_ALIVE) != 0) keepAliveToken = true;
                    }
                    break;
                case 6:
                    if (nameIs(b, ns, ne, EXPECT) && equalsIgnoreCase(b, vs, ve, CONTINUE_100)) {
                        expect100 = true;
                    }
                    break;
                default:
                    break;
            }
        }

        if (hostCount > 1) return fail(400, "more than one Host");
        if (minor == 1 && hostCount == 0) return fail(400, "missing Host");
        int authStart = -1, authHostEnd = -1, authEnd = -1;
        if (hostField >= 0) {
            authStart = f[4 * hostField + 2];
            authEnd = f[4 * hostField + 3];
            authHostEnd = authorityHostEnd(b, authStart, authEnd);
            if (authHostEnd < 0) return fail(400, "invalid Host");
        }
        if (teCount > 0) {
            if (contentLength >= 0) return fail(400, "both Content-Length and Transfer-Encoding");
            if (minor == 0) return fail(400, "Transfer-Encoding in HTTP/1.0");
            if (badTe) return fail(400, "invalid Transfer-Encoding");
            if (unknownCoding || !chunkedLast) return fail(501, "unsupported transfer coding");
            if (chunkedTwice) return fail(400, "chunked applied twice");
        }
        if (contentLength > maxBody) return fail(413, "body too large");

        String method = method(b, lineStart, methodEnd);
        // the request-target's form (RFC 9112 §3.2), its path and, for absolute-form, its authority
        final int ts = targetStart, te = targetEnd, flags = targetFlags;
        int pathStart = ts;
        int pathEnd = queryStart >= 0 ? queryStart : te;
        int bracketsFrom = ts; // '[' and ']' may stand only in an absolute-form's authority
        if ((flags & T_PCT) != 0 && !validPercents(b, ts, te)) {
            return fail(400, "invalid percent-encoding in request target");
        }
        if ("CONNECT".equals(method)) { // authority-form: host:port, the tunnel's far end
            int he = authorityHostEnd(b, ts, te);
            if (he < 0 || he == ts || he >= te - 1 || queryStart >= 0) return fail(400, "invalid CONNECT target");
            bracketsFrom = te;
        } else if (b[ts] == '/') {
            // origin-form
        } else if (te - ts == 1 && b[ts] == '*') {
            // asterisk-form
        } else { // absolute-form: scheme "://" authority path-abempty [ "?" query ]
            int p = ts;
            if (!alpha(b[p])) return fail(400, "invalid request target");
            while (p < pathEnd && (alpha(b[p]) || digit(b[p]) || b[p] == '+' || b[p] == '-' || b[p] == '.')) p++;
            if (p + 2 >= pathEnd || b[p] != ':' || b[p + 1] != '/' || b[p + 2] != '/') {
                return fail(400, "invalid request target");
            }
            int as = p + 3, ae = as;
            while (ae < pathEnd && b[ae] != '/') ae++;
            int he = authorityHostEnd(b, as, ae);
            if (he < 0 || he == as) return fail(400, "invalid authority in request target");
            authStart = as; // RFC 9112 §3.2.2: the target's authority wins over Host
            authHostEnd = he;
            authEnd = ae;
            pathStart = ae;
            bracketsFrom = ae;
        }
        if ((flags & T_BRACKET) != 0) {
            for (int p = bracketsFrom; p < te; p++) {
                if (b[p] == '[' || b[p] == ']') return fail(400, "invalid character in request target");
            }
        }
        String normalPath = null;
        if ((flags & (T_PCT | T_DOT)) != 0 && pathStart < pathEnd && b[pathStart] == '/'
                && PathNormalizer.needsNormalizing(b, pathStart, pathEnd)) {
            normalPath = PathNormalizer.normalize(b, pathStart, pathEnd);
            if (normalPath == PathNormalizer.CLIMBS) return fail(400, "path climbs above the root");
            if (normalPath == PathNormalizer.AMBIGUOUS) return fail(400, "dot segment behind an encoded slash");
        }

        boolean keepAlive = minor == 1 ? !close : keepAliveToken && !close;
        int headLen = head.pos;
        request = new Request(Arrays.copyOf(b, headLen), Arrays.copyOf(f, 4 * fieldCount), fieldCount,
                method, targetStart, targetEnd, pathStart, pathEnd, queryStart, normalPath,
                authStart, authHostEnd, authEnd, minor, keepAlive, chunked, expect100 && minor == 1,
                contentLength);
        head.release(); // the Request has its own copy
        if (chunked) {
            bodyState = B_DECODE;
            body.startChunked();
        } else if (contentLength > 0) {
            bodyState = B_DECODE;
            body.startLength(contentLength);
        } else {
            bodyState = B_DONE;
        }
        return HEAD_DONE;
    }

    private static boolean alpha(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static String method(byte[] b, int start, int end) {
        for (int i = 0; i < METHOD_BYTES.length; i++) {
            if (nameIs(b, start, end, METHOD_BYTES[i])) return METHODS[i];
        }
        return new String(b, start, end - start, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /**
     * Decodes body bytes from {@code in} after {@link #HEAD_DONE}, passing data to
     * {@code sink} (may be null to discard). Answers {@link #NEED_MORE} (all of {@code in}
     * consumed), {@link #BODY_DONE} (position just after the body, or after the last chunk
     * and trailers) or {@link #ERROR}. A request without body answers BODY_DONE at once.
     *
     * @param in the bytes read so far, from its position
     * @param sink where body data goes, or null to drop it
     * @return NEED_MORE, BODY_DONE or ERROR
     * @throws IllegalStateException before the head is done
     */
    public int parseBody(ByteBuffer in, BodySink sink) {
        switch (bodyState) {
            case B_DONE:
                return BODY_DONE;
            case B_ERROR:
                return ERROR;
            case B_NONE:
                throw new IllegalStateException("head not parsed");
            case B_DECODE: {
                int r = body.decode(in, sink);
                if (r == BodyDecoder.NEED_MORE) return NEED_MORE;
                if (r == BodyDecoder.DONE) {
                    bodyState = B_DONE;
                    return BODY_DONE;
                }
                if (r == BodyDecoder.ERROR) {
                    return body.tooLarge ? fail(413, "body too large") : fail(400, body.error);
                }
                // last chunk: trailers are parsed like header fields, in a fresh buffer
                bodyState = B_TRAILERS;
                inTrailers = true;
                head.clear();
                state = H_FIELDS;
                head.startFields(maxTrailerBytes);
            }
            // fall through
            default: { // B_TRAILERS
                int r = run(in);
                if (r == NEED_MORE || r == ERROR) return r;
                HeadScanner h = head;
                request.setTrailers(Arrays.copyOf(h.buf, h.len), Arrays.copyOf(h.fields, 4 * h.fieldCount),
                        h.fieldCount);
                h.release();
                bodyState = B_DONE;
                return BODY_DONE;
            }
        }
    }
}
