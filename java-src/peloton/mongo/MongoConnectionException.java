package peloton.mongo;

import clojure.lang.ExceptionInfo;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;

/**
 * The connection to a server failed: it could not be opened, timed out, was closed by the server
 * or by the client, or the server sent bytes that break the protocol (then the cause is a {@link
 * MongoProtocolException}). The request may or may not have reached the server. The connection is
 * gone; the next operation opens a new one.
 *
 * <p>It is a Clojure {@code ex-info}: {@code (ex-data e)} is {@code {:type :connection :address
 * "host:port"}}.
 */
public class MongoConnectionException extends ExceptionInfo {
  private static final long serialVersionUID = 1L;
  private static final Keyword TYPE = Keyword.intern("type");
  private static final Keyword CONNECTION = Keyword.intern("connection");
  private static final Keyword ADDRESS = Keyword.intern("address");

  private final String address;

  /**
   * A failure of the connection to {@code address}.
   *
   * @param address the server's "host:port"
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
    super(message + " [" + address + "]",
        PersistentArrayMap.createAsIfByAssoc(new Object[] {TYPE, CONNECTION, ADDRESS, address}), cause);
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
}
