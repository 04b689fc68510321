package peloton.http.client;

import static peloton.http.HttpBytes.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import peloton.http.BodyDecoder;
import peloton.http.BodySink;
import peloton.http.HeadScanner;
import peloton.http.HttpLimits;

/**
 * Incremental HTTP/1.1 response parser for the client: a byte-level state machine, no IO. One
 * instance per connection; {@link #reset(boolean)} before each response, saying whether it
 * answers a HEAD request.
 *
 * <p>{@link #parseHead} copies head bytes into a reusable array, scans them once and records
 * offsets (header names lower-cased in place); on {@link #HEAD_DONE} the input's position is just
 * after the head. Interim 1xx responses (other than 101) are skipped: the head answered is the
 * final one. {@link #parseBody} hands body data to a {@link BodySink} as views of the input.
 * Input may be split anywhere.
 *
 * <p>Body framing follows RFC 9112 §6.3: no body for a HEAD request or a 1xx, 204 or 304 status;
 * a Transfer-Encoding ending in chunked is chunked (it overrides a Content-Length, and the
 * connection is then not kept alive); another Transfer-Encoding, or neither header, means the
 * body runs until the server closes ({@link #endOfInput()}); otherwise Content-Length. Chunk
 * extensions are checked and ignored; trailer fields are kept ({@link #trailerCount()}).
 * Obsolete line folding in a field value is replaced by spaces (RFC 9112 §5.2); a bare LF ends a
 * line of the head when {@link HttpLimits#allowBareLf}; chunk framing always needs CRLF.
 *
 * <p>Errors ({@link #ERROR}, with {@link #errorReason()}): a status line other than {@code
 * HTTP/1.x NNN [reason]}, control characters, a bare CR, whitespace before a field colon or at
 * the start of the head, bad or conflicting Content-Length, chunked applied twice, bad chunk
 * framing, and the limits of {@link HttpLimits}: {@code maxRequestLine} bounds the status line,
 * {@code maxHeaderBytes} and {@code maxHeaders} each field section, {@code maxChunkExtension} a
 * chunk-size line. A body over {@link #maxBody(long)} is an error too, flagged by {@link
 * #tooLarge()}.
 */
public final class ResponseParser {
  /** All input consumed; the head or body is not complete yet. */
  public static final int NEED_MORE = 0;
  /** The (final) head is complete. */
  public static final int HEAD_DONE = 1;
  /** The body (and trailers) is complete. */
  public static final int BODY_DONE = 2;
  /** The response is malformed or too large; see {@link #errorReason()}. */
  public static final int ERROR = -1;

  private static final int INTERIM = 3;

  // head states: the status line's, then the field section's (in HeadScanner)
  private static final int H_LINE = 0, H_LINE_LF = 1, H_FIELDS = 2, H_DONE = 3, H_ERROR = 4;

  // body states: BodyDecoder's framing, then trailer fields; or until close
  private static final int B_NONE = 0, B_DECODE = 1, B_TRAILERS = 2, B_CLOSE = 3, B_DONE = 4,
      B_ERROR = 5;

  private final int maxStatusLine, maxHeaderBytes;
  private final boolean bareLf;

  private final HeadScanner head;
  private int state, lineLimit;
  private int lineEnd;
  private int headerCount;

  private boolean headRequest;
  private int status, minor, reasonStart, reasonEnd;
  private boolean keepAlive, chunked, closeDelimited;
  private long contentLength;

  private final BodyDecoder body; // also holds maxBody
  private int bodyState;
  private long closeTotal;

  private String errorReason;
  private boolean tooLarge;

  /**
   * A parser enforcing {@code limits} (copied now); the body limit is {@code limits.maxBody}.
   *
   * @param limits the limits on status line, header section, header count and chunk extensions
   */
  public ResponseParser(HttpLimits limits) {
    maxStatusLine = limits.maxRequestLine;
    maxHeaderBytes = limits.maxHeaderBytes;
    bareLf = limits.allowBareLf;
    head = new HeadScanner(limits.maxHeaders, bareLf, true, false);
    body = new BodyDecoder(limits.maxChunkExtension, limits.maxChunkExtensionTotal, limits.maxBody,
        true);
    reset(false);
  }

  /** A parser with default {@link HttpLimits}. */
  public ResponseParser() {
    this(new HttpLimits());
  }

  /**
   * Sets the largest body accepted from now on (Long.MAX_VALUE: no limit).
   *
   * @param bytes the largest body accepted
   */
  public void maxBody(long bytes) {
    body.maxBody = bytes;
  }

  /**
   * Forgets the current response; the next one answers a HEAD request when {@code head}.
   *
   * @param head whether the next response answers a HEAD request (and so has no body)
   */
  public void reset(boolean head) {
    headRequest = head;
    startHead();
    bodyState = B_NONE;
    errorReason = null;
    tooLarge = false;
    this.head.shrink(); // don't keep a huge head's buffer
  }

  private void startHead() {
    head.clear();
    state = H_LINE;
    lineLimit = sat(0, maxStatusLine + 2L);
    headerCount = 0;
    status = 0;
    minor = 0;
    reasonStart = reasonEnd = 0;
    keepAlive = false;
    chunked = false;
    closeDelimited = false;
    contentLength = -1;
    closeTotal = 0;
  }

  /**
   * Consumes head bytes from {@code in}. Answers {@link #NEED_MORE} (all of {@code in} consumed),
   * {@link #HEAD_DONE} (position just after the final head) or {@link #ERROR}. After HEAD_DONE or
   * ERROR, further calls answer the same without consuming.
   *
   * @param in the bytes received, from its position; the position moves past what was consumed
   * @return the parser's state after these bytes
   */
  public int parseHead(ByteBuffer in) {
    if (state == H_DONE) return HEAD_DONE;
    if (state == H_ERROR) return ERROR;
    while (true) {
      int r = run(in);
      if (r != HEAD_DONE) return r;
      r = finishHead();
      if (r != INTERIM) return r;
      startHead(); // an interim 1xx: its leftover bytes are back in `in`
    }
  }

  private int run(ByteBuffer in) {
    final HeadScanner h = head;
    while (true) {
      if (h.pos == h.len && !h.fill(in)) return NEED_MORE;
      int r = scan();
      if (r == NEED_MORE) continue;
      if (r == HEAD_DONE) h.giveBack(in);
      return r;
    }
  }

  private int fail(String reason) {
    state = H_ERROR;
    bodyState = B_ERROR;
    errorReason = reason;
    return ERROR;
  }

  private int failTooLarge() {
    tooLarge = true;
    return fail("body larger than " + body.maxBody + " bytes");
  }

  /** Scans head bytes; answers NEED_MORE, HEAD_DONE (pos after the final LF) or ERROR. */
  private int scan() {
    if (state == H_FIELDS) return scanFields();
    final byte[] b = head.buf;
    final int end = head.len;
    int p = head.pos;
    int s = state;
    while (p < end) {
      if (p >= lineLimit) return fail("status line too long");
      int c = b[p] & 0xFF;
      switch (s) {
        case H_LINE: {
          int lim = Math.min(end, lineLimit);
          while (c != '\r' && c != '\n') {
            if (!FIELD_VCHAR[c] && c != ' ' && c != '\t') return fail("invalid character in status line");
            if (++p == lim) break;
            c = b[p] & 0xFF;
          }
          if (p == lim) continue;
          lineEnd = p;
          if (c == '\r') {
            s = H_LINE_LF;
          } else {
            if (!bareLf) return fail("bare LF");
            return endStatusLine(p);
          }
          break;
        }
        case H_LINE_LF:
          if (c != '\n') return fail("bare CR");
          return endStatusLine(p);
        default:
          throw new IllegalStateException("state " + s);
      }
      p++;
    }
    head.pos = p;
    state = s;
    return NEED_MORE;
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
      return fail(bodyState == B_TRAILERS ? "trailer section too large" : "header section too large");
    }
    if (h.errorKind == HeadScanner.TOO_MANY) return fail("too many header fields");
    return fail(h.error);
  }

  // HTTP/1.x NNN[ reason]
  private int endStatusLine(int lf) {
    if (lineEnd > maxStatusLine) return fail("status line too long");
    byte[] b = head.buf;
    int n = lineEnd;
    if (n < 12 || b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/'
        || !digit(b[5]) || b[6] != '.' || !digit(b[7]) || b[8] != ' ') {
      return fail("malformed status line");
    }
    if (b[5] != '1') return fail("unsupported HTTP version");
    if (b[9] < '1' || b[9] > '5' || !digit(b[10]) || !digit(b[11]) || (n > 12 && b[12] != ' ')) {
      return fail("malformed status code");
    }
    minor = b[7] - '0';
    status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
    reasonStart = n > 12 ? 13 : 12;
    reasonEnd = n;
    head.pos = lf + 1;
    state = H_FIELDS;
    head.startFields(sat(lf + 1, maxHeaderBytes));
    return scanFields();
  }

  private int finishHead() {
    final byte[] b = head.buf;
    final int[] f = head.fields;
    final int fieldCount = head.fieldCount;
    boolean te = false, chunkedLast = false, chunkedTwice = false;
    boolean close = false, keepAliveToken = false;
    long cl = -1;
    for (int i = 0; i < fieldCount; i++) {
      int ns = f[4 * i], ne = f[4 * i + 1], vs = f[4 * i + 2], ve = f[4 * i + 3];
      if (nameIs(b, ns, ne, CONTENT_LENGTH)) {
        long v = parseContentLength(b, vs, ve);
        if (v == -2) return fail("invalid Content-Length");
        if (cl >= 0 && v != cl) return fail("conflicting Content-Length");
        cl = v;
      } else if (nameIs(b, ns, ne, TRANSFER_ENCODING)) {
        te = true;
        int p = vs;
        while (p < ve) {
          while (p < ve && (ows(b[p]) || b[p] == ',')) p++;
          if (p == ve) break;
          int ts = p;
          while (p < ve && b[p] != ',' && b[p] != ';' && !ows(b[p])) p++;
          boolean isChunked = equalsIgnoreCase(b, ts, p, CHUNKED);
          if (isChunked && chunkedLast) chunkedTwice = true;
          if (isChunked) chunked = true;
          chunkedLast = isChunked;
          while (p < ve && b[p] != ',') p++; // coding parameters
        }
      } else if (nameIs(b, ns, ne, CONNECTION)) {
        int options = connectionOptions(b, vs, ve);
        if ((options & CONN_CLOSE) != 0) close = true;
        if ((options & CONN_KEEP_ALIVE) != 0) keepAliveToken = true;
      }
    }
    headerCount = fieldCount;
    if (status < 200 && status != 101) return INTERIM;
    if (chunkedTwice) return fail("chunked applied twice");
    keepAlive = minor >= 1 ? !close : keepAliveToken && !close;
    contentLength = cl;
    if (headRequest || status < 200 || status == 204 || status == 304) {
      chunked = false;
      if (status == 101) keepAlive = false; // the connection now speaks another protocol
      bodyState = B_DONE;
    } else if (te) {
      // TE with Content-Length, in HTTP/1.0, or not ending in chunked: don't reuse the connection
      keepAlive = keepAlive && minor >= 1 && cl < 0 && chunkedLast;
      contentLength = -1;
      if (chunkedLast) {
        chunked = true;
        bodyState = B_DECODE;
        body.startChunked();
      } else {
        chunked = false;
        closeDelimited = true;
        bodyState = B_CLOSE;
      }
    } else if (cl >= 0) {
      if (cl > body.maxBody) return failTooLarge();
      if (cl > 0) {
        bodyState = B_DECODE;
        body.startLength(cl);
      } else {
        bodyState = B_DONE;
      }
    } else {
      closeDelimited = true;
      keepAlive = false;
      bodyState = B_CLOSE;
    }
    return HEAD_DONE;
  }

  /**
   * Decodes body bytes from {@code in} after {@link #HEAD_DONE}, passing data to {@code sink}
   * (null discards). Answers {@link #NEED_MORE} (all of {@code in} consumed), {@link #BODY_DONE}
   * (position just after the body and trailers; a body that ends at close answers it only from
   * {@link #endOfInput()}) or {@link #ERROR}.
   *
   * @throws IllegalStateException before the head is done
   * @param in the bytes received, from its position; the position moves past what was consumed
   * @param sink receives the decoded body bytes
   * @return the parser's state after these bytes
   */
  public int parseBody(ByteBuffer in, BodySink sink) {
    switch (bodyState) {
      case B_DONE:
        return BODY_DONE;
      case B_ERROR:
        return ERROR;
      case B_NONE:
        throw new IllegalStateException("head not parsed");
      case B_CLOSE: {
        int n = in.remaining();
        if (n > body.maxBody - closeTotal) return failTooLarge();
        closeTotal += n;
        if (n > 0) BodyDecoder.deliver(in, n, sink);
        return NEED_MORE;
      }
      case B_DECODE: {
        int r = body.decode(in, sink);
        if (r == BodyDecoder.NEED_MORE) return NEED_MORE;
        if (r == BodyDecoder.DONE) {
          bodyState = B_DONE;
          return BODY_DONE;
        }
        if (r == BodyDecoder.ERROR) return body.tooLarge ? failTooLarge() : fail(body.error);
        // last chunk: trailer fields follow the head's in the same buffer
        HeadScanner h = head;
        bodyState = B_TRAILERS;
        state = H_FIELDS;
        h.pos = h.len;
        h.startFields(sat(h.len, maxHeaderBytes));
      }
      // fall through
      default: { // B_TRAILERS
        int r = run(in);
        if (r == NEED_MORE || r == ERROR) return r;
        bodyState = B_DONE;
        return BODY_DONE;
      }
    }
  }

  /**
   * Tells the parser the connection was closed by the server: answers {@link #BODY_DONE} when
   * that ends the response (a close-delimited body, or a response already complete), else
   * {@link #ERROR} (the response was cut short).
   *
   * @return the parser's state: done when the body was delimited by the close, else an error
   */
  public int endOfInput() {
    if (bodyState == B_CLOSE || bodyState == B_DONE) {
      bodyState = B_DONE;
      return BODY_DONE;
    }
    if (bodyState == B_ERROR || state == H_ERROR) return ERROR;
    return fail("connection closed before the response was complete");
  }

  // ------------------------------------------------------------------ results

  /**
   * The status code of the final response; 0 before {@link #HEAD_DONE}.
   *
   * @return the status code of the final response; 0 before {@link #HEAD_DONE}
   */
  public int status() {
    return status;
  }

  /**
   * The reason phrase (may be empty).
   *
   * @return the reason phrase (may be empty)
   */
  public String reason() {
    return new String(head.buf, reasonStart, reasonEnd - reasonStart, StandardCharsets.ISO_8859_1);
  }

  /**
   * The minor HTTP version: 0 or 1.
   *
   * @return the minor HTTP version: 0 or 1
   */
  public int versionMinor() {
    return minor;
  }

  /**
   * Whether the connection may serve another request after this response's body.
   *
   * @return whether the connection may serve another request after this response's body
   */
  public boolean keepAlive() {
    return keepAlive;
  }

  /**
   * Whether the body is chunked.
   *
   * @return whether the body is chunked
   */
  public boolean chunked() {
    return chunked;
  }

  /**
   * Whether the body runs until the server closes the connection.
   *
   * @return whether the body runs until the server closes the connection
   */
  public boolean closeDelimited() {
    return closeDelimited;
  }

  /**
   * The Content-Length, or -1 when absent (or overridden by Transfer-Encoding).
   *
   * @return the Content-Length, or -1 when absent (or overridden by Transfer-Encoding)
   */
  public long contentLength() {
    return contentLength;
  }

  /**
   * Whether a body follows the head (false for HEAD, 1xx, 204, 304 and Content-Length 0).
   *
   * @return whether a body follows the head (false for HEAD, 1xx, 204, 304 and Content-Length 0)
   */
  public boolean hasBody() {
    return bodyState != B_DONE && bodyState != B_NONE;
  }

  /**
   * The number of header fields of the final head.
   *
   * @return the number of header fields of the final head
   */
  public int headerCount() {
    return headerCount;
  }

  /**
   * The lower-case name of header {@code i}.
   *
   * @return the lower-case name of header {@code i}
   * @param i the field's index, from 0
   */
  public String headerName(int i) {
    return field(i, 0);
  }

  /**
   * The value of header {@code i}, without surrounding whitespace, read as ISO-8859-1.
   *
   * @return the value of header {@code i}, without surrounding whitespace, read as ISO-8859-1
   * @param i the field's index, from 0
   */
  public String headerValue(int i) {
    return field(i, 2);
  }

  /**
   * The first value of the header named {@code name} (any case), or null.
   *
   * @return the first value of the header named {@code name} (any case), or null
   * @param name the header name, any case
   */
  public String header(String name) {
    for (int i = 0; i < headerCount; i++) {
      if (nameMatches(i, name)) return headerValue(i);
    }
    return null;
  }

  /**
   * Every value of the header named {@code name} (any case), in order.
   *
   * @return every value of the header named {@code name} (any case), in order
   * @param name the header name, any case
   */
  public List<String> headers(String name) {
    List<String> out = new ArrayList<>(2);
    for (int i = 0; i < headerCount; i++) {
      if (nameMatches(i, name)) out.add(headerValue(i));
    }
    return out;
  }

  /**
   * The number of trailer fields after a chunked body (0 until {@link #BODY_DONE}).
   *
   * @return the number of trailer fields after a chunked body (0 until {@link #BODY_DONE})
   */
  public int trailerCount() {
    return bodyState == B_DONE ? head.fieldCount - headerCount : 0;
  }

  /**
   * The lower-case name of trailer field {@code i}.
   *
   * @return the lower-case name of trailer field {@code i}
   * @param i the trailer field's index, from 0
   */
  public String trailerName(int i) {
    return field(headerCount + i, 0);
  }

  /**
   * The value of trailer field {@code i}.
   *
   * @return the value of trailer field {@code i}
   * @param i the trailer field's index, from 0
   */
  public String trailerValue(int i) {
    return field(headerCount + i, 2);
  }

  /**
   * A short description of what went wrong after {@link #ERROR}, else null.
   *
   * @return a short description of what went wrong after {@link #ERROR}, else null
   */
  public String errorReason() {
    return errorReason;
  }

  /**
   * True when the error is a body over the size limit, not a malformed response.
   *
   * @return true when the error is a body over the size limit, not a malformed response
   */
  public boolean tooLarge() {
    return tooLarge;
  }

  private String field(int i, int which) {
    int[] f = head.fields;
    int s = f[4 * i + which], e = f[4 * i + which + 1];
    return new String(head.buf, s, e - s, StandardCharsets.ISO_8859_1);
  }

  private boolean nameMatches(int i, String name) {
    byte[] b = head.buf;
    int s = head.fields[4 * i], e = head.fields[4 * i + 1];
    if (e - s != name.length()) return false;
    for (int k = 0; k < name.length(); k++) {
      int c = name.charAt(k);
      if (c >= 'A' && c <= 'Z') c += 32;
      if (b[s + k] != c) return false;
    }
    return true;
  }
}
