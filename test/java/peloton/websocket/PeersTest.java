package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.http.server.HttpServer;

/**
 * Other implementations as peers, server and client side, compression on: Debian's
 * python3-websockets and the npm {@code ws} package (installed by this test into
 * target/npm-peers when npm is there). Each is skipped when its runtime is missing.
 */
class PeersTest {
  static final String PYTHON = "/usr/bin/python3";
  private HttpServer server;
  private Process peer;
  private final LinkedBlockingQueue<String> closes = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() throws Exception {
    if (peer != null) {
      peer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }
  }

  private int echoServer() throws Exception {
    WebSocket.Listener echo = EchoServer.recordingCloses(closes);
    server = HttpServer.start(new HttpServer.Options().port(0).reactors(1),
        ex -> WebSocketUpgrade.upgrade(ex, echo, new WebSocketOptions(), null));
    return server.port();
  }

  static Path script(String name, String text) throws IOException {
    Path dir = Path.of("target", "peer-scripts");
    Files.createDirectories(dir);
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  /** Runs a peer and answers its output lines (waiting for it to end). */
  static List<String> run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String l;
      while ((l = r.readLine()) != null) {
        lines.add(l);
      }
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the peer did not end");
    assertEquals(0, p.exitValue(), "the peer failed: " + lines);
    return lines;
  }

  /** Starts a peer server that prints its port on its first line. */
  private int startPeerServer(List<String> cmd) throws Exception {
    peer = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    return portOf(peer);
  }

  /** The port a peer server prints on its first line ({@code port N}). */
  static int portOf(Process peer) throws IOException {
    BufferedReader r = new BufferedReader(
        new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    assertTrue(line != null && line.startsWith("port "), "the peer server said: " + line);
    return Integer.parseInt(line.substring(5).trim());
  }

  static boolean pythonWebsockets() {
    try {
      return new File(PYTHON).canExecute()
          && new ProcessBuilder(PYTHON, "-c", "import websockets").start().waitFor() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** The npm ws package's directory (installed on first use), or null without npm. */
  static synchronized File nodeWs() {
    File dir = new File("target/npm-peers");
    if (new File(dir, "node_modules/ws/package.json").exists()) {
      return dir;
    }
    try {
      dir.mkdirs();
      Process p = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--prefix",
          dir.getPath(), "ws@8").redirectErrorStream(true).start();
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      if (p.waitFor(180, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return dir;
      }
    } catch (Exception e) {
      // no npm here
    }
    return null;
  }

  /** Our client: echoes round trips against a peer echo server on {@code port}. */
  private static void clientRoundTrips(int port, String expectExtension) throws Exception {
    LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
    WebSocket ws = WebSocketClient.connect(
        new WebSocketClient.Request("ws://127.0.0.1:" + port + "/"), new WebSocket.Listener() {
          @Override
          public Fut<?> onText(WebSocket w, String text) {
            got.add("text:" + text.length() + ":" + text.hashCode());
            return null;
          }

          @Override
          public Fut<?> onBinary(WebSocket w, ByteBuffer data) {
            got.add("binary:" + data.remaining());
            return null;
          }
        }).toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertTrue(String.valueOf(ws.extensions()).startsWith(expectExtension), ws.extensions());
    for (String s : new String[] {"hello", "\u00e9t\u00e9 \ud83d\ude00", "z".repeat(300_000)}) {
      ws.sendText(s);
      assertEquals("text:" + s.length() + ":" + s.hashCode(), got.poll(20, TimeUnit.SECONDS));
    }
    ws.sendBinary(new byte[70_000]);
    assertEquals("binary:70000", got.poll(20, TimeUnit.SECONDS));
    assertEquals(1000, ws.close().deref(20_000, null));
  }

  @Test
  void pythonWebsocketsClientAgainstOurServer() throws Exception {
    Assumptions.assumeTrue(pythonWebsockets(), "python3-websockets is not installed");
    int port = echoServer();
    Path s = script("client.py", String.join("\n",
        "import asyncio, sys, websockets",
        "async def main():",
        "    async with websockets.connect(sys.argv[1], max_size=None) as ws:",
        "        print('ext', ws.response_headers.get('Sec-WebSocket-Extensions'))",
        "        for m in ['hello', 'caf\\u00e9 \\U0001F600', 'x' * 300000, b'\\x00\\xff' * 40000]:",
        "            await ws.send(m)",
        "            r = await ws.recv()",
        "            print('echo', r == m, type(r).__name__, len(r))",
        "        await ws.ping(b'p')",
        "        await ws.close(4001, 'python says bye')",
        "        print('closed', ws.close_code)",
        "asyncio.run(main())", ""));
    List<String> out = run(List.of(PYTHON, s.toString(), "ws://127.0.0.1:" + port + "/"));
    assertTrue(out.get(0).startsWith("ext permessage-deflate"), String.valueOf(out));
    assertEquals(List.of("echo True str 5", "echo True str 6", "echo True str 300000",
        "echo True bytes 80000", "closed 4001"), out.subList(1, out.size()));
    String close = closes.poll(10, TimeUnit.SECONDS);
    assertTrue(close != null && close.startsWith("4001:python says bye:permessage-deflate"),
        close);
  }

  @Test
  void ourClientAgainstAPythonWebsocketsServer() throws Exception {
    Assumptions.assumeTrue(pythonWebsockets(), "python3-websockets is not installed");
    Path s = script("server.py", String.join("\n",
        "import asyncio, websockets",
        "async def echo(ws, path=None):",
        "    async for m in ws:",
        "        await ws.send(m)",
        "async def main():",
        "    async with websockets.serve(echo, '127.0.0.1', 0, max_size=None) as srv:",
        "        print('port', srv.sockets[0].getsockname()[1], flush=True)",
        "        await asyncio.Future()",
        "asyncio.run(main())", ""));
    int port = startPeerServer(List.of(PYTHON, s.toString()));
    // Its default answer limits our window (client_max_window_bits=12): we deflate Huffman-only.
    clientRoundTrips(port, "permessage-deflate");
  }

  @Test
  void nodeWsClientAgainstOurServer() throws Exception {
    File ws = nodeWs();
    Assumptions.assumeTrue(ws != null, "npm or the ws package is not available");
    int port = echoServer();
    Path s = script("client.js", String.join("\n",
        "const WebSocket = require(process.argv[3]);",
        "const ws = new WebSocket(process.argv[2], {perMessageDeflate: true});",
        "const msgs = ['hello', 'caf\\u00e9 \\u{1F600}', 'y'.repeat(300000), Buffer.alloc(70000, 7)];",
        "let i = 0;",
        "ws.on('open', () => { console.log('ext ' + ws.extensions); ws.send(msgs[0]); });",
        "ws.on('message', (data, isBinary) => {",
        "  const m = msgs[i];",
        "  const same = isBinary ? Buffer.compare(data, m) === 0 : data.toString() === m;",
        "  console.log('echo ' + same + ' ' + (isBinary ? 'binary' : 'text'));",
        "  if (++i < msgs.length) ws.send(msgs[i]); else ws.close(4002, 'node says bye');",
        "});",
        "ws.on('close', (code) => console.log('closed ' + code));",
        "ws.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });", ""));
    List<String> out = run(List.of("node", s.toString(), "ws://127.0.0.1:" + port + "/",
        new File(ws, "node_modules/ws").getAbsolutePath()));
    assertTrue(out.get(0).startsWith("ext permessage-deflate"), String.valueOf(out));
    assertEquals(List.of("echo true text", "echo true text", "echo true text", "echo true binary",
        "closed 4002"), out.subList(1, out.size()));
    String close = closes.poll(10, TimeUnit.SECONDS);
    assertTrue(close != null && close.startsWith("4002:node says bye:permessage-deflate"), close);
  }

  @Test
  void ourClientAgainstANodeWsServer() throws Exception {
    File ws = nodeWs();
    Assumptions.assumeTrue(ws != null, "npm or the ws package is not available");
    Path s = script("server.js", String.join("\n",
        "const WebSocket = require(process.argv[2]);",
        "const wss = new WebSocket.Server({host: '127.0.0.1', port: 0, perMessageDeflate: true},",
        "  () => console.log('port ' + wss.address().port));",
        "wss.on('connection', (c) => c.on('message', (d, isBinary) => c.send(d, {binary: isBinary})));",
        ""));
    int port = startPeerServer(List.of("node", s.toString(),
        new File(ws, "node_modules/ws").getAbsolutePath()));
    clientRoundTrips(port, "permessage-deflate");
  }
}
