package peloton.sse;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import peloton.fut.Fut;
import peloton.http.server.Exchange;
import peloton.reactor.Timer;

/**
 * A {@code text/event-stream} response (Server-Sent Events, HTML Living Standard section 9.2): each
 * event goes out as one chunk and is flushed at once; nothing is compressed or held back.
 *
 * <pre>{@code
 * EventStream es = EventStream.start(ex, 15_000);        // a comment heartbeat every 15 s
 * es.send("update", "line one\nline two", "42", -1);     // event, data, id, retry
 * }</pre>
 *
 * <p>Every send answers the connection's writable fut: it completes once the output is below the
 * server's high-water mark (false once the client has gone), so a producer that waits on it keeps
 * memory bounded. When the client leaves, sends answer false, the heartbeat stops and {@link
 * #closed()} completes. Safe from any thread.
 */
public final class EventStream {
  private static final byte[] HEARTBEAT = ":\n\n".getBytes(StandardCharsets.UTF_8);

  private final Exchange ex;
  private final long heartbeatMillis;
  private final Fut<Boolean> closed = new Fut<>();
  private volatile Timer heartbeat;

  private EventStream(Exchange ex, long heartbeatMillis) {
    this.ex = ex;
    this.heartbeatMillis = heartbeatMillis;
  }

  /**
   * Starts the event stream on {@code ex}: status 200, {@code Content-Type: text/event-stream},
   * {@code Cache-Control: no-cache}, a chunked body; with {@code heartbeatMillis} > 0 a comment
   * line goes out that often, so proxies keep the connection and a client that left is noticed.
   *
   * @param ex the exchange to answer; nothing may have been sent on it yet
   * @param heartbeatMillis milliseconds between heartbeat comments, 0 or less for none
   * @return the stream, open
   */
  public static EventStream start(Exchange ex, long heartbeatMillis) {
    EventStream es = new EventStream(ex, heartbeatMillis);
    ex.status(200)
        .contentType("text/event-stream; charset=utf-8")
        .setHeader("Cache-Control", "no-cache")
        .setHeader("X-Accel-Buffering", "no"); // nginx: do not buffer
    ex.startChunked();
    ex.flush();
    ex.onServerStop(es::close); // a stopping server ends the stream cleanly, not at its deadline
    if (heartbeatMillis > 0) {
      es.scheduleHeartbeat();
    }
    return es;
  }

  /**
   * The request's {@code Last-Event-ID} (where a reconnecting client left off).
   *
   * @param ex the exchange of the request
   * @return the header's value, or null when the client sent none
   */
  public static String lastEventId(Exchange ex) {
    return ex.header("last-event-id");
  }

  /**
   * The {@code Last-Event-ID} of the request this stream answers.
   *
   * @return the header's value, or null when the client sent none
   */
  public String lastEventId() {
    return lastEventId(ex);
  }

  private void scheduleHeartbeat() {
    heartbeat = ex.reactor().schedule(heartbeatMillis, TimeUnit.MILLISECONDS, () -> {
      if (!isOpen()) {
        closed.deliver(Boolean.TRUE);
        return;
      }
      write(HEARTBEAT);
      scheduleHeartbeat();
    });
  }

  /**
   * Sends one event. {@code data} is split at CR, LF and CRLF into {@code data:} lines; {@code
   * event} and {@code id} may be null (and may not hold a line break); {@code retry} is the
   * reconnection time in ms, or negative for none.
   *
   * @param event the event's type ({@code event:} line), or null for the default, {@code message}
   * @param data the event's data, possibly several lines, or null for none
   * @param id the event's id ({@code id:} line), which the client sends back as {@code
   *     Last-Event-ID} when it reconnects, or null for none
   * @param retry the client's reconnection delay in milliseconds, or negative for none
   * @return a fut of true once the output is below the high-water mark, false once the client has gone
   * @throws IllegalArgumentException when {@code event} or {@code id} holds a line break, or the
   *     event would be empty
   */
  public Fut<Boolean> send(String event, String data, String id, long retry) {
    return write(format(event, data, id, retry));
  }

  /**
   * Sends an event with only {@code data}.
   *
   * @param data the event's data, possibly several lines
   * @return a fut of true once the output is below the high-water mark, false once the client has gone
   */
  public Fut<Boolean> send(String data) {
    return send(null, data, null, -1);
  }

  /**
   * Sends a comment (ignored by clients; {@code text} may span lines).
   *
   * @param text the comment
   * @return a fut of true once the output is below the high-water mark, false once the client has gone
   */
  public Fut<Boolean> comment(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 8);
    splitLines(text, ":", sb);
    return write(sb.append('\n').toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The wire form of an event (see {@link #send(String, String, String, long)}).
   *
   * @param event the event's type, or null
   * @param data the event's data, or null
   * @param id the event's id, or null
   * @param retry the reconnection delay in milliseconds, or negative for none
   * @return the event's UTF-8 bytes, blank line included
   */
  public static byte[] format(String event, String data, String id, long retry) {
    StringBuilder sb = new StringBuilder(32 + (data == null ? 0 : data.length()));
    if (event != null) {
      sb.append("event: ").append(field("event", event)).append('\n');
    }
    if (id != null) {
      if (id.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("an event id may not contain NUL");
      }
      sb.append("id: ").append(field("id", id)).append('\n');
    }
    if (retry >= 0) {
      sb.append("retry: ").append(retry).append('\n');
    }
    if (data != null) {
      splitLines(data, "data:", sb);
    }
    if (sb.length() == 0) {
      throw new IllegalArgumentException("an event needs data, an event name, an id or a retry");
    }
    return sb.append('\n').toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String field(String name, String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '\n' || c == '\r') {
        throw new IllegalArgumentException("an event " + name + " may not contain a line break");
      }
    }
    return v;
  }

  private static void splitLines(String text, String prefix, StringBuilder sb) {
    int start = 0;
    int n = text.length();
    for (int i = 0; i <= n; i++) {
      char c = i < n ? text.charAt(i) : '\n';
      if (c == '\n' || c == '\r') {
        sb.append(prefix);
        if (i > start) {
          sb.append(' ').append(text, start, i);
        }
        sb.append('\n');
        if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
      }
    }
  }

  private Fut<Boolean> write(byte[] b) {
    if (!isOpen()) {
      closed.deliver(Boolean.TRUE);
      stopHeartbeat();
      return Fut.of(Boolean.FALSE);
    }
    Fut<Boolean> f = ex.sendChunk(b);
    ex.flush();
    return f;
  }

  /**
   * Whether events still go out.
   *
   * @return true until the stream was closed or the client left
   */
  public boolean isOpen() {
    return !ex.isFinished();
  }

  /**
   * A fut that completes once the stream has ended (closed here, or the client seen gone).
   *
   * @return a fut of true, delivered once
   */
  public Fut<Boolean> closed() {
    return closed;
  }

  /** Ends the response. */
  public void close() {
    stopHeartbeat();
    ex.finishChunked();
    closed.deliver(Boolean.TRUE);
  }

  private void stopHeartbeat() {
    Timer t = heartbeat;
    if (t != null) {
      t.cancel();
    }
  }

  /**
   * The exchange the stream answers.
   *
   * @return the exchange
   */
  public Exchange exchange() {
    return ex;
  }
}
