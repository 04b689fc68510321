package peloton.bench.ws;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import peloton.fut.Fut;
import peloton.http.server.HttpServer;
import peloton.websocket.WebSocket;
import peloton.websocket.WebSocketOptions;
import peloton.websocket.WebSocketUpgrade;

/**
 * Peloton's WebSocket server for bench/ws, through the public API only ({@link HttpServer},
 * {@link WebSocketUpgrade}, {@link WebSocket.Listener}), one reactor per core.
 * {@code /echo} sends each text message back; every text message on a {@code /fanout} socket is
 * sent to all open {@code /fanout} sockets (the application keeps the set: Peloton has no
 * broadcast call). Usage: {@code java peloton.bench.ws.PelotonWs PORT} (binds 127.0.0.1).
 */
public final class PelotonWs {
  private PelotonWs() {}

  /** The /fanout sockets. */
  static final Set<WebSocket> FANOUT = ConcurrentHashMap.newKeySet();

  /** Echo: the read waits on the send, as Peloton's own echo server does. */
  static final WebSocket.Listener ECHO = new WebSocket.Listener() {
    @Override
    public Fut<?> onText(WebSocket ws, String text) {
      return ws.sendText(text);
    }
  };

  /** Fan-out: one message to every member; sends are not awaited (the client bounds the rate). */
  static final WebSocket.Listener BROADCAST = new WebSocket.Listener() {
    @Override
    public void onOpen(WebSocket ws) {
      FANOUT.add(ws);
    }

    @Override
    public Fut<?> onText(WebSocket ws, String text) {
      for (WebSocket member : FANOUT) {
        member.sendText(text);
      }
      return null;
    }

    @Override
    public void onClose(WebSocket ws, int code, String reason) {
      FANOUT.remove(ws);
    }
  };

  /** Starts the server; it runs until the process is stopped. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    // Idle sockets must stay for the memory measure; no compression (the client offers none).
    WebSocketOptions o = new WebSocketOptions().idleTimeoutMillis(3_600_000).compression(false);
    HttpServer.Options so = new HttpServer.Options().host("127.0.0.1").port(port);
    so.idleTimeoutMillis = 3_600_000;
    HttpServer server = HttpServer.start(so, ex -> {
      if ("/fanout".equals(ex.path())) {
        WebSocketUpgrade.upgrade(ex, BROADCAST, o, null);
      } else if ("/echo".equals(ex.path())) {
        WebSocketUpgrade.upgrade(ex, ECHO, o, null);
      } else {
        ex.sendStatus(404, "not found\n");
      }
    });
    System.out.println("peloton ws listening on 127.0.0.1:" + server.port() + " with "
        + server.reactors().size() + " reactors");
  }
}
