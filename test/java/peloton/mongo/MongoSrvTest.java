package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.File;
import java.net.DatagramSocket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import peloton.reactor.Reactor;
import peloton.transport.Pem;
import peloton.transport.TestCerts;

/**
 * {@code mongodb+srv://} against a real DNS server on loopback (Debian's dnsmasq, serving SRV,
 * TXT and A records from its command line) and mongo-java-server with TLS on.
 */
class MongoSrvTest {
  static Process dns;
  static int dnsPort;
  static MongoServer server;
  static int port;
  static Reactor reactor;

  static String dnsmasq() {
    for (String p : new String[] {"/usr/sbin/dnsmasq", "/sbin/dnsmasq", "/usr/bin/dnsmasq"}) {
      if (new File(p).canExecute()) {
        return p;
      }
    }
    return null;
  }

  @BeforeAll
  static void start() throws Exception {
    String bin = dnsmasq();
    assumeTrue(bin != null, "dnsmasq is not installed (apt-get install dnsmasq-base)");
    server = new MongoServer(new MemoryBackend());
    List<X509Certificate> chain = Pem.certificates(Path.of(TestCerts.file("server.pem")));
    server.enableSsl(Pem.privateKey(Path.of(TestCerts.file("server.key")), null), null,
        chain.toArray(new X509Certificate[0]));
    server.bind("127.0.0.1", 0);
    port = server.getLocalAddress().getPort();
    try (DatagramSocket probe = new DatagramSocket(0)) {
      dnsPort = probe.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(List.of(bin, "--no-daemon", "--no-resolv", "--no-hosts",
        "--port=" + dnsPort, "--listen-address=127.0.0.1", "--bind-interfaces",
        "--log-facility=-", "--address=/test.local/127.0.0.1",
        "--srv-host=_mongodb._tcp.cluster0.test.local,db1.test.local," + port,
        "--srv-host=_mongodb._tcp.cluster0.test.local,db2.test.local," + port,
        "--srv-host=_mongodb._tcp.cluster0.test.local,db3.test.local," + port,
        "--txt-record=cluster0.test.local,authSource=thedb",
        "--srv-host=_custom._tcp.cluster0.test.local,db9.test.local," + port,
        "--srv-host=_mongodb._tcp.evil.test.local,db.elsewhere.example," + port,
        "--srv-host=_mongodb._tcp.twotxt.test.local,db1.test.local," + port,
        "--txt-record=twotxt.test.local,authSource=a",
        "--txt-record=twotxt.test.local,replicaSet=b",
        "--srv-host=_mongodb._tcp.badtxt.test.local,db1.test.local," + port,
        "--txt-record=badtxt.test.local,maxPoolSize=3"));
    if ("root".equals(System.getProperty("user.name"))) {
      cmd.add("--user=root");
    }
    dns = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    // Ready once it answers: ask until the SRV lookup works (bounded).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (;;) {
      try {
        MongoOptions o = srvOptions("mongodb+srv://cluster0.test.local/");
        SrvResolver.resolve(o);
        break;
      } catch (IllegalArgumentException e) {
        if (System.nanoTime() > deadline || !dns.isAlive()) {
          throw new AssertionError("dnsmasq did not answer: "
              + new String(dns.getInputStream().readNBytes(dns.getInputStream().available())), e);
        }
      }
    }
    reactor = new Reactor("mongo-srv-test").start(true);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (dns != null) {
      dns.destroy();
      dns.waitFor(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow();
    }
    if (reactor != null) {
      reactor.stop();
    }
  }

  static MongoOptions srvOptions(String uri) {
    MongoOptions o = MongoOptions.fromUri(uri);
    o.srvDnsServer = "dns://127.0.0.1:" + dnsPort;
    return o;
  }

  @Test
  void seedListTxtOptionsAndTlsByDefault() {
    MongoOptions o = srvOptions("mongodb+srv://u:p@cluster0.test.local/db");
    assertTrue(o.tls, "+srv turns TLS on");
    SrvResolver.resolve(o);
    assertEquals(List.of("db1.test.local:" + port, "db2.test.local:" + port,
        "db3.test.local:" + port), o.hosts.stream().sorted().toList());
    assertEquals("thedb", o.authSource);
    MongoOptions uriWins = srvOptions("mongodb+srv://u:p@cluster0.test.local/db?authSource=mine");
    SrvResolver.resolve(uriWins);
    assertEquals("mine", uriWins.authSource);
    MongoOptions two = srvOptions("mongodb+srv://cluster0.test.local/?srvMaxHosts=2");
    SrvResolver.resolve(two);
    assertEquals(2, two.hosts.size());
    MongoOptions custom = srvOptions("mongodb+srv://cluster0.test.local/?srvServiceName=custom");
    SrvResolver.resolve(custom);
    assertEquals(List.of("db9.test.local:" + port), custom.hosts);
    assertEquals(false, MongoOptions.fromUri("mongodb+srv://cluster0.test.local/?tls=false").tls);
  }

  @Test
  void theSpecsErrors() {
    for (String bad : List.of("mongodb+srv://cluster0.test.local:27017/",
        "mongodb+srv://a.test.local,b.test.local/", "mongodb+srv://test.local/",
        "mongodb+srv://cluster0.test.local/?directConnection=true",
        "mongodb://localhost/?srvMaxHosts=1")) {
      assertThrows(IllegalArgumentException.class, () -> MongoOptions.fromUri(bad), bad);
    }
    for (String[] c : new String[][] {
        {"mongodb+srv://evil.test.local/", "not under the domain"},
        {"mongodb+srv://twotxt.test.local/", "TXT records"},
        {"mongodb+srv://badtxt.test.local/", "only authSource, replicaSet and loadBalanced"},
        {"mongodb+srv://nothing.test.local/", "no SRV records"}}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SrvResolver.resolve(srvOptions(c[0])), c[0]);
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }
  }

  @Test
  void connectsThroughTheSeedListOverTls() throws Exception {
    // the certificate names localhost, not db1.test.local: hostnames are let through here
    MongoOptions o = srvOptions("mongodb+srv://cluster0.test.local/shop?tlsCAFile="
        + TestCerts.file("ca.pem") + "&tlsAllowInvalidHostnames=true&directConnection=false"
        + "&srvMaxHosts=1");
    MongoClient c = MongoClient.connect(o, reactor).toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      c.insert("shop.orders", List.of(MongoClientTest.doc(MongoClientTest.k("n"), 42)))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals(1L, ((Number) c.count("shop.orders", MongoClientTest.doc())
          .toCompletableFuture().get(30, TimeUnit.SECONDS)).longValue());
    } finally {
      c.close();
    }
    MongoOptions strict = srvOptions("mongodb+srv://cluster0.test.local/?tlsCAFile="
        + TestCerts.file("ca.pem") + "&srvMaxHosts=1&connectTimeoutMS=3000");
    ExecutionException e = assertThrows(ExecutionException.class, () -> MongoClient.connect(
        strict, reactor).toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("hostname mismatch"), e.getCause().toString());
  }
}
