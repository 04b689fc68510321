package peloton.websocket;

import peloton.fut.PelotonException;
import peloton.transport.TlsException;

/**
 * Why a WebSocket handshake failed; {@link #kind()} says which way, as the HTTP client's
 * exceptions do. It is also a Clojure {@code ex-info} (see {@link PelotonException}): {@code
 * (ex-data e)} answers {@code {:kind :handshake, :url "ws://...", :status 403}}, or for a TLS
 * failure {@code {:kind :tls, :url "wss://...", :reason "untrusted certificate"}}.
 */
public final class WebSocketException extends PelotonException {
  private static final long serialVersionUID = 1L;

  /** The ways a handshake fails; in {@code ex-data}, {@code REFUSED} is {@code :refused} and so on. */
  public enum Kind {
    /** The connection could not be made (refused, unreachable, unknown host). */
    REFUSED,
    /** The connection broke or closed during the handshake. */
    RESET,
    /** The handshake took longer than its timeout. */
    TIMEOUT,
    /**
     * The TLS handshake of a {@code wss://} connection failed: an untrusted, expired or
     * wrong-host certificate, no protocol in common... ({@link WebSocketException#tlsReason()}).
     */
    TLS,
    /** The answer was not HTTP, or broke the WebSocket handshake rules. */
    MALFORMED,
    /** The server (or, server side, this end) refused the handshake with an HTTP status. */
    HANDSHAKE
  }

  /** Which way the handshake failed. */
  private final Kind kind;
  /** The URL (client side) or request target (server side) of the handshake. */
  private final String url;
  /** The HTTP status of a refusal, else 0. */
  private final int status;
  /** Why TLS failed, for kind TLS; else null. */
  private final TlsException.Reason tlsReason;

  /**
   * A failed handshake with no underlying cause.
   *
   * @param kind which way the handshake failed
   * @param url the URL (or request target) of the handshake
   * @param status the HTTP status of a refusal, else 0
   * @param message what happened
   */
  public WebSocketException(Kind kind, String url, int status, String message) {
    this(kind, url, status, message, null);
  }

  /**
   * A failed handshake caused by {@code cause}.
   *
   * @param kind which way the handshake failed
   * @param url the URL (or request target) of the handshake
   * @param status the HTTP status of a refusal, else 0
   * @param message what happened
   * @param cause the underlying error (an {@code IOException}, a {@code TlsException}...), or null
   */
  public WebSocketException(Kind kind, String url, int status, String message, Throwable cause) {
    super(message + " (" + url + ")", cause);
    this.kind = kind;
    this.url = url;
    this.status = status;
    this.tlsReason = cause instanceof TlsException ? ((TlsException) cause).reason() : null;
  }

  /**
   * Why TLS failed.
   *
   * @return the reason, for kind {@link Kind#TLS} (when the cause is a TlsException); else null
   */
  public TlsException.Reason tlsReason() {
    return tlsReason;
  }

  /**
   * Which way the handshake failed.
   *
   * @return the kind, never null
   */
  public Kind kind() {
    return kind;
  }

  /**
   * The URL of the handshake: the {@code ws://} URL on the client side, the
   * request target on the server side.
   *
   * @return the URL
   */
  public String url() {
    return url;
  }

  /**
   * The HTTP status the handshake was refused with (kind {@link Kind#HANDSHAKE}).
   *
   * @return the status, such as 403, or 0 when there was none
   */
  public int status() {
    return status;
  }

  /** {@code :kind}, {@code :url}, {@code :status} for a refusal, {@code :reason} for TLS. */
  @Override
  protected Object[] exData() {
    return new Object[] {"kind", kind, "url", url, "status", status == 0 ? null : status,
        "reason", tlsReason == null ? null : tlsReason.words()};
  }
}
