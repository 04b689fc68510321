package peloton.transport;

import java.io.IOException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;

/**
 * A TLS connection failed; {@link #reason()} says why in words a user can act on. The original
 * {@code SSLException} is the cause.
 */
public final class TlsException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why a TLS connection failed. */
  public enum Reason {
    /** The peer's certificate chain does not lead to a trusted CA. */
    UNTRUSTED("untrusted certificate"),
    /** The peer's certificate (or one in its chain) has expired or is not yet valid. */
    EXPIRED("certificate expired"),
    /** The certificate is valid but for another host name. */
    HOSTNAME_MISMATCH("hostname mismatch"),
    /** The two sides share no protocol version (Peloton speaks TLS 1.2 and 1.3 only). */
    PROTOCOL_VERSION("protocol version"),
    /** The handshake did not finish within its time. */
    TIMEOUT("handshake timeout"),
    /** The peer asked for a TLS 1.2 renegotiation, which Peloton refuses. */
    RENEGOTIATION("renegotiation refused"),
    /** The peer closed the connection during the handshake. */
    CLOSED("closed during handshake"),
    /** Any other handshake failure (no common cipher, bad record, alert from the peer...). */
    HANDSHAKE_FAILURE("handshake failure");

    private final String words;

    Reason(String words) {
      this.words = words;
    }

    /**
     * The reason in words, for messages and Clojure's ex-data.
     *
     * @return e.g. {@code "hostname mismatch"}
     */
    public String words() {
      return words;
    }
  }

  /** Why the connection failed. */
  private final Reason reason;

  /**
   * A failure for {@code reason}, described by {@code message}, caused by {@code cause}.
   *
   * @param reason why the connection failed
   * @param message what happened, after the reason in {@link #getMessage()}
   * @param cause the engine's {@code SSLException}, or null
   */
  public TlsException(Reason reason, String message, Throwable cause) {
    super("TLS " + reason.words() + ": " + message, cause);
    this.reason = reason;
  }

  /**
   * Why the connection failed.
   *
   * @return the reason, never null
   */
  public Reason reason() {
    return reason;
  }

  /**
   * {@code e} as a TlsException with its reason found in its cause chain.
   *
   * @param e an error of a TLS connection (usually an {@code SSLException})
   * @return {@code e} itself when it is a TlsException, else a new one with {@code e} as its cause
   */
  public static TlsException of(Throwable e) {
    if (e instanceof TlsException) {
      return (TlsException) e;
    }
    return new TlsException(classify(e), String.valueOf(e.getMessage()), e);
  }

  /**
   * Why {@code e} (an SSLException from an engine, usually) happened.
   *
   * @param e the error, whose cause chain is searched
   * @return the reason; {@link Reason#HANDSHAKE_FAILURE} when nothing more precise is found
   */
  public static Reason classify(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
        return Reason.EXPIRED;
      }
      if (t instanceof CertPathValidatorException
          && ((CertPathValidatorException) t).getReason()
              == CertPathValidatorException.BasicReason.EXPIRED) {
        return Reason.EXPIRED;
      }
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (m.contains("no subject alternative") || m.contains("no name matching")) {
        return Reason.HOSTNAME_MISMATCH;
      }
      if (m.contains("pkix path") || m.contains("unable to find valid certification path")
          || m.contains("certpath") || m.contains("unknown_ca")) {
        return Reason.UNTRUSTED;
      }
      if (m.contains("certificate_expired")) {
        return Reason.EXPIRED;
      }
      if (m.contains("protocol_version") || m.contains("no appropriate protocol")
          || m.contains("unsupported protocol")
          || m.contains("not enabled or supported") || m.contains("not supported by the server")) {
        return Reason.PROTOCOL_VERSION;
      }
    }
    return Reason.HANDSHAKE_FAILURE;
  }
}
