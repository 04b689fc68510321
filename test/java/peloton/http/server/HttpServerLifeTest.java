package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's life beyond the happy path: handlers that never answer, answers that come
 * before the request body, slow bodies, throttled error logs, the same port started twice at
 * once, and stopping with connections still in the backlog.
 */
class HttpServerLifeTest {
  private HttpServer server;
  private final List<HttpServer> others = new ArrayList<>();

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).join();
    }
    for (HttpServer s : others) {
      s.stop(1, TimeUnit.SECONDS).join();
    }
  }

  private HttpServer start(HttpServer.Options o, HttpHandler h) throws IOException {
    o.port = 0;
    o.reactors = 2;
    server = HttpServer.start(o, h);
    return server;
  }

  /** Collects what the logger writes to System.err (slf4j-simple writes there) meanwhile. */
  private static String capturingStderr(ThrowingRunnable r) throws Exception {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream tee = new PrintStream(new OutputStream() {
      @Override
      public void write(int b) {
        synchronized (buf) {
          buf.write(b);
        }
      }

      @Override
      public void write(byte[] b, int off, int len) {
        synchronized (buf) {
          buf.write(b, off, len);
        }
      }
    }, true, StandardCharsets.UTF_8);
    System.setErr(tee);
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    synchronized (buf) {
      return buf.toString(StandardCharsets.UTF_8);
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static int count(String haystack, String needle) {
    int n = 0;
    for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  // ---- handlers that never answer ----

  @Test
  void aHandlerThatNeverAnswersGets503AndItsLateAnswerIsDropped() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.responseTimeoutMillis = 300;
    CompletableFuture<Exchange> held = new CompletableFuture<>();
    start(o, ex -> {
      ex.route("GET ^/hang$");
      held.complete(ex);
    });
    String log = capturingStderr(() -> {
      try (RawHttp c = new RawHttp(server.port())) {
        c.send("GET /hang?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response r = c.read();
        assertEquals(503, r.status);
        assertEquals("close", r.header("connection"));
        assertTrue(r.header("date") != null);
        Exchange ex = held.get(5, TimeUnit.SECONDS);
        ex.body("late").send(); // dropped: no second answer reaches the client
        assertTrue(c.closedByServer());
        assertTrue(ex.isFinished());
      }
    });
    assertTrue(log.contains("no answer to GET /hang?x=1 (route GET ^/hang$) within 300 ms"), log);
  }

  @Test
  void aStartedChunkedAnswerIsNotCutByTheResponseTimeout() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.responseTimeoutMillis = 200;
    start(o, ex -> {
      ex.startChunked();
      ex.sendChunk("a,");
      ex.reactor().later(1.0, () -> {
        ex.sendChunk("b");
        ex.finishChunked();
      });
    });
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals(200, r.status);
      assertEquals("a,b", r.body());
    }
  }

  @Test
  void theResponseTimeoutCanBeTurnedOff() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.responseTimeoutMillis = 0;
    start(o, ex -> ex.reactor().later(1.2, () -> ex.body("slow but fine").send()));
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals("slow but fine", c.read().body());
    }
  }

  @Test
  void repeatedHandlerFailuresAreLoggedOnceInFullThenCounted() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.errorLogIntervalMillis = 2000;
    start(o, ex -> {
      ex.route("GET ^/boom$");
      throw new IllegalStateException("boom (expected by the test)");
    });
    String log = capturingStderr(() -> {
      for (int i = 0; i < 40; i++) {
        try (RawHttp c = new RawHttp(server.port())) {
          c.send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
          assertEquals(500, c.read().status);
        }
      }
      // The server's sweep logs the count once the interval is over: poll for it, bounded.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (server.errors.pendingRepeats() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    });
    assertEquals(1, count(log, "handler failed on GET /boom (route GET ^/boom$)"), log);
    assertEquals(1, count(log, "\tat peloton.http.server.Connection.runHandler"), log); // one trace
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("handler failed (\\d+) more times").matcher(log);
    int repeats = 0;
    while (m.find()) {
      repeats += Integer.parseInt(m.group(1));
    }
    assertEquals(39, repeats, log);
  }

  // ---- answers before the body ----

  /** Writes {@code body} in a thread and answers the number of bytes written before an error. */
  private static Future<Long> writeInBackground(ExecutorService pool, Socket s, byte[] head,
      int bodyBytes) {
    return pool.submit(() -> {
      OutputStream out = s.getOutputStream();
      out.write(head);
      byte[] block = new byte[64 * 1024];
      long sent = 0;
      while (sent < bodyBytes) {
        int n = (int) Math.min(block.length, bodyBytes - sent);
        out.write(block, 0, n);
        sent += n;
      }
      out.flush();
      return sent;
    });
  }

  @Test
  void anEarlyAnswerToALargeUploadReachesTheClientWhileItKeepsSending() throws Exception {
    start(new HttpServer.Options(), ex -> ex.sendStatus(401, "who are you?\n"));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      for (int size : new int[] {2 << 20, 8 << 20}) {
        try (RawHttp c = new RawHttp(server.port())) {
          byte[] head = ("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII);
          Future<Long> writer = writeInBackground(pool, c.socket, head, size);
          RawHttp.Response r = c.read();
          assertEquals(401, r.status);
          assertEquals("who are you?\n", r.body());
          assertEquals("close", r.header("connection"));
          // Every byte went out: the server read and dropped them instead of resetting.
          assertEquals(size, writer.get(10, TimeUnit.SECONDS));
          c.socket.shutdownOutput();
          assertTrue(c.closedByServer());
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aBodyTooLargeFor413IsReadAndDroppedSoThe413Arrives() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.limits.maxBody = 1 << 20;
    start(o, ex -> ex.body("no").send());
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (RawHttp c = new RawHttp(server.port())) {
      int size = 8 << 20;
      byte[] head = ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
      Future<Long> writer = writeInBackground(pool, c.socket, head, size);
      assertEquals(413, c.read().status);
      assertEquals(size, writer.get(10, TimeUnit.SECONDS));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aShortUnwantedBodyIsDroppedAndTheConnectionServesTheNextRequest() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.bodyBufferLimit = 16 * 1024; // bigger bodies reach the handler while they arrive
    start(o, ex -> {
      if (ex.path().equals("/next")) {
        ex.body("next").send();
      } else {
        ex.sendStatus(404, "nope\n");
      }
    });
    try (RawHttp c = new RawHttp(server.port())) {
      int size = 300 * 1024;
      c.send("POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n");
      RawHttp.Response r = c.read();
      assertEquals(404, r.status);
      assertNull(r.header("connection"));
      c.send(new byte[size]);
      c.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals("next", c.read().body());
      // chunked: the same, chunk by chunk
      c.send("POST /nothing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      StringBuilder chunks = new StringBuilder();
      for (int i = 0; i < 40; i++) {
        chunks.append("1000\r\n").append("z".repeat(4096)).append("\r\n");
      }
      chunks.append("0\r\n\r\n");
      c.send(chunks.toString());
      assertEquals(404, c.read().status);
      c.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals("next", c.read().body());
    }
  }

  @Test
  void curlAndNodeFetchReadTheEarlyAnswerToLargePosts(@TempDir Path dir) throws Exception {
    start(new HttpServer.Options(), ex -> ex.sendStatus(404, "no such upload\n"));
    String url = "http://127.0.0.1:" + server.port() + "/only-get";
    for (int mib : new int[] {2, 8}) {
      Path body = dir.resolve(mib + "m.bin");
      Files.write(body, new byte[mib << 20]);
      Process p = new ProcessBuilder("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
          "--data-binary", "@" + body, url).redirectErrorStream(true).start();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals("404", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
    assumeTrue(commandWorks("node", "--version"), "node is not installed");
    String js = "const u = process.argv[1]; (async () => { for (const mib of [2, 8]) {"
        + " const r = await fetch(u, {method: 'POST', body: new Uint8Array(mib << 20)});"
        + " console.log(mib + ':' + r.status + ':' + (await r.text()).trim()); } })()"
        + ".catch(e => { console.log('error:' + e + ':' + (e.cause || '')); process.exit(1); });";
    Process p = new ProcessBuilder("node", "-e", js, url).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals("2:404:no such upload\n8:404:no such upload\n", out);
  }

  private static boolean commandWorks(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  // ---- slow bodies ----

  @Test
  void aBodyTrickledBelowTheMinimumRateGets408() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.minBodyRate = 1000;
    o.bodyRateGraceMillis = 500;
    start(o, ex -> ex.body("got " + ex.bodyLength()).send());
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
      long t0 = System.nanoTime();
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        pool.submit(() -> {
          for (int i = 0; i < 1000; i++) {
            c.out.write('x');
            c.out.flush();
            Thread.sleep(100);
          }
          return null;
        });
        RawHttp.Response r = c.read();
        assertEquals(408, r.status);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aBodyAtAFairRateIsServed() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.minBodyRate = 1000;
    o.bodyRateGraceMillis = 300;
    start(o, ex -> ex.body("got " + ex.bodyLength()).send());
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
      for (int i = 0; i < 10; i++) {
        c.send(new byte[1000]);
        Thread.sleep(100); // 10 kB/s: well above the minimum
      }
      assertEquals("got 10000", c.read().body());
    }
  }

  // ---- output buffers ----

  @Test
  void aCallersBodyArrayIsNeverReusedAsAnOutputBuffer() throws Exception {
    byte[] page = new byte[Connection.ACC_SIZE]; // exactly the size of the pooled buffers
    for (int i = 0; i < page.length; i++) {
      page[i] = (byte) ('a' + i % 26);
    }
    byte[] copy = page.clone();
    start(new HttpServer.Options(), ex -> {
      if (ex.path().equals("/page")) {
        ex.body(page).send();
      } else {
        ex.body("x".repeat(3000)).send();
      }
    });
    try (RawHttp c = new RawHttp(server.port())) {
      for (int i = 0; i < 20; i++) {
        c.send("GET /page HTTP/1.1\r\nHost: x\r\n\r\nGET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        assertArrayEquals(copy, c.read().body);
        assertEquals(3000, c.read().body.length);
      }
    }
    assertArrayEquals(copy, page);
  }

  // ---- upgrades ----

  @Test
  void anUpgradedConnectionIsHandedOverWithTheBytesThatFollowedTheRequest() throws Exception {
    start(new HttpServer.Options(), ex -> {
      ex.conn.handOver((t, key, rest) -> {
        java.nio.channels.SocketChannel ch = t.channel();
        // A stand-in for the next protocol: echoes what it was given, then what arrives.
        try {
          ch.write(ByteBuffer.wrap("got:".getBytes(StandardCharsets.US_ASCII)));
          ch.write(rest);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        key.interestOps(java.nio.channels.SelectionKey.OP_READ);
        key.attach((peloton.reactor.Reactor.IoHandler) k -> {
          ByteBuffer b = ByteBuffer.allocate(256);
          try {
            if (ch.read(b) < 0) {
              ch.close();
              return;
            }
            b.flip();
            ch.write(b);
          } catch (IOException e) {
            Connection.closeQuietly(ch);
          }
        });
        return null;
      });
      ex.status(101).setHeader("Upgrade", "echo").setHeader("Connection", "Upgrade").send();
    });
    try (RawHttp c = new RawHttp(server.port())) {
      c.send("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello");
      RawHttp.Response r = c.read();
      assertEquals(101, r.status);
      assertEquals("echo", r.header("upgrade"));
      assertEquals("got:hello", new String(c.in.readNBytes(9), StandardCharsets.US_ASCII));
      c.send("more");
      assertEquals("more", new String(c.in.readNBytes(4), StandardCharsets.US_ASCII));
    }
  }

  // ---- start and stop ----

  @Test
  void twoServersStartedAtOnceOnOnePortNeverBothGetIt() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int trial = 0; trial < 10; trial++) {
        CyclicBarrier together = new CyclicBarrier(2);
        List<Future<HttpServer>> starts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          starts.add(pool.submit(() -> {
            HttpServer.Options o = new HttpServer.Options();
            o.port = port;
            o.reactors = 2;
            together.await(5, TimeUnit.SECONDS);
            try {
              return HttpServer.start(o, ex -> ex.body("hi").send());
            } catch (IOException e) {
              return null;
            }
          }));
        }
        List<HttpServer> won = new ArrayList<>();
        for (Future<HttpServer> f : starts) {
          HttpServer s = f.get(20, TimeUnit.SECONDS);
          if (s != null) {
            won.add(s);
          }
        }
        for (HttpServer s : won) {
          s.stop(1, TimeUnit.SECONDS).join();
        }
        assertEquals(1, won.size(), "trial " + trial);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void stoppingServesWhatIsAlreadyInTheBacklog() throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.reactors = 1;
    start(o, ex -> ex.body("served").send());
    // Hold the reactor so connections pile up in the backlog, then stop while they wait.
    CountDownLatch hold = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(1);
    server.reactors().reactors().get(0).submit(() -> {
      held.countDown();
      try {
        hold.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(held.await(5, TimeUnit.SECONDS));
    List<RawHttp> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        RawHttp c = new RawHttp(server.port());
        clients.add(c);
        c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      }
      peloton.fut.Fut<Void> stopped = server.stop(5, TimeUnit.SECONDS);
      hold.countDown();
      for (RawHttp c : clients) {
        RawHttp.Response r = c.read();
        assertEquals(200, r.status);
        assertEquals("served", r.body());
      }
      stopped.get(10, TimeUnit.SECONDS);
      server = null;
    } finally {
      hold.countDown();
      for (RawHttp c : clients) {
        c.close();
      }
    }
  }

  @Test
  void aShutdownHookIsAddedOnlyWhenAskedAndRemovedOnStop() throws Exception {
    start(new HttpServer.Options(), ex -> ex.body("x").send());
    assertNull(server.shutdownHook());
    server.stop(1, TimeUnit.SECONDS).join();
    HttpServer.Options o = new HttpServer.Options();
    o.shutdownGraceMillis = 1000;
    start(o, ex -> ex.body("x").send());
    Thread hook = server.shutdownHook();
    assertTrue(hook != null);
    server.stop(1, TimeUnit.SECONDS).join();
    server = null;
    assertFalse(Runtime.getRuntime().removeShutdownHook(hook), "still registered after stop");
  }

  @Test
  void sigtermStopsGracefullyAndTheInFlightRequestIsAnswered() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        SigtermServer.class.getName()).redirectErrorStream(true).start();
    try {
      java.io.BufferedReader out = new java.io.BufferedReader(
          new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line;
      int port = -1;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("port ")) {
          port = Integer.parseInt(line.substring(5).trim());
          break;
        }
      }
      assertTrue(port > 0, "the child server did not start");
      try (RawHttp c = new RawHttp(port)) {
        c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("in handler", out.readLine());
        p.destroy(); // SIGTERM
        RawHttp.Response r = c.read();
        assertEquals(200, r.status);
        assertEquals("slow but answered", r.body());
        assertEquals("close", r.header("connection"));
      }
      assertTrue(p.waitFor(20, TimeUnit.SECONDS));
      assertEquals(143, p.exitValue()); // 128 + SIGTERM: the JVM's own exit on that signal
    } finally {
      p.destroyForcibly();
    }
  }
}
