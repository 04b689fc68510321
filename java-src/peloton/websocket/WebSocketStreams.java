package peloton.websocket;

import java.nio.ByteBuffer;
import peloton.fut.Fut;
import peloton.fut.Stream;

/**
 * A listener that turns a WebSocket into two {@link Stream}s: {@link #in()} gives each message
 * received (a String for text, a {@code byte[]} for binary) and ends when the connection closes;
 * each value put on {@link #out()} is sent (a CharSequence as text, a {@code byte[]} or
 * ByteBuffer as binary) and closing it closes the WebSocket with 1000.
 *
 * <p>Backpressure both ways: when {@code in} is full the connection stops reading until the
 * consumer takes; the next value of {@code out} is taken only once the previous one was written.
 * Stop reading early with {@code in().cancel()}.
 */
public final class WebSocketStreams implements WebSocket.Listener {
  private final Stream<Object> in;
  private final Stream<Object> out;

  /**
   * Streams holding up to {@code capacity} values each before they push back.
   *
   * @param capacity how many messages each stream buffers (at least 1)
   */
  public WebSocketStreams(int capacity) {
    in = new Stream<>(capacity);
    out = new Stream<>(capacity);
  }

  /**
   * Messages received, in order.
   *
   * @return the stream of received messages: a {@code String} per text message, a {@code byte[]} per binary one
   */
  public Stream<Object> in() {
    return in;
  }

  /**
   * Messages to send, in order.
   *
   * @return the stream to put messages on: a {@code CharSequence} goes as text, a {@code ByteBuffer} or {@code byte[]} as binary
   */
  public Stream<Object> out() {
    return out;
  }

  @Override
  public void onOpen(WebSocket ws) {
    ws.attach(this);
    out.consume(v -> {
      if (!ws.isOpen()) {
        out.cancel();
        return null;
      }
      if (v instanceof CharSequence) {
        return ws.sendText((CharSequence) v);
      } else if (v instanceof byte[]) {
        return ws.sendBinary((byte[]) v);
      } else if (v instanceof ByteBuffer) {
        return ws.sendBinary((ByteBuffer) v);
      }
      throw new IllegalArgumentException("a WebSocket sends text (a CharSequence) or binary "
          + "(byte[] or ByteBuffer), not " + (v == null ? "nil" : v.getClass().getName()));
    }).onComplete((v, e) -> {
      if (e != null) {
        ws.close(WebSocket.INTERNAL_ERROR, "");
      } else {
        ws.close(WebSocket.NORMAL, "");
      }
    });
  }

  @Override
  public Fut<Boolean> onText(WebSocket ws, String text) {
    return in.put(text);
  }

  @Override
  public Fut<Boolean> onBinary(WebSocket ws, ByteBuffer data) {
    byte[] b = new byte[data.remaining()];
    data.get(b);
    return in.put(b);
  }

  @Override
  public void onClose(WebSocket ws, int code, String reason) {
    in.close();
    out.cancel();
  }
}
