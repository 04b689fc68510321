package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.Test;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;

/**
 * The TLS handshake's delegated tasks run inline on the reactor, and move to the executor once one
 * is seen to take long (here a key manager that sleeps), so one slow handshake does not keep
 * stalling the reactor.
 */
class TlsDelegatedTaskTest {
  /** Where (thread name) and when (nanoTime after) the key manager was asked for its alias. */
  private record Call(String thread, long endNanos) {}

  private static final class SlowKeyManager extends X509ExtendedKeyManager {
    final X509ExtendedKeyManager next;
    final List<Call> calls = new CopyOnWriteArrayList<>();
    volatile long sleepMillis;

    SlowKeyManager(X509ExtendedKeyManager next) {
      this.next = next;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      if (sleepMillis > 0) {
        try {
          Thread.sleep(sleepMillis);
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

  @Test
  void shortTasksRunOnTheReactorAndASlowOneMovesTheNextToTheExecutor() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(Path.of(TestCerts.file("server.p12")))) {
      ks.load(in, "secret".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "secret".toCharArray());
    SlowKeyManager km = new SlowKeyManager((X509ExtendedKeyManager) kmf.getKeyManagers()[0]);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new javax.net.ssl.KeyManager[] {km}, null, null);
    HttpServer server = HttpServer.start(new HttpServer.Options().port(0).reactors(1)
        .tls(TlsConfig.server(ctx)), ex -> ex.body("ok").send());
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + "/"))
          .timeout(Duration.ofSeconds(20)).build();
      // The first handshakes (cold code) may themselves be slow and send the next ones to the
      // executor: go on until one runs inline, then make one slow and look at the next.
      long deadline = System.nanoTime() + 60_000_000_000L;
      boolean sawInline = false;
      boolean checked = false;
      while (!checked && System.nanoTime() - deadline < 0) {
        List<Call> warm = handshake(km, req, 0);
        if (!warm.get(0).thread().startsWith("peloton-http")) {
          continue;
        }
        sawInline = true;
        List<Call> slow = handshake(km, req, 60);
        List<Call> next = handshake(km, req, 0);
        long gap = next.get(0).endNanos() - slow.get(slow.size() - 1).endNanos();
        if (slow.get(0).thread().startsWith("peloton-http") && gap < 900_000_000L) {
          assertTrue(next.get(0).thread().startsWith("peloton-tls-task"),
              "after a slow task the next ones go to the executor: " + slow + " then " + next);
          checked = true;
        }
      }
      assertTrue(sawInline, "short tasks run inline on the reactor");
      assertTrue(checked, "a slow task was seen and the next handshake checked");
    } finally {
      server.close();
    }
  }
}
