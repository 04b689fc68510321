package peloton.http.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.lang.Keyword;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.reactor.ReactorGroup;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;
import peloton.transport.TlsException;

/** Peloton's HttpClient over https: the JDK's HttpsServer and openssl s_server as peers. */
class HttpsClientTest {
  private ReactorGroup group;
  private HttpClient client;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void setUp() throws IOException {
    group = new ReactorGroup(1, "https-client-test").start(true);
    client = new HttpClient(new HttpClient.Options().group(group).tls(trusting()));
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    for (AutoCloseable c : closeables) {
      c.close();
    }
    group.stop();
    assertTrue(group.awaitTermination(5, TimeUnit.SECONDS));
  }

  static TlsConfig trusting() throws IOException {
    return TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem")));
  }

  /** A JDK HttpsServer with {@code cert}/{@code key}, answering the TLS protocol it used. */
  private int jdkHttps(String cert, String key) throws IOException {
    HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.setHttpsConfigurator(new HttpsConfigurator(
        TlsConfig.serverPem(TestCerts.file(cert), TestCerts.file(key)).context()));
    s.createContext("/", ex -> {
      clientPorts.add(ex.getRemoteAddress().getPort());
      byte[] b = ("hello over "
          + ((com.sun.net.httpserver.HttpsExchange) ex).getSSLSession().getProtocol())
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    s.start();
    closeables.add(() -> s.stop(0));
    return s.getAddress().getPort();
  }

  private static ClientResponse await(Fut<ClientResponse> f) throws Exception {
    return f.toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private static HttpClientException failure(Fut<ClientResponse> f) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> f.toCompletableFuture().get(15, TimeUnit.SECONDS));
    return assertInstanceOf(HttpClientException.class, e.getCause());
  }

  @Test
  void getsFromTheJdkHttpsServerAndReusesTheConnection() throws Exception {
    int port = jdkHttps("server.pem", "server.key");
    for (int i = 0; i < 3; i++) {
      ClientResponse r = await(client.get("https://localhost:" + port + "/x"));
      assertEquals(200, r.status());
      assertEquals("hello over TLSv1.3", r.bodyString());
    }
    assertEquals(1, clientPorts.size(), "one kept-alive TLS connection");
    // an IP literal is verified against the certificate's IP SAN, and is a pool of its own
    assertEquals(200, await(client.get("https://127.0.0.1:" + port + "/")).status());
    assertEquals(2, clientPorts.size());
  }

  @Test
  void verificationFailuresAreKindTlsWithTheReason() throws Exception {
    Object[][] cases = {
      {"wronghost.pem", "wronghost.key", client, "hostname mismatch"},
      {"expired.pem", "expired.key", client, "certificate expired"},
      {"server.pem", "server.key", new HttpClient(new HttpClient.Options().group(group)),
          "untrusted certificate"},
    };
    for (Object[] c : cases) {
      int port = jdkHttps((String) c[0], (String) c[1]);
      String url = "https://localhost:" + port + "/";
      HttpClientException e = failure(((HttpClient) c[2]).get(url));
      assertEquals(HttpClientException.Kind.TLS, e.kind(), e.toString());
      Map<?, ?> data = (Map<?, ?>) e.getData();
      assertEquals(Keyword.intern("tls"), data.get(Keyword.intern("kind")));
      assertEquals(c[3], data.get(Keyword.intern("reason")), e.toString());
      assertEquals(url, data.get(Keyword.intern("url")));
    }
  }

  @Test
  void insecureAcceptsAnyCertificate() throws Exception {
    int port = jdkHttps("wronghost.pem", "wronghost.key");
    try (HttpClient insecure = new HttpClient(new HttpClient.Options().group(group)
        .tls(TlsConfig.client(new TlsConfig.ClientOptions().insecure())))) {
      assertEquals(200, await(insecure.get("https://localhost:" + port + "/")).status());
    }
  }

  @Test
  void aSilentServerFailsWithinTheConnectTimeout() throws Exception {
    ServerSocket silent = new ServerSocket(0);
    closeables.add(silent);
    try (HttpClient c = new HttpClient(new HttpClient.Options().group(group).tls(trusting())
        .connectTimeout(300))) {
      long t0 = System.nanoTime();
      HttpClientException e = failure(c.get("https://localhost:" + silent.getLocalPort() + "/"));
      assertEquals(HttpClientException.Kind.TLS, e.kind());
      assertEquals(TlsException.Reason.TIMEOUT, e.tlsReason());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
    }
  }

  /** openssl s_server -www answers a GET with an HTML page describing the session. */
  private int opensslWww(List<String> extra) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(List.of("openssl", "s_server", "-accept",
        "127.0.0.1:" + port, "-www"));
    cmd.addAll(extra);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    closeables.add(() -> {
      p.destroy();
      p.waitFor(5, TimeUnit.SECONDS);
    });
    LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
        String l;
        while ((l = r.readLine()) != null) {
          lines.add(l);
        }
      } catch (IOException e) {
        // ended
      }
    });
    t.setDaemon(true);
    t.start();
    for (;;) {
      String l = lines.poll(10, TimeUnit.SECONDS);
      if (l == null) {
        throw new AssertionError("openssl s_server did not start");
      }
      if (l.contains("ACCEPT")) {
        return port;
      }
    }
  }

  @Test
  void sendsSniSoTheServerPicksTheRightCertificate() throws Exception {
    // default certificate for the wrong host; the localhost one only for SNI "localhost"
    int port = opensslWww(List.of("-cert", TestCerts.file("wronghost.pem"), "-key",
        TestCerts.file("wronghost.key"), "-servername", "localhost", "-cert2",
        TestCerts.file("server.pem"), "-key2", TestCerts.file("server.key")));
    ClientResponse r = await(client.get("https://localhost:" + port + "/"));
    assertEquals(200, r.status());
    assertTrue(r.bodyString().contains("TLSv1.3"), r.bodyString());
  }

  @Test
  void mutualTlsWithAClientCertificate() throws Exception {
    int port = opensslWww(List.of("-cert", TestCerts.file("server.pem"), "-key",
        TestCerts.file("server.key"), "-Verify", "1", "-CAfile", TestCerts.file("ca.pem"),
        "-tls1_2"));
    String url = "https://localhost:" + port + "/";
    HttpClientException e = failure(client.get(url));
    assertEquals(HttpClientException.Kind.TLS, e.kind(), e.toString());
    try (HttpClient mtls = new HttpClient(new HttpClient.Options().group(group).tls(
        TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem"))
            .clientCert(TestCerts.file("client.pem"), TestCerts.file("client.key")))))) {
      ClientResponse r = await(mtls.get(url));
      assertEquals(200, r.status());
      assertTrue(r.bodyString().contains("peloton-client"), r.bodyString());
    }
  }
}
