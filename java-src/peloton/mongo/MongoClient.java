package peloton.mongo;

import clojure.lang.IPersistentMap;
import clojure.lang.ITransientCollection;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentVector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.reactor.Reactor;

/**
 * A non-blocking MongoDB client: every operation answers a {@link Fut} and nothing blocks.
 *
 * <p><b>From Java</b>, start at {@link #collection(String)} (or {@link #database(String)}): a
 * {@link MongoCollection} takes and answers {@code org.bson.Document}s and the {@code Bson} of the
 * driver's builders, with typed futs and the driver's result classes:
 *
 * <pre>{@code
 * MongoClient client = MongoClient.connect("mongodb://127.0.0.1:27017").join();
 * MongoCollection users = client.collection("app.users");
 * users.insertOne(new Document("name", "ann").append("age", 31))
 *     .then(r -> users.find(Filters.gte("age", 18)).sort(Sorts.ascending("name")).toList())
 *     .onComplete((docs, error) -> log.info("adults: {}", docs));
 * }</pre>
 *
 * <p><b>The Clojure-facing layer:</b> this class's own data operations ({@link #find}, {@link
 * #insert(String, List)}, {@link #update(String, Object, Object, boolean, boolean)}, {@link
 * #command}, ...) take and answer Clojure data (keyword-keyed persistent maps and vectors, see
 * {@link BsonCodec}); they are what {@code peloton.mongo} calls, and Java code has no need of
 * them. Both layers share everything below: pools, server selection, batching, cursors, errors.
 *
 * <p>Collections are named {@code "db.collection"} (a name without a dot is in the options'
 * database). Commands are built as ordered maps. Requests go over OP_MSG on the client's
 * reactors, through a pool of connections per server ({@link ConnectionPool}), one request in
 * flight per connection.
 *
 * <p>With one host the client talks to it. With several hosts or a replica set name it finds the
 * primary and the secondaries from the servers' {@code hello}/{@code isMaster} replies, sends
 * writes to the primary, and scans again after a "not primary" error or a connection error (the
 * failing operation fails unless it is retried, see below; the next one goes to the new
 * primary). Reads go where their {@link ReadPreference} (per operation, else the options')
 * allows among the members the last scan found; a read that no known member can serve triggers a
 * scan. Members are not polled in the background: a secondary added later is seen at the next
 * scan.
 *
 * <p>Retryable writes ({@link MongoOptions#retryWrites}, the retryable writes spec): on a replica
 * set or mongos with sessions, a single-document write carries an {@code lsid} (from a pool of
 * server sessions) and a {@code txnNumber}, and after a network error or a retryable server error
 * it is sent once more, with the same two, to a server selected again. Reads are retried once the
 * same way ({@link MongoOptions#retryReads}), without a session.
 *
 * <p>Failures: {@link MongoCommandException} for server errors (write errors included), {@link
 * MongoConnectionException} for network trouble, {@link IllegalArgumentException} for documents
 * that cannot be encoded or are too large.
 */
public final class MongoClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MongoClient.class);

  static Keyword k(String s) {
    return Keyword.intern(s);
  }

  private static final Keyword ID = k("_id");
  private static final Keyword DB = k("$db");
  private static final Keyword INSERT = k("insert");
  private static final Keyword UPDATE = k("update");
  private static final Keyword DELETE = k("delete");
  private static final Keyword ORDERED = k("ordered");
  private static final Keyword WRITE_CONCERN = k("writeConcern");
  private static final Keyword Q = k("q");
  private static final Keyword U = k("u");
  private static final Keyword UPSERT = k("upsert");
  private static final Keyword MULTI = k("multi");
  private static final Keyword LIMIT = k("limit");
  private static final Keyword FIND = k("find");
  private static final Keyword FILTER = k("filter");
  private static final Keyword PROJECTION = k("projection");
  private static final Keyword SORT = k("sort");
  private static final Keyword SKIP = k("skip");
  private static final Keyword BATCH_SIZE = k("batchSize");
  private static final Keyword SINGLE_BATCH = k("singleBatch");
  private static final Keyword CURSOR = k("cursor");
  private static final Keyword CURSOR_ID = k("id");
  private static final Keyword NS = k("ns");
  private static final Keyword FIRST_BATCH = k("firstBatch");
  private static final Keyword NEXT_BATCH = k("nextBatch");
  private static final Keyword GET_MORE = k("getMore");
  private static final Keyword COLLECTION = k("collection");
  private static final Keyword KILL_CURSORS = k("killCursors");
  private static final Keyword CURSORS = k("cursors");
  private static final Keyword N = k("n");
  private static final Keyword COUNT = k("count");
  private static final Keyword QUERY = k("query");
  private static final Keyword DISTINCT = k("distinct");
  private static final Keyword KEY = k("key");
  private static final Keyword VALUES = k("values");
  private static final Keyword AGGREGATE = k("aggregate");
  private static final Keyword PIPELINE = k("pipeline");
  private static final Keyword FIND_AND_MODIFY = k("findAndModify");
  private static final Keyword VALUE = k("value");
  private static final Keyword CREATE_INDEXES = k("createIndexes");
  private static final Keyword INDEXES = k("indexes");
  private static final Keyword NAME = k("name");
  private static final Keyword UNIQUE = k("unique");
  private static final Keyword DROP = k("drop");
  private static final Keyword LIST_COLLECTIONS = k("listCollections");
  private static final Keyword HOSTS = k("hosts");
  private static final Keyword PASSIVES = k("passives");
  private static final Keyword SET_NAME = k("setName");
  private static final Keyword IS_WRITABLE_PRIMARY = k("isWritablePrimary");
  private static final Keyword ISMASTER = k("ismaster");
  private static final Keyword SECONDARY = k("secondary");
  private static final Keyword MSG = k("msg");
  private static final Keyword READ_PREFERENCE = k("$readPreference");
  private static final int NAMESPACE_NOT_FOUND = 26;

  private final MongoOptions options;
  private final Reactor[] reactors;
  private final ConcurrentHashMap<String, ConnectionPool> pools = new ConcurrentHashMap<>();
  private final Set<String> knownHosts = new LinkedHashSet<>();
  private final boolean discover;
  private volatile ConnectionPool primary;
  private Fut discovering;
  private volatile List<Member> members = List.of();
  private volatile boolean closed;

  private MongoClient(MongoOptions options, Reactor[] reactors) {
    if (options.hosts.isEmpty()) {
      options.hosts.add("localhost:27017");
    }
    options.tlsConfig(); // bad TLS options (or files) fail here, before any connection
    this.options = options;
    this.reactors = reactors.length == 0 ? new Reactor[] {Reactor.currentOrShared()} : reactors.clone();
    knownHosts.addAll(options.hosts);
    discover = !options.directConnection && (options.replicaSet != null || options.hosts.size() > 1);
    if (!discover) {
      primary = pool(options.hosts.get(0));
    }
  }

  /**
   * A client for {@code options} whose connections run on {@code reactors} (round robin; none
   * given: the calling thread's reactor, else the shared one). Connects lazily.
   *
   * @param options the servers, credentials, timeouts and defaults; not to change afterwards
   * @param reactors the reactors connections run on; none for the default
   * @return the client, not yet connected
   */
  public static MongoClient create(MongoOptions options, Reactor... reactors) {
    if (options.srvHost != null && options.hosts.isEmpty()) {
      if (Reactor.current() != null) {
        throw new IllegalStateException("mongodb+srv needs DNS lookups, which would block this "
            + "reactor: use connect, which does them on another thread");
      }
      SrvResolver.resolve(options);
    }
    return new MongoClient(options, reactors);
  }

  /**
   * A fut of a client once a first connection to the server (the primary, with several hosts) is
   * open, handshaken and authenticated; it fails with what stopped that.
   *
   * @param options the servers, credentials, timeouts and defaults; not to change afterwards
   * @param reactors the reactors connections run on; none for the calling thread's reactor, else
   *     the shared one
   * @return a fut of the connected client; it fails with a {@link MongoConnectionException} (no
   *     server reachable in the connect timeout, no primary found) or a {@link
   *     MongoCommandException} (authentication failed)
   */
  @SuppressWarnings("unchecked")
  public static Fut<MongoClient> connect(MongoOptions options, Reactor... reactors) {
    try {
      options.checkAuth();
    } catch (IllegalArgumentException e) {
      return Fut.failed(e);
    }
    if (options.srvHost != null && options.hosts.isEmpty()) {
      options.tlsConfig(); // bad TLS options fail at once, before DNS
      Fut<MongoClient> f = new Fut<>();
      // SRV and TXT lookups block: never on a reactor thread.
      java.util.concurrent.CompletableFuture.runAsync(() -> SrvResolver.resolve(options))
          .whenComplete((v, e) -> {
            if (e != null) {
              f.fail(e instanceof java.util.concurrent.CompletionException ? e.getCause() : e);
            } else {
              connect(options, reactors).onComplete(f::complete);
            }
          });
      return f;
    }
    MongoClient c = new MongoClient(options, reactors);
    Fut<MongoClient> ready = c.withConnection(conn -> Fut.of(c));
    return ready.recover(e -> {
      c.close();
      throw sneaky(e);
    });
  }

  /**
   * {@link #connect(MongoOptions, Reactor...)} to one server, with the default options.
   *
   * @param host the server's name or IP address
   * @param port the server's port, usually 27017
   * @return a fut of the connected client
   */
  public static Fut<MongoClient> connect(String host, int port) {
    return connect(MongoOptions.of(host, port));
  }

  /**
   * {@link #connect(MongoOptions, Reactor...)} from a {@code mongodb://} URI.
   *
   * @param uri a {@code mongodb://} or {@code mongodb+srv://} connection string (see {@link MongoOptions#fromUri})
   * @return a fut of the connected client; a bad URI or option fails it with an {@link IllegalArgumentException}
   */
  public static Fut<MongoClient> connect(String uri) {
    return connect(MongoOptions.fromUri(uri));
  }

  // ---------------------------------------------------------------- the Java API

  /**
   * The database {@code name}, for Java code: its {@link MongoDatabase#collection collections}
   * take and answer {@code org.bson.Document}s.
   *
   * @param name the database's name
   * @return a database view (nothing is sent)
   */
  public MongoDatabase database(String name) {
    return new MongoDatabase(this, name);
  }

  /**
   * The collection {@code "db.coll"} (a name without a dot is in the options' database), for Java
   * code: see {@link MongoCollection}.
   *
   * <pre>{@code
   * MongoCollection users = client.collection("app.users");
   * Fut<Document> ann = users.find(Filters.eq("name", "ann")).first();
   * }</pre>
   *
   * @param namespace {@code "db.coll"} or {@code "coll"}
   * @return a collection view (nothing is sent)
   */
  public MongoCollection collection(String namespace) {
    String[] n = splitNs(namespace);
    return new MongoCollection(this, n[0], n[1]);
  }

  /**
   * The options this client was made with.
   *
   * @return the options; not to be changed
   */
  public MongoOptions options() {
    return options;
  }

  /**
   * The pool for "host:port", made on first use.
   *
   * @param address a server's "host:port"
   * @return the pool of connections to that server
   */
  public ConnectionPool pool(String address) {
    return pools.computeIfAbsent(address, a -> new ConnectionPool(a, options, reactors));
  }

  /**
   * The server writes (and primary reads) go to now.
   *
   * @return its "host:port", or null while it is unknown
   */
  public String primaryAddress() {
    ConnectionPool p = primary;
    return p == null ? null : p.address();
  }

  // ---------------------------------------------------------------- server selection

  /** What the last scan learned of one server. */
  private static final class Member {
    final ConnectionPool pool;
    final boolean primary;
    final boolean secondary;
    final boolean mongos;
    final long rttNanos;

    Member(ConnectionPool pool, boolean primary, boolean secondary, boolean mongos, long rttNanos) {
      this.pool = pool;
      this.primary = primary;
      this.secondary = secondary;
      this.mongos = mongos;
      this.rttNanos = rttNanos;
    }
  }


  /** A fut of the pool of the primary (where writes and primary reads go). */
  Fut selectServer() {
    ConnectionPool p = primary;
    if (p != null) {
      return Fut.of(p);
    }
    if (closed) {
      return Fut.failed(new MongoConnectionException(String.join(",", options.hosts), "client is closed"));
    }
    return refresh().map(v -> {
      ConnectionPool q = primary;
      if (q == null) {
        throw new MongoConnectionException(String.join(",", knownHosts()), "no primary found"
            + (options.replicaSet == null ? "" : " for replica set " + options.replicaSet));
      }
      return q;
    });
  }

  /**
   * A fut of the pool of a server {@code rp} allows a read from: with one server (no discovery)
   * that server; else among the members the last scan found, scanning again when none fits.
   */
  Fut selectForRead(ReadPreference rp) {
    if (!discover || rp == ReadPreference.PRIMARY) {
      return selectServer();
    }
    ConnectionPool p = pick(rp);
    if (p != null) {
      return Fut.of(p);
    }
    if (closed) {
      return Fut.failed(new MongoConnectionException(String.join(",", options.hosts), "client is closed"));
    }
    return refresh().map(v -> {
      ConnectionPool q = pick(rp);
      if (q == null) {
        throw new MongoConnectionException(String.join(",", knownHosts()),
            "no server matches read preference " + rp.mode());
      }
      return q;
    });
  }

  private ConnectionPool pick(ReadPreference rp) {
    List<Member> ms = members;
    ConnectionPool prim = primary;
    switch (rp) {
      case PRIMARY:
        return prim;
      case PRIMARY_PREFERRED:
        return prim != null ? prim : anyOf(ms, false, Long.MAX_VALUE);
      case SECONDARY:
        return anyOf(ms, false, Long.MAX_VALUE);
      case SECONDARY_PREFERRED: {
        ConnectionPool s = anyOf(ms, false, Long.MAX_VALUE);
        return s != null ? s : prim;
      }
      default: {
        long fastest = Long.MAX_VALUE;
        for (Member m : ms) {
          if (m.primary || m.secondary || m.mongos) {
            fastest = Math.min(fastest, m.rttNanos);
          }
        }
        return fastest == Long.MAX_VALUE ? null : anyOf(ms, true, fastest + options.localThresholdMs * 1_000_000L);
      }
    }
  }

  /** A random secondary or mongos (and primary when {@code primaryToo}) that answered within {@code maxRtt}. */
  private static ConnectionPool anyOf(List<Member> ms, boolean primaryToo, long maxRtt) {
    int n = 0;
    ConnectionPool chosen = null;
    for (Member m : ms) {
      if ((m.secondary || m.mongos || primaryToo && m.primary) && m.rttNanos <= maxRtt
          && ThreadLocalRandom.current().nextInt(++n) == 0) {
        chosen = m.pool;
      }
    }
    return chosen;
  }

  private synchronized List<String> knownHosts() {
    return new ArrayList<>(knownHosts);
  }

  /** Scans the known servers (one scan at a time; callers share it) and updates primary and members. */
  private Fut refresh() {
    Fut d;
    synchronized (this) {
      if (discovering != null) {
        return discovering;
      }
      discovering = new Fut();
      d = discovering;
    }
    scan(2).onComplete((v, e) -> {
      if (e == null) {
        @SuppressWarnings("unchecked")
        List<Member> found = (List<Member>) v;
        members = found;
        ConnectionPool p = null;
        for (Member m : found) {
          if (m.primary && p == null) {
            p = m.pool;
          }
        }
        primary = p;
        log.debug("primary is {}", p == null ? "unknown" : p.address());
      }
      synchronized (this) {
        discovering = null;
      }
      d.complete(v, e);
    });
    return d;
  }

  private Fut scan(int rounds) {
    List<String> hosts = knownHosts();
    List<Fut<Object>> checks = new ArrayList<>(hosts.size());
    long[] rtts = new long[hosts.size()];
    for (int i = 0; i < hosts.size(); i++) {
      String h = hosts.get(i);
      int idx = i;
      long t0 = System.nanoTime();
      checks.add(runOn(pool(h), null, null).map(r -> {
        rtts[idx] = System.nanoTime() - t0;
        return r;
      }).recover(e -> {
        log.debug("{} did not answer: {}", h, e.toString());
        return null;
      }));
    }
    return Fut.all(checks).then(v -> {
      List<?> replies = (List<?>) v;
      List<Member> found = new ArrayList<>();
      boolean grew = false;
      boolean hasPrimary = false;
      for (int i = 0; i < replies.size(); i++) {
        Map<?, ?> m = (Map<?, ?>) replies.get(i);
        if (m == null || options.replicaSet != null && !options.replicaSet.equals(m.get(SET_NAME))) {
          continue;
        }
        synchronized (this) {
          for (Keyword f : new Keyword[] {HOSTS, PASSIVES}) {
            if (m.get(f) instanceof List) {
              for (Object h : (List<?>) m.get(f)) {
                grew |= knownHosts.add(h.toString());
              }
            }
          }
        }
        boolean isPrimary = Boolean.TRUE.equals(m.get(IS_WRITABLE_PRIMARY)) || Boolean.TRUE.equals(m.get(ISMASTER));
        boolean mongos = "isdbgrid".equals(m.get(MSG));
        hasPrimary |= isPrimary;
        found.add(new Member(pool(hosts.get(i)), isPrimary, Boolean.TRUE.equals(m.get(SECONDARY)), mongos, rtts[i]));
      }
      if (!hasPrimary && grew && rounds > 1) {
        return scan(rounds - 1);
      }
      return Fut.of(found);
    });
  }

  private void onFailure(ConnectionPool p, Throwable e) {
    if (e instanceof MongoConnectionException) {
      p.clear();
      if (discover) {
        if (primary == p) {
          primary = null;
        }
        List<Member> ms = members;
        List<Member> kept = new ArrayList<>(ms.size());
        for (Member m : ms) {
          if (m.pool != p) {
            kept.add(m);
          }
        }
        members = kept;
      }
    } else if (e instanceof MongoCommandException && ((MongoCommandException) e).isNotPrimary()) {
      if (discover && primary == p) {
        primary = null;
      }
    }
  }

  // ---------------------------------------------------------------- running commands

  /**
   * Runs {@code body} on a connection of {@code p}; a null body asks the server its state
   * ({@code hello} when it knows it, else {@code isMaster}). A read passes its preference
   * {@code rp} (else null), which adds {@code $readPreference} where the server needs it.
   */
  private Fut runOn(ConnectionPool p, Object body, ReadPreference rp) {
    return runOn(p, body, rp, false);
  }

  /** {@link #runOn(ConnectionPool, Object, ReadPreference)}; {@code java}: the reply is an {@code org.bson.Document}. */
  private Fut runOn(ConnectionPool p, Object body, ReadPreference rp, boolean java) {
    Fut r = new Fut();
    Reactor caller = Reactor.current();
    p.acquire().onComplete((c, e) -> {
      if (e != null) {
        onFailure(p, e);
        r.fail(e);
        return;
      }
      MongoConnection conn = (MongoConnection) c;
      Object b = body == null ? conn.helloCommand() : rp == null ? body : withReadPreference(body, rp, conn);
      conn.send(b, List.of(), false, java).onComplete((v, e2) -> {
        p.release(conn);
        if (e2 != null) {
          onFailure(p, e2);
        }
        if (caller == null || caller.inReactorThread()) {
          r.complete(v, e2);
        } else {
          // A connection of another reactor served it: answer where the operation started.
          caller.execute(() -> r.complete(v, e2));
        }
      });
    });
    return r;
  }

  /**
   * {@code body} with {@code $readPreference} as the server-selection spec asks: to a mongos or a
   * replica set member when the mode is not primary; to a member connected to directly (no
   * discovery) always, primary becoming primaryPreferred so that a secondary answers; never to a
   * standalone server.
   */
  private Object withReadPreference(Object body, ReadPreference rp, MongoConnection conn) {
    Map<?, ?> hs = conn.handshakeReply();
    if (hs == null) {
      return body;
    }
    boolean mongos = "isdbgrid".equals(hs.get(MSG));
    boolean member = hs.get(SET_NAME) != null;
    ReadPreference send = null;
    if (mongos || member && discover) {
      send = rp == ReadPreference.PRIMARY ? null : rp;
    } else if (member) {
      send = rp == ReadPreference.PRIMARY ? ReadPreference.PRIMARY_PREFERRED : rp;
    }
    return send == null ? body : ((IPersistentMap) body).assoc(READ_PREFERENCE, send.document());
  }

  Fut runOnPool(ConnectionPool p, Object body, boolean java) {
    return runOn(p, body, null, java);
  }

  private Fut run(Object body) {
    return run(body, false);
  }

  /** Runs {@code body} on the primary; {@code java}: the reply is an {@code org.bson.Document}. */
  Fut run(Object body, boolean java) {
    Fut r = new Fut();
    selectServer().onComplete((p, e) -> {
      if (e != null) {
        r.fail(e);
      } else {
        runOn((ConnectionPool) p, body, null, java).onComplete(r::complete);
      }
    });
    return r;
  }

  /** Runs the read {@code body} on a server {@code rp} (null: the client's default) allows. */
  private Fut read(Object body, ReadPreference rp) {
    return read(body, rp, false);
  }

  /** {@link #read(Object, ReadPreference)}; {@code java}: the reply is an {@code org.bson.Document}. */
  Fut read(Object body, ReadPreference rp, boolean java) {
    ReadPreference pref = rp == null ? options.readPreference : rp;
    return readFirst(body, pref, new ConnectionPool[1], java);
  }

  /**
   * Runs a read command (not a getMore) on a server {@code pref} allows, the pool used left in
   * {@code used[0]}. With retryReads (the default) a network error or a retryable server error
   * is retried once, on a server selected again (the retryable reads spec).
   */
  private Fut<Object> readFirst(Object body, ReadPreference pref, ConnectionPool[] used, boolean java) {
    Object b = ((Map<?, ?>) body).containsKey(LIST_COLLECTIONS) ? body : withReadConcern(body);
    return withOneRetry(options.retryReads, "read", attempt -> selectForRead(pref).then(pv -> {
      used[0] = (ConnectionPool) pv;
      return runOn(used[0], b, pref, java);
    }), MongoClient::retryable, false);
  }

  /**
   * The one retry of the retryable reads and writes specs: runs {@code attempt} (0, the first),
   * and when it fails with an error {@code retryable} accepts (and {@code enabled}), once more
   * ({@code attempt} 1, which selects its server again). For a {@code write} the original error
   * is what fails the operation when the retry could not be made ({@link NotRetried}: no server,
   * or one without retryable writes) or the server says it wrote nothing ({@code
   * NoWritesPerformed}); else the retry's error is.
   */
  private Fut<Object> withOneRetry(boolean enabled, String what, java.util.function.IntFunction<Fut<Object>> attempt,
      java.util.function.Predicate<Throwable> retryable, boolean write) {
    Fut<Object> first = attempt.apply(0);
    if (!enabled) {
      return first;
    }
    return first.recoverWith((Throwable e) -> {
      if (closed || !retryable.test(e)) {
        throw sneaky(e);
      }
      log.debug("retrying a {} once after {}", what, e.toString());
      Fut<Object> second = attempt.apply(1);
      if (!write) {
        return second;
      }
      return second.recover(e2 -> {
        if (e2 instanceof NotRetried || hasLabel(e2, NO_WRITES_PERFORMED)) {
          Throwable why = e2 instanceof NotRetried && e2.getCause() != null ? e2.getCause() : e2;
          if (why != e) {
            e.addSuppressed(why);
          }
          throw sneaky(e);
        }
        if (e2 != e) {
          e2.addSuppressed(e);
        }
        throw sneaky(e2);
      });
    });
  }

  /** A write's retry could not be sent; the original error stands (its cause, if any, is why). */
  private static final class NotRetried extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotRetried(String why, Throwable cause) {
      super(why, cause, false, false);
    }
  }

  private static final Keyword READ_CONCERN = k("readConcern");

  private Object withReadConcern(Object body) {
    return options.readConcern == null || !(body instanceof IPersistentMap) ? body
        : ((IPersistentMap) body).assoc(READ_CONCERN, options.readConcern);
  }

  /** The server errors the retryable reads spec retries (plus any network error). */
  private static final java.util.Set<Integer> RETRYABLE_CODES = java.util.Set.of(11600, 11602, 10107, 13435,
      13436, 189, 91, 7, 6, 89, 9001, 262, 134);
  /** The codes the retryable writes spec retries from servers before 4.4 (which label none). */
  private static final java.util.Set<Integer> RETRYABLE_WRITE_CODES = java.util.Set.of(11600, 11602, 10107,
      13435, 13436, 189, 91, 7, 6, 89, 9001, 262);

  static boolean retryable(Throwable e) {
    if (e instanceof MongoConnectionException) {
      if (e.getCause() instanceof MongoProtocolException) {
        return false; // the server sent bytes that break the protocol: not a passing network fault
      }
      String m = e.getMessage();
      return m == null || !(m.contains("no connection free") || m.contains("client is closed")
          || m.contains("too many operations waiting"));
    }
    return e instanceof MongoCommandException && RETRYABLE_CODES.contains(((MongoCommandException) e).code());
  }

  /** Runs {@code f} with a connection of the selected server, released when its fut completes. */
  private Fut withConnection(Function<MongoConnection, Fut> f) {
    return answerOn(Reactor.current(), withPrimaryConnection((p, conn) -> {
      Fut r = new Fut();
      f.apply(conn).onComplete((v, e) -> {
        p.release(conn);
        if (e != null) {
          onFailure(p, e);
        }
        r.complete(v, e);
      });
      return r;
    }));
  }

  // ---------------------------------------------------------------- retryable writes

  private static final Keyword LSID = k("lsid");
  private static final Keyword TXN_NUMBER = k("txnNumber");
  private static final Keyword SESSION_TIMEOUT = k("logicalSessionTimeoutMinutes");
  private static final Keyword MAX_WIRE_VERSION = k("maxWireVersion");
  private static final String RETRYABLE_WRITE_ERROR = "RetryableWriteError";
  private static final String NO_WRITES_PERFORMED = "NoWritesPerformed";
  /** Wire version of MongoDB 4.4, from which servers label the errors a write may be retried after. */
  private static final int WIRE_4_4 = 9;
  private final ServerSessions sessions = new ServerSessions();

  /** The client's pool of server sessions (for tests: how many are idle). */
  int idleSessions() {
    return sessions.size();
  }

  /**
   * The session timeout (minutes) of the server behind {@code conn} when it takes retryable writes
   * (the spec: a replica set member or a mongos that reports {@code logicalSessionTimeoutMinutes}),
   * else -1: a standalone server, or one without sessions, retries nothing.
   */
  static long retryableWritesTimeout(MongoConnection conn) {
    Map<?, ?> hs = conn.handshakeReply();
    if (hs == null) {
      return -1;
    }
    Object t = hs.get(SESSION_TIMEOUT);
    boolean replicated = hs.get(SET_NAME) != null || "isdbgrid".equals(hs.get(MSG));
    return t instanceof Number && replicated ? ((Number) t).longValue() : -1;
  }

  /** True when the server's reply that {@code e} carries has the error label {@code label}. */
  static boolean hasLabel(Throwable e, String label) {
    return e instanceof MongoCommandException && ((MongoCommandException) e).hasErrorLabel(label);
  }

  /**
   * Whether a write may be sent again after {@code e} from a server of wire version {@code wire}:
   * a network error (as for reads); a server error labelled RetryableWriteError; from a server
   * before 4.4 (which labels nothing) a command or write concern error with a retryable code.
   * Write errors (a duplicate key, say) never: the server did answer the write.
   */
  static boolean retryableWriteError(Throwable e, int wire) {
    if (e instanceof MongoConnectionException) {
      return retryable(e);
    }
    if (!(e instanceof MongoCommandException)) {
      return false;
    }
    MongoCommandException m = (MongoCommandException) e;
    if (!m.writeErrors().isEmpty()) {
      return false;
    }
    if (hasLabel(e, RETRYABLE_WRITE_ERROR)) {
      return true;
    }
    return wire < WIRE_4_4 && RETRYABLE_WRITE_CODES.contains(m.code());
  }

  /** {@code body} (an ordered map) with {@code kvs} appended, the order kept at any size. */
  static Map<?, ?> withFields(Object body, Object... kvs) {
    Map<?, ?> m = (Map<?, ?>) body;
    Object[] a = new Object[2 * m.size() + kvs.length];
    int i = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      a[i++] = e.getKey();
      a[i++] = e.getValue();
    }
    System.arraycopy(kvs, 0, a, i, kvs.length);
    return new PersistentArrayMap(a);
  }

  /** One write command (one batch) and what its attempts share: the session, the body as sent. */
  private final class Write {
    final Object body;
    final List<OpMsg.Sequence> sequences;
    final boolean java;
    /** The operation may be retried (its shape, the options and its write concern allow it). */
    final boolean mayRetry;
    ConnectionPool heldPool;
    MongoConnection held;
    /** The first attempt's server takes retryable writes: a retry may follow. */
    boolean retrying;
    int wire;
    long timeoutMinutes;
    ServerSessions.Session session;
    Object sent;

    Write(Object body, List<OpMsg.Sequence> sequences, boolean java, boolean mayRetry,
        ConnectionPool heldPool, MongoConnection held) {
      this.body = body;
      this.sequences = sequences;
      this.java = java;
      this.mayRetry = mayRetry;
      this.heldPool = heldPool;
      this.held = held;
    }

    Fut<Object> attempt(int n) {
      if (held != null) {
        MongoConnection c = held;
        held = null;
        return sendOn(heldPool, c, n);
      }
      Fut<Object> r = new Fut<>();
      selectServer().onComplete((pv, e) -> {
        if (e != null) {
          r.fail(n == 0 ? e : new NotRetried("no server for the retry", e));
          return;
        }
        ConnectionPool p = (ConnectionPool) pv;
        p.acquire().onComplete((c, e1) -> {
          if (e1 != null) {
            onFailure(p, e1);
            r.fail(n == 0 ? e1 : new NotRetried("no connection for the retry", e1));
          } else {
            sendOn(p, (MongoConnection) c, n).onComplete(r::complete);
          }
        });
      });
      return r;
    }

    private Fut<Object> sendOn(ConnectionPool p, MongoConnection conn, int n) {
      Object b;
      long t = mayRetry ? retryableWritesTimeout(conn) : -1;
      if (n == 0) {
        retrying = t >= 0;
        if (retrying) {
          timeoutMinutes = t;
          session = sessions.take(t);
          // The number is taken once: the retry carries the same, so the server applies the write once.
          session.txnNumber++;
          sent = withFields(body, LSID, session.lsid, TXN_NUMBER, session.txnNumber);
        } else {
          sent = body;
        }
        b = sent;
      } else if (t < 0) {
        p.release(conn);
        return Fut.failed(new NotRetried(conn.address() + " does not take retryable writes", null));
      } else {
        b = sent;
      }
      Object w = conn.handshakeReply() == null ? null : conn.handshakeReply().get(MAX_WIRE_VERSION);
      wire = w instanceof Number ? ((Number) w).intValue() : 0;
      Fut<Object> r = new Fut<>();
      conn.send(b, sequences, false, java).onComplete((v, e) -> {
        p.release(conn);
        if (e != null) {
          onFailure(p, e);
          if (session != null && e instanceof MongoConnectionException) {
            session.dirty = true;
          }
        }
        r.complete(v, e);
      });
      return r;
    }

    boolean retryable(Throwable e) {
      return retrying && retryableWriteError(e, wire);
    }

    void end() {
      if (held != null) {
        heldPool.release(held);
        held = null;
      }
      if (session != null) {
        sessions.giveBack(session, timeoutMinutes);
      }
    }
  }

  /**
   * Sends the acknowledged write command {@code body} (one batch, its documents in {@code
   * sequences}) to the primary, as a retryable write when {@code mayRetry} (a command the spec
   * lets be retried: no multi-document update or delete), retryWrites is on, its write concern
   * is acknowledged and the server takes retryable writes: with an {@code lsid} and a
   * {@code txnNumber}, sent once more, with the same two, on a server selected again after a
   * network or retryable error. {@code held}, when not null, is a connection of {@code heldPool}
   * the caller acquired for the first attempt; it is released here.
   */
  private Fut<Object> writeCommand(ConnectionPool heldPool, MongoConnection held, Object body,
      List<OpMsg.Sequence> sequences, boolean java, boolean mayRetry) {
    Map<?, ?> m = (Map<?, ?>) body;
    Object wc = m.containsKey(WRITE_CONCERN) ? m.get(WRITE_CONCERN) : m.get("writeConcern");
    Write w = new Write(body, sequences, java, mayRetry && options.retryWrites && !unacknowledged(wc),
        heldPool, held);
    Fut<Object> f;
    try {
      f = withOneRetry(w.mayRetry, "write", w::attempt, w::retryable, true);
    } catch (RuntimeException e) {
      f = Fut.failed(e);
    }
    Fut<Object> r = new Fut<>();
    f.onComplete((v, e) -> {
      w.end();
      if (w.retrying && e instanceof MongoCommandException && ((MongoCommandException) e).code() == 20
          && String.valueOf(((MongoCommandException) e).errorMessage()).startsWith("Transaction numbers")) {
        MongoCommandException c = (MongoCommandException) e;
        // The spec's wording: MMAPv1 and the like reject txnNumber.
        r.fail(new MongoCommandException(c.code(), c.codeName(), "This MongoDB deployment does not support "
            + "retryable writes. Please add retryWrites=false to your connection string.", PersistentVector.EMPTY,
            c.reply()));
      } else {
        r.complete(v, e);
      }
    });
    return r;
  }

  /**
   * Runs the single-command write {@code body} on the primary (see {@link #writeCommand}):
   * {@code mayRetry} when the spec lets it be retried; {@code java}: the reply is an {@code
   * org.bson.Document}. The answer comes back on the calling reactor.
   */
  Fut runWrite(Object body, boolean java, boolean mayRetry) {
    return answerOn(Reactor.current(), writeCommand(null, null, body, List.of(), java, mayRetry));
  }

  /**
   * Selects the primary, acquires one of its connections and hands both to {@code f}, which owns
   * the connection from then on (it must release it); when {@code f} throws it is released here.
   */
  private Fut<Object> withPrimaryConnection(java.util.function.BiFunction<ConnectionPool, MongoConnection, Fut> f) {
    Fut<Object> r = new Fut<>();
    selectServer().onComplete((pv, e0) -> {
      if (e0 != null) {
        r.fail(e0);
        return;
      }
      ConnectionPool p = (ConnectionPool) pv;
      p.acquire().onComplete((c, e) -> {
        if (e != null) {
          onFailure(p, e);
          r.fail(e);
          return;
        }
        Fut inner;
        try {
          inner = f.apply(p, (MongoConnection) c);
        } catch (RuntimeException ex) {
          p.release((MongoConnection) c);
          inner = Fut.failed(ex);
        }
        inner.onComplete(r::complete);
      });
    });
    return r;
  }

  /** {@code f}'s outcome, delivered on {@code caller} (the reactor an operation started on), if any. */
  private static <T> Fut<T> answerOn(Reactor caller, Fut<T> f) {
    if (caller == null) {
      return f;
    }
    Fut<T> r = new Fut<>();
    f.onComplete((v, e) -> {
      if (caller.inReactorThread()) {
        r.complete(v, e);
      } else {
        caller.execute(() -> r.complete(v, e));
      }
    });
    return r;
  }

  /** True when no statement of {@code statements} is a multi-document update or delete. */
  static boolean singleStatements(List<?> statements) {
    for (Object st : statements) {
      if (!singleStatement(st)) {
        return false;
      }
    }
    return true;
  }

  private static boolean singleStatement(Object st) {
    if (!(st instanceof Map)) {
      return true;
    }
    Map<?, ?> m = (Map<?, ?>) st;
    Object multi = m.containsKey(MULTI) ? m.get(MULTI) : m.get("multi");
    Object limit = m.containsKey(LIMIT) ? m.get(LIMIT) : m.get("limit");
    return !Boolean.TRUE.equals(multi) && !(limit instanceof Number && ((Number) limit).longValue() == 0);
  }

  /**
   * Runs the command {@code cmd} (an ordered map, command name first) on database {@code db} and
   * answers a fut of the server's reply.
   *
   * @param db the database's name
   * @param cmd the command, an ordered map whose first key is the command's name
   * @return a fut of the reply, a keyword map; it fails with a
   *   {@link MongoCommandException} on a server error
   */
  public Fut<Object> command(String db, Map<?, ?> cmd) {
    Object body = cmd;
    if (!cmd.containsKey(DB) && !cmd.containsKey("$db")) {
      body = cmd instanceof IPersistentMap ? ((IPersistentMap) cmd).assoc(DB, db) : withDb(cmd, db);
    }
    return run(body);
  }

  private static Object withDb(Map<?, ?> cmd, String db) {
    LinkedHashMap<Object, Object> m = new LinkedHashMap<>(cmd);
    m.put(DB, db);
    return m;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Inserts {@code docs} into {@code ns} ("db.coll"), giving an ObjectId {@code _id} to each that
   * has none, in batches as the server's limits allow, in order (stopping at the first error when
   * {@code ordered}). Answers a fut of the vector of {@code _id}s.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param docs the documents, maps
   * @param ordered true to stop at the first write error, false to try every write
   * @return a fut of the {@code _id}s, in the order of {@code docs}; it fails with a
   *     {@link MongoCommandException} whose write errors say which documents failed
   */
  public Fut<Object> insert(String ns, List<?> docs, boolean ordered) {
    return insert(ns, docs, ordered, null);
  }

  /**
   * {@link #insert(String, List, boolean)} with the write concern {@code writeConcern} (a map such
   * as {@code {:w 1 :j true}}; null: the options'). With {@code {:w 0}} the batches go without
   * waiting for a reply (OP_MSG moreToCome) and the fut answers once they are sent.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param docs the documents, maps
   * @param ordered true to stop at the first write error, false to try every write
   * @param writeConcern a write concern map such as {@code {:w 1 :j true}}; null for the options'
   * @return a fut of the {@code _id}s, in the order of {@code docs}
   */
  public Fut<Object> insert(String ns, List<?> docs, boolean ordered, Object writeConcern) {
    String[] n = splitNs(ns);
    int size = docs.size();
    Object[] ids = new Object[size];
    List<Object> withIds = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      Object doc = addId(docs.get(i));
      ids[i] = idOf(doc);
      withIds.add(doc);
    }
    Object wc = writeConcern(writeConcern);
    Object body = cmd(INSERT, n[1], ORDERED, ordered, WRITE_CONCERN, wc, DB, n[0]);
    return writeBatches(body, "documents", withIds, unacknowledged(wc), true).map(x -> PersistentVector.create(ids));
  }

  /**
   * {@link #insert(String, List, boolean)}, ordered.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param docs the documents, maps
   * @return a fut of the {@code _id}s, in the order of {@code docs}
   */
  public Fut<Object> insert(String ns, List<?> docs) {
    return insert(ns, docs, true);
  }

  private static Object idOf(Object doc) {
    Map<?, ?> m = (Map<?, ?>) doc;
    return m.get(m.containsKey(ID) ? ID : "_id");
  }

  /**
   * {@code doc} with an {@code _id} (a new ObjectId first) when it has none.
   *
   * @param doc a document, a map
   * @return {@code doc} itself when it has an {@code _id}, else a copy with one
   */
  public static Object addId(Object doc) {
    if (!(doc instanceof Map)) {
      throw new IllegalArgumentException("a document must be a map, not "
          + (doc == null ? "nil" : doc.getClass().getName()));
    }
    Map<?, ?> m = (Map<?, ?>) doc;
    if (m.containsKey(ID) || m.containsKey("_id")) {
      return doc;
    }
    if (doc instanceof IPersistentMap && m.size() < 8) {
      Object[] kvs = new Object[2 + 2 * m.size()];
      kvs[0] = ID;
      kvs[1] = new ObjectId();
      int i = 2;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        kvs[i++] = e.getKey();
        kvs[i++] = e.getValue();
      }
      return new PersistentArrayMap(kvs);
    }
    if (doc instanceof IPersistentMap) {
      return ((IPersistentMap) doc).assoc(ID, new ObjectId());
    }
    LinkedHashMap<Object, Object> copy = new LinkedHashMap<>();
    copy.put(ID, new ObjectId());
    copy.putAll(m);
    return copy;
  }

  /**
   * Updates documents of {@code ns} matching {@code filter} with {@code update} (operators such as
   * {@code $set}, or a whole replacement document), inserting one when nothing matches and
   * {@code upsert}, every match when {@code multi} (else the first). Answers a fut of the server's
   * reply ({@code :n} matched, {@code :nModified}, {@code :upserted}).
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param update update operators (a map such as {@code {:$set {:a 1}}}) or a replacement document
   * @param upsert true to insert a document when nothing matches
   * @param multi true to update every match, false for the first only
   * @return a fut of the server's reply, a keyword map
   */
  public Fut<Object> update(String ns, Object filter, Object update, boolean upsert, boolean multi) {
    return update(ns, filter, update, upsert, multi, null);
  }

  /**
   * {@link #update(String, Object, Object, boolean, boolean)} with a write concern (as {@link #insert(String, List, boolean, Object)}).
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param update update operators or a replacement document
   * @param upsert true to insert a document when nothing matches
   * @param multi true to update every match, false for the first only
   * @param writeConcern a write concern map such as {@code {:w 1 :j true}}; null for the options'
   * @return a fut of the server's reply, or {@link #UNACKNOWLEDGED} with {@code w: 0}
   */
  public Fut<Object> update(String ns, Object filter, Object update, boolean upsert, boolean multi, Object writeConcern) {
    return bulkUpdate(ns, List.of(cmd(Q, filter, U, update, UPSERT, upsert, MULTI, multi)), true, writeConcern);
  }

  /**
   * Sends update statements ({@code {:q filter :u update :upsert b :multi b}} maps) as one
   * command per batch; answers a fut of the summed reply ({@code :n}, {@code :nModified}).
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param statements the update statements, maps
   * @param ordered true to stop at the first write error, false to try every write
   * @return a fut of the summed reply, a keyword map
   */
  public Fut<Object> bulkUpdate(String ns, List<?> statements, boolean ordered) {
    return bulkUpdate(ns, statements, ordered, null);
  }

  /**
   * {@link #bulkUpdate(String, List, boolean)} with a write concern.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param statements the update statements, maps
   * @param ordered true to stop at the first write error, false to try every write
   * @param writeConcern a write concern map such as {@code {:w 1 :j true}}; null for the options'
   * @return a fut of the summed reply
   */
  public Fut<Object> bulkUpdate(String ns, List<?> statements, boolean ordered, Object writeConcern) {
    String[] n = splitNs(ns);
    Object wc = writeConcern(writeConcern);
    return writeBatches(cmd(UPDATE, n[1], ORDERED, ordered, WRITE_CONCERN, wc, DB, n[0]),
        "updates", statements, unacknowledged(wc), singleStatements(statements));
  }

  /**
   * Deletes the documents of {@code ns} matching {@code filter}: only the first when {@code
   * single}. Answers a fut of the server's reply ({@code :n} deleted).
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param single true to delete the first match only
   * @return a fut of the server's reply, a keyword map
   */
  public Fut<Object> delete(String ns, Object filter, boolean single) {
    return delete(ns, filter, single, null);
  }

  /**
   * {@link #delete(String, Object, boolean)} with a write concern.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param single true to delete the first match only
   * @param writeConcern a write concern map such as {@code {:w 1 :j true}}; null for the options'
   * @return a fut of the server's reply, or {@link #UNACKNOWLEDGED} with {@code w: 0}
   */
  public Fut<Object> delete(String ns, Object filter, boolean single, Object writeConcern) {
    return bulkDelete(ns, List.of(cmd(Q, filter, LIMIT, single ? 1 : 0)), true, writeConcern);
  }

  /**
   * Sends delete statements ({@code {:q filter :limit 0|1}} maps); answers a fut of the summed reply.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param statements the delete statements, maps
   * @param ordered true to stop at the first write error, false to try every write
   * @return a fut of the summed reply ({@code :n} deleted)
   */
  public Fut<Object> bulkDelete(String ns, List<?> statements, boolean ordered) {
    return bulkDelete(ns, statements, ordered, null);
  }

  /**
   * {@link #bulkDelete(String, List, boolean)} with a write concern.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param statements the delete statements, maps
   * @param ordered true to stop at the first write error, false to try every write
   * @param writeConcern a write concern map such as {@code {:w 1 :j true}}; null for the options'
   * @return a fut of the summed reply
   */
  public Fut<Object> bulkDelete(String ns, List<?> statements, boolean ordered, Object writeConcern) {
    String[] n = splitNs(ns);
    Object wc = writeConcern(writeConcern);
    return writeBatches(cmd(DELETE, n[1], ORDERED, ordered, WRITE_CONCERN, wc, DB, n[0]),
        "deletes", statements, unacknowledged(wc), singleStatements(statements));
  }

  /** The reply an unacknowledged ({@code w: 0}) write answers. */
  public static final Map<?, ?> UNACKNOWLEDGED = cmd(k("acknowledged"), Boolean.FALSE);

  private Object writeConcern(Object perOperation) {
    return perOperation != null ? perOperation : options.writeConcern;
  }

  /** True for a write concern of {@code w: 0} (without {@code j: true}): nobody waits for a reply. */
  static boolean unacknowledged(Object wc) {
    if (!(wc instanceof Map)) {
      return false;
    }
    Map<?, ?> m = (Map<?, ?>) wc;
    Object w = m.containsKey(W) ? m.get(W) : m.get("w");
    Object j = m.containsKey(J) ? m.get(J) : m.get("j");
    return w instanceof Number && ((Number) w).intValue() == 0 && !Boolean.TRUE.equals(j);
  }

  private static final Keyword W = k("w");
  private static final Keyword J = k("j");

  /**
   * Sends {@code docs} as the kind-1 sequence {@code identifier} of {@code body}, in as many
   * batches as the server's limits ask. Unacknowledged ({@code noReply}): every batch on one
   * connection, in order, never retried. Acknowledged: each batch is a write of its own ({@link
   * #writeCommand}), retried when {@code mayRetry}.
   */
  private Fut writeBatches(Object body, String identifier, List<?> docs, boolean noReply, boolean mayRetry) {
    if (docs.isEmpty()) {
      return Fut.failed(new IllegalArgumentException("nothing to write"));
    }
    if (noReply) {
      return withConnection(conn -> {
        List<List<byte[]>> batches = OpMsg.splitBatches(docs, conn.maxWriteBatchSize(),
            conn.maxMessageSizeBytes(), conn.maxBsonObjectSize());
        return sendBatches(conn, body, identifier, batches, 0);
      });
    }
    return answerOn(Reactor.current(), withPrimaryConnection((p, conn) -> {
      List<List<byte[]>> batches = OpMsg.splitBatches(docs, conn.maxWriteBatchSize(),
          conn.maxMessageSizeBytes(), conn.maxBsonObjectSize());
      return writeEach(p, conn, body, identifier, batches, 0, null, mayRetry);
    }));
  }

  /** Batch {@code i} and those after it, each its own write; the first on {@code conn} (when not null). */
  private Fut writeEach(ConnectionPool p, MongoConnection conn, Object body, String identifier,
      List<List<byte[]>> batches, int i, Object previous, boolean mayRetry) {
    return writeCommand(p, conn, body, List.of(new OpMsg.Sequence(identifier, batches.get(i))), false, mayRetry)
        .then(reply -> {
          Object sum = previous == null ? reply : addCounts((IPersistentMap) previous, (Map<?, ?>) reply);
          return i + 1 < batches.size() ? writeEach(null, null, body, identifier, batches, i + 1, sum, mayRetry)
              : Fut.of(sum);
        });
  }

  /** Unacknowledged batches, one after the other on {@code conn}: they reach the server in order. */
  private static Fut sendBatches(MongoConnection conn, Object body, String identifier, List<List<byte[]>> batches,
      int i) {
    return conn.send(body, List.of(new OpMsg.Sequence(identifier, batches.get(i))), true).then(r ->
        i + 1 < batches.size() ? sendBatches(conn, body, identifier, batches, i + 1) : Fut.of(UNACKNOWLEDGED));
  }

  private static final Keyword N_MODIFIED = k("nModified");

  private static Object addCounts(IPersistentMap sum, Map<?, ?> reply) {
    for (Keyword f : new Keyword[] {N, N_MODIFIED}) {
      if (reply.get(f) instanceof Number) {
        Object old = sum.valAt(f);
        long a = old instanceof Number ? ((Number) old).longValue() : 0;
        sum = sum.assoc(f, a + ((Number) reply.get(f)).longValue());
      }
    }
    return sum;
  }

  // ---------------------------------------------------------------- bulk writes

  private static final Keyword N_INSERTED = k("nInserted");
  private static final Keyword N_MATCHED = k("nMatched");
  private static final Keyword N_REMOVED = k("nRemoved");
  private static final Keyword N_UPSERTED = k("nUpserted");
  private static final Keyword UPSERTED = k("upserted");
  private static final Keyword INSERTED_IDS = k("insertedIds");
  private static final Keyword WRITE_ERRORS = k("writeErrors");
  private static final Keyword WRITE_CONCERN_ERROR = k("writeConcernError");
  private static final Keyword INDEX = k("index");
  private static final Keyword OK = k("ok");

  /** One command's worth of a bulk write: operations of one kind, the first at {@code base} in the caller's list. */
  private static final class Batch {
    final BulkOp.Kind kind;
    final int base;
    final List<byte[]> docs;

    Batch(BulkOp.Kind kind, int base, List<byte[]> docs) {
      this.kind = kind;
      this.base = base;
      this.docs = docs;
    }
  }

  /** What a bulk write has done so far. */
  private static final class BulkResult {
    long inserted;
    long matched;
    long modified;
    long removed;
    final List<Object> upserted = new ArrayList<>();
    final List<Object> writeErrors = new ArrayList<>();
    Object writeConcernError;
  }

  /**
   * Runs {@code ops} against {@code ns}: consecutive operations of one kind go as one {@code
   * insert}, {@code update} or {@code delete} command (in batches as the server allows, documents
   * as kind-1 sequences). {@code ordered}: stops at the first write error (later operations are
   * not sent); else sends every batch and gathers the errors. Answers a fut of {@code {:nInserted
   * :nMatched :nModified :nRemoved :nUpserted :upserted [{:index :_id}] :insertedIds {index id}}};
   * with write errors it fails with a {@link MongoCommandException} whose write errors carry
   * {@code :index} in {@code ops} and whose {@code response()} is that result (with {@code
   * :writeErrors}). With {@code w: 0} it answers {@link #UNACKNOWLEDGED} once everything is sent.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param ops the writes, in order
   * @param ordered true to stop at the first write error, false to try every write
   * @param writeConcern a write concern map such as {@code {:w 1 :j true}}; null for the options'
   * @return a fut of the result, a keyword map
   */
  public Fut<Object> bulkWrite(String ns, List<BulkOp> ops, boolean ordered, Object writeConcern) {
    if (ops.isEmpty()) {
      return Fut.failed(new IllegalArgumentException("nothing to write"));
    }
    String[] n = splitNs(ns);
    Object wc = writeConcern(writeConcern);
    boolean noReply = unacknowledged(wc);
    List<Object> statements = new ArrayList<>(ops.size());
    Map<Object, Object> insertedIds = new LinkedHashMap<>();
    for (int i = 0; i < ops.size(); i++) {
      BulkOp op = ops.get(i);
      Object st = op.statement;
      if (op.kind == BulkOp.Kind.INSERT) {
        st = addId(st);
        insertedIds.put((long) i, idOf(st));
      }
      statements.add(st);
    }
    boolean mayRetry = true;
    for (BulkOp op : ops) {
      mayRetry &= op.kind == BulkOp.Kind.INSERT || singleStatement(op.statement);
    }
    boolean retry = mayRetry;
    java.util.function.Function<MongoConnection, List<Batch>> split = conn -> {
      List<Batch> batches = new ArrayList<>();
      int start = 0;
      while (start < ops.size()) {
        BulkOp.Kind kind = ops.get(start).kind;
        int end = start;
        while (end < ops.size() && ops.get(end).kind == kind) {
          end++;
        }
        int base = start;
        for (List<byte[]> b : OpMsg.splitBatches(statements.subList(start, end), conn.maxWriteBatchSize(),
            conn.maxMessageSizeBytes(), conn.maxBsonObjectSize())) {
          batches.add(new Batch(kind, base, b));
          base += b.size();
        }
        start = end;
      }
      return batches;
    };
    BulkResult acc = new BulkResult();
    Fut sent = noReply
        ? withConnection(conn -> sendBulk(null, conn, n, wc, ordered, true, false, split.apply(conn), 0, acc))
        : answerOn(Reactor.current(), withPrimaryConnection((p, conn) ->
            sendBulk(p, conn, n, wc, ordered, false, retry, split.apply(conn), 0, acc)));
    return sent.map(x -> {
      if (noReply) {
        return UNACKNOWLEDGED;
      }
      for (Object e : acc.writeErrors) {
        insertedIds.remove(((Map<?, ?>) e).get(INDEX));
      }
      if (ordered && !acc.writeErrors.isEmpty()) {
        // Nothing after the first error was written.
        long first = ((Number) ((Map<?, ?>) acc.writeErrors.get(0)).get(INDEX)).longValue();
        insertedIds.keySet().removeIf(idx -> (Long) idx > first);
      }
      IPersistentMap result = (IPersistentMap) cmd(N_INSERTED, acc.inserted, N_MATCHED, acc.matched,
          N_MODIFIED, acc.modified, N_REMOVED, acc.removed, N_UPSERTED, (long) acc.upserted.size(),
          UPSERTED, PersistentVector.create(acc.upserted),
          INSERTED_IDS, PersistentArrayMap.create(insertedIds));
      if (acc.writeErrors.isEmpty() && acc.writeConcernError == null) {
        return result;
      }
      PersistentVector errors = PersistentVector.create(acc.writeErrors);
      result = result.assoc(WRITE_ERRORS, errors).assoc(OK, 1.0);
      if (acc.writeConcernError != null) {
        result = result.assoc(WRITE_CONCERN_ERROR, acc.writeConcernError);
      }
      throw MongoCommandException.fromReply(result);
    });
  }

  /**
   * {@link #bulkWrite(String, List, boolean, Object)} with the options' write concern.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param ops the writes, in order
   * @param ordered true to stop at the first write error, false to try every write
   * @return a fut of the result, a keyword map
   */
  public Fut<Object> bulkWrite(String ns, List<BulkOp> ops, boolean ordered) {
    return bulkWrite(ns, ops, ordered, null);
  }

  /**
   * Sends batch {@code i} and those after it. Unacknowledged: all on {@code conn}. Else each is a
   * write of its own ({@link #writeCommand}, retried when {@code mayRetry}), the first on {@code
   * conn} of {@code p}.
   */
  private Fut sendBulk(ConnectionPool p, MongoConnection conn, String[] n, Object wc, boolean ordered,
      boolean noReply, boolean mayRetry, List<Batch> batches, int i, BulkResult acc) {
    if (i == batches.size()) {
      return Fut.of(acc);
    }
    Batch b = batches.get(i);
    Object body = cmd(k(b.kind.command), n[1], ORDERED, ordered, WRITE_CONCERN, wc, DB, n[0]);
    List<OpMsg.Sequence> docs = List.of(new OpMsg.Sequence(b.kind.identifier, b.docs));
    Fut<Object> sent = noReply ? conn.send(body, docs, true)
        : writeCommand(i == 0 ? p : null, i == 0 ? conn : null, body, docs, false, mayRetry);
    Fut reply = noReply ? sent : sent.recover(e -> {
      // A reply with ok: 1 and write errors is an answer to count, not a failure of the command.
      if (e instanceof MongoCommandException) {
        Map<?, ?> r = ((MongoCommandException) e).reply();
        if (r != null && r.get(OK) instanceof Number && ((Number) r.get(OK)).doubleValue() == 1.0) {
          return r;
        }
      }
      throw sneaky(e);
    });
    return reply.then(r -> {
      if (noReply) {
        return sendBulk(p, conn, n, wc, ordered, true, false, batches, i + 1, acc);
      }
      Map<?, ?> m = (Map<?, ?>) r;
      long count = m.get(N) instanceof Number ? ((Number) m.get(N)).longValue() : 0;
      Object ups = m.get(UPSERTED);
      long upserts = ups instanceof List ? ((List<?>) ups).size() : 0;
      Object we = m.get(WRITE_ERRORS);
      int errors = we instanceof List ? ((List<?>) we).size() : 0;
      switch (b.kind) {
        case INSERT:
          if (errors > 0) {
            // Some servers (mongo-java-server) count the documents sent, not the ones inserted.
            Object first = ((Map<?, ?>) ((List<?>) we).get(0)).get(INDEX);
            long done = ordered && first instanceof Number ? ((Number) first).longValue() : b.docs.size() - errors;
            count = Math.min(count, done);
          }
          acc.inserted += count;
          break;
        case UPDATE:
          acc.matched += count - upserts;
          acc.modified += m.get(N_MODIFIED) instanceof Number ? ((Number) m.get(N_MODIFIED)).longValue() : 0;
          break;
        default:
          acc.removed += count;
      }
      if (ups instanceof List) {
        for (Object u : (List<?>) ups) {
          acc.upserted.add(reindex(u, b.base));
        }
      }
      boolean failed = false;
      if (we instanceof List) {
        for (Object e : (List<?>) we) {
          acc.writeErrors.add(reindex(e, b.base));
          failed = true;
        }
      }
      if (m.get(WRITE_CONCERN_ERROR) != null) {
        acc.writeConcernError = m.get(WRITE_CONCERN_ERROR);
      }
      if (failed && ordered) {
        return acc;
      }
      return sendBulk(p, conn, n, wc, ordered, false, mayRetry, batches, i + 1, acc);
    });
  }

  /** {@code m} (a map with {@code :index} within its batch) with the index in the caller's list. */
  private static Object reindex(Object m, int base) {
    if (!(m instanceof Map)) {
      return m;
    }
    Map<?, ?> e = (Map<?, ?>) m;
    long idx = e.get(INDEX) instanceof Number ? ((Number) e.get(INDEX)).longValue() : 0;
    IPersistentMap im = e instanceof IPersistentMap ? (IPersistentMap) e : PersistentArrayMap.create(e);
    return im.assoc(INDEX, base + idx);
  }

  // ---------------------------------------------------------------- reads

  Object findBody(String[] n, Object filter, FindOptions o, boolean single) {
    return cmd(FIND, n[1], FILTER, filter == null ? PersistentArrayMap.EMPTY : filter,
        PROJECTION, o.projection, SORT, o.sort, SKIP, o.skip > 0 ? o.skip : null,
        LIMIT, o.limit > 0 ? o.limit : null, BATCH_SIZE, o.batchSize > 0 ? o.batchSize : null,
        SINGLE_BATCH, single ? Boolean.TRUE : null, DB, n[0]);
  }

  /**
   * Answers a fut of the vector of every document of {@code ns} matching {@code filter}, read
   * where {@code o.readPreference} (else the client's) allows.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param o projection, sort, skip, limit, batch size and read preference
   * @return a fut of the documents, a vector of keyword maps
   */
  public Fut<Object> find(String ns, Object filter, FindOptions o) {
    String[] n = splitNs(ns);
    FindOptions opts = o == null ? new FindOptions() : o;
    return drainCursor(n[0], findBody(n, filter, opts, false), opts.limit, opts.batchSize, opts.readPreference);
  }

  /**
   * Answers a fut of the first document of {@code ns} matching {@code filter}, or of null.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param projection the fields to return (a map such as {@code {:name 1}}), or null for all
   * @return a fut of the document, a keyword map, or of null when none matches
   */
  public Fut<Object> findOne(String ns, Object filter, Object projection) {
    return findOne(ns, filter, projection, null);
  }

  /**
   * {@link #findOne(String, Object, Object)} read where {@code rp} (null: the client's default) allows.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param projection the fields to return, or null for all
   * @param rp where the read may go; null for the client's default
   * @return a fut of the document, or of null
   */
  public Fut<Object> findOne(String ns, Object filter, Object projection, ReadPreference rp) {
    String[] n = splitNs(ns);
    FindOptions o = new FindOptions().projection(projection).limit(1).batchSize(1);
    return read(findBody(n, filter, o, true), rp).map(r -> {
      List<?> batch = batch((Map<?, ?>) r);
      return batch.isEmpty() ? null : batch.get(0);
    });
  }

  /**
   * Answers a fut of a {@link Stream} of the documents of {@code ns} matching {@code filter},
   * delivered once the first batch is in. The next batch is asked for ({@code getMore}, on the
   * same server) only once the consumer has taken enough for the stream's buffer (one batch) to
   * have room: a slow consumer means no further requests. Cancelling the stream ({@link
   * Stream#cancel()}) kills the server's cursor.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map ({@code {}} matches every document)
   * @param o projection, sort, skip, limit, batch size (the stream's buffer) and read preference
   * @return a fut of the stream of documents, keyword maps
   */
  public Fut<Stream<Object>> findStream(String ns, Object filter, FindOptions o) {
    String[] n = splitNs(ns);
    FindOptions opts = o == null ? new FindOptions() : o;
    return cursorStream(n[0], findBody(n, filter, opts, false), opts.limit, opts.batchSize, opts.readPreference);
  }

  /**
   * Answers a fut of the number of documents of {@code ns} matching {@code filter}.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map; null or {@code {}} matches every document
   * @return a fut of the count, a Long
   */
  public Fut<Object> count(String ns, Object filter) {
    return count(ns, filter, null);
  }

  /**
   * {@link #count(String, Object)} read where {@code rp} (null: the client's default) allows.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param filter the query, a map; null or {@code {}} matches every document
   * @param rp where the read may go; null for the client's default
   * @return a fut of the count, a Long
   */
  public Fut<Object> count(String ns, Object filter, ReadPreference rp) {
    String[] n = splitNs(ns);
    return read(cmd(COUNT, n[1], QUERY, filter == null ? PersistentArrayMap.EMPTY : filter, DB, n[0]), rp)
        .map(r -> ((Number) ((Map<?, ?>) r).get(N)).longValue());
  }

  /**
   * Answers a fut of the vector of distinct values of {@code key} among documents matching {@code filter}.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param key the field, dotted for a nested one ({@code "address.city"})
   * @param filter the query, a map; null or {@code {}} matches every document
   * @return a fut of the values, a vector
   */
  public Fut<Object> distinct(String ns, String key, Object filter) {
    return distinct(ns, key, filter, null);
  }

  /**
   * {@link #distinct(String, String, Object)} read where {@code rp} (null: the client's default) allows.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param key the field, dotted for a nested one
   * @param filter the query, a map; null or {@code {}} matches every document
   * @param rp where the read may go; null for the client's default
   * @return a fut of the values, a vector
   */
  public Fut<Object> distinct(String ns, String key, Object filter, ReadPreference rp) {
    String[] n = splitNs(ns);
    return read(cmd(DISTINCT, n[1], KEY, key, QUERY, filter == null ? PersistentArrayMap.EMPTY : filter, DB, n[0]), rp)
        .map(r -> ((Map<?, ?>) r).get(VALUES));
  }

  /**
   * Answers a fut of the vector of every document the aggregation {@code pipeline} yields.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param pipeline the stages, maps such as {@code {:$match {:a 1}}}
   * @param batchSize documents per batch the server sends, 0 for its default
   * @return a fut of the documents, a vector of keyword maps
   */
  public Fut<Object> aggregate(String ns, List<?> pipeline, int batchSize) {
    return aggregate(ns, pipeline, batchSize, null);
  }

  /**
   * {@link #aggregate(String, List, int)} read where {@code rp} (null: the client's default)
   * allows; a pipeline ending in {@code $out} or {@code $merge} writes, so it goes to the primary.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param pipeline the stages, maps
   * @param batchSize documents per batch the server sends, 0 for its default
   * @param rp where the read may go; null for the client's default
   * @return a fut of the documents, a vector of keyword maps
   */
  public Fut<Object> aggregate(String ns, List<?> pipeline, int batchSize, ReadPreference rp) {
    String[] n = splitNs(ns);
    return drainCursor(n[0], aggregateBody(n, pipeline, batchSize), 0, batchSize, aggregatePreference(pipeline, rp));
  }

  /**
   * Answers a fut of a {@link Stream} of the aggregation's documents (as {@link #findStream}).
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param pipeline the stages, maps
   * @param batchSize documents per batch, and the stream's buffer; 0 for the server's default
   * @return a fut of the stream of documents, keyword maps
   */
  public Fut<Stream<Object>> aggregateStream(String ns, List<?> pipeline, int batchSize) {
    return aggregateStream(ns, pipeline, batchSize, null);
  }

  /**
   * {@link #aggregateStream(String, List, int)} read where {@code rp} allows (as {@link #aggregate(String, List, int, ReadPreference)}).
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param pipeline the stages, maps
   * @param batchSize documents per batch, and the stream's buffer; 0 for the server's default
   * @param rp where the read may go; null for the client's default
   * @return a fut of the stream of documents, keyword maps
   */
  public Fut<Stream<Object>> aggregateStream(String ns, List<?> pipeline, int batchSize, ReadPreference rp) {
    String[] n = splitNs(ns);
    return cursorStream(n[0], aggregateBody(n, pipeline, batchSize), 0, batchSize, aggregatePreference(pipeline, rp));
  }

  private static final Keyword OUT = k("$out");
  private static final Keyword MERGE = k("$merge");

  ReadPreference aggregatePreference(List<?> pipeline, ReadPreference rp) {
    if (!pipeline.isEmpty() && pipeline.get(pipeline.size() - 1) instanceof Map) {
      Map<?, ?> last = (Map<?, ?>) pipeline.get(pipeline.size() - 1);
      if (last.containsKey(OUT) || last.containsKey(MERGE) || last.containsKey("$out") || last.containsKey("$merge")) {
        return ReadPreference.PRIMARY;
      }
    }
    return rp == null ? options.readPreference : rp;
  }

  static Object aggregateBody(String[] n, List<?> pipeline, int batchSize) {
    return cmd(AGGREGATE, n[1], PIPELINE, pipeline,
        CURSOR, batchSize > 0 ? cmd(BATCH_SIZE, batchSize) : PersistentArrayMap.EMPTY, DB, n[0]);
  }

  /**
   * Runs {@code findAndModify} on {@code ns}; {@code args} holds its fields ({@code :query},
   * {@code :sort}, {@code :update} or {@code :remove}, {@code :new}, {@code :fields},
   * {@code :upsert}, {@code :writeConcern} to override the options'). Answers a fut of the
   * document (before the change unless {@code :new}), or of null.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param args the command's fields, a keyword map
   * @return a fut of the document, a keyword map, or of null when none matched
   */
  public Fut<Object> findAndModify(String ns, Map<?, ?> args) {
    String[] n = splitNs(ns);
    List<Object> kvs = new ArrayList<>();
    kvs.add(FIND_AND_MODIFY);
    kvs.add(n[1]);
    for (Map.Entry<?, ?> e : args.entrySet()) {
      kvs.add(e.getKey());
      kvs.add(e.getValue());
    }
    if (!args.containsKey(WRITE_CONCERN) && !args.containsKey("writeConcern")) {
      kvs.add(WRITE_CONCERN);
      kvs.add(options.writeConcern);
    }
    kvs.add(DB);
    kvs.add(n[0]);
    return runWrite(cmd(kvs.toArray()), false, true).map(r -> ((Map<?, ?>) r).get(VALUE));
  }

  /**
   * Creates an index on {@code keys} (an ordered map such as {@code {:email 1}}), unique if asked;
   * {@code name} null makes one from the keys. Answers a fut of the server's reply.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @param keys the indexed fields and their directions, an ordered map
   * @param unique true for a unique index (a duplicate then fails a write with code 11000)
   * @param name the index's name, or null for the server's usual one ({@code email_1})
   * @return a fut of the server's reply, a keyword map
   */
  public Fut<Object> createIndex(String ns, Map<?, ?> keys, boolean unique, String name) {
    String[] n = splitNs(ns);
    String nm = name;
    if (nm == null) {
      StringBuilder sb = new StringBuilder();
      for (Map.Entry<?, ?> e : keys.entrySet()) {
        Object key = e.getKey();
        sb.append(sb.length() == 0 ? "" : "_").append(key instanceof Keyword ? ((Keyword) key).getName() : key)
            .append('_').append(e.getValue());
      }
      nm = sb.toString();
    }
    Object index = cmd(KEY, keys, NAME, nm, UNIQUE, unique ? Boolean.TRUE : null);
    return run(cmd(CREATE_INDEXES, n[1], INDEXES, PersistentVector.create(index), DB, n[0]));
  }

  /**
   * Drops the collection {@code ns}; answers a fut of true, or false when there was none.
   *
   * @param ns the namespace, {@code "db.collection"}
   * @return a fut of true when the collection was dropped, false when there was none
   */
  public Fut<Boolean> drop(String ns) {
    String[] n = splitNs(ns);
    return ((Fut<?>) run(cmd(DROP, n[1], DB, n[0]))).map(r -> Boolean.TRUE).recover(e -> {
      if (e instanceof MongoCommandException && ((MongoCommandException) e).code() == NAMESPACE_NOT_FOUND
          || e instanceof MongoCommandException && String.valueOf(((MongoCommandException) e).errorMessage())
              .contains("ns not found")) {
        return Boolean.FALSE;
      }
      throw sneaky(e);
    });
  }

  /**
   * Answers a fut of the vector of the collections of database {@code db} (maps with {@code :name}).
   *
   * @param db the database's name
   * @return a fut of the collections' descriptions, keyword maps
   */
  public Fut<Object> listCollections(String db) {
    return drainCursor(db, cmd(LIST_COLLECTIONS, 1, CURSOR, PersistentArrayMap.EMPTY, DB, db), 0, 0,
        ReadPreference.PRIMARY);
  }

  // ---------------------------------------------------------------- cursors

  private static Map<?, ?> cursorOf(Map<?, ?> reply) {
    Object c = MongoCommandException.field(reply, CURSOR);
    if (!(c instanceof Map)) {
      throw new MongoProtocolException("reply has no cursor");
    }
    return (Map<?, ?>) c;
  }

  static List<?> batch(Map<?, ?> reply) {
    Map<?, ?> c = cursorOf(reply);
    Object b = MongoCommandException.field(c, FIRST_BATCH);
    if (b == null) {
      b = MongoCommandException.field(c, NEXT_BATCH);
    }
    return b instanceof List ? (List<?>) b : PersistentVector.EMPTY;
  }

  static long cursorId(Map<?, ?> reply) {
    Object id = MongoCommandException.field(cursorOf(reply), CURSOR_ID);
    return id instanceof Number ? ((Number) id).longValue() : 0;
  }

  /** The collection to name in getMore: from the cursor's "db.coll" namespace. */
  static String cursorCollection(Map<?, ?> reply, String fallback) {
    Object ns = MongoCommandException.field(cursorOf(reply), NS);
    if (ns instanceof String) {
      int dot = ((String) ns).indexOf('.');
      if (dot > 0) {
        return ((String) ns).substring(dot + 1);
      }
    }
    return fallback;
  }

  Object getMoreBody(String db, String coll, long id, int batchSize) {
    return cmd(GET_MORE, id, COLLECTION, coll, BATCH_SIZE, batchSize > 0 ? batchSize : null, DB, db);
  }

  void killCursor(ConnectionPool p, String db, String coll, long id) {
    runOn(p, cmd(KILL_CURSORS, coll, CURSORS, PersistentVector.create(id), DB, db), null).onComplete((v, e) -> {
      if (e != null) {
        log.debug("killCursors {} failed: {}", id, e.toString());
      }
    });
  }

  private Fut drainCursor(String db, Object body, int limit, int batchSize, ReadPreference rp) {
    return drainCursor(db, body, limit, batchSize, rp, false);
  }

  /**
   * A fut of the vector of every document the cursor that {@code body} opens yields (the first
   * {@code limit}, when positive); {@code java}: the documents are {@code org.bson.Document}s.
   */
  Fut drainCursor(String db, Object body, int limit, int batchSize, ReadPreference rp, boolean java) {
    ReadPreference pref = rp == null ? options.readPreference : rp;
    ConnectionPool[] used = new ConnectionPool[1];
    return readFirst(body, pref, used, java).then(r -> {
      Map<?, ?> reply = (Map<?, ?>) r;
      String coll = cursorCollection(reply, null);
      return drain(used[0], db, coll, reply, PersistentVector.EMPTY.asTransient(), 0, limit, batchSize, java);
    });
  }

  private Fut drain(ConnectionPool p, String db, String coll, Map<?, ?> reply, ITransientCollection acc,
      int count, int limit, int batchSize, boolean java) {
    int got = count;
    for (Object d : batch(reply)) {
      if (limit > 0 && got >= limit) {
        break;
      }
      acc = acc.conj(d);
      got++;
    }
    long id = cursorId(reply);
    if (id == 0 || limit > 0 && got >= limit) {
      if (id != 0) {
        killCursor(p, db, coll, id);
      }
      return Fut.of(acc.persistent());
    }
    ITransientCollection a = acc;
    int g = got;
    int next = limit > 0 ? (batchSize > 0 ? Math.min(batchSize, limit - got) : limit - got) : batchSize;
    return runOn(p, getMoreBody(db, coll, id, next), null, java)
        .then(r -> drain(p, db, coll, (Map<?, ?>) r, a, g, limit, batchSize, java));
  }

  private Fut cursorStream(String db, Object body, int limit, int batchSize, ReadPreference rp) {
    return cursorStream(db, body, limit, batchSize, rp, false);
  }

  /** A fut of a stream of the cursor's documents; {@code java}: {@code org.bson.Document}s. */
  Fut cursorStream(String db, Object body, int limit, int batchSize, ReadPreference rp, boolean java) {
    ReadPreference pref = rp == null ? options.readPreference : rp;
    ConnectionPool[] used = new ConnectionPool[1];
    return readFirst(body, pref, used, java).map(r -> {
      Map<?, ?> reply = (Map<?, ?>) r;
      Cursor c = new Cursor(this, used[0], db, cursorCollection(reply, null), limit, batchSize, java);
      c.onBatch(reply);
      return c.stream;
    });
  }

  // ---------------------------------------------------------------- helpers

  /** "db.coll" split at the first dot; a name without one is in the options' database. */
  String[] splitNs(String ns) {
    int dot = ns.indexOf('.');
    if (dot < 0) {
      return new String[] {options.database, ns};
    }
    if (dot == 0 || dot == ns.length() - 1) {
      throw new IllegalArgumentException("bad collection name \"" + ns + "\": use \"db.collection\"");
    }
    return new String[] {ns.substring(0, dot), ns.substring(dot + 1)};
  }

  /** An ordered map of the pairs in {@code kvs} whose value is not null. */
  static Map<?, ?> cmd(Object... kvs) {
    int nulls = 0;
    for (int i = 1; i < kvs.length; i += 2) {
      if (kvs[i] == null) {
        nulls++;
      }
    }
    if (nulls == 0) {
      return new PersistentArrayMap(kvs);
    }
    Object[] a = new Object[kvs.length - 2 * nulls];
    int j = 0;
    for (int i = 0; i < kvs.length; i += 2) {
      if (kvs[i + 1] != null) {
        a[j++] = kvs[i];
        a[j++] = kvs[i + 1];
      }
    }
    return new PersistentArrayMap(a);
  }

  @SuppressWarnings("unchecked")
  static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }

  /** Closes every pool: idle connections now, busy ones once their request is answered. */
  @Override
  public void close() {
    closed = true;
    for (ConnectionPool p : pools.values()) {
      p.close();
    }
  }
}
