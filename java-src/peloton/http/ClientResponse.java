package peloton.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import peloton.fut.Stream;

/**
 * A response received by {@link HttpClient}: status, reason, headers (names lower-case, in the
 * order received, repeats kept) and the body, as bytes or, when the request asked to stream, as
 * a {@link Stream} of byte arrays.
 */
public final class ClientResponse {
  private final int status;
  private final String reason;
  private final String[] names;
  private final String[] values;
  private final byte[] body;
  private final Stream bodyStream;
  private final String url;

  ClientResponse(int status, String reason, String[] names, String[] values, byte[] body,
      Stream bodyStream, String url) {
    this.status = status;
    this.reason = reason;
    this.names = names;
    this.values = values;
    this.body = body;
    this.bodyStream = bodyStream;
    this.url = url;
  }

  /** The status code. */
  public int status() {
    return status;
  }

  /** The reason phrase (may be empty). */
  public String reason() {
    return reason;
  }

  /** The URL that answered (the last one when redirects were followed). */
  public String url() {
    return url;
  }

  /** The number of header fields. */
  public int headerCount() {
    return names.length;
  }

  /** The lower-case name of header {@code i}. */
  public String headerName(int i) {
    return names[i];
  }

  /** The value of header {@code i}. */
  public String headerValue(int i) {
    return values[i];
  }

  /** The first value of header {@code name} (any case), or null. */
  public String header(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) return values[i];
    }
    return null;
  }

  /** Every value of header {@code name} (any case), in order. */
  public List<String> headers(String name) {
    List<String> out = new ArrayList<>(2);
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) out.add(values[i]);
    }
    return out;
  }

  /** The body bytes (empty when there was none); null when the body is streamed. */
  public byte[] body() {
    return body;
  }

  /** The body as UTF-8 text; null when the body is streamed. */
  public String bodyString() {
    return body == null ? null : new String(body, StandardCharsets.UTF_8);
  }

  /**
   * The body as a stream of byte arrays ending in {@link Stream#EOF}, or failing with a {@link
   * HttpClientException}; null unless the request asked to stream.
   */
  public Stream bodyStream() {
    return bodyStream;
  }

  @Override
  public String toString() {
    return "ClientResponse[" + status + " " + reason + ", " + url + "]";
  }
}
