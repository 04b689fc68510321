package peloton.websocket;

import clojure.lang.IExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import peloton.transport.TlsException;

/**
 * Why a WebSocket handshake failed; {@link #kind()} says which way, as the HTTP client's
 * exceptions do. It is also a Clojure {@code ex-info}: {@code (ex-data e)} answers {@code {:kind
 * :handshake, :url "ws://...", :status 403}}, or for a TLS failure {@code {:kind :tls, :url
 * "wss://...", :reason "untrusted certificate"}}.
 */
public final class WebSocketException extends RuntimeException implements IExceptionInfo {
  private static final long serialVersionUID = 1L;

  /** The ways a handshake fails. */
  public enum Kind {
    /** The connection could not be made (refused, unreachable, unknown host). */
    REFUSED("refused"),
    /** The connection broke or closed during the handshake. */
    RESET("reset"),
    /** The handshake took longer than its timeout. */
    TIMEOUT("timeout"),
    /**
     * The TLS handshake of a {@code wss://} connection failed: an untrusted, expired or
     * wrong-host certificate, no protocol in common... ({@link WebSocketException#tlsReason()}).
     */
    TLS("tls"),
    /** The answer was not HTTP, or broke the WebSocket handshake rules. */
    MALFORMED("malformed"),
    /** The server (or, server side, this end) refused the handshake with an HTTP status. */
    HANDSHAKE("handshake");

    private final Keyword keyword;

    Kind(String name) {
      keyword = Keyword.intern(name);
    }

    /** The Clojure keyword for this kind, such as {@code :refused}. */
    public Keyword keyword() {
      return keyword;
    }
  }

  private static final Keyword KIND = Keyword.intern("kind");
  private static final Keyword URL = Keyword.intern("url");
  private static final Keyword STATUS = Keyword.intern("status");
  private static final Keyword REASON = Keyword.intern("reason");

  private final Kind kind;
  private final String url;
  private final int status;
  private final TlsException.Reason tlsReason;

  /**
   * @param kind which way the handshake failed
   * @param url the URL (or request target) of the handshake
   * @param status the HTTP status of a refusal, else 0
   * @param message what happened
   */
  public WebSocketException(Kind kind, String url, int status, String message) {
    this(kind, url, status, message, null);
  }

  /** As {@link #WebSocketException(Kind, String, int, String)}, with the underlying cause. */
  public WebSocketException(Kind kind, String url, int status, String message, Throwable cause) {
    super(message + " (" + url + ")", cause);
    this.kind = kind;
    this.url = url;
    this.status = status;
    this.tlsReason = cause instanceof TlsException ? ((TlsException) cause).reason() : null;
  }

  /** Why TLS failed, for kind {@link Kind#TLS} (when the cause is a TlsException); else null. */
  public TlsException.Reason tlsReason() {
    return tlsReason;
  }

  /** Which way the handshake failed. */
  public Kind kind() {
    return kind;
  }

  /** The URL of the handshake. */
  public String url() {
    return url;
  }

  /** The HTTP status of a refusal, or 0. */
  public int status() {
    return status;
  }

  /**
   * {@code {:kind :handshake, :url "...", :status 403}}: {@code :status} only for refusals, and
   * {@code :reason} (in words) for TLS failures.
   */
  @Override
  public IPersistentMap getData() {
    if (tlsReason != null) {
      return PersistentArrayMap.createAsIfByAssoc(
          new Object[] {KIND, kind.keyword(), URL, url, REASON, tlsReason.words()});
    }
    return status == 0
        ? PersistentArrayMap.createAsIfByAssoc(new Object[] {KIND, kind.keyword(), URL, url})
        : PersistentArrayMap.createAsIfByAssoc(
            new Object[] {KIND, kind.keyword(), URL, url, STATUS, status});
  }
}
