package peloton.http;

/**
 * Size limits applied by {@link peloton.http.server.RequestParser} (and, where they apply,
 * {@link peloton.http.client.ResponseParser}). Plain mutable fields with safe defaults;
 * a parser copies them when it is constructed, so changing an instance afterwards does not
 * affect parsers already made.
 *
 * <p>Defaults and why:
 * <ul>
 *   <li>{@link #maxRequestLine} 8 KiB: the size RFC 9112 §3 recommends supporting at least;
 *       longer lines get 414.</li>
 *   <li>{@link #maxHeaderBytes} 32 KiB for the whole field section (request line excluded);
 *       browsers with many cookies stay well below, larger gets 431.</li>
 *   <li>{@link #maxHeaders} 100 field lines; more gets 431.</li>
 *   <li>{@link #maxBody} 16 MiB: enough for forms and JSON; file uploads that need more
 *       should raise it. Larger Content-Length gets 413 before any body byte is read.</li>
 *   <li>{@link #maxChunkExtension} 1 KiB of chunk extensions per chunk-size line (ignored
 *       anyway); more gets 400.</li>
 *   <li>{@link #allowBareLf} true: RFC 9112 §2.2 lets a recipient treat a lone LF as a line
 *       terminator in the request line and header/trailer fields. Chunk framing lines (size
 *       line, CRLF after data) always require CRLF. A bare CR is always rejected.</li>
 * </ul>
 */
public final class HttpLimits {
    /** Longest request line accepted, in bytes, excluding the CRLF. */
    public int maxRequestLine = 8 * 1024;
    /** Largest field section (all header lines plus the final empty line), in bytes. */
    public int maxHeaderBytes = 32 * 1024;
    /** Most header (or trailer) field lines accepted. */
    public int maxHeaders = 100;
    /** Largest request body accepted, in bytes (Content-Length or sum of chunk sizes). */
    public long maxBody = 16L * 1024 * 1024;
    /** Most bytes of chunk extension accepted on one chunk-size line. */
    public int maxChunkExtension = 1024;
    /** Most bytes of chunk extensions accepted over one whole chunked body. */
    public int maxChunkExtensionTotal = 16 * 1024;
    /** Largest trailer section of a chunked request body, in bytes. */
    public int maxTrailerBytes = 16 * 1024;
    /** Whether a lone LF ends a request line or field line (see class doc). */
    public boolean allowBareLf = true;

    /** Limits with the documented defaults. */
    public HttpLimits() {}

    @Override
    public String toString() {
        return "HttpLimits{maxRequestLine=" + maxRequestLine + ", maxHeaderBytes=" + maxHeaderBytes
                + ", maxHeaders=" + maxHeaders + ", maxBody=" + maxBody
                + ", maxChunkExtension=" + maxChunkExtension + ", maxChunkExtensionTotal=" + maxChunkExtensionTotal
                + ", maxTrailerBytes=" + maxTrailerBytes + ", allowBareLf=" + allowBareLf + "}";
    }
}
