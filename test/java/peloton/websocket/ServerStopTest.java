package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import peloton.http.server.HttpServer;
import peloton.sse.EventStream;

/**
 * HttpServer.stop ends what outlives a request: the WebSockets it upgraded get 1001 Going Away
 * (and are cut when they do not answer, bounded by their close timeout or else the grace period),
 * event streams finish their response, so stop does not wait the whole grace for them.
 */
class ServerStopTest {
  private HttpServer server;
  private final LinkedBlockingQueue<String> serverCloses = new LinkedBlockingQueue<>();

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.stop(0, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }
  }

  private int serve(WebSocketOptions o) throws Exception {
    WebSocket.Listener echo = new WebSocket.Listener() {
      @Override
      public peloton.fut.Fut<?> onText(WebSocket ws, String text) {
        return ws.sendText(text);
      }

      @Override
      public void onClose(WebSocket ws, int code, String reason) {
        serverCloses.add(code + ":" + reason);
      }
    };
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1), ex -> {
      if (ex.path().equals("/events")) {
        EventStream.start(ex, 0).send("hello");
      } else {
        WebSocketUpgrade.upgrade(ex, echo, o, null);
      }
    });
    return server.port();
  }

  @Test
  void stopSendsGoingAwayToWebSocketsAndEndsEventStreams() throws Exception {
    int port = serve(new WebSocketOptions().closeTimeoutMillis(500));
    WebSocket ours = WebSocketClient.connect(
        new WebSocketClient.Request("ws://127.0.0.1:" + port + "/"), EchoServer.ECHO)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    WebSocketServerTest.JdkListener jl = new WebSocketServerTest.JdkListener();
    HttpClient jdk = HttpClient.newHttpClient();
    jdk.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/"), jl)
        .get(10, TimeUnit.SECONDS);
    HttpResponse<InputStream> sse = jdk.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/events")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    BufferedReader events = new BufferedReader(
        new InputStreamReader(sse.body(), StandardCharsets.UTF_8));
    assertEquals("data: hello", events.readLine());
    assertEquals("", events.readLine());
    try (RawWs deaf = new RawWs(port)) { // reads our close but never answers it
      assertTrue(deaf.handshake("/", "").startsWith("HTTP/1.1 101"));

      // A grace far longer than anything here: stop must not need it.
      server.stop(60, TimeUnit.SECONDS).get(20, TimeUnit.SECONDS);

      assertEquals(1001, ours.closed().deref(10_000, -1));
      assertEquals("close:1001:server stopping", jl.got.poll(10, TimeUnit.SECONDS));
      assertEquals(null, events.readLine()); // the chunked body ended cleanly, no reset
      assertEquals(1001, deaf.readCloseCode());
      assertTrue(deaf.closedByPeer(), "the silent peer was not cut after its close timeout");
    }
    for (int i = 0; i < 3; i++) {
      String c = serverCloses.poll(10, TimeUnit.SECONDS);
      assertTrue(c != null && c.startsWith("1001:"), c);
    }
  }

  @Test
  void theGracePeriodBoundsAPeerThatNeverAnswersTheClose() throws Exception {
    // The close timeout alone would wait a minute: the grace of 300 ms cuts first.
    int port = serve(new WebSocketOptions().closeTimeoutMillis(60_000));
    try (RawWs deaf = new RawWs(port)) {
      assertTrue(deaf.handshake("/", "").startsWith("HTTP/1.1 101"));
      server.stop(300, TimeUnit.MILLISECONDS).get(20, TimeUnit.SECONDS);
      assertEquals(1001, deaf.readCloseCode());
      assertTrue(deaf.closedByPeer(), "the silent peer was not cut at the end of the grace");
    }
    assertEquals("1001:server stopping", serverCloses.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void aWebSocketUpgradedOverTlsIsClosedByStopToo() throws Exception {
    WebSocket.Listener quiet = new WebSocket.Listener() {};
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1)
            .tls(peloton.transport.TlsConfig.serverPem(
                peloton.transport.TestCerts.file("fullchain.pem"),
                peloton.transport.TestCerts.file("server.key"))),
        ex -> WebSocketUpgrade.upgrade(ex, quiet, new WebSocketOptions(), null));
    WebSocket ws = WebSocketClient.connect(
        new WebSocketClient.Request("wss://localhost:" + server.port() + "/")
            .tls(peloton.transport.TlsConfig.client(new peloton.transport.TlsConfig.ClientOptions()
                .caCert(peloton.transport.TestCerts.file("ca.pem")))), EchoServer.ECHO)
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    server.stop(60, TimeUnit.SECONDS).get(20, TimeUnit.SECONDS);
    assertEquals(1001, ws.closed().deref(10_000, -1));
  }
}
