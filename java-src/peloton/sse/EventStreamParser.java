package peloton.sse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Reads a {@code text/event-stream} incrementally, as the HTML Living Standard (section 9.2.6,
 * "Interpreting an event stream") says: lines end with CRLF, LF or CR (also split across
 * chunks); a leading BOM is dropped; a line starting with {@code :} is a comment; {@code field:
 * value} loses one space after the colon; {@code data} lines accumulate, {@code event} names the
 * type, {@code id} (without NUL) sets the last event ID, {@code retry} (digits only) the
 * reconnection time; other fields are ignored; a blank line dispatches the event when it has
 * data; an unfinished event at the end of the stream is dropped. Bytes are decoded as UTF-8 per
 * line (CR and LF never occur inside a multi-byte sequence), malformed input replaced.
 *
 * <p>Not thread-safe: feed it from one place, as a response body's consumer does.
 */
public final class EventStreamParser {
  private final int maxLineBytes;
  private final Consumer<ServerSentEvent> sink;
  private byte[] line = new byte[256];
  private int lineLen;
  private boolean afterCr; // the last byte was a CR: an LF right after it ends nothing more
  private boolean first = true; // no line decoded yet: a BOM may lead it
  private final StringBuilder data = new StringBuilder();
  private boolean hasData;
  private String eventType = "";
  private String lastId = "";
  private long retry = -1;

  /**
   * A parser handing each event to {@code sink}.
   *
   * @param maxLineBytes the longest line accepted, in bytes; a longer one fails {@link #feed}
   *     (so a stream without line breaks cannot fill memory)
   * @param sink called with each event, in order
   */
  public EventStreamParser(int maxLineBytes, Consumer<ServerSentEvent> sink) {
    if (maxLineBytes <= 0) {
      throw new IllegalArgumentException("maxLineBytes must be positive: " + maxLineBytes);
    }
    this.maxLineBytes = maxLineBytes;
    this.sink = sink;
  }

  /**
   * Reads {@code len} bytes of the stream from {@code b}.
   *
   * @param b the bytes
   * @param off where they start
   * @param len how many
   * @throws IOException when a line is longer than the limit
   */
  public void feed(byte[] b, int off, int len) throws IOException {
    int end = off + len;
    int start = off;
    for (int i = off; i < end; i++) {
      byte c = b[i];
      if (c == '\n' || c == '\r') {
        if (c == '\n' && afterCr && i == start && lineLen == 0) {
          afterCr = false; // the LF of a CRLF
          start = i + 1;
          continue;
        }
        append(b, start, i - start);
        endLine();
        afterCr = c == '\r';
        start = i + 1;
      } else {
        afterCr = false;
      }
    }
    append(b, start, end - start);
  }

  /** The stream ended: an event without its blank line is dropped (as the standard says). */
  public void end() {
    lineLen = 0;
    data.setLength(0);
    hasData = false;
    eventType = "";
  }

  private void append(byte[] b, int off, int n) throws IOException {
    if (n == 0) {
      return;
    }
    if (lineLen + n > maxLineBytes) {
      throw new IOException("an event-stream line is longer than " + maxLineBytes + " bytes");
    }
    if (lineLen + n > line.length) {
      line = Arrays.copyOf(line, Math.min(maxLineBytes, Math.max(lineLen + n, line.length * 2)));
    }
    System.arraycopy(b, off, line, lineLen, n);
    lineLen += n;
  }

  private void endLine() {
    String s = new String(line, 0, lineLen, StandardCharsets.UTF_8);
    lineLen = 0;
    if (first) {
      first = false;
      if (!s.isEmpty() && s.charAt(0) == '\uFEFF') {
        s = s.substring(1);
      }
    }
    if (s.isEmpty()) {
      dispatch();
      return;
    }
    if (s.charAt(0) == ':') {
      return; // a comment
    }
    int colon = s.indexOf(':');
    String field;
    String value;
    if (colon < 0) {
      field = s;
      value = "";
    } else {
      field = s.substring(0, colon);
      int v = colon + 1;
      if (v < s.length() && s.charAt(v) == ' ') {
        v++;
      }
      value = s.substring(v);
    }
    switch (field) {
      case "event":
        eventType = value;
        break;
      case "data":
        data.append(value).append('\n');
        hasData = true;
        break;
      case "id":
        if (value.indexOf('\0') < 0) {
          lastId = value;
        }
        break;
      case "retry":
        if (!value.isEmpty() && digits(value)) {
          try {
            retry = Long.parseLong(value);
          } catch (NumberFormatException e) {
            // more digits than a long holds: ignored like any bad value
          }
        }
        break;
      default:
        // unknown fields are ignored
    }
  }

  private static boolean digits(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private void dispatch() {
    if (!hasData) {
      eventType = "";
      return;
    }
    data.setLength(data.length() - 1); // the last LF
    ServerSentEvent e = new ServerSentEvent(eventType.isEmpty() ? "message" : eventType,
        data.toString(), lastId, retry);
    data.setLength(0);
    hasData = false;
    eventType = "";
    sink.accept(e);
  }
}
