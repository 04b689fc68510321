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
 * <p>Collections are named {@code "db.collection"} (a name without a dot is in the options'
 * database). Documents and filters are Clojure maps (see {@link BsonCodec}); commands are built
 * as ordered maps. Requests go over OP_MSG on the client's reactors, through a pool of
 * connections per server ({@link ConnectionPool}), one request in flight per connection.
 *
 * <p>With one host the client talks to it. With several hosts or a replica set name it finds the
 * primary from the servers' {@code hello}/{@code isMaster} replies, sends every operation there,
 * and finds it again after a "not primary" error or a connection error (the failing operation
 * itself fails; the next one goes to the new primary).
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
  private static final int NAMESPACE_NOT_FOUND = 26;

  private final MongoOptions options;
  private final Reactor[] reactors;
  private final ConcurrentHashMap<String, ConnectionPool> pools = new ConcurrentHashMap<>();
  private final Set<String> knownHosts = new LinkedHashSet<>();
  private final boolean discover;
  private volatile ConnectionPool primary;
  private Fut discovering;
  private volatile boolean closed;

  private MongoClient(MongoOptions options, Reactor[] reactors) {
    if (options.hosts.isEmpty()) {
      options.hosts.add("localhost:27017");
    }
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
   */
  public static MongoClient create(MongoOptions options, Reactor... reactors) {
    return new MongoClient(options, reactors);
  }

  /**
   * A fut of a client once a first connection to the server (the primary, with several hosts) is
   * open, handshaken and authenticated; it fails with what stopped that.
   */
  public static Fut connect(MongoOptions options, Reactor... reactors) {
    MongoClient c = new MongoClient(options, reactors);
    return c.withConnection(conn -> Fut.of(c)).recover(e -> {
      c.close();
      throw sneaky(e);
    });
  }

  /** {@link #connect(MongoOptions, Reactor...)} to one server. */
  public static Fut connect(String host, int port) {
    return connect(MongoOptions.of(host, port));
  }

  /** {@link #connect(MongoOptions, Reactor...)} from a {@code mongodb://} URI. */
  public static Fut connect(String uri) {
    return connect(MongoOptions.fromUri(uri));
  }

  /** The options this client was made with. */
  public MongoOptions options() {
    return options;
  }

  /** The pool for "host:port", made on first use. */
  public ConnectionPool pool(String address) {
    return pools.computeIfAbsent(address, a -> new ConnectionPool(a, options, reactors));
  }

  /** The server operations go to now, or null while it is unknown. */
  public String primaryAddress() {
    ConnectionPool p = primary;
    return p == null ? null : p.address();
  }

  // ---------------------------------------------------------------- server selection

  /** A fut of the pool of the server to send operations to. */
  Fut selectServer() {
    ConnectionPool p = primary;
    if (p != null) {
      return Fut.of(p);
    }
    if (closed) {
      return Fut.failed(new MongoConnectionException(String.join(",", options.hosts), "client is closed"));
    }
    Fut d;
    boolean start = false;
    synchronized (this) {
      if (discovering == null) {
        discovering = new Fut();
        start = true;
      }
      d = discovering;
    }
    if (start) {
      findPrimary(2).onComplete((v, e) -> {
        if (e == null) {
          primary = (ConnectionPool) v;
          log.debug("primary is {}", primary.address());
        }
        synchronized (this) {
          discovering = null;
        }
        d.complete(v, e);
      });
    }
    return d;
  }

  private Fut findPrimary(int rounds) {
    List<String> hosts;
    synchronized (this) {
      hosts = new ArrayList<>(knownHosts);
    }
    List<Fut> checks = new ArrayList<>(hosts.size());
    for (String h : hosts) {
      ConnectionPool p = pool(h);
      checks.add(runOn(p, null).recover(e -> {
        log.debug("{} did not answer: {}", h, e.toString());
        return null;
      }));
    }
    return Fut.all(checks).then(v -> {
      List<?> replies = (List<?>) v;
      ConnectionPool found = null;
      boolean grew = false;
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
        if (Boolean.TRUE.equals(m.get(IS_WRITABLE_PRIMARY)) || Boolean.TRUE.equals(m.get(ISMASTER))) {
          found = pool(hosts.get(i));
        }
      }
      if (found != null) {
        return found;
      }
      if (grew && rounds > 1) {
        return findPrimary(rounds - 1);
      }
      throw new MongoConnectionException(String.join(",", hosts),
          "no primary found" + (options.replicaSet == null ? "" : " for replica set " + options.replicaSet));
    });
  }

  private void onFailure(ConnectionPool p, Throwable e) {
    if (e instanceof MongoConnectionException) {
      p.clear();
      if (discover && primary == p) {
        primary = null;
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
   * ({@code hello} when it knows it, else {@code isMaster}).
   */
  private Fut runOn(ConnectionPool p, Object body) {
    Fut r = new Fut();
    p.acquire().onComplete((c, e) -> {
      if (e != null) {
        onFailure(p, e);
        r.fail(e);
        return;
      }
      MongoConnection conn = (MongoConnection) c;
      conn.send(body == null ? conn.helloCommand() : body, List.of()).onComplete((v, e2) -> {
        p.release(conn);
        if (e2 != null) {
          onFailure(p, e2);
          r.fail(e2);
        } else {
          r.deliver(v);
        }
      });
    });
    return r;
  }

  Fut runOnPool(ConnectionPool p, Object body) {
    return runOn(p, body);
  }

  private Fut run(Object body) {
    Fut r = new Fut();
    selectServer().onComplete((p, e) -> {
      if (e != null) {
        r.fail(e);
      } else {
        runOn((ConnectionPool) p, body).onComplete(r::complete);
      }
    });
    return r;
  }

  /** Runs {@code f} with a connection of the selected server, released when its fut completes. */
  private Fut withConnection(Function<MongoConnection, Fut> f) {
    Fut r = new Fut();
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
        MongoConnection conn = (MongoConnection) c;
        Fut inner;
        try {
          inner = f.apply(conn);
        } catch (RuntimeException ex) {
          inner = Fut.failed(ex);
        }
        inner.onComplete((v, e2) -> {
          p.release(conn);
          if (e2 != null) {
            onFailure(p, e2);
          }
          r.complete(v, e2);
        });
      });
    });
    return r;
  }

  /**
   * Runs the command {@code cmd} (an ordered map, command name first) on database {@code db} and
   * answers a fut of the server's reply.
   */
  public Fut command(String db, Map<?, ?> cmd) {
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
   */
  public Fut insert(String ns, List<?> docs, boolean ordered) {
    String[] n = splitNs(ns);
    int size = docs.size();
    Object[] ids = new Object[size];
    List<Object> withIds = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      Object d = docs.get(i);
      Object doc = addId(d);
      ids[i] = ((Map<?, ?>) doc).get(((Map<?, ?>) doc).containsKey(ID) ? ID : "_id");
      withIds.add(doc);
    }
    Object body = cmd(INSERT, n[1], ORDERED, ordered, WRITE_CONCERN, options.writeConcern, DB, n[0]);
    return writeBatches(body, "documents", withIds).map(x -> PersistentVector.create(ids));
  }

  /** {@link #insert(String, List, boolean)}, ordered. */
  public Fut insert(String ns, List<?> docs) {
    return insert(ns, docs, true);
  }

  /** {@code doc} with an {@code _id} (a new ObjectId first) when it has none. */
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
   */
  public Fut update(String ns, Object filter, Object update, boolean upsert, boolean multi) {
    return bulkUpdate(ns, List.of(cmd(Q, filter, U, update, UPSERT, upsert, MULTI, multi)), true);
  }

  /**
   * Sends update statements ({@code {:q filter :u update :upsert b :multi b}} maps) as one
   * command per batch; answers a fut of the summed reply ({@code :n}, {@code :nModified}).
   */
  public Fut bulkUpdate(String ns, List<?> statements, boolean ordered) {
    String[] n = splitNs(ns);
    return writeBatches(cmd(UPDATE, n[1], ORDERED, ordered, WRITE_CONCERN, options.writeConcern, DB, n[0]),
        "updates", statements);
  }

  /**
   * Deletes the documents of {@code ns} matching {@code filter}: only the first when {@code
   * single}. Answers a fut of the server's reply ({@code :n} deleted).
   */
  public Fut delete(String ns, Object filter, boolean single) {
    return bulkDelete(ns, List.of(cmd(Q, filter, LIMIT, single ? 1 : 0)), true);
  }

  /** Sends delete statements ({@code {:q filter :limit 0|1}} maps); answers a fut of the summed reply. */
  public Fut bulkDelete(String ns, List<?> statements, boolean ordered) {
    String[] n = splitNs(ns);
    return writeBatches(cmd(DELETE, n[1], ORDERED, ordered, WRITE_CONCERN, options.writeConcern, DB, n[0]),
        "deletes", statements);
  }

  private Fut writeBatches(Object body, String identifier, List<?> docs) {
    if (docs.isEmpty()) {
      return Fut.failed(new IllegalArgumentException("nothing to write"));
    }
    return withConnection(conn -> {
      List<List<byte[]>> batches = OpMsg.splitBatches(docs, conn.maxWriteBatchSize(),
          conn.maxMessageSizeBytes(), conn.maxBsonObjectSize());
      return sendBatches(conn, body, identifier, batches, 0, null);
    });
  }

  private static Fut sendBatches(MongoConnection conn, Object body, String identifier,
      List<List<byte[]>> batches, int i, Object previous) {
    return conn.send(body, List.of(new OpMsg.Sequence(identifier, batches.get(i)))).then(reply -> {
      Object sum = previous == null ? reply : addCounts((IPersistentMap) previous, (Map<?, ?>) reply);
      return i + 1 < batches.size() ? sendBatches(conn, body, identifier, batches, i + 1, sum) : sum;
    });
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

  // ---------------------------------------------------------------- reads

  private Object findBody(String[] n, Object filter, FindOptions o, boolean single) {
    return cmd(FIND, n[1], FILTER, filter == null ? PersistentArrayMap.EMPTY : filter,
        PROJECTION, o.projection, SORT, o.sort, SKIP, o.skip > 0 ? o.skip : null,
        LIMIT, o.limit > 0 ? o.limit : null, BATCH_SIZE, o.batchSize > 0 ? o.batchSize : null,
        SINGLE_BATCH, single ? Boolean.TRUE : null, DB, n[0]);
  }

  /** Answers a fut of the vector of every document of {@code ns} matching {@code filter}. */
  public Fut find(String ns, Object filter, FindOptions o) {
    String[] n = splitNs(ns);
    FindOptions opts = o == null ? new FindOptions() : o;
    return drainCursor(n[0], findBody(n, filter, opts, false), opts.limit, opts.batchSize);
  }

  /** Answers a fut of the first document of {@code ns} matching {@code filter}, or of null. */
  public Fut findOne(String ns, Object filter, Object projection) {
    String[] n = splitNs(ns);
    FindOptions o = new FindOptions().projection(projection).limit(1).batchSize(1);
    return run(findBody(n, filter, o, true)).map(r -> {
      List<?> batch = batch((Map<?, ?>) r);
      return batch.isEmpty() ? null : batch.get(0);
    });
  }

  /**
   * Answers a fut of a {@link Stream} of the documents of {@code ns} matching {@code filter},
   * delivered once the first batch is in. The next batch is asked for ({@code getMore}) only once
   * the consumer has taken enough for the stream's buffer (one batch) to have room: a slow
   * consumer means no further requests. Closing the stream early kills the server's cursor.
   */
  public Fut findStream(String ns, Object filter, FindOptions o) {
    String[] n = splitNs(ns);
    FindOptions opts = o == null ? new FindOptions() : o;
    return cursorStream(n[0], findBody(n, filter, opts, false), opts.limit, opts.batchSize);
  }

  /** Answers a fut of the number of documents of {@code ns} matching {@code filter}. */
  public Fut count(String ns, Object filter) {
    String[] n = splitNs(ns);
    return run(cmd(COUNT, n[1], QUERY, filter == null ? PersistentArrayMap.EMPTY : filter, DB, n[0]))
        .map(r -> ((Number) ((Map<?, ?>) r).get(N)).longValue());
  }

  /** Answers a fut of the vector of distinct values of {@code key} among documents matching {@code filter}. */
  public Fut distinct(String ns, String key, Object filter) {
    String[] n = splitNs(ns);
    return run(cmd(DISTINCT, n[1], KEY, key, QUERY, filter == null ? PersistentArrayMap.EMPTY : filter, DB, n[0]))
        .map(r -> ((Map<?, ?>) r).get(VALUES));
  }

  /** Answers a fut of the vector of every document the aggregation {@code pipeline} yields. */
  public Fut aggregate(String ns, List<?> pipeline, int batchSize) {
    String[] n = splitNs(ns);
    return drainCursor(n[0], aggregateBody(n, pipeline, batchSize), 0, batchSize);
  }

  /** Answers a fut of a {@link Stream} of the aggregation's documents (as {@link #findStream}). */
  public Fut aggregateStream(String ns, List<?> pipeline, int batchSize) {
    String[] n = splitNs(ns);
    return cursorStream(n[0], aggregateBody(n, pipeline, batchSize), 0, batchSize);
  }

  private static Object aggregateBody(String[] n, List<?> pipeline, int batchSize) {
    return cmd(AGGREGATE, n[1], PIPELINE, pipeline,
        CURSOR, batchSize > 0 ? cmd(BATCH_SIZE, batchSize) : PersistentArrayMap.EMPTY, DB, n[0]);
  }

  /**
   * Runs {@code findAndModify} on {@code ns}; {@code args} holds its fields ({@code :query},
   * {@code :sort}, {@code :update} or {@code :remove}, {@code :new}, {@code :fields},
   * {@code :upsert}). Answers a fut of the document (before the change unless {@code :new}), or
   * of null.
   */
  public Fut findAndModify(String ns, Map<?, ?> args) {
    String[] n = splitNs(ns);
    List<Object> kvs = new ArrayList<>();
    kvs.add(FIND_AND_MODIFY);
    kvs.add(n[1]);
    for (Map.Entry<?, ?> e : args.entrySet()) {
      kvs.add(e.getKey());
      kvs.add(e.getValue());
    }
    kvs.add(WRITE_CONCERN);
    kvs.add(options.writeConcern);
    kvs.add(DB);
    kvs.add(n[0]);
    return run(cmd(kvs.toArray())).map(r -> ((Map<?, ?>) r).get(VALUE));
  }

  /**
   * Creates an index on {@code keys} (an ordered map such as {@code {:email 1}}), unique if asked;
   * {@code name} null makes one from the keys. Answers a fut of the server's reply.
   */
  public Fut createIndex(String ns, Map<?, ?> keys, boolean unique, String name) {
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

  /** Drops the collection {@code ns}; answers a fut of true, or false when there was none. */
  public Fut drop(String ns) {
    String[] n = splitNs(ns);
    return run(cmd(DROP, n[1], DB, n[0])).map(r -> Boolean.TRUE).recover(e -> {
      if (e instanceof MongoCommandException && ((MongoCommandException) e).code() == NAMESPACE_NOT_FOUND
          || e instanceof MongoCommandException && String.valueOf(((MongoCommandException) e).errorMessage())
              .contains("ns not found")) {
        return Boolean.FALSE;
      }
      throw sneaky(e);
    });
  }

  /** Answers a fut of the vector of the collections of database {@code db} (maps with {@code :name}). */
  public Fut listCollections(String db) {
    return drainCursor(db, cmd(LIST_COLLECTIONS, 1, CURSOR, PersistentArrayMap.EMPTY, DB, db), 0, 0);
  }

  // ---------------------------------------------------------------- cursors

  private static Map<?, ?> cursorOf(Map<?, ?> reply) {
    Object c = reply.get(CURSOR);
    if (!(c instanceof Map)) {
      throw new MongoProtocolException("reply has no cursor");
    }
    return (Map<?, ?>) c;
  }

  static List<?> batch(Map<?, ?> reply) {
    Map<?, ?> c = cursorOf(reply);
    Object b = c.containsKey(FIRST_BATCH) ? c.get(FIRST_BATCH) : c.get(NEXT_BATCH);
    return b instanceof List ? (List<?>) b : PersistentVector.EMPTY;
  }

  static long cursorId(Map<?, ?> reply) {
    Object id = cursorOf(reply).get(CURSOR_ID);
    return id instanceof Number ? ((Number) id).longValue() : 0;
  }

  /** The collection to name in getMore: from the cursor's "db.coll" namespace. */
  static String cursorCollection(Map<?, ?> reply, String fallback) {
    Object ns = cursorOf(reply).get(NS);
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
    runOn(p, cmd(KILL_CURSORS, coll, CURSORS, PersistentVector.create(id), DB, db)).onComplete((v, e) -> {
      if (e != null) {
        log.debug("killCursors {} failed: {}", id, e.toString());
      }
    });
  }

  private Fut drainCursor(String db, Object body, int limit, int batchSize) {
    return selectServer().then(pv -> {
      ConnectionPool p = (ConnectionPool) pv;
      return runOn(p, body).then(r -> {
        Map<?, ?> reply = (Map<?, ?>) r;
        String coll = cursorCollection(reply, null);
        return drain(p, db, coll, reply, PersistentVector.EMPTY.asTransient(), 0, limit, batchSize);
      });
    });
  }

  private Fut drain(ConnectionPool p, String db, String coll, Map<?, ?> reply, ITransientCollection acc,
      int count, int limit, int batchSize) {
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
    return runOn(p, getMoreBody(db, coll, id, next))
        .then(r -> drain(p, db, coll, (Map<?, ?>) r, a, g, limit, batchSize));
  }

  private Fut cursorStream(String db, Object body, int limit, int batchSize) {
    return selectServer().then(pv -> {
      ConnectionPool p = (ConnectionPool) pv;
      return runOn(p, body).map(r -> {
        Map<?, ?> reply = (Map<?, ?>) r;
        Cursor c = new Cursor(this, p, db, cursorCollection(reply, null), limit, batchSize);
        c.onBatch(reply);
        return c.stream;
      });
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
