package peloton.http.client;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.http.server.Exchange;
import peloton.http.server.HttpServer;
import peloton.reactor.ReactorGroup;

/** Peloton's HttpClient over real sockets: Peloton's server, the JDK's server, raw sockets. */
class HttpClientTest {
  private ReactorGroup group;
  private HttpClient client;
  private HttpServer server;
  private com.sun.net.httpserver.HttpServer jdk;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  /** Remote ports seen by the servers: one per client connection. */
  private final Set<Integer> pelotonPorts = ConcurrentHashMap.newKeySet();
  private final Set<Integer> jdkPorts = ConcurrentHashMap.newKeySet();
  private final LinkedBlockingQueue<Exchange> gated = new LinkedBlockingQueue<>();

  @BeforeEach
  void setUp() throws IOException {
    group = new ReactorGroup(2, "client-test").start(true);
    client = new HttpClient(new HttpClient.Options().group(group));
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1), this::routes);
    jdk = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    jdk.createContext("/", this::jdkRoutes);
    jdk.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    for (AutoCloseable c : closeables) c.close();
    jdk.stop(0);
    server.stop(1, TimeUnit.SECONDS).join();
    group.stop();
    assertTrue(group.awaitTermination(5, TimeUnit.SECONDS));
  }

  private void routes(Exchange ex) {
    pelotonPorts.add(ex.remoteAddress().getPort());
    switch (ex.path()) {
      case "/":
        ex.contentType("text/plain").body("hello").send();
        break;
      case "/echo":
        ex.contentType("text/plain").body(ex.method() + "|" + ex.query() + "|"
            + ex.header("content-type") + "|" + ex.header("user-agent") + "|" + ex.header("host")
            + "|" + ex.bodyString()).send();
        break;
      case "/chunked":
        ex.contentType("text/plain").startChunked();
        ex.sendChunk("one,");
        ex.sendChunk("two,");
        ex.sendChunk("three");
        ex.finishChunked();
        break;
      case "/many": // 200 chunks of 1000 bytes, each filled with its index's last digit
        ex.startChunked();
        for (int i = 0; i < 200; i++) ex.sendChunk(String.valueOf(i % 10).repeat(1000));
        ex.finishChunked();
        break;
      case "/gate": // answered by the test
        gated.add(ex);
        break;
      case "/r302":
        ex.status(302).setHeader("Location", "/echo?from=302").body("moved").send();
        break;
      case "/r303":
        ex.status(303).setHeader("Location", "/echo").send();
        break;
      case "/r307":
        ex.status(307).setHeader("Location", "http://127.0.0.1:" + server.port() + "/echo").send();
        break;
      case "/loop":
        ex.status(301).setHeader("Location", "/loop").send();
        break;
      case "/away":
        ex.status(302).setHeader("Location", "http://127.0.0.1:" + jdk.getAddress().getPort()
            + "/len").send();
        break;
      default:
        ex.sendStatus(404, "not found");
    }
  }

  private void jdkRoutes(com.sun.net.httpserver.HttpExchange ex) throws IOException {
    jdkPorts.add(ex.getRemoteAddress().getPort());
    byte[] req = ex.getRequestBody().readAllBytes();
    String path = ex.getRequestURI().getPath();
    byte[] body;
    switch (path) {
      case "/len":
        body = ("jdk says hi, UA " + ex.getRequestHeaders().getFirst("User-Agent"))
            .getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("X-Multi", "a");
        ex.getResponseHeaders().add("X-Multi", "b");
        ex.sendResponseHeaders(200, ex.getRequestMethod().equals("HEAD") ? -1 : body.length);
        break;
      case "/chunked": // length 0 makes the JDK server send chunks
        body = "x".repeat(100_000).getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, 0);
        break;
      case "/form":
        body = (ex.getRequestMethod() + " " + ex.getRequestHeaders().getFirst("Content-Type") + " "
            + new String(req, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, body.length);
        break;
      default:
        body = new byte[0];
        ex.sendResponseHeaders(404, -1);
    }
    try (OutputStream os = ex.getResponseBody()) {
      os.write(body);
    }
  }

  private String peloton(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  private String jdkUrl(String path) {
    return "http://127.0.0.1:" + jdk.getAddress().getPort() + path;
  }

  static ClientResponse await(Fut f) throws Exception {
    try {
      return (ClientResponse) f.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("request failed", e.getCause());
    }
  }

  static HttpClientException awaitError(Fut f, HttpClientException.Kind kind) throws Exception {
    try {
      Object v = f.toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected " + kind + " but got " + v);
    } catch (ExecutionException e) {
      HttpClientException h = assertInstanceOf(HttpClientException.class, e.getCause());
      assertEquals(kind, h.kind(), h.getMessage());
      return h;
    }
  }

  // ------------------------------------------------------------------ bodies and headers

  @Test
  void getFromPelotonServer() throws Exception {
    ClientResponse r = await(client.get(peloton("/")));
    assertEquals(200, r.status());
    assertEquals("OK", r.reason());
    assertEquals("hello", r.bodyString());
    assertEquals("5", r.header("Content-Length"));
    assertEquals("text/plain", r.header("content-type"));
    assertEquals(peloton("/"), r.url());
    ClientResponse e = await(client.get(peloton("/echo")));
    assertEquals("GET|null|null|peloton|127.0.0.1:" + server.port() + "|", e.bodyString());
    assertEquals(404, await(client.get(peloton("/nope"))).status());
  }

  @Test
  void chunkedBodyFromPelotonServer() throws Exception {
    ClientResponse r = await(client.get(peloton("/chunked")));
    assertEquals("chunked", r.header("transfer-encoding"));
    assertEquals("one,two,three", r.bodyString());
  }

  @Test
  void contentLengthChunkedAndHeadFromJdkServer() throws Exception {
    ClientResponse r = await(client.get(jdkUrl("/len")));
    assertEquals(200, r.status());
    assertEquals("jdk says hi, UA peloton", r.bodyString());
    assertEquals(List.of("a", "b"), r.headers("x-multi"));
    ClientResponse c = await(client.get(jdkUrl("/chunked")));
    assertEquals("chunked", c.header("transfer-encoding"));
    assertEquals("x".repeat(100_000), c.bodyString());
    ClientResponse h = await(client.request(new ClientRequest(jdkUrl("/len")).method("head")));
    assertEquals(200, h.status());
    assertEquals(0, h.body().length);
    // the HEAD answer had no body: the connection stays usable
    assertEquals("jdk says hi, UA peloton", await(client.get(jdkUrl("/len"))).bodyString());
    assertEquals(1, jdkPorts.size(), "one keep-alive connection served every request");
  }

  @Test
  void closeDelimitedBodyFromRawServer() throws Exception {
    RawServer raw = raw(s -> {
      readHead(s);
      write(s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end\r\nof the stream");
    });
    ClientResponse r = await(client.get(raw.url("/")));
    assertEquals("until the end\r\nof the stream", r.bodyString());
  }

  // ------------------------------------------------------------------ pool

  @Test
  void keepAliveReusesOneConnectionPerServer() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertEquals("hello", await(client.get(peloton("/"))).bodyString());
      assertEquals(200, await(client.get(jdkUrl("/len"))).status());
    }
    assertEquals(1, pelotonPorts.size());
    assertEquals(1, jdkPorts.size());
  }

  @Test
  void poolNeverOpensMoreThanItsBound() throws Exception {
    client = new HttpClient(new HttpClient.Options().group(group).maxConnectionsPerHost(2));
    List<Fut> futs = new ArrayList<>();
    for (int i = 0; i < 6; i++) futs.add(client.get(peloton("/gate")));
    for (int i = 0; i < 6; i++) {
      Exchange ex = gated.poll(10, TimeUnit.SECONDS);
      assertNotNull(ex, "request " + i + " reached the server");
      ex.body("done " + i).send();
    }
    for (Fut f : futs) assertEquals(200, await(f).status());
    assertEquals(2, pelotonPorts.size(), "six requests over exactly two connections");
  }

  @Test
  void fullWaitQueueFailsAtOnce() throws Exception {
    client = new HttpClient(new HttpClient.Options().group(group).maxConnectionsPerHost(1)
        .maxWaitersPerHost(1));
    Fut first = client.get(peloton("/gate"));
    Fut second = client.get(peloton("/gate"));
    awaitError(client.get(peloton("/gate")), HttpClientException.Kind.POOL_FULL);
    gated.poll(10, TimeUnit.SECONDS).body("1").send();
    gated.poll(10, TimeUnit.SECONDS).body("2").send();
    assertEquals("1", await(first).bodyString());
    assertEquals("2", await(second).bodyString());
    assertEquals(1, pelotonPorts.size());
  }

  @Test
  void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
    client = new HttpClient(new HttpClient.Options().group(group).idleTimeout(100));
    CountDownLatch clientClosed = new CountDownLatch(1);
    RawServer raw = raw(s -> {
      readHead(s);
      write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      if (s.getInputStream().read() == -1) clientClosed.countDown();
    });
    assertEquals("ok", await(client.get(raw.url("/"))).bodyString());
    assertTrue(clientClosed.await(10, TimeUnit.SECONDS), "the idle connection was closed");
  }

  @Test
  void aReusedConnectionTheServerClosedIsRetriedOnce() throws Exception {
    RawServer raw = raw(s -> {
      readHead(s);
      // keep-alive by the headers, then closed at once: the client reuses a dead connection
      write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    Fut second = new Fut();
    client.get(raw.url("/")).onComplete((v, e) -> {
      if (e != null) second.fail(e);
      else client.get(raw.url("/again")).onComplete(second::complete); // on the released connection
    });
    assertEquals("ok", await(second).bodyString());
    assertEquals(2, raw.accepted.get());
  }

  // ------------------------------------------------------------------ params, forms, redirects

  @Test
  void queryParamsAndFormPosts() throws Exception {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("q", "a b&c");
    params.put("n", "é");
    params.put("k", List.of("1", "2"));
    ClientResponse g = await(client.request(new ClientRequest(peloton("/echo?x=1")).params(params)));
    assertEquals("GET|x=1&q=a+b%26c&n=%C3%A9&k=1&k=2|null|peloton|127.0.0.1:" + server.port() + "|",
        g.bodyString());
    ClientResponse p = await(client.request(
        new ClientRequest(peloton("/echo")).method("POST").params(params)));
    assertEquals("POST|null|application/x-www-form-urlencoded|peloton|127.0.0.1:" + server.port()
        + "|q=a+b%26c&n=%C3%A9&k=1&k=2", p.bodyString());
    ClientResponse j = await(client.request(new ClientRequest(jdkUrl("/form")).method("POST")
        .params(Map.of("name", "Ada Lovelace"))));
    assertEquals("POST application/x-www-form-urlencoded name=Ada+Lovelace", j.bodyString());
    ClientResponse b = await(client.request(new ClientRequest(peloton("/echo")).method("PUT")
        .header("Content-Type", "text/plain").body("raw body")));
    assertEquals("PUT|null|text/plain|peloton|127.0.0.1:" + server.port() + "|raw body", b.bodyString());
  }

  @Test
  void redirectsAreFollowedOnlyWhenAsked() throws Exception {
    ClientResponse not = await(client.get(peloton("/r302")));
    assertEquals(302, not.status());
    assertEquals("/echo?from=302", not.header("location"));
    assertEquals("moved", not.bodyString());

    ClientResponse r = await(client.request(new ClientRequest(peloton("/r302")).followRedirects(true)));
    assertEquals(200, r.status());
    assertTrue(r.bodyString().startsWith("GET|from=302|"), r.bodyString());
    assertEquals(peloton("/echo?from=302"), r.url());

    ClientResponse see = await(client.request(new ClientRequest(peloton("/r303")).method("POST")
        .body("data").followRedirects(true)));
    assertTrue(see.bodyString().startsWith("GET|null|"), "303 turns a POST into a GET");
    assertTrue(see.bodyString().endsWith("|"), "without the body: " + see.bodyString());

    ClientResponse keep = await(client.request(new ClientRequest(peloton("/r307")).method("POST")
        .body("data").followRedirects(true)));
    assertTrue(keep.bodyString().startsWith("POST|"), keep.bodyString());
    assertTrue(keep.bodyString().endsWith("|data"), "307 keeps method and body");

    ClientResponse away = await(client.request(new ClientRequest(peloton("/away")).followRedirects(true)));
    assertEquals("jdk says hi, UA peloton", away.bodyString());

    ClientResponse loop = await(client.request(new ClientRequest(peloton("/loop"))
        .followRedirects(true).maxRedirects(3)));
    assertEquals(301, loop.status(), "after the last redirect allowed, the redirect is the answer");
  }

  // ------------------------------------------------------------------ streaming

  @Test
  void streamedBodyComesAsAStreamOfBytes() throws Exception {
    client = new HttpClient(new HttpClient.Options().group(group));
    client.options.streamCapacity = 2;
    ClientResponse r = await(client.request(new ClientRequest(peloton("/many")).stream(true)));
    assertEquals(200, r.status());
    assertNull(r.body());
    Stream s = r.bodyStream();
    StringBuilder got = new StringBuilder();
    Fut done = s.consume(piece -> got.append(new String((byte[]) piece, StandardCharsets.US_ASCII)));
    assertEquals(Boolean.TRUE, done.toCompletableFuture().get(10, TimeUnit.SECONDS));
    StringBuilder want = new StringBuilder();
    for (int i = 0; i < 200; i++) want.append(String.valueOf(i % 10).repeat(1000));
    assertEquals(want.toString(), got.toString());
    assertEquals("hello", await(client.get(peloton("/"))).bodyString());
    assertEquals(1, pelotonPorts.size(), "the connection was reused after the stream ended");
  }

  // ------------------------------------------------------------------ errors

  @Test
  void refusedWhenNothingListens() throws Exception {
    int port;
    try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      port = ss.getLocalPort();
    }
    HttpClientException e = awaitError(client.get("http://127.0.0.1:" + port + "/"),
        HttpClientException.Kind.REFUSED);
    assertEquals("http://127.0.0.1:" + port + "/", e.url());
  }

  @Test
  void resetWhenTheServerAbortsTheConnection() throws Exception {
    RawServer raw = raw(s -> {
      readHead(s);
      s.setSoLinger(true, 0); // close sends RST
    });
    awaitError(client.get(raw.url("/")), HttpClientException.Kind.RESET);
  }

  @Test
  void resetWhenTheServerClosesMidBody() throws Exception {
    RawServer raw = raw(s -> {
      readHead(s);
      write(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
    });
    awaitError(client.get(raw.url("/")), HttpClientException.Kind.RESET);
  }

  @Test
  void timeoutWhenTheServerNeverAnswers() throws Exception {
    CountDownLatch clientGaveUp = new CountDownLatch(1);
    RawServer raw = raw(s -> {
      readHead(s);
      if (s.getInputStream().read() == -1) clientGaveUp.countDown();
    });
    HttpClientException e = awaitError(client.request(new ClientRequest(raw.url("/")).timeout(200)),
        HttpClientException.Kind.TIMEOUT);
    assertTrue(e.getMessage().contains("200 ms"), e.getMessage());
    assertTrue(clientGaveUp.await(10, TimeUnit.SECONDS), "the connection was closed, not pooled");
  }

  @Test
  void malformedResponseFailsAndTheConnectionIsNotReused() throws Exception {
    RawServer raw = raw(s -> {
      readHead(s);
      write(s, "garbage, not HTTP\r\n\r\n");
      s.getInputStream().read(); // keep the socket open: the client must be the one to close
    });
    HttpClientException e = awaitError(client.get(raw.url("/")), HttpClientException.Kind.MALFORMED);
    assertTrue(e.getMessage().contains("malformed status line"), e.getMessage());
    awaitError(client.get(raw.url("/")), HttpClientException.Kind.MALFORMED);
    assertEquals(2, raw.accepted.get(), "each request had a new connection");
  }

  @Test
  void tooLargeBodyFails() throws Exception {
    HttpClient.Options o = new HttpClient.Options().group(group);
    o.maxBody = 3;
    client = new HttpClient(o);
    HttpClientException e = awaitError(client.get(peloton("/")), HttpClientException.Kind.TOO_LARGE);
    // Clojure's ex-data names the kind with the keyword the Clojure API documents.
    assertEquals(clojure.lang.Keyword.intern("too-large"), e.getData().valAt(clojure.lang.Keyword.intern("kind")));
    assertEquals(peloton("/"), e.getData().valAt(clojure.lang.Keyword.intern("url")));
    assertEquals(2, e.getData().count(), "no :reason outside TLS");
  }

  @Test
  void closingTheClientFailsWaitingRequests() throws Exception {
    Fut f = client.get(peloton("/gate"));
    assertNotNull(gated.poll(10, TimeUnit.SECONDS));
    client.close();
    awaitError(f, HttpClientException.Kind.CLOSED);
    awaitError(client.get(peloton("/")), HttpClientException.Kind.CLOSED);
  }

  @Test
  void badArgumentsFailTheFut() throws Exception {
    for (String url : new String[] {"ftp://x/", "not a url", "http:///nohost", "https:///nohost"}) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> client.get(url).toCompletableFuture().get(5, TimeUnit.SECONDS), url);
      assertInstanceOf(IllegalArgumentException.class, e.getCause(), url);
    }
    assertThrows(IllegalArgumentException.class,
        () -> new ClientRequest(peloton("/")).header("X", "a\r\nInjected: 1"));
  }

  @Test
  void runsOnTheSharedReactorWithoutAGroup() throws Exception {
    try (HttpClient plain = new HttpClient()) {
      assertEquals("hello", await(plain.get(peloton("/"))).bodyString());
    }
  }

  @Test
  void encodeParamsHandlesKeywordsNullsAndArrays() {
    Map<Object, Object> m = new LinkedHashMap<>();
    m.put(clojure.lang.Keyword.intern("a"), clojure.lang.Keyword.intern("b"));
    m.put("n", null);
    m.put("arr", new Object[] {1, "x y"});
    assertEquals("a=b&n=&arr=1&arr=x+y", HttpClient.encodeParams(m));
  }

  // ------------------------------------------------------------------ raw servers

  interface SocketBody {
    void serve(Socket s) throws Exception;
  }

  /** A blocking server on its own thread: one task per accepted connection, then the socket closes. */
  final class RawServer implements AutoCloseable {
    final ServerSocket ss;
    final AtomicInteger accepted = new AtomicInteger();
    final Thread thread;

    RawServer(SocketBody body) throws IOException {
      ss = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
      thread = new Thread(() -> {
        while (!ss.isClosed()) {
          try {
            Socket s = ss.accept();
            accepted.incrementAndGet();
            Thread t = new Thread(() -> {
              try (s) {
                body.serve(s);
              } catch (Exception e) {
                // the client went away: nothing to do
              }
            });
            t.setDaemon(true);
            t.start();
          } catch (IOException e) {
            return;
          }
        }
      }, "raw-server");
      thread.setDaemon(true);
      thread.start();
    }

    String url(String path) {
      return "http://127.0.0.1:" + ss.getLocalPort() + path;
    }

    @Override
    public void close() throws Exception {
      ss.close();
      thread.join(5000);
    }
  }

  private RawServer raw(SocketBody body) throws IOException {
    RawServer r = new RawServer(body);
    closeables.add(r);
    return r;
  }

  /** Reads up to the end of a request head (the tests send no bodies to raw servers). */
  static void readHead(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    int state = 0;
    while (state < 4) {
      int c = in.read();
      if (c < 0) throw new IOException("closed before the end of the head");
      state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
          ? state + 1 : 0;
    }
  }

  static void write(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }
}
