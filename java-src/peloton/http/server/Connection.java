package peloton.http.server;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.http.BodySink;
import peloton.http.HttpStatus;
import peloton.reactor.Reactor;
import peloton.transport.Transport;

/**
 * One client connection: reads into its reactor's shared buffer, parses requests one after another
 * (pipelined ones wait their turn, so answers go out in order), runs the handler and writes the
 * answers with gathering writes and {@code transferTo}. Everything here runs on the reactor thread.
 */
final class Connection implements Reactor.IoHandler, BodySink {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);

  // S_LINGER: the answer is out and our side half-closed; what the client still sends is read and
  // dropped until it closes too, so its last writes do not turn into a reset that destroys the
  // answer before it is read (RFC 9112 section 9.6).
  static final int S_HEAD = 0, S_BODY = 1, S_HANDLING = 2, S_DONE = 3, S_CLOSED = 4, S_LINGER = 5;

  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTINUE =
      "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SERVER = "Server: peloton\r\nDate: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTENT_TYPE = "\r\nContent-Type: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTENT_LENGTH =
      "\r\nContent-Length: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHUNKED =
      "\r\nTransfer-Encoding: chunked".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CLOSE = "\r\nConnection: close".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEEP_ALIVE =
      "\r\nConnection: keep-alive".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HEAD_END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final int ACC_SIZE = 8192;
  private static final int COPY_LIMIT = 4096;
  /** A lingering connection from which nothing arrived for this long is closed. */
  static final long LINGER_IDLE_NANOS = 1_000_000_000L;

  final HttpServer server;
  final HttpServer.ReactorState rs;
  final Reactor reactor;
  final SocketChannel ch;
  final Transport t; // plain or TLS: every byte goes through it
  SelectionKey key; // null until registered: see registerIfOpen
  private int unregisteredOps = SelectionKey.OP_READ; // the interest to register with
  int index = -1; // position in rs.connections, for O(1) removal

  private final RequestParser parser;
  int state = S_HEAD;
  private Exchange exchange;
  private ByteBuffer pending; // bytes read but not parsed while a response is outstanding
  private boolean inProcess;
  private byte[] body;
  private int bodyLength;
  private Stream bodyStream; // set once a large body is being streamed to the handler
  private Fut lastPut;
  private boolean dispatchWhenParsed;
  // The request was answered before its body arrived: the rest is read and dropped.
  private boolean discarding;
  private long discarded;
  long bodyRead; // body bytes received for the current request
  long bodyClock; // nanoTime the body began, moved on by the time reading was paused for the handler
  private long bodyPausedAt;
  long handlerStart; // nanoTime the current handler started; 0 when none runs
  long lingerStart;

  // ByteBuffer (read mode) or FileRegion. Our own buffers (from the reactor's pool) are writable;
  // a caller's bytes go in read-only, which is how flush knows what to give back to the pool.
  private final ArrayDeque<Object> outq = new ArrayDeque<>(4);
  private ByteBuffer acc; // accumulating bytes, write mode, not yet in outq
  private long queued;
  private boolean closeAfterWrite;
  // TCP_NODELAY is set before the first write that more writes may follow (see flush), as nginx
  // does: the last answer of a connection closing after it goes out at once without it (the
  // close pushes whatever Nagle holds), which saves a syscall per connection-per-request.
  boolean noDelay;
  private boolean lingerAfterWrite;
  private boolean writeInterest;
  private List<Fut> drainWaiters;

  long headStart; // nanoTime the current head began arriving; 0 when idle
  private boolean fresh = true; // no request has begun on this connection yet
  long lastActivity;
  long lastWriteProgress;

  Connection(HttpServer server, HttpServer.ReactorState rs, SocketChannel ch, Transport t) {
    this.server = server;
    this.rs = rs;
    this.reactor = rs.reactor;
    this.ch = ch;
    this.t = t;
    this.parser = new RequestParser(server.options.limits);
    this.lastActivity = System.nanoTime();
  }

  InetSocketAddress remoteAddress() {
    try {
      return (InetSocketAddress) ch.getRemoteAddress();
    } catch (IOException e) {
      return null;
    }
  }

  InetSocketAddress localAddress() {
    try {
      return (InetSocketAddress) ch.getLocalAddress();
    } catch (IOException e) {
      return null;
    }
  }

  /** The TLS handshake is done: requests that came with its last flight are read now. */
  void handshakeDone() {
    if (t.hasBufferedInput() && state != S_CLOSED) {
      onReadable();
    }
  }

  @Override
  public void onReady(SelectionKey k) {
    int ready = k.readyOps();
    if ((ready & SelectionKey.OP_WRITE) != 0) {
      flush();
    }
    if ((ready & SelectionKey.OP_READ) != 0 && state != S_CLOSED) {
      if (state == S_LINGER) {
        dropInput();
      } else {
        onReadable();
      }
    }
  }

  /** Reads what already arrived on a just-accepted connection, before the selector reports it. */
  void onReadyEarly() {
    onReadable();
  }

  /**
   * Registers with the selector, with the interest the connection has by now, unless it is
   * already closed. A plain connection is read (and often answered and closed) before it is
   * registered: closing a channel that was never registered is one close(2), where a registered
   * one costs the JDK a getsockopt, a shutdown and a deferred deregistration on top, which is
   * most of the difference with nginx on close-per-request load.
   */
  void registerIfOpen() throws ClosedChannelException {
    if (key == null && state != S_CLOSED) {
      key = reactor.register(ch, unregisteredOps, this);
    }
  }

  // All socket reads and writes go through readSome / writeSome / transferSome, and those
  // through the transport (plain or TLS): the protocol code does not know which.
  private int readSome(ByteBuffer in) throws IOException {
    return t.read(in);
  }

  private long writeSome(ByteBuffer[] bufs, int count) throws IOException {
    return t.write(bufs, 0, count);
  }

  private long transferSome(FileRegion f) throws IOException {
    return t.transferFrom(f.file, f.position, f.remaining);
  }

  private void onReadable() {
    ByteBuffer in = rs.readBuffer;
    in.clear();
    int n;
    try {
      n = readSome(in);
    } catch (IOException e) {
      log.debug("read from {} failed: {}", remoteAddress(), e.toString());
      close();
      return;
    }
    if (n < 0) {
      onPeerEof();
      return;
    }
    if (n == 0) {
      return;
    }
    lastActivity = System.nanoTime();
    in.flip();
    if (state == S_HANDLING || state == S_DONE || pending != null) {
      // Not our turn to parse: keep the bytes (bounded) and read on, to see a client leave.
      if (state != S_DONE || taker != null) {
        hold(in);
      }
      return;
    }
    process(in);
    if (state != S_CLOSED) {
      flush();
    }
  }

  private void onPeerEof() {
    if (lingerAfterWrite || (exchange == null && headStart == 0 && queued > 0 && state != S_BODY)) {
      // The client sent everything and half-closed: let the answer out, then close.
      closeAfterWrite = true;
      lingerAfterWrite = false; // nothing more will come: no need to linger
      state = S_DONE;
      setInterest(SelectionKey.OP_READ, false);
      flush();
    } else {
      close();
    }
  }

  /** Parses and dispatches requests from {@code in} until it is empty or we must wait. */
  private void process(ByteBuffer in) {
    inProcess = true;
    try {
      while (true) {
        if (state == S_CLOSED || state == S_DONE) {
          if (taker != null && state == S_DONE && in.hasRemaining()) {
            hold(in); // bytes after an upgrade request belong to the next protocol
          }
          return;
        }
        if (state == S_HANDLING || queued > server.options.highWaterMark) {
          if (in.hasRemaining()) {
            hold(in);
          }
          return;
        }
        if (!in.hasRemaining()) {
          return;
        }
        if (state == S_HEAD) {
          if (headStart == 0) {
            headStart = System.nanoTime();
            fresh = false;
          }
          int r = parser.parseHead(in);
          if (r == RequestParser.NEED_MORE) {
            return;
          }
          if (r == RequestParser.ERROR) {
            reject(parser.errorStatus(), parser.errorReason());
            return;
          }
          Request req = parser.request();
          exchange = new Exchange(this, req);
          if (req.hasBody()) {
            if (req.expectContinue()) {
              append(CONTINUE, 0, CONTINUE.length);
            }
            state = S_BODY;
            bodyLength = 0;
            bodyRead = 0;
            bodyClock = System.nanoTime();
            if (req.contentLength() > server.options.bodyBufferLimit) {
              startBodyStream();
            } else {
              body = new byte[req.contentLength() > 0 ? (int) req.contentLength() : 256];
            }
          } else {
            dispatch();
            continue;
          }
        }
        if (state == S_BODY) {
          if (lastPut != null && !lastPut.isDone()) {
            // The handler has not taken what we gave it: wait before parsing more.
            hold(in);
            return;
          }
          int r = parser.parseBody(in, this);
          if (dispatchWhenParsed) {
            dispatchWhenParsed = false;
            startHandler(); // the handler runs while its body is still arriving
            if (state != S_BODY) {
              continue;
            }
          }
          if (discarding) {
            if (r == RequestParser.BODY_DONE && discarded <= server.options.discardLimit) {
              // The unwanted body is gone: the connection goes on with the next request.
              discarding = false;
              parser.reset();
              state = S_HEAD;
              continue;
            }
            if (r != RequestParser.NEED_MORE || discarded > server.options.discardLimit) {
              lingerAfterAnswer(); // too much to read for nothing, or a broken body
              return;
            }
            return;
          }
          if (r == RequestParser.ERROR) {
            if (bodyStream != null) {
              bodyStream.error(new IOException("bad request body: " + parser.errorReason()));
              bodyStream = null;
            }
            if (exchange != null && exchange.isStarted()) {
              close(); // an answer is already on its way: no room for a 4xx
            } else {
              exchange = null;
              reject(parser.errorStatus(), parser.errorReason());
            }
            return;
          }
          if (r == RequestParser.NEED_MORE) {
            if (lastPut != null && !lastPut.isDone()) {
              waitForBodyConsumer();
            }
            return;
          }
          if (bodyStream != null) {
            // State first: closing may let the handler answer right here.
            Stream s = bodyStream;
            bodyStream = null;
            lastPut = null;
            state = S_HANDLING;
            s.close();
            continue;
          }
          exchange.body = body;
          exchange.bodyLength = bodyLength;
          body = null;
          dispatch();
        }
      }
    } finally {
      inProcess = false;
    }
  }

  @Override
  public void onData(ByteBuffer data) {
    int n = data.remaining();
    bodyRead += n;
    if (discarding) {
      discarded += n;
      data.position(data.limit());
      return;
    }
    if (bodyStream != null) {
      byte[] chunk = new byte[n];
      data.get(chunk);
      lastPut = bodyStream.put(chunk);
      return;
    }
    if (bodyLength + n > server.options.bodyBufferLimit) {
      // Too large to hold whole: hand the handler a stream, starting with what we have.
      startBodyStream();
      if (bodyLength > 0) {
        bodyStream.put(Arrays.copyOf(body, bodyLength));
      }
      body = null;
      onData(data);
      return;
    }
    if (bodyLength + n > body.length) {
      body = Arrays.copyOf(body, Math.max(bodyLength + n, body.length * 2));
    }
    data.get(body, bodyLength, n);
    bodyLength += n;
  }

  private void startBodyStream() {
    bodyStream = new Stream(16);
    exchange.bodyStream = bodyStream;
    dispatchWhenParsed = true;
  }


  /** Stops reading until the handler takes the body chunk it was given. */
  private void waitForBodyConsumer() {
    setInterest(SelectionKey.OP_READ, false);
    bodyPausedAt = System.nanoTime(); // the body's time limits do not count the handler's pace
    Fut put = lastPut;
    put.onComplete((v, e) -> reactor.dispatch(() -> {
      if (lastPut == put && state == S_BODY) {
        unpauseBodyClock();
        resume();
      }
    }));
  }

  private void unpauseBodyClock() {
    if (bodyPausedAt != 0) {
      long now = System.nanoTime();
      bodyClock += now - bodyPausedAt;
      lastActivity = now;
      bodyPausedAt = 0;
    }
  }

  /** True while reading the body waits for the handler to take what it was given. */
  boolean bodyPaused() {
    return bodyPausedAt != 0;
  }

  private void hold(ByteBuffer in) {
    if (in == pending) {
      return; // still unparsed in place
    }
    int n = in.remaining();
    if (pending == null) {
      pending = ByteBuffer.allocate(Math.max(n, 1024));
    } else {
      pending.compact();
      if (pending.remaining() < n) {
        ByteBuffer bigger = ByteBuffer.allocate(pending.position() + n);
        pending.flip();
        bigger.put(pending);
        pending = bigger;
      }
    }
    pending.put(in);
    pending.flip();
    if (pending.remaining() > server.options.limits.maxHeaderBytes + 65536) {
      setInterest(SelectionKey.OP_READ, false); // enough queued: wait before reading more
    }
  }

  private void dispatch() {
    state = S_HANDLING;
    startHandler();
  }

  /** Runs the handler now, or on the executor; a streamed body may still be arriving. */
  private void startHandler() {
    headStart = 0;
    handlerStart = System.nanoTime();
    Exchange ex = exchange;
    if (server.options.executor != null) {
      server.options.executor.execute(() -> runHandler(ex));
    } else {
      runHandler(ex);
    }
  }

  private void runHandler(Exchange ex) {
    try {
      server.handler.handle(ex);
    } catch (Throwable t) {
      ex.handlerFailed(t);
    }
  }

  /** No answer was started within the response timeout: 503, and a late answer is dropped. */
  void responseTimeout() {
    Exchange ex = exchange;
    if (ex == null || ex.isStarted() || ex.isFinished()) {
      return;
    }
    log.warn("no answer to {} {} (route {}) within {} ms: answered 503; a late answer will be "
            + "dropped", ex.method(), ex.uri(), ex.route() == null ? "-" : ex.route(),
        server.options.responseTimeoutMillis);
    ex.timedOut = true;
    ex.answerError(503, "Service Unavailable: no answer in time\n");
  }

  /** The current exchange has queued its whole answer. */
  void exchangeDone(Exchange ex) {
    if (ex != exchange || state == S_CLOSED) {
      return;
    }
    exchange = null;
    handlerStart = 0;
    boolean bodyUnread = state == S_BODY;
    if (bodyUnread) {
      // Answered before the whole body arrived. The rest is read and dropped, for the next
      // request when it is short enough (writeHead said keep-alive), else while lingering.
      if (bodyStream != null) {
        bodyStream.close();
        bodyStream = null;
      }
      lastPut = null;
      body = null;
      dispatchWhenParsed = false;
      unpauseBodyClock();
      discarding = true;
      discarded = 0;
    }
    if (taker != null && !bodyUnread) {
      state = S_DONE; // what arrives from here on belongs to the next protocol: hold it
      setInterest(SelectionKey.OP_READ, false);
      if (!inProcess) {
        flush();
      }
      return;
    }
    if (!ex.keepAlive || server.draining) {
      if (bodyUnread) {
        lingerAfterAnswer();
        return;
      }
      closeAfterWrite = true;
      state = S_DONE;
      pending = null;
      setInterest(SelectionKey.OP_READ, false);
    } else if (!bodyUnread) {
      parser.reset();
      state = S_HEAD;
    }
    if (!inProcess) {
      flush();
      resume();
    }
  }

  /** Goes on with held bytes and reading once nothing holds us back. */
  private void resume() {
    if (state == S_CLOSED || state == S_DONE || state == S_HANDLING
        || queued > server.options.highWaterMark) {
      return;
    }
    if (pending != null) {
      ByteBuffer p = pending;
      process(p);
      if (pending == p && !p.hasRemaining()) {
        pending = null;
      }
      if (state != S_CLOSED) {
        flush();
      }
    }
    if (state == S_HEAD || state == S_BODY) {
      setInterest(SelectionKey.OP_READ, true);
    }
  }

  /** Answers a request we could not parse, then closes. */
  private void reject(int status, String reason) {
    byte[] text = ((reason == null ? HttpStatus.reason(status) : reason) + "\n")
        .getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(128);
    sb.append("HTTP/1.1 ").append(status).append(' ').append(HttpStatus.reason(status)).append("\r\n");
    putAscii(sb.toString());
    append(SERVER, 0, SERVER.length); // with the Date the reactor ticks: RFC 9110 §6.6.1
    append(rs.date, 0, rs.date.length);
    sb.setLength(0);
    sb.append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ")
        .append(text.length).append("\r\nConnection: close\r\n\r\n");
    byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
    append(head, 0, head.length);
    append(text, 0, text.length);
    if (exchange != null) {
      exchange.markFinished(); // a handler reading a streamed body must not answer again
    }
    exchange = null;
    log.debug("rejected a request from {} with {}: {}", remoteAddress(), status, reason);
    lingerAfterAnswer(); // the client may still be sending: let it, so it reads the answer
  }

  /**
   * Closes after the queued answer while still reading (and dropping) what the client sends:
   * the output is flushed, then our side half-closes and the rest is read until the client
   * closes, goes quiet or the linger time is over. Closing at once with unread input would
   * reset the connection and could destroy the answer before the client reads it.
   */
  private void lingerAfterAnswer() {
    exchange = null;
    pending = null;
    body = null;
    discarding = false;
    closeAfterWrite = false;
    lingerAfterWrite = true;
    state = S_DONE;
    setInterest(SelectionKey.OP_READ, true);
    if (!inProcess) {
      flush();
    }
  }

  private void startLinger() {
    try {
      t.shutdownOutput();
    } catch (IOException e) {
      close();
      return;
    }
    lingerAfterWrite = false;
    state = S_LINGER;
    lingerStart = lastActivity = System.nanoTime();
    setInterest(SelectionKey.OP_READ, true);
  }

  private void dropInput() {
    ByteBuffer in = rs.readBuffer;
    for (int i = 0; i < 16; i++) {
      in.clear();
      int n;
      try {
        n = readSome(in);
      } catch (IOException e) {
        close();
        return;
      }
      if (n < 0) {
        close();
        return;
      }
      if (n == 0) {
        return;
      }
      lastActivity = System.nanoTime();
    }
  }

  /** Answers 408 to a client too slow to send its request, then closes. */
  void requestTimeout() {
    if (exchange == null && state == S_HEAD) {
      reject(408, "Request Timeout");
    } else {
      close();
    }
  }

  /** Answers 408 to a client sending its body too slowly (or not at all), then closes. */
  void bodyTimeout(String why) {
    log.debug("request body from {} too slow: {}", remoteAddress(), why);
    if (bodyStream != null) {
      bodyStream.error(new IOException("the request body arrived too slowly: " + why));
      bodyStream = null;
    }
    if (discarding) {
      lingerAfterAnswer(); // answered already: let that answer out, then go
    } else if (exchange != null && exchange.isStarted()) {
      close(); // an answer is under way: no room for a 408
    } else {
      reject(408, "Request Timeout: the body arrived too slowly");
    }
  }

  // ---- output ----

  void writeHead(Exchange ex, long contentLength) {
    int status = ex.status;
    if (ex.message == null) {
      byte[] line = HttpStatus.statusLine(status);
      append(line, 0, line.length);
    } else {
      putAscii("HTTP/1.1 ");
      putAscii(Integer.toString(status));
      putAscii(" ");
      putAscii(ex.message);
      append(CRLF, 0, 2);
    }
    append(SERVER, 0, SERVER.length);
    byte[] date = rs.date;
    append(date, 0, date.length);
    if (ex.contentType != null) {
      append(CONTENT_TYPE, 0, CONTENT_TYPE.length);
      putAscii(ex.contentType);
    }
    for (int i = 0; i < ex.headerCount; i++) {
      append(CRLF, 0, 2);
      putAscii(ex.headerNames[i]);
      putAscii(": ");
      putAscii(ex.headerValues[i]);
    }
    boolean noBody = status == 204 || status == 304 || status < 200;
    if (ex.chunked) {
      append(CHUNKED, 0, CHUNKED.length);
    } else if (contentLength >= 0 && !noBody) {
      append(CONTENT_LENGTH, 0, CONTENT_LENGTH.length);
      putLong(contentLength);
    } else if (contentLength < 0 && !noBody) {
      ex.keepAlive = false; // close-delimited body
    }
    if (!ex.keepAlive || server.draining || (state == S_BODY && !mayDiscardRest(ex))) {
      ex.keepAlive = false;
      append(CLOSE, 0, CLOSE.length);
    } else if (ex.request.versionMinor() == 0) {
      append(KEEP_ALIVE, 0, KEEP_ALIVE.length);
    }
    append(HEAD_END, 0, HEAD_END.length);
  }

  /** True when the unread rest of the body is small enough to read and drop on a live connection. */
  private boolean mayDiscardRest(Exchange ex) {
    Request r = ex.request;
    return r.chunked() || r.contentLength() - bodyRead <= server.options.discardLimit;
  }

  void appendBody(byte[] b) {
    if (b.length <= COPY_LIMIT) {
      append(b, 0, b.length);
    } else {
      seal();
      outq.add(ByteBuffer.wrap(b).asReadOnlyBuffer());
      queued += b.length;
    }
  }

  void appendBody(ByteBuffer b) {
    int n = b.remaining();
    if (n <= COPY_LIMIT && b.hasArray()) {
      append(b.array(), b.arrayOffset() + b.position(), n);
    } else {
      seal();
      outq.add(b.asReadOnlyBuffer());
      queued += n;
    }
  }

  void appendChunk(byte[] b) {
    putAscii(Integer.toHexString(b.length));
    append(CRLF, 0, 2);
    appendBody(b);
    append(CRLF, 0, 2);
  }

  void appendLastChunk() {
    append(LAST_CHUNK, 0, LAST_CHUNK.length);
  }

  void appendFile(FileChannel file, long position, long length, boolean closeWhenDone) {
    seal();
    outq.add(new FileRegion(file, position, length, closeWhenDone));
    queued += length;
  }

  private void append(byte[] b, int off, int len) {
    ByteBuffer a = accFor(len);
    a.put(b, off, len);
    queued += len;
  }

  private void putAscii(String s) {
    int len = s.length();
    ByteBuffer a = accFor(len);
    byte[] arr = a.array();
    int p = a.arrayOffset() + a.position();
    for (int i = 0; i < len; i++) {
      arr[p + i] = (byte) s.charAt(i);
    }
    a.position(a.position() + len);
    queued += len;
  }

  /** Writes a length (0 or more) in decimal straight into the output buffer, no String. */
  private void putLong(long v) {
    int digits = 1;
    for (long x = v; x >= 10; x /= 10) {
      digits++;
    }
    ByteBuffer a = accFor(digits);
    byte[] arr = a.array();
    int p = a.arrayOffset() + a.position() + digits;
    long x = v;
    do {
      arr[--p] = (byte) ('0' + (int) (x % 10));
      x /= 10;
    } while (x != 0);
    a.position(a.position() + digits);
    queued += digits;
  }

  private ByteBuffer accFor(int len) {
    if (acc != null && acc.remaining() >= len) {
      return acc;
    }
    seal();
    acc = len <= ACC_SIZE ? rs.takeBuffer() : ByteBuffer.allocate(len);
    return acc;
  }

  private void seal() {
    if (acc != null) {
      if (acc.position() > 0) {
        acc.flip();
        outq.add(acc);
      } else {
        rs.giveBuffer(acc);
      }
      acc = null;
    }
  }

  /** Writes what the socket takes now; the rest waits for writability. */
  void flush() {
    if (state == S_CLOSED) {
      return;
    }
    seal();
    if (!noDelay && !closeAfterWrite && !lingerAfterWrite && !outq.isEmpty()) {
      noDelay();
    }
    try {
      while (t.flush() && !outq.isEmpty()) {
        Object head = outq.peek();
        if (head instanceof FileRegion) {
          FileRegion f = (FileRegion) head;
          long w = transferSome(f);
          if (w > 0) {
            f.position += w;
            f.remaining -= w;
            queued -= w;
            lastWriteProgress = System.nanoTime();
          }
          if (f.remaining > 0) {
            if (w <= 0 && !t.hasPendingOutput() && f.position >= f.file.size()) {
              throw new IOException("file shrank while being sent");
            }
            break;
          }
          outq.poll();
          f.release();
          continue;
        }
        ByteBuffer[] gather = rs.gather;
        int k = 0;
        for (Object o : outq) {
          if (!(o instanceof ByteBuffer) || k == gather.length) {
            break;
          }
          gather[k++] = (ByteBuffer) o;
        }
        long w = writeSome(gather, k);
        if (w > 0) {
          queued -= w;
          lastWriteProgress = System.nanoTime();
        }
        for (int i = 0; i < k; i++) {
          ByteBuffer b = gather[i];
          gather[i] = null;
          if (b.hasRemaining()) {
            for (int j = i + 1; j < k; j++) {
              gather[j] = null;
            }
            break;
          }
          outq.poll();
          rs.giveBuffer(b);
        }
        if (!outq.isEmpty() && outq.peek() instanceof ByteBuffer
            && ((ByteBuffer) outq.peek()).hasRemaining()) {
          break; // the socket is full
        }
      }
    } catch (IOException e) {
      log.debug("write to {} failed: {}", remoteAddress(), e.toString());
      close();
      return;
    }
    if (outq.isEmpty() && !t.hasPendingOutput()) {
      setWriteInterest(false);
      if (closeAfterWrite) {
        close();
        return;
      }
      if (lingerAfterWrite) {
        startLinger();
        return;
      }
      if (taker != null && state == S_DONE && exchange == null) {
        finishHandOver();
        return;
      }
    } else {
      setWriteInterest(true);
    }
    if (queued <= server.options.lowWaterMark) {
      if (drainWaiters != null) {
        List<Fut> ws = drainWaiters;
        drainWaiters = null;
        for (Fut f : ws) {
          f.deliver(Boolean.TRUE);
        }
      }
      if (!inProcess && pending != null && state == S_HEAD) {
        resume();
      } else if (!inProcess && (state == S_HEAD || state == S_BODY)) {
        setInterest(SelectionKey.OP_READ, true);
      }
    } else if (queued > server.options.highWaterMark) {
      setInterest(SelectionKey.OP_READ, false);
    }
  }

  private void noDelay() {
    noDelay = true;
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    } catch (IOException e) {
      log.debug("cannot set TCP_NODELAY for {}: {}", remoteAddress(), e.toString());
    }
  }

  boolean isBackedUp() {
    return queued > server.options.highWaterMark;
  }

  /** A fut completing once output is below the high-water mark (false if the client left). */
  Fut writable() {
    if (state == S_CLOSED) {
      return Fut.of(Boolean.FALSE);
    }
    if (queued <= server.options.highWaterMark) {
      return Fut.of(Boolean.TRUE);
    }
    Fut f = new Fut();
    if (drainWaiters == null) {
      drainWaiters = new ArrayList<>(2);
    }
    drainWaiters.add(f);
    return f;
  }

  boolean hasQueuedOutput() {
    return queued > 0;
  }

  private void setWriteInterest(boolean on) {
    if (on != writeInterest) {
      writeInterest = on;
      setInterest(SelectionKey.OP_WRITE, on);
    }
  }

  private void setInterest(int op, boolean on) {
    if (key == null) {
      unregisteredOps = on ? unregisteredOps | op : unregisteredOps & ~op;
      return;
    }
    Reactor.setInterest(key, op, on);
  }

  /** What takes a connection's channel over after a protocol upgrade (see {@link #handOver}). */
  interface Taker {
    /**
     * Called on the reactor thread once the upgrade answer is written: the connection's transport
     * (plain or TLS, with its session and any bytes it holds), its key (still registered, with no
     * interest ops: attach a new {@link Reactor.IoHandler} to {@code key} and set the ops it
     * wants), and the bytes the client sent after the upgrade request (read mode, possibly
     * empty). Answers what the server ends when it stops, or null; all nulls when the client
     * went away first.
     */
    Exchange.Detached take(Transport t, SelectionKey key, ByteBuffer leftover);
  }

  private Taker taker;

  /**
   * Hands the channel over to another protocol (WebSocket after a 101) once the current
   * exchange's answer is complete and written: this connection then stops reading, forgets the
   * channel without closing it, leaves the server's books and gives {@code t} the transport, its
   * key and what was read past the request. If the client goes away first, {@code t} gets nulls.
   * Call on the reactor thread, before the answer completes.
   */
  void handOver(Taker t) {
    taker = t;
  }

  private void finishHandOver() {
    Taker tk = taker;
    taker = null;
    ByteBuffer rest = pending != null ? pending : ByteBuffer.allocate(0);
    pending = null;
    state = S_CLOSED; // no longer ours; close() does nothing from here on
    if (acc != null) {
      rs.giveBuffer(acc);
      acc = null;
    }
    rs.remove(this);
    setWriteInterest(false);
    setInterest(SelectionKey.OP_READ, false);
    if (key == null) { // handed over during the early read: the taker needs a registered key
      try {
        key = reactor.register(ch, 0, this);
      } catch (ClosedChannelException e) {
        tk.take(null, null, null);
        return;
      }
    }
    Exchange.Detached d = tk.take(t, key, rest);
    if (d != null) {
      server.track(rs, d);
    }
  }

  /** The server stops: a long-lived answer (an event stream) is asked to end now. */
  void serverStopping() {
    if (exchange != null) {
      exchange.serverStopping();
    }
  }

  /** Closes the socket and releases everything; the current exchange becomes finished. */
  void close() {
    if (state == S_CLOSED) {
      return;
    }
    state = S_CLOSED;
    if (taker != null) {
      Taker t = taker; // the client left before the hand-over: say so, or the taker waits forever
      taker = null;
      t.take(null, null, null);
    }
    if (exchange != null) {
      exchange.markFinished();
      exchange = null;
    }
    for (Object o : outq) {
      if (o instanceof FileRegion) {
        ((FileRegion) o).release();
      }
    }
    outq.clear();
    if (bodyStream != null) {
      bodyStream.error(new IOException("the client went away before sending the whole body"));
      bodyStream = null;
    }
    if (acc != null) {
      rs.giveBuffer(acc);
    }
    acc = pending = null;
    body = null;
    queued = 0;
    if (drainWaiters != null) {
      for (Fut f : drainWaiters) {
        f.deliver(Boolean.FALSE);
      }
      drainWaiters = null;
    }
    rs.reactor.closeDeregistered(key, t);
    rs.remove(this);
  }

  /**
   * Idle and, while the server stops, safe to close: a connection just taken from the backlog
   * gets a moment to send the request it was opened for.
   */
  boolean idleForDrain(long now) {
    return isIdle() && (!fresh || now - lastActivity > 500_000_000L);
  }

  boolean isIdle() {
    return exchange == null && headStart == 0 && outq.isEmpty() && acc == null
        && (state == S_HEAD);
  }

  static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      log.debug("close failed: {}", e.toString());
    }
  }

  /** A piece of a file waiting to be sent with {@code transferTo}. */
  private static final class FileRegion {
    final FileChannel file;
    long position;
    long remaining;
    final boolean closeWhenDone;

    FileRegion(FileChannel file, long position, long remaining, boolean closeWhenDone) {
      this.file = file;
      this.position = position;
      this.remaining = remaining;
      this.closeWhenDone = closeWhenDone;
    }

    void release() {
      if (closeWhenDone) {
        closeQuietly(file);
      }
    }
  }
}
