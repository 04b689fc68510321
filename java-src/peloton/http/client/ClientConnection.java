package peloton.http.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.http.BodySink;
import peloton.reactor.Reactor;
import peloton.reactor.Timer;
import peloton.transport.TlsException;
import peloton.transport.Transport;

/**
 * One client connection of a {@link ClientPool}: connect, write a request, read its response,
 * then wait idle for the next. Runs on the pool's reactor thread only.
 */
final class ClientConnection implements Reactor.IoHandler {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
  private static final byte[] EMPTY = new byte[0];

  private final ClientPool pool;
  private final ResponseParser parser;
  private final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
  private SocketChannel ch;
  private Transport t;
  private SelectionKey key;
  private Timer connectTimer, idleTimer;
  private boolean closed;
  private boolean handshaken;
  private long connectStart;

  HttpClient.Call call;
  private boolean reused, gotBytes, headDone, discard;
  private ByteBuffer[] out;
  private URI redirectTo;
  private int status;
  private String reason;
  private String[] names, values;
  private byte[] body;
  private int bodyLen;
  private Stream stream;
  private Fut lastPut;
  private boolean paused;
  private final BodySink sink = this::onData;

  ClientConnection(ClientPool pool) {
    this.pool = pool;
    this.parser = new ResponseParser(pool.options().limits);
  }

  void connect(InetSocketAddress address) {
    if (closed) return;
    try {
      ch = SocketChannel.open();
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      t = pool.tls == null ? Transport.plain(ch) : Transport.tls(ch, pool.tls, pool.host, pool.port);
      boolean now = ch.connect(address);
      key = pool.reactor.register(ch, now ? 0 : SelectionKey.OP_CONNECT, this);
      connectStart = System.nanoTime();
      if (now) {
        connected();
      } else {
        long t = pool.options().connectTimeoutMillis;
        connectTimer = pool.reactor.schedule(t, TimeUnit.MILLISECONDS, () -> fail(call == null ? null
            : call.error(HttpClientException.Kind.TIMEOUT, "connect timed out after " + t + " ms", null)));
      }
    } catch (IOException e) {
      fail(call == null ? null : call.error(HttpClientException.Kind.REFUSED, "cannot connect: " + e, e));
    }
  }

  private void connected() {
    if (connectTimer != null) connectTimer.cancel();
    if (pool.tls != null && !handshaken) {
      // The handshake gets what is left of the connect timeout.
      long limit = pool.options().connectTimeoutMillis;
      long left = Math.max(1, limit - (System.nanoTime() - connectStart) / 1_000_000);
      key.interestOps(0);
      t.start(pool.reactor, key, left).onComplete((v, e) -> {
        if (closed) return;
        if (e != null) {
          closed = true; // the transport closed the socket
          HttpClient.Call c = call;
          call = null;
          pool.gone(this);
          if (c != null) {
            TlsException te = TlsException.of(e);
            c.fail(c.error(HttpClientException.Kind.TLS, te.getMessage(), te));
          }
          return;
        }
        handshaken = true;
        connected();
      });
      return;
    }
    HttpClient.Call c = call;
    if (c == null || c.result.isDone()) {
      call = null;
      pool.release(this); // its request gave up meanwhile: serve the next one
    } else {
      send(c, false);
    }
  }

  @Override
  public void onReady(SelectionKey k) {
    if (closed) return;
    if (k.isConnectable()) {
      try {
        ch.finishConnect();
      } catch (IOException e) {
        fail(call == null ? null : call.error(HttpClientException.Kind.REFUSED, "cannot connect: " + e, e));
        return;
      }
      connected();
      return;
    }
    if (k.isValid() && k.isWritable()) flush();
    if (!closed && k.isValid() && k.isReadable()) readable();
  }

  /** Starts {@code c}'s request on this (connected) connection. */
  void send(HttpClient.Call c, boolean reusedConnection) {
    if (idleTimer != null) idleTimer.cancel();
    call = c;
    c.conn = this;
    reused = reusedConnection;
    gotBytes = headDone = discard = paused = false;
    redirectTo = null;
    body = null;
    bodyLen = 0;
    stream = null;
    lastPut = null;
    parser.reset(c.isHead());
    parser.maxBody(c.req.stream ? Long.MAX_VALUE : pool.options().maxBody);
    try {
      out = c.encode();
    } catch (RuntimeException e) {
      call = null;
      pool.release(this);
      c.fail(e);
      return;
    }
    key.interestOps(SelectionKey.OP_READ);
    flush();
  }

  private void flush() {
    try {
      t.write(out, 0, out.length);
    } catch (IOException e) {
      ioError(e);
      return;
    }
    boolean pending = out[out.length - 1].hasRemaining() || t.hasPendingOutput();
    int ops = key.interestOps();
    key.interestOps(pending ? ops | SelectionKey.OP_WRITE : ops & ~SelectionKey.OP_WRITE);
  }

  private boolean written() {
    return out == null || !out[out.length - 1].hasRemaining() && !t.hasPendingOutput();
  }

  private void readable() {
    while (!paused) {
      int n;
      try {
        n = t.read(in);
      } catch (IOException e) {
        ioError(e);
        return;
      }
      if (n == 0) return;
      if (call == null) { // idle: the server closed, or sent what nobody asked for
        close();
        return;
      }
      if (n < 0) {
        eof();
        return;
      }
      gotBytes = true;
      in.flip();
      boolean more = process();
      in.clear();
      if (!more) return;
      if (lastPut != null && !lastPut.isDone()) pause();
    }
  }

  // Parses what was read; false once the response is done or failed.
  private boolean process() {
    if (!headDone) {
      int r = parser.parseHead(in);
      if (r == ResponseParser.NEED_MORE) return true;
      if (r == ResponseParser.ERROR) {
        parseError();
        return false;
      }
      headDone = true;
      onHead();
    }
    int r = parser.parseBody(in, discard ? null : sink);
    if (r == ResponseParser.NEED_MORE) return true;
    if (r == ResponseParser.ERROR) {
      parseError();
      return false;
    }
    finish(parser.keepAlive() && !in.hasRemaining() && written());
    return false;
  }

  private void parseError() {
    fail(call.error(parser.tooLarge() ? HttpClientException.Kind.TOO_LARGE
        : HttpClientException.Kind.MALFORMED, "bad response: " + parser.errorReason(), null));
  }

  private void onHead() {
    status = parser.status();
    reason = parser.reason();
    int n = parser.headerCount();
    names = new String[n];
    values = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = parser.headerName(i);
      values[i] = parser.headerValue(i);
    }
    redirectTo = call.redirectTarget(status, parser.header("location"));
    if (redirectTo != null) {
      discard = true;
    } else if (call.req.stream) {
      stream = new Stream(pool.options().streamCapacity);
      if (!parser.hasBody()) stream.close();
      call.result.deliver(new ClientResponse(status, reason, names, values, null, stream, call.url()));
    } else {
      long cl = parser.contentLength();
      body = cl > 0 ? new byte[(int) cl] : cl == 0 ? EMPTY : new byte[8 * 1024];
    }
  }

  private void onData(ByteBuffer data) {
    int n = data.remaining();
    if (stream != null) {
      byte[] piece = new byte[n];
      data.get(piece);
      lastPut = stream.put(piece);
      return;
    }
    if (bodyLen + n > body.length) {
      body = Arrays.copyOf(body, (int) Math.min(Integer.MAX_VALUE - 8,
          Math.max((long) body.length * 2, (long) bodyLen + n)));
    }
    data.get(body, bodyLen, n);
    bodyLen += n;
  }

  // Backpressure: stop reading until the stream takes the last piece.
  private void pause() {
    paused = true;
    key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
    lastPut.onComplete((v, e) -> pool.reactor.dispatch(this::resume));
  }

  private void resume() {
    if (closed || !paused) return;
    paused = false;
    key.interestOps(key.interestOps() | SelectionKey.OP_READ);
    readable();
  }

  /** The response is complete: hand the connection back (or close it), then answer. */
  private void finish(boolean reusable) {
    HttpClient.Call c = call;
    URI next = redirectTo;
    int st = status;
    Stream s = stream;
    ClientResponse r = next != null || s != null ? null : new ClientResponse(status, reason, names,
        values, body.length == bodyLen ? body : Arrays.copyOf(body, bodyLen), null, c.url());
    call = null;
    out = null;
    stream = null;
    body = null;
    // Released first, so that a callback's next request can reuse this connection.
    if (reusable) {
      pool.release(this);
    } else {
      close();
    }
    if (next != null) {
      c.redirect(st, next);
    } else if (s != null) {
      s.close();
      c.timer.cancel();
    } else {
      c.timer.cancel();
      c.result.deliver(r);
    }
  }

  private void eof() {
    if (headDone && parser.endOfInput() == ResponseParser.BODY_DONE) {
      finish(false);
    } else if (!retry()) {
      fail(call.error(HttpClientException.Kind.RESET, headDone
          ? "connection closed before the response body was complete"
          : "connection closed before a response", null));
    }
  }

  private void ioError(IOException e) {
    if (call == null) {
      close();
    } else if (!retry()) {
      fail(call.error(HttpClientException.Kind.RESET, "connection failed: " + e.getMessage(), e));
    }
  }

  // A reused connection the server had closed meanwhile: send an idempotent request again once.
  private boolean retry() {
    HttpClient.Call c = call;
    if (!reused || gotBytes || c.retried || !c.idempotent()) return false;
    log.debug("retrying {} on a new connection: the reused one was closed", c.url());
    c.retried = true;
    call = null;
    close();
    pool.acquire(c);
    return true;
  }

  /** Closes the connection; its request, if any, fails with {@code e} (when not null). */
  void fail(HttpClientException e) {
    HttpClient.Call c = call;
    call = null;
    close();
    if (c != null && e != null) {
      if (stream != null) stream.error(e);
      c.fail(e);
    }
  }

  void startIdle() {
    long t = pool.options().idleTimeoutMillis;
    idleTimer = pool.reactor.schedule(t, TimeUnit.MILLISECONDS, () -> {
      if (call == null) close();
    });
  }

  void close() {
    if (closed) return;
    closed = true;
    if (connectTimer != null) connectTimer.cancel();
    if (idleTimer != null) idleTimer.cancel();
    if (key != null) key.cancel();
    if (t != null) {
      t.close();
    } else if (ch != null) {
      try {
        ch.close();
      } catch (IOException e) {
        log.debug("closing a client connection failed", e);
      }
    }
    pool.gone(this);
  }
}
