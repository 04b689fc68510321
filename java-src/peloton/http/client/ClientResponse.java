package peloton.http.client;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import peloton.fut.Stream;
import peloton.http.ChunkInputStream;

/**
 * A response received by {@link HttpClient}: status, reason, headers (names lower-case, in the
 * order received, repeats kept) and the body, as bytes, text or an {@link InputStream}, or, when
 * the request asked to stream, as a {@link Stream} of byte arrays.
 *
 * <pre>{@code
 * ClientResponse r = client.request(ClientRequest.newBuilder(url).build()).join();
 * if (r.status() == 200 && r.header("content-type").startsWith("text/")) {
 *   log.info("{}", r.bodyString());
 * }
 * }</pre>
 */
public final class ClientResponse {
  private final int status;
  private final String reason;
  private final String[] names;
  private final String[] values;
  private final byte[] body;
  private final Stream<byte[]> bodyStream;
  private final String url;

  ClientResponse(int status, String reason, String[] names, String[] values, byte[] body,
      Stream<byte[]> bodyStream, String url) {
    this.status = status;
    this.reason = reason;
    this.names = names;
    this.values = values;
    this.body = body;
    this.bodyStream = bodyStream;
    this.url = url;
  }

  /**
   * The status code.
   *
   * @return the status, such as 200
   */
  public int status() {
    return status;
  }

  /**
   * The reason phrase.
   *
   * @return the reason, such as "OK" (may be empty)
   */
  public String reason() {
    return reason;
  }

  /**
   * The URL that answered.
   *
   * @return the URL (the last one when redirects were followed)
   */
  public String url() {
    return url;
  }

  /**
   * The number of header fields.
   *
   * @return how many header lines the response had
   */
  public int headerCount() {
    return names.length;
  }

  /**
   * The name of a header field.
   *
   * @param i the field's index, from 0
   * @return the lower-case name of field {@code i}
   */
  public String headerName(int i) {
    return names[i];
  }

  /**
   * The value of a header field.
   *
   * @param i the field's index, from 0
   * @return the value of field {@code i}
   */
  public String headerValue(int i) {
    return values[i];
  }

  /**
   * The first value of a header.
   *
   * @param name the header name, any case
   * @return the first value, or null when there is none
   */
  public String header(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) return values[i];
    }
    return null;
  }

  /**
   * Every value of a header.
   *
   * @param name the header name, any case
   * @return the values in order (empty when there is none)
   */
  public List<String> headers(String name) {
    List<String> out = new ArrayList<>(2);
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) out.add(values[i]);
    }
    return out;
  }

  /**
   * Every header: names lower-case, in the order first received, each with its values in order.
   *
   * @return an unmodifiable map built for this call
   */
  public Map<String, List<String>> headers() {
    Map<String, List<String>> out = new LinkedHashMap<>(names.length * 2);
    for (int i = 0; i < names.length; i++) {
      out.computeIfAbsent(names[i], k -> new ArrayList<>(1)).add(values[i]);
    }
    for (Map.Entry<String, List<String>> e : out.entrySet()) {
      e.setValue(Collections.unmodifiableList(e.getValue()));
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * The body bytes.
   *
   * @return the body (empty when there was none); null when the body is streamed
   */
  public byte[] body() {
    return body;
  }

  /**
   * The body as text.
   *
   * @return the body decoded as UTF-8; null when the body is streamed
   */
  public String bodyString() {
    return body == null ? null : new String(body, StandardCharsets.UTF_8);
  }

  /**
   * The streamed body: byte arrays as they arrive, then the end ({@link Stream#next()} answers
   * null, {@link Stream#take()} {@link Stream#EOF}), or a failure with a {@link
   * HttpClientException}.
   *
   * @return the body stream; null unless the request asked to stream
   */
  public Stream<byte[]> bodyStream() {
    return bodyStream;
  }

  /**
   * The body as an {@link InputStream}. A streamed body is read as it arrives, blocking: read it
   * off reactor threads (on a reactor thread a read throws {@link IllegalStateException}).
   *
   * @return a new input stream over the body
   */
  public InputStream bodyInputStream() {
    return bodyStream == null
        ? new ByteArrayInputStream(body) : new ChunkInputStream(bodyStream, "the response body");
  }

  @Override
  public String toString() {
    return "ClientResponse[" + status + " " + reason + ", " + url + "]";
  }
}
