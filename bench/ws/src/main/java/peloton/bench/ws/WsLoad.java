package peloton.bench.ws;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The WebSocket load client of bench/ws: plain JDK NIO, none of the servers' code. Each thread
 * owns a selector and a share of the connections; a message is a frame built (and masked) once per
 * connection and written from that buffer, and what comes back is only framed and counted, so the
 * client does no per-message allocation and less work per message than any server.
 *
 * <pre>
 * java peloton.bench.ws.WsLoad echo   port=P conns=50   seconds=10 warmup=3 size=64 threads=1
 * java peloton.bench.ws.WsLoad fanout port=P conns=1000 seconds=10 warmup=3 size=64 window=4 threads=1
 * java peloton.bench.ws.WsLoad idle   port=P conns=10000 stop=FILE hold=600
 * </pre>
 *
 * <p>echo: every connection (path /echo) sends a text message and sends the next when the echo is
 * back (a closed loop); prints messages/s and the round-trip p50/p99. fanout: conns sockets on
 * /fanout; connection 0 sends a text message that the server sends to all of them, and the next
 * one once a message has reached every socket, with {@code window} messages in flight; prints
 * deliveries/s and the p50/p99 time for one message to reach all sockets. idle: opens the sockets,
 * prints {@code ready N} and holds them until the file {@code stop} exists. Every line printed to
 * stdout is {@code key=value} pairs; client_cpu is the client's CPU time over the measured wall
 * time (1.0 = one core busy), to show whether the client could have been the limit.
 */
public final class WsLoad {
  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("host", "127.0.0.1");
    DEFAULTS.put("port", null);
    DEFAULTS.put("conns", "50");
    DEFAULTS.put("seconds", "10");
    DEFAULTS.put("warmup", "3");
    DEFAULTS.put("size", "64");
    DEFAULTS.put("window", "4");
    DEFAULTS.put("threads", "1");
    DEFAULTS.put("stop", "");
    DEFAULTS.put("hold", "600");
    DEFAULTS.put("connect-timeout", "120");
    DEFAULTS.put("in-flight", "256");
  }

  private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  private static final int CONNECTING = 0;
  private static final int HANDSHAKE = 1;
  private static final int OPEN = 2;
  private static final int DEAD = 3;

  final String mode;
  final InetSocketAddress addr;
  final String path;
  final int conns;
  final int size;
  final int window;
  final int inFlight;
  final String expectedAccept;
  final byte[] handshake;

  /** False until every socket is open; then the first messages go out. */
  volatile boolean running;
  /** True while the measured interval lasts. */
  volatile boolean recording;
  /** True once sending must stop. */
  volatile boolean stopping;

  final CountDownLatch allOpen;
  final AtomicInteger failed = new AtomicInteger();
  final AtomicLong progress = new AtomicLong();
  volatile String firstFailure;

  // fanout state: per slot of the window, how many sockets got that message, and when it was sent.
  final AtomicIntegerArray reached;
  final AtomicLongArray sentAt;
  Conn sender;

  WsLoad(String mode, Map<String, String> o) throws Exception {
    this.mode = mode;
    this.addr = new InetSocketAddress(o.get("host"), Integer.parseInt(o.get("port")));
    this.path = mode.equals("fanout") ? "/fanout" : "/echo";
    this.conns = Integer.parseInt(o.get("conns"));
    this.size = Integer.parseInt(o.get("size"));
    this.window = Integer.parseInt(o.get("window"));
    this.inFlight = Integer.parseInt(o.get("in-flight"));
    if (size > 125) {
      throw new IllegalArgumentException("size must be at most 125 bytes (one-byte frame length)");
    }
    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
    expectedAccept = Base64.getEncoder().encodeToString(
        sha1.digest((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
    handshake = ("GET " + path + " HTTP/1.1\r\nHost: " + o.get("host") + ":" + addr.getPort()
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + KEY
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    allOpen = new CountDownLatch(conns);
    reached = new AtomicIntegerArray(Math.max(1, window));
    sentAt = new AtomicLongArray(Math.max(1, window));
  }

  /** One client socket and its frame parser. */
  final class Conn {
    final int id;
    final Worker worker;
    SocketChannel ch;
    SelectionKey key;
    int state = CONNECTING;
    final ByteBuffer frame;
    final ByteBuffer head = ByteBuffer.allocate(1024);
    boolean writePending;
    long sentNanos;
    long received;
    // frame parser: header bytes seen so far, header length, payload bytes left
    final byte[] hdr = new byte[10];
    int hdrHave;
    int hdrNeed = 2;
    long payloadLeft = -1;

    Conn(int id, Worker worker, SplittableRandom rnd) {
      this.id = id;
      this.worker = worker;
      frame = ByteBuffer.allocateDirect(6 + size);
      frame.put((byte) 0x81).put((byte) (0x80 | size));
      byte[] mask = new byte[4];
      for (int i = 0; i < 4; i++) {
        mask[i] = (byte) rnd.nextInt(256);
      }
      frame.put(mask);
      for (int i = 0; i < size; i++) {
        frame.put((byte) (('a' + i % 26) ^ mask[i & 3]));
      }
      frame.flip();
    }

    void fail(String why) {
      if (state != DEAD) {
        boolean opening = state != OPEN;
        state = DEAD;
        failed.incrementAndGet();
        if (firstFailure == null) {
          firstFailure = "connection " + id + ": " + why;
        }
        if (opening) {
          allOpen.countDown();
        }
        try {
          ch.close();
        } catch (IOException ignored) {
          // already gone
        }
      }
    }

    /** Writes the frame; a short write finishes when the socket is writable again. */
    void send() throws IOException {
      sentNanos = System.nanoTime();
      frame.clear();
      ch.write(frame);
      if (frame.hasRemaining()) {
        writePending = true;
        key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    }

    /** The fanout sender is written from whichever thread completes a message: a locked loop. */
    void sendLocked() throws IOException {
      synchronized (this) {
        frame.clear();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (frame.hasRemaining()) {
          if (ch.write(frame) == 0) {
            if (System.nanoTime() > deadline) {
              throw new IOException("the server stopped reading the sender for 10 s");
            }
            Thread.onSpinWait();
          }
        }
      }
    }

    /** Frames what arrived in {@code buf}, calling {@link #message} for each whole frame. */
    void frames(ByteBuffer buf) throws IOException {
      while (buf.hasRemaining()) {
        if (payloadLeft < 0) {
          hdr[hdrHave++] = buf.get();
          if (hdrHave == 2) {
            if ((hdr[1] & 0x80) != 0) {
              throw new IOException("a server frame is masked");
            }
            int len7 = hdr[1] & 0x7f;
            hdrNeed = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
          }
          if (hdrHave == hdrNeed) {
            int len7 = hdr[1] & 0x7f;
            long len = len7;
            if (len7 == 126) {
              len = ((hdr[2] & 0xff) << 8) | (hdr[3] & 0xff);
            } else if (len7 == 127) {
              len = 0;
              for (int i = 2; i < 10; i++) {
                len = (len << 8) | (hdr[i] & 0xff);
              }
            }
            payloadLeft = len;
          }
        }
        if (payloadLeft >= 0) {
          int skip = (int) Math.min(payloadLeft, buf.remaining());
          buf.position(buf.position() + skip);
          payloadLeft -= skip;
          if (payloadLeft == 0) {
            int opcode = hdr[0] & 0x0f;
            int len = hdrNeed == 2 ? hdr[1] & 0x7f : -1;
            payloadLeft = -1;
            hdrHave = 0;
            hdrNeed = 2;
            message(opcode, len);
          }
        }
      }
    }

    void message(int opcode, int len) throws IOException {
      if (opcode == 0x8) {
        throw new IOException("the server sent a close frame");
      }
      if (opcode != 0x1 || len != size || (hdr[0] & 0x80) == 0) {
        throw new IOException("unexpected frame: opcode " + opcode + ", length " + len);
      }
      long now = System.nanoTime();
      progress.lazySet(now);
      if (mode.equals("echo")) {
        if (recording) {
          worker.record(now - sentNanos);
          worker.count++;
        }
        if (!stopping) {
          send();
        }
      } else {
        if (recording) {
          worker.count++;
        }
        int slot = (int) (received++ % window);
        if (reached.incrementAndGet(slot) == conns) {
          reached.set(slot, 0);
          if (recording) {
            worker.record(now - sentAt.get(slot));
          }
          if (!stopping) {
            sentAt.set(slot, System.nanoTime());
            sender.sendLocked();
          }
        }
      }
    }

    /** Reads the 101 answer; what follows it is framed. */
    void handshakeRead(ByteBuffer buf) throws IOException {
      int n = Math.min(buf.remaining(), head.remaining());
      for (int i = 0; i < n; i++) {
        head.put(buf.get());
      }
      int end = headEnd();
      if (end < 0) {
        if (!head.hasRemaining()) {
          throw new IOException("handshake answer over 1 KiB");
        }
        return;
      }
      String text = new String(head.array(), 0, end, StandardCharsets.ISO_8859_1);
      String lower = text.toLowerCase(Locale.ROOT);
      if (!text.startsWith("HTTP/1.1 101")) {
        throw new IOException("handshake refused: " + text.lines().findFirst().orElse(""));
      }
      int at = lower.indexOf("sec-websocket-accept:");
      if (at < 0 || !text.substring(at + 21, text.indexOf('\r', at)).trim().equals(expectedAccept)) {
        throw new IOException("wrong Sec-WebSocket-Accept");
      }
      state = OPEN;
      worker.opening--;
      allOpen.countDown();
      // Anything past the head is frames (a server sends none before the client's first).
      ByteBuffer rest = ByteBuffer.wrap(head.array(), end, head.position() - end);
      frames(rest);
    }

    private int headEnd() {
      byte[] a = head.array();
      for (int i = 3; i < head.position(); i++) {
        if (a[i] == '\n' && a[i - 1] == '\r' && a[i - 2] == '\n' && a[i - 3] == '\r') {
          return i + 1;
        }
      }
      return -1;
    }
  }

  /** A selector thread owning a share of the sockets. */
  final class Worker extends Thread {
    final Selector selector;
    final List<Conn> mine = new ArrayList<>();
    final ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
    int nextToOpen;
    int opening;
    long[] lat = new long[1 << 16];
    int nlat;
    long count;
    boolean started;

    Worker(int i) throws IOException {
      super("wsload-" + i);
      selector = Selector.open();
    }

    void record(long nanos) {
      if (nlat == lat.length) {
        lat = Arrays.copyOf(lat, lat.length * 2);
      }
      lat[nlat++] = nanos;
    }

    @Override
    public void run() {
      try {
        while (true) {
          while (opening < inFlight && nextToOpen < mine.size()) {
            open(mine.get(nextToOpen++));
          }
          if (running && !started) {
            started = true;
            begin();
          }
          if (stopping) {
            break;
          }
          selector.select(50);
          Iterator<SelectionKey> it = selector.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            Conn c = (Conn) k.attachment();
            try {
              handle(c, k);
            } catch (IOException | RuntimeException e) {
              if (c.state == CONNECTING || c.state == HANDSHAKE) {
                opening--;
              }
              c.fail(String.valueOf(e.getMessage()));
            }
          }
        }
      } catch (IOException e) {
        firstFailure = "selector: " + e;
      } finally {
        for (Conn c : mine) {
          try {
            if (c.ch != null && c.ch.isOpen()) {
              // A reset, not a FIN: no TIME_WAIT left to eat the ports of the next run.
              c.ch.setOption(StandardSocketOptions.SO_LINGER, 0);
              c.ch.close();
            }
          } catch (IOException ignored) {
            // closing anyway
          }
        }
      }
    }

    private void begin() throws IOException {
      if (mode.equals("echo")) {
        for (Conn c : mine) {
          if (c.state == OPEN) {
            c.send();
          }
        }
      } else if (sender.worker == this) {
        for (int i = 0; i < window; i++) {
          sentAt.set(i, System.nanoTime());
          sender.sendLocked();
        }
      }
    }

    private void open(Conn c) throws IOException {
      opening++;
      try {
        c.ch = SocketChannel.open();
        c.ch.configureBlocking(false);
        c.ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.key = c.ch.register(selector, SelectionKey.OP_CONNECT, c);
        if (c.ch.connect(addr)) {
          connected(c);
        }
      } catch (IOException e) {
        opening--;
        c.fail("connect: " + e.getMessage());
      }
    }

    private void connected(Conn c) throws IOException {
      c.state = HANDSHAKE;
      ByteBuffer req = ByteBuffer.wrap(handshake);
      c.ch.write(req);
      if (req.hasRemaining()) {
        throw new IOException("the handshake request did not fit the socket buffer");
      }
      c.key.interestOps(SelectionKey.OP_READ);
    }

    private void handle(Conn c, SelectionKey k) throws IOException {
      if (!k.isValid()) {
        return;
      }
      if (k.isConnectable()) {
        if (c.ch.finishConnect()) {
          connected(c);
        }
        return;
      }
      if (k.isWritable() && c.writePending) {
        c.ch.write(c.frame);
        if (!c.frame.hasRemaining()) {
          c.writePending = false;
          k.interestOps(SelectionKey.OP_READ);
        }
      }
      if (k.isReadable()) {
        in.clear();
        int n = c.ch.read(in);
        if (n < 0) {
          throw new IOException("the server closed the connection");
        }
        in.flip();
        if (c.state == HANDSHAKE) {
          c.handshakeRead(in);
        } else {
          c.frames(in);
        }
      }
    }
  }

  /** Runs the mode and prints its result line; the exit status is 1 when it failed. */
  int run(Map<String, String> o) throws Exception {
    int threads = Math.max(1, Math.min(Integer.parseInt(o.get("threads")), conns));
    Worker[] workers = new Worker[threads];
    for (int i = 0; i < threads; i++) {
      workers[i] = new Worker(i);
    }
    SplittableRandom rnd = new SplittableRandom(13);
    Conn[] all = new Conn[conns];
    for (int i = 0; i < conns; i++) {
      Worker w = workers[i % threads];
      all[i] = new Conn(i, w, rnd);
      w.mine.add(all[i]);
    }
    sender = all[0];
    long t0 = System.nanoTime();
    for (Worker w : workers) {
      w.start();
    }
    boolean opened = allOpen.await(Long.parseLong(o.get("connect-timeout")), TimeUnit.SECONDS);
    double openSeconds = (System.nanoTime() - t0) / 1e9;
    if (!opened || failed.get() > 0) {
      System.out.printf(Locale.ROOT, "failed mode=%s opened=%d of %d reason=%s%n", mode,
          conns - allOpen.getCount() - failed.get(), conns,
          opened ? String.valueOf(firstFailure) : "not all open in time");
      stopping = true;
      for (Worker w : workers) {
        w.join(5000);
      }
      return 1;
    }
    int code = 0;
    if (mode.equals("idle")) {
      System.out.printf(Locale.ROOT, "ready conns=%d open_seconds=%.1f%n", conns, openSeconds);
      System.out.flush();
      Path stop = Path.of(o.get("stop"));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(o.get("hold")));
      while (!Files.exists(stop) && System.nanoTime() < until) {
        Thread.sleep(100);
      }
      if (failed.get() > 0) {
        System.out.println("failed lost=" + failed.get() + " reason=" + firstFailure);
        code = 1;
      }
    } else {
      running = true;
      Thread.sleep((long) (Double.parseDouble(o.get("warmup")) * 1000));
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpu0 = os.getProcessCpuTime();
      long m0 = System.nanoTime();
      recording = true;
      long end = m0 + (long) (Double.parseDouble(o.get("seconds")) * 1e9);
      boolean stalled = false;
      while (System.nanoTime() < end) {
        Thread.sleep(100);
        if (System.nanoTime() - progress.get() > TimeUnit.SECONDS.toNanos(10)) {
          stalled = true;
          break;
        }
      }
      recording = false;
      long m1 = System.nanoTime();
      long cpu1 = os.getProcessCpuTime();
      stopping = true;
      for (Worker w : workers) {
        w.join(10_000);
      }
      long n = 0;
      int total = 0;
      for (Worker w : workers) {
        n += w.count;
        total += w.nlat;
      }
      long[] lat = new long[total];
      int at = 0;
      for (Worker w : workers) {
        System.arraycopy(w.lat, 0, lat, at, w.nlat);
        at += w.nlat;
      }
      Arrays.sort(lat);
      double secs = (m1 - m0) / 1e9;
      System.out.printf(Locale.ROOT,
          "%smode=%s conns=%d size=%d seconds=%.2f %s=%d rate=%.0f p50_us=%.0f p99_us=%.0f errors=%d"
              + " client_cpu=%.2f%s%n",
          stalled ? "failed " : "", mode, conns, size, secs,
          mode.equals("echo") ? "messages" : "deliveries", n, n / secs,
          pct(lat, 0.50) / 1e3, pct(lat, 0.99) / 1e3, failed.get(), (cpu1 - cpu0) / 1e9 / secs,
          mode.equals("fanout") ? " window=" + window + " broadcasts=" + lat.length : "");
      if (stalled || failed.get() > 0) {
        System.out.println("failed reason=" + (stalled ? "no message for 10 s" : firstFailure));
        code = 1;
      }
    }
    stopping = true;
    for (Worker w : workers) {
      w.join(10_000);
    }
    return code;
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  /** {@code MODE key=value...}; an unknown key is an error that names the known ones. */
  public static void main(String[] args) throws Exception {
    if (args.length < 1 || !List.of("echo", "fanout", "idle").contains(args[0])) {
      System.err.println("usage: WsLoad echo|fanout|idle port=P [key=value...] keys: " + DEFAULTS.keySet());
      System.exit(2);
    }
    Map<String, String> o = new LinkedHashMap<>(DEFAULTS);
    for (int i = 1; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      String k = eq < 0 ? args[i] : args[i].substring(0, eq);
      if (eq < 0 || !DEFAULTS.containsKey(k)) {
        System.err.println("unknown option " + args[i] + "; known: " + DEFAULTS.keySet());
        System.exit(2);
      }
      o.put(k, args[i].substring(eq + 1));
    }
    if (o.get("port") == null) {
      System.err.println("port=P is required");
      System.exit(2);
    }
    System.exit(new WsLoad(args[0], o).run(o));
  }
}
