package peloton.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

  private static final int CHUNK = 4096;
  private static final int INTERIM = 3;

  private static final int H_LINE = 0, H_LINE_LF = 1, H_FIELD_START = 2, H_NAME = 3,
      H_VALUE_OWS = 4, H_VALUE = 5, H_FIELD_LF = 6, H_END_LF = 7, H_DONE = 8, H_ERROR = 9;

  private static final int B_NONE = 0, B_LENGTH = 1, B_SIZE = 2, B_SIZE_WS = 3, B_EXT = 4,
      B_SIZE_LF = 5, B_DATA = 6, B_DATA_CR = 7, B_DATA_LF = 8, B_TRAILERS = 9, B_CLOSE = 10,
      B_DONE = 11, B_ERROR = 12;

  private static final boolean[] TOKEN = new boolean[256];
  private static final boolean[] VCHAR = new boolean[256];

  static {
    for (int c = '0'; c <= '9'; c++) TOKEN[c] = true;
    for (int c = 'a'; c <= 'z'; c++) TOKEN[c] = true;
    for (int c = 'A'; c <= 'Z'; c++) TOKEN[c] = true;
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TOKEN[c] = true;
    for (int c = 0x21; c < 0x7F; c++) VCHAR[c] = true;
    for (int c = 0x80; c < 0x100; c++) VCHAR[c] = true; // obs-text
  }

  private static final byte[] CONTENT_LENGTH = ascii("content-length");
  private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
  private static final byte[] CONNECTION = ascii("connection");
  private static final byte[] CHUNKED = ascii("chunked");
  private static final byte[] CLOSE = ascii("close");
  private static final byte[] KEEP_ALIVE = ascii("keep-alive");

  private final int maxStatusLine, maxHeaderBytes, maxHeaders, maxChunkExt;
  private final boolean bareLf;
  private long maxBody;

  private byte[] buf = new byte[1024];
  private int len, pos, state, hardLimit;
  private int lineEnd, nameStart, nameEnd, valueStart, valueEnd;
  private int[] fields = new int[4 * 16];
  private int fieldCount, sectionStart, headerCount;

  private boolean headRequest;
  private int status, minor, reasonStart, reasonEnd;
  private boolean keepAlive, chunked, closeDelimited;
  private long contentLength;

  private int bodyState;
  private long remaining, chunkSize, bodyTotal;
  private int sizeChars, extLen;

  private String errorReason;
  private boolean tooLarge;

  /** A parser enforcing {@code limits} (copied now); the body limit is {@code limits.maxBody}. */
  public ResponseParser(HttpLimits limits) {
    maxStatusLine = limits.maxRequestLine;
    maxHeaderBytes = limits.maxHeaderBytes;
    maxHeaders = limits.maxHeaders;
    maxChunkExt = limits.maxChunkExtension;
    maxBody = limits.maxBody;
    bareLf = limits.allowBareLf;
    reset(false);
  }

  /** A parser with default {@link HttpLimits}. */
  public ResponseParser() {
    this(new HttpLimits());
  }

  /** Sets the largest body accepted from now on (Long.MAX_VALUE: no limit). */
  public void maxBody(long bytes) {
    maxBody = bytes;
  }

  /** Forgets the current response; the next one answers a HEAD request when {@code head}. */
  public void reset(boolean head) {
    headRequest = head;
    startHead();
    bodyState = B_NONE;
    errorReason = null;
    tooLarge = false;
    if (buf.length > 64 * 1024) buf = new byte[1024]; // don't keep a huge head's buffer
  }

  private void startHead() {
    len = 0;
    pos = 0;
    state = H_LINE;
    hardLimit = sat(0, maxStatusLine + 2L);
    fieldCount = 0;
    sectionStart = 0;
    headerCount = 0;
    status = 0;
    minor = 0;
    reasonStart = reasonEnd = 0;
    keepAlive = false;
    chunked = false;
    closeDelimited = false;
    contentLength = -1;
    remaining = chunkSize = bodyTotal = 0;
    sizeChars = extLen = 0;
  }

  /**
   * Consumes head bytes from {@code in}. Answers {@link #NEED_MORE} (all of {@code in} consumed),
   * {@link #HEAD_DONE} (position just after the final head) or {@link #ERROR}. After HEAD_DONE or
   * ERROR, further calls answer the same without consuming.
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
    while (true) {
      if (pos == len) {
        int n = Math.min(in.remaining(), CHUNK);
        if (n == 0) return NEED_MORE;
        if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        in.get(buf, len, n);
        len += n;
      }
      int r = scan();
      if (r == NEED_MORE) continue;
      if (r == HEAD_DONE) {
        in.position(in.position() - (len - pos));
        len = pos;
      }
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
    return fail("body larger than " + maxBody + " bytes");
  }

  private int overLimit(int s) {
    if (s < H_FIELD_START) return fail("status line too long");
    return fail(bodyState == B_TRAILERS ? "trailer section too large" : "header section too large");
  }

  /** Scans buf[pos, len); answers NEED_MORE, HEAD_DONE (pos after the final LF) or ERROR. */
  private int scan() {
    final byte[] b = buf;
    final int end = len;
    int p = pos;
    int s = state;
    while (p < end) {
      if (p >= hardLimit) return overLimit(s);
      int c = b[p] & 0xFF;
      switch (s) {
        case H_LINE: {
          int lim = Math.min(end, hardLimit);
          while (c != '\r' && c != '\n') {
            if (!VCHAR[c] && c != ' ' && c != '\t') return fail("invalid character in status line");
            if (++p == lim) break;
            c = b[p] & 0xFF;
          }
          if (p == lim) continue;
          lineEnd = p;
          if (c == '\r') {
            s = H_LINE_LF;
          } else {
            if (!bareLf) return fail("bare LF");
            if (endStatusLine(p) == ERROR) return ERROR;
            s = H_FIELD_START;
          }
          break;
        }
        case H_LINE_LF:
          if (c != '\n') return fail("bare CR");
          if (endStatusLine(p) == ERROR) return ERROR;
          s = H_FIELD_START;
          break;
        case H_FIELD_START:
          if (TOKEN[c]) {
            if (fieldCount - sectionStart >= maxHeaders) return fail("too many header fields");
            nameStart = p;
            if (c >= 'A' && c <= 'Z') b[p] = (byte) (c + 32);
            s = H_NAME;
          } else if (c == '\r') {
            s = H_END_LF;
          } else if (c == '\n') {
            if (!bareLf) return fail("bare LF");
            pos = p + 1;
            state = H_DONE;
            return HEAD_DONE;
          } else if (c == ' ' || c == '\t') {
            if (fieldCount == sectionStart) return fail("whitespace before the first field");
            s = unfold(p);
          } else {
            return fail("invalid character in field name");
          }
          break;
        case H_NAME: {
          int lim = Math.min(end, hardLimit);
          while (TOKEN[c]) {
            if (c >= 'A' && c <= 'Z') b[p] = (byte) (c + 32);
            if (++p == lim) break;
            c = b[p] & 0xFF;
          }
          if (p == lim) continue;
          if (c == ':') {
            nameEnd = p;
            valueStart = -1;
            s = H_VALUE_OWS;
          } else if (c == ' ' || c == '\t') {
            return fail("whitespace before colon");
          } else if (c == '\r' || c == '\n') {
            return fail("missing colon in field line");
          } else {
            return fail("invalid character in field name");
          }
          break;
        }
        case H_VALUE_OWS:
          if (c == ' ' || c == '\t') break;
          if (VCHAR[c]) {
            valueStart = p;
            valueEnd = p + 1;
            s = H_VALUE;
            break;
          }
          // fall through: CR, LF or a control character end or break the (empty) value
        case H_VALUE: {
          int lim = Math.min(end, hardLimit);
          int ve = valueEnd;
          while (true) {
            if (VCHAR[c]) {
              ve = p + 1;
            } else if (c != ' ' && c != '\t') {
              break;
            }
            if (++p == lim) break;
            c = b[p] & 0xFF;
          }
          valueEnd = ve;
          if (p == lim) continue;
          if (c == '\r') {
            s = H_FIELD_LF;
          } else if (c == '\n') {
            if (!bareLf) return fail("bare LF");
            endField(p);
            s = H_FIELD_START;
          } else {
            return fail("invalid character in field value");
          }
          break;
        }
        case H_FIELD_LF:
          if (c != '\n') return fail("bare CR");
          endField(p);
          s = H_FIELD_START;
          break;
        case H_END_LF:
          if (c != '\n') return fail("bare CR");
          pos = p + 1;
          state = H_DONE;
          return HEAD_DONE;
        default:
          throw new IllegalStateException("state " + s);
      }
      p++;
    }
    pos = p;
    state = s;
    return NEED_MORE;
  }

  // Obsolete line folding: reopen the previous field, its line break becoming spaces.
  private int unfold(int p) {
    fieldCount--;
    int i = 4 * fieldCount;
    nameStart = fields[i];
    nameEnd = fields[i + 1];
    valueStart = fields[i + 2];
    valueEnd = fields[i + 3];
    buf[p - 1] = ' ';
    if (buf[p - 2] == '\r') buf[p - 2] = ' ';
    if (valueStart == valueEnd) {
      valueStart = -1;
      return H_VALUE_OWS;
    }
    return H_VALUE;
  }

  private void endField(int p) {
    if (valueStart < 0) {
      valueStart = p;
      valueEnd = p;
    }
    int i = 4 * fieldCount;
    if (i + 4 > fields.length) fields = Arrays.copyOf(fields, fields.length * 2);
    fields[i] = nameStart;
    fields[i + 1] = nameEnd;
    fields[i + 2] = valueStart;
    fields[i + 3] = valueEnd;
    fieldCount++;
  }

  // HTTP/1.x NNN[ reason]
  private int endStatusLine(int lf) {
    if (lineEnd > maxStatusLine) return fail("status line too long");
    byte[] b = buf;
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
    hardLimit = sat(lf + 1, maxHeaderBytes);
    return HEAD_DONE;
  }

  private int finishHead() {
    final byte[] b = buf;
    final int[] f = fields;
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
        int p = vs;
        while (p < ve) {
          while (p < ve && (ows(b[p]) || b[p] == ',')) p++;
          int ts = p;
          while (p < ve && b[p] != ',' && !ows(b[p])) p++;
          if (equalsIgnoreCase(b, ts, p, CLOSE)) close = true;
          else if (equalsIgnoreCase(b, ts, p, KEEP_ALIVE)) keepAliveToken = true;
        }
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
        bodyState = B_SIZE;
      } else {
        chunked = false;
        closeDelimited = true;
        bodyState = B_CLOSE;
      }
    } else if (cl >= 0) {
      if (cl > maxBody) return failTooLarge();
      remaining = cl;
      bodyState = cl > 0 ? B_LENGTH : B_DONE;
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
   */
  public int parseBody(ByteBuffer in, BodySink sink) {
    while (true) {
      switch (bodyState) {
        case B_DONE:
          return BODY_DONE;
        case B_ERROR:
          return ERROR;
        case B_NONE:
          throw new IllegalStateException("head not parsed");
        case B_CLOSE: {
          int n = in.remaining();
          if (n > maxBody - bodyTotal) return failTooLarge();
          bodyTotal += n;
          if (n > 0) deliver(in, n, sink);
          return NEED_MORE;
        }
        case B_LENGTH:
        case B_DATA: {
          int n = (int) Math.min(remaining, in.remaining());
          if (n > 0) {
            deliver(in, n, sink);
            remaining -= n;
          }
          if (remaining > 0) return NEED_MORE;
          bodyState = bodyState == B_LENGTH ? B_DONE : B_DATA_CR;
          break;
        }
        case B_TRAILERS: {
          int r = run(in);
          if (r == NEED_MORE || r == ERROR) return r;
          bodyState = B_DONE;
          return BODY_DONE;
        }
        default: {
          int r = chunkFraming(in);
          if (r != BODY_DONE) return r;
        }
      }
    }
  }

  /**
   * Tells the parser the connection was closed by the server: answers {@link #BODY_DONE} when
   * that ends the response (a close-delimited body, or a response already complete), else
   * {@link #ERROR} (the response was cut short).
   */
  public int endOfInput() {
    if (bodyState == B_CLOSE || bodyState == B_DONE) {
      bodyState = B_DONE;
      return BODY_DONE;
    }
    if (bodyState == B_ERROR || state == H_ERROR) return ERROR;
    return fail("connection closed before the response was complete");
  }

  // Chunk-size lines and the CRLF after chunk data, byte by byte; BODY_DONE means "go on".
  private int chunkFraming(ByteBuffer in) {
    int s = bodyState;
    while (in.hasRemaining()) {
      int c = in.get() & 0xFF;
      switch (s) {
        case B_SIZE: {
          int d = hex(c);
          if (d >= 0) {
            if (chunkSize > (Long.MAX_VALUE >> 4) || ++sizeChars > 32) {
              return fail("chunk size too large");
            }
            chunkSize = (chunkSize << 4) | d;
            break;
          }
          if (sizeChars == 0) return fail("invalid chunk size");
          if (c == '\r') s = B_SIZE_LF;
          else if (c == ';') s = B_EXT;
          else if (c == ' ' || c == '\t') s = B_SIZE_WS;
          else return fail("invalid chunk size");
          break;
        }
        case B_SIZE_WS:
          if (++extLen > maxChunkExt) return fail("chunk extension too long");
          if (c == ';') s = B_EXT;
          else if (c == '\r') s = B_SIZE_LF;
          else if (c != ' ' && c != '\t') return fail("invalid chunk size line");
          break;
        case B_EXT:
          if (c == '\r') {
            s = B_SIZE_LF;
          } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return fail("invalid character in chunk extension");
          } else if (++extLen > maxChunkExt) {
            return fail("chunk extension too long");
          }
          break;
        case B_SIZE_LF:
          if (c != '\n') return fail("bare CR in chunk size line");
          if (chunkSize == 0) {
            // last chunk: trailer fields follow the head's in the same buffer
            bodyState = B_TRAILERS;
            state = H_FIELD_START;
            sectionStart = fieldCount;
            pos = len;
            hardLimit = sat(len, maxHeaderBytes);
            return BODY_DONE;
          }
          if (chunkSize > maxBody - bodyTotal) return failTooLarge();
          bodyTotal += chunkSize;
          remaining = chunkSize;
          bodyState = B_DATA;
          return BODY_DONE;
        case B_DATA_CR:
          if (c != '\r') return fail("missing CRLF after chunk data");
          s = B_DATA_LF;
          break;
        case B_DATA_LF:
          if (c != '\n') return fail("missing CRLF after chunk data");
          s = B_SIZE;
          chunkSize = 0;
          sizeChars = 0;
          extLen = 0;
          break;
        default:
          throw new IllegalStateException("body state " + s);
      }
    }
    bodyState = s;
    return NEED_MORE;
  }

  // ------------------------------------------------------------------ results

  /** The status code of the final response; 0 before {@link #HEAD_DONE}. */
  public int status() {
    return status;
  }

  /** The reason phrase (may be empty). */
  public String reason() {
    return new String(buf, reasonStart, reasonEnd - reasonStart, StandardCharsets.ISO_8859_1);
  }

  /** The minor HTTP version: 0 or 1. */
  public int versionMinor() {
    return minor;
  }

  /** Whether the connection may serve another request after this response's body. */
  public boolean keepAlive() {
    return keepAlive;
  }

  /** Whether the body is chunked. */
  public boolean chunked() {
    return chunked;
  }

  /** Whether the body runs until the server closes the connection. */
  public boolean closeDelimited() {
    return closeDelimited;
  }

  /** The Content-Length, or -1 when absent (or overridden by Transfer-Encoding). */
  public long contentLength() {
    return contentLength;
  }

  /** Whether a body follows the head (false for HEAD, 1xx, 204, 304 and Content-Length 0). */
  public boolean hasBody() {
    return bodyState != B_DONE && bodyState != B_NONE;
  }

  /** The number of header fields of the final head. */
  public int headerCount() {
    return headerCount;
  }

  /** The lower-case name of header {@code i}. */
  public String headerName(int i) {
    return field(i, 0);
  }

  /** The value of header {@code i}, without surrounding whitespace, read as ISO-8859-1. */
  public String headerValue(int i) {
    return field(i, 2);
  }

  /** The first value of the header named {@code name} (any case), or null. */
  public String header(String name) {
    for (int i = 0; i < headerCount; i++) {
      if (nameMatches(i, name)) return headerValue(i);
    }
    return null;
  }

  /** Every value of the header named {@code name} (any case), in order. */
  public List<String> headers(String name) {
    List<String> out = new ArrayList<>(2);
    for (int i = 0; i < headerCount; i++) {
      if (nameMatches(i, name)) out.add(headerValue(i));
    }
    return out;
  }

  /** The number of trailer fields after a chunked body (0 until {@link #BODY_DONE}). */
  public int trailerCount() {
    return bodyState == B_DONE ? fieldCount - headerCount : 0;
  }

  /** The lower-case name of trailer field {@code i}. */
  public String trailerName(int i) {
    return field(headerCount + i, 0);
  }

  /** The value of trailer field {@code i}. */
  public String trailerValue(int i) {
    return field(headerCount + i, 2);
  }

  /** A short description of what went wrong after {@link #ERROR}, else null. */
  public String errorReason() {
    return errorReason;
  }

  /** True when the error is a body over the size limit, not a malformed response. */
  public boolean tooLarge() {
    return tooLarge;
  }

  private String field(int i, int which) {
    int s = fields[4 * i + which], e = fields[4 * i + which + 1];
    return new String(buf, s, e - s, StandardCharsets.ISO_8859_1);
  }

  private boolean nameMatches(int i, String name) {
    int s = fields[4 * i], e = fields[4 * i + 1];
    if (e - s != name.length()) return false;
    for (int k = 0; k < name.length(); k++) {
      int c = name.charAt(k);
      if (c >= 'A' && c <= 'Z') c += 32;
      if (buf[s + k] != c) return false;
    }
    return true;
  }

  // ------------------------------------------------------------------ helpers

  /** A Content-Length value: a comma list of identical digit runs; -2 when bad. */
  private static long parseContentLength(byte[] b, int vs, int ve) {
    long result = -1;
    int p = vs;
    while (true) {
      while (p < ve && ows(b[p])) p++;
      int ds = p;
      long v = 0;
      while (p < ve && digit(b[p])) {
        if (v > (Long.MAX_VALUE - 9) / 10) return -2;
        v = v * 10 + (b[p] - '0');
        p++;
      }
      if (p == ds) return -2;
      if (result >= 0 && v != result) return -2;
      result = v;
      while (p < ve && ows(b[p])) p++;
      if (p == ve) return result;
      if (b[p] != ',') return -2;
      p++;
    }
  }

  private static void deliver(ByteBuffer in, int n, BodySink sink) {
    int start = in.position();
    if (sink == null) {
      in.position(start + n);
      return;
    }
    int limit = in.limit();
    in.limit(start + n);
    try {
      sink.onData(in);
    } finally {
      in.limit(limit);
      in.position(start + n);
    }
  }

  private static int sat(int a, long b) {
    return (int) Math.min(Integer.MAX_VALUE, a + b);
  }

  private static boolean digit(byte c) {
    return c >= '0' && c <= '9';
  }

  private static boolean ows(byte c) {
    return c == ' ' || c == '\t';
  }

  private static int hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  private static byte[] ascii(String s) {
    byte[] out = new byte[s.length()];
    for (int i = 0; i < out.length; i++) out[i] = (byte) s.charAt(i);
    return out;
  }

  private static boolean nameIs(byte[] b, int start, int end, byte[] lit) {
    if (end - start != lit.length) return false;
    for (int i = 0; i < lit.length; i++) if (b[start + i] != lit[i]) return false;
    return true;
  }

  private static boolean equalsIgnoreCase(byte[] b, int start, int end, byte[] lowerLit) {
    if (end - start != lowerLit.length) return false;
    for (int i = 0; i < lowerLit.length; i++) {
      int c = b[start + i];
      if (c >= 'A' && c <= 'Z') c += 32;
      if (c != lowerLit[i]) return false;
    }
    return true;
  }
}
