package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.Test;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;

/**
 * Where the TLS handshake's delegated tasks run. With a ready SSLContext (the caller's key
 * managers) they run on the executor, never on the reactor: a handshake whose key manager is slow
 * (here it sleeps) does not hold up the other connections of its reactor. Configurations built from
 * files, or told so, run them on the reactor thread.
 */
class TlsDelegatedTaskTest {
  /** Where (thread name) and when (nanoTime after) the key manager was asked for its alias. */
  private record Call(String thread, long endNanos) {}

  private static final class SlowKeyManager extends X509ExtendedKeyManager {
    final X509ExtendedKeyManager next;
    final List<Call> calls = new CopyOnWriteArrayList<>();
    volatile long sleepMillis;
    final CountDownLatch sleeping = new CountDownLatch(1);

    SlowKeyManager(X509ExtendedKeyManager next) {
      this.next = next;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      long sleep = sleepMillis;
      if (sleep > 0) {
        try {
          sleeping.countDown();
          Thread.sleep(sleep);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      calls.add(new Call(Thread.currentThread().getName(), System.nanoTime()));
      return next.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return next.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return next.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return next.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return next.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return next.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return next.getPrivateKey(alias);
    }
  }

  /** One full handshake and request (a new client and context: no pooling, no resumption). */
  private static List<Call> handshake(SlowKeyManager km, HttpRequest req, long sleepMillis)
      throws Exception {
    km.sleepMillis = sleepMillis;
    return handshake(km, req);
  }

  private static List<Call> handshake(SlowKeyManager km, HttpRequest req) throws Exception {
    int before = km.calls.size();
    java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder()
        .sslContext(TlsConfig.client(new TlsConfig.ClientOptions()
            .caCert(TestCerts.file("ca.pem"))).context())
        .connectTimeout(Duration.ofSeconds(10)).build();
    assertEquals("ok", c.send(req, HttpResponse.BodyHandlers.ofString()).body());
    List<Call> calls = List.copyOf(km.calls.subList(before, km.calls.size()));
    assertTrue(!calls.isEmpty(), "a full handshake asks the key manager");
    return calls;
  }

  private static SlowKeyManager slowKeyManager() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(Path.of(TestCerts.file("server.p12")))) {
      ks.load(in, "secret".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "secret".toCharArray());
    return new SlowKeyManager((X509ExtendedKeyManager) kmf.getKeyManagers()[0]);
  }

  private static SSLContext contextOf(SlowKeyManager km) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new javax.net.ssl.KeyManager[] {km}, null, null);
    return ctx;
  }

  @Test
  void configurationsFromFilesRunTasksInlineAndReadyContextsOnTheExecutor() throws Exception {
    assertTrue(TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file("server.key"))
        .inlineTasks());
    assertTrue(TlsConfig.serverKeystore(TestCerts.file("server.p12"), "secret").alpn("http/1.1")
        .inlineTasks());
    assertTrue(TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem")))
        .inlineTasks());
    SSLContext ctx = contextOf(slowKeyManager());
    assertFalse(TlsConfig.server(ctx).inlineTasks());
    assertFalse(TlsConfig.client(ctx, true).inlineTasks());
    assertTrue(TlsConfig.server(ctx).inlineTasks(true).alpn("http/1.1").inlineTasks());
  }

  @Test
  void inlineTasksRunOnTheReactorThread() throws Exception {
    SlowKeyManager km = slowKeyManager();
    HttpServer server = HttpServer.start(new HttpServer.Options().port(0).reactors(1)
        .tls(TlsConfig.server(contextOf(km)).inlineTasks(true)), ex -> ex.body("ok").send());
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + "/"))
          .timeout(Duration.ofSeconds(20)).build();
      for (Call c : handshake(km, req, 0)) {
        assertTrue(c.thread().startsWith("peloton-http"), "a task ran on " + c.thread());
      }
    } finally {
      server.close();
    }
  }

  @Test
  void aSlowHandshakeTaskRunsOffTheReactorAndOthersGoOn() throws Exception {
    SlowKeyManager km = slowKeyManager();
    SSLContext ctx = contextOf(km);
    HttpServer server = HttpServer.start(new HttpServer.Options().port(0).reactors(1)
        .tls(TlsConfig.server(ctx)), ex -> ex.body("ok").send());
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + "/"))
          .timeout(Duration.ofSeconds(20)).build();
      for (Call c : handshake(km, req, 0)) {
        assertTrue(c.thread().startsWith("peloton-tls-task"), "a task ran on " + c.thread());
      }
      km.sleepMillis = 1500;
      Future<List<Call>> slow = pool.submit(() -> handshake(km, req));
      assertTrue(km.sleeping.await(20, TimeUnit.SECONDS), "the slow handshake reached its task");
      km.sleepMillis = 0;
      // The reactor is free while the slow task sleeps: a second handshake completes meanwhile
      // (the slow one's list also holds the quick one's calls: its own come last).
      List<Call> quick = handshake(km, req);
      List<Call> slowCalls = slow.get(20, TimeUnit.SECONDS);
      long quickEnd = quick.get(quick.size() - 1).endNanos();
      assertTrue(quickEnd < slowCalls.get(slowCalls.size() - 1).endNanos(),
          "the quick handshake finished before the slow one's task: " + quick + " " + slowCalls);
    } finally {
      pool.shutdownNow();
      server.close();
    }
  }
}
