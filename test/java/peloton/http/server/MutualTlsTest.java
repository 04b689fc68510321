package peloton.http.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import peloton.http.server.Cmd.Run;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;
import peloton.transport.TlsConfig.ClientAuth;

/**
 * Mutual TLS on the server: a client certificate asked for (want) or required (need), checked
 * against the given CA only, and shown to the handler; against curl, openssl s_client and the
 * JDK HttpClient.
 */
class MutualTlsTest {
  private HttpServer server;

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.close();
    }
  }

  private void start(ClientAuth mode) throws IOException {
    TlsConfig tls = TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file("server.key"))
        .clientAuth(mode, TestCerts.file("ca.pem"));
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1).tls(tls), ex -> {
      X509Certificate[] chain = ex.clientCertificates();
      ex.contentType("text/plain").body(chain == null ? "no certificate"
          : chain[0].getSubjectX500Principal().getName() + " by "
              + chain[0].getIssuerX500Principal().getName()).send();
    });
  }

  private String url() {
    return "https://localhost:" + server.port() + "/";
  }

  private static Run run(List<String> cmd, byte[] stdin) throws Exception {
    return Cmd.run(cmd, stdin);
  }

  private Run curl(String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--cacert",
        TestCerts.file("ca.pem")));
    cmd.addAll(List.of(extra));
    cmd.add(url());
    return run(cmd, null);
  }

  private Run curlWithCert(String cert) throws Exception {
    return curl("--cert", TestCerts.file(cert + ".pem"), "--key", TestCerts.file(cert + ".key"));
  }

  @Test
  void needRefusesClientsWithoutATrustedCertificateAndShowsTheVerifiedOne() throws Exception {
    start(ClientAuth.NEED);
    Run ok = curlWithCert("client");
    assertEquals(new Run(0, "CN=peloton-client by CN=Peloton Test CA"), ok);
    for (String version : List.of("--tlsv1.2", "--tlsv1.3")) {
      Run none = curl(version, "--tls-max", version.substring(6));
      assertNotEquals(0, none.exit(), none.out());
      assertFalse(none.out().contains("CN=") || none.out().contains("no certificate"), none.out());
    }
    Run stranger = curlWithCert("stranger");
    assertNotEquals(0, stranger.exit(), stranger.out());
    assertFalse(stranger.out().contains("CN="), stranger.out());
    // the server keeps serving after the refusals
    assertEquals(ok, curlWithCert("client"));
  }

  @Test
  void opensslWithoutACertificateGetsTheAlertAndNoAnswer() throws Exception {
    start(ClientAuth.NEED);
    byte[] req = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII);
    for (String version : List.of("-tls1_2", "-tls1_3")) {
      Run none = run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + server.port(),
          version, "-servername", "localhost", "-CAfile", TestCerts.file("ca.pem"), "-ign_eof"),
          req);
      assertFalse(none.out().contains("HTTP/1.1 200"), none.out());
      assertTrue(none.out().contains("alert"), version + " names the alert: " + none.out());
      Run with = run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + server.port(),
          version, "-servername", "localhost", "-CAfile", TestCerts.file("ca.pem"), "-cert",
          TestCerts.file("client.pem"), "-key", TestCerts.file("client.key"), "-ign_eof"), req);
      assertTrue(with.out().contains("HTTP/1.1 200") && with.out().contains("CN=peloton-client by CN=Peloton Test CA"),
          with.out());
    }
  }

  @Test
  void wantServesClientsWithAndWithoutACertificate() throws Exception {
    start(ClientAuth.WANT);
    assertEquals(new Run(0, "no certificate"), curl());
    assertEquals(new Run(0, "CN=peloton-client by CN=Peloton Test CA"), curlWithCert("client"));
    Run stranger = curlWithCert("stranger");
    assertNotEquals(0, stranger.exit(), "a certificate shown must verify: " + stranger.out());
  }

  @Test
  void jdkHttpClientWithPelotonsClientConfig() throws Exception {
    start(ClientAuth.NEED);
    java.net.http.HttpClient withCert = java.net.http.HttpClient.newBuilder()
        .sslContext(TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem"))
            .clientCert(TestCerts.file("client.pem"), TestCerts.file("client.key"))).context())
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest req = HttpRequest.newBuilder(URI.create(url())).timeout(Duration.ofSeconds(20))
        .build();
    assertEquals("CN=peloton-client by CN=Peloton Test CA",
        withCert.send(req, HttpResponse.BodyHandlers.ofString()).body());
    java.net.http.HttpClient without = java.net.http.HttpClient.newBuilder()
        .sslContext(TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem")))
            .context())
        .connectTimeout(Duration.ofSeconds(5)).build();
    assertThrows(IOException.class, () -> without.send(req, HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  void clientAuthMisuseIsAClearError() throws Exception {
    TlsConfig ready = TlsConfig.server(
        TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file("server.key")).context());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ready.clientAuth(ClientAuth.NEED, TestCerts.file("ca.pem")));
    assertTrue(e.getMessage().contains("SSLContext"), e.getMessage());
    assertThrows(IllegalStateException.class,
        () -> TlsConfig.client().clientAuth(ClientAuth.NEED, TestCerts.file("ca.pem")));
    IOException missing = assertThrows(IOException.class, () -> TlsConfig.serverPem(
        TestCerts.file("fullchain.pem"), TestCerts.file("server.key"))
        .clientAuth(ClientAuth.NEED, "no-such-ca.pem"));
    assertTrue(missing.getMessage().contains("no-such-ca.pem"), missing.getMessage());
  }
}
