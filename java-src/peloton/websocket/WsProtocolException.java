package peloton.websocket;

/** A peer broke the protocol: the connection fails with close {@link #code}. */
final class WsProtocolException extends Exception {
  private static final long serialVersionUID = 1L;
  final int code;

  WsProtocolException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }
}
