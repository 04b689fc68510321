package peloton.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

/** The transport against OpenSSL's own client and server. */
class TlsOpensslTest {
  static final Reactor CLIENT = new Reactor("tls-openssl-client").start(true);

  @AfterAll
  static void stop() {
    CLIENT.stop();
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void opensslClientNegotiatesVersionAndAlpnAndClosesCleanly(String version) throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(TlsTransportTest.server());
         TlsPeers.OpenSsl c = new TlsPeers.OpenSsl(List.of("s_client", "-connect",
             "127.0.0.1:" + server.port(), version, "-alpn", "h2,http/1.1", "-servername",
             "localhost", "-CAfile", TestCerts.file("ca.pem"), "-verify_return_error"))) {
      String want = version.equals("-tls1_2") ? "TLSv1.2" : "TLSv1.3";
      c.await("ALPN protocol: http/1.1", 10);
      c.await("Verify return code: 0 (ok)", 10);
      c.send("hello peloton\n");
      c.await("hello peloton", 10);
      assertTrue(c.output().contains(want), c.output());
      c.closeInput(); // s_client then sends close_notify
      assertEquals("eof", server.events.poll(10, TimeUnit.SECONDS), c.output());
      assertTrue(server.transports.get(0).engine().isInboundDone(), "close_notify received");
      assertEquals(want, server.transports.get(0).engine().getSession().getProtocol());
      assertEquals("http/1.1", server.transports.get(0).applicationProtocol());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1", "-tls1_1"})
  void oldProtocolVersionsAreRefused(String version) throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(TlsTransportTest.server());
         TlsPeers.OpenSsl c = new TlsPeers.OpenSsl(List.of("s_client", "-connect",
             "127.0.0.1:" + server.port(), version, "-cipher", "DEFAULT@SECLEVEL=0"))) {
      Object e = server.events.poll(10, TimeUnit.SECONDS);
      assertEquals(TlsException.Reason.PROTOCOL_VERSION,
          assertInstanceOf(TlsException.class, e, String.valueOf(e)).reason(), c.output());
      assertTrue(c.process.waitFor(10, TimeUnit.SECONDS), "openssl gave up");
    }
  }

  @Test
  void tls12RenegotiationIsRefused() throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(TlsTransportTest.server());
         TlsPeers.OpenSsl c = new TlsPeers.OpenSsl(List.of("s_client", "-connect",
             "127.0.0.1:" + server.port(), "-tls1_2", "-CAfile", TestCerts.file("ca.pem")))) {
      c.await("Verify return code", 10);
      c.send("before\n");
      c.await("before", 10);
      c.send("R\n"); // s_client: renegotiate
      Object e = server.events.poll(10, TimeUnit.SECONDS);
      assertEquals(TlsException.Reason.RENEGOTIATION,
          assertInstanceOf(TlsException.class, e, String.valueOf(e)).reason(), c.output());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_2", "-tls1_3"})
  void ourClientTalksToOpensslServer(String version) throws Exception {
    int port = TlsPeers.freePort();
    try (TlsPeers.OpenSsl s = new TlsPeers.OpenSsl(List.of("s_server", "-accept",
        "127.0.0.1:" + port, version, "-cert", TestCerts.file("server.pem"), "-key",
        TestCerts.file("server.key"), "-alpn", "http/1.1", "-rev"))) {
      s.await("ACCEPT", 10);
      TlsConfig client = TlsTransportTest.trustingClient().alpn("http/1.1");
      byte[] msg = "abcdef\n".getBytes(StandardCharsets.US_ASCII);
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, client, "localhost", port, msg, 7);
      byte[] back = f.toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("fedcba\n", new String(back, StandardCharsets.US_ASCII));
      s.await("CONNECTION CLOSED", 10); // our close_notify ends the session cleanly
      assertTrue(!s.output().contains("unexpected eof"), s.output());
    }
  }
}
