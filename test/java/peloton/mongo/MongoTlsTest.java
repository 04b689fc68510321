package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.reactor.Reactor;
import peloton.transport.Pem;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;

/** MongoDB over TLS: mongo-java-server with TLS on, the official driver reading what we wrote. */
class MongoTlsTest {
  private MongoServer server;
  private int port;
  private Reactor reactor;
  private final String ca = TestCerts.file("ca.pem");

  private void startServer(String cert, String key) throws Exception {
    server = new MongoServer(new MemoryBackend());
    List<X509Certificate> chain = Pem.certificates(Path.of(TestCerts.file(cert)));
    server.enableSsl(Pem.privateKey(Path.of(TestCerts.file(key)), null), null,
        chain.toArray(new X509Certificate[0]));
    server.bind("127.0.0.1", 0);
    port = server.getLocalAddress().getPort();
  }

  @BeforeEach
  void setUp() {
    reactor = new Reactor("mongo-tls-test").start(true);
  }

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.shutdownNow();
    }
    reactor.stop();
  }

  private MongoClient connect(String uri) throws Exception {
    return MongoClient.connect(MongoOptions.fromUri(uri), reactor).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  /** What connecting to {@code uri} fails with: a MongoConnectionException, in words. */
  private String failure(String uri) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> connect(uri));
    assertInstanceOf(MongoConnectionException.class, e.getCause());
    return e.getCause().getMessage();
  }

  @Test
  void writesOverTlsThatTheOfficialDriverReadsOverTls() throws Exception {
    startServer("server.pem", "server.key");
    MongoClient c = connect("mongodb://localhost:" + port + "/db?tls=true&tlsCAFile=" + ca
        + "&connectTimeoutMS=5000");
    try {
      MongoClientTest.await(c.insert("db.bikes", List.of(MongoClientTest.doc(
          MongoClientTest.k("name"), "tls bike", MongoClientTest.k("gears"), 11))));
    } finally {
      c.close();
    }
    javax.net.ssl.SSLContext trusting =
        TlsConfig.client(new TlsConfig.ClientOptions().caCert(ca)).context();
    MongoClientSettings settings = MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://localhost:" + port + "/?tls=true"))
        .applyToSslSettings(b -> b.enabled(true).context(trusting))
        .build();
    try (com.mongodb.client.MongoClient driver = MongoClients.create(settings)) {
      Document d = driver.getDatabase("db").getCollection("bikes").find().first();
      assertEquals("tls bike", d.getString("name"));
      assertEquals(11, d.getInteger("gears"));
    }
  }

  @Test
  void ssl_isAnAliasAndAnIpLiteralMatchesItsSan() throws Exception {
    startServer("server-ec.pem", "server-ec.key");
    MongoClient c = connect("mongodb://127.0.0.1:" + port + "/?ssl=true&tlsCAFile=" + ca);
    c.close();
  }

  @Test
  void verificationFailuresAreClearAndTheAllowOptionsRelaxThem() throws Exception {
    startServer("wronghost.pem", "wronghost.key");
    String base = "mongodb://localhost:" + port + "/?connectTimeoutMS=5000&tls=true";
    String untrusted = failure(base);
    assertTrue(untrusted.contains("untrusted certificate"), untrusted);
    String mismatch = failure(base + "&tlsCAFile=" + ca);
    assertTrue(mismatch.contains("hostname mismatch"), mismatch);
    connect(base + "&tlsCAFile=" + ca + "&tlsAllowInvalidHostnames=true").close();
    connect(base + "&tlsAllowInvalidCertificates=true").close();
    connect(base + "&tlsInsecure=true").close();
  }

  @Test
  void aPlaintextClientToATlsServerFailsInsteadOfHanging() throws Exception {
    startServer("server.pem", "server.key");
    String e = failure("mongodb://localhost:" + port + "/?connectTimeoutMS=2000");
    assertTrue(e.contains("closed") || e.contains("within"), e);
  }

  @Test
  void clientCertificateFileWithItsKeyIsUsed() throws Exception {
    startServer("server.pem", "server.key");
    connect("mongodb://localhost:" + port + "/?tls=true&tlsCAFile=" + ca
        + "&tlsCertificateKeyFile=" + TestCerts.file("client-combined.pem")).close();
    String missing = assertThrows(IllegalArgumentException.class, () -> MongoClient.connect(
        MongoOptions.fromUri("mongodb://localhost:" + port + "/?tls=true&tlsCertificateKeyFile="
            + TestCerts.file("nope.pem")), reactor)).getMessage();
    assertTrue(missing.contains("nope.pem"), missing);
  }

  @Test
  void forbiddenCombinationsAndTlsOptionsWithoutTlsAreErrors() {
    for (String q : List.of("tls=true&tlsInsecure=true&tlsAllowInvalidCertificates=true",
        "tls=true&tlsInsecure=true&tlsAllowInvalidHostnames=false",
        "tls=true&ssl=false", "tls=yes",
        "tls=true&tlsAllowInvalidCertificates=true&tlsDisableOCSPEndpointCheck=true")) {
      assertThrows(IllegalArgumentException.class,
          () -> MongoOptions.fromUri("mongodb://localhost/?" + q), q);
    }
    IllegalArgumentException off = assertThrows(IllegalArgumentException.class,
        () -> MongoClient.connect(MongoOptions.fromUri("mongodb://localhost/?tlsCAFile=" + ca)));
    assertTrue(off.getMessage().contains("tls=true"), off.getMessage());
  }

  @Test
  void x509NeedsTls() throws Exception {
    server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", 0);
    String e = failure("mongodb://localhost:" + server.getLocalAddress().getPort()
        + "/?authMechanism=MONGODB-X509&connectTimeoutMS=3000");
    assertTrue(e.contains("MONGODB-X509 needs TLS"), e);
  }
}
