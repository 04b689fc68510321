package peloton.mongo;

import peloton.fut.PelotonException;

/**
 * The connection to a server failed: it could not be opened, timed out, was closed by the server
 * or by the client, or the server sent bytes that break the protocol (then the cause is a {@link
 * MongoProtocolException}). The request may or may not have reached the server. The connection is
 * gone; the next operation opens a new one.
 *
 * <p>It is also a Clojure {@code ex-info} (see {@link PelotonException}): {@code (ex-data e)} is
 * {@code {:type :connection :address "host:port"}}.
 */
public class MongoConnectionException extends PelotonException {
  private static final long serialVersionUID = 1L;

  /** The {@code :type} of the ex-data: {@code :connection}, as the Clojure API has always said. */
  private enum Type { CONNECTION }

  /** The server's "host:port". */
  private final String address;

  /**
   * A failure of the connection to {@code address}.
   *
   * @param address the server's "host:port" (several, comma-separated, when no server of a
   *     replica set could be reached)
   * @param message what went wrong
   */
  public MongoConnectionException(String address, String message) {
    this(address, message, null);
  }

  /**
   * A failure of the connection to {@code address} caused by {@code cause}.
   *
   * @param address the server's "host:port"
   * @param message what went wrong
   * @param cause the underlying error, or null
   */
  public MongoConnectionException(String address, String message, Throwable cause) {
    super(message + " [" + address + "]", cause);
    this.address = address;
  }

  /**
   * The server the connection was to.
   *
   * @return its "host:port"
   */
  public String address() {
    return address;
  }

  /** {@code :type :connection} and {@code :address}. */
  @Override
  protected Object[] exData() {
    return new Object[] {"type", Type.CONNECTION, "address", address};
  }
}
