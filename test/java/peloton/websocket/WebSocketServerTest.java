package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.http.server.HttpServer;

/** The server side over real sockets: the JDK's WebSocket client, and a raw one for bad input. */
class WebSocketServerTest {
  private HttpServer server;
  private final LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }
  }

  private int serve(WebSocketOptions o, String subprotocol, WebSocket.Listener l) throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> WebSocketUpgrade.upgrade(ex, l, o, subprotocol));
    return server.port();
  }

  /** Echoes and records what happens, as strings. */
  private WebSocket.Listener recordingEcho() {
    return new WebSocket.Listener() {
      @Override
      public void onOpen(WebSocket ws) {
        events.add("open");
      }

      @Override
      public Fut<?> onText(WebSocket ws, String text) {
        events.add("text:" + text);
        return ws.sendText(text);
      }

      @Override
      public Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
        events.add("binary:" + data.remaining());
        return ws.sendBinary(data);
      }

      @Override
      public void onClose(WebSocket ws, int code, String reason) {
        events.add("close:" + code + ":" + reason);
      }
    };
  }

  private String next() throws InterruptedException {
    String e = events.poll(10, TimeUnit.SECONDS);
    return e == null ? "nothing within 10 s" : e;
  }

  /** A JDK client that collects whole messages. */
  static final class JdkListener implements java.net.http.WebSocket.Listener {
    final LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private int binary;

    @Override
    public CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        got.add("text:" + text);
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(java.net.http.WebSocket ws, ByteBuffer data, boolean last) {
      binary += data.remaining();
      if (last) {
        got.add("binary:" + binary);
        binary = 0;
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(java.net.http.WebSocket ws, int code, String reason) {
      got.add("close:" + code + ":" + reason);
      return null;
    }
  }

  @Test
  void echoesTextAndBinaryToTheJdkClientAndClosesCleanly() throws Exception {
    int port = serve(new WebSocketOptions(), null, recordingEcho());
    JdkListener jl = new JdkListener();
    java.net.http.WebSocket c = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/echo"), jl).get(10, TimeUnit.SECONDS);
    assertEquals("open", next());
    c.sendText("h\u00e9llo \ud83d\ude00", true).get(10, TimeUnit.SECONDS);
    assertEquals("text:h\u00e9llo \ud83d\ude00", jl.got.poll(10, TimeUnit.SECONDS));
    c.sendBinary(ByteBuffer.wrap(new byte[100_000]), true).get(10, TimeUnit.SECONDS);
    assertEquals("binary:100000", jl.got.poll(10, TimeUnit.SECONDS));
    c.sendText("part one, ", false).get(10, TimeUnit.SECONDS);
    c.sendText("part two", true).get(10, TimeUnit.SECONDS);
    assertEquals("text:part one, part two", jl.got.poll(10, TimeUnit.SECONDS));
    c.sendClose(4000, "bye").get(10, TimeUnit.SECONDS);
    assertEquals("close:4000:", jl.got.poll(10, TimeUnit.SECONDS)); // our echo of its code
    assertEquals("text:h\u00e9llo \ud83d\ude00", next());
    assertEquals("binary:100000", next());
    assertEquals("text:part one, part two", next());
    assertEquals("close:4000:bye", next());
  }

  @Test
  void handshakeRefusals() throws Exception {
    int port = serve(new WebSocketOptions(), null, recordingEcho());
    try (RawWs w = new RawWs(port)) {
      String head = w.request("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 8\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 426 "), head);
      assertTrue(head.contains("Sec-WebSocket-Version: 13\r\n"), head);
    }
    try (RawWs w = new RawWs(port)) {
      String head = w.request("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 400 "), head);
    }
    try (RawWs w = new RawWs(port)) {
      String head = w.request("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
          + "Sec-WebSocket-Version: 13\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 400 "), head);
    }
    try (RawWs w = new RawWs(port)) {
      String head = w.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 426 "), head);
      assertTrue(head.contains("Upgrade: websocket\r\n"), head);
    }
    try (RawWs w = new RawWs(port)) {
      String head = w.request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 405 "), head);
    }
    assertNull(events.poll()); // no socket was opened
  }

  @Test
  void theAcceptKeyAndTheSubprotocolOnlyWhenOffered() throws Exception {
    int port = serve(new WebSocketOptions(), "chat", recordingEcho());
    try (RawWs w = new RawWs(port)) {
      String head = w.handshake("/", "Sec-WebSocket-Protocol: superchat, chat\r\n");
      assertTrue(head.startsWith("HTTP/1.1 101 "), head);
      // RFC 6455 section 1.3's example key and answer.
      assertTrue(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head);
      assertTrue(head.contains("Sec-WebSocket-Protocol: chat\r\n"), head);
    }
    try (RawWs w = new RawWs(port)) {
      String head = w.handshake("/", "Sec-WebSocket-Protocol: other\r\n");
      assertTrue(head.startsWith("HTTP/1.1 101 "), head);
      assertFalse(head.toLowerCase().contains("sec-websocket-protocol"), head);
    }
  }

  @Test
  void anUnmaskedFrameGets1002AndTheServerClosesTcp() throws Exception {
    int port = serve(new WebSocketOptions(), null, recordingEcho());
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      assertEquals("open", next());
      w.out.write(FrameReaderTest.frame(0x81, "hi".getBytes(StandardCharsets.UTF_8), false));
      w.out.flush();
      assertEquals(1002, w.readCloseCode());
      assertTrue(w.closedByPeer());
      assertEquals("close:1002:an unmasked client frame", next());
    }
  }

  @Test
  void aMessageOverTheLimitGets1009() throws Exception {
    int port = serve(new WebSocketOptions().maxMessageSize(1000), null, recordingEcho());
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      w.send(0x02, new byte[600]);
      w.send(0x80, new byte[600]);
      assertEquals(1009, w.readCloseCode());
      assertTrue(w.closedByPeer());
    }
  }

  @Test
  void pingsAreAnsweredAndTheCloseHandshakeEndsInTcpClose() throws Exception {
    int port = serve(new WebSocketOptions(), null, recordingEcho());
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      w.send(0x89, "are you there".getBytes(StandardCharsets.UTF_8));
      byte[] pong = w.readFrame();
      assertEquals(0x8A, pong[0] & 0xff);
      assertEquals("are you there", new String(pong, 1, pong.length - 1, StandardCharsets.UTF_8));
      w.send(0x88, new byte[] {0x03, (byte) 0xe8});
      assertEquals(1000, w.readCloseCode());
      assertTrue(w.closedByPeer());
    }
  }

  @Test
  void aPeerThatStopsAnsweringPingsIsCutOff() throws Exception {
    int port = serve(new WebSocketOptions().pingIntervalMillis(100), null, recordingEcho());
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      assertEquals("open", next());
      assertEquals(0x89, w.readFrame()[0] & 0xff); // a ping we do not answer
      assertTrue(w.closedByPeer());
      assertEquals("close:1006:no pong", next());
    }
  }

  @Test
  void anIdlePeerIsClosedWith1001AndAPeerThatIgnoresTheCloseIsCut() throws Exception {
    int port = serve(new WebSocketOptions().idleTimeoutMillis(200).closeTimeoutMillis(200), null,
        recordingEcho());
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      assertEquals(1001, w.readCloseCode());
      assertTrue(w.closedByPeer()); // we never answered the close: the timeout cut TCP
      assertEquals("open", next());
      assertEquals("close:1001:idle timeout", next());
    }
  }

  @Test
  void aSlowListenerStopsTheReadsUntilItsFutCompletes() throws Exception {
    List<Fut<Boolean>> holds = new ArrayList<>();
    AtomicInteger delivered = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(1);
    int total = 2000;
    int port = serve(new WebSocketOptions(), null, new WebSocket.Listener() {
      @Override
      public Fut<?> onBinary(WebSocket ws, ByteBuffer data) {
        if (delivered.incrementAndGet() == total) {
          all.countDown();
        }
        if (delivered.get() == 1) {
          Fut<Boolean> hold = new Fut<>();
          synchronized (holds) {
            holds.add(hold);
            holds.notifyAll();
          }
          return hold; // the first message is "still being processed"
        }
        return null;
      }
    });
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      synchronized (holds) {
        w.send(0x82, new byte[10]);
        while (holds.isEmpty()) {
          holds.wait(10_000);
        }
      }
      // The server reads nothing more: a non-blocking writer fills the socket buffers and stops.
      byte[] frame = FrameReaderTest.frame(0x82, new byte[64 * 1024], true);
      java.io.OutputStream out = w.out;
      AtomicInteger sent = new AtomicInteger();
      Thread writer = new Thread(() -> {
        try {
          for (int i = 1; i < total; i++) {
            out.write(frame);
            sent.incrementAndGet();
          }
        } catch (java.io.IOException e) {
          // closed at the end of the test
        }
      });
      writer.start();
      // While the listener holds, the writer blocks with most frames unsent.
      writer.join(2000);
      assertTrue(writer.isAlive(), "the server kept reading while its listener was busy");
      assertEquals(1, delivered.get());
      assertTrue(sent.get() < total - 1);
      holds.get(0).deliver(true);
      assertTrue(all.await(60, TimeUnit.SECONDS), "delivered " + delivered.get());
      writer.join(10_000);
    }
  }

  @Test
  void sendFutsCompleteWhenWrittenAndWaitForASlowReader() throws Exception {
    AtomicReference<WebSocket> sock = new AtomicReference<>();
    CountDownLatch open = new CountDownLatch(1);
    int port = serve(new WebSocketOptions(), null, new WebSocket.Listener() {
      @Override
      public void onOpen(WebSocket ws) {
        sock.set(ws);
        open.countDown();
      }
    });
    try (RawWs w = new RawWs(port)) {
      w.handshake("/", "");
      assertTrue(open.await(10, TimeUnit.SECONDS));
      WebSocket ws = sock.get();
      assertEquals(Boolean.TRUE, ws.sendText("small").deref(10_000, null));
      // The client reads nothing: 64 MiB cannot all leave the process.
      List<Fut<Boolean>> sends = new ArrayList<>();
      byte[] chunk = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        sends.add(ws.sendBinary(chunk));
      }
      Fut<Boolean> last = sends.get(63);
      assertNull(last.deref(500, null), "a send completed before its bytes could be written");
      // Now read everything: each fut completes.
      byte[] f = w.readFrame();
      assertEquals("small", new String(f, 1, f.length - 1, StandardCharsets.UTF_8));
      for (int i = 0; i < 64; i++) {
        assertEquals(1 << 20, w.readFrame().length - 1);
      }
      assertEquals(Boolean.TRUE, last.deref(10_000, null));
      CompletableFuture<Integer> closed = ws.close(1000, "done").toCompletableFuture();
      assertEquals(1000, w.readCloseCode());
      w.send(0x88, new byte[] {0x03, (byte) 0xe8});
      assertEquals(1000, closed.get(10, TimeUnit.SECONDS));
    }
  }
}
