package peloton.mongo;

import clojure.lang.Keyword;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bson.io.BasicOutputBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.reactor.Reactor;
import peloton.reactor.Timer;
import peloton.transport.TlsConfig;
import peloton.transport.Transport;

/**
 * One socket to one MongoDB server, driven by a {@link Reactor}: OP_MSG requests answered by
 * futs, one request on the wire at a time (later ones wait in order), each reply matched to its
 * request by {@code responseTo}.
 *
 * <p>{@link #open} connects, does the handshake (legacy {@code isMaster} with {@code helloOk} and
 * client metadata) and, when the options carry credentials, the SCRAM conversation, all on the
 * reactor; its fut delivers the ready connection. The handshake's {@code maxBsonObjectSize},
 * {@code maxMessageSizeBytes} and {@code maxWriteBatchSize} then bound what is sent and accepted.
 *
 * <p>A server error fails the request's fut with a {@link MongoCommandException}. Anything that
 * breaks the connection (the server closing it, an IO error, no reply within the socket timeout,
 * a malformed or oversized reply) closes it and fails every waiting fut with a {@link
 * MongoConnectionException}. {@link #send} is safe from any thread.
 */
public final class MongoConnection {
  private static final Logger log = LoggerFactory.getLogger(MongoConnection.class);
  private static final int READ_BUFFER = 16 * 1024;
  private static final Keyword IS_MASTER = Keyword.intern("isMaster");
  private static final Keyword HELLO = Keyword.intern("hello");
  private static final Keyword HELLO_OK = Keyword.intern("helloOk");
  private static final Keyword CLIENT = Keyword.intern("client");
  private static final Keyword DB = Keyword.intern("$db");
  private static final Keyword SASL_MECHS = Keyword.intern("saslSupportedMechs");
  private static final Keyword MAX_BSON = Keyword.intern("maxBsonObjectSize");
  private static final Keyword MAX_MESSAGE = Keyword.intern("maxMessageSizeBytes");
  private static final Keyword MAX_BATCH = Keyword.intern("maxWriteBatchSize");
  private static final Keyword MAX_WIRE = Keyword.intern("maxWireVersion");
  private static final Keyword CONVERSATION_ID = Keyword.intern("conversationId");
  private static final Keyword PAYLOAD = Keyword.intern("payload");
  private static final Keyword DONE = Keyword.intern("done");
  private static final Object CLIENT_METADATA_BASE = clientMetadata(null);
  private static final String X509 = "MONGODB-X509";
  private static final Keyword AUTHENTICATE = Keyword.intern("authenticate");
  private static final Keyword MECHANISM = Keyword.intern("mechanism");
  private static final Keyword USER = Keyword.intern("user");

  private final Reactor reactor;
  /** An unresolved host and port, or a unix domain socket path. */
  private final SocketAddress address;
  private final String addressName;
  private final MongoOptions options;
  final long generation;
  private SocketChannel channel;
  private Transport t;
  private long connectStart;
  private SelectionKey key;
  private ByteBuffer in = ByteBuffer.allocate(READ_BUFFER);
  private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
  private final ArrayDeque<Request> requests = new ArrayDeque<>();
  private Timer replyTimer;
  private Timer connectTimer;
  private Fut ready;
  private Runnable onClose;
  private volatile boolean closed;

  private volatile Map<?, ?> handshakeReply;
  private volatile boolean helloOk;
  private volatile int maxBsonObjectSize = OpMsg.DEFAULT_MAX_BSON_OBJECT_SIZE;
  private volatile int maxMessageSize = OpMsg.DEFAULT_MAX_MESSAGE_SIZE;
  private volatile int maxWriteBatchSize = OpMsg.DEFAULT_MAX_WRITE_BATCH_SIZE;

  private static final class Request {
    final int id;
    final ByteBuffer bytes;
    final Fut fut;
    /** Sent with moreToCome: the server answers nothing. */
    final boolean noReply;
    /** The reply is for the Java API: its body decodes to an {@code org.bson.Document}. */
    final boolean javaReply;

    Request(int id, ByteBuffer bytes, Fut fut, boolean noReply, boolean javaReply) {
      this.id = id;
      this.bytes = bytes;
      this.fut = fut;
      this.noReply = noReply;
      this.javaReply = javaReply;
    }
  }

  private MongoConnection(Reactor reactor, SocketAddress address, String addressName,
      MongoOptions options, long generation, Runnable onClose) {
    this.reactor = reactor;
    this.address = address;
    this.addressName = addressName;
    this.options = options;
    this.generation = generation;
    this.onClose = onClose;
  }

  /**
   * Connects to {@code address} on {@code reactor}, does the handshake and authentication, and
   * answers a fut of the ready connection (or of the error that stopped it).
   *
   * @param reactor the reactor the connection runs on
   * @param address the server's "host:port" (or a unix socket path)
   * @param options timeouts, credentials, TLS and the client metadata to send
   * @return a fut of the connection, handshake and authentication done; it fails with a {@link
   *     MongoConnectionException}, or a {@link MongoCommandException} when authentication failed
   */
  public static Fut<MongoConnection> open(Reactor reactor, String address, MongoOptions options) {
    return open(reactor, address, options, 0, null);
  }

  static Fut open(Reactor reactor, String address, MongoOptions options, long generation, Runnable onClose) {
    if (address.startsWith("/")) {
      MongoConnection c = new MongoConnection(reactor, UnixDomainSocketAddress.of(address), address, options,
          generation, onClose);
      Fut f = new Fut();
      c.ready = f;
      reactor.dispatch(c::start);
      return f;
    }
    int colon = address.lastIndexOf(':');
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = Integer.parseInt(address.substring(colon + 1));
    MongoConnection c = new MongoConnection(reactor, InetSocketAddress.createUnresolved(host, port),
        address, options, generation, onClose);
    Fut f = new Fut();
    c.ready = f;
    reactor.dispatch(c::start);
    return f;
  }

  // ---------------------------------------------------------------- connecting

  /**
   * On the reactor: arms the connect timeout (which also bounds the name lookup), then looks the
   * host up off the reactor unless its address is known (an IP literal, or an SRV target the
   * private DNS server answered), and connects.
   */
  private void start() {
    if (options.connectTimeoutMs > 0) {
      connectTimer = reactor.schedule(options.connectTimeoutMs, TimeUnit.MILLISECONDS,
          () -> close(new MongoConnectionException(addressName,
              "not connected and ready within " + options.connectTimeoutMs + " ms")));
    }
    if (!(address instanceof InetSocketAddress)) {
      connect(address); // a socket file: the JDK's unix domain sockets (Java 16+)
      return;
    }
    InetSocketAddress a = (InetSocketAddress) address;
    java.net.InetAddress known = options.srvAddresses.get(a.getHostString());
    if (known != null) {
      connect(new InetSocketAddress(known, a.getPort()));
    } else if (TlsConfig.isIpLiteral(a.getHostString())) {
      connect(new InetSocketAddress(a.getHostString(), a.getPort())); // parsed, not looked up
    } else {
      // The JDK's lookup blocks (resolv.conf, NSS): never on the reactor.
      lookups().execute(() -> {
        InetSocketAddress r = new InetSocketAddress(a.getHostString(), a.getPort());
        LOOKUPS.incrementAndGet();
        reactor.dispatch(() -> {
          if (closed) {
            return; // timed out or closed meanwhile
          }
          if (r.isUnresolved()) {
            close(new MongoConnectionException(addressName, "cannot connect: unknown host "
                + a.getHostString()));
          } else {
            connect(r);
          }
        });
      });
    }
  }

  private static volatile java.util.concurrent.Executor lookups;
  /** Host name lookups done (off the reactor), for tests. */
  static final java.util.concurrent.atomic.AtomicLong LOOKUPS =
      new java.util.concurrent.atomic.AtomicLong();

  /** Daemon threads for host name lookups, made on first use, idle ones ended. */
  private static java.util.concurrent.Executor lookups() {
    java.util.concurrent.Executor e = lookups;
    if (e == null) {
      synchronized (MongoConnection.class) {
        e = lookups;
        if (e == null) {
          java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
          java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(
              4, 4, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "peloton-mongo-dns-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
          pool.allowCoreThreadTimeOut(true);
          lookups = e = pool;
        }
      }
    }
    return e;
  }

  /** On the reactor, with the address to connect to. */
  private void connect(SocketAddress resolved) {
    try {
      if (resolved instanceof InetSocketAddress) {
        channel = SocketChannel.open();
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      } else {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      }
      channel.configureBlocking(false);
      TlsConfig tls = options.tlsConfig();
      InetSocketAddress inet = address instanceof InetSocketAddress ? (InetSocketAddress) address : null;
      // Over a unix socket the certificate is checked against "localhost".
      t = tls == null ? Transport.plain(channel) : Transport.tls(channel, tls,
          inet == null ? "localhost" : inet.getHostString(), inet == null ? 0 : inet.getPort());
      connectStart = System.nanoTime();
      boolean connected = channel.connect(resolved);
      key = reactor.register(channel, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this::onReady);
      if (connected) {
        connected();
      }
    } catch (IOException | RuntimeException e) {
      close(new MongoConnectionException(addressName, "cannot connect: " + e.getMessage(), e));
    }
  }

  /** TCP is up: TLS first when asked, then the MongoDB handshake. */
  private void connected() {
    if (!t.isSecure()) {
      handshake();
      return;
    }
    long left = options.connectTimeoutMs <= 0 ? 0
        : Math.max(1, options.connectTimeoutMs - (System.nanoTime() - connectStart) / 1_000_000);
    t.start(reactor, key, left).onComplete((v, e) -> {
      if (e != null) {
        close(new MongoConnectionException(addressName, e.getMessage(), e));
      } else if (!closed) {
        handshake();
      }
    });
  }

  private void handshake() {
    Object meta = options.appName == null ? CLIENT_METADATA_BASE : clientMetadata(options.appName);
    Object cmd = options.user == null
        ? BsonCodec.command(IS_MASTER, 1, HELLO_OK, true, CLIENT, meta, DB, "admin")
        : BsonCodec.command(IS_MASTER, 1, HELLO_OK, true, CLIENT, meta,
            SASL_MECHS, options.authDatabase() + "." + options.user, DB, "admin");
    send(cmd, List.of()).then(reply -> {
      Map<?, ?> m = (Map<?, ?>) reply;
      handshakeReply = m;
      helloOk = Boolean.TRUE.equals(m.get(HELLO_OK));
      maxBsonObjectSize = intOr(m.get(MAX_BSON), OpMsg.DEFAULT_MAX_BSON_OBJECT_SIZE);
      maxMessageSize = intOr(m.get(MAX_MESSAGE), OpMsg.DEFAULT_MAX_MESSAGE_SIZE);
      maxWriteBatchSize = intOr(m.get(MAX_BATCH), OpMsg.DEFAULT_MAX_WRITE_BATCH_SIZE);
      if (intOr(m.get(MAX_WIRE), 0) < 6) {
        throw new MongoConnectionException(addressName, "server is too old for OP_MSG (maxWireVersion "
            + m.get(MAX_WIRE) + ", need 6)");
      }
      if (X509.equals(options.authMechanism)) {
        return authenticateX509();
      }
      return options.user == null ? Fut.of(Boolean.TRUE) : authenticate(m);
    }).onComplete((v, e) -> {
      if (e != null) {
        close(e);
        return;
      }
      if (connectTimer != null) {
        connectTimer.cancel();
      }
      ready.deliver(this);
    });
  }

  private static Object clientMetadata(String appName) {
    Object driver = BsonCodec.command(Keyword.intern("name"), "peloton", Keyword.intern("version"), "0.1.0");
    Object os = BsonCodec.command(Keyword.intern("type"), System.getProperty("os.name", "unknown"),
        Keyword.intern("architecture"), System.getProperty("os.arch", "unknown"),
        Keyword.intern("version"), System.getProperty("os.version", "unknown"));
    String platform = "Java " + System.getProperty("java.version", "?");
    return appName == null
        ? BsonCodec.command(Keyword.intern("driver"), driver, Keyword.intern("os"), os,
            Keyword.intern("platform"), platform)
        : BsonCodec.command(Keyword.intern("application"),
            BsonCodec.command(Keyword.intern("name"), appName), Keyword.intern("driver"), driver,
            Keyword.intern("os"), os, Keyword.intern("platform"), platform);
  }

  private Fut authenticate(Map<?, ?> hello) {
    Scram.Mechanism mech = chooseMechanism(options.authMechanism, hello.get(SASL_MECHS));
    Scram scram = Scram.forMongo(mech, options.user, options.password);
    String source = options.authDatabase();
    Object[] conversation = new Object[1];
    return send(scram.saslStartCommand(source), List.of()).then(r1 -> {
      Map<?, ?> m = (Map<?, ?>) r1;
      conversation[0] = m.get(CONVERSATION_ID);
      String serverFirst = new String((byte[]) m.get(PAYLOAD), StandardCharsets.UTF_8);
      byte[] fin = scram.clientFinalMessage(serverFirst).getBytes(StandardCharsets.UTF_8);
      return send(Scram.saslContinueCommand(((Number) conversation[0]).longValue(), fin, source), List.of());
    }).then(r2 -> {
      Map<?, ?> m = (Map<?, ?>) r2;
      scram.verifyServerFinal(new String((byte[]) m.get(PAYLOAD), StandardCharsets.UTF_8));
      if (Boolean.TRUE.equals(m.get(DONE))) {
        return Fut.of(Boolean.TRUE);
      }
      // Servers that ignore skipEmptyExchange want one more, empty, round.
      return send(Scram.saslContinueCommand(((Number) conversation[0]).longValue(), new byte[0], source),
          List.of()).map(r3 -> {
            if (!Boolean.TRUE.equals(((Map<?, ?>) r3).get(DONE))) {
              throw new MongoProtocolException("SCRAM conversation did not end");
            }
            return Boolean.TRUE;
          });
    });
  }

  /** MONGODB-X509: the server takes the user from the TLS client certificate. */
  private Fut<Boolean> authenticateX509() {
    if (!t.isSecure()) {
      return Fut.failed(new IllegalArgumentException(
          "MONGODB-X509 needs TLS with a client certificate (tls=true&tlsCertificateKeyFile=...)"));
    }
    Object cmd = options.user == null
        ? BsonCodec.command(AUTHENTICATE, 1, MECHANISM, X509, DB, "$external")
        : BsonCodec.command(AUTHENTICATE, 1, MECHANISM, X509, USER, options.user, DB, "$external");
    return send(cmd, List.of()).map(r -> Boolean.TRUE);
  }

  static Scram.Mechanism chooseMechanism(String asked, Object serverMechs) {
    if (asked != null) {
      if (asked.equals("SCRAM-SHA-256")) {
        return Scram.Mechanism.SCRAM_SHA_256;
      }
      if (asked.equals("SCRAM-SHA-1")) {
        return Scram.Mechanism.SCRAM_SHA_1;
      }
      throw new IllegalArgumentException("unsupported authMechanism " + asked);
    }
    if (serverMechs instanceof List && ((List<?>) serverMechs).contains("SCRAM-SHA-256")) {
      return Scram.Mechanism.SCRAM_SHA_256;
    }
    return Scram.Mechanism.SCRAM_SHA_1;
  }

  private static int intOr(Object o, int dflt) {
    return o instanceof Number ? ((Number) o).intValue() : dflt;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Sends the command {@code body} (an ordered map with {@code :$db}) with kind-1 {@code
   * sequences}, and answers a fut of the reply body. Safe from any thread; requests go out one at
   * a time in the order they were sent.
   *
   * @param body the command, an ordered map whose first key is the command's name
   * @param sequences kind-1 sections (the documents of a write), possibly empty
   * @return a fut of the reply body; it fails with a {@link MongoCommandException} when the server
   *     reports an error, a {@link MongoConnectionException} when the connection fails
   */
  public Fut<Object> send(Object body, List<OpMsg.Sequence> sequences) {
    return send(body, sequences, false);
  }

  /**
   * {@link #send(Object, List)}; with {@code noReply} the message carries moreToCome (for a write
   * with {@code w: 0}: the server answers nothing) and the fut answers null once it is handed to
   * the socket.
   *
   * @param body the command, an ordered map whose first key is the command's name
   * @param sequences kind-1 sections, possibly empty
   * @param noReply true to send with moreToCome and not wait for a reply
   * @return a fut of the reply body, or of null with {@code noReply}
   */
  public Fut<Object> send(Object body, List<OpMsg.Sequence> sequences, boolean noReply) {
    return send(body, sequences, noReply, false);
  }

  /** {@link #send(Object, List, boolean)}; with {@code javaReply} the reply body is an {@code org.bson.Document}. */
  Fut<Object> send(Object body, List<OpMsg.Sequence> sequences, boolean noReply, boolean javaReply) {
    int id = OpMsg.requestId();
    BasicOutputBuffer buf = new Utf8OutputBuffer(256);
    try {
      OpMsg.encode(buf, id, noReply ? OpMsg.MORE_TO_COME : 0, body, sequences, maxMessageSize);
    } catch (RuntimeException e) {
      return Fut.failed(e);
    }
    Request r = new Request(id, ByteBuffer.wrap(buf.getInternalBuffer(), 0, buf.getPosition()), new Fut(), noReply, javaReply);
    reactor.dispatch(() -> enqueue(r));
    return r.fut;
  }

  private void enqueue(Request r) {
    if (closed) {
      r.fut.fail(new MongoConnectionException(addressName, "connection is closed"));
      return;
    }
    requests.add(r);
    if (requests.size() == 1) {
      pump();
    }
  }

  /** Transmits the request at the head of the queue, and the ones after it while they expect no reply. */
  private void pump() {
    Request r;
    while ((r = requests.peek()) != null) {
      if (!r.noReply && options.socketTimeoutMs > 0 && ready.isDone()) {
        replyTimer = reactor.schedule(options.socketTimeoutMs, TimeUnit.MILLISECONDS,
            () -> close(new MongoConnectionException(addressName,
                "no reply within the socket timeout of " + options.socketTimeoutMs + " ms")));
      }
      if (!transmit(r) || !r.noReply) {
        return;
      }
      requests.poll();
      r.fut.deliver(null);
    }
  }

  /** Writes (or queues) {@code r}'s bytes; false when the connection broke. */
  private boolean transmit(Request r) {
    if (!out.isEmpty()) {
      out.add(r.bytes);
      return true;
    }
    try {
      t.write(r.bytes);
    } catch (IOException e) {
      close(new MongoConnectionException(addressName, "write failed: " + e.getMessage(), e));
      return false;
    }
    if (r.bytes.hasRemaining()) {
      out.add(r.bytes);
    }
    if (r.bytes.hasRemaining() || t.hasPendingOutput()) {
      key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
    }
    return true;
  }

  private void onReady(SelectionKey k) {
    if (closed) {
      return;
    }
    try {
      if (k.isConnectable()) {
        if (channel.finishConnect()) {
          k.interestOps(SelectionKey.OP_READ);
          connected();
        }
        return;
      }
      if (k.isWritable()) {
        flush();
      }
      if (k.isValid() && k.isReadable()) {
        read();
      }
    } catch (IOException e) {
      close(new MongoConnectionException(addressName, "connection failed: " + e.getMessage(), e));
    } catch (RuntimeException e) {
      close(new MongoConnectionException(addressName, "bad reply: " + e.getMessage(), e));
    }
  }

  private void flush() throws IOException {
    if (!t.flush()) {
      return;
    }
    ByteBuffer b;
    while ((b = out.peek()) != null) {
      t.write(b);
      if (b.hasRemaining() || t.hasPendingOutput()) {
        return;
      }
      out.poll();
    }
    key.interestOps(SelectionKey.OP_READ);
  }

  private void read() throws IOException {
    for (;;) {
      int n = t.read(in);
      if (n < 0) {
        close(new MongoConnectionException(addressName, "server closed the connection"));
        return;
      }
      if (n == 0) {
        return;
      }
      boolean full = !in.hasRemaining();
      in.flip();
      int needed = frames();
      in.compact();
      if (closed) {
        return;
      }
      if (needed > in.capacity()) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(needed, in.capacity() * 2));
        in.flip();
        bigger.put(in);
        in = bigger;
      } else if (!full) {
        return;
      }
    }
  }

  /** Handles every complete message in {@code in}; answers the length of an incomplete one (or 0). */
  private int frames() {
    while (!closed) {
      int len = OpMsg.frameLength(in, maxMessageSize);
      if (len < 0) {
        return 0;
      }
      if (in.remaining() < len) {
        return len;
      }
      Request head = requests.peek();
      onReply(OpMsg.decode(in, true, maxMessageSize, head != null && head.javaReply));
    }
    return 0;
  }

  private void onReply(OpMsg.Reply reply) {
    Request r = requests.peek();
    if (r == null || reply.responseTo != r.id) {
      throw new MongoProtocolException("reply to request " + reply.responseTo + ", expected "
          + (r == null ? "none" : String.valueOf(r.id)));
    }
    if (reply.moreToCome()) {
      throw new MongoProtocolException("unexpected moreToCome reply");
    }
    requests.poll();
    if (replyTimer != null) {
      replyTimer.cancel();
      replyTimer = null;
    }
    if (!requests.isEmpty()) {
      pump();
    }
    MongoCommandException err = MongoCommandException.fromReply(reply.body);
    if (err != null) {
      r.fut.fail(err);
    } else {
      r.fut.deliver(reply.body);
    }
  }

  // ---------------------------------------------------------------- closing

  /** Closes the connection (from any thread); waiting requests fail with a connection error. */
  public void close() {
    reactor.dispatch(() -> close(new MongoConnectionException(addressName, "connection closed by the client")));
  }

  private void close(Throwable cause) {
    if (closed) {
      return;
    }
    closed = true;
    if (connectTimer != null) {
      connectTimer.cancel();
    }
    if (replyTimer != null) {
      replyTimer.cancel();
    }
    if (t != null) {
      t.close();
    } else if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("closing the channel to {} failed", addressName, e);
      }
    }
    log.debug("connection to {} closed: {}", addressName, cause.toString());
    MongoConnectionException ce = cause instanceof MongoConnectionException
        ? (MongoConnectionException) cause
        : new MongoConnectionException(addressName, "connection failed: " + cause.getMessage(), cause);
    ready.fail(cause instanceof MongoCommandException ? cause : ce);
    Request r;
    while ((r = requests.poll()) != null) {
      r.fut.fail(ce);
    }
    out.clear();
    Runnable cb = onClose;
    if (cb != null) {
      cb.run();
    }
  }

  // ---------------------------------------------------------------- inspection

  /**
   * Whether the connection can still be used.
   *
   * @return true until the connection is closed
   */
  public boolean isOpen() {
    return !closed;
  }

  /**
   * The server this connection is to.
   *
   * @return its "host:port"
   */
  public String address() {
    return addressName;
  }

  /**
   * The server's handshake reply ({@code hello} or {@code isMaster}).
   *
   * @return the reply as a keyword map, or null before the handshake
   */
  public Map<?, ?> handshakeReply() {
    return handshakeReply;
  }

  /**
   * Whether the server said it knows the {@code hello} command ({@code helloOk}).
   *
   * @return true when the handshake reply had {@code helloOk: true}
   */
  public boolean helloOk() {
    return helloOk;
  }

  /**
   * The command to ask this server its state again: {@code hello} when it knows it, else {@code isMaster}.
   *
   * @return the command, to {@link #send}
   */
  public Object helloCommand() {
    return BsonCodec.command(helloOk ? HELLO : IS_MASTER, 1, DB, "admin");
  }

  /**
   * The server's largest document ({@code maxBsonObjectSize}).
   *
   * @return the size in bytes, the default 16 MiB when the server gave none
   */
  public int maxBsonObjectSize() {
    return maxBsonObjectSize;
  }

  /**
   * The server's largest message ({@code maxMessageSizeBytes}).
   *
   * @return the size in bytes, the default 48 MB when the server gave none
   */
  public int maxMessageSizeBytes() {
    return maxMessageSize;
  }

  /**
   * The server's largest write batch ({@code maxWriteBatchSize}).
   *
   * @return the most documents in one write command, the default 100,000 when the server gave none
   */
  public int maxWriteBatchSize() {
    return maxWriteBatchSize;
  }

  /**
   * The reactor this connection runs on.
   *
   * @return the reactor
   */
  public Reactor reactor() {
    return reactor;
  }

  @Override
  public String toString() {
    return "MongoConnection[" + addressName + (closed ? " closed]" : "]");
  }
}
