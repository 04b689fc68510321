package peloton.mongo;

import clojure.lang.Keyword;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

/**
 * A tiny MongoDB stand-in on a real socket for tests: each request is decoded with {@link
 * OpMsg#decode} and the script answers it. The script returns a reply body (a map), raw bytes to
 * write as they are, {@link #CLOSE} to close the socket, or null to answer nothing.
 */
final class ScriptedServer implements AutoCloseable {
  static final Object CLOSE = new Object();
  private final ServerSocket socket;
  private final List<Socket> clients = new CopyOnWriteArrayList<>();
  /** Command names received, in order (all connections). */
  final List<String> received = new CopyOnWriteArrayList<>();
  /** Requests received, in order. */
  final List<OpMsg.Reply> requests = new CopyOnWriteArrayList<>();
  private final BiFunction<OpMsg.Reply, String, Object> script;

  ScriptedServer(BiFunction<OpMsg.Reply, String, Object> script) throws IOException {
    this.script = script;
    socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "scripted-mongo-" + socket.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  String address() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        Socket s = socket.accept();
        clients.add(s);
        Thread t = new Thread(() -> serve(s), "scripted-mongo-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  static String commandName(OpMsg.Reply r) {
    Object first = ((Map<?, ?>) r.body).keySet().iterator().next();
    return ((Keyword) first).getName();
  }

  private void serve(Socket s) {
    try (s) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      for (;;) {
        OpMsg.Reply req = OpMsg.decode(ByteBuffer.wrap(readFrame(in)));
        String name = commandName(req);
        received.add(name);
        requests.add(req);
        Object answer = script.apply(req, name);
        if (answer == CLOSE) {
          return;
        }
        if (answer instanceof byte[]) {
          out.write((byte[]) answer);
        } else if (answer != null) {
          out.write(reply(req.requestId, answer));
        }
        out.flush();
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  /** The bytes of the next whole message on {@code in}. */
  static byte[] readFrame(DataInputStream in) throws IOException {
    byte[] head = new byte[4];
    in.readFully(head);
    int len = OpMsg.frameLength(ByteBuffer.wrap(head));
    byte[] msg = new byte[len];
    System.arraycopy(head, 0, msg, 0, 4);
    in.readFully(msg, 4, len - 4);
    return msg;
  }

  /** An OP_MSG reply to {@code requestId} with {@code body}. */
  static byte[] reply(int requestId, Object body) {
    byte[] b = OpMsg.encode(OpMsg.requestId(), 0, body);
    ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(8, requestId);
    return b;
  }

  /** A handshake reply of a standalone server. */
  static Map<?, ?> hello(Object... extra) {
    Object[] base = {k("ismaster"), true, k("maxWireVersion"), 8L, k("maxBsonObjectSize"), 16777216L,
        k("maxMessageSizeBytes"), 48000000L, k("maxWriteBatchSize"), 1000L, k("ok"), 1.0};
    Object[] all = new Object[base.length + extra.length];
    // Later pairs win: the extras override the defaults.
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return clojure.lang.PersistentArrayMap.createAsIfByAssoc(all);
  }

  static Keyword k(String s) {
    return Keyword.intern(s);
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket s : clients) {
      s.close();
    }
  }
}
