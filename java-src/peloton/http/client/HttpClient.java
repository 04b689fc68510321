package peloton.http.client;

import clojure.lang.Named;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.http.Headers;
import peloton.http.HttpLimits;
import peloton.reactor.Reactor;
import peloton.reactor.ReactorGroup;
import peloton.reactor.Timer;
import peloton.transport.TlsConfig;

/**
 * Peloton's asynchronous HTTP/1.1 client (not the JDK's {@code java.net.http.HttpClient}): it runs
 * on Peloton reactors and answers {@link Fut}s of {@link ClientResponse}s.
 *
 * <pre>{@code
 * HttpClient client = new HttpClient(new HttpClient.Options()
 *     .connectTimeout(Duration.ofSeconds(2))
 *     .maxConnectionsPerHost(8));
 * ClientRequest req = ClientRequest.newBuilder("http://127.0.0.1:8080/")
 *     .timeout(Duration.ofSeconds(5))
 *     .build();
 * client.request(req).onComplete((r, e) -> {
 *   // r is a ClientResponse, or e a HttpClientException
 * });
 * String page = client.get("http://127.0.0.1:8080/").map(ClientResponse::bodyString).join();
 * }</pre>
 *
 * <p>Each {@code host:port} gets a pool of keep-alive connections owned by one reactor (the next
 * of the {@link Options#group} given, else {@link Reactor#currentOrShared()} when the pool is
 * made): at most {@link Options#maxConnectionsPerHost} connections, requests beyond them wait in
 * a queue of at most {@link Options#maxWaitersPerHost}, and connections idle longer than {@link
 * Options#idleTimeoutMillis} (or closed by the server while idle) are closed. One request per
 * connection at a time, no pipelining. A request that finds a reused connection closed before any
 * byte of the answer is retried once on a fresh one when its method is idempotent.
 *
 * <p>Every failure fails the fut with a {@link HttpClientException} whose {@link
 * HttpClientException#kind() kind} says which: refused, reset, timeout (connect, or the whole
 * exchange), malformed, too large, pool full or closed; the connection involved is closed, never
 * returned to the pool. A bad argument (URL not {@code http://}, CR or LF in a header) fails the
 * fut with an {@link IllegalArgumentException}. Futs complete on the pool's reactor thread: don't
 * block in their callbacks.
 *
 * <p>{@code https://} URLs speak TLS 1.2 or 1.3 through {@link peloton.transport}: certificates
 * are verified against the JDK's trust store (or {@link Options#tls}), the host name is checked,
 * SNI is sent (not for IP literals); pools are kept per scheme, host and port. A TLS failure is
 * kind {@code TLS} with {@link HttpClientException#tlsReason()}, within the connect timeout.
 */
public final class HttpClient implements AutoCloseable {

  /**
   * Client settings with their defaults: a typed builder whose setters chain, passed to {@link
   * HttpClient#HttpClient(Options)}. The fields may also be set directly.
   */
  public static final class Options {
    /** Options with every default. */
    public Options() {}

    /** Reactors to run on; null (default) uses {@link Reactor#currentOrShared()}. */
    public ReactorGroup group;
    /** Time a connection may take to establish, ms. */
    public long connectTimeoutMillis = 10_000;
    /** Default time a whole exchange may take, ms (see {@link ClientRequest#timeout}). */
    public long requestTimeoutMillis = 60_000;
    /** Time an unused keep-alive connection stays open, ms. */
    public long idleTimeoutMillis = 30_000;
    /** Most connections open (or opening) to one host and port. */
    public int maxConnectionsPerHost = 16;
    /** Most requests waiting for a connection to one host and port; more fail at once. */
    public int maxWaitersPerHost = 1024;
    /** Most redirects followed when a request asks to follow them. */
    public int maxRedirects = 5;
    /** Largest response body read into memory, bytes (a streamed body has no limit). */
    public long maxBody = 64L * 1024 * 1024;
    /** Byte arrays a streamed body buffers before reading pauses. */
    public int streamCapacity = 16;
    /** Limits on response heads: status line, header section, header count, chunk extensions. */
    public HttpLimits limits = new HttpLimits();
    /** The User-Agent sent unless a request sets its own. */
    public String userAgent = "peloton";
    /**
     * TLS for {@code https://} URLs; null (default) verifies certificates against the JDK's trust
     * store and checks host names (see {@link TlsConfig#client(TlsConfig.ClientOptions)} for a
     * private CA, a client certificate or no verification).
     */
    public TlsConfig tls;

    /**
     * Sets {@link #tls}.
     *
     * @param t the TLS configuration, or null to verify servers against the JDK's trust store
     * @return these options
     */
    public Options tls(TlsConfig t) {
      tls = t;
      return this;
    }

    /**
     * Sets {@link #group}.
     *
     * @param g the reactors to run on
     * @return these options
     */
    public Options group(ReactorGroup g) {
      group = g;
      return this;
    }

    /**
     * Sets {@link #connectTimeoutMillis}.
     *
     * @param millis the time limit in milliseconds
     * @return these options
     */
    public Options connectTimeout(long millis) {
      connectTimeoutMillis = millis;
      return this;
    }

    /**
     * Sets {@link #connectTimeoutMillis}.
     *
     * @param timeout the time limit
     * @return these options
     */
    public Options connectTimeout(Duration timeout) {
      return connectTimeout(timeout.toMillis());
    }

    /**
     * Sets {@link #requestTimeoutMillis}.
     *
     * @param millis the time limit in milliseconds
     * @return these options
     */
    public Options requestTimeout(long millis) {
      requestTimeoutMillis = millis;
      return this;
    }

    /**
     * Sets {@link #requestTimeoutMillis}.
     *
     * @param timeout the time limit
     * @return these options
     */
    public Options requestTimeout(Duration timeout) {
      return requestTimeout(timeout.toMillis());
    }

    /**
     * Sets {@link #idleTimeoutMillis}.
     *
     * @param millis the time in milliseconds
     * @return these options
     */
    public Options idleTimeout(long millis) {
      idleTimeoutMillis = millis;
      return this;
    }

    /**
     * Sets {@link #idleTimeoutMillis}.
     *
     * @param timeout the time
     * @return these options
     */
    public Options idleTimeout(Duration timeout) {
      return idleTimeout(timeout.toMillis());
    }

    /**
     * Sets {@link #maxConnectionsPerHost}.
     *
     * @param n the limit, at least 1
     * @return these options
     */
    public Options maxConnectionsPerHost(int n) {
      maxConnectionsPerHost = n;
      return this;
    }

    /**
     * Sets {@link #maxWaitersPerHost}.
     *
     * @param n the limit
     * @return these options
     */
    public Options maxWaitersPerHost(int n) {
      maxWaitersPerHost = n;
      return this;
    }

    /**
     * Sets {@link #maxRedirects}.
     *
     * @param n the limit
     * @return these options
     */
    public Options maxRedirects(int n) {
      maxRedirects = n;
      return this;
    }

    /**
     * Sets {@link #maxBody}.
     *
     * @param bytes the largest body read into memory
     * @return these options
     */
    public Options maxBody(long bytes) {
      maxBody = bytes;
      return this;
    }

    /**
     * Sets {@link #streamCapacity}.
     *
     * @param chunks how many byte arrays a streamed body buffers
     * @return these options
     */
    public Options streamCapacity(int chunks) {
      streamCapacity = chunks;
      return this;
    }

    /**
     * Sets {@link #limits}.
     *
     * @param l the limits on response heads
     * @return these options
     */
    public Options limits(HttpLimits l) {
      limits = l;
      return this;
    }

    /**
     * Sets {@link #userAgent}.
     *
     * @param ua the User-Agent value
     * @return these options
     */
    public Options userAgent(String ua) {
      userAgent = Headers.checkValue(ua);
      return this;
    }
  }

  private static final Logger log = LoggerFactory.getLogger(HttpClient.class);

  final Options options;
  private final ConcurrentHashMap<String, ClientPool> pools = new ConcurrentHashMap<>();
  private volatile TlsConfig tls;
  volatile boolean closed;

  /** A client with default {@link Options}. */
  public HttpClient() {
    this(new Options());
  }

  /**
   * A client with {@code options}.
   *
   * @param options the settings (not copied: don't change them afterwards)
   */
  public HttpClient(Options options) {
    if (options.maxConnectionsPerHost < 1) {
      throw new IllegalArgumentException("maxConnectionsPerHost must be >= 1");
    }
    this.options = options;
    this.tls = options.tls;
    if (tls != null && tls.insecure()) {
      log.warn("this HTTP client does not verify TLS certificates: any server can pose as any host");
    }
  }

  /** The TLS settings for https, the JDK-trusting default made on first use. */
  private TlsConfig tls() {
    TlsConfig t = tls;
    if (t == null) {
      synchronized (this) {
        t = tls;
        if (t == null) {
          try {
            tls = t = TlsConfig.client().alpn("http/1.1");
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }
    }
    return t;
  }

  /**
   * Sends {@code req}; safe from any thread.
   *
   * @param req the request
   * @return a fut of the {@link ClientResponse}, or failed with a {@link HttpClientException}
   *     (or an {@link IllegalArgumentException} for a bad request)
   */
  public Fut<ClientResponse> request(ClientRequest req) {
    if (closed) {
      return Fut.failed(new HttpClientException(HttpClientException.Kind.CLOSED, req.url,
          "client closed", null));
    }
    Call call;
    try {
      call = new Call(this, req);
    } catch (IllegalArgumentException e) {
      return Fut.failed(e);
    }
    ClientPool pool = poolFor(call.secure, call.host, call.port);
    call.pool = pool;
    long timeout = req.timeoutMillis > 0 ? req.timeoutMillis : options.requestTimeoutMillis;
    call.timer = pool.reactor.schedule(timeout, TimeUnit.MILLISECONDS, () -> call.timedOut(timeout));
    pool.reactor.dispatch(() -> pool.acquire(call));
    return call.result;
  }

  /**
   * A GET of {@code url}.
   *
   * @param url absolute, {@code http://host[:port]/path[?query]}
   * @return a fut of the response, as {@link #request}
   */
  public Fut<ClientResponse> get(String url) {
    return request(new ClientRequest(url));
  }

  ClientPool poolFor(boolean secure, String host, int port) {
    return pools.compute((secure ? "https://" : "http://") + host + ":" + port, (k, old) -> {
      if (old != null && !old.reactor.isStopping()) return old;
      Reactor r = options.group != null ? options.group.next() : Reactor.currentOrShared();
      return new ClientPool(this, host, port, r, secure ? tls() : null);
    });
  }

  /**
   * Closes every connection; requests in flight or waiting fail with kind {@code CLOSED}, later
   * ones at once.
   */
  @Override
  public void close() {
    closed = true;
    for (ClientPool p : pools.values()) {
      p.reactor.dispatch(p::close);
    }
  }

  // ------------------------------------------------------------------ one request

  /** One call of {@link #request}, across its redirects; touched on its pool's reactor. */
  static final class Call {
    final HttpClient client;
    final ClientRequest req;
    final Fut result = new Fut();
    final int maxRedirects;
    Timer timer;
    volatile ClientPool pool;
    ClientConnection conn;
    String method;
    URI uri;
    String host; // for connecting: no IPv6 brackets
    int port;
    boolean secure;
    byte[] body;
    boolean form;
    boolean dropUserHost;
    int redirects;
    boolean retried;

    Call(HttpClient client, ClientRequest req) {
      this.client = client;
      this.req = req;
      this.maxRedirects = req.maxRedirects >= 0 ? req.maxRedirects : client.options.maxRedirects;
      method = req.method;
      body = req.body;
      String extraQuery = null;
      if (req.params != null && !req.params.isEmpty()) {
        String encoded = encodeParams(req.params);
        if (method.equals("POST") && body == null) {
          body = encoded.getBytes(StandardCharsets.US_ASCII);
          form = true;
        } else {
          extraQuery = encoded;
        }
      }
      URI u;
      try {
        u = new URI(req.url);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("bad URL: " + req.url, e);
      }
      if (extraQuery != null) {
        String q = u.getRawQuery();
        String s = req.url;
        int hash = s.indexOf('#');
        if (hash >= 0) s = s.substring(0, hash);
        u = URI.create(s + (q == null ? "?" : q.isEmpty() ? "" : "&") + extraQuery);
      }
      target(u);
    }

    private void target(URI u) {
      if (!isHttp(u)) {
        throw new IllegalArgumentException("only http:// and https:// URLs are supported: " + u);
      }
      String h = u.getHost();
      if (h == null || h.isEmpty()) throw new IllegalArgumentException("URL without host: " + u);
      uri = u;
      host = h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
      secure = u.getScheme().equalsIgnoreCase("https");
      port = u.getPort() < 0 ? (secure ? 443 : 80) : u.getPort();
    }

    String url() {
      return uri.toString();
    }

    boolean idempotent() {
      switch (method) {
        case "GET": case "HEAD": case "PUT": case "DELETE": case "OPTIONS": case "TRACE":
          return true;
        default:
          return false;
      }
    }

    boolean isHead() {
      return method.equals("HEAD");
    }

    /** The redirect target for this response, or null when it is not to be followed. */
    URI redirectTarget(int status, String location) {
      if (!req.followRedirects || location == null || redirects >= maxRedirects) return null;
      if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
        return null;
      }
      try {
        URI next = uri.resolve(new URI(location.trim()));
        if (!isHttp(next) || next.getHost() == null) {
          return null;
        }
        return next;
      } catch (URISyntaxException | IllegalArgumentException e) {
        return null;
      }
    }

    private static boolean isHttp(URI u) {
      String s = u.getScheme();
      return s != null && (s.equalsIgnoreCase("http") || s.equalsIgnoreCase("https"));
    }

    /** Moves to the next hop; runs on the old pool's reactor. */
    void redirect(int status, URI next) {
      redirects++;
      String oldAuthority = (secure ? "https://" : "http://") + host + ":" + port;
      if (status == 303 && !isHead() || (status == 301 || status == 302) && method.equals("POST")) {
        method = "GET";
        body = null;
        form = false;
      }
      target(next);
      if (!((secure ? "https://" : "http://") + host + ":" + port).equals(oldAuthority)) {
        dropUserHost = true;
      }
      retried = false;
      ClientPool p = client.poolFor(secure, host, port);
      pool = p;
      p.reactor.dispatch(() -> p.acquire(this));
    }

    void timedOut(long millis) {
      ClientPool p = pool;
      HttpClientException e = new HttpClientException(HttpClientException.Kind.TIMEOUT, url(),
          "request timed out after " + millis + " ms", null);
      p.reactor.dispatch(() -> p.abort(this, e));
    }

    void fail(Throwable e) {
      timer.cancel();
      result.fail(e);
    }

    HttpClientException error(HttpClientException.Kind kind, String message, Throwable cause) {
      return new HttpClientException(kind, url(), message, cause);
    }

    /** The request head and body, ready for a gathering write. */
    ByteBuffer[] encode() {
      String ua = client.options.userAgent;
      boolean hasHost = false, hasUa = false, hasLength = false, hasType = false;
      StringBuilder sb = new StringBuilder(256);
      sb.append(method).append(' ');
      String path = uri.getRawPath();
      sb.append(path == null || path.isEmpty() ? "/" : path);
      if (uri.getRawQuery() != null) sb.append('?').append(uri.getRawQuery());
      sb.append(" HTTP/1.1\r\n");
      java.util.List<String> hs = req.headers;
      for (int i = 0; i < hs.size(); i += 2) {
        String name = hs.get(i);
        String lower = name.toLowerCase(Locale.ROOT);
        switch (lower) {
          case "host":
            if (dropUserHost) continue;
            hasHost = true;
            break;
          case "authorization":
          case "cookie":
            if (dropUserHost) continue;
            break;
          case "user-agent":
            hasUa = true;
            break;
          case "content-length":
            if (body == null) continue;
            hasLength = true;
            break;
          case "content-type":
            if (body == null) continue;
            hasType = true;
            break;
          default:
            break;
        }
        sb.append(name).append(": ").append(hs.get(i + 1)).append("\r\n");
      }
      if (!hasHost) {
        sb.append("Host: ").append(uri.getHost());
        if (port != (secure ? 443 : 80)) sb.append(':').append(port);
        sb.append("\r\n");
      }
      if (!hasUa && ua != null) sb.append("User-Agent: ").append(ua).append("\r\n");
      if (!hasLength) {
        if (body != null) {
          sb.append("Content-Length: ").append(body.length).append("\r\n");
        } else if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
          sb.append("Content-Length: 0\r\n");
        }
      }
      if (form && !hasType) sb.append("Content-Type: application/x-www-form-urlencoded\r\n");
      sb.append("\r\n");
      ByteBuffer head = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body == null || body.length == 0) return new ByteBuffer[] {head};
      return new ByteBuffer[] {head, ByteBuffer.wrap(body)};
    }
  }

  /**
   * {@code application/x-www-form-urlencoded} text of {@code params} (see {@link ClientRequest#params}).
   *
   * @param params the parameters: names and values as strings, keywords or other objects; a collection or array value repeats its name
   * @return the encoded text, without a leading {@code ?}
   */
  public static String encodeParams(Map<?, ?> params) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<?, ?> e : params.entrySet()) {
      String k = text(e.getKey());
      Object v = e.getValue();
      if (v instanceof Collection) {
        for (Object x : (Collection<?>) v) pair(sb, k, x);
      } else if (v instanceof Object[]) {
        for (Object x : (Object[]) v) pair(sb, k, x);
      } else {
        pair(sb, k, v);
      }
    }
    return sb.toString();
  }

  private static void pair(StringBuilder sb, String k, Object v) {
    if (sb.length() > 0) sb.append('&');
    sb.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=')
        .append(URLEncoder.encode(text(v), StandardCharsets.UTF_8));
  }

  private static String text(Object o) {
    if (o == null) return "";
    if (o instanceof Named) return ((Named) o).getName();
    return o.toString();
  }
}
