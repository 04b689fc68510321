package peloton.websocket;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

/**
 * One open WebSocket connection (RFC 6455), server or client side. Every method may be called from
 * any thread; the work is done on the connection's reactor in call order.
 *
 * <p>Each send answers a fut that completes (with {@code true}) once the frame has been written to
 * the socket, so a producer that waits on it never fills memory, and fails when the connection
 * closed first. A byte array or buffer given to a send must not change until its fut completes.
 */
public interface WebSocket {
  /** Normal closure. */
  int NORMAL = 1000;
  /** The endpoint is going away (server shutdown, idle timeout, page left). */
  int GOING_AWAY = 1001;
  /** A protocol error. */
  int PROTOCOL_ERROR = 1002;
  /** A data type the endpoint cannot take. */
  int UNSUPPORTED_DATA = 1003;
  /** No status code was in the close frame (never sent on the wire). */
  int NO_STATUS = 1005;
  /** The connection ended without a close frame (never sent on the wire). */
  int ABNORMAL = 1006;
  /** A text message that is not UTF-8. */
  int INVALID_PAYLOAD = 1007;
  /** A policy violation. */
  int POLICY_VIOLATION = 1008;
  /** A message too big to process. */
  int MESSAGE_TOO_BIG = 1009;
  /** The client needed an extension the server did not answer. */
  int MANDATORY_EXTENSION = 1010;
  /** The server met an unexpected condition. */
  int INTERNAL_ERROR = 1011;

  /**
   * Sends a text message, in one frame.
   *
   * @param text the message, sent as UTF-8
   * @return a fut of true once the frame is written to the socket; it fails when the connection closed first
   */
  Fut<Boolean> sendText(CharSequence text);

  /**
   * Sends a binary message of the remaining bytes of {@code data}.
   *
   * @param data the message, from its position to its limit; not to change until the fut completes
   * @return a fut of true once the frame is written to the socket; it fails when the connection closed first
   */
  Fut<Boolean> sendBinary(ByteBuffer data);

  /**
   * Sends a binary message.
   *
   * @param data the message; not to change until the fut completes
   * @return a fut of true once the frame is written to the socket; it fails when the connection closed first
   */
  Fut<Boolean> sendBinary(byte[] data);

  /**
   * Sends a ping with up to 125 bytes of {@code data}.
   *
   * @param data the ping's application data, from its position to its limit, at most 125 bytes
   * @return a fut of true once the frame is written to the socket; it fails when the connection closed first
   */
  Fut<Boolean> ping(ByteBuffer data);

  /**
   * Sends an unsolicited pong (or the answer to a ping) with up to 125 bytes of {@code data}.
   *
   * @param data the pong's application data (a ping's data, to answer it), at most 125 bytes
   * @return a fut of true once the frame is written to the socket; it fails when the connection closed first
   */
  Fut<Boolean> pong(ByteBuffer data);

  /**
   * Starts the close handshake with {@code code} (1000, 1001, 1002, 1003, 1007-1011 or 3000-4999)
   * and a reason of up to 123 UTF-8 bytes. Answers {@link #closed()}: the TCP connection is closed
   * once the peer answers, or after the options' close timeout.
   *
   * @param code the close code to send
   * @param reason why, in words, for the peer's logs; "" for none
   * @return {@link #closed()}
   */
  Fut<Integer> close(int code, String reason);

  /**
   * {@code close(1000, "")}: a normal closure.
   *
   * @return {@link #closed()}
   */
  Fut<Integer> close();

  /** Closes the TCP connection at once, without a close handshake. */
  void abort();

  /**
   * Whether messages can still be sent.
   *
   * @return true until a close frame was sent or received, or the connection broke
   */
  boolean isOpen();

  /**
   * A fut of the close code ({@link #ABNORMAL} when the connection ended without a close frame),
   * completed once the TCP connection is closed.
   *
   * @return the fut of the close code; the same fut on every call
   */
  Fut<Integer> closed();

  /**
   * The subprotocol agreed in the handshake ({@code Sec-WebSocket-Protocol}).
   *
   * @return the subprotocol, or null when none was agreed
   */
  String subprotocol();

  /**
   * The extensions agreed in the handshake ({@code Sec-WebSocket-Extensions}).
   *
   * @return the header's value, such as {@code "permessage-deflate"}, or null for none
   */
  String extensions();

  /**
   * The peer's address.
   *
   * @return the address, or null once closed
   */
  InetSocketAddress remoteAddress();

  /**
   * The local address.
   *
   * @return the address, or null once closed
   */
  InetSocketAddress localAddress();

  /**
   * The reactor that owns this connection: listener methods run on its thread.
   *
   * @return the reactor
   */
  Reactor reactor();

  /**
   * The object last given to {@link #attach}: per-connection state of the application.
   *
   * @return the attachment, or null
   */
  Object attachment();

  /**
   * Keeps {@code o} with this connection (see {@link #attachment()}).
   *
   * @param o the application's state for this connection, or null to drop it
   */
  void attach(Object o);

  /**
   * What a WebSocket tells its application; the methods run on the connection's reactor, one at a
   * time. A {@code Fut} answered by {@link #onText} or {@link #onBinary} that is not yet complete
   * stops the connection's reads until it completes: the way a slow consumer holds back a fast
   * peer. {@link #onClose} is called once, after {@link #onOpen}, when the TCP connection closed.
   */
  interface Listener {
    /**
     * The connection is open; sends are allowed from here on.
     *
     * @param ws the connection
     */
    default void onOpen(WebSocket ws) {}

    /**
     * A whole text message.
     *
     * @param ws the connection
     * @param text the message
     * @return null, or a fut that holds back reads until complete
     */
    default Fut<?> onText(WebSocket ws, String text) {
      return null;
    }

    /**
     * A whole binary message.
     *
     * @param ws the connection
     * @param data the message, from its position to its limit; valid during the call only
     *     unless the returned fut is not complete (then until it is)
     * @return null, or a fut that holds back reads until complete
     */
    default Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
      return null;
    }

    /**
     * A ping; the default answers it with a pong of the same data.
     *
     * @param ws the connection
     * @param data the ping's application data (at most 125 bytes)
     */
    default void onPing(WebSocket ws, ByteBuffer data) {
      ws.pong(data);
    }

    /**
     * A pong (the answer to a ping, or an unsolicited heartbeat).
     *
     * @param ws the connection
     * @param data the pong's application data (at most 125 bytes)
     */
    default void onPong(WebSocket ws, ByteBuffer data) {}

    /**
     * A failure: the peer broke the protocol, or a listener method threw.
     *
     * @param ws the connection, which is being closed
     * @param error what went wrong
     */
    default void onError(WebSocket ws, Throwable error) {}

    /**
     * The connection is closed: {@code code} is the peer's close code, or ours when we failed it.
     *
     * @param ws the connection
     * @param code the close code ({@link #ABNORMAL} when no close frame came)
     * @param reason the close frame's reason, or ""
     */
    default void onClose(WebSocket ws, int code, String reason) {}
  }
}
