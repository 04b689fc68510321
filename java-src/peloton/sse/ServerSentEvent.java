package peloton.sse;

/**
 * One event read from a {@code text/event-stream} (see {@link EventStreamParser}): its type
 * ({@code "message"} unless an {@code event:} field named another), its data (the {@code data:}
 * lines joined with LF), the last event ID in effect (ids carry over to later events, as the
 * HTML standard says) and the reconnection time the stream asked for.
 */
public final class ServerSentEvent {
  private final String event;
  private final String data;
  private final String id;
  private final long retry;

  /**
   * An event.
   *
   * @param event the event type, {@code "message"} by default
   * @param data the data, its lines joined with LF
   * @param id the last event ID in effect, {@code ""} when none was ever set
   * @param retry the reconnection time in ms the stream last asked for, or -1
   */
  public ServerSentEvent(String event, String data, String id, long retry) {
    this.event = event;
    this.data = data;
    this.id = id;
    this.retry = retry;
  }

  /**
   * The event type.
   *
   * @return the type, {@code "message"} unless the stream named another
   */
  public String event() {
    return event;
  }

  /**
   * The data.
   *
   * @return the data lines joined with LF (no trailing LF)
   */
  public String data() {
    return data;
  }

  /**
   * The last event ID, what a reconnecting client sends as {@code Last-Event-ID}.
   *
   * @return the id, {@code ""} when the stream never set one
   */
  public String id() {
    return id;
  }

  /**
   * The reconnection time.
   *
   * @return the time in ms the stream last asked for with {@code retry:}, or -1
   */
  public long retry() {
    return retry;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ServerSentEvent)) {
      return false;
    }
    ServerSentEvent e = (ServerSentEvent) o;
    return event.equals(e.event) && data.equals(e.data) && id.equals(e.id) && retry == e.retry;
  }

  @Override
  public int hashCode() {
    return ((event.hashCode() * 31 + data.hashCode()) * 31 + id.hashCode()) * 31
        + Long.hashCode(retry);
  }

  @Override
  public String toString() {
    return "ServerSentEvent[event=" + event + ", data=" + data + ", id=" + id + ", retry=" + retry
        + "]";
  }
}
