package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.http.server.HttpServer;
import peloton.transport.TestCerts;
import peloton.transport.TlsConfig;
import peloton.transport.TlsException;

/**
 * WebSocket over TLS (wss://): Peloton's HTTPS server upgraded to WebSocket against the JDK's
 * client, python3-websockets and Peloton's own client; Peloton's client against python3-websockets
 * and npm ws wss servers; certificate failures; large and compressed messages; bytes that arrive
 * with the upgrade request inside the same TLS records.
 */
class WssTest {
  private static final String PYTHON = PeersTest.PYTHON;
  private HttpServer server;
  private Process peer;
  private final LinkedBlockingQueue<String> closes = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() throws Exception {
    if (peer != null) {
      peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }
  }

  private int wssEchoServer(String cert, String key) throws Exception {
    WebSocket.Listener echo = EchoServer.recordingCloses(closes);
    WebSocketOptions o = new WebSocketOptions().maxMessageSize(8 << 20).maxFrameSize(8 << 20);
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1)
            .tls(TlsConfig.serverPem(TestCerts.file(cert), TestCerts.file(key))),
        ex -> WebSocketUpgrade.upgrade(ex, echo, o, null));
    return server.port();
  }

  private int wssEchoServer() throws Exception {
    return wssEchoServer("fullchain.pem", "server.key");
  }

  private static TlsConfig trustingTestCa() throws IOException {
    return TlsConfig.client(new TlsConfig.ClientOptions().caCert(TestCerts.file("ca.pem")));
  }

  /** A Peloton client listener that records whole messages by kind, length and hash. */
  private static WebSocket.Listener recorder(LinkedBlockingQueue<String> got) {
    return new WebSocket.Listener() {
      @Override
      public Fut<?> onText(WebSocket w, String text) {
        got.add("text:" + text.length() + ":" + text.hashCode());
        return null;
      }

      @Override
      public Fut<?> onBinary(WebSocket w, ByteBuffer data) {
        got.add("binary:" + data.remaining() + ":" + data.hashCode());
        return null;
      }
    };
  }

  /** Round trips of small, large and binary messages through an echo at {@code url}. */
  private static void roundTrips(String url, TlsConfig tls, String expectExtension)
      throws Exception {
    LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
    WebSocket ws = WebSocketClient.connect(new WebSocketClient.Request(url).tls(tls)
            .options(new WebSocketOptions().maxMessageSize(8 << 20).maxFrameSize(8 << 20)),
        recorder(got)).toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(expectExtension, ws.extensions() == null ? null
        : ws.extensions().substring(0, Math.min(ws.extensions().length(), 18)));
    // A large message spans many TLS records (16 KiB each) and many reads of the frame decoder.
    StringBuilder big = new StringBuilder();
    for (int i = 0; big.length() < 2_000_000; i++) {
      big.append(i).append(' ');
    }
    for (String s : new String[] {"hello", "\u00e9t\u00e9 \ud83d\ude00", big.toString()}) {
      ws.sendText(s);
      assertEquals("text:" + s.length() + ":" + s.hashCode(), got.poll(20, TimeUnit.SECONDS));
    }
    byte[] bin = new byte[1_500_000];
    new java.util.Random(7).nextBytes(bin); // incompressible
    ws.sendBinary(bin);
    assertEquals("binary:" + bin.length + ":" + ByteBuffer.wrap(bin).hashCode(),
        got.poll(20, TimeUnit.SECONDS));
    assertEquals(1000, ws.close().deref(20_000, null));
  }

  @Test
  void ourClientAndOurServerOverTlsWithCompressionAndLargeMessages() throws Exception {
    int port = wssEchoServer();
    roundTrips("wss://localhost:" + port + "/", trustingTestCa(), "permessage-deflate");
    String close = closes.poll(10, TimeUnit.SECONDS);
    assertTrue(close != null && close.startsWith("1000::permessage-deflate"), close);
  }

  @Test
  void theJdkWebSocketClientSpeaksWssToOurServer() throws Exception {
    int port = wssEchoServer();
    HttpClient jdk = HttpClient.newBuilder().sslContext(trustingTestCa().context()).build();
    WebSocketServerTest.JdkListener jl = new WebSocketServerTest.JdkListener();
    java.net.http.WebSocket c = jdk.newWebSocketBuilder()
        .buildAsync(URI.create("wss://localhost:" + port + "/echo"), jl).get(20, TimeUnit.SECONDS);
    c.sendText("h\u00e9llo over TLS", true).get(10, TimeUnit.SECONDS);
    assertEquals("text:h\u00e9llo over TLS", jl.got.poll(10, TimeUnit.SECONDS));
    c.sendBinary(ByteBuffer.wrap(new byte[3_000_000]), true).get(20, TimeUnit.SECONDS);
    assertEquals("binary:3000000", jl.got.poll(20, TimeUnit.SECONDS));
    c.sendText("part one, ", false).get(10, TimeUnit.SECONDS);
    c.sendText("part two", true).get(10, TimeUnit.SECONDS);
    assertEquals("text:part one, part two", jl.got.poll(10, TimeUnit.SECONDS));
    c.sendClose(4000, "bye").get(10, TimeUnit.SECONDS);
    assertEquals("close:4000:", jl.got.poll(10, TimeUnit.SECONDS));
    assertEquals("4000:bye:null", closes.poll(10, TimeUnit.SECONDS)); // the JDK offers no deflate
  }

  @Test
  void framesThatCameInTheSameTlsRecordsAsTheUpgradeAreRead() throws Exception {
    int port = wssEchoServer();
    try (java.net.Socket s = trustingTestCa().context().getSocketFactory()
        .createSocket("localhost", port)) {
      earlyFramesAreEchoed(s);
    }
  }

  @Test
  void framesThatCameWithThePlainUpgradeAreRead() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> WebSocketUpgrade.upgrade(ex, EchoServer.ECHO, new WebSocketOptions(), null));
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
      earlyFramesAreEchoed(s);
    }
  }

  /** Sends the upgrade and two frames in one write, and expects both echoed after the 101. */
  private static void earlyFramesAreEchoed(java.net.Socket s) throws IOException {
    s.setSoTimeout(10_000);
    ByteArrayOutputStream req = new ByteArrayOutputStream();
    req.write(("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    req.write(FrameReaderTest.frame(0x81, "early".getBytes(StandardCharsets.UTF_8), true));
    req.write(FrameReaderTest.frame(0x81, "bird".getBytes(StandardCharsets.UTF_8), true));
    s.getOutputStream().write(req.toByteArray()); // one write: over TLS, the same records
    s.getOutputStream().flush();
    DataInputStream in = new DataInputStream(s.getInputStream());
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      head.append((char) in.readUnsignedByte());
    }
    assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
    for (String want : new String[] {"early", "bird"}) {
      assertEquals(0x81, in.readUnsignedByte());
      int len = in.readUnsignedByte();
      byte[] p = new byte[len];
      in.readFully(p);
      assertEquals(want, new String(p, StandardCharsets.UTF_8));
    }
  }

  @Test
  void anUntrustedCertificateFailsTheConnectWithAClearTlsError() throws Exception {
    int port = wssEchoServer();
    // Default TLS: the JDK's trust store, which does not know the test CA.
    WebSocketException e = connectFailure("wss://localhost:" + port + "/", null);
    assertEquals(WebSocketException.Kind.TLS, e.kind());
    assertEquals(TlsException.Reason.UNTRUSTED, e.tlsReason());
    assertTrue(e.getMessage().contains("untrusted certificate"), e.getMessage());
    assertEquals("untrusted certificate", e.getData().valAt(clojure.lang.Keyword.intern("reason")));
  }

  @Test
  void aCertificateForAnotherHostFailsTheConnect() throws Exception {
    int port = wssEchoServer("wronghost.pem", "wronghost.key");
    WebSocketException e = connectFailure("wss://localhost:" + port + "/", trustingTestCa());
    assertEquals(WebSocketException.Kind.TLS, e.kind());
    assertEquals(TlsException.Reason.HOSTNAME_MISMATCH, e.tlsReason(), e.getMessage());
    // The server saw no WebSocket: nothing opened, nothing closed.
    assertEquals(null, closes.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void aPlainServerBehindAWssUrlFailsTheTlsHandshake() throws Exception {
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> WebSocketUpgrade.upgrade(ex, EchoServer.ECHO, new WebSocketOptions(), null));
    WebSocketException e = connectFailure("wss://localhost:" + server.port() + "/",
        trustingTestCa());
    assertEquals(WebSocketException.Kind.TLS, e.kind(), e.getMessage());
  }

  private static WebSocketException connectFailure(String url, TlsConfig tls) throws Exception {
    try {
      WebSocketClient.connect(new WebSocketClient.Request(url).tls(tls), EchoServer.ECHO)
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertTrue(e.getCause() instanceof WebSocketException, String.valueOf(e.getCause()));
      return (WebSocketException) e.getCause();
    }
    throw new AssertionError("the connect did not fail");
  }

  // ---- other implementations ----

  private int startPeerServer(List<String> cmd) throws Exception {
    peer = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    return PeersTest.portOf(peer);
  }

  @Test
  void pythonWebsocketsWssClientAgainstOurServer() throws Exception {
    Assumptions.assumeTrue(PeersTest.pythonWebsockets(), "python3-websockets is not installed");
    int port = wssEchoServer();
    Path s = PeersTest.script("wss-client.py", String.join("\n",
        "import asyncio, ssl, sys, websockets",
        "async def main():",
        "    ctx = ssl.create_default_context(cafile=sys.argv[2])",
        "    async with websockets.connect(sys.argv[1], ssl=ctx, max_size=None) as ws:",
        "        print('ext', ws.response_headers.get('Sec-WebSocket-Extensions'))",
        "        print('tls', ws.transport.get_extra_info('ssl_object').version())",
        "        for m in ['hello', 'caf\\u00e9 \\U0001F600', 'x' * 3000000, bytes(range(256)) * 4000]:",
        "            await ws.send(m)",
        "            r = await ws.recv()",
        "            print('echo', r == m, type(r).__name__, len(r))",
        "        await ws.close(4001, 'python says bye')",
        "        print('closed', ws.close_code)",
        "asyncio.run(main())", ""));
    List<String> out = PeersTest.run(List.of(PYTHON, s.toString(), "wss://localhost:" + port + "/",
        TestCerts.file("ca.pem")));
    assertTrue(out.get(0).startsWith("ext permessage-deflate"), String.valueOf(out));
    assertTrue(out.get(1).startsWith("tls TLSv1."), String.valueOf(out));
    assertEquals(List.of("echo True str 5", "echo True str 6", "echo True str 3000000",
        "echo True bytes 1024000", "closed 4001"), out.subList(2, out.size()));
    String close = closes.poll(10, TimeUnit.SECONDS);
    assertTrue(close != null && close.startsWith("4001:python says bye:permessage-deflate"),
        close);
  }

  @Test
  void ourClientAgainstAPythonWebsocketsWssServer() throws Exception {
    Assumptions.assumeTrue(PeersTest.pythonWebsockets(), "python3-websockets is not installed");
    Path s = PeersTest.script("wss-server.py", String.join("\n",
        "import asyncio, ssl, sys, websockets",
        "async def echo(ws, path=None):",
        "    async for m in ws:",
        "        await ws.send(m)",
        "async def main():",
        "    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)",
        "    ctx.load_cert_chain(sys.argv[1], sys.argv[2])",
        "    async with websockets.serve(echo, '127.0.0.1', 0, ssl=ctx, max_size=None) as srv:",
        "        print('port', srv.sockets[0].getsockname()[1], flush=True)",
        "        await asyncio.Future()",
        "asyncio.run(main())", ""));
    int port = startPeerServer(List.of(PYTHON, s.toString(), TestCerts.file("fullchain.pem"),
        TestCerts.file("server.key")));
    // By IP: the certificate names 127.0.0.1 too, and no SNI goes out for an IP literal.
    roundTrips("wss://127.0.0.1:" + port + "/", trustingTestCa(), "permessage-deflate");
  }

  @Test
  void ourClientAgainstANodeWsWssServer() throws Exception {
    File ws = PeersTest.nodeWs();
    Assumptions.assumeTrue(ws != null, "npm or the ws package is not available");
    Path s = PeersTest.script("wss-server.js", String.join("\n",
        "const fs = require('fs'), https = require('https');",
        "const WebSocket = require(process.argv[2]);",
        "const srv = https.createServer({cert: fs.readFileSync(process.argv[3]),",
        "  key: fs.readFileSync(process.argv[4])});",
        "const wss = new WebSocket.Server({server: srv, perMessageDeflate: true});",
        "wss.on('connection', (c) => c.on('message', (d, isBinary) => c.send(d, {binary: isBinary})));",
        "srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));", ""));
    int port = startPeerServer(List.of("node", s.toString(),
        new File(ws, "node_modules/ws").getAbsolutePath(), TestCerts.file("fullchain.pem"),
        TestCerts.file("server.key")));
    roundTrips("wss://localhost:" + port + "/", trustingTestCa(), "permessage-deflate");
  }

  @Test
  void aServerTlsConfigIsRefusedForTheClient() throws Exception {
    TlsConfig serverSide = TlsConfig.serverPem(TestCerts.file("fullchain.pem"),
        TestCerts.file("server.key"));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> new WebSocketClient.Request("wss://localhost/").tls(serverSide));
    assertTrue(e.getMessage().contains("client TLS configuration"), e.getMessage());
  }
}
