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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.http.client.ResponseParser;
import peloton.reactor.Reactor;
import peloton.reactor.Timer;
import peloton.transport.TlsConfig;
import peloton.transport.TlsException;
import peloton.transport.Transport;

/**
 * Opens client WebSockets ({@code ws://} and {@code wss://} URLs) on a reactor.
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
 * <p>{@code wss://} speaks TLS 1.2 or 1.3 through {@link peloton.transport}, as the HTTP client
 * does: by default the server's certificate is verified against the JDK's trust store and its
 * name against the host, and SNI is sent (not for IP literals); {@link Request#tls} takes a
 * {@link TlsConfig} for a private CA, a client certificate, or (logged as a warning) no checks.
 *
 * <p>The fut fails with a {@link WebSocketException} whose kind says why: {@code REFUSED} (no
 * connection), {@code RESET} (closed during the handshake), {@code TIMEOUT}, {@code TLS} (the
 * TLS handshake failed; {@link WebSocketException#tlsReason()} says why, e.g. an untrusted
 * certificate), {@code HANDSHAKE} (the server answered another status than 101; {@link
 * WebSocketException#status()} tells it) or {@code MALFORMED} (a bad 101 answer). A bad URL fails
 * it with an IllegalArgumentException. The handshake timeout covers connect, TLS and the 101.
 */
public final class WebSocketClient {
  private static final Logger log = LoggerFactory.getLogger(WebSocketClient.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static volatile TlsConfig defaultTls;

  private WebSocketClient() {}

  /** What to connect to and how; setters chain. */
  public static final class Request {
    final String url;
    final Map<String, String> headers = new LinkedHashMap<>();
    List<String> subprotocols = List.of();
    WebSocketOptions options = new WebSocketOptions();
    Reactor reactor;
    TlsConfig tls;

    /**
     * A request for {@code url} ({@code ws://} or {@code wss://host[:port]/path?query}).
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

    /**
     * TLS for a {@code wss://} URL (a client configuration, see {@link
     * TlsConfig#client(TlsConfig.ClientOptions)}); null, the default, verifies certificates
     * against the JDK's trust store and checks the host name.
     *
     * @param t the client TLS configuration, or null for the default
     * @return this request
     * @throws IllegalArgumentException for a server configuration
     */
    public Request tls(TlsConfig t) {
      if (t != null && !t.isClient()) {
        throw new IllegalArgumentException("a WebSocket client needs a client TLS configuration "
            + "(TlsConfig.client(...)), not a server one");
      }
      tls = t;
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
    boolean secure = scheme.equals("wss");
    if (!(secure || scheme.equals("ws")) || uri.getHost() == null) {
      return Fut.failed(new IllegalArgumentException("not a ws:// or wss:// URL: " + req.url));
    }
    TlsConfig tls = null;
    if (secure) {
      try {
        tls = req.tls != null ? req.tls : defaultTls();
      } catch (IOException e) {
        return Fut.failed(new WebSocketException(WebSocketException.Kind.TLS, req.url, 0,
            "cannot load the JDK's trust store: " + e.getMessage(), e));
      }
      if (tls.insecure()) {
        log.warn("this WebSocket client does not verify TLS certificates: any server can pose as "
            + "{}", uri.getHost());
      }
    }
    Reactor reactor = req.reactor != null ? req.reactor : Reactor.currentOrShared();
    Fut<WebSocket> result = new Fut<>();
    TlsConfig t = tls;
    reactor.dispatch(() -> new Handshaking(req, uri, t, listener, reactor, result).start());
    return result;
  }

  /** The JDK-trusting client configuration, made on first use (loading the trust store costs). */
  private static TlsConfig defaultTls() throws IOException {
    TlsConfig t = defaultTls;
    if (t == null) {
      synchronized (WebSocketClient.class) {
        t = defaultTls;
        if (t == null) {
          defaultTls = t = TlsConfig.client().alpn("http/1.1");
        }
      }
    }
    return t;
  }

  /** The opening handshake in progress, on the reactor thread. */
  private static final class Handshaking implements Reactor.IoHandler {
    private final Request req;
    private final URI uri;
    private final TlsConfig tls; // null for ws://
    private final WebSocket.Listener listener;
    private final Reactor reactor;
    private final Fut<WebSocket> result;
    private final String key;
    private final ResponseParser parser = new ResponseParser();
    private SocketChannel ch;
    private Transport transport;
    private SelectionKey selKey;
    private ByteBuffer out;
    private ByteBuffer in;
    private Timer timer;
    private long startNanos;
    private boolean done;

    Handshaking(Request req, URI uri, TlsConfig tls, WebSocket.Listener listener, Reactor reactor,
        Fut<WebSocket> result) {
      this.req = req;
      this.uri = uri;
      this.tls = tls;
      this.listener = listener;
      this.reactor = reactor;
      this.result = result;
      byte[] nonce = new byte[16];
      RANDOM.nextBytes(nonce);
      this.key = Base64.getEncoder().encodeToString(nonce);
    }

    private int defaultPort() {
      return tls != null ? 443 : 80;
    }

    void start() {
      startNanos = System.nanoTime();
      timer = reactor.schedule(req.options.handshakeTimeoutMillis, TimeUnit.MILLISECONDS,
          () -> fail(WebSocketException.Kind.TIMEOUT, 0, "the handshake took longer than "
              + req.options.handshakeTimeoutMillis + " ms", null));
      try {
        int port = uri.getPort() < 0 ? defaultPort() : uri.getPort();
        InetSocketAddress addr = new InetSocketAddress(uri.getHost(), port);
        if (addr.isUnresolved()) {
          fail(WebSocketException.Kind.REFUSED, 0, "unknown host " + uri.getHost(), null);
          return;
        }
        ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        transport = tls == null ? Transport.plain(ch)
            : Transport.tls(ch, tls, hostForTls(uri.getHost()), port);
        out = ByteBuffer.wrap(requestHead(port).getBytes(StandardCharsets.ISO_8859_1));
        boolean now = ch.connect(addr);
        selKey = reactor.register(ch, now ? 0 : SelectionKey.OP_CONNECT, this);
        if (now) {
          connected();
        }
      } catch (IOException e) {
        fail(WebSocketException.Kind.REFUSED, 0, "cannot connect: " + e.getMessage(), e);
      }
    }

    /** The host as SNI and name checks want it: an IPv6 literal without its brackets. */
    private static String hostForTls(String host) {
      return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1)
          : host;
    }

    /** TCP is up: for wss the TLS handshake first, then the request. */
    private void connected() {
      if (tls == null) {
        selKey.interestOps(SelectionKey.OP_WRITE);
        return;
      }
      selKey.interestOps(0);
      long left = Math.max(1, req.options.handshakeTimeoutMillis
          - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
      transport.start(reactor, selKey, left).onComplete((v, e) -> reactor.dispatch(() -> {
        if (done) {
          return;
        }
        if (e != null) {
          TlsException te = TlsException.of(e);
          fail(WebSocketException.Kind.TLS, 0, te.getMessage(), te);
          return;
        }
        Reactor.setInterest(selKey, SelectionKey.OP_WRITE, true);
      }));
    }

    private String requestHead(int port) {
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      if (uri.getRawQuery() != null) {
        path += "?" + uri.getRawQuery();
      }
      StringBuilder sb = new StringBuilder(256).append("GET ").append(path)
          .append(" HTTP/1.1\r\nHost: ").append(uri.getHost());
      if (port != defaultPort()) {
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
          connected();
          return;
        }
      } catch (IOException e) {
        fail(WebSocketException.Kind.REFUSED, 0, "cannot connect: " + e.getMessage(), e);
        return;
      }
      try {
        if (k.isWritable()) {
          if (out.hasRemaining()) {
            transport.write(out);
          }
          if (!out.hasRemaining() && transport.flush()) {
            k.interestOps(SelectionKey.OP_READ);
          }
          return;
        }
        if (k.isReadable()) {
          if (in == null) {
            in = ByteBuffer.allocate(8192);
          }
          do {
            in.clear();
            int n = transport.read(in);
            if (n < 0) {
              fail(WebSocketException.Kind.RESET, 0, "the server closed during the handshake",
                  null);
              return;
            }
            if (n == 0) {
              return;
            }
            in.flip();
            int r = parser.parseHead(in);
            if (r == ResponseParser.ERROR) {
              fail(WebSocketException.Kind.MALFORMED, 0, "bad handshake answer: "
                  + parser.errorReason(), null);
              return;
            } else if (r == ResponseParser.HEAD_DONE) {
              answered();
              return;
            }
          } while (transport.hasBufferedInput()); // TLS may have decrypted more than fit
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
      WsConnection ws = new WsConnection(reactor, transport, true, req.options, listener,
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
      if (transport != null) {
        transport.close();
      } else if (ch != null) {
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
