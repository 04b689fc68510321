package peloton.mongo;

/**
 * The peer sent bytes that break the MongoDB wire protocol (bad lengths, unknown section kind,
 * truncated or malformed BSON, bad checksum) or a malformed/unverifiable SCRAM message. The
 * connection that saw it should be closed: its byte stream can no longer be trusted.
 */
public class MongoProtocolException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An error described by {@code message}.
   *
   * @param message what is wrong with the bytes
   */
  public MongoProtocolException(String message) {
    super(message);
  }

  /**
   * An error described by {@code message}, caused by {@code cause}.
   *
   * @param message what is wrong with the bytes
   * @param cause the underlying error
   */
  public MongoProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
