package peloton.websocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import peloton.fut.Fut;
import peloton.http.client.ResponseParser;
import peloton.http.server.Request;
import peloton.reactor.Reactor;
import peloton.reactor.Timer;

/**
 * Opens client WebSockets ({@code ws://} URLs) on a reactor.
 *
 * <pre>{@code
 * Fut<WebSocket> f = WebSocketClient.connect(new WebSocketClient.Request("ws://127.0.0.1:8080/chat"),
 *     new WebSocket.Listener() {
 *       public Fut<?> onText(WebSocket ws, String text) { log.info("got {}", text); return null; }
 *     });
 * WebSocket ws = f.join();
 * ws.sendText("hello");
 * }</pre>
 *
 * <p>The fut fails with a {@link WebSocketException} whose kind says why: {@code REFUSED} (no
 * connection), {@code RESET} (closed during the handshake), {@code TIMEOUT}, {@code HANDSHAKE}
 * (the server answered another status than 101; {@link WebSocketException#status()} tells it) or
 * {@code MALFORMED} (a bad 101 answer). A bad URL fails it with an IllegalArgumentException.
 */
public final class WebSocketClient {
  private static final SecureRandom RANDOM = new SecureRandom();

  private WebSocketClient() {}

  /** What to connect to and how; setters chain. */
  public static final class Request {
    final String url;
    final Map<String, String> headers = new LinkedHashMap<>();
    List<String> subprotocols = List.of();
    WebSocketOptions options = new WebSocketOptions();
    Reactor reactor;

    /**
     * A request for {@code url} ({@code ws://host[:port]/path?query}).
     *
     * @param url the URL to connect to; checked by {@link WebSocketClient#connect}, whose fut fails
     *     on a bad one
     */
    public Request(String url) {
      this.url = url;
    }

    /**
     * Adds a header to the handshake (Origin, Cookie, Authorization ...).
     *
     * @param name the header's name, an HTTP token
     * @param value the header's value, without CR or LF
     * @return this request
     * @throws IllegalArgumentException when the name or the value is not allowed in a header
     */
    public Request header(String name, String value) {
      peloton.http.Headers.checkName(name);
      peloton.http.Headers.checkValue(value);
      headers.put(name, value);
      return this;
    }

    /**
     * The subprotocols to offer ({@code Sec-WebSocket-Protocol}), most wanted first.
     *
     * @param protocols the subprotocol names; copied
     * @return this request
     */
    public Request subprotocols(List<String> protocols) {
      subprotocols = List.copyOf(protocols);
      return this;
    }

    /**
     * Limits, timeouts and compression.
     *
     * @param o the options; read when {@link WebSocketClient#connect} is called
     * @return this request
     */
    public Request options(WebSocketOptions o) {
      options = o;
      return this;
    }

    /**
     * The reactor to run on; default the current one, else the shared one.
     *
     * @param r the reactor, or null for the default
     * @return this request
     */
    public Request reactor(Reactor r) {
      reactor = r;
      return this;
    }
  }

  /**
   * Connects and answers a fut of the open {@link WebSocket} (after its listener's onOpen).
   *
   * @param req where to connect and how
   * @param listener what the connection tells the application; its methods run on the reactor
   * @return a fut of the open connection; it fails with a {@link WebSocketException} when the
   *     handshake fails, or with an {@link IllegalArgumentException} for a bad URL or option
   */
  public static Fut<WebSocket> connect(Request req, WebSocket.Listener listener) {
    URI uri;
    try {
      uri = URI.create(req.url);
      req.options.validate();
    } catch (IllegalArgumentException e) {
      return Fut.failed(e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (scheme.equals("wss")) {
      return Fut.failed(new IllegalArgumentException("wss:// needs TLS, which Peloton's "
          + "WebSocket client does not speak yet: " + req.url));
    }
    if (!scheme.equals("ws") || uri.getHost() == null) {
      return Fut.failed(new IllegalArgumentException("not a ws:// URL: " + req.url));
    }
    Reactor reactor = req.reactor != null ? req.reactor : Reactor.currentOrShared();
    Fut<WebSocket> result = new Fut<>();
    reactor.dispatch(() -> new Handshaking(req, uri, listener, reactor, result).start());
    return result;
  }

  /** The opening handshake in progress, on the reactor thread. */
  private static final class Handshaking implements Reactor.IoHandler {
    private final Request req;
    private final URI uri;
    private final WebSocket.Listener listener;
    private final Reactor reactor;
    private final Fut<WebSocket> result;
    private final String key;
    private final ResponseParser parser = new ResponseParser();
    private SocketChannel ch;
    private SelectionKey selKey;
    private ByteBuffer out;
    private ByteBuffer in;
    private Timer timer;
    private boolean done;

    Handshaking(Request req, URI uri, WebSocket.Listener listener, Reactor reactor,
        Fut<WebSocket> result) {
      this.req = req;
      this.uri = uri;
      this.listener = listener;
      this.reactor = reactor;
      this.result = result;
      byte[] nonce = new byte[16];
      RANDOM.nextBytes(nonce);
      this.key = Base64.getEncoder().encodeToString(nonce);
    }

    void start() {
      timer = reactor.schedule(req.options.handshakeTimeoutMillis, TimeUnit.MILLISECONDS,
          () -> fail(WebSocketException.Kind.TIMEOUT, 0, "the handshake took longer than "
              + req.options.handshakeTimeoutMillis + " ms", null));
      try {
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        InetSocketAddress addr = new InetSocketAddress(uri.getHost(), port);
        if (addr.isUnresolved()) {
          fail(WebSocketException.Kind.REFUSED, 0, "unknown host " + uri.getHost(), null);
          return;
        }
        ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        out = ByteBuffer.wrap(requestHead(port).getBytes(StandardCharsets.ISO_8859_1));
        if (ch.connect(addr)) {
          selKey = reactor.register(ch, SelectionKey.OP_WRITE, this);
        } else {
          selKey = reactor.register(ch, SelectionKey.OP_CONNECT, this);
        }
      } catch (IOException e) {
        fail(WebSocketException.Kind.REFUSED, 0, "cannot connect: " + e.getMessage(), e);
      }
    }

    private String requestHead(int port) {
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      if (uri.getRawQuery() != null) {
        path += "?" + uri.getRawQuery();
      }
      StringBuilder sb = new StringBuilder(256).append("GET ").append(path)
          .append(" HTTP/1.1\r\nHost: ").append(uri.getHost());
      if (port != 80) {
        sb.append(':').append(port);
      }
      sb.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key)
          .append("\r\nSec-WebSocket-Version: 13\r\n");
      if (!req.subprotocols.isEmpty()) {
        sb.append("Sec-WebSocket-Protocol: ").append(String.join(", ", req.subprotocols))
            .append("\r\n");
      }
      if (req.options.compression) {
        sb.append("Sec-WebSocket-Extensions: ").append(PerMessageDeflate.clientOffer())
            .append("\r\n");
      }
      for (Map.Entry<String, String> h : req.headers.entrySet()) {
        sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      }
      return sb.append("\r\n").toString();
    }

    @Override
    public void onReady(SelectionKey k) {
      if (done) {
        return;
      }
      try {
        if (k.isConnectable()) {
          ch.finishConnect();
          k.interestOps(SelectionKey.OP_WRITE);
          return;
        }
      } catch (IOException e) {
        fail(WebSocketException.Kind.REFUSED, 0, "cannot connect: " + e.getMessage(), e);
        return;
      }
      try {
        if (k.isWritable()) {
          ch.write(out);
          if (!out.hasRemaining()) {
            k.interestOps(SelectionKey.OP_READ);
          }
          return;
        }
        if (k.isReadable()) {
          if (in == null) {
            in = ByteBuffer.allocate(8192);
          }
          in.clear();
          int n = ch.read(in);
          if (n < 0) {
            fail(WebSocketException.Kind.RESET, 0, "the server closed during the handshake", null);
            return;
          }
          in.flip();
          int r = parser.parseHead(in);
          if (r == ResponseParser.ERROR) {
            fail(WebSocketException.Kind.MALFORMED, 0, "bad handshake answer: "
                + parser.errorReason(), null);
          } else if (r == ResponseParser.HEAD_DONE) {
            answered();
          }
        }
      } catch (IOException e) {
        fail(WebSocketException.Kind.RESET, 0, "the handshake broke: " + e.getMessage(), e);
      }
    }

    private void answered() {
      int status = parser.status();
      if (status != 101) {
        fail(WebSocketException.Kind.HANDSHAKE, status, "the server answered " + status + " "
            + parser.reason() + " instead of 101", null);
        return;
      }
      String problem = null;
      String proto = parser.header("sec-websocket-protocol");
      PerMessageDeflate deflate = null;
      if (!Handshake.hasToken(parser.headers("upgrade"), "websocket")) {
        problem = "no Upgrade: websocket";
      } else if (!Handshake.hasToken(parser.headers("connection"), "upgrade")) {
        problem = "no Connection: Upgrade";
      } else if (!Handshake.accept(key).equals(parser.header("sec-websocket-accept"))) {
        problem = "a wrong Sec-WebSocket-Accept";
      } else if (proto != null && !req.subprotocols.contains(proto)) {
        problem = "a subprotocol we did not offer: " + proto;
      } else {
        String ext = Handshake.joined(parser.headers("sec-websocket-extensions"));
        try {
          deflate = ext == null ? null : PerMessageDeflate.clientAccepted(ext,
              req.options.compressionLevel);
          if (deflate != null && !req.options.compression) {
            problem = "an extension we did not offer: " + ext;
          }
        } catch (WsProtocolException e) {
          problem = e.getMessage();
        }
      }
      if (problem != null) {
        fail(WebSocketException.Kind.MALFORMED, 0, "bad 101 answer: " + problem, null);
        return;
      }
      done = true;
      timer.cancel();
      WsConnection ws = new WsConnection(reactor, Transport.plain(ch), true, req.options, listener,
          deflate, proto);
      try {
        ws.start(selKey, null, in);
      } catch (IOException | RuntimeException e) {
        ws.abort();
        result.fail(new WebSocketException(WebSocketException.Kind.RESET, req.url, 0,
            "the connection broke at the start", e));
        return;
      }
      result.deliver(ws);
    }

    private void fail(WebSocketException.Kind kind, int status, String message, Throwable cause) {
      if (done) {
        return;
      }
      done = true;
      if (timer != null) {
        timer.cancel();
      }
      if (selKey != null) {
        selKey.cancel();
      }
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException e) {
          // already gone
        }
      }
      result.fail(new WebSocketException(kind, req.url, status, message, cause));
    }
  }
}
