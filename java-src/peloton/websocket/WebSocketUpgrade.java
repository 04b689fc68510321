package peloton.websocket;

import java.io.IOException;
import java.util.List;
import peloton.fut.Fut;
import peloton.http.server.Exchange;

/**
 * The server side of the opening handshake: checks a request and turns its connection into a
 * {@link WebSocket}.
 *
 * <pre>{@code
 * HttpServer.start(options, ex -> {
 *   if (WebSocketUpgrade.isUpgrade(ex)) {
 *     WebSocketUpgrade.upgrade(ex, new WebSocket.Listener() {
 *       public Fut<?> onText(WebSocket ws, String text) { return ws.sendText(text); }
 *     }, new WebSocketOptions(), null);
 *   } else {
 *     ex.sendStatus(404, "not found\n");
 *   }
 * });
 * }</pre>
 */
public final class WebSocketUpgrade {
  private WebSocketUpgrade() {}

  /**
   * Whether the request asks for a WebSocket ({@code Upgrade: websocket}).
   *
   * @param ex the exchange of the request
   * @return true when the request's {@code Upgrade} header names {@code websocket}
   */
  public static boolean isUpgrade(Exchange ex) {
    return Handshake.hasToken(ex.request().headers("upgrade"), "websocket");
  }

  /**
   * The subprotocols the client offered ({@code Sec-WebSocket-Protocol}), in its order.
   *
   * @param ex the exchange of the request
   * @return the subprotocol names, empty when none were offered
   */
  public static List<String> offeredSubprotocols(Exchange ex) {
    return Handshake.tokens(ex.request().headers("sec-websocket-protocol"));
  }

  /**
   * Answers the handshake and hands the connection to {@code listener}. A request that is not a
   * valid WebSocket handshake is answered here (400, 405, or 426 with {@code
   * Sec-WebSocket-Version: 13}) and the fut fails with a {@link WebSocketException}; otherwise the
   * fut delivers the open {@link WebSocket} (after {@link WebSocket.Listener#onOpen}).
   *
   * @param ex the exchange of the handshake request; nothing may have been sent on it yet
   * @param listener what the connection tells the application; its methods run on the reactor
   * @param options limits, timeouts and compression for the connection
   * @param subprotocol the subprotocol to answer, or null; it is answered only when the client
   *     offered it
   * @return a fut of the open connection
   * @throws IllegalArgumentException when {@code options} has a bad value
   */
  public static Fut<WebSocket> upgrade(Exchange ex, WebSocket.Listener listener, WebSocketOptions options,
      String subprotocol) {
    options.validate();
    String problem = null;
    int status = 400;
    if (!"GET".equals(ex.method())) {
      status = 405;
      problem = "a WebSocket handshake must be a GET";
      ex.setHeader("Allow", "GET");
    } else if (ex.request().versionMinor() < 1) {
      problem = "a WebSocket handshake needs HTTP/1.1";
    } else if (!isUpgrade(ex)) {
      status = 426;
      problem = "this resource speaks WebSocket only";
      ex.setHeader("Upgrade", "websocket");
      ex.setHeader("Connection", "Upgrade");
      ex.setHeader("Sec-WebSocket-Version", "13");
    } else if (!Handshake.hasToken(ex.request().headers("connection"), "upgrade")) {
      problem = "Connection: Upgrade is missing";
    } else if (!"13".equals(trim(ex.header("sec-websocket-version")))) {
      status = 426;
      problem = "only WebSocket version 13 is spoken";
      ex.setHeader("Sec-WebSocket-Version", "13");
    } else if (!Handshake.isValidKey(trim(ex.header("sec-websocket-key")))) {
      problem = "Sec-WebSocket-Key is missing or not 16 bytes in base64";
    }
    if (problem != null) {
      ex.sendStatus(status, problem + "\n");
      return Fut.failed(new WebSocketException(WebSocketException.Kind.HANDSHAKE, ex.uri(),
          status, problem));
    }
    String chosen = null;
    if (subprotocol != null && offeredSubprotocols(ex).contains(subprotocol)) {
      chosen = subprotocol;
    }
    PerMessageDeflate deflate = options.compression
        ? PerMessageDeflate.accept(Handshake.joined(ex.request().headers("sec-websocket-extensions")),
            options.compressionLevel)
        : null;
    String proto = chosen;
    Fut<WebSocket> result = new Fut<>();
    ex.status(101)
        .setHeader("Upgrade", "websocket")
        .setHeader("Connection", "Upgrade")
        .setHeader("Sec-WebSocket-Accept", Handshake.accept(trim(ex.header("sec-websocket-key"))));
    if (chosen != null) {
      ex.setHeader("Sec-WebSocket-Protocol", chosen);
    }
    if (deflate != null) {
      ex.setHeader("Sec-WebSocket-Extensions", deflate.response);
    }
    ex.detach((transport, key, leftover) -> {
      if (key == null) {
        result.fail(new WebSocketException(WebSocketException.Kind.RESET, ex.uri(), 0,
            "the connection closed before the upgrade"));
        return null;
      }
      // The connection's own transport: an upgraded HTTPS connection goes on as wss.
      WsConnection ws = new WsConnection(ex.reactor(), transport, false, options, listener,
          deflate, proto);
      try {
        ws.start(key, null, leftover);
        result.deliver(ws);
      } catch (IOException | RuntimeException e) {
        ws.abort();
        result.fail(e);
      }
      return ws;
    });
    ex.send();
    return result;
  }

  private static String trim(String s) {
    return s == null ? null : s.trim();
  }
}
