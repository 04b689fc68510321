package peloton.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.reactor.Reactor;
import peloton.reactor.Timer;

/**
 * TLS over a non-blocking channel with an {@link SSLEngine}, for every protocol of Peloton.
 *
 * <p>The handshake runs as the channel's IO handler until it is done. Its delegated tasks
 * (certificate checks, key exchange: a millisecond or two of CPU each) run where {@link
 * TlsConfig#inlineTasks(boolean)} says: on the reactor, as Netty does, or on a small shared
 * executor, the loop going on on the reactor when they end, so that a task that blocks never
 * holds up the reactor's other connections. Several records in one read, records split across reads, and
 * application data arriving with the last handshake flight are all handled; such data waits in
 * {@link #hasBufferedInput()}. After the handshake, TLS 1.3 post-handshake messages (session
 * tickets, key updates) are served inside {@link #read}; a TLS 1.2 renegotiation is refused (the
 * connection fails). close_notify is answered with end of stream and sent on {@link #close}.
 *
 * <p>Memory: the packet and plaintext work buffers belong to the reactor thread, shared by all its
 * connections; a connection keeps only what the socket could not take (encrypted output) or a
 * partial record it has read, each sized to what it holds and dropped once used.
 */
public final class TlsTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(TlsTransport.class);
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  private static final int MAX_RECORD_PLAIN = 16 * 1024;
  /** File bytes encrypted per {@link #transferFrom} call at most: the rest waits for a later call. */
  private static final int FILE_SLICE = 256 * 1024;

  /** Work buffers of one reactor thread. */
  private static final class Scratch {
    final ByteBuffer netIn;
    final ByteBuffer netOut;
    final ByteBuffer app;
    final int packet;

    Scratch(int packet, int app) {
      this.packet = packet;
      // 64 KiB of ciphertext decrypts into a server's 64 KiB read buffer, plus one partial record.
      this.netIn = ByteBuffer.allocate(64 * 1024 + packet);
      this.netOut = ByteBuffer.allocate(4 * packet);
      this.app = ByteBuffer.allocate(app);
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();
  private static volatile Executor tasks;

  private final SocketChannel ch;
  private final SSLEngine engine;
  private final boolean inlineTasks;
  private ByteBuffer stashIn; // ciphertext read but not yet unwrapped (read mode)
  private ByteBuffer plainLeft; // plaintext that did not fit the caller's buffer (read mode)
  private ByteBuffer pendingOut; // ciphertext the socket did not take (read mode)
  private boolean handshakeDone;
  private boolean inboundDone;
  private boolean closed;
  private byte[] plaintextReply;
  private boolean handshakeStartedReading;

  // while handshaking
  private Reactor reactor;
  private SelectionKey key;
  private Object savedAttachment;
  private int savedOps;
  private Fut<Transport> started;
  private Timer timer;
  private boolean taskRunning;

  /**
   * TLS over {@code ch} with {@code engine} (client or server mode already set), its handshake's
   * delegated tasks on the shared executor.
   *
   * @param ch a connected non-blocking channel
   * @param engine the engine, configured; the handshake starts at {@link #start}
   */
  public TlsTransport(SocketChannel ch, SSLEngine engine) {
    this(ch, engine, false);
  }

  /**
   * TLS over {@code ch} with {@code engine} (client or server mode already set).
   *
   * @param ch a connected non-blocking channel
   * @param engine the engine, configured; the handshake starts at {@link #start}
   * @param inlineTasks true to run the handshake's delegated tasks on the reactor thread, false
   *     for the shared executor (see {@link TlsConfig#inlineTasks(boolean)})
   */
  public TlsTransport(SocketChannel ch, SSLEngine engine, boolean inlineTasks) {
    this.ch = ch;
    this.engine = engine;
    this.inlineTasks = inlineTasks;
  }

  /**
   * Server side: when the first bytes a client sends are plainly not TLS but look like an HTTP
   * request, answer {@code reply} in clear before closing (nginx answers plain HTTP on an HTTPS
   * port with a 400 too).
   *
   * @param reply the bytes to answer, a whole HTTP response
   * @return this transport
   */
  public TlsTransport plaintextReply(byte[] reply) {
    this.plaintextReply = reply;
    return this;
  }

  /**
   * The engine, for inspection (its session, its parameters).
   *
   * @return the engine
   */
  public SSLEngine engine() {
    return engine;
  }

  private Scratch scratch() {
    Scratch s = SCRATCH.get();
    SSLSession ss = engine.getSession();
    int packet = ss.getPacketBufferSize();
    if (s == null || s.packet < packet) {
      s = new Scratch(packet, Math.max(ss.getApplicationBufferSize(), MAX_RECORD_PLAIN + 1024));
      SCRATCH.set(s);
    }
    return s;
  }

  private static Executor taskExecutor() {
    Executor e = tasks;
    if (e == null) {
      synchronized (TlsTransport.class) {
        e = tasks;
        if (e == null) {
          AtomicInteger n = new AtomicInteger();
          int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
          ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
              new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "peloton-tls-task-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
          pool.allowCoreThreadTimeOut(true);
          tasks = e = pool;
        }
      }
    }
    return e;
  }

  @Override
  public SocketChannel channel() {
    return ch;
  }

  // ------------------------------------------------------------------ handshake

  @Override
  public Fut<Transport> start(Reactor reactor, SelectionKey key, long timeoutMillis) {
    this.reactor = reactor;
    this.key = key;
    this.started = new Fut<>();
    this.savedAttachment = key.attach((Reactor.IoHandler) k -> step());
    this.savedOps = key.interestOps();
    if (timeoutMillis > 0) {
      timer = reactor.schedule(timeoutMillis, TimeUnit.MILLISECONDS, () -> failHandshake(
          new TlsException(TlsException.Reason.TIMEOUT,
              "no complete handshake within " + timeoutMillis + " ms", null)));
    }
    try {
      engine.beginHandshake();
    } catch (SSLException e) {
      failHandshake(e);
      return started;
    }
    if (engine.getUseClientMode()) {
      step(); // the client speaks first
    } else {
      // A server waits for the selector to report the ClientHello instead of reading it now: a
      // burst of accepted connections would otherwise run all their key exchanges back to back
      // before the reactor serves anything else (a p99 of 400 ms under ab -c 50).
      interest(SelectionKey.OP_READ);
    }
    return started;
  }

  private void interest(int ops) {
    if (key.isValid() && key.interestOps() != ops) {
      key.interestOps(ops);
    }
  }

  /**
   * Drives the handshake as far as it goes without waiting. The records of one flight (a TLS 1.3
   * server's hello, certificate and finished are five or six wraps) gather in the reactor's
   * output buffer and go out in one write, as Netty's SslHandler sends them.
   */
  private void step() {
    if (handshakeDone || closed || taskRunning) {
      return;
    }
    ByteBuffer out = null; // the flight gathered so far (write mode), not yet written
    try {
      for (;;) {
        HandshakeStatus hs = engine.getHandshakeStatus();
        if (hs == HandshakeStatus.NEED_WRAP) {
          if (out == null) {
            if (!flush()) {
              interest(SelectionKey.OP_WRITE);
              return;
            }
            out = scratch().netOut;
            out.clear();
          } else if (out.remaining() < engine.getSession().getPacketBufferSize()) {
            writeGathered(out);
            out = null;
            continue;
          }
          SSLEngineResult r = engine.wrap(EMPTY, out);
          if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
            writeGathered(out);
            throw new TlsException(TlsException.Reason.CLOSED,
                "the connection closed during the handshake", null);
          }
          continue;
        }
        if (out != null) {
          writeGathered(out);
          out = null;
        }
        switch (hs) {
          case NEED_TASK:
            if (inlineTasks) {
              runTasks();
              break;
            }
            offloadTasks();
            return; // on the executor: step() goes on when they end
          case NEED_UNWRAP:
          case NEED_UNWRAP_AGAIN:
            if (!flush()) {
              interest(SelectionKey.OP_WRITE);
              return;
            }
            if (!unwrapHandshake()) {
              interest(SelectionKey.OP_READ);
              return;
            }
            break;
          default: // FINISHED, NOT_HANDSHAKING
            if (!flush()) {
              interest(SelectionKey.OP_WRITE);
              return;
            }
            finishHandshake();
            return;
        }
      }
    } catch (IOException | RuntimeException e) {
      failHandshake(e);
    }
  }

  /** Writes the records gathered in {@code out} (write mode). */
  private void writeGathered(ByteBuffer out) throws IOException {
    out.flip();
    writeNet(out);
  }

  /** Runs the engine's delegated tasks on the executor, then step() again on the reactor. */
  private void offloadTasks() {
    taskRunning = true;
    interest(0);
    taskExecutor().execute(() -> {
      try {
        runTasks();
      } finally {
        reactor.dispatch(() -> {
          taskRunning = false;
          step();
        });
      }
    });
  }

  private void runTasks() {
    Runnable t;
    while ((t = engine.getDelegatedTask()) != null) {
      t.run();
    }
  }

  /** Unwraps one handshake record; false when more bytes must come from the socket first. */
  private boolean unwrapHandshake() throws IOException {
    Scratch s = scratch();
    ByteBuffer net = netIn(s);
    boolean first = !handshakeStartedReading;
    for (;;) {
      net.flip();
      if (net.hasRemaining()) {
        if (first && !engine.getUseClientMode() && (net.get(0) & 0xff) != 0x16) {
          notTls(net);
        }
        first = false;
        handshakeStartedReading = true;
        ByteBuffer app = s.app;
        app.clear();
        SSLEngineResult r = engine.unwrap(net, app);
        if (r.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW) {
          stash(net);
          if (app.position() > 0) {
            app.flip();
            plainLeft = copy(app, plainLeft);
          }
          if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
            throw new TlsException(TlsException.Reason.CLOSED,
                "the peer closed the connection during the handshake", null);
          }
          if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
            throw new SSLException("handshake record larger than the application buffer");
          }
          return true;
        }
        net.compact();
      } else {
        net.clear();
      }
      if (!net.hasRemaining()) {
        throw new SSLException("TLS record larger than " + net.capacity() + " bytes");
      }
      int n = ch.read(net);
      if (n < 0) {
        throw new TlsException(TlsException.Reason.CLOSED,
            "the peer closed the connection during the handshake", null);
      }
      if (n == 0) {
        net.flip();
        stash(net);
        return false;
      }
    }
  }

  /** The first bytes from a client are no TLS record: a plaintext answer, then failure. */
  private void notTls(ByteBuffer net) throws IOException {
    int b = net.get(0) & 0xff;
    if (plaintextReply != null && b >= 'A' && b <= 'Z') {
      ch.write(ByteBuffer.wrap(plaintextReply)); // best effort: the socket is fresh and empty
    }
    throw new TlsException(TlsException.Reason.HANDSHAKE_FAILURE,
        b >= 'A' && b <= 'Z' ? "plaintext (HTTP?) sent to a TLS port"
            : "not a TLS handshake record (first byte " + b + ")", null);
  }

  private void finishHandshake() {
    handshakeDone = true;
    if (timer != null) {
      timer.cancel();
    }
    key.attach(savedAttachment);
    interest(savedOps);
    savedAttachment = null;
    Fut<Transport> f = started;
    log.debug("TLS handshake done with {}: {} {}", remote(), engine.getSession().getProtocol(),
        engine.getSession().getCipherSuite());
    f.deliver(this);
  }

  private void failHandshake(Throwable e) {
    if (handshakeDone || closed) {
      return;
    }
    if (timer != null) {
      timer.cancel();
    }
    TlsException te = e instanceof TlsException ? (TlsException) e : TlsException.of(e);
    log.debug("TLS handshake with {} failed: {}", remote(), te.getMessage());
    sendAlert();
    closeChannel();
    started.fail(te);
  }

  private String remote() {
    try {
      return String.valueOf(ch.getRemoteAddress());
    } catch (IOException e) {
      return "?";
    }
  }

  /** After a failure the engine may owe the peer an alert: write it if the socket takes it now. */
  private void sendAlert() {
    try {
      engine.closeOutbound();
      ByteBuffer net = scratch().netOut;
      for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
        net.clear();
        engine.wrap(EMPTY, net);
        net.flip();
        if (pendingOut == null && ch.isOpen()) {
          ch.write(net);
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // the connection is going away anyway
    }
  }

  // ------------------------------------------------------------------ data

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (closed) {
      throw new IOException("closed");
    }
    int start = dst.position();
    if (plainLeft != null) {
      moveInto(plainLeft, dst);
      if (!plainLeft.hasRemaining()) {
        plainLeft = null;
      }
      if (!dst.hasRemaining()) {
        return dst.position() - start;
      }
    }
    if (inboundDone) {
      return dst.position() > start ? dst.position() - start : -1;
    }
    Scratch s = scratch();
    ByteBuffer net = netIn(s);
    // Read no more ciphertext than dst can take as plaintext, so every record decrypts in place.
    int room = dst.remaining() - net.position();
    if (room < 512) {
      room = net.remaining();
    }
    int lim = net.limit();
    net.limit(Math.min(lim, net.position() + room));
    int n = ch.read(net);
    net.limit(lim);
    net.flip();
    while (net.hasRemaining() && !inboundDone) {
      SSLEngineResult r = engine.unwrap(net, dst);
      SSLEngineResult.Status st = r.getStatus();
      if (st == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
        break;
      }
      if (st == SSLEngineResult.Status.BUFFER_OVERFLOW) {
        ByteBuffer app = s.app;
        app.clear();
        r = engine.unwrap(net, app);
        app.flip();
        moveInto(app, dst);
        if (app.hasRemaining()) {
          plainLeft = copy(app, plainLeft);
        }
        afterEngine(r.getHandshakeStatus());
        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
          inboundDone = true;
        }
        if (!dst.hasRemaining() || r.getStatus() != SSLEngineResult.Status.OK) {
          break; // full: the caller reads again; a record with no data (a ticket) goes on
        }
        continue;
      }
      if (st == SSLEngineResult.Status.CLOSED) {
        inboundDone = true; // close_notify: the peer sends no more
        break;
      }
      afterEngine(r.getHandshakeStatus());
    }
    stash(net);
    int got = dst.position() - start;
    if (n < 0 && !inboundDone) {
      inboundDone = true; // no close_notify: a truncation the protocol sees as end of stream
      stashIn = null;
    }
    if (got == 0 && inboundDone) {
      return -1;
    }
    return got;
  }

  /** Serves what the engine asks for after a record, once the first handshake is done. */
  private void afterEngine(HandshakeStatus hs) throws IOException {
    if (hs == HandshakeStatus.NOT_HANDSHAKING || hs == HandshakeStatus.FINISHED) {
      return;
    }
    if (!"TLSv1.3".equals(engine.getSession().getProtocol())) {
      throw new TlsException(TlsException.Reason.RENEGOTIATION,
          "the peer started a new handshake on an established connection", null);
    }
    // TLS 1.3 post-handshake messages (session tickets, key updates): small, served in place.
    for (int i = 0; i < 8; i++) {
      hs = engine.getHandshakeStatus();
      if (hs == HandshakeStatus.NEED_TASK) {
        runTasks();
      } else if (hs == HandshakeStatus.NEED_WRAP) {
        ByteBuffer net = scratch().netOut;
        net.clear();
        engine.wrap(EMPTY, net);
        net.flip();
        writeNet(net);
      } else {
        return;
      }
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    if (closed || engine.isOutboundDone()) {
      throw new IOException("TLS connection closed");
    }
    if (!flush()) {
      return 0;
    }
    ByteBuffer net = scratch().netOut;
    net.clear();
    long taken = 0;
    int packet = engine.getSession().getPacketBufferSize();
    while (net.remaining() >= packet && hasRemaining(srcs, offset, length)) {
      SSLEngineResult r = engine.wrap(srcs, offset, length, net);
      if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
        throw new IOException("TLS connection closed");
      }
      if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
        break;
      }
      taken += r.bytesConsumed();
      HandshakeStatus hs = r.getHandshakeStatus();
      if (hs == HandshakeStatus.NEED_TASK || hs == HandshakeStatus.NEED_UNWRAP) {
        afterEngine(hs);
      }
    }
    net.flip();
    writeNet(net);
    return taken;
  }

  private static boolean hasRemaining(ByteBuffer[] bs, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (bs[i].hasRemaining()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public long write(ByteBuffer src) throws IOException {
    return write(new ByteBuffer[] {src}, 0, 1);
  }

  @Override
  public long transferFrom(FileChannel file, long position, long count) throws IOException {
    if (!flush()) {
      return 0;
    }
    Scratch s = scratch();
    ByteBuffer plain = s.app;
    ByteBuffer net = s.netOut;
    long sent = 0;
    while (sent < count && sent < FILE_SLICE && pendingOut == null) {
      plain.clear();
      plain.limit((int) Math.min(MAX_RECORD_PLAIN, count - sent));
      int n = file.read(plain, position + sent);
      if (n <= 0) {
        break;
      }
      plain.flip();
      net.clear();
      while (plain.hasRemaining()) {
        SSLEngineResult r = engine.wrap(plain, net);
        if (r.getStatus() != SSLEngineResult.Status.OK) {
          throw new IOException("TLS connection closed");
        }
      }
      net.flip();
      writeNet(net);
      sent += n;
    }
    return sent;
  }

  /** Writes {@code net}; what the socket does not take is kept, after earlier pending bytes. */
  private void writeNet(ByteBuffer net) throws IOException {
    if (!net.hasRemaining()) {
      return;
    }
    if (pendingOut == null) {
      ch.write(net);
      if (!net.hasRemaining()) {
        return;
      }
    }
    pendingOut = copy(net, pendingOut);
  }

  @Override
  public boolean hasPendingOutput() {
    return pendingOut != null;
  }

  @Override
  public boolean flush() throws IOException {
    if (pendingOut == null) {
      return true;
    }
    ch.write(pendingOut);
    if (pendingOut.hasRemaining()) {
      return false;
    }
    pendingOut = null;
    return true;
  }

  @Override
  public boolean hasBufferedInput() {
    return plainLeft != null || stashIn != null && completeRecord(stashIn);
  }

  private static boolean completeRecord(ByteBuffer b) {
    if (b.remaining() < 5) {
      return false;
    }
    int p = b.position();
    int len = ((b.get(p + 3) & 0xff) << 8) | (b.get(p + 4) & 0xff);
    return b.remaining() >= 5 + len;
  }

  @Override
  public boolean isSecure() {
    return true;
  }

  @Override
  public SSLSession session() {
    return handshakeDone ? engine.getSession() : null;
  }

  @Override
  public String applicationProtocol() {
    String p = handshakeDone ? engine.getApplicationProtocol() : null;
    return p == null || p.isEmpty() ? null : p;
  }

  @Override
  public void shutdownOutput() throws IOException {
    closeNotify();
    ch.shutdownOutput();
  }

  /** Sends close_notify once, if the socket takes it now. */
  private void closeNotify() {
    if (!handshakeDone || engine.isOutboundDone()) {
      return;
    }
    try {
      engine.closeOutbound();
      ByteBuffer net = scratch().netOut;
      net.clear();
      engine.wrap(EMPTY, net);
      net.flip();
      if (pendingOut == null) {
        ch.write(net); // best effort: a full socket gets no close_notify
      }
    } catch (IOException | RuntimeException e) {
      log.debug("sending close_notify to {} failed: {}", remote(), e.toString());
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closeNotify();
    closeChannel();
    if (!handshakeDone && started != null && !started.isDone()) {
      if (timer != null) {
        timer.cancel();
      }
      started.fail(new TlsException(TlsException.Reason.CLOSED, "closed during the handshake", null));
    }
  }

  private void closeChannel() {
    closed = true;
    stashIn = plainLeft = pendingOut = null;
    try {
      ch.close();
    } catch (IOException e) {
      log.debug("closing {} failed: {}", remote(), e.toString());
    }
  }

  // ------------------------------------------------------------------ buffers

  /** The reactor's packet buffer (write mode), holding this connection's stashed bytes first. */
  private ByteBuffer netIn(Scratch s) {
    ByteBuffer net = s.netIn;
    net.clear();
    if (stashIn != null) {
      net.put(stashIn);
      stashIn = null;
    }
    return net;
  }

  private void stash(ByteBuffer net) {
    stashIn = net.hasRemaining() ? copy(net, null) : null;
  }

  /** {@code into} (read mode, may be null) followed by {@code src}'s remaining bytes, read mode. */
  private static ByteBuffer copy(ByteBuffer src, ByteBuffer into) {
    int n = src.remaining();
    ByteBuffer b;
    if (into == null) {
      b = ByteBuffer.allocate(n);
    } else {
      b = ByteBuffer.allocate(into.remaining() + n);
      b.put(into);
    }
    b.put(src);
    b.flip();
    return b;
  }

  private static void moveInto(ByteBuffer src, ByteBuffer dst) {
    int n = Math.min(src.remaining(), dst.remaining());
    if (n == src.remaining()) {
      dst.put(src);
    } else {
      ByteBuffer slice = src.duplicate();
      slice.limit(src.position() + n);
      dst.put(slice);
      src.position(src.position() + n);
    }
  }
}
