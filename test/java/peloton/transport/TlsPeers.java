package peloton.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

/** Test peers for the transport: a Peloton TLS echo server, a Peloton TLS client, openssl. */
final class TlsPeers {
  private TlsPeers() {}

  /** An echo server on a reactor, through {@link TlsTransport}; remembers its connections. */
  static final class EchoServer implements AutoCloseable {
    final Reactor reactor = new Reactor("tls-echo").start(true);
    final ServerSocketChannel listener;
    final List<TlsTransport> transports = new CopyOnWriteArrayList<>();
    final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>(); // "eof", Throwable
    final TlsConfig config;

    EchoServer(TlsConfig config) throws IOException {
      this.config = config;
      listener = ServerSocketChannel.open();
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      listener.configureBlocking(false);
      CompletableFuture<Void> ok = new CompletableFuture<>();
      reactor.submit(() -> {
        try {
          reactor.register(listener, SelectionKey.OP_ACCEPT, k -> accept());
          ok.complete(null);
        } catch (IOException e) {
          ok.completeExceptionally(e);
        }
      });
      ok.join();
    }

    int port() throws IOException {
      return ((InetSocketAddress) listener.getLocalAddress()).getPort();
    }

    private void accept() throws IOException {
      SocketChannel ch;
      while ((ch = listener.accept()) != null) {
        ch.configureBlocking(false);
        TlsTransport t = new TlsTransport(ch, config.serverEngine());
        transports.add(t);
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        ByteBuffer[] out = new ByteBuffer[1];
        SelectionKey key = reactor.register(ch, SelectionKey.OP_READ, null);
        Reactor.IoHandler h = k -> pump(t, k, buf, out);
        key.attach(h);
        t.start(reactor, key, 10_000).onComplete((v, e) -> {
          if (e != null) {
            events.add(e);
          } else if (t.hasBufferedInput()) {
            pump(t, key, buf, out);
          }
        });
      }
    }

    private void pump(TlsTransport t, SelectionKey k, ByteBuffer buf, ByteBuffer[] out) {
      try {
        if (out[0] != null) {
          t.write(out[0]);
          if (out[0].hasRemaining() || !t.flush()) {
            k.interestOps(SelectionKey.OP_WRITE);
            return;
          }
          out[0] = null;
          k.interestOps(SelectionKey.OP_READ);
        }
        for (;;) {
          buf.clear();
          int n = t.read(buf);
          if (n < 0) {
            events.add("eof");
            t.close();
            return;
          }
          if (n == 0 && !t.hasBufferedInput()) {
            return;
          }
          buf.flip();
          ByteBuffer copy = ByteBuffer.allocate(buf.remaining()).put(buf).flip();
          t.write(copy);
          if (copy.hasRemaining() || t.hasPendingOutput()) {
            out[0] = copy;
            k.interestOps(SelectionKey.OP_WRITE);
            return;
          }
        }
      } catch (IOException e) {
        events.add(e);
        t.close();
      }
    }

    @Override
    public void close() throws IOException {
      listener.close();
      reactor.stop();
    }
  }

  /**
   * Connects with a Peloton TLS client transport, sends {@code message}, reads {@code expect}
   * bytes back, then closes (sending close_notify). The fut answers the bytes read.
   */
  static Fut<byte[]> exchange(Reactor reactor, TlsConfig config, String host, int port, byte[] message,
      int expect) {
    return exchange(reactor, config, host, port, message, expect, 10_000);
  }

  static Fut<byte[]> exchange(Reactor reactor, TlsConfig config, String host, int port, byte[] message,
      int expect, long handshakeMillis) {
    Fut<byte[]> result = new Fut<>();
    reactor.submit(() -> {
      try {
        SocketChannel ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.connect(new InetSocketAddress("127.0.0.1", port));
        TlsTransport t = Transport.tls(ch, config, host, port);
        SelectionKey key = reactor.register(ch, SelectionKey.OP_CONNECT, null);
        ByteBuffer got = ByteBuffer.allocate(expect);
        ByteBuffer msg = ByteBuffer.wrap(message);
        key.attach((Reactor.IoHandler) k -> {
          if (k.isConnectable()) {
            ch.finishConnect();
            k.interestOps(0);
            t.start(reactor, k, handshakeMillis).onComplete((v, e) -> {
              if (e != null) {
                result.fail(e);
                return;
              }
              try {
                t.write(msg);
                k.interestOps(SelectionKey.OP_READ | (msg.hasRemaining() || t.hasPendingOutput()
                    ? SelectionKey.OP_WRITE : 0));
                readSome(t, got, result);
              } catch (IOException x) {
                result.fail(x);
              }
            });
            return;
          }
          if (k.isWritable()) {
            t.write(msg);
            if (!msg.hasRemaining() && t.flush()) {
              k.interestOps(SelectionKey.OP_READ);
            }
          }
          if (k.isValid() && k.isReadable()) {
            readSome(t, got, result);
          }
        });
      } catch (IOException e) {
        result.fail(e);
      }
    });
    return result;
  }

  private static void readSome(TlsTransport t, ByteBuffer got, Fut<byte[]> result) throws IOException {
    while (got.hasRemaining()) {
      int n = t.read(got);
      if (n < 0) {
        result.fail(new IOException("end of stream after " + got.position() + " bytes"));
        t.close();
        return;
      }
      if (n == 0) {
        return;
      }
    }
    t.close();
    result.deliver(java.util.Arrays.copyOf(got.array(), got.position()));
  }

  /** A free port on 127.0.0.1 for a peer that cannot pick its own. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A running openssl process whose output lines are collected. */
  static final class OpenSsl implements AutoCloseable {
    final Process process;
    final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final List<String> all = new CopyOnWriteArrayList<>();

    OpenSsl(List<String> args) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add("openssl");
      cmd.addAll(args);
      process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            all.add(line);
            lines.add(line);
          }
        } catch (IOException e) {
          // the process ended
        }
        lines.add("<<EOF>>");
      }, "openssl-output");
      t.setDaemon(true);
      t.start();
    }

    /** Waits for a line containing {@code text}; fails with all output on timeout or exit. */
    String await(String text, long seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      for (;;) {
        long left = deadline - System.nanoTime();
        String l = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
        if (l == null || l.equals("<<EOF>>")) {
          throw new AssertionError("openssl never printed \"" + text + "\"; output:\n"
              + String.join("\n", all));
        }
        if (l.contains(text)) {
          return l;
        }
      }
    }

    void send(String s) throws IOException {
      process.getOutputStream().write(s.getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().flush();
    }

    void closeInput() throws IOException {
      process.getOutputStream().close();
    }

    String output() {
      return String.join("\n", all);
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
