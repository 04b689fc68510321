package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static peloton.mongo.MongoClientTest.await;
import static peloton.mongo.MongoClientTest.awaitError;
import static peloton.mongo.MongoClientTest.doc;
import static peloton.mongo.ScriptedServer.hello;
import static peloton.mongo.ScriptedServer.k;

import clojure.lang.PersistentVector;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.ServerApi;
import com.mongodb.ServerApiVersion;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.reactor.Reactor;

/**
 * Retryable writes (the MongoDB retryable writes spec) over real sockets: against scripted
 * replica-set primaries that drop a connection or answer an error once, checked against how the
 * official driver frames the same writes, and against mongo-java-server, a standalone server on
 * which nothing may be retried.
 */
class RetryableWritesTest {
  private Reactor reactor;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() {
    reactor = new Reactor("retry-test").start(true);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    reactor.stop();
    reactor.awaitTermination(5, TimeUnit.SECONDS);
  }

  private static final Map<?, ?> OK = doc(k("n"), 1L, k("ok"), 1.0);

  /**
   * A scripted replica-set primary of wire version {@code wire} with sessions; {@code writes}
   * answers every other command (its int is how many of that command came before).
   */
  private ScriptedServer primary(int wire, BiFunction<String, Integer, Object> writes) throws Exception {
    return server(wire, true, true, writes);
  }

  private ScriptedServer server(int wire, boolean replicaSet, boolean sessions,
      BiFunction<String, Integer, Object> writes) throws Exception {
    String[] self = new String[1];
    Map<String, AtomicInteger> counts = new java.util.concurrent.ConcurrentHashMap<>();
    ScriptedServer s = new ScriptedServer((r, name) -> {
      if (name.equals("isMaster") || name.equals("hello")) {
        // Int32 where a real server sends Int32: the official driver insists on it.
        List<Object> extra = new ArrayList<>(List.of(k("isWritablePrimary"), true, k("helloOk"), true,
            k("maxWireVersion"), wire, k("minWireVersion"), 0, k("maxBsonObjectSize"), 16777216,
            k("maxMessageSizeBytes"), 48000000, k("maxWriteBatchSize"), 100000));
        if (replicaSet) {
          extra.addAll(List.of(k("setName"), "rs0", k("hosts"), PersistentVector.create(self[0])));
        }
        if (sessions) {
          extra.addAll(List.of(k("logicalSessionTimeoutMinutes"), 30));
        }
        return hello(extra.toArray());
      }
      if (name.equals("endSessions") || name.equals("ping")) {
        return doc(k("ok"), 1.0);
      }
      return writes.apply(name, counts.computeIfAbsent(name, x -> new AtomicInteger()).getAndIncrement());
    });
    self[0] = s.address();
    closeables.add(s);
    return s;
  }

  private MongoClient connect(ScriptedServer s, boolean replicaSet) {
    MongoOptions o = new MongoOptions();
    o.hosts.add(s.address());
    if (replicaSet) {
      o.replicaSet = "rs0";
    }
    o.timeouts(3000, 3000);
    return connect(o);
  }

  private MongoClient connect(MongoOptions o) {
    MongoClient c = (MongoClient) await(MongoClient.connect(o, reactor));
    closeables.add(c);
    return c;
  }

  /** The bodies of the requests named {@code name}, in order. */
  private static List<Map<?, ?>> bodies(ScriptedServer s, String name) {
    List<Map<?, ?>> out = new ArrayList<>();
    for (OpMsg.Reply r : s.requests) {
      if (ScriptedServer.commandName(r).equals(name)) {
        out.add((Map<?, ?>) r.body);
      }
    }
    return out;
  }

  private static Object lsidOf(Map<?, ?> body) {
    Map<?, ?> lsid = (Map<?, ?>) body.get(k("lsid"));
    return lsid == null ? null : lsid.get(k("id"));
  }

  private static Map<?, ?> error(int code, String... labels) {
    return doc(k("ok"), 0.0, k("code"), (long) code, k("errmsg"), "scripted error " + code,
        k("errorLabels"), PersistentVector.create((Object[]) labels));
  }

  @Test
  void networkErrorRetriesOnceWithTheSameLsidAndTxnNumber() throws Exception {
    ScriptedServer s = primary(17, (name, n) -> n == 0 ? ScriptedServer.CLOSE : OK);
    MongoClient c = connect(s, true);
    await(c.insert("db.c", List.of(doc(k("_id"), 1L))));
    List<Map<?, ?>> inserts = bodies(s, "insert");
    assertEquals(2, inserts.size(), "one attempt and one retry");
    Object lsid = lsidOf(inserts.get(0));
    assertInstanceOf(UUID.class, lsid);
    assertEquals(lsid, lsidOf(inserts.get(1)));
    assertInstanceOf(Long.class, inserts.get(0).get(k("txnNumber")));
    assertEquals(inserts.get(0).get(k("txnNumber")), inserts.get(1).get(k("txnNumber")));
    assertEquals("insert", inserts.get(1).keySet().iterator().next().toString().substring(1), "command name first");

    // That session met a network error, so it is dropped; the next one is pooled and taken again
    // by the write after, with the next transaction number.
    assertEquals(0, c.idleSessions());
    await(c.insert("db.c", List.of(doc(k("_id"), 2L))));
    await(c.insert("db.c", List.of(doc(k("_id"), 3L))));
    Map<?, ?> third = bodies(s, "insert").get(2);
    Map<?, ?> fourth = bodies(s, "insert").get(3);
    assertFalse(lsid.equals(lsidOf(third)));
    assertEquals(lsidOf(third), lsidOf(fourth));
    assertEquals((Long) third.get(k("txnNumber")) + 1, fourth.get(k("txnNumber")));
    assertEquals(1, c.idleSessions());
  }

  @Test
  void retryableCodeBeforeFourFourIsRetriedOnANewlySelectedPrimary() throws Exception {
    // 10107 NotWritablePrimary: the client forgets the primary and scans again before the retry.
    ScriptedServer s = primary(8, (name, n) -> n == 0 ? error(10107) : OK);
    MongoClient c = connect(s, true);
    int hellosBefore = bodies(s, "isMaster").size() + bodies(s, "hello").size();
    Map<?, ?> r = (Map<?, ?>) await(c.update("db.c", doc(k("_id"), 1L), doc(k("$set"), doc(k("a"), 1L)), false, false));
    assertEquals(1L, r.get(k("n")));
    List<Map<?, ?>> updates = bodies(s, "update");
    assertEquals(2, updates.size());
    assertEquals(lsidOf(updates.get(0)), lsidOf(updates.get(1)));
    assertEquals(updates.get(0).get(k("txnNumber")), updates.get(1).get(k("txnNumber")));
    assertTrue(bodies(s, "isMaster").size() + bodies(s, "hello").size() > hellosBefore, "server selected again");
  }

  @Test
  void fromFourFourOnlyTheRetryableWriteErrorLabelCounts() throws Exception {
    ScriptedServer labelled = primary(17, (name, n) -> n == 0 ? error(91, "RetryableWriteError") : OK);
    await(connect(labelled, true).delete("db.c", doc(k("_id"), 1L), true));
    assertEquals(2, bodies(labelled, "delete").size());

    ScriptedServer unlabelled = primary(17, (name, n) -> n == 0 ? error(91) : OK);
    Throwable e = awaitError(connect(unlabelled, true).delete("db.c", doc(k("_id"), 1L), true));
    assertEquals(91, ((MongoCommandException) e).code());
    assertEquals(1, bodies(unlabelled, "delete").size());
  }

  @Test
  void bothAttemptsFailingFailsTheFutWithTheRetrysError() throws Exception {
    ScriptedServer s = primary(17, (name, n) -> ScriptedServer.CLOSE);
    MongoClient c = connect(s, true);
    Throwable e = awaitError(c.insert("db.c", List.of(doc(k("a"), 1L))));
    assertInstanceOf(MongoConnectionException.class, e);
    assertEquals(2, bodies(s, "insert").size(), "exactly one retry");
    assertEquals(0, c.idleSessions(), "a session that met a network error is not reused");
  }

  @Test
  void noWritesPerformedOnTheRetryReportsTheOriginalError() throws Exception {
    ScriptedServer s = primary(17, (name, n) -> n == 0 ? error(91, "RetryableWriteError")
        : error(10107, "RetryableWriteError", "NoWritesPerformed"));
    Throwable e = awaitError(connect(s, true).insert("db.c", List.of(doc(k("a"), 1L))));
    assertEquals(91, ((MongoCommandException) e).code());
    assertEquals(2, bodies(s, "insert").size());
  }

  @Test
  void aRetryToAServerWithoutRetryableWritesReportsTheOriginalError() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    String[] self = new String[1];
    ScriptedServer s = new ScriptedServer((r, name) -> {
      if (name.equals("isMaster") || name.equals("hello")) {
        // The first connection's server has sessions; after the drop it has none (a downgrade).
        boolean sessions = connections.getAndIncrement() == 0;
        return hello(k("setName"), "rs0", k("hosts"), PersistentVector.create(self[0]),
            k("maxWireVersion"), 17L, k("logicalSessionTimeoutMinutes"), sessions ? 30L : null);
      }
      return ScriptedServer.CLOSE;
    });
    self[0] = s.address();
    closeables.add(s);
    MongoOptions o = new MongoOptions();
    o.hosts.add(s.address());
    o.directConnection = true;
    Throwable e = awaitError(connect(o.timeouts(3000, 3000)).insert("db.c", List.of(doc(k("a"), 1L))));
    assertInstanceOf(MongoConnectionException.class, e);
    assertEquals(1, bodies(s, "insert").size(), "not sent again to a server without retryable writes");
  }

  @Test
  void errorsThatAreNotRetryableFailAtOnce() throws Exception {
    ScriptedServer s = primary(8, (name, n) -> name.equals("insert") ? error(2)
        : doc(k("n"), 0L, k("ok"), 1.0, k("writeErrors"), PersistentVector.create(
            doc(k("index"), 0L, k("code"), 11000L, k("errmsg"), "E11000 duplicate key"))));
    MongoClient c = connect(s, true);
    assertEquals(2, ((MongoCommandException) awaitError(c.insert("db.c", List.of(doc(k("a"), 1L))))).code());
    assertEquals(1, bodies(s, "insert").size());
    Throwable dup = awaitError(c.update("db.c", doc(k("a"), 1L), doc(k("$set"), doc(k("b"), 1L)), false, false));
    assertEquals(11000, ((MongoCommandException) dup).code());
    assertEquals(1, bodies(s, "update").size(), "a write error is an answer, never retried");
  }

  @Test
  void unacknowledgedAndMultiDocumentWritesAreNeverRetriedAndCarryNoSession() throws Exception {
    // The w:0 insert gets no answer (there is no reply to give); the first update and delete are dropped.
    ScriptedServer s = primary(17, (name, n) -> name.equals("insert") ? null : n == 0 ? ScriptedServer.CLOSE : OK);
    MongoClient c = connect(s, true);
    await(c.insert("db.c", List.of(doc(k("a"), 1L)), true, doc(k("w"), 0L)));
    // An acknowledged command after it: the w:0 insert has arrived by the time this answers.
    await(c.command("admin", doc(k("ping"), 1L)));
    assertEquals(1, bodies(s, "insert").size());
    assertFalse(bodies(s, "insert").get(0).containsKey(k("lsid")));
    assertFalse(bodies(s, "insert").get(0).containsKey(k("txnNumber")));

    assertInstanceOf(MongoConnectionException.class,
        awaitError(c.update("db.c", doc(), doc(k("$set"), doc(k("a"), 2L)), false, true)));
    assertEquals(1, bodies(s, "update").size());
    assertFalse(bodies(s, "update").get(0).containsKey(k("txnNumber")));

    assertInstanceOf(MongoConnectionException.class, awaitError(c.delete("db.c", doc(), false)));
    assertEquals(1, bodies(s, "delete").size());
    assertNull(bodies(s, "delete").get(0).get(k("lsid")));
    assertEquals(0, c.idleSessions());
  }

  @Test
  void retryWritesFalseAndStandaloneServersRetryNothing() throws Exception {
    ScriptedServer rs = primary(17, (name, n) -> n == 0 ? ScriptedServer.CLOSE : OK);
    MongoOptions o = MongoOptions.fromUri("mongodb://" + rs.address() + "/?replicaSet=rs0&retryWrites=false");
    MongoClient off = connect(o.timeouts(3000, 3000));
    assertInstanceOf(MongoConnectionException.class, awaitError(off.insert("db.c", List.of(doc(k("a"), 1L)))));
    assertEquals(1, bodies(rs, "insert").size());
    assertNull(bodies(rs, "insert").get(0).get(k("lsid")));

    // A standalone server that has sessions still takes no retryable writes (the spec).
    ScriptedServer standalone = server(17, false, true, (name, n) -> n == 0 ? ScriptedServer.CLOSE : OK);
    MongoClient c = connect(standalone, false);
    assertInstanceOf(MongoConnectionException.class, awaitError(c.insert("db.c", List.of(doc(k("a"), 1L)))));
    assertEquals(1, bodies(standalone, "insert").size());
    assertNull(bodies(standalone, "insert").get(0).get(k("lsid")));
  }

  @Test
  void findAndModifyBulkWriteAndTheJavaApiAreRetried() throws Exception {
    ScriptedServer s = primary(17, (name, n) -> n == 0 ? ScriptedServer.CLOSE
        : name.equals("findAndModify") ? doc(k("value"), doc(k("_id"), 1L), k("ok"), 1.0) : OK);
    MongoClient c = connect(s, true);
    await(c.findAndModify("db.c", doc(k("query"), doc(k("_id"), 1L), k("update"), doc(k("$inc"), doc(k("n"), 1L)))));
    List<Map<?, ?>> fam = bodies(s, "findAndModify");
    assertEquals(2, fam.size());
    assertEquals(fam.get(0).get(k("txnNumber")), fam.get(1).get(k("txnNumber")));

    await(c.bulkWrite("db.c", List.of(BulkOp.insert(doc(k("a"), 1L)), BulkOp.delete(doc(k("a"), 1L), true)), true));
    List<Map<?, ?>> inserts = bodies(s, "insert");
    List<Map<?, ?>> deletes = bodies(s, "delete");
    assertEquals(2, inserts.size());
    assertEquals(2, deletes.size(), "each batch is retried on its own");
    assertEquals(inserts.get(0).get(k("txnNumber")), inserts.get(1).get(k("txnNumber")));
    assertEquals(deletes.get(0).get(k("txnNumber")), deletes.get(1).get(k("txnNumber")));
    assertNotNull(deletes.get(0).get(k("txnNumber")));

    MongoCollection coll = c.collection("db.d");
    await(coll.updateOne(Filters.eq("_id", 1), Updates.set("a", 1)));
    List<Map<?, ?>> updates = bodies(s, "update");
    assertEquals(2, updates.size(), "the first attempt was dropped, then retried");
    assertEquals(updates.get(0).get(k("txnNumber")), updates.get(1).get(k("txnNumber")));
    await(coll.findOneAndUpdate(Filters.eq("_id", 1), Updates.set("a", 2)));
    assertEquals(3, bodies(s, "findAndModify").size(), "dropped no more: sent once");
  }

  @Test
  void framesLsidAndTxnNumberAsTheOfficialDriverDoes() throws Exception {
    ScriptedServer forDriver = primary(17, (name, n) -> n == 0 ? ScriptedServer.CLOSE : OK);
    ConnectionString cs = new ConnectionString("mongodb://" + forDriver.address() + "/?replicaSet=rs0"
        + "&serverSelectionTimeoutMS=5000&connectTimeoutMS=3000");
    // A server API version makes the driver shake hands over OP_MSG, which the scripted server speaks.
    try (com.mongodb.client.MongoClient driver = MongoClients.create(MongoClientSettings.builder()
        .applyConnectionString(cs).serverApi(ServerApi.builder().version(ServerApiVersion.V1).build()).build())) {
      driver.getDatabase("db").getCollection("c").insertOne(new Document("_id", 1));
    }
    List<Map<?, ?>> theirs = bodies(forDriver, "insert");
    assertEquals(2, theirs.size(), "the driver retries once too");
    assertEquals(lsidOf(theirs.get(0)), lsidOf(theirs.get(1)));
    assertEquals(theirs.get(0).get(k("txnNumber")), theirs.get(1).get(k("txnNumber")));

    ScriptedServer forUs = primary(17, (name, n) -> n == 0 ? ScriptedServer.CLOSE : OK);
    await(connect(forUs, true).collection("db.c").insertOne(new Document("_id", 1)));
    List<Map<?, ?>> ours = bodies(forUs, "insert");
    assertEquals(2, ours.size());
    for (int i = 0; i < 2; i++) {
      Map<?, ?> their = theirs.get(i);
      Map<?, ?> our = ours.get(i);
      assertEquals(((Map<?, ?>) their.get(k("lsid"))).keySet(), ((Map<?, ?>) our.get(k("lsid"))).keySet());
      assertEquals(lsidOf(their).getClass(), lsidOf(our).getClass(), "lsid.id: binary subtype 4 both");
      assertEquals(their.get(k("txnNumber")).getClass(), our.get(k("txnNumber")).getClass(), "txnNumber: Int64 both");
    }
    assertEquals(ours.get(0).get(k("txnNumber")), ours.get(1).get(k("txnNumber")));
  }

  // ---------------------------------------------------------------- mongo-java-server: standalone

  /**
   * A TCP relay in front of a real server that records the commands the client sends and closes
   * the client's connection instead of relaying the first command named {@code drop}.
   */
  private static final class Relay implements AutoCloseable {
    final ServerSocket socket;
    final List<OpMsg.Reply> requests = new CopyOnWriteArrayList<>();
    final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final AtomicInteger dropsLeft = new AtomicInteger(1);

    Relay(InetSocketAddress target, String drop) throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t = new Thread(() -> {
        while (!socket.isClosed()) {
          try {
            Socket client = socket.accept();
            Socket server = new Socket(target.getAddress(), target.getPort());
            sockets.add(client);
            sockets.add(server);
            pipe(server.getInputStream(), client.getOutputStream());
            Thread up = new Thread(() -> relay(client, server, drop), "relay-up");
            up.setDaemon(true);
            up.start();
          } catch (IOException e) {
            return;
          }
        }
      }, "relay-accept");
      t.setDaemon(true);
      t.start();
    }

    private void relay(Socket client, Socket server, String drop) {
      try {
        DataInputStream in = new DataInputStream(client.getInputStream());
        OutputStream out = server.getOutputStream();
        for (;;) {
          byte[] msg = ScriptedServer.readFrame(in);
          OpMsg.Reply req = OpMsg.decode(ByteBuffer.wrap(msg));
          requests.add(req);
          if (ScriptedServer.commandName(req).equals(drop) && dropsLeft.getAndDecrement() > 0) {
            client.close();
            server.close();
            return;
          }
          out.write(msg);
          out.flush();
        }
      } catch (IOException e) {
        // either side went away
      }
    }

    private static void pipe(InputStream in, OutputStream out) {
      Thread t = new Thread(() -> {
        byte[] b = new byte[8192];
        try {
          for (int n; (n = in.read(b)) > 0;) {
            out.write(b, 0, n);
            out.flush();
          }
        } catch (IOException e) {
          // closed
        }
      }, "relay-down");
      t.setDaemon(true);
      t.start();
    }

    List<Map<?, ?>> bodies(String name) {
      List<Map<?, ?>> out = new ArrayList<>();
      for (OpMsg.Reply r : requests) {
        if (ScriptedServer.commandName(r).equals(name)) {
          out.add((Map<?, ?>) r.body);
        }
      }
      return out;
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  @Test
  void mongoJavaServerIsStandaloneSoWritesCarryNoSessionAndAreNotRetried() throws Exception {
    MongoServer server = new MongoServer(new MemoryBackend());
    closeables.add(server::shutdownNow);
    server.bind("127.0.0.1", 0);
    InetSocketAddress addr = server.getLocalAddress();
    Relay relay = new Relay(addr, "insert");
    closeables.add(relay);
    MongoOptions o = MongoOptions.fromUri("mongodb://127.0.0.1:" + relay.socket.getLocalPort()
        + "/?retryWrites=true&w=majority");
    MongoClient c = connect(o.timeouts(3000, 3000));
    Map<?, ?> hs = (Map<?, ?>) await(c.command("admin", doc(k("isMaster"), 1L)));
    assertNull(hs.get(k("setName")), "mongo-java-server answers as a standalone server: " + hs);

    assertInstanceOf(MongoConnectionException.class, awaitError(c.insert("db.c", List.of(doc(k("_id"), 1L)))));
    assertEquals(1, relay.bodies("insert").size(), "a standalone server's write is not retried");
    await(c.insert("db.c", List.of(doc(k("_id"), 2L))));
    await(c.update("db.c", doc(k("_id"), 2L), doc(k("$set"), doc(k("a"), 1L)), false, false));
    await(c.findAndModify("db.c", doc(k("query"), doc(k("_id"), 2L), k("remove"), true)));
    for (String name : List.of("insert", "update", "findAndModify")) {
      for (Map<?, ?> b : relay.bodies(name)) {
        assertFalse(b.containsKey(k("lsid")), name + " carries no lsid: " + b);
        assertFalse(b.containsKey(k("txnNumber")), name + " carries no txnNumber: " + b);
      }
    }
    assertEquals(0L, ((Number) await(c.count("db.c", doc()))).longValue(), "_id 1 was not written, _id 2 was removed");
  }
}
