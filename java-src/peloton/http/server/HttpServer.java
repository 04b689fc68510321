package peloton.http.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.http.HttpDate;
import peloton.http.HttpLimits;
import peloton.reactor.Reactor;
import peloton.reactor.ReactorGroup;
import peloton.reactor.Timer;
import peloton.transport.TlsConfig;
import peloton.transport.Transport;

/**
 * An HTTP/1.1 server on a {@link ReactorGroup}: one listening socket on the first reactor, which
 * deals the connections it accepts to the reactors in turn (as Netty's acceptor does); each
 * reactor serves its connections from start to end.
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
     * {@code http/1.1} is offered unless the config names its own protocols. Mutual TLS: {@code
     * TlsConfig.serverPem(cert, key).clientAuth(TlsConfig.ClientAuth.NEED, "ca.pem")}; handlers
     * read the verified chain with {@link Exchange#clientCertificates()}.
     */
    public TlsConfig tls;

    /**
     * Sets {@link #tls}.
     *
     * @param t the server's TLS configuration (certificate and key), or null for plain http
     * @return these options
     */
    public Options tls(TlsConfig t) {
      tls = t;
      return this;
    }

    /**
     * Time a handler has to start its answer, ms; then the client gets 503, a warning names the
     * request and its route, and a later answer is dropped. 0 turns it off. An answer once
     * started (a chunked stream, say) is not limited by it.
     */
    public long responseTimeoutMillis = 60_000;
    /**
     * Slowest request body accepted, bytes per second averaged since the body began (the time
     * reading waits for the handler to take the body does not count); a slower body gets 408.
     * 0 turns it off. A body that stalls gets 408 after {@link #headerTimeoutMillis} anyway.
     */
    public long minBodyRate = 240;
    /** Time a request body has before {@link #minBodyRate} applies, ms. */
    public long bodyRateGraceMillis = 5_000;
    /**
     * When a handler answers before its request body has arrived, at most this much of the rest
     * is read and dropped to keep the connection; beyond it the server sends the answer with
     * {@code Connection: close} and lingers, bytes.
     */
    public long discardLimit = 1024 * 1024;
    /**
     * After an answer that closes the connection while the client may still be sending (an
     * early answer, a 4xx for a bad request), how long the server goes on reading and dropping
     * input after half-closing, so the client reads the answer instead of a reset, ms.
     */
    public long lingerMillis = 5_000;
    /** Repeats of the same handler failure are logged as one count per this interval, ms. */
    public long errorLogIntervalMillis = 10_000;
    /**
     * When 0 or more, a JVM shutdown hook (SIGTERM, Ctrl-C, {@code System.exit}) stops this
     * server gracefully with this grace period, ms; negative (default) adds no hook.
     */
    public long shutdownGraceMillis = -1;

    /**
     * Sets {@link #host}.
     *
     * @return these options
     * @param h the address to listen on
     */
    public Options host(String h) {
      host = h;
      return this;
    }

    /**
     * Sets {@link #port}.
     *
     * @return these options
     * @param p the port (0 picks a free one)
     */
    public Options port(int p) {
      port = p;
      return this;
    }

    /**
     * Sets {@link #reactors}.
     *
     * @return these options
     * @param n how many reactors (threads)
     */
    public Options reactors(int n) {
      reactors = n;
      return this;
    }

    /**
     * Sets {@link #executor}.
     *
     * @return these options
     * @param e the executor, or null for the reactor threads
     */
    public Options executor(Executor e) {
      executor = e;
      return this;
    }
  }

  /** The per-reactor part of the server: its read buffer and connections. */
  static final class ReactorState {
    /** Output buffers kept for reuse per reactor at most (2 MiB). */
    static final int POOL_MAX = 256;

    final Reactor reactor;
    final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
    // Shared by the reactor's connections (flush never runs twice at once on one thread):
    // an idle connection holds no buffer of its own.
    final ByteBuffer[] gather = new ByteBuffer[16];
    private final ArrayDeque<ByteBuffer> pool = new ArrayDeque<>();
    final ArrayList<Connection> connections = new ArrayList<>();
    // Connections handed to another protocol (WebSockets): not ours, but ended when we stop.
    final HashSet<Exchange.Detached> detached = new HashSet<>();
    Timer sweep;
    // The Date header, refreshed by a timer just after each second turns: no clock read per response.
    byte[] date = HttpDate.currentBytes();

    ReactorState(Reactor reactor) {
      this.reactor = reactor;
    }

    /** An empty output buffer of {@link Connection#ACC_SIZE} bytes, from the pool when it has one. */
    ByteBuffer takeBuffer() {
      ByteBuffer b = pool.pollLast();
      return b != null ? b : ByteBuffer.allocate(Connection.ACC_SIZE);
    }

    /** Returns an output buffer to the pool; a caller's (read-only) or odd-sized one is dropped. */
    void giveBuffer(ByteBuffer b) {
      if (!b.isReadOnly() && b.capacity() == Connection.ACC_SIZE && b.hasArray()
          && pool.size() < POOL_MAX) {
        b.clear();
        pool.addLast(b);
      }
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

  /** After an accept fails (out of file descriptors, say), accepting pauses this long, ms. */
  static final long ACCEPT_PAUSE_MILLIS = 1000;
  /** At most one accept-failure warning per this interval, ms. */
  static final long ACCEPT_WARN_INTERVAL_MILLIS = 10_000;

  final Options options;
  final HttpHandler handler;
  final HandlerErrors errors;
  private final TlsConfig tls;
  private final ReactorGroup group;
  private Thread shutdownHook;
  private long lastAcceptWarning;
  private long acceptFailures;
  private final List<ReactorState> states = new ArrayList<>();
  private ServerSocketChannel listener;
  private SelectionKey listenerKey; // on the first reactor, which alone accepts
  private int nextReactor; // the reactor the next accepted connection goes to (first reactor's)
  private int port;
  volatile boolean draining;
  private volatile CompletableFuture<Void> stopped;

  private HttpServer(Options options, HttpHandler handler) {
    this.options = options;
    this.handler = handler;
    this.tls = options.tls == null ? null : withHttpAlpn(options.tls);
    this.errors = new HandlerErrors(options.errorLogIntervalMillis);
    this.group = new ReactorGroup(options.reactors, "peloton-http");
  }

  private static TlsConfig withHttpAlpn(TlsConfig t) {
    return t.serverEngine().getSSLParameters().getApplicationProtocols().length > 0 ? t
        : t.alpn("http/1.1");
  }

  /**
   * Binds and starts serving {@code handler}; throws when the port cannot be bound.
   *
   * @param options the server settings
   * @param handler answers every request
   * @return the running server
   * @throws IOException when the port cannot be bound (taken, or not allowed)
   */
  public static HttpServer start(Options options, HttpHandler handler) throws IOException {
    HttpServer s = new HttpServer(options, handler);
    try {
      s.bindAndStart();
    } catch (IOException | RuntimeException e) {
      if (!s.group.reactors().get(0).isStopping() && s.listener == null) {
        for (Reactor r : s.group.reactors()) {
          Connection.closeQuietly(r.selector()); // never started: nothing else will close them
        }
      }
      throw e;
    }
    return s;
  }

  /** The shutdown hook this server added, or null. */
  Thread shutdownHook() {
    return shutdownHook;
  }

  private void bindAndStart() throws IOException {
    for (Reactor r : group.reactors()) {
      states.add(new ReactorState(r));
    }
    bindListener();
    group.start(false);
    for (ReactorState rs : states) {
      rs.reactor.submit(() -> {
        if (rs == states.get(0)) {
          try {
            listenerKey = rs.reactor.register(listener, SelectionKey.OP_ACCEPT, k -> accept(rs));
          } catch (IOException e) {
            log.error("cannot register the listener on {}", rs.reactor, e);
          }
        }
        scheduleSweep(rs);
        scheduleDateTick(rs);
      });
    }
    if (options.shutdownGraceMillis >= 0) {
      Thread hook = new Thread(() -> stop(options.shutdownGraceMillis, TimeUnit.MILLISECONDS)
          .join(), "peloton-http-shutdown-" + port);
      shutdownHook = hook;
      Runtime.getRuntime().addShutdownHook(hook);
    }
    log.info("HTTP{} server listening on {}:{} with {} reactors", tls == null ? "" : "S",
        options.host, port, states.size());
  }

  /**
   * Binds the one listening socket. A plain bind, so a port another socket listens on is an
   * error every time (one socket per reactor with SO_REUSEPORT would share it silently).
   */
  private void bindListener() throws IOException {
    ServerSocketChannel ssc = ServerSocketChannel.open();
    try {
      ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      ssc.bind(new InetSocketAddress(options.host, options.port), options.backlog);
      ssc.configureBlocking(false);
      port = ((InetSocketAddress) ssc.getLocalAddress()).getPort();
    } catch (IOException e) {
      Connection.closeQuietly(ssc);
      throw new IOException("cannot listen on " + options.host + ":" + options.port + ": "
          + e.getMessage(), e);
    }
    listener = ssc;
  }

  private void accept(ReactorState rs) {
    acceptSome(rs, 64);
  }

  /** Accepts up to {@code max} waiting connections; answers how many were taken. */
  private int acceptSome(ReactorState rs, int max) {
    for (int i = 0; i < max; i++) {
      SocketChannel ch;
      try {
        ch = listener.accept();
      } catch (IOException e) {
        acceptFailed(rs, e);
        return i;
      }
      if (ch == null) {
        return i;
      }
      ReactorState target = states.get(nextReactor);
      nextReactor = (nextReactor + 1) % states.size();
      if (target == rs) {
        adopt(rs, ch);
      } else {
        target.reactor.submit(() -> adopt(target, ch));
      }
    }
    return max;
  }

  /**
   * An accept failed, most likely for want of file descriptors. Trying again at once would
   * fail again and spin the reactor (the connection stays in the backlog, so the listener stays
   * ready): accepting pauses for a second and resumes by itself, and the warning is logged at
   * most once per interval with the number of failures since the last one.
   */
  private void acceptFailed(ReactorState rs, IOException e) {
    SelectionKey k = listenerKey;
    if (k != null && k.isValid()) {
      k.interestOps(0);
      rs.reactor.schedule(ACCEPT_PAUSE_MILLIS, TimeUnit.MILLISECONDS, () -> {
        if (k.isValid() && !draining) {
          k.interestOps(SelectionKey.OP_ACCEPT);
        }
      });
    }
    long now = System.nanoTime();
    long failures;
    synchronized (this) {
      acceptFailures++;
      if (lastAcceptWarning != 0
          && now - lastAcceptWarning < ACCEPT_WARN_INTERVAL_MILLIS * 1_000_000L) {
        return;
      }
      lastAcceptWarning = now;
      failures = acceptFailures;
      acceptFailures = 0;
    }
    log.warn("accept failed on port {} ({} failure(s) since the last warning): {}; accepting "
        + "pauses for {} ms each time", port, failures, e.toString(), ACCEPT_PAUSE_MILLIS);
  }

  private void adopt(ReactorState rs, SocketChannel ch) {
    try {
      ch.configureBlocking(false);
      Transport t = tls == null ? Transport.plain(ch)
          : Transport.tls(ch, tls, null, 0).plaintextReply(PLAIN_TO_TLS);
      Connection c = new Connection(this, rs, ch, t);
      if (tls != null) {
        // A handshake is several flights each way: no Nagle from the start (plain HTTP sets it
        // on its first write that more may follow, see Connection.flush).
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.noDelay = true;
        c.key = rs.reactor.register(ch, SelectionKey.OP_READ, c);
        rs.add(c);
        t.start(rs.reactor, c.key, options.headerTimeoutMillis).onComplete((v, e) -> {
          if (e != null) {
            c.close(); // the transport has closed the socket and logged why
          } else {
            c.handshakeDone();
          }
        });
      } else {
        rs.add(c);
        // The request often arrived with (or right after) the handshake: reading it now saves a
        // trip through the selector, and a connection answered and closed here never reaches
        // epoll at all. When nothing is there yet this costs one read that answers 0.
        c.onReadyEarly();
        try {
          c.registerIfOpen();
        } catch (IOException e) {
          c.close();
        }
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
    long responseNanos = TimeUnit.MILLISECONDS.toNanos(options.responseTimeoutMillis);
    long graceNanos = TimeUnit.MILLISECONDS.toNanos(options.bodyRateGraceMillis);
    long lingerNanos = TimeUnit.MILLISECONDS.toNanos(options.lingerMillis);
    for (int i = rs.connections.size() - 1; i >= 0; i--) {
      if (i >= rs.connections.size()) {
        continue;
      }
      Connection c = rs.connections.get(i);
      if (c.hasQueuedOutput() && now - Math.max(c.lastWriteProgress, c.lastActivity) > writeNanos) {
        log.debug("closing {}: no write progress", c.remoteAddress());
        c.close();
        continue;
      }
      if (c.state == Connection.S_LINGER) {
        if (now - c.lingerStart > lingerNanos || now - c.lastActivity > Connection.LINGER_IDLE_NANOS) {
          c.close();
        }
        continue;
      }
      if (responseNanos > 0 && c.handlerStart != 0 && now - c.handlerStart > responseNanos) {
        c.responseTimeout();
      }
      if (c.state == Connection.S_HEAD && c.headStart != 0 && now - c.headStart > headerNanos) {
        c.requestTimeout();
      } else if (c.state == Connection.S_BODY && !c.bodyPaused()) {
        long bodyNanos = now - c.bodyClock;
        if (now - c.lastActivity > headerNanos) {
          c.bodyTimeout("nothing arrived for " + options.headerTimeoutMillis + " ms");
        } else if (options.minBodyRate > 0 && bodyNanos > graceNanos
            && c.bodyRead * 1_000_000_000.0 / bodyNanos < options.minBodyRate) {
          c.bodyTimeout(c.bodyRead + " bytes in " + bodyNanos / 1_000_000 + " ms, under "
              + options.minBodyRate + " bytes/s");
        }
      } else if (c.isIdle() && (draining ? c.idleForDrain(now) : now - c.lastActivity > idleNanos)) {
        c.close();
      }
    }
    if (rs == states.get(0)) {
      errors.flush();
    }
  }

  /**
   * The bound port (useful with port 0).
   *
   * @return the bound port (useful with port 0)
   */
  public int port() {
    return port;
  }

  /**
   * The reactors serving this server.
   *
   * @return the reactors serving this server
   */
  public ReactorGroup reactors() {
    return group;
  }

  /**
   * Stops accepting at once, lets in-flight responses finish for up to {@code grace}, closes idle
   * and remaining connections, then stops the reactors. Answers a fut completed when all is
   * closed; safe to call more than once. What outlives a request is ended at once rather than
   * waited for: event streams ({@link Exchange#onServerStop}) finish their response, and the
   * WebSockets this server upgraded get a 1001 Going Away close, each cut after its close timeout
   * or at the end of {@code grace}, whichever comes first.
   *
   * @param grace how long in-flight responses may take to finish
   * @param unit the unit of {@code grace}
   * @return a fut completed once every connection is closed and the reactors have stopped
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
    Thread hook = shutdownHook;
    if (hook != null && hook != Thread.currentThread()) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down already: the hook runs (and finds this stop under way)
      }
    }
    for (ReactorState rs : states) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      each.add(f);
      rs.reactor.submit(() -> {
        if (rs == states.get(0)) {
          // Connections already in the backlog were promised an answer: take them, then close
          // (closing the listener would reset them).
          while (acceptSome(rs, 1024) == 1024) {
            // more waiting
          }
          Connection.closeQuietly(listener);
        }
        drain(rs, deadline, f, true);
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

  /** Keeps {@code d} (a connection upgraded on {@code rs}'s reactor) until it closes. */
  void track(ReactorState rs, Exchange.Detached d) {
    rs.detached.add(d);
    d.closed().onComplete((v, e) -> rs.reactor.dispatch(() -> rs.detached.remove(d)));
    if (draining) {
      d.goingAway();
    }
  }

  private void drain(ReactorState rs, long deadline, CompletableFuture<Void> f, boolean first) {
    if (first) {
      // Long-lived answers do not end by themselves: event streams finish their response,
      // WebSockets send 1001 Going Away (each close handshake bounded by its close timeout).
      for (int i = rs.connections.size() - 1; i >= 0; i--) {
        if (i < rs.connections.size()) {
          rs.connections.get(i).serverStopping();
        }
      }
      for (Exchange.Detached d : new ArrayList<>(rs.detached)) {
        d.goingAway();
      }
    }
    long now = System.nanoTime();
    for (int i = rs.connections.size() - 1; i >= 0; i--) {
      if (i < rs.connections.size() && rs.connections.get(i).idleForDrain(now)) {
        rs.connections.get(i).close();
      }
    }
    if ((rs.connections.isEmpty() && rs.detached.isEmpty()) || System.nanoTime() - deadline >= 0) {
      for (int i = rs.connections.size() - 1; i >= 0; i--) {
        rs.connections.get(i).close();
      }
      for (Exchange.Detached d : new ArrayList<>(rs.detached)) {
        d.abort();
      }
      rs.detached.clear();
      if (rs.sweep != null) {
        rs.sweep.cancel();
      }
      f.complete(null);
      return;
    }
    rs.reactor.schedule(20, TimeUnit.MILLISECONDS, () -> drain(rs, deadline, f, false));
  }

  /** Stops with a grace period of 5 seconds and waits for it. */
  public void close() {
    stop(5, TimeUnit.SECONDS).join();
  }
}
