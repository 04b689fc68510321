package peloton.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.reactor.Reactor;
import peloton.reactor.ReactorGroup;
import peloton.reactor.Timer;
import peloton.transport.TlsConfig;
import peloton.transport.TlsTransport;
import peloton.transport.Transport;

/**
 * An HTTP/1.1 server on a {@link ReactorGroup}: each reactor accepts on its own listening socket
 * (SO_REUSEPORT where the OS has it; otherwise one socket whose connections are spread over the
 * reactors) and serves its connections from start to end.
 *
 * <pre>{@code
 * HttpServer server = HttpServer.start(new HttpServer.Options().port(8080),
 *     ex -> ex.contentType("text/html").body("<h1>Hello</h1>").send());
 * ...
 * server.stop(5, TimeUnit.SECONDS);
 * }</pre>
 */
public final class HttpServer {
  private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

  /** Server settings, with safe defaults; setters chain. */
  public static final class Options {
    /** Address to bind; default 127.0.0.1. */
    public String host = "127.0.0.1";
    /** Port to bind; 0 picks a free one (see {@link HttpServer#port()}). */
    public int port = 8080;
    /** Listen backlog per socket. */
    public int backlog = 1024;
    /** Reactor threads; default one per core. */
    public int reactors = ReactorGroup.defaultSize();
    /** Where handlers run; null (default) runs them on the reactor thread. */
    public Executor executor;
    /** Parser limits (request line, headers, body). */
    public HttpLimits limits = new HttpLimits();
    /** Time a client has to send a whole request head (slowloris guard), ms. */
    public long headerTimeoutMillis = 10_000;
    /** Time a keep-alive connection may sit idle between requests, ms. */
    public long idleTimeoutMillis = 60_000;
    /** Time queued output may wait without progress before the connection is cut, ms. */
    public long writeTimeoutMillis = 30_000;
    /**
     * Request bodies up to this size arrive whole ({@link Exchange#bodyBytes()}); larger ones are
     * streamed to the handler as they arrive ({@link Exchange#bodyStream()}), bytes.
     */
    public long bodyBufferLimit = 1024 * 1024;
    /** Queued output above which a connection stops reading and chunk writers wait, bytes. */
    public long highWaterMark = 256 * 1024;
    /** Queued output below which reading and chunk writers resume, bytes. */
    public long lowWaterMark = 64 * 1024;
    /**
     * TLS: when set, every connection speaks HTTPS (TLS 1.2/1.3) with it; the handshake must end
     * within {@link #headerTimeoutMillis}. Make one with {@link TlsConfig#serverPem}, {@link
     * TlsConfig#serverKeystore} or {@link TlsConfig#server(javax.net.ssl.SSLContext)}; ALPN
     * {@code http/1.1} is offered unless the config names its own protocols.
     */
    public TlsConfig tls;

    /** Sets {@link #tls}. */
    public Options tls(TlsConfig t) {
      tls = t;
      return this;
    }

    /** Sets {@link #host}. */
    public Options host(String h) {
      host = h;
      return this;
    }

    /** Sets {@link #port}. */
    public Options port(int p) {
      port = p;
      return this;
    }

    /** Sets {@link #reactors}. */
    public Options reactors(int n) {
      reactors = n;
      return this;
    }

    /** Sets {@link #executor}. */
    public Options executor(Executor e) {
      executor = e;
      return this;
    }
  }

  /** The per-reactor part of the server: its read buffer, listener and connections. */
  static final class ReactorState {
    final Reactor reactor;
    final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    final ArrayList<Connection> connections = new ArrayList<>();
    ServerSocketChannel listener;
    Timer sweep;
    // The Date header, refreshed by a timer just after each second turns: no clock read per response.
    byte[] date = HttpDate.currentBytes();

    ReactorState(Reactor reactor) {
      this.reactor = reactor;
    }

    void add(Connection c) {
      c.index = connections.size();
      connections.add(c);
    }

    void remove(Connection c) {
      int i = c.index;
      if (i < 0) {
        return;
      }
      Connection last = connections.remove(connections.size() - 1);
      if (last != c) {
        connections.set(i, last);
        last.index = i;
      }
      c.index = -1;
    }
  }

  private static final byte[] PLAIN_TO_TLS = ("HTTP/1.1 400 Bad Request\r\nServer: peloton\r\n"
      + "Content-Type: text/plain\r\nContent-Length: 45\r\nConnection: close\r\n\r\n"
      + "This port speaks HTTPS: plain HTTP was sent.\n").getBytes(StandardCharsets.US_ASCII);

  final Options options;
  final HttpHandler handler;
  private final TlsConfig tls;
  private final ReactorGroup group;
  private final List<ReactorState> states = new ArrayList<>();
  private int port;
  volatile boolean draining;
  private volatile CompletableFuture<Void> stopped;

  private HttpServer(Options options, HttpHandler handler) {
    this.options = options;
    this.handler = handler;
    this.tls = options.tls == null ? null : withHttpAlpn(options.tls);
    this.group = new ReactorGroup(options.reactors, "peloton-http");
  }

  private static TlsConfig withHttpAlpn(TlsConfig t) {
    return t.serverEngine().getSSLParameters().getApplicationProtocols().length > 0 ? t
        : t.alpn("http/1.1");
  }

  /** Binds and starts serving {@code handler}; throws when the port cannot be bound. */
  public static HttpServer start(Options options, HttpHandler handler) throws IOException {
    HttpServer s = new HttpServer(options, handler);
    s.bindAndStart();
    return s;
  }

  private void bindAndStart() throws IOException {
    for (Reactor r : group.reactors()) {
      states.add(new ReactorState(r));
    }
    boolean reusePort = reusePortSupported();
    InetSocketAddress addr = new InetSocketAddress(options.host, options.port);
    try {
      if (reusePort && states.size() > 1 && options.port != 0) {
        // SO_REUSEPORT would silently share a port another server (of this user) holds:
        // a plain bind first makes a taken port an error.
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
          probe.bind(addr, 1);
        }
      }
      for (int i = 0; i < states.size(); i++) {
        if (i > 0 && !reusePort) {
          break;
        }
        ServerSocketChannel ssc = ServerSocketChannel.open();
        ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        if (reusePort && states.size() > 1) {
          ssc.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        }
        ssc.bind(addr, options.backlog);
        ssc.configureBlocking(false);
        if (i == 0) {
          port = ((InetSocketAddress) ssc.getLocalAddress()).getPort();
          addr = new InetSocketAddress(options.host, port);
        }
        states.get(i).listener = ssc;
      }
    } catch (IOException e) {
      for (ReactorState rs : states) {
        if (rs.listener != null) {
          Connection.closeQuietly(rs.listener);
        }
      }
      throw new IOException("cannot listen on " + options.host + ":" + options.port + ": "
          + e.getMessage(), e);
    }
    group.start(false);
    for (ReactorState rs : states) {
      rs.reactor.submit(() -> {
        try {
          if (rs.listener != null) {
            rs.reactor.register(rs.listener, SelectionKey.OP_ACCEPT, k -> accept(rs));
          }
        } catch (IOException e) {
          log.error("cannot register the listener on {}", rs.reactor, e);
        }
        scheduleSweep(rs);
        scheduleDateTick(rs);
      });
    }
    log.info("HTTP{} server listening on {}:{} with {} reactors{}", tls == null ? "" : "S",
        options.host, port, states.size(), reusePort ? " (SO_REUSEPORT)" : "");
  }

  private static boolean reusePortSupported() {
    try (ServerSocketChannel probe = ServerSocketChannel.open()) {
      return probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
    } catch (IOException e) {
      return false;
    }
  }

  private void accept(ReactorState rs) {
    for (int i = 0; i < 64; i++) {
      SocketChannel ch;
      try {
        ch = rs.listener.accept();
      } catch (IOException e) {
        log.warn("accept failed: {}", e.toString());
        return;
      }
      if (ch == null) {
        return;
      }
      if (states.size() > 1 && states.get(1).listener == null) {
        // One shared listener: spread connections over the reactors.
        ReactorState target = states.get(Math.floorMod(acceptCount++, states.size()));
        target.reactor.dispatch(() -> adopt(target, ch));
      } else {
        adopt(rs, ch);
      }
    }
  }

  private int acceptCount;

  private void adopt(ReactorState rs, SocketChannel ch) {
    try {
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Transport t = tls == null ? Transport.plain(ch)
          : new TlsTransport(ch, tls.serverEngine()).plaintextReply(PLAIN_TO_TLS);
      Connection c = new Connection(this, rs, ch, t);
      c.key = rs.reactor.register(ch, SelectionKey.OP_READ, c);
      rs.add(c);
      if (tls != null) {
        t.start(rs.reactor, c.key, options.headerTimeoutMillis).onComplete((v, e) -> {
          if (e != null) {
            c.close(); // the transport has closed the socket and logged why
          } else {
            c.handshakeDone();
          }
        });
      }
    } catch (IOException e) {
      log.debug("cannot set up a connection: {}", e.toString());
      Connection.closeQuietly(ch);
    }
  }

  private void scheduleSweep(ReactorState rs) {
    rs.sweep = rs.reactor.schedule(500, TimeUnit.MILLISECONDS, () -> {
      sweep(rs);
      if (!rs.reactor.isStopping()) {
        scheduleSweep(rs);
      }
    });
  }

  private void scheduleDateTick(ReactorState rs) {
    long toNextSecond = 1001 - System.currentTimeMillis() % 1000;
    rs.reactor.schedule(toNextSecond, TimeUnit.MILLISECONDS, () -> {
      rs.date = HttpDate.currentBytes();
      if (!rs.reactor.isStopping()) {
        scheduleDateTick(rs);
      }
    });
  }

  /** Cuts connections that overran a timeout; runs twice a second on each reactor. */
  private void sweep(ReactorState rs) {
    long now = System.nanoTime();
    long headerNanos = TimeUnit.MILLISECONDS.toNanos(options.headerTimeoutMillis);
    long idleNanos = TimeUnit.MILLISECONDS.toNanos(options.idleTimeoutMillis);
    long writeNanos = TimeUnit.MILLISECONDS.toNanos(options.writeTimeoutMillis);
    for (int i = rs.connections.size() - 1; i >= 0; i--) {
      if (i >= rs.connections.size()) {
        continue;
      }
      Connection c = rs.connections.get(i);
      if (c.hasQueuedOutput() && now - Math.max(c.lastWriteProgress, c.lastActivity) > writeNanos) {
        log.debug("closing {}: no write progress", c.remoteAddress());
        c.close();
      } else if (c.state == Connection.S_HEAD && c.headStart != 0 && now - c.headStart > headerNanos) {
        c.requestTimeout();
      } else if (c.state == Connection.S_BODY && now - c.lastActivity > headerNanos) {
        c.close();
      } else if (c.isIdle() && (draining || now - c.lastActivity > idleNanos)) {
        c.close();
      }
    }
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return port;
  }

  /** The reactors serving this server. */
  public ReactorGroup reactors() {
    return group;
  }

  /**
   * Stops accepting at once, lets in-flight responses finish for up to {@code grace}, closes idle
   * and remaining connections, then stops the reactors. Answers a fut completed when all is
   * closed; safe to call more than once.
   */
  public synchronized Fut<Void> stop(long grace, TimeUnit unit) {
    if (stopped != null) {
      return Fut.from(stopped);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    stopped = done;
    draining = true;
    long deadline = System.nanoTime() + unit.toNanos(grace);
    List<CompletableFuture<Void>> each = new ArrayList<>();
    for (ReactorState rs : states) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      each.add(f);
      rs.reactor.submit(() -> {
        if (rs.listener != null) {
          Connection.closeQuietly(rs.listener);
        }
        drain(rs, deadline, f);
      });
    }
    // Async: the last drain completes on a reactor thread, which must not wait for itself.
    CompletableFuture.allOf(each.toArray(new CompletableFuture[0])).whenCompleteAsync((v, t) -> {
      group.stop();
      try {
        group.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      log.info("HTTP server on port {} stopped", port);
      done.complete(null);
    });
    return Fut.from(done);
  }

  private void drain(ReactorState rs, long deadline, CompletableFuture<Void> f) {
    for (int i = rs.connections.size() - 1; i >= 0; i--) {
      if (i < rs.connections.size() && rs.connections.get(i).isIdle()) {
        rs.connections.get(i).close();
      }
    }
    if (rs.connections.isEmpty() || System.nanoTime() - deadline >= 0) {
      for (int i = rs.connections.size() - 1; i >= 0; i--) {
        rs.connections.get(i).close();
      }
      if (rs.sweep != null) {
        rs.sweep.cancel();
      }
      f.complete(null);
      return;
    }
    rs.reactor.schedule(20, TimeUnit.MILLISECONDS, () -> drain(rs, deadline, f));
  }

  /** Stops with a grace period of 5 seconds and waits for it. */
  public void close() {
    stop(5, TimeUnit.SECONDS).join();
  }
}
