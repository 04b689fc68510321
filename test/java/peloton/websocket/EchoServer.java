package peloton.websocket;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import peloton.fut.Fut;
import peloton.http.server.HttpServer;

/**
 * A WebSocket echo server (text back as text, binary as binary) for the Autobahn|Testsuite and the
 * peers' tests: {@code main(port [host])}. Limits are raised to what the suite sends (16 MiB).
 */
public final class EchoServer {
  private EchoServer() {}

  /** The echo listener: each message goes back, and reads wait for it to be written. */
  static final WebSocket.Listener ECHO = new WebSocket.Listener() {
    @Override
    public Fut<?> onText(WebSocket ws, String text) {
      return ws.sendText(text);
    }

    @Override
    public Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
      return ws.sendBinary(data);
    }
  };

  /** The echo listener that also records each close as {@code code:reason:extensions}. */
  static WebSocket.Listener recordingCloses(java.util.Queue<String> closes) {
    return new WebSocket.Listener() {
      @Override
      public Fut<?> onText(WebSocket ws, String text) {
        return ECHO.onText(ws, text);
      }

      @Override
      public Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
        return ECHO.onBinary(ws, data);
      }

      @Override
      public void onClose(WebSocket ws, int code, String reason) {
        closes.add(code + ":" + reason + ":" + ws.extensions());
      }
    };
  }

  /** Starts an echo server on {@code host:port}. */
  public static HttpServer start(String host, int port) throws Exception {
    WebSocketOptions o = new WebSocketOptions().maxFrameSize(32 << 20).maxMessageSize(32 << 20);
    HttpServer.Options so = new HttpServer.Options().host(host).port(port);
    return HttpServer.start(so, ex -> WebSocketUpgrade.upgrade(ex, ECHO, o, null));
  }

  /** {@code port [host]}; the host defaults to this machine's address, as the suite expects. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String host = args.length > 1 ? args[1] : InetAddress.getLocalHost().getHostAddress();
    start(host, port);
  }
}
