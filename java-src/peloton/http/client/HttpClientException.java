package peloton.http.client;

import peloton.fut.PelotonException;
import peloton.transport.TlsException;

/**
 * Why a {@link HttpClient} request failed; {@link #kind()} says which way. It is also a Clojure
 * {@code ex-info} (see {@link PelotonException}): {@code (ex-data e)} answers {@code {:kind
 * :refused, :url "http://..."}} (and {@code :reason} for {@code :tls}).
 */
public final class HttpClientException extends PelotonException {
  private static final long serialVersionUID = 1L;

  /**
   * The ways a request fails; in {@code ex-data}, {@code REFUSED} is {@code :refused}, {@code
   * TOO_LARGE} is {@code :too-large} and so on.
   */
  public enum Kind {
    /** The connection could not be made (refused, unreachable, unknown host). */
    REFUSED,
    /** The connection was reset or closed before the response was complete. */
    RESET,
    /** Connecting, or the whole exchange, took longer than its timeout. */
    TIMEOUT,
    /** The server's response broke HTTP/1.1 framing or went over the head limits. */
    MALFORMED,
    /** The response body was larger than the client's {@code maxBody}. */
    TOO_LARGE,
    /** Every connection to the host was busy and its wait queue was full. */
    POOL_FULL,
    /** The client was closed. */
    CLOSED,
    /**
     * TLS failed: the certificate is untrusted, expired or for another host, no protocol version
     * in common, or another handshake failure ({@link HttpClientException#tlsReason()} says which).
     */
    TLS
  }

  /** Which way the request failed. */
  private final Kind kind;
  /** The URL requested. */
  private final String url;
  /** Why TLS failed, for kind {@link Kind#TLS}; else null. */
  private final TlsException.Reason tlsReason;

  /**
   * A failure of a request to {@code url}.
   *
   * @param kind which way the request failed
   * @param url the URL requested (the last one when redirects were followed)
   * @param message what happened
   * @param cause the underlying IO error (a {@link TlsException} for kind {@link Kind#TLS}), or null
   */
  public HttpClientException(Kind kind, String url, String message, Throwable cause) {
    super(message + " (" + url + ")", cause);
    this.kind = kind;
    this.url = url;
    this.tlsReason = cause instanceof TlsException ? ((TlsException) cause).reason() : null;
  }

  /**
   * Why TLS failed, for kind {@link Kind#TLS}.
   *
   * @return the reason (untrusted, expired, hostname mismatch...), or null for other kinds
   */
  public TlsException.Reason tlsReason() {
    return tlsReason;
  }

  /**
   * Which way the request failed.
   *
   * @return the kind of failure, never null
   */
  public Kind kind() {
    return kind;
  }

  /**
   * The URL requested.
   *
   * @return the URL requested (the last one when redirects were followed)
   */
  public String url() {
    return url;
  }

  /** {@code :kind} and {@code :url}; a TLS failure adds {@code :reason}, in words ({@code "hostname mismatch"}). */
  @Override
  protected Object[] exData() {
    return new Object[] {"kind", kind, "url", url, "reason", tlsReason == null ? null : tlsReason.words()};
  }
}
