package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.http.server.HttpServer;

/** The client against Peloton's server and against servers that misbehave. */
class WebSocketClientTest {
  private HttpServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }
  }

  static final class Collect implements WebSocket.Listener {
    final LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();

    @Override
    public Fut<?> onText(WebSocket ws, String text) {
      got.add("text:" + text);
      return null;
    }

    @Override
    public Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
      got.add("binary:" + data.remaining());
      return null;
    }

    @Override
    public void onPong(WebSocket ws, ByteBuffer data) {
      got.add("pong:" + StandardCharsets.UTF_8.decode(data));
    }

    @Override
    public void onClose(WebSocket ws, int code, String reason) {
      got.add("close:" + code + ":" + reason);
    }

    String next() throws InterruptedException {
      String s = got.poll(10, TimeUnit.SECONDS);
      return s == null ? "nothing within 10 s" : s;
    }
  }

  private WebSocket open(String url, WebSocket.Listener l, WebSocketClient.Request req)
      throws Exception {
    return WebSocketClient.connect(req, l).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void talksToPelotonsServerWithCompressionAndASubprotocol() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> WebSocketUpgrade.upgrade(ex, EchoServer.ECHO, new WebSocketOptions(),
            WebSocketUpgrade.offeredSubprotocols(ex).contains("v2") ? "v2" : null));
    String url = "ws://127.0.0.1:" + server.port() + "/echo?x=1";
    Collect c = new Collect();
    WebSocket ws = open(url, c, new WebSocketClient.Request(url)
        .subprotocols(List.of("v3", "v2")).header("Origin", "http://example.test"));
    assertEquals("v2", ws.subprotocol());
    assertEquals("permessage-deflate", ws.extensions());
    String big = "compressible text ".repeat(5000);
    assertEquals(Boolean.TRUE, ws.sendText(big).deref(10_000, null));
    assertEquals("text:" + big, c.next());
    ws.sendBinary(new byte[] {1, 2, 3});
    assertEquals("binary:3", c.next());
    ws.ping(ByteBuffer.wrap("hi".getBytes(StandardCharsets.UTF_8)));
    assertEquals("pong:hi", c.next());
    assertEquals(4001, ws.close(4001, "done").deref(10_000, null));
    assertEquals("close:4001:", c.next()); // the server's echo of our code
  }

  @Test
  void withoutCompressionNothingIsOffered() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> WebSocketUpgrade.upgrade(ex, EchoServer.ECHO, new WebSocketOptions(), null));
    String url = "ws://127.0.0.1:" + server.port() + "/";
    Collect c = new Collect();
    WebSocket ws = open(url, c, new WebSocketClient.Request(url)
        .options(new WebSocketOptions().compression(false)));
    assertNull(ws.extensions());
    ws.sendText("plain");
    assertEquals("text:plain", c.next());
    ws.close();
  }

  private static WebSocketException failure(Fut<?> f) throws Exception {
    try {
      f.toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(WebSocketException.class, e.getCause());
    }
    throw new AssertionError("the connect succeeded");
  }

  @Test
  void refusalsAndFailuresHaveKinds() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> ex.sendStatus(403, "no\n"));
    String url = "ws://127.0.0.1:" + server.port() + "/";
    WebSocketException e = failure(WebSocketClient.connect(new WebSocketClient.Request(url),
        new Collect()));
    assertEquals(WebSocketException.Kind.HANDSHAKE, e.kind());
    assertEquals(403, e.status());
    assertEquals(403, e.getData().valAt(clojure.lang.Keyword.intern("status")));

    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    e = failure(WebSocketClient.connect(new WebSocketClient.Request("ws://127.0.0.1:" + free + "/"),
        new Collect()));
    assertEquals(WebSocketException.Kind.REFUSED, e.kind());

    try (ServerSocket silent = new ServerSocket(0)) {
      WebSocketOptions o = new WebSocketOptions();
      o.handshakeTimeoutMillis = 300;
      e = failure(WebSocketClient.connect(new WebSocketClient.Request("ws://127.0.0.1:"
          + silent.getLocalPort() + "/").options(o), new Collect()));
      assertEquals(WebSocketException.Kind.TIMEOUT, e.kind());
    }

    try (ServerSocket liar = new ServerSocket(0)) {
      Thread t = new Thread(() -> {
        try (java.net.Socket s = liar.accept()) {
          s.getInputStream().read(new byte[4096]);
          s.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              + "Connection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          s.getInputStream().read(new byte[4096]);
        } catch (java.io.IOException ignored) {
          // the client hangs up
        }
      });
      t.start();
      e = failure(WebSocketClient.connect(new WebSocketClient.Request("ws://127.0.0.1:"
          + liar.getLocalPort() + "/"), new Collect()));
      assertEquals(WebSocketException.Kind.MALFORMED, e.kind());
      t.join(5000);
    }
    // wss:// is spoken (WssTest); another scheme is a bad URL.
    Throwable http = WebSocketClient.connect(new WebSocketClient.Request("http://x/"),
        new Collect()).error();
    assertTrue(http instanceof IllegalArgumentException
        && http.getMessage().contains("not a ws:// or wss:// URL"), String.valueOf(http));
  }

  @Test
  void framesAfterThe101InTheSameReadAreNotLost() throws Exception {
    try (ServerSocket eager = new ServerSocket(0)) {
      Thread t = new Thread(() -> {
        try (java.net.Socket s = eager.accept()) {
          byte[] buf = new byte[4096];
          int n = s.getInputStream().read(buf);
          String head = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
          int i = head.indexOf("Sec-WebSocket-Key: ") + 19;
          String key = head.substring(i, head.indexOf('\r', i));
          byte[] hello = FrameReaderTest.frame(0x81, "first".getBytes(StandardCharsets.UTF_8),
              false);
          byte[] resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + Handshake.accept(key)
              + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
          s.getOutputStream().write(FrameReaderTest.concat(resp, hello));
          s.getInputStream().read(buf);
        } catch (java.io.IOException ignored) {
          // the client hangs up
        }
      });
      t.start();
      Collect c = new Collect();
      String url = "ws://127.0.0.1:" + eager.getLocalPort() + "/";
      WebSocket ws = open(url, c, new WebSocketClient.Request(url));
      assertEquals("text:first", c.next());
      ws.abort();
      t.join(5000);
    }
  }
}
