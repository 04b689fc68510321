package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import peloton.fut.Fut;
import peloton.http.Headers;
import peloton.http.HttpDate;

class HttpServerTest {
  private static final String HELLO = "<h1>Hello from Peloton</h1>";
  private HttpServer server;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).join();
    }
  }

  private HttpServer start(HttpHandler h) throws IOException {
    return start(new HttpServer.Options(), h);
  }

  private HttpServer start(HttpServer.Options o, HttpHandler h) throws IOException {
    inSlowHandler = new CompletableFuture<>();
    o.port = 0;
    o.reactors = 2;
    server = HttpServer.start(o, h);
    return server;
  }

  /** A handler for most tests: routes by path. */
  private static CompletableFuture<Void> inSlowHandler = new CompletableFuture<>();

  private static void routes(Exchange ex) throws Exception {
    switch (ex.path()) {
      case "/":
        ex.contentType("text/html").body(HELLO).send();
        break;
      case "/echo":
        ex.contentType("text/plain").body(ex.method() + " " + ex.bodyString()).send();
        break;
      case "/slow": // answers 100 ms later, from a timer
        inSlowHandler.complete(null);
        ex.reactor().later(0.1, () -> ex.body("slow").send());
        break;
      case "/boom":
        throw new IllegalStateException("handler failure (expected by the test)");
      case "/empty":
        ex.status(204).send();
        break;
      case "/chunked":
        ex.contentType("text/plain").startChunked();
        ex.sendChunk("one,");
        ex.sendChunk("two,");
        ex.sendChunk("three");
        ex.finishChunked();
        break;
      case "/split":
        ex.setHeader("X-Bad", "a\r\nSet-Cookie: evil=1");
        ex.body("should not get here").send();
        break;
      default:
        ex.sendStatus(404, "Not Found\n");
    }
  }

  private String url(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(url(path))).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void helloOverHttpClient() throws Exception {
    start(HttpServerTest::routes);
    HttpResponse<String> r = get("/");
    assertEquals(200, r.statusCode());
    assertEquals(HELLO, r.body());
    assertEquals("27", r.headers().firstValue("content-length").orElse(null));
    assertEquals("text/html", r.headers().firstValue("content-type").orElse(null));
    assertEquals("peloton", r.headers().firstValue("server").orElse(null));
    assertNotNull(HttpDate.parse(r.headers().firstValue("date").orElseThrow()) > 0 ? "" : null);
    assertEquals(404, get("/missing").statusCode());
  }

  @Test
  void keepAliveServesManyRequestsOnOneConnection() throws Exception {
    start(HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      for (int i = 0; i < 5; i++) {
        c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response r = c.read();
        assertEquals(200, r.status);
        assertEquals(HELLO, r.body());
        assertNull(r.header("connection"));
      }
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderEvenWhenTheFirstIsSlow() throws Exception {
    start(HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
          + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
          + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertEquals("slow", c.read().body());
      assertEquals("POST hello", c.read().body());
      assertEquals(HELLO, c.read().body());
      RawHttp.Response last = c.read();
      assertEquals("GET ", last.body());
      assertEquals("close", last.header("connection"));
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void connectionCloseAndHttp10() throws Exception {
    start(HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertEquals("close", c.read().header("connection"));
      assertTrue(c.closedByServer());
    }
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.0\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals(200, r.status);
      assertEquals("close", r.header("connection"));
      assertTrue(c.closedByServer());
    }
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assertEquals("keep-alive", c.read().header("connection"));
      c.send("GET / HTTP/1.0\r\n\r\n");
      assertEquals(HELLO, c.read().body());
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void headAnd204HaveNoBody() throws Exception {
    start(HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response r = c.read(true);
      assertEquals(200, r.status);
      assertEquals("27", r.header("content-length"));
      c.send("GET /empty HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response e = c.read();
      assertEquals(204, e.status);
      assertNull(e.header("content-length"));
      // The next response must start right here: no stray body bytes from HEAD or 204.
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(HELLO, c.read().body());
    }
  }

  static List<Arguments> badRequests() {
    String big = "x".repeat(10_000);
    StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 150; i++) {
      many.append("X-H").append(i).append(": v\r\n");
    }
    many.append("\r\n");
    return List.of(
        Arguments.of("malformed request line", "GARBAGE\r\n\r\n", 400),
        Arguments.of("bad header", "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400),
        Arguments.of("content-length and transfer-encoding",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\n", 400),
        Arguments.of("differing content-lengths",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        Arguments.of("non-numeric content-length",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        Arguments.of("unknown transfer coding",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        Arguments.of("request line too long", "GET /" + big + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        Arguments.of("header block too large",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + big + big + big + "\r\n\r\n", 431),
        Arguments.of("too many headers", many.toString(), 431),
        Arguments.of("body over the limit",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", 413),
        Arguments.of("obsolete line folding",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", 400),
        Arguments.of("missing host", "GET / HTTP/1.1\r\n\r\n", 400),
        Arguments.of("bad chunk size",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("badRequests")
  void badInputGetsItsStatusAndOthersAreStillServed(String what, String request, int status)
      throws Exception {
    start(HttpServerTest::routes);
    try (RawHttp bystander = new RawHttp(server.port()); RawHttp bad = new RawHttp(server.port())) {
      bystander.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(200, bystander.read().status);
      bad.send(request);
      RawHttp.Response r = bad.read();
      assertEquals(status, r.status, what);
      assertEquals("close", r.header("connection"));
      assertTrue(bad.closedByServer());
      bystander.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(HELLO, bystander.read().body());
    }
    assertEquals(200, get("/").statusCode());
  }

  @Test
  void chunkedRequestBodySentOneByteAtATime() throws Exception {
    start(HttpServerTest::routes);
    byte[] req = ("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    try (RawHttp c = new RawHttp(server.port())) {
      for (byte b : req) {
        c.send(new byte[] {b});
      }
      assertEquals("POST hello, world", c.read().body());
    }
  }

  @Test
  void expectContinueGets100ThenTheAnswer() throws Exception {
    start(HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      assertEquals(100, c.read().status);
      c.send("data");
      assertEquals("POST data", c.read().body());
    }
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url("/echo")))
        .expectContinue(true).POST(HttpRequest.BodyPublishers.ofString("via client")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals("POST via client", r.body());
  }

  @Test
  void aThrowingHandlerGets500AndTheServerGoesOn() throws Exception {
    start(HttpServerTest::routes);
    HttpResponse<String> r = get("/boom");
    assertEquals(500, r.statusCode());
    assertEquals(200, get("/").statusCode());
  }

  @Test
  void headerInjectionIsRefused() throws Exception {
    start(HttpServerTest::routes);
    HttpResponse<String> r = get("/split");
    assertEquals(500, r.statusCode());
    assertTrue(r.headers().firstValue("set-cookie").isEmpty());
    assertThrows(IllegalArgumentException.class, () -> Headers.checkValue("a\nb"));
  }

  @Test
  void chunkedResponse() throws Exception {
    start(HttpServerTest::routes);
    assertEquals("one,two,three", get("/chunked").body());
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals("chunked", r.header("transfer-encoding"));
      assertEquals("one,two,three", r.body());
      c.send("GET /chunked HTTP/1.0\r\n\r\n"); // HTTP/1.0: no chunking, close-delimited
      RawHttp.Response r10 = c.read();
      assertNull(r10.header("transfer-encoding"));
      assertEquals("one,two,three", r10.body());
    }
  }

  @Test
  void slowlorisGets408() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.headerTimeoutMillis = 300;
    start(o, HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n");
      RawHttp.Response r = c.read();
      assertEquals(408, r.status);
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void idleKeepAliveConnectionIsClosed() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.idleTimeoutMillis = 300;
    start(o, HttpServerTest::routes);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(200, c.read().status);
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void clientThatLeavesMidStreamMakesFinishedTrue() throws Exception {
    CompletableFuture<Integer> sawFinished = new CompletableFuture<>();
    CompletableFuture<Void> started = new CompletableFuture<>();
    start(ex -> {
      ex.startChunked();
      AtomicInteger sent = new AtomicInteger();
      Runnable[] loop = new Runnable[1];
      loop[0] = () -> {
        if (ex.isFinished()) {
          sawFinished.complete(sent.get());
          return;
        }
        ex.sendChunk("tick ");
        ex.flush();
        sent.incrementAndGet();
        started.complete(null);
        ex.reactor().later(0.01, loop[0]);
      };
      loop[0].run();
    });
    RawHttp c = new RawHttp(server.port());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    started.get(5, TimeUnit.SECONDS);
    c.close();
    assertTrue(sawFinished.get(5, TimeUnit.SECONDS) > 0);
  }

  @Test
  void slowReaderBacksUpTheWriterAndReleasesItWhenReading() throws Exception {
    CompletableFuture<Fut> pendingWrite = new CompletableFuture<>();
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'x');
    AtomicInteger chunks = new AtomicInteger();
    start(ex -> {
      ex.startChunked();
      Runnable[] pump = new Runnable[1];
      pump[0] = () -> {
        if (chunks.get() == 200) {
          ex.finishChunked();
          return;
        }
        chunks.incrementAndGet();
        Fut f = ex.sendChunk(chunk);
        ex.flush();
        if (!f.isDone()) {
          pendingWrite.complete(f);
        }
        f.onComplete((v, e) -> ex.reactor().dispatch(pump[0]));
      };
      pump[0].run();
    });
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      Fut f = pendingWrite.get(10, TimeUnit.SECONDS);
      assertFalse(f.isDone(), "the writer waits while the client does not read");
      assertTrue(chunks.get() < 200);
      RawHttp.Response r = c.read();
      assertEquals(200 * chunk.length, r.body.length);
      assertTrue(f.isDone());
    }
  }

  @Test
  void gracefulStopFinishesInFlightAndRefusesNewConnections() throws Exception {
    start(HttpServerTest::routes);
    int port = server.port();
    RawHttp c = new RawHttp(port);
    c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    inSlowHandler.get(5, TimeUnit.SECONDS); // its answer comes 100 ms later
    Fut<Void> stopped = server.stop(5, TimeUnit.SECONDS);
    RawHttp.Response r = c.read();
    assertEquals("slow", r.body());
    stopped.get(10, TimeUnit.SECONDS);
    c.close();
    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
    server = null;
  }

  @Test
  void handlersOnAnExecutor() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      AtomicReference<String> thread = new AtomicReference<>();
      HttpServer.Options o = new HttpServer.Options().executor(pool);
      start(o, ex -> {
        thread.set(Thread.currentThread().getName());
        Thread.sleep(20); // blocking is allowed here
        ex.body("from a pool").send();
      });
      assertEquals("from a pool", get("/").body());
      assertFalse(thread.get().startsWith("peloton-http"));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void manyConcurrentClients() throws Exception {
    start(HttpServerTest::routes);
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.add(client.sendAsync(HttpRequest.newBuilder(URI.create(url(i % 2 == 0 ? "/" : "/slow")))
          .build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (int i = 0; i < all.size(); i++) {
      HttpResponse<String> r = all.get(i).get(20, TimeUnit.SECONDS);
      assertEquals(i % 2 == 0 ? HELLO : "slow", r.body());
    }
  }

  @Test
  void curlGetsTheHelloPage() throws Exception {
    start(HttpServerTest::routes);
    Process p = new ProcessBuilder("curl", "-s", "-i", url("/")).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    assertTrue(out.startsWith("HTTP/1.1 200 OK\r\n"), out);
    assertTrue(out.endsWith("\r\n\r\n" + HELLO), out);
  }

  private static byte[] payload(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + (i >> 8));
    }
    return b;
  }

  /** Counts the streamed body and answers "chunks bytes checksum". */
  private static void countingHandler(Exchange ex) {
    long[] acc = new long[3];
    boolean streamed = ex.isBodyStreamed();
    ex.bodyStream().consume(v -> {
      byte[] c = (byte[]) v;
      acc[0]++;
      acc[1] += c.length;
      for (byte b : c) {
        acc[2] = acc[2] * 31 + b;
      }
      return null;
    }).onComplete((v, e) -> ex.body(streamed + " " + acc[0] + " " + acc[1] + " " + acc[2]).send());
  }

  private static String expectedCount(byte[] p) {
    long sum = 0;
    for (byte b : p) {
      sum = sum * 31 + b;
    }
    return p.length + " " + sum;
  }

  @Test
  void largeBodiesAreStreamedToTheHandlerSmallOnesArriveWhole() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.bodyBufferLimit = 64 * 1024;
    start(o, HttpServerTest::countingHandler);
    byte[] big = payload(3 * 1024 * 1024 + 17);
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url("/up")))
        .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
        HttpResponse.BodyHandlers.ofString());
    String[] parts = r.body().split(" ", 3);
    assertEquals("true", parts[0]);
    assertTrue(Integer.parseInt(parts[1]) > 1, "arrived in several chunks: " + r.body());
    assertEquals(expectedCount(big), parts[2]);

    byte[] small = payload(1000);
    HttpResponse<String> rs = client.send(HttpRequest.newBuilder(URI.create(url("/up")))
        .POST(HttpRequest.BodyPublishers.ofByteArray(small)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals("false 1 " + expectedCount(small), rs.body());
  }

  @Test
  void aLargeChunkedBodyTurnsIntoAStreamMidway() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.bodyBufferLimit = 64 * 1024;
    start(o, HttpServerTest::countingHandler);
    byte[] big = payload(1024 * 1024);
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (int off = 0; off < big.length; off += 10_000) {
        int n = Math.min(10_000, big.length - off);
        c.send(Integer.toHexString(n) + "\r\n");
        c.send(Arrays.copyOfRange(big, off, off + n));
        c.send("\r\n");
      }
      c.send("0\r\n\r\n");
      String[] parts = c.read().body().split(" ", 3);
      assertEquals("true", parts[0]);
      assertEquals(expectedCount(big), parts[2]);
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); // the connection is still good
      assertEquals(200, c.read().status);
    }
  }

  @Test
  void aStreamedBodyReadAsAnInputStreamOnAnExecutor() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      HttpServer.Options o = new HttpServer.Options().executor(pool);
      o.bodyBufferLimit = 16 * 1024;
      start(o, ex -> {
        byte[] all = ex.bodyInputStream().readAllBytes();
        ex.body(expectedCount(all)).send();
      });
      byte[] big = payload(2 * 1024 * 1024);
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url("/")))
          .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(expectedCount(big), r.body());
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void answeringBeforeTheBodyEndsClosesTheConnection() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.bodyBufferLimit = 1024;
    o.discardLimit = 0; // too much left to drop for a keep-alive connection
    start(o, ex -> ex.sendStatus(403, "no uploads\n"));
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
      c.send(new byte[5000]);
      RawHttp.Response r = c.read();
      assertEquals(403, r.status);
      assertEquals("close", r.header("connection"));
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void aTakenPortIsAnErrorEvenWithSeveralReactors() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.reactors = 2;
    o.port = 0;
    server = HttpServer.start(o, HttpServerTest::routes);
    HttpServer.Options again = new HttpServer.Options();
    again.reactors = 2;
    again.port = server.port();
    IOException e = assertThrows(IOException.class,
        () -> HttpServer.start(again, HttpServerTest::routes).close());
    assertTrue(e.getMessage().contains("cannot listen on"), e.getMessage());
    assertEquals(HELLO, get("/").body());
  }
}
