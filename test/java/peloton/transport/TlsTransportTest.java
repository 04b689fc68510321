package peloton.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

class TlsTransportTest {
  static final Reactor CLIENT = new Reactor("tls-test-client").start(true);

  @AfterAll
  static void stop() {
    CLIENT.stop();
  }

  static TlsConfig server() throws IOException {
    return TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file("server.key"))
        .alpn("http/1.1");
  }

  static TlsConfig trustingClient() throws IOException {
    return TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem")));
  }

  static SSLContext jdkClientContext() throws IOException {
    return trustingClient().context();
  }

  static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  // ------------------------------------------------------------------ key material

  @Test
  void readsEveryKeyFormatOpensslAndCertbotWrite() throws IOException {
    for (String k : List.of("server.key", "server-rsa1.key", "server-combined.pem")) {
      PrivateKey key = Pem.privateKey(Path.of(TestCerts.file(k)), null);
      assertEquals("RSA", key.getAlgorithm(), k);
      TlsConfig.serverPem(TestCerts.file("fullchain.pem"), TestCerts.file(k));
    }
    for (String k : List.of("server-ec.key", "server-ec-sec1.key")) {
      assertEquals("EC", Pem.privateKey(Path.of(TestCerts.file(k)), null).getAlgorithm(), k);
      TlsConfig.serverPem(TestCerts.file("server-ec.pem"), TestCerts.file(k));
    }
    assertEquals("RSA", Pem.privateKey(Path.of(TestCerts.file("server-enc.key")),
        "secret".toCharArray()).getAlgorithm());
    assertEquals(2, Pem.certificates(Path.of(TestCerts.file("fullchain.pem"))).size());
    TlsConfig.serverKeystore(TestCerts.file("server.p12"), "secret");
  }

  @Test
  void badKeyMaterialIsAnErrorNamingTheFile() {
    IOException mismatch = assertThrows(IOException.class, () -> TlsConfig.serverPem(
        TestCerts.file("server.pem"), TestCerts.file("client.key")));
    assertTrue(mismatch.getMessage().contains("client.key")
        && mismatch.getMessage().contains("does not belong"), mismatch.getMessage());
    IOException missing = assertThrows(IOException.class, () -> TlsConfig.serverPem(
        TestCerts.file("nope.pem"), TestCerts.file("server.key")));
    assertTrue(missing.getMessage().contains("nope.pem"), missing.getMessage());
    IOException notCert = assertThrows(IOException.class, () -> TlsConfig.serverPem(
        TestCerts.file("server.key"), TestCerts.file("server.key")));
    assertTrue(notCert.getMessage().contains("server.key")
        && notCert.getMessage().contains("CERTIFICATE"), notCert.getMessage());
    IOException encrypted = assertThrows(IOException.class, () -> TlsConfig.serverPem(
        TestCerts.file("server.pem"), TestCerts.file("server-enc.key")));
    assertTrue(encrypted.getMessage().contains("server-enc.key"), encrypted.getMessage());
    IOException wrongPassword = assertThrows(IOException.class, () -> TlsConfig.serverKeystore(
        TestCerts.file("server.p12"), "wrong"));
    assertTrue(wrongPassword.getMessage().contains("server.p12"), wrongPassword.getMessage());
  }

  // ------------------------------------------------------------------ against the JDK

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void echoesMegabytesToTheJdkSslSocket(String protocol) throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(server());
         SSLSocket s = (SSLSocket) jdkClientContext().getSocketFactory()
             .createSocket("127.0.0.1", server.port())) {
      s.setEnabledProtocols(new String[] {protocol});
      byte[] data = random(1_500_000);
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = s.getOutputStream();
          for (int i = 0; i < data.length; i += 7000) {
            out.write(data, i, Math.min(7000, data.length - i));
          }
          out.flush();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      writer.start();
      byte[] back = s.getInputStream().readNBytes(data.length);
      writer.join(10_000);
      assertArrayEquals(data, back);
      assertEquals(protocol, s.getSession().getProtocol());
      assertEquals(protocol, server.transports.get(0).session().getProtocol());
      s.close(); // sends close_notify
      assertEquals("eof", server.events.poll(10, TimeUnit.SECONDS));
      assertTrue(server.transports.get(0).engine().isInboundDone(), "close_notify seen");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void clientTalksToTheJdkSslServerSocket(String protocol) throws Exception {
    SSLContext ctx = server().context();
    try (SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0)) {
      ss.setEnabledProtocols(new String[] {protocol});
      Thread t = new Thread(() -> {
        try (Socket s = ss.accept()) {
          byte[] in = s.getInputStream().readNBytes(100_000);
          s.getOutputStream().write(in);
          s.getOutputStream().flush();
          s.getInputStream().read(); // until our close_notify
        } catch (IOException e) {
          // the test fails on the client side
        }
      });
      t.start();
      byte[] data = random(100_000);
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, trustingClient(), "localhost", ss.getLocalPort(), data,
          data.length);
      assertArrayEquals(data, f.toCompletableFuture().get(10, TimeUnit.SECONDS));
      t.join(10_000);
    }
  }

  @Test
  void applicationDataInTheSameWriteAsTheClientFinishedIsServed() throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(server());
         SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port()))) {
      SSLEngine e = trustingClient().clientEngine("localhost", server.port());
      byte[] msg = "ping after finished".getBytes(StandardCharsets.US_ASCII);
      ByteBuffer net = ByteBuffer.allocate(64 * 1024);
      ByteBuffer in = ByteBuffer.allocate(64 * 1024);
      ByteBuffer app = ByteBuffer.allocate(64 * 1024);
      e.beginHandshake();
      boolean sentData = false;
      while (!sentData) {
        switch (e.getHandshakeStatus()) {
          case NEED_TASK:
            e.getDelegatedTask().run();
            break;
          case NEED_WRAP: {
            net.clear();
            SSLEngineResult r = e.wrap(ByteBuffer.allocate(0), net);
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED
                || e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
              e.wrap(ByteBuffer.wrap(msg), net); // the request rides with the last flight
              sentData = true;
            }
            net.flip();
            while (net.hasRemaining()) {
              ch.write(net);
            }
            break;
          }
          case NEED_UNWRAP: {
            in.flip();
            SSLEngineResult r = e.unwrap(in, app);
            in.compact();
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
              ch.read(in);
            }
            break;
          }
          default:
            throw new AssertionError("handshake ended without a last flight to join");
        }
      }
      app.clear();
      while (app.position() < msg.length) {
        in.flip();
        SSLEngineResult r = e.unwrap(in, app);
        in.compact();
        if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
          assertTrue(ch.read(in) > 0, "echo arrives");
        }
      }
      assertEquals(new String(msg, StandardCharsets.US_ASCII),
          new String(app.array(), 0, app.position(), StandardCharsets.US_ASCII));
    }
  }

  /** Forwards bytes one at a time both ways: every record and handshake message gets split. */
  static final class TrickleProxy implements AutoCloseable {
    final ServerSocket listener = new ServerSocket(0);

    TrickleProxy(int target) throws IOException {
      Thread t = new Thread(() -> {
        try (Socket a = listener.accept(); Socket b = new Socket("127.0.0.1", target)) {
          a.setTcpNoDelay(true);
          b.setTcpNoDelay(true);
          Thread back = pipe(b.getInputStream(), a.getOutputStream());
          pipe(a.getInputStream(), b.getOutputStream()).join();
          back.join();
        } catch (IOException | InterruptedException e) {
          // test over
        }
      });
      t.setDaemon(true);
      t.start();
    }

    static Thread pipe(InputStream in, OutputStream out) {
      Thread t = new Thread(() -> {
        try {
          int c;
          while ((c = in.read()) >= 0) {
            out.write(c);
            out.flush();
            LockSupport.parkNanos(20_000); // a gap, so the reader sees the byte alone
          }
          out.close();
        } catch (IOException e) {
          // closed
        }
      });
      t.setDaemon(true);
      t.start();
      return t;
    }

    int port() {
      return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
  void recordsArrivingOneByteAtATimeDecodeTheSame(String protocol) throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(server());
         TrickleProxy proxy = new TrickleProxy(server.port());
         SSLSocket s = (SSLSocket) jdkClientContext().getSocketFactory()
             .createSocket("127.0.0.1", proxy.port())) {
      s.setEnabledProtocols(new String[] {protocol});
      byte[] data = random(3000);
      s.getOutputStream().write(data, 0, 1000);
      s.getOutputStream().write(data, 1000, 2000);
      s.getOutputStream().flush();
      assertArrayEquals(data, s.getInputStream().readNBytes(data.length));
    }
  }

  @Test
  void ourClientThroughTheTrickleProxy() throws Exception {
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(server());
         TrickleProxy proxy = new TrickleProxy(server.port())) {
      byte[] data = random(2000);
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, trustingClient(), "localhost", proxy.port(), data,
          data.length);
      assertArrayEquals(data, f.toCompletableFuture().get(30, TimeUnit.SECONDS));
    }
  }

  // ------------------------------------------------------------------ verification failures

  static TlsException.Reason failureAgainst(String cert, String key, TlsConfig client, String host)
      throws Exception {
    TlsConfig s = TlsConfig.serverPem(TestCerts.file(cert), TestCerts.file(key));
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(s)) {
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, client, host, server.port(), new byte[] {1}, 1);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> f.toCompletableFuture().get(10, TimeUnit.SECONDS));
      return assertInstanceOf(TlsException.class, e.getCause()).reason();
    }
  }

  @Test
  void verificationFailuresSayWhy() throws Exception {
    assertEquals(TlsException.Reason.HOSTNAME_MISMATCH,
        failureAgainst("wronghost.pem", "wronghost.key", trustingClient(), "localhost"));
    assertEquals(TlsException.Reason.EXPIRED,
        failureAgainst("expired.pem", "expired.key", trustingClient(), "localhost"));
    assertEquals(TlsException.Reason.UNTRUSTED,
        failureAgainst("server.pem", "server.key", TlsConfig.client(), "localhost"));
    assertEquals(TlsException.Reason.UNTRUSTED, failureAgainst("server.pem", "server.key",
        TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("other-ca.pem"))),
        "localhost"));
    // an IP literal is checked against the IP SANs: 127.0.0.1 is one
    TlsConfig s = TlsConfig.serverPem(TestCerts.file("server.pem"), TestCerts.file("server.key"));
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(s)) {
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, trustingClient(), "127.0.0.1", server.port(),
          new byte[] {7}, 1);
      assertArrayEquals(new byte[] {7}, f.toCompletableFuture().get(10, TimeUnit.SECONDS));
    }
    // insecure accepts the wrong host and the untrusted CA
    TlsConfig insecure = TlsConfig.client(new TlsConfig.ClientOptions().insecure());
    TlsConfig w = TlsConfig.serverPem(TestCerts.file("wronghost.pem"), TestCerts.file("wronghost.key"));
    try (TlsPeers.EchoServer server = new TlsPeers.EchoServer(w)) {
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, insecure, "localhost", server.port(), new byte[] {9}, 1);
      assertArrayEquals(new byte[] {9}, f.toCompletableFuture().get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void handshakeTimesOutWhenThePeerSaysNothing() throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) {
      Fut<byte[]> f = TlsPeers.exchange(CLIENT, trustingClient(), "localhost", silent.getLocalPort(),
          new byte[] {1}, 1, 500);
      // the peer accepts (backlog) and never answers
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> f.toCompletableFuture().get(20, TimeUnit.SECONDS));
      assertEquals(TlsException.Reason.TIMEOUT,
          assertInstanceOf(TlsException.class, e.getCause()).reason());
    }
  }
}
