package peloton.websocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.http.server.Exchange;
import peloton.reactor.Reactor;
import peloton.reactor.Timer;
import peloton.transport.Transport;

/**
 * A WebSocket connection on its reactor: the frame reader on the input side, a queue of encoded
 * frames on the output side, the close handshake, and the timers. Bytes go through a {@link
 * Transport}, so ws:// and wss:// differ only in the transport given. Everything runs on the
 * reactor thread; the public methods hop there. On the server side it is also what the HTTP
 * server ends, with 1001 Going Away, when it stops.
 */
final class WsConnection
    implements WebSocket, Reactor.IoHandler, FrameReader.Handler, Exchange.Detached {
  private static final Logger log = LoggerFactory.getLogger(WsConnection.class);
  private static final ThreadLocal<ByteBuffer> READ_BUFFER =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64 * 1024));
  /** Payloads up to this size are copied next to their head: one buffer per frame. */
  private static final int COPY_LIMIT = 2048;
  private static final int OPEN = 0, CLOSING = 1, CLOSED = 2;

  private final Reactor reactor;
  private final Transport transport;
  private final boolean client;
  private final WebSocketOptions options;
  private final Listener listener;
  private final PerMessageDeflate deflate;
  private final String subprotocol;
  private SelectionKey key;
  private FrameReader reader;

  private final ArrayDeque<ByteBuffer> outq = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private ByteBuffer[] gather;
  private long enqueued;
  private long written;
  private boolean writeInterest;

  private int state = OPEN;
  private boolean opened;
  private boolean closeSent;
  private boolean closeReceived;
  private boolean closeAfterFlush;
  private boolean failed;
  private int closeCode = ABNORMAL;
  private String closeReason = "";
  private final Fut<Integer> closedFut = new Fut<>();

  private boolean feeding;
  private boolean processing; // inside process(): its caller keeps what is left of the input
  private boolean listenerWait;
  private boolean outputFull;
  private ByteBuffer held;

  private Timer closeTimer;
  private Timer idleTimer;
  private Timer pingTimer;
  private long lastRead;
  private boolean awaitingPong;
  private volatile Object attachment;

  WsConnection(Reactor reactor, Transport transport, boolean client, WebSocketOptions options,
      Listener listener, PerMessageDeflate deflate, String subprotocol) {
    this.reactor = reactor;
    this.transport = transport;
    this.client = client;
    this.options = options;
    this.listener = listener;
    this.deflate = deflate;
    this.subprotocol = subprotocol;
    this.reader = new FrameReader(this, !client, options.maxFrameSize, options.maxMessageSize,
        deflate);
  }

  /**
   * Takes over the channel on the reactor thread: {@code first} (the server's 101 answer, or null)
   * goes out before anything else, {@code leftover} holds bytes already read past the handshake.
   */
  void start(SelectionKey existing, byte[] first, ByteBuffer leftover) throws IOException {
    if (existing != null) {
      key = existing;
      key.attach(this);
      key.interestOps(SelectionKey.OP_READ);
    } else {
      key = reactor.register(transport.channel(), SelectionKey.OP_READ, this);
    }
    if (first != null) {
      enqueue(ByteBuffer.wrap(first), null);
    }
    lastRead = System.nanoTime();
    if (options.idleTimeoutMillis > 0) {
      scheduleIdle(options.idleTimeoutMillis);
    }
    if (options.pingIntervalMillis > 0) {
      schedulePing();
    }
    opened = true;
    try {
      listener.onOpen(this);
    } catch (Throwable t) {
      listenerFailed(t);
    }
    if (leftover != null && leftover.hasRemaining() && state != CLOSED) {
      ByteBuffer copy = ByteBuffer.allocate(leftover.remaining());
      copy.put(leftover).flip();
      held = copy;
      reactor.submit(this::resume);
    } else if (transport.hasBufferedInput()) {
      reactor.submit(this::readBuffered); // TLS decrypted more than the handshake's buffer held
    }
    flush();
  }

  // ---- input ----

  @Override
  public void onReady(SelectionKey k) {
    int ready = k.readyOps();
    if ((ready & SelectionKey.OP_WRITE) != 0) {
      flush();
    }
    if ((ready & SelectionKey.OP_READ) != 0 && state != CLOSED) {
      onReadable();
    }
  }

  private void onReadable() {
    if (held != null || listenerWait || outputFull) {
      setRead(false);
      return;
    }
    ByteBuffer in = READ_BUFFER.get();
    in.clear();
    int n;
    try {
      n = transport.read(in);
    } catch (IOException e) {
      log.debug("read failed: {}", e.toString());
      finish();
      return;
    }
    if (n < 0) {
      finish(); // end of stream: the peer closed TCP (after a close handshake or not)
      return;
    }
    if (n == 0) {
      return;
    }
    lastRead = System.nanoTime();
    in.flip();
    process(in);
    if (in.hasRemaining() && state != CLOSED && !reader.isDone()) {
      held = ByteBuffer.allocate(in.remaining());
      held.put(in).flip();
      setRead(false);
    } else if (state != CLOSED && transport.hasBufferedInput()) {
      // TLS holds decrypted bytes the selector knows nothing of: read them on the next turn.
      reactor.submit(this::readBuffered);
    }
  }

  private void readBuffered() {
    if (state != CLOSED && held == null && !listenerWait && !outputFull
        && transport.hasBufferedInput()) {
      onReadable();
    }
  }

  private void process(ByteBuffer in) {
    if (reader.isDone() || failed) {
      in.position(in.limit()); // after a close frame nothing more is read
      return;
    }
    processing = true;
    feeding = true;
    try {
      reader.feed(in);
    } catch (WsProtocolException e) {
      in.position(in.limit());
      protocolError(e.code, e.getMessage());
    } finally {
      feeding = false;
    }
    if (reader.isDone()) {
      in.position(in.limit());
    }
    try {
      flush();
    } finally {
      processing = false;
    }
  }

  /**
   * Goes on reading once a wait ended. A wait that ends inside process() (the send a listener
   * waits on left at once in its flush) must not resume there: the caller has not yet kept the
   * rest of its input, which would then be stranded; the next turn of the loop goes on instead.
   */
  private void resumeSoon() {
    if (processing) {
      reactor.submit(this::resume);
    } else {
      resume();
    }
  }

  /** Goes on with held input and reading once nothing holds us back. */
  private void resume() {
    if (state == CLOSED || listenerWait || outputFull) {
      return;
    }
    if (held != null) {
      ByteBuffer h = held;
      held = null;
      process(h);
      if (h.hasRemaining() && state != CLOSED && !reader.isDone()) {
        held = h;
        return;
      }
    }
    if (state != CLOSED) {
      setRead(true);
      readBuffered();
    }
  }

  @Override
  public boolean paused() {
    return listenerWait || outputFull || state == CLOSED;
  }

  @Override
  public void onText(String text) {
    Fut<?> f;
    try {
      f = listener.onText(this, text);
    } catch (Throwable t) {
      listenerFailed(t);
      return;
    }
    waitFor(f);
  }

  @Override
  public void onBinary(ByteBuffer data) {
    Fut<?> f;
    try {
      f = listener.onBinary(this, data);
    } catch (Throwable t) {
      listenerFailed(t);
      return;
    }
    waitFor(f);
  }

  private void waitFor(Fut<?> f) {
    if (f == null || f.isDone()) {
      return;
    }
    listenerWait = true;
    setRead(false);
    f.onComplete((v, e) -> reactor.dispatch(() -> {
      listenerWait = false;
      resumeSoon();
    }));
  }

  @Override
  public void onPing(byte[] data) {
    try {
      listener.onPing(this, ByteBuffer.wrap(data));
    } catch (Throwable t) {
      listenerFailed(t);
    }
  }

  @Override
  public void onPong(byte[] data) {
    awaitingPong = false;
    try {
      listener.onPong(this, ByteBuffer.wrap(data));
    } catch (Throwable t) {
      listenerFailed(t);
    }
  }

  @Override
  public void onClose(int code, String reason) {
    closeReceived = true;
    closeCode = code;
    closeReason = reason;
    if (!closeSent) {
      // Echo the peer's code (RFC 6455 section 5.5.1); none when it sent none.
      sendClose(code == NO_STATUS ? -1 : code, "");
    }
    if (client) {
      startCloseTimer(); // the server closes TCP first; we wait for it, bounded
    } else {
      closeAfterFlush = true;
    }
    state = CLOSING;
  }

  private void listenerFailed(Throwable t) {
    log.error("WebSocket listener failed; closing with 1011", t);
    try {
      listener.onError(this, t);
    } catch (Throwable t2) {
      log.error("WebSocket listener's onError failed", t2);
    }
    if (!closeSent && state != CLOSED) {
      closeCode = INTERNAL_ERROR;
      closeReason = "listener failed";
      sendClose(INTERNAL_ERROR, "");
      startCloseTimer();
      state = CLOSING;
    }
  }

  /** Fails the connection (RFC 6455 section 7.1.7): send the code, then close TCP. */
  private void protocolError(int code, String reason) {
    log.debug("WebSocket peer {} broke the protocol ({}): {}", remoteAddress(), code, reason);
    failed = true;
    if (!closeReceived) {
      closeCode = code;
      closeReason = reason;
    }
    try {
      listener.onError(this, new IOException("WebSocket protocol error " + code + ": " + reason));
    } catch (Throwable t) {
      log.error("WebSocket listener's onError failed", t);
    }
    if (!closeSent) {
      sendClose(code, "");
    }
    closeAfterFlush = true;
    startCloseTimer();
    state = CLOSING;
    flush();
  }

  // ---- output ----

  @Override
  public Fut<Boolean> sendText(CharSequence text) {
    byte[] b = text.toString().getBytes(StandardCharsets.UTF_8);
    return onReactor(() -> sendData(FrameWriter.OP_TEXT, b, 0, b.length));
  }

  @Override
  public Fut<Boolean> sendBinary(byte[] data) {
    return onReactor(() -> sendData(FrameWriter.OP_BINARY, data, 0, data.length));
  }

  @Override
  public Fut<Boolean> sendBinary(ByteBuffer data) {
    ByteBuffer d = data.duplicate();
    if (d.hasArray()) {
      return onReactor(() -> sendData(FrameWriter.OP_BINARY, d.array(),
          d.arrayOffset() + d.position(), d.remaining()));
    }
    byte[] b = new byte[d.remaining()];
    d.get(b);
    return sendBinary(b);
  }

  @Override
  public Fut<Boolean> ping(ByteBuffer data) {
    byte[] b = controlPayload(data);
    return onReactor(() -> sendControl(FrameWriter.OP_PING, b));
  }

  @Override
  public Fut<Boolean> pong(ByteBuffer data) {
    byte[] b = controlPayload(data);
    return onReactor(() -> sendControl(FrameWriter.OP_PONG, b));
  }

  private static byte[] controlPayload(ByteBuffer data) {
    if (data == null) {
      return new byte[0];
    }
    ByteBuffer d = data.duplicate();
    if (d.remaining() > 125) {
      throw new IllegalArgumentException("a control frame carries at most 125 bytes, got "
          + d.remaining());
    }
    byte[] b = new byte[d.remaining()];
    d.get(b);
    return b;
  }

  @Override
  public Fut<Integer> close() {
    return close(NORMAL, "");
  }

  @Override
  public Fut<Integer> close(int code, String reason) {
    if (code != NORMAL && !(FrameReader.isValidCloseCode(code))) {
      throw new IllegalArgumentException("not a close code one may send: " + code);
    }
    String r = reason == null ? "" : reason;
    if (r.getBytes(StandardCharsets.UTF_8).length > 123) {
      throw new IllegalArgumentException("a close reason is at most 123 UTF-8 bytes");
    }
    reactor.dispatch(() -> {
      if (state != OPEN || closeSent) {
        return;
      }
      closeCode = code;
      closeReason = r;
      sendClose(code, r);
      state = CLOSING;
      startCloseTimer();
      flush();
    });
    return closedFut;
  }

  @Override
  public void abort() {
    reactor.dispatch(this::finish);
  }

  /** The HTTP server that upgraded this connection stops: 1001, bounded by the close timeout. */
  @Override
  public void goingAway() {
    reactor.dispatch(() -> {
      if (state == OPEN && !closeSent) {
        close(GOING_AWAY, "server stopping");
      }
    });
  }

  private Fut<Boolean> onReactor(java.util.function.Supplier<Fut<Boolean>> action) {
    if (reactor.inReactorThread()) {
      return action.get();
    }
    Fut<Boolean> f = new Fut<>();
    reactor.submit(() -> f.follow(action.get()));
    return f;
  }

  private Fut<Boolean> sendData(int opcode, byte[] b, int off, int len) {
    if (closeSent || state == CLOSED) {
      return Fut.failed(new IOException("the WebSocket is closed"));
    }
    boolean rsv1 = false;
    if (deflate != null && len >= options.compressionThreshold) {
      b = deflate.compress(b, off, len);
      off = 0;
      len = b.length;
      rsv1 = true;
    }
    Fut<Boolean> f = new Fut<>();
    enqueueFrame(opcode, rsv1, b, off, len, f);
    return f;
  }

  private Fut<Boolean> sendControl(int opcode, byte[] b) {
    if (closeSent || state == CLOSED) {
      return Fut.failed(new IOException("the WebSocket is closed"));
    }
    Fut<Boolean> f = new Fut<>();
    enqueueFrame(opcode, false, b, 0, b.length, f);
    return f;
  }

  private void sendClose(int code, String reason) {
    closeSent = true;
    byte[] payload;
    if (code < 0) {
      payload = new byte[0];
    } else {
      byte[] r = reason.getBytes(StandardCharsets.UTF_8);
      payload = new byte[2 + r.length];
      payload[0] = (byte) (code >>> 8);
      payload[1] = (byte) code;
      System.arraycopy(r, 0, payload, 2, r.length);
    }
    enqueueFrame(FrameWriter.OP_CLOSE, false, payload, 0, payload.length, null);
  }

  private void enqueueFrame(int opcode, boolean rsv1, byte[] b, int off, int len,
      Fut<Boolean> f) {
    if (client) {
      int maskKey = FrameWriter.randomMask();
      byte[] frame = new byte[FrameWriter.MAX_HEAD + len];
      int h = FrameWriter.head(frame, 0, opcode, true, rsv1, len, true, maskKey);
      System.arraycopy(b, off, frame, h, len);
      byte[] k = {(byte) (maskKey >>> 24), (byte) (maskKey >>> 16), (byte) (maskKey >>> 8),
          (byte) maskKey};
      FrameWriter.mask(frame, h, len, k, 0);
      enqueue(ByteBuffer.wrap(frame, 0, h + len), f);
    } else if (len <= COPY_LIMIT) {
      byte[] frame = new byte[10 + len];
      int h = FrameWriter.head(frame, 0, opcode, true, rsv1, len, false, 0);
      System.arraycopy(b, off, frame, h, len);
      enqueue(ByteBuffer.wrap(frame, 0, h + len), f);
    } else {
      byte[] head = new byte[10];
      int h = FrameWriter.head(head, 0, opcode, true, rsv1, len, false, 0);
      enqueue(ByteBuffer.wrap(head, 0, h), null);
      enqueue(ByteBuffer.wrap(b, off, len), f);
    }
    if (!feeding) {
      flush();
    }
  }

  private void enqueue(ByteBuffer b, Fut<Boolean> f) {
    outq.add(b);
    enqueued += b.remaining();
    if (f != null) {
      waiters.add(new Waiter(f, enqueued));
    }
    if (enqueued - written > options.highWaterMark && !outputFull) {
      outputFull = true; // the peer reads slower than we write: stop reading for now
      setRead(false);
    }
  }

  private void flush() {
    if (state == CLOSED) {
      return;
    }
    try {
      while (transport.flush() && !outq.isEmpty()) {
        if (gather == null) {
          gather = new ByteBuffer[16];
        }
        int k = 0;
        for (ByteBuffer b : outq) {
          if (k == gather.length) {
            break;
          }
          gather[k++] = b;
        }
        long w = transport.write(gather, 0, k);
        written += w;
        boolean full = false;
        for (int i = 0; i < k; i++) {
          ByteBuffer b = gather[i];
          gather[i] = null;
          if (!full && !b.hasRemaining()) {
            outq.poll();
          } else {
            full = true;
          }
        }
        if (full) {
          break;
        }
      }
    } catch (IOException e) {
      log.debug("write to {} failed: {}", remoteAddress(), e.toString());
      finish();
      return;
    }
    boolean drained = !transport.hasPendingOutput(); // TLS may hold encrypted bytes still
    while (drained && !waiters.isEmpty() && waiters.peek().end <= written) {
      waiters.poll().fut.deliver(Boolean.TRUE);
    }
    if (outq.isEmpty() && drained) {
      gather = null;
      setWrite(false);
      if (closeAfterFlush) {
        finish();
        return;
      }
    } else {
      setWrite(true);
    }
    if (outputFull && enqueued - written <= options.lowWaterMark) {
      outputFull = false;
      if (!feeding) {
        resumeSoon();
      }
    }
  }

  private void setRead(boolean on) {
    setInterest(SelectionKey.OP_READ, on);
  }

  private void setWrite(boolean on) {
    if (on != writeInterest) {
      writeInterest = on;
      setInterest(SelectionKey.OP_WRITE, on);
    }
  }

  private void setInterest(int op, boolean on) {
    Reactor.setInterest(key, op, on);
  }

  // ---- timers and the end ----

  private void startCloseTimer() {
    if (closeTimer == null && state != CLOSED) {
      closeTimer = reactor.schedule(options.closeTimeoutMillis, TimeUnit.MILLISECONDS, () -> {
        log.debug("WebSocket peer {} did not finish the close handshake in time", remoteAddress());
        finish();
      });
    }
  }

  private void scheduleIdle(long delayMillis) {
    idleTimer = reactor.schedule(delayMillis, TimeUnit.MILLISECONDS, () -> {
      if (state == CLOSED) {
        return;
      }
      long idle = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRead);
      if (idle >= options.idleTimeoutMillis) {
        if (state == OPEN) {
          close(GOING_AWAY, "idle timeout");
        }
      } else {
        scheduleIdle(options.idleTimeoutMillis - idle);
      }
    });
  }

  private void schedulePing() {
    pingTimer = reactor.schedule(options.pingIntervalMillis, TimeUnit.MILLISECONDS, () -> {
      if (state != OPEN) {
        return;
      }
      if (awaitingPong) {
        log.debug("WebSocket peer {} stopped answering pings; cutting it off", remoteAddress());
        closeReason = "no pong";
        finish();
        return;
      }
      awaitingPong = true;
      sendControl(FrameWriter.OP_PING, new byte[0]);
      schedulePing();
    });
  }

  /** Closes TCP, fails what was not sent, and tells the listener (once). */
  private void finish() {
    if (state == CLOSED) {
      return;
    }
    state = CLOSED;
    for (Timer t : new Timer[] {closeTimer, idleTimer, pingTimer}) {
      if (t != null) {
        t.cancel();
      }
    }
    if (key != null) {
      key.cancel();
    }
    transport.close();
    outq.clear();
    held = null;
    IOException closed = new IOException("the WebSocket closed before the frame was sent");
    while (!waiters.isEmpty()) {
      waiters.poll().fut.fail(closed);
    }
    reader.release();
    if (deflate != null) {
      deflate.end();
    }
    if (opened) {
      try {
        listener.onClose(this, closeCode, closeReason);
      } catch (Throwable t) {
        log.error("WebSocket listener's onClose failed", t);
      }
    }
    closedFut.deliver(closeCode);
  }

  // ---- the rest of WebSocket ----

  @Override
  public boolean isOpen() {
    return state == OPEN && !closeSent;
  }

  @Override
  public Fut<Integer> closed() {
    return closedFut;
  }

  @Override
  public String subprotocol() {
    return subprotocol;
  }

  @Override
  public String extensions() {
    return deflate == null ? null : deflate.response;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    try {
      return (InetSocketAddress) transport.channel().getRemoteAddress();
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public InetSocketAddress localAddress() {
    try {
      return (InetSocketAddress) transport.channel().getLocalAddress();
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public Reactor reactor() {
    return reactor;
  }

  @Override
  public Object attachment() {
    return attachment;
  }

  @Override
  public void attach(Object o) {
    attachment = o;
  }

  @Override
  public String toString() {
    return "WebSocket[" + (client ? "client " : "server ") + remoteAddress() + "]";
  }

  /** A send's fut and the output offset at which its frame ends. */
  private static final class Waiter {
    final Fut<Boolean> fut;
    final long end;

    Waiter(Fut<Boolean> fut, long end) {
      this.fut = fut;
      this.end = end;
    }
  }
}
