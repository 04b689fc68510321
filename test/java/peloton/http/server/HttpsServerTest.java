package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import peloton.fut.Fut;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;

/** Peloton's server over https against curl, openssl s_client and the JDK HttpClient. */
class HttpsServerTest {
  private HttpServer server;
  private java.net.http.HttpClient jdk;
  private Path dir;
  private byte[] big;

  @BeforeEach
  void setUp() throws IOException {
    dir = Files.createTempDirectory("https-files");
    big = new byte[3 * 1024 * 1024 + 123];
    new Random(7).nextBytes(big);
    Files.write(dir.resolve("big.bin"), big);
    FileHandler files = FileHandler.directory(dir, new FileHandler.Options());
    HttpServer.Options o = new HttpServer.Options().port(0).reactors(1)
        .tls(TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file("server.key")));
    o.headerTimeoutMillis = 1500;
    server = HttpServer.start(o, ex -> {
      switch (ex.path()) {
        case "/":
          ex.contentType("text/plain").body("hello " + ex.isSecure() + " "
              + ex.tlsSession().getProtocol()).send();
          break;
        case "/echo":
          ex.contentType("text/plain").body(ex.bodyString()).send();
          break;
        case "/chunked": {
          ex.contentType("text/plain").startChunked();
          StringBuilder all = new StringBuilder();
          for (int i = 0; i < 200; i++) {
            String piece = "chunk " + i + " " + "x".repeat(500) + "\n";
            all.append(piece);
            ex.sendChunk(piece);
          }
          ex.finishChunked();
          break;
        }
        default:
          if (ex.path().startsWith("/files/")) {
            files.serve(ex, ex.path().substring(7));
          } else {
            ex.status(404).body("no").send();
          }
      }
    });
    jdk = java.net.http.HttpClient.newBuilder()
        .sslContext(TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem")))
            .context())
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.stop(1, TimeUnit.SECONDS).join();
    try (var s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  private String url(String path) {
    return "https://localhost:" + server.port() + path;
  }

  private HttpResponse<byte[]> jdkGet(String path) throws Exception {
    return jdk.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(20))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void jdkHttpClientGetsPlainChunkedAndFileResponses() throws Exception {
    HttpResponse<byte[]> r = jdkGet("/");
    assertEquals(200, r.statusCode());
    assertEquals(java.net.http.HttpClient.Version.HTTP_1_1, r.version(), "ALPN chose http/1.1");
    assertEquals("hello true TLSv1.3", new String(r.body(), StandardCharsets.UTF_8));
    HttpResponse<byte[]> c = jdkGet("/chunked");
    String text = new String(c.body(), StandardCharsets.UTF_8);
    assertEquals(200, text.split("\n").length);
    assertTrue(text.startsWith("chunk 0 ") && text.endsWith("chunk 199 " + "x".repeat(500) + "\n"));
    HttpResponse<byte[]> f = jdkGet("/files/big.bin");
    assertArrayEquals(big, f.body());
    HttpResponse<String> post = jdk.send(HttpRequest.newBuilder(URI.create(url("/echo")))
        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(200_000))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200_000, post.body().length());
  }

  private static String run(List<String> cmd, byte[] stdin) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin);
    }
    p.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread t = new Thread(() -> {
      try {
        p.getInputStream().transferTo(out);
      } catch (IOException e) {
        // ended
      }
    });
    t.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(cmd + " hung; output: " + out);
    }
    t.join(5000);
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  @Test
  void curlWithCacertDownloadsAFileAndARange() throws Exception {
    Path got = dir.resolve("got.bin");
    String out = run(List.of("curl", "-sS", "--cacert", TestCerts.file("ca.pem"), "-o",
        got.toString(), "-w", "%{http_code} %{http_version} %{ssl_verify_result}",
        url("/files/big.bin")), null);
    assertEquals("200 1.1 0", out.trim());
    assertArrayEquals(big, Files.readAllBytes(got));
    String range = run(List.of("curl", "-sS", "--cacert", TestCerts.file("ca.pem"), "-r",
        "100-109", url("/files/big.bin")), null);
    assertArrayEquals(java.util.Arrays.copyOfRange(big, 100, 110),
        range.getBytes(StandardCharsets.ISO_8859_1));
    String keepAlive = run(List.of("curl", "-sS", "--cacert", TestCerts.file("ca.pem"), url("/"),
        url("/"), "--tlsv1.2", "--tls-max", "1.2"), null);
    assertEquals("hello true TLSv1.2hello true TLSv1.2", keepAlive);
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void opensslClientGetsPipelinedAnswersInOrder(String version) throws Exception {
    String req = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
        + "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nabcde"
        + "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    String out = run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + server.port(),
        version, "-alpn", "http/1.1", "-servername", "localhost", "-CAfile",
        TestCerts.file("ca.pem"), "-ign_eof"), req.getBytes(StandardCharsets.US_ASCII));
    assertTrue(out.contains("ALPN protocol: http/1.1"), out);
    assertTrue(out.contains("Verify return code: 0 (ok)"), out);
    int a = out.indexOf("hello true TLSv1." + version.charAt(version.length() - 1));
    int b = out.indexOf("\r\n\r\nabcde");
    int c = out.indexOf("HTTP/1.1 404");
    assertTrue(a > 0 && b > a && c > b, out);
  }

  /** A request that must still be served while bad clients come and go. */
  private void stillServes() throws Exception {
    assertEquals(200, jdkGet("/").statusCode());
  }

  private static int readAll(InputStream in, ByteArrayOutputStream into) throws IOException {
    byte[] b = new byte[4096];
    int n;
    try {
      while ((n = in.read(b)) >= 0) {
        into.write(b, 0, n);
      }
    } catch (java.net.SocketException e) {
      return -2; // reset: also a close
    }
    return -1;
  }

  @Test
  void badClientsAreClosedAndOthersServed() throws Exception {
    // plain HTTP on the TLS port: a plain 400, then close
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      readAll(s.getInputStream(), got);
      String text = got.toString(StandardCharsets.US_ASCII);
      assertTrue(text.startsWith("HTTP/1.1 400 Bad Request\r\n") && text.contains("HTTPS"), text);
    }
    stillServes();
    // random bytes: closed
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5000);
      byte[] junk = new byte[300];
      new Random(1).nextBytes(junk);
      junk[0] = 0x16; // looks like a handshake record at first
      s.getOutputStream().write(junk);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      readAll(s.getInputStream(), got);
      assertTrue(got.size() < 64, "at most an alert: " + got.size());
    }
    stillServes();
    // a truncated ClientHello, then silence: cut by the header timeout (1.5 s here)
    byte[] hello = clientHelloBytes();
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(hello, 0, hello.length / 2);
      stillServes();
      long t0 = System.nanoTime();
      readAll(s.getInputStream(), new ByteArrayOutputStream());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(9), "closed by the server");
    }
    // a TLS 1.0 hello: refused with an alert and closed
    String old = run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + server.port(),
        "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), new byte[0]);
    assertTrue(old.contains("alert protocol version") || old.contains("no protocols available"),
        old);
    stillServes();
  }

  /** The first bytes of a real TLS ClientHello, as the JDK's client writes them. */
  private byte[] clientHelloBytes() throws Exception {
    try (java.net.ServerSocket capture = new java.net.ServerSocket(0)) {
      Fut<byte[]> done = new Fut<>();
      Thread t = new Thread(() -> {
        try (Socket in = capture.accept()) {
          in.setSoTimeout(5000);
          byte[] buf = new byte[512];
          int n = in.getInputStream().read(buf);
          done.deliver(java.util.Arrays.copyOf(buf, n));
        } catch (IOException e) {
          done.fail(e);
        }
      });
      t.start();
      SSLSocket s = (SSLSocket) TlsConfig.client().context().getSocketFactory()
          .createSocket("127.0.0.1", capture.getLocalPort());
      s.setSoTimeout(2000);
      Thread hs = new Thread(() -> {
        try {
          s.startHandshake();
        } catch (IOException e) {
          // the capture server hangs up
        }
      });
      hs.start();
      byte[] b = done.toCompletableFuture().get(10, TimeUnit.SECONDS);
      s.close();
      assertEquals(0x16, b[0]);
      return b;
    }
  }

  @Test
  void aKeyThatDoesNotMatchIsAnErrorAtStart() {
    IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file("expired.key")));
    assertTrue(e.getMessage().contains("expired.key") && e.getMessage().contains("fullchain.pem"),
        e.getMessage());
  }
}
