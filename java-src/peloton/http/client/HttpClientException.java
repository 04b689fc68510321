package peloton.http.client;

import clojure.lang.IExceptionInfo;
import clojure.lang.IPersistentMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import peloton.transport.TlsException;

/**
 * Why a {@link HttpClient} request failed; {@link #kind()} says which way. It is also a Clojure
 * {@code ex-info}: {@code (ex-data e)} answers {@code {:kind :refused, :url "http://..."}} (and {@code
 * :reason} for {@code :tls}).
 */
public final class HttpClientException extends RuntimeException implements IExceptionInfo {
  private static final long serialVersionUID = 1L;

  /** The ways a request fails. */
  public enum Kind {
    /** The connection could not be made (refused, unreachable, unknown host). */
    REFUSED("refused"),
    /** The connection was reset or closed before the response was complete. */
    RESET("reset"),
    /** Connecting, or the whole exchange, took longer than its timeout. */
    TIMEOUT("timeout"),
    /** The server's response broke HTTP/1.1 framing or went over the head limits. */
    MALFORMED("malformed"),
    /** The response body was larger than the client's {@code maxBody}. */
    TOO_LARGE("too-large"),
    /** Every connection to the host was busy and its wait queue was full. */
    POOL_FULL("pool-full"),
    /** The client was closed. */
    CLOSED("closed"),
    /**
     * TLS failed: the certificate is untrusted, expired or for another host, no protocol version
     * in common, or another handshake failure ({@link HttpClientException#tlsReason()} says which).
     */
    TLS("tls");

    private final Keyword keyword;

    Kind(String name) {
      keyword = Keyword.intern(name);
    }

    /**
     * The Clojure keyword for this kind, such as {@code :refused}.
     *
     * @return the Clojure keyword for this kind, such as {@code :refused}
     */
    public Keyword keyword() {
      return keyword;
    }
  }

  private static final Keyword KIND = Keyword.intern("kind");
  private static final Keyword URL = Keyword.intern("url");
  private static final Keyword REASON = Keyword.intern("reason");

  /** Which way the request failed. */
  private final Kind kind;
  /** The URL requested. */
  private final String url;
  private final TlsException.Reason tlsReason;

  /**
   * A failure of a request to {@code url}.
   *
   * @param kind which way the request failed
   * @param url the URL requested (the last one when redirects were followed)
   * @param message what happened
   * @param cause the underlying IO error, or null
   */
  public HttpClientException(Kind kind, String url, String message, Throwable cause) {
    super(message + " (" + url + ")", cause);
    this.kind = kind;
    this.url = url;
    this.tlsReason = cause instanceof TlsException ? ((TlsException) cause).reason() : null;
  }

  /** Why TLS failed, for kind {@link Kind#TLS}; else null. */
  public TlsException.Reason tlsReason() {
    return tlsReason;
  }

  /**
   * Which way the request failed.
   *
   * @return the kind of failure
   */
  public Kind kind() {
    return kind;
  }

  /**
   * The URL requested.
   *
   * @return the URL requested
   */
  public String url() {
    return url;
  }

  /**
   * {@code {:kind :refused, :url "..."}}, for Clojure's {@code ex-data}; a TLS failure adds
   * {@code :reason}, in words ({@code "hostname mismatch"}).
   */
  @Override
  public IPersistentMap getData() {
    if (tlsReason != null) {
      return PersistentArrayMap.createAsIfByAssoc(new Object[] {KIND, kind.keyword(), URL, url,
          REASON, tlsReason.words()});
    }
    return PersistentArrayMap.createAsIfByAssoc(new Object[] {KIND, kind.keyword(), URL, url});
  }
}
