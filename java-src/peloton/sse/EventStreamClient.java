package peloton.sse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import peloton.fut.Fut;
import peloton.fut.PelotonException;
import peloton.fut.Stream;
import peloton.http.client.ClientRequest;
import peloton.http.client.ClientResponse;
import peloton.http.client.HttpClient;

/**
 * Reads Server-Sent Events with Peloton's HTTP client: the response body, streamed, goes through
 * an {@link EventStreamParser} into a {@link Stream} of {@link ServerSentEvent}s.
 *
 * <pre>{@code
 * Stream<ServerSentEvent> events = EventStreamClient.open(client,
 *     new ClientRequest("http://127.0.0.1:8080/feed").timeout(3_600_000)).join();
 * events.forEach(e -> log.info("{}: {}", e.event(), e.data()));
 * }</pre>
 *
 * <p>The request's timeout bounds the whole stream, as for any streamed body: give it one as long
 * as the stream should last. The events' stream has the given capacity; while it is full the
 * body is not read (so the server's sends wait too). Cancelling it closes the connection at the
 * next data from the server. The stream ends when the server ends the response, and fails with
 * the client's error when the connection breaks or with an IOException for a line longer than
 * the limit. Reconnecting (with {@link ServerSentEvent#id()} as {@code Last-Event-ID}) is the
 * caller's choice.
 */
public final class EventStreamClient {
  /** The longest line accepted by default: 1 MiB. */
  public static final int DEFAULT_MAX_LINE_BYTES = 1 << 20;

  private EventStreamClient() {}

  /**
   * Opens {@code req} as an event stream, with the default limits (see {@link #open(HttpClient,
   * ClientRequest, int, int)}).
   *
   * @param client the HTTP client
   * @param req the request; {@code Accept: text/event-stream} is added and the body streamed
   * @return a fut of the events
   */
  public static Fut<Stream<ServerSentEvent>> open(HttpClient client, ClientRequest req) {
    return open(client, req, DEFAULT_MAX_LINE_BYTES, 16);
  }

  /**
   * Opens {@code req} as an event stream. The fut fails with the client's {@code
   * HttpClientException} when the request fails, and with an {@link NotAnEventStream} when the
   * answer is not a 200 of type {@code text/event-stream}.
   *
   * @param client the HTTP client
   * @param req the request; {@code Accept: text/event-stream} and {@code Cache-Control:
   *     no-store} are added and the body streamed
   * @param maxLineBytes the longest line accepted
   * @param capacity how many events wait in the stream before reading pauses
   * @return a fut of the events
   */
  public static Fut<Stream<ServerSentEvent>> open(HttpClient client, ClientRequest req,
      int maxLineBytes, int capacity) {
    return open(client, req, maxLineBytes, capacity, Function.identity());
  }

  /**
   * As {@link #open(HttpClient, ClientRequest, int, int)}, each event turned by {@code as} into
   * what the stream carries (Clojure's {@code events!} makes maps of them).
   *
   * @param <T> what the stream carries
   * @param client the HTTP client
   * @param req the request
   * @param maxLineBytes the longest line accepted
   * @param capacity how many values wait in the stream before reading pauses
   * @param as turns each event into a value of the stream
   * @return a fut of the values
   */
  public static <T> Fut<Stream<T>> open(HttpClient client, ClientRequest req, int maxLineBytes,
      int capacity, Function<ServerSentEvent, T> as) {
    if (maxLineBytes <= 0 || capacity <= 0) {
      return Fut.failed(new IllegalArgumentException("maxLineBytes and capacity must be positive: "
          + maxLineBytes + ", " + capacity));
    }
    req.header("Accept", "text/event-stream").header("Cache-Control", "no-store").stream(true);
    Fut<Stream<T>> result = new Fut<>();
    client.request(req).onComplete((resp, e) -> {
      if (e != null) {
        result.fail(e);
        return;
      }
      String type = resp.header("content-type");
      if (resp.status() != 200 || !isEventStream(type)) {
        resp.bodyStream().cancel();
        result.fail(new NotAnEventStream(resp.url(), resp.status(), type));
        return;
      }
      result.deliver(pump(resp, maxLineBytes, capacity, as));
    });
    return result;
  }

  private static boolean isEventStream(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semi = contentType.indexOf(';');
    String media = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
    return media.toLowerCase(Locale.ROOT).equals("text/event-stream");
  }

  private static <T> Stream<T> pump(ClientResponse resp, int maxLineBytes, int capacity,
      Function<ServerSentEvent, T> as) {
    Stream<T> out = new Stream<>(capacity);
    Stream<byte[]> body = resp.bodyStream();
    List<ServerSentEvent> batch = new ArrayList<>();
    EventStreamParser parser = new EventStreamParser(maxLineBytes, batch::add);
    body.consume(chunk -> {
      try {
        parser.feed(chunk, 0, chunk.length);
      } catch (IOException x) {
        body.cancel();
        throw new UncheckedIOException(x);
      }
      Fut<Boolean> last = null;
      for (ServerSentEvent ev : batch) {
        last = out.put(as.apply(ev));
      }
      batch.clear();
      if (last == null) {
        return null;
      }
      // The body's next chunk waits for room in the events' stream: backpressure to the server.
      Fut<Object> room = new Fut<>();
      last.onComplete((ok, x) -> {
        if (Boolean.TRUE.equals(ok)) {
          room.deliver(null);
        } else {
          body.cancel(); // the reader went away: let the connection go
          room.fail(new CancellationException("the event stream was cancelled"));
        }
      });
      return room;
    }).onComplete((v, x) -> {
      parser.end();
      if (x == null) {
        out.close();
      } else {
        out.error(x instanceof UncheckedIOException ? x.getCause() : x);
      }
    });
    return out;
  }

  /**
   * The answer to an event-stream request was not a 200 of type {@code text/event-stream}. Also a
   * Clojure {@code ex-info} (see {@link PelotonException}): {@code {:kind :not-event-stream, :url
   * u, :status 404, :content-type "text/html"}}.
   */
  public static final class NotAnEventStream extends PelotonException {
    private static final long serialVersionUID = 1L;

    /** The ex-data kind, an enum so that it becomes the keyword {@code :not-event-stream}. */
    private enum ExKind { NOT_EVENT_STREAM }

    /** The URL asked. */
    private final String url;
    /** The answer's status. */
    private final int status;
    /** The answer's content type, or null. */
    private final String contentType;

    /**
     * The failure for an answer.
     *
     * @param url the URL asked
     * @param status its status
     * @param contentType its content type, or null
     */
    public NotAnEventStream(String url, int status, String contentType) {
      super("not an event stream: " + status + " " + contentType + " (" + url + ")", null);
      this.url = url;
      this.status = status;
      this.contentType = contentType;
    }

    /**
     * The answer's status.
     *
     * @return the status
     */
    public int status() {
      return status;
    }

    /**
     * The answer's content type.
     *
     * @return the content type, or null
     */
    public String contentType() {
      return contentType;
    }

    /** {@code :kind :not-event-stream}, {@code :url}, {@code :status}, {@code :content-type}. */
    @Override
    protected Object[] exData() {
      return new Object[] {"kind", ExKind.NOT_EVENT_STREAM, "url", url, "status", status,
          "content-type", contentType};
    }
  }
}
