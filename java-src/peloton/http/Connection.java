package peloton.http;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
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
import peloton.reactor.Reactor;
import peloton.transport.Transport;

/**
 * One client connection: reads into its reactor's shared buffer, parses requests one after another
 * (pipelined ones wait their turn, so answers go out in order), runs the handler and writes the
 * answers with gathering writes and {@code transferTo}. Everything here runs on the reactor thread.
 */
final class Connection implements Reactor.IoHandler, BodySink {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);

  static final int S_HEAD = 0, S_BODY = 1, S_HANDLING = 2, S_DONE = 3, S_CLOSED = 4;

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
  private static final int ACC_SIZE = 8192;
  private static final int COPY_LIMIT = 4096;

  final HttpServer server;
  final HttpServer.ReactorState rs;
  final Reactor reactor;
  final SocketChannel ch;
  final Transport t; // plain or TLS: every byte goes through it
  SelectionKey key;
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

  private final ArrayDeque<Object> outq = new ArrayDeque<>(); // ByteBuffer (read mode) or FileRegion
  private ByteBuffer acc; // accumulating bytes, write mode, not yet in outq
  private ByteBuffer spare;
  private final ByteBuffer[] gather = new ByteBuffer[16];
  private long queued;
  private boolean closeAfterWrite;
  private boolean writeInterest;
  private List<Fut> drainWaiters;

  long headStart; // nanoTime the current head began arriving; 0 when idle
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
      onReadable();
    }
  }

  private void onReadable() {
    ByteBuffer in = rs.readBuffer;
    in.clear();
    int n;
    try {
      n = t.read(in);
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
      if (state != S_DONE) {
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
    if (exchange == null && headStart == 0 && queued > 0 && state != S_BODY) {
      // The client sent everything and half-closed: let the answer out, then close.
      closeAfterWrite = true;
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
              continue; // the handler answered at once; the rest of the body is not wanted
            }
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
    Fut put = lastPut;
    put.onComplete((v, e) -> reactor.dispatch(() -> {
      if (lastPut == put && state == S_BODY) {
        resume();
      }
    }));
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
      log.error("handler failed on {} {}", ex.method(), ex.uri(), t);
      ex.fail(t);
    }
  }

  /** The current exchange has queued its whole answer. */
  void exchangeDone(Exchange ex) {
    if (ex != exchange || state == S_CLOSED) {
      return;
    }
    exchange = null;
    if (state == S_BODY) {
      // Answered before the whole body arrived: drop the rest and close after the answer.
      ex.keepAlive = false;
      if (bodyStream != null) {
        bodyStream.close();
        bodyStream = null;
      }
    }
    if (!ex.keepAlive || server.draining) {
      closeAfterWrite = true;
      state = S_DONE;
      pending = null;
      setInterest(SelectionKey.OP_READ, false);
    } else {
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
    exchange = null;
    pending = null;
    closeAfterWrite = true;
    state = S_DONE;
    setInterest(SelectionKey.OP_READ, false);
    log.debug("rejected a request from {} with {}: {}", remoteAddress(), status, reason);
    flush();
  }

  /** Answers 408 to a client too slow to send its request, then closes. */
  void requestTimeout() {
    if (exchange == null && state == S_HEAD) {
      reject(408, "Request Timeout");
    } else {
      close();
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
    if (!ex.keepAlive || server.draining || state == S_BODY) {
      ex.keepAlive = false;
      append(CLOSE, 0, CLOSE.length);
    } else if (ex.request.versionMinor() == 0) {
      append(KEEP_ALIVE, 0, KEEP_ALIVE.length);
    }
    append(HEAD_END, 0, HEAD_END.length);
  }

  void appendBody(byte[] b) {
    if (b.length <= COPY_LIMIT) {
      append(b, 0, b.length);
    } else {
      seal();
      outq.add(ByteBuffer.wrap(b));
      queued += b.length;
    }
  }

  void appendBody(ByteBuffer b) {
    int n = b.remaining();
    if (n <= COPY_LIMIT && b.hasArray()) {
      append(b.array(), b.arrayOffset() + b.position(), n);
    } else {
      seal();
      outq.add(b.duplicate());
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

  private void putLong(long v) {
    putAscii(Long.toString(v));
  }

  private ByteBuffer accFor(int len) {
    if (acc != null && acc.remaining() >= len) {
      return acc;
    }
    seal();
    if (spare != null && spare.capacity() >= len) {
      acc = spare;
      spare = null;
    } else {
      acc = ByteBuffer.allocate(Math.max(ACC_SIZE, len));
    }
    return acc;
  }

  private void seal() {
    if (acc != null) {
      if (acc.position() > 0) {
        acc.flip();
        outq.add(acc);
      } else if (spare == null) {
        spare = acc;
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
    try {
      while (t.flush() && !outq.isEmpty()) {
        Object head = outq.peek();
        if (head instanceof FileRegion) {
          FileRegion f = (FileRegion) head;
          long w = t.transferFrom(f.file, f.position, f.remaining);
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
        int k = 0;
        for (Object o : outq) {
          if (!(o instanceof ByteBuffer) || k == gather.length) {
            break;
          }
          gather[k++] = (ByteBuffer) o;
        }
        long w = t.write(gather, 0, k);
        if (w > 0) {
          queued -= w;
          lastWriteProgress = System.nanoTime();
        }
        for (int i = 0; i < k; i++) {
          ByteBuffer b = gather[i];
          gather[i] = null;
          if (b.hasRemaining()) {
            break;
          }
          outq.poll();
          if (b.capacity() == ACC_SIZE && b.hasArray() && spare == null) {
            b.clear();
            spare = b;
          }
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
    if (key == null || !key.isValid()) {
      return;
    }
    int ops = key.interestOps();
    int next = on ? ops | op : ops & ~op;
    if (next != ops) {
      key.interestOps(next);
    }
  }

  /** Closes the socket and releases everything; the current exchange becomes finished. */
  void close() {
    if (state == S_CLOSED) {
      return;
    }
    state = S_CLOSED;
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
    acc = spare = pending = null;
    body = null;
    queued = 0;
    if (drainWaiters != null) {
      for (Fut f : drainWaiters) {
        f.deliver(Boolean.FALSE);
      }
      drainWaiters = null;
    }
    t.close();
    rs.remove(this);
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
