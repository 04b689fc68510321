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

  /** Sends a text message. */
  Fut<Boolean> sendText(CharSequence text);

  /** Sends a binary message of the remaining bytes of {@code data}. */
  Fut<Boolean> sendBinary(ByteBuffer data);

  /** Sends a binary message. */
  Fut<Boolean> sendBinary(byte[] data);

  /** Sends a ping with up to 125 bytes of {@code data}. */
  Fut<Boolean> ping(ByteBuffer data);

  /** Sends an unsolicited pong (or the answer to a ping) with up to 125 bytes of {@code data}. */
  Fut<Boolean> pong(ByteBuffer data);

  /**
   * Starts the close handshake with {@code code} (1000, 1001, 1002, 1003, 1007-1011 or 3000-4999)
   * and a reason of up to 123 UTF-8 bytes. Answers {@link #closed()}: the TCP connection is closed
   * once the peer answers, or after the options' close timeout.
   */
  Fut<Integer> close(int code, String reason);

  /** {@code close(1000, "")}. */
  Fut<Integer> close();

  /** Closes the TCP connection at once, without a close handshake. */
  void abort();

  /** True until a close frame was sent or received, or the connection broke. */
  boolean isOpen();

  /**
   * A fut of the close code ({@link #ABNORMAL} when the connection ended without a close frame),
   * completed once the TCP connection is closed.
   */
  Fut<Integer> closed();

  /** The subprotocol agreed in the handshake, or null. */
  String subprotocol();

  /** The extensions agreed in the handshake ({@code Sec-WebSocket-Extensions}), or null. */
  String extensions();

  /** The peer's address, or null once closed. */
  InetSocketAddress remoteAddress();

  /** The local address, or null once closed. */
  InetSocketAddress localAddress();

  /** The reactor that owns this connection. */
  Reactor reactor();

  /** The object last given to {@link #attach}, or null: per-connection state of the application. */
  Object attachment();

  /** Keeps {@code o} with this connection (see {@link #attachment()}). */
  void attach(Object o);

  /**
   * What a WebSocket tells its application; the methods run on the connection's reactor, one at a
   * time. A {@code Fut} answered by {@link #onText} or {@link #onBinary} that is not yet complete
   * stops the connection's reads until it completes: the way a slow consumer holds back a fast
   * peer. {@link #onClose} is called once, after {@link #onOpen}, when the TCP connection closed.
   */
  interface Listener {
    /** The connection is open; sends are allowed from here on. */
    default void onOpen(WebSocket ws) {}

    /** A whole text message; answers null or a fut that holds back reads until complete. */
    default Fut<?> onText(WebSocket ws, String text) {
      return null;
    }

    /** A whole binary message; answers null or a fut that holds back reads until complete. */
    default Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
      return null;
    }

    /** A ping; the default answers it with a pong of the same data. */
    default void onPing(WebSocket ws, ByteBuffer data) {
      ws.pong(data);
    }

    /** A pong. */
    default void onPong(WebSocket ws, ByteBuffer data) {}

    /** A failure: the peer broke the protocol, or a listener method threw. */
    default void onError(WebSocket ws, Throwable error) {}

    /** The connection is closed: {@code code} is the peer's close code, or ours when we failed it. */
    default void onClose(WebSocket ws, int code, String reason) {}
  }
}
