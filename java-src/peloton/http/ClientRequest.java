package peloton.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@link HttpClient#request} sends: a method, an {@code http://} URL, headers, query or form
 * parameters, a body, and per-request settings. Setters chain:
 *
 * <pre>{@code
 * new ClientRequest("http://127.0.0.1:8080/search").params(Map.of("q", "bikes")).timeout(5000)
 * }</pre>
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

  /** A GET of {@code url} (absolute, {@code http://host[:port]/path[?query]}). */
  public ClientRequest(String url) {
    if (url == null) throw new IllegalArgumentException("url is null");
    this.url = url;
  }

  /** Sets the method (any case; default GET). */
  public ClientRequest method(String m) {
    if (m == null || m.isEmpty()) throw new IllegalArgumentException("empty method");
    for (int i = 0; i < m.length(); i++) {
      if (!Headers.isToken(m.charAt(i))) throw new IllegalArgumentException("bad method: " + m);
    }
    method = m.toUpperCase(java.util.Locale.ROOT);
    return this;
  }

  /**
   * Adds a header (checked: no CR, LF or NUL). A {@code Host}, {@code User-Agent}, {@code
   * Content-Length} or {@code Content-Type} given here replaces the client's own.
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
   */
  public ClientRequest params(Map<?, ?> p) {
    params = p;
    return this;
  }

  /** Sets the body bytes (sent with a Content-Length). */
  public ClientRequest body(byte[] b) {
    body = b;
    return this;
  }

  /** Sets the body to {@code s} in UTF-8. */
  public ClientRequest body(String s) {
    body = s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    return this;
  }

  /**
   * Sets the time the whole exchange may take, redirects and a streamed body included, in ms;
   * 0 (default) means the client's {@link HttpClient.Options#requestTimeoutMillis}.
   */
  public ClientRequest timeout(long millis) {
    timeoutMillis = millis;
    return this;
  }

  /** Follows 301, 302, 303, 307 and 308 redirects when true (default false). */
  public ClientRequest followRedirects(boolean follow) {
    followRedirects = follow;
    return this;
  }

  /** The most redirects followed; -1 (default) means the client's {@link HttpClient.Options#maxRedirects}. */
  public ClientRequest maxRedirects(int n) {
    maxRedirects = n;
    return this;
  }

  /**
   * When true, the response is answered as soon as its head arrives and its body comes as a
   * {@link peloton.fut.Stream} of byte arrays ({@link ClientResponse#bodyStream()}); the body
   * size limit does not apply. Reading pauses while the stream's buffer is full.
   */
  public ClientRequest stream(boolean s) {
    stream = s;
    return this;
  }

  /** The method, upper-case. */
  public String method() {
    return method;
  }

  /** The URL as given. */
  public String url() {
    return url;
  }

  @Override
  public String toString() {
    return method + " " + url;
  }
}
