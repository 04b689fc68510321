package peloton.http.server;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.http.ChunkInputStream;
import peloton.http.Forms;
import peloton.http.Headers;
import peloton.transport.Transport;

/**
 * One request and its response: what a {@link HttpHandler} gets (the {@code conn} of the Clojure
 * API). Read the request through the accessors; answer with {@link #send()} after setting status,
 * headers and body, or stream with {@link #startChunked()} / {@link #sendChunk(byte[])} / {@link
 * #finishChunked()}, or with a known length through {@link #startResponse(long)}, {@link
 * #write(ByteBuffer)}, {@link #writeFile} and {@link #end()}.
 *
 * <p>Every method may be called from any thread: off the connection's reactor it is queued there,
 * in call order. Once the response is complete, or the client has gone away, {@link #isFinished()}
 * is true and further writes are ignored.
 */
public final class Exchange {
  private static final Logger log = LoggerFactory.getLogger(Exchange.class);
  private static final byte[] EMPTY = new byte[0];

  final Connection conn;
  final Request request;
  byte[] body = EMPTY;
  int bodyLength;
  Stream<byte[]> bodyStream;
  /** The regex groups of the route that matched, set by {@link Router}; null when none. */
  String[] pathParams;

  int status = 200;
  String message;
  String contentType;
  private static final String[] NO_HEADERS = new String[0];
  String[] headerNames = NO_HEADERS; // allocated by the first header: most answers set none
  String[] headerValues = NO_HEADERS;
  int headerCount;
  private Object responseBody; // byte[] or ByteBuffer
  boolean keepAlive;

  static final int NOT_STARTED = 0, STREAMING = 1, DONE = 2;
  int phase = NOT_STARTED;
  boolean chunked;
  boolean headOnly;
  long declaredLength = -1;
  long written;
  private volatile boolean finished;
  private Runnable stopHook; // reactor thread only: see onServerStop
  boolean timedOut; // answered 503 at the response timeout: a later answer is dropped
  private volatile String route;

  Exchange(Connection conn, Request request) {
    this.conn = conn;
    this.request = request;
    this.keepAlive = request.keepAlive();
    this.headOnly = "HEAD".equals(request.method());
  }

  // ---- request ----

  /**
   * The parsed request head.
   *
   * @return the parsed request head
   */
  public Request request() {
    return request;
  }

  /**
   * The request method, e.g. {@code "GET"}.
   *
   * @return the request method, e.g. {@code "GET"}
   */
  public String method() {
    return request.method();
  }

  /**
   * The raw request-target, e.g. {@code "/a/b?x=1"}.
   *
   * @return the raw request-target, e.g. {@code "/a/b?x=1"}
   */
  public String uri() {
    return request.target();
  }

  /**
   * The normalized path, before any {@code ?}: what routes match (percent-encoded unreserved
   * characters decoded, other encodings such as {@code %2F} kept, dot segments removed; see
   * {@link PathNormalizer}). {@link #rawPath()} is the path as sent.
   *
   * @return the raw path, before any {@code ?}
   */
  public String path() {
    return request.path();
  }

  /**
   * The path as the client sent it, before any {@code ?}, not normalized.
   *
   * @return the raw path
   */
  public String rawPath() {
    return request.rawPath();
  }

  /**
   * The raw query string without {@code ?}, or null.
   *
   * @return the raw query, or null
   */
  public String query() {
    return request.query();
  }

  /**
   * The first value of request header {@code name}.
   *
   * @param name the header name, any case
   * @return the first value, or null when the request has none
   */
  public String header(String name) {
    return request.header(lower(name));
  }

  /**
   * Every value of request header {@code name}, in the order received.
   *
   * @param name the header name, any case
   * @return the values (empty when there is none), a list of its own
   */
  public List<String> headers(String name) {
    return request.headers(lower(name));
  }

  /**
   * Every request header: names lower-case, in the order first received, each with its values in
   * order.
   *
   * @return an unmodifiable map built for this call
   */
  public Map<String, List<String>> headers() {
    int n = request.headerCount();
    Map<String, List<String>> out = new LinkedHashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      out.computeIfAbsent(lower(request.headerName(i)), k -> new ArrayList<>(1))
          .add(request.headerValue(i));
    }
    for (Map.Entry<String, List<String>> e : out.entrySet()) {
      e.setValue(Collections.unmodifiableList(e.getValue()));
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * The regex group {@code i} of the {@link Router} route that matched this request, as in
   * {@code router.get("^/users/(\\d+)$", ex -> ex.pathParam(1))}.
   *
   * @param i the group number, from 1
   * @return the group's text, or null when the group did not take part in the match
   * @throws IndexOutOfBoundsException when the route has no group {@code i}
   */
  public String pathParam(int i) {
    if (pathParams == null || i < 1 || i > pathParams.length) {
      throw new IndexOutOfBoundsException("no path group " + i + " in this route (it has "
          + (pathParams == null ? 0 : pathParams.length) + ")");
    }
    return pathParams[i - 1];
  }

  /**
   * The query parameters, decoded ({@code application/x-www-form-urlencoded}, UTF-8).
   *
   * @return each name with its values in order; empty without a query
   */
  @SuppressWarnings("unchecked")
  public Map<String, List<String>> queryParams() {
    Map<String, Object> parsed = Forms.parseUrlEncoded(query());
    Map<String, List<String>> out = new LinkedHashMap<>(parsed.size() * 2);
    for (Map.Entry<String, Object> e : parsed.entrySet()) {
      Object v = e.getValue();
      out.put(e.getKey(), v instanceof List
          ? Collections.unmodifiableList((List<String>) v) : List.of((String) v));
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * The request body as the server holds it, without a copy: read it with {@link #bodyLength()}.
   *
   * @return the body's array (empty when none); it may be longer than {@link #bodyLength()}
   */
  public byte[] bodyBytes() {
    return body;
  }

  /**
   * The request body, exactly; empty for a streamed body (see {@link #isBodyStreamed()}).
   *
   * @return a copy of the body bytes
   */
  public byte[] body() {
    return Arrays.copyOf(body, bodyLength);
  }

  /**
   * The number of body bytes in {@link #bodyBytes()}.
   *
   * @return the number of body bytes in {@link #bodyBytes()}
   */
  public int bodyLength() {
    return bodyLength;
  }

  /**
   * True when the body is too large to hold whole and arrives through {@link #bodyStream()}.
   *
   * @return true when the body is too large to hold whole and arrives through {@link #bodyStream()}
   */
  public boolean isBodyStreamed() {
    return bodyStream != null;
  }

  /**
   * The body as a stream of {@code byte[]} chunks, ending at the end of the body. A large body
   * (over the server's {@code bodyBufferLimit}) arrives this way while the handler runs, and the
   * connection reads no faster than the stream is taken from; a small one is one chunk.
   *
   * @return the body as a stream of {@code byte[]} chunks, ending at the end of the body
   */
  public Stream<byte[]> bodyStream() {
    if (bodyStream != null) {
      return bodyStream;
    }
    Stream<byte[]> s = new Stream<>(1);
    if (bodyLength > 0) {
      s.put(Arrays.copyOf(body, bodyLength));
    }
    s.close();
    return s;
  }

  /**
   * The body as an InputStream. For a streamed body, reading blocks until data arrives, so read it
   * off the reactor thread (run handlers on an executor): on a reactor thread it throws.
   *
   * @return the body as an InputStream
   */
  public InputStream bodyInputStream() {
    if (bodyStream == null) {
      return new ByteArrayInputStream(body, 0, bodyLength);
    }
    return new ChunkInputStream(bodyStream, "the request body");
  }

  /**
   * The body decoded as UTF-8.
   *
   * @return the body decoded as UTF-8
   */
  public String bodyString() {
    return new String(body, 0, bodyLength, StandardCharsets.UTF_8);
  }

  /**
   * The client's address.
   *
   * @return the client's address
   */
  public InetSocketAddress remoteAddress() {
    return conn.remoteAddress();
  }

  /**
   * The local address the request came in on.
   *
   * @return the local address the request came in on
   */
  public InetSocketAddress localAddress() {
    return conn.localAddress();
  }

  /**
   * Whether the request came over TLS (https).
   *
   * @return true for https, false for plain http
   */
  public boolean isSecure() {
    return conn.t.isSecure();
  }

  /**
   * The TLS session of an https request (protocol, cipher, client certificates).
   *
   * @return the session, or null for plain http
   */
  public javax.net.ssl.SSLSession tlsSession() {
    return conn.t.session();
  }

  /**
   * The reactor that owns this exchange's connection: schedule follow-up work there.
   *
   * @return the reactor that owns this exchange's connection: schedule follow-up work there
   */
  public peloton.reactor.Reactor reactor() {
    return conn.reactor;
  }

  /**
   * Names the route that handles this exchange, for log lines (the Clojure routes set it to
   * their method and regex); null when none was set.
   *
   * @param name the route's name, for logs
   * @return this exchange
   */
  public Exchange route(String name) {
    route = name;
    return this;
  }

  /**
   * The route name set with {@link #route(String)}, or null.
   *
   * @return the route name, or null
   */
  public String route() {
    return route;
  }

  // ---- response ----

  /**
   * Sets the response status code (default 200).
   *
   * @return this exchange
   * @param code the status code, 100 to 999
   */
  public Exchange status(int code) {
    if (code < 100 || code > 999) {
      throw new IllegalArgumentException("bad status code " + code);
    }
    if (!onReactor(() -> status(code))) {
      return this;
    }
    status = code;
    return this;
  }

  /**
   * The response status set so far.
   *
   * @return the response status set so far
   */
  public int status() {
    return status;
  }

  /**
   * Sets the reason phrase (default: the standard one for the status).
   *
   * @return this exchange
   * @param reason the reason phrase
   */
  public Exchange message(String reason) {
    Headers.checkValue(reason);
    if (!onReactor(() -> message(reason))) {
      return this;
    }
    message = reason;
    return this;
  }

  /**
   * Sets response header {@code name}, replacing earlier values. CR or LF is refused.
   *
   * @return this exchange
   * @param name the header name
   * @param value the header value
   */
  public Exchange setHeader(String name, String value) {
    Headers.checkName(name);
    Headers.checkValue(value);
    if (!onReactor(() -> setHeader(name, value))) {
      return this;
    }
    if (name.equalsIgnoreCase("content-type")) {
      contentType = value;
      return this;
    }
    removeHeader(name);
    return appendHeader(name, value);
  }

  /**
   * Adds a value for response header {@code name}, keeping earlier ones. CR or LF is refused.
   *
   * @return this exchange
   * @param name the header name
   * @param value the header value
   */
  public Exchange addHeader(String name, String value) {
    Headers.checkName(name);
    Headers.checkValue(value);
    if (!onReactor(() -> addHeader(name, value))) {
      return this;
    }
    return appendHeader(name, value);
  }

  private Exchange appendHeader(String name, String value) {
    if (headerCount == headerNames.length) {
      headerNames = Arrays.copyOf(headerNames, Math.max(4, headerCount * 2));
      headerValues = Arrays.copyOf(headerValues, Math.max(4, headerCount * 2));
    }
    headerNames[headerCount] = name;
    headerValues[headerCount++] = value;
    return this;
  }

  private void removeHeader(String name) {
    int j = 0;
    for (int i = 0; i < headerCount; i++) {
      if (!headerNames[i].equalsIgnoreCase(name)) {
        headerNames[j] = headerNames[i];
        headerValues[j++] = headerValues[i];
      }
    }
    headerCount = j;
  }

  /**
   * The first response header value set for {@code name}, or null.
   *
   * @return the first response header value set for {@code name}, or null
   * @param name the header name, any case
   */
  public String responseHeader(String name) {
    if (name.equalsIgnoreCase("content-type")) {
      return contentType;
    }
    for (int i = 0; i < headerCount; i++) {
      if (headerNames[i].equalsIgnoreCase(name)) {
        return headerValues[i];
      }
    }
    return null;
  }

  /**
   * Sets the Content-Type.
   *
   * @return this exchange
   * @param type the media type, such as {@code text/html; charset=utf-8}
   */
  public Exchange contentType(String type) {
    Headers.checkValue(type);
    if (!onReactor(() -> contentType(type))) {
      return this;
    }
    contentType = type;
    return this;
  }

  /**
   * Sets the body to {@code s} encoded as UTF-8.
   *
   * @return this exchange
   * @param s the body text
   */
  public Exchange body(String s) {
    return body(s.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sets the body; the array is sent as it is when {@link #send()} runs, so don't change it.
   *
   * @return this exchange
   * @param bytes the body bytes
   */
  public Exchange body(byte[] bytes) {
    if (!onReactor(() -> body(bytes))) {
      return this;
    }
    responseBody = bytes;
    return this;
  }

  /**
   * Sets the body to the remaining bytes of {@code buf}.
   *
   * @return this exchange
   * @param buf the body bytes, between its position and its limit
   */
  public Exchange body(ByteBuffer buf) {
    if (!onReactor(() -> body(buf))) {
      return this;
    }
    responseBody = buf;
    return this;
  }

  /**
   * Asks for the connection to be closed after this response.
   *
   * @return this exchange
   */
  public Exchange closeAfter() {
    if (!onReactor(this::closeAfter)) {
      return this;
    }
    keepAlive = false;
    return this;
  }

  /** Sends the response: status, headers, {@code Content-Length} and body. */
  public void send() {
    if (!onReactor(this::send) || !startable()) {
      return;
    }
    long len;
    if (responseBody instanceof byte[]) {
      len = ((byte[]) responseBody).length;
    } else if (responseBody instanceof ByteBuffer) {
      len = ((ByteBuffer) responseBody).remaining();
    } else {
      len = 0;
    }
    conn.writeHead(this, len);
    if (len > 0 && bodyAllowed()) {
      if (responseBody instanceof byte[]) {
        conn.appendBody((byte[]) responseBody);
      } else {
        conn.appendBody((ByteBuffer) responseBody);
      }
    }
    complete();
  }

  /**
   * Sends a status with a short text body and no other content; for errors ({@code 404}, {@code
   * 500}). Ignored when the response has started.
   *
   * @param code the status code
   * @param text the plain-text body
   */
  public void sendStatus(int code, String text) {
    if (!onReactor(() -> sendStatus(code, text)) || !startable()) {
      return;
    }
    status = code;
    contentType = "text/plain; charset=utf-8";
    responseBody = text.getBytes(StandardCharsets.UTF_8);
    send();
  }

  /** Starts a chunked response (close-delimited for HTTP/1.0 clients); send chunks next. */
  public void startChunked() {
    if (!onReactor(this::startChunked) || !startable()) {
      return;
    }
    if (request.versionMinor() == 0) {
      keepAlive = false;
    } else {
      chunked = true;
    }
    phase = STREAMING;
    conn.writeHead(this, -1);
  }

  /**
   * Sends one chunk of a chunked response, UTF-8 encoded.
   *
   * @param s the chunk's text
   * @return a fut of true once the client has caught up, or of false when the response is finished or the client has gone away
   */
  public Fut<Boolean> sendChunk(String s) {
    return sendChunk(s.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Queues one chunk of a chunked response. Answers a fut that completes once the connection's
   * output is below its high-water mark: a producer that waits on it never fills memory. An empty
   * chunk is skipped (it would end the body).
   *
   * @param bytes the chunk's bytes
   * @return a fut of true once the client has caught up, or of false when the response is finished or the client has gone away
   */
  public Fut<Boolean> sendChunk(byte[] bytes) {
    if (!conn.reactor.inReactorThread()) {
      Fut f = new Fut();
      conn.reactor.submit(() -> f.follow(sendChunk(bytes)));
      return f;
    }
    if (finished || phase != STREAMING) {
      return Fut.of(Boolean.FALSE);
    }
    if (bytes.length > 0 && !headOnly) {
      if (chunked) {
        conn.appendChunk(bytes);
      } else {
        conn.appendBody(bytes);
      }
    }
    return conn.writable();
  }

  /** Writes out what is queued so far, without waiting. */
  public void flush() {
    if (!onReactor(this::flush)) {
      return;
    }
    conn.flush();
  }

  /** Ends a chunked response. */
  public void finishChunked() {
    if (!onReactor(this::finishChunked) || finished || phase != STREAMING) {
      return;
    }
    if (chunked && !headOnly) {
      conn.appendLastChunk();
    }
    complete();
  }

  /**
   * Starts a response whose body of exactly {@code contentLength} bytes follows through {@link
   * #write} and {@link #writeFile}; {@link #end()} finishes it.
   *
   * @param contentLength the exact number of body bytes that will be written
   */
  public void startResponse(long contentLength) {
    if (!onReactor(() -> startResponse(contentLength)) || !startable()) {
      return;
    }
    phase = STREAMING;
    declaredLength = contentLength;
    conn.writeHead(this, contentLength);
  }

  /**
   * Queues body bytes of a response started with {@link #startResponse(long)}.
   *
   * @param buf the bytes, between its position and its limit
   */
  public void write(ByteBuffer buf) {
    if (!onReactor(() -> write(buf)) || finished || phase != STREAMING) {
      return;
    }
    written += buf.remaining();
    if (bodyAllowed()) {
      conn.appendBody(buf);
    }
  }

  /**
   * Queues {@code length} bytes of {@code file} from {@code position}, sent with {@code
   * transferTo} (sendfile). The channel is closed once sent, or when the connection goes away, if
   * {@code closeWhenDone}.
   *
   * @param file the file to send
   * @param position where in the file to start
   * @param length how many bytes to send
   * @param closeWhenDone whether to close {@code file} once sent (or on failure)
   */
  public void writeFile(FileChannel file, long position, long length, boolean closeWhenDone) {
    if (!onReactor(() -> writeFile(file, position, length, closeWhenDone))) {
      return;
    }
    if (finished || phase != STREAMING || !bodyAllowed()) {
      if (closeWhenDone) {
        Connection.closeQuietly(file);
      }
      return;
    }
    written += length;
    conn.appendFile(file, position, length, closeWhenDone);
  }

  /** Ends a response started with {@link #startResponse(long)}. */
  public void end() {
    if (!onReactor(this::end) || finished || phase != STREAMING) {
      return;
    }
    if (declaredLength >= 0 && written != declaredLength && bodyAllowed()) {
      // The framing would be wrong: the connection cannot be reused.
      keepAlive = false;
    }
    complete();
  }

  /**
   * True once the response is complete or the client has gone away.
   *
   * @return true once the response is complete or the client has gone away
   */
  public boolean isFinished() {
    return finished;
  }

  /**
   * True once the response head has been queued.
   *
   * @return true once the response head has been queued
   */
  public boolean isStarted() {
    return phase != NOT_STARTED;
  }

  /**
   * True when the connection's output is above its high-water mark (a slow reader).
   *
   * @return true when the connection's output is above its high-water mark (a slow reader)
   */
  public boolean isBackedUp() {
    return conn.isBackedUp();
  }

  /**
   * A fut that completes once the connection's output is below its high-water mark.
   *
   * @return a fut that completes once the connection's output is below its high-water mark
   */
  public Fut<Boolean> writable() {
    if (!conn.reactor.inReactorThread()) {
      Fut f = new Fut();
      conn.reactor.submit(() -> f.follow(conn.writable()));
      return f;
    }
    return conn.writable();
  }

  /**
   * Answers 500 when nothing was sent yet, else cuts the connection; for a handler that failed
   * after returning (the server does this itself when a handler throws). Logs nothing: see
   * {@link #handlerFailed(Throwable)}.
   *
   * @param t what went wrong (logged)
   */
  public void fail(Throwable t) {
    if (!onReactor(() -> fail(t))) {
      return;
    }
    if (finished) {
      return;
    }
    if (phase == NOT_STARTED) {
      answerError(500, "Internal Server Error\n");
    } else {
      conn.close();
    }
  }

  /**
   * Reports that the handler of this exchange failed, for example when the fut it returned
   * failed: logs the method, path, route and stack trace (the first error of each kind in full,
   * repeats as counts per interval, so a failing handler under load cannot flood the log), then
   * does what {@link #fail(Throwable)} does.
   *
   * @param t what the handler threw
   */
  public void handlerFailed(Throwable t) {
    conn.server.errors.report(request.method(), request.target(), route, t);
    fail(t);
  }

  /** Replaces whatever the handler set with a short error answer; the connection closes after. */
  void answerError(int code, String text) {
    headerCount = 0;
    message = null;
    keepAlive = false;
    sendStatus(code, text);
  }

  /** Receives a connection handed over by {@link #detach}. */
  @FunctionalInterface
  public interface Takeover {
    /**
     * Called on the reactor thread once the answer (the 101) is written, with the connection's
     * transport (plain or TLS: read and write through it, never the raw channel, so an HTTPS
     * connection goes on encrypted), the channel's selection key (it has no interest ops: attach
     * a handler of your own and set the ops) and the bytes the client sent after the request head;
     * {@code transport} and {@code key} are null when the client went away first.
     *
     * @param transport the connection's transport, or null
     * @param key the channel's selection key, or null
     * @param leftover bytes read past the request head (read mode), or null
     * @return what the server should end when it stops (see {@link Detached}), or null
     */
    Detached take(Transport transport, SelectionKey key, ByteBuffer leftover);
  }

  /**
   * A protocol a connection was handed to by {@link #detach} (a WebSocket): the server no longer
   * owns the connection, but still ends it when it stops, so a stop closes everything it served.
   */
  public interface Detached {
    /**
     * The server stops: begin a clean end (a WebSocket sends 1001 Going Away). Called on the
     * reactor thread; the end must be bounded in time.
     */
    void goingAway();

    /** The server's grace period is over: close the connection now. Called on the reactor thread. */
    void abort();

    /**
     * A fut that completes once the connection is closed.
     *
     * @return the fut
     */
    Fut<?> closed();
  }

  /**
   * Hands the connection to another protocol after this exchange's answer, as a WebSocket
   * upgrade does: call it before {@link #send()} of the 101. Once the answer is written the
   * server lets go of the channel without closing it and calls {@code to}.
   *
   * @param to the protocol to hand the connection to, called once on the reactor thread
   */
  public void detach(Takeover to) {
    if (!onReactor(() -> detach(to))) {
      return;
    }
    if (finished) {
      to.take(null, null, null);
      return;
    }
    conn.handOver(to::take);
  }

  /**
   * Runs {@code r} on the reactor thread when the server begins to stop while this answer is
   * still going (at once if it is stopping already): a long-lived answer such as an event stream
   * ends itself there instead of being cut at the end of the grace period.
   *
   * @param r what ends the answer
   */
  public void onServerStop(Runnable r) {
    if (!onReactor(() -> onServerStop(r))) {
      return;
    }
    if (finished) {
      return;
    }
    stopHook = r;
    if (conn.server.draining) {
      serverStopping();
    }
  }

  void serverStopping() {
    Runnable r = stopHook;
    stopHook = null;
    if (r != null && !finished) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("ending {} {} as the server stops failed", request.method(), request.target(), e);
      }
    }
  }

  boolean bodyAllowed() {
    return !headOnly && status != 204 && status != 304 && status >= 200;
  }

  private boolean startable() {
    if (finished) {
      if (timedOut) {
        log.debug("late answer to {} {} (route {}) dropped: 503 went out at the response timeout",
            request.method(), request.target(), route);
      }
      return false;
    }
    if (phase != NOT_STARTED) {
      throw new IllegalStateException("the response was already started");
    }
    return true;
  }

  private void complete() {
    phase = DONE;
    finished = true;
    conn.exchangeDone(this);
  }

  void markFinished() {
    finished = true;
  }

  private boolean onReactor(Runnable again) {
    if (conn.reactor.inReactorThread()) {
      return true;
    }
    conn.reactor.submit(again);
    return false;
  }

  private static String lower(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return s.toLowerCase(java.util.Locale.ROOT);
      }
    }
    return s;
  }
}
