package peloton.http.client;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import peloton.http.Headers;

/**
 * What {@link HttpClient#request} sends: a method, an {@code http://} URL, headers, query or form
 * parameters, a body, and per-request settings. Build one the way the JDK's {@code
 * java.net.http.HttpRequest} is built:
 *
 * <pre>{@code
 * ClientRequest get = ClientRequest.newBuilder("http://127.0.0.1:8080/search")
 *     .param("q", "bikes")
 *     .header("Accept", "application/json")
 *     .timeout(Duration.ofSeconds(5))
 *     .build();
 * ClientRequest post = ClientRequest.newBuilder(URI.create("http://127.0.0.1:8080/posts"))
 *     .header("Content-Type", "application/json")
 *     .POST("{\"title\":\"Hello\"}")
 *     .build();
 * }</pre>
 *
 * <p>The constructor and the chaining setters ({@code new ClientRequest(url).method("PUT")...})
 * do the same on a mutable request; a built request is not changed by its builder afterwards.
 */
public final class ClientRequest {
  String method = "GET";
  final String url;
  final List<String> headers = new ArrayList<>(8); // name, value, name, value...
  Map<?, ?> params;
  byte[] body;
  long timeoutMillis;
  boolean followRedirects;
  int maxRedirects = -1;
  boolean stream;

  /**
   * A GET of {@code url}.
   *
   * @param url absolute, {@code http://host[:port]/path[?query]}
   */
  public ClientRequest(String url) {
    if (url == null) throw new IllegalArgumentException("url is null");
    this.url = url;
  }

  /**
   * A builder of a request for {@code url}.
   *
   * @param url absolute, {@code http://host[:port]/path[?query]}
   * @return a builder of a GET, until told otherwise
   */
  public static Builder newBuilder(String url) {
    return new Builder(url);
  }

  /**
   * A builder of a request for {@code uri}.
   *
   * @param uri an absolute {@code http} URI
   * @return a builder of a GET, until told otherwise
   */
  public static Builder newBuilder(URI uri) {
    if (uri == null) throw new IllegalArgumentException("uri is null");
    return new Builder(uri.toString());
  }

  /**
   * Sets the method.
   *
   * @param m a method name, any case (default GET)
   * @return this request
   */
  public ClientRequest method(String m) {
    method = checkMethod(m);
    return this;
  }

  private static String checkMethod(String m) {
    if (m == null || m.isEmpty()) throw new IllegalArgumentException("empty method");
    for (int i = 0; i < m.length(); i++) {
      if (!Headers.isToken(m.charAt(i))) throw new IllegalArgumentException("bad method: " + m);
    }
    return m.toUpperCase(java.util.Locale.ROOT);
  }

  /**
   * Adds a header (checked: no CR, LF or NUL). A {@code Host}, {@code User-Agent}, {@code
   * Content-Length} or {@code Content-Type} given here replaces the client's own.
   *
   * @param name the header name
   * @param value the header value
   * @return this request
   */
  public ClientRequest header(String name, String value) {
    headers.add(Headers.checkName(name));
    headers.add(Headers.checkValue(value));
    return this;
  }

  /**
   * Sets parameters: URL-encoded into the query, or for a POST without a body, sent as an {@code
   * application/x-www-form-urlencoded} body. Keys and values may be strings, keywords or other
   * objects (their {@code toString}); a collection or array value repeats its key, a null value
   * gives an empty one. Kept in the map's order.
   *
   * @param p the parameters
   * @return this request
   */
  public ClientRequest params(Map<?, ?> p) {
    params = p;
    return this;
  }

  /**
   * Sets the body bytes (sent with a Content-Length).
   *
   * @param b the body
   * @return this request
   */
  public ClientRequest body(byte[] b) {
    body = b;
    return this;
  }

  /**
   * Sets the body to {@code s} in UTF-8.
   *
   * @param s the body text
   * @return this request
   */
  public ClientRequest body(String s) {
    body = s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    return this;
  }

  /**
   * Sets the time the whole exchange may take, redirects and a streamed body included, in ms;
   * 0 (default) means the client's {@link HttpClient.Options#requestTimeoutMillis}.
   *
   * @param millis the time limit in milliseconds
   * @return this request
   */
  public ClientRequest timeout(long millis) {
    timeoutMillis = millis;
    return this;
  }

  /**
   * Follows 301, 302, 303, 307 and 308 redirects when true (default false).
   *
   * @param follow whether to follow redirects
   * @return this request
   */
  public ClientRequest followRedirects(boolean follow) {
    followRedirects = follow;
    return this;
  }

  /**
   * The most redirects followed; -1 (default) means the client's {@link
   * HttpClient.Options#maxRedirects}.
   *
   * @param n the limit
   * @return this request
   */
  public ClientRequest maxRedirects(int n) {
    maxRedirects = n;
    return this;
  }

  /**
   * When true, the response is answered as soon as its head arrives and its body comes as a
   * {@link peloton.fut.Stream} of byte arrays ({@link ClientResponse#bodyStream()}); the body
   * size limit does not apply. Reading pauses while the stream's buffer is full.
   *
   * @param s whether to stream the response body
   * @return this request
   */
  public ClientRequest stream(boolean s) {
    stream = s;
    return this;
  }

  /**
   * The method.
   *
   * @return the method, upper-case
   */
  public String method() {
    return method;
  }

  /**
   * The URL.
   *
   * @return the URL as given
   */
  public String url() {
    return url;
  }

  /**
   * The headers set on this request (not the ones the client adds).
   *
   * @return name, value pairs in the order set; a repeated name repeats
   */
  public List<Map.Entry<String, String>> headers() {
    List<Map.Entry<String, String>> out = new ArrayList<>(headers.size() / 2);
    for (int i = 0; i < headers.size(); i += 2) {
      out.add(Map.entry(headers.get(i), headers.get(i + 1)));
    }
    return out;
  }

  /**
   * Builds a {@link ClientRequest}; every method but {@link #build()} answers this builder. A
   * method name in capitals ({@link #GET()}, {@link #POST(String)} ...) sets the method and the
   * body together, as in {@code java.net.http.HttpRequest.Builder}.
   */
  public static final class Builder {
    private final String url;
    private String method = "GET";
    private final List<String> headers = new ArrayList<>(8);
    private Map<String, Object> params;
    private byte[] body;
    private long timeoutMillis;
    private boolean followRedirects;
    private int maxRedirects = -1;
    private boolean stream;

    Builder(String url) {
      if (url == null) throw new IllegalArgumentException("url is null");
      this.url = url;
    }

    /**
     * Adds a header (checked at once: no CR, LF or NUL, a token for a name); a name may repeat.
     *
     * @param name the header name
     * @param value the header value
     * @return this builder
     */
    public Builder header(String name, String value) {
      headers.add(Headers.checkName(name));
      headers.add(Headers.checkValue(value));
      return this;
    }

    /**
     * Adds a parameter: URL-encoded into the query, or, for a POST without a body, sent as an
     * {@code application/x-www-form-urlencoded} body. A repeated name is sent repeated.
     *
     * @param name the parameter name
     * @param value the value
     * @return this builder
     */
    @SuppressWarnings("unchecked")
    public Builder param(String name, String value) {
      if (params == null) {
        params = new java.util.LinkedHashMap<>();
      }
      Object old = params.get(name);
      if (old == null) {
        params.put(name, value);
      } else if (old instanceof List) {
        ((List<String>) old).add(value);
      } else {
        List<String> both = new ArrayList<>(2);
        both.add((String) old);
        both.add(value);
        params.put(name, both);
      }
      return this;
    }

    /**
     * Sets the method to GET, without a body (the default).
     *
     * @return this builder
     */
    public Builder GET() {
      return method("GET", (byte[]) null);
    }

    /**
     * Sets the method to DELETE, without a body.
     *
     * @return this builder
     */
    public Builder DELETE() {
      return method("DELETE", (byte[]) null);
    }

    /**
     * Sets the method to POST with a UTF-8 text body.
     *
     * @param body the body text
     * @return this builder
     */
    public Builder POST(String body) {
      return method("POST", body);
    }

    /**
     * Sets the method to POST with a body.
     *
     * @param body the body bytes
     * @return this builder
     */
    public Builder POST(byte[] body) {
      return method("POST", body);
    }

    /**
     * Sets the method to PUT with a UTF-8 text body.
     *
     * @param body the body text
     * @return this builder
     */
    public Builder PUT(String body) {
      return method("PUT", body);
    }

    /**
     * Sets the method to PUT with a body.
     *
     * @param body the body bytes
     * @return this builder
     */
    public Builder PUT(byte[] body) {
      return method("PUT", body);
    }

    /**
     * Sets any method and a UTF-8 text body.
     *
     * @param name the method, any case
     * @param body the body text, or null for none
     * @return this builder
     */
    public Builder method(String name, String body) {
      return method(name, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sets any method and a body.
     *
     * @param name the method, any case
     * @param body the body bytes, or null for none
     * @return this builder
     */
    public Builder method(String name, byte[] body) {
      method = checkMethod(name);
      this.body = body;
      return this;
    }

    /**
     * Sets the time the whole exchange may take, redirects and a streamed body included; by
     * default the client's {@link HttpClient.Options#requestTimeoutMillis}.
     *
     * @param timeout the time limit, at millisecond precision
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      long ms = timeout.toMillis();
      if (ms <= 0) throw new IllegalArgumentException("timeout must be positive: " + timeout);
      timeoutMillis = ms;
      return this;
    }

    /**
     * Follows 301, 302, 303, 307 and 308 redirects when true (default false).
     *
     * @param follow whether to follow redirects
     * @return this builder
     */
    public Builder followRedirects(boolean follow) {
      followRedirects = follow;
      return this;
    }

    /**
     * Sets the most redirects followed (default: the client's {@link
     * HttpClient.Options#maxRedirects}).
     *
     * @param n the limit
     * @return this builder
     */
    public Builder maxRedirects(int n) {
      maxRedirects = n;
      return this;
    }

    /**
     * Answers the response as soon as its head arrives, with the body as {@link
     * ClientResponse#bodyStream()} (see {@link ClientRequest#stream(boolean)}).
     *
     * @param s whether to stream the response body
     * @return this builder
     */
    public Builder stream(boolean s) {
      stream = s;
      return this;
    }

    /**
     * The request.
     *
     * @return a new request with what was set so far
     */
    public ClientRequest build() {
      ClientRequest r = new ClientRequest(url);
      r.method = method;
      r.headers.addAll(headers);
      r.params = params == null ? null : new java.util.LinkedHashMap<>(params);
      r.body = body;
      r.timeoutMillis = timeoutMillis;
      r.followRedirects = followRedirects;
      r.maxRedirects = maxRedirects;
      r.stream = stream;
      return r;
    }
  }

  @Override
  public String toString() {
    return method + " " + url;
  }
}
