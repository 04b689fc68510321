package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.lang.Keyword;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.reactor.Reactor;

/** The client against mongo-java-server over real sockets, checked with the official driver. */
class MongoClientTest {
  private static final long WAIT = 10_000;
  private MongoServer server;
  private int port;
  private Reactor reactor;
  private MongoClient client;
  private com.mongodb.client.MongoClient driver;

  static Keyword k(String s) {
    return Keyword.intern(s);
  }

  static Map<?, ?> doc(Object... kvs) {
    return BsonCodec.command(kvs);
  }

  static Object await(Fut f) {
    Object timeout = new Object();
    Object v = f.deref(WAIT, timeout);
    if (v == timeout) {
      throw new AssertionError("fut not complete within " + WAIT + " ms");
    }
    return v;
  }

  static Throwable awaitError(Fut f) {
    Object timeout = new Object();
    try {
      Object v = f.deref(WAIT, timeout);
      throw new AssertionError(v == timeout ? "fut not complete within " + WAIT + " ms" : "no error: " + v);
    } catch (RuntimeException e) {
      return e;
    }
  }

  @BeforeEach
  void start() {
    server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", 0);
    InetSocketAddress a = server.getLocalAddress();
    port = a.getPort();
    reactor = new Reactor("mongo-test").start(true);
    client = (MongoClient) await(MongoClient.connect(
        MongoOptions.of("127.0.0.1", port).timeouts(2000, 2000), reactor));
    driver = MongoClients.create("mongodb://127.0.0.1:" + port);
  }

  @AfterEach
  void stop() throws InterruptedException {
    client.close();
    driver.close();
    server.shutdownNow();
    reactor.stop();
    reactor.awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void insertAddsIdsAndTheDriverReadsThem() {
    List<?> ids = (List<?>) await(client.insert("shop.items",
        List.of(doc(k("name"), "apple", k("qty"), 3L), doc(k("_id"), "given", k("name"), "pear"))));
    assertEquals(2, ids.size());
    assertInstanceOf(ObjectId.class, ids.get(0));
    assertEquals("given", ids.get(1));
    MongoCollection<Document> c = driver.getDatabase("shop").getCollection("items");
    Document apple = c.find(new Document("_id", ids.get(0))).first();
    assertEquals("apple", apple.getString("name"));
    assertEquals(3L, apple.getLong("qty"));
    assertEquals("pear", c.find(new Document("_id", "given")).first().getString("name"));
  }

  @Test
  void readsWhatTheDriverWrote() {
    MongoCollection<Document> c = driver.getDatabase("shop").getCollection("people");
    for (int i = 0; i < 30; i++) {
      c.insertOne(new Document("_id", i).append("name", "p" + i).append("age", i % 10));
    }
    List<?> all = (List<?>) await(client.find("shop.people", doc(k("age"), doc(k("$gte"), 5)),
        new FindOptions().sort(doc(k("_id"), -1)).batchSize(4).skip(1).limit(10).projection(doc(k("name"), 1))));
    assertEquals(10, all.size());
    Map<?, ?> first = (Map<?, ?>) all.get(0);
    assertEquals(28, first.get(k("_id")), "the driver wrote an Int32");
    assertEquals("p28", first.get(k("name")));
    assertFalse(first.containsKey(k("age")));
    assertEquals(15L, await(client.count("shop.people", doc(k("age"), doc(k("$gte"), 5)))));
    Map<?, ?> one = (Map<?, ?>) await(client.findOne("shop.people", doc(k("name"), "p7"), null));
    assertEquals(7, one.get(k("_id")));
    assertNull(await(client.findOne("shop.people", doc(k("name"), "nobody"), null)));
    List<?> ages = new ArrayList<>((List<?>) await(client.distinct("shop.people", "age", null)));
    assertEquals(10, ages.size());
  }

  @Test
  void getMoreFetchesEveryBatch() {
    List<Map<?, ?>> docs = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      docs.add(doc(k("i"), (long) i));
    }
    await(client.insert("t.many", docs));
    List<?> all = (List<?>) await(client.find("t.many", null, new FindOptions().batchSize(7)));
    assertEquals(250, all.size());
    assertEquals(250L, driver.getDatabase("t").getCollection("many").countDocuments());
  }

  @Test
  void fiveThousandDocumentsGoInFiveBatches() {
    List<Map<?, ?>> docs = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      docs.add(doc(k("x"), 1L));
    }
    MongoConnection conn = (MongoConnection) await(client.pool("127.0.0.1:" + port).acquire());
    assertEquals(1000, conn.maxWriteBatchSize()); // mongo-java-server's limit, read from the handshake
    client.pool("127.0.0.1:" + port).release(conn);
    List<?> ids = (List<?>) await(client.insert("x.y", docs));
    assertEquals(5000, ids.size());
    assertEquals(5000L, driver.getDatabase("x").getCollection("y").countDocuments());
    assertEquals(5000, ((List<?>) await(client.find("x.y", doc(), new FindOptions().limit(5000)))).size());
  }

  @Test
  void updateUpsertMultiAndDelete() {
    await(client.insert("u.c", List.of(doc(k("k"), "a", k("v"), 1L), doc(k("k"), "a", k("v"), 2L),
        doc(k("k"), "b", k("v"), 3L))));
    Map<?, ?> r = (Map<?, ?>) await(client.update("u.c", doc(k("k"), "a"), doc(k("$set"), doc(k("v"), 9L)), false, true));
    assertEquals(2L, ((Number) r.get(k("n"))).longValue());
    r = (Map<?, ?>) await(client.update("u.c", doc(k("k"), "z"), doc(k("$set"), doc(k("v"), 5L)), true, false));
    assertEquals(1L, ((Number) r.get(k("n"))).longValue());
    MongoCollection<Document> c = driver.getDatabase("u").getCollection("c");
    assertEquals(2L, c.countDocuments(new Document("v", 9L)));
    assertEquals(1L, c.countDocuments(new Document("k", "z")));
    r = (Map<?, ?>) await(client.delete("u.c", doc(k("k"), "a"), true));
    assertEquals(1L, ((Number) r.get(k("n"))).longValue());
    r = (Map<?, ?>) await(client.delete("u.c", doc(), false));
    assertEquals(3L, ((Number) r.get(k("n"))).longValue());
    assertEquals(0L, c.countDocuments());
  }

  @Test
  void duplicateKeyIsACommandErrorWithCode11000() {
    await(client.createIndex("d.users", doc(k("email"), 1L), true, null));
    await(client.insert("d.users", List.of(doc(k("email"), "a@b.c"))));
    Throwable e = awaitError(client.insert("d.users", List.of(doc(k("email"), "a@b.c"))));
    MongoCommandException ce = assertInstanceOf(MongoCommandException.class, e);
    assertEquals(11000, ce.code());
    assertEquals(1, ce.writeErrors().size());
    assertEquals(0, ce.writeErrors().get(0).index());
    assertEquals(11000, ce.writeErrors().get(0).code());
    assertTrue(ce.writeErrors().get(0).message().contains("duplicate key"), ce.writeErrors().get(0).message());
    // Clojure's view: ex-data with the keys the Clojure API has always had.
    assertEquals(11000L, ce.getData().valAt(k("code")));
    assertEquals(ce.errorMessage(), ce.getData().valAt(k("message")));
    Map<?, ?> we = (Map<?, ?>) ((List<?>) ce.getData().valAt(k("write-errors"))).get(0);
    assertEquals(11000L, ((Number) we.get(k("code"))).longValue());
    assertSame(ce.getData(), ce.getData());
    // The connection is still good.
    assertEquals(1L, await(client.count("d.users", null)));
  }

  @Test
  void unknownCommandFailsWithItsCode() {
    MongoCommandException e = assertInstanceOf(MongoCommandException.class,
        awaitError(client.command("admin", doc(k("noSuchCommand"), 1L))));
    assertEquals(59, e.code());
  }

  @Test
  void aggregateFindAndModifyListAndDrop() {
    await(client.insert("a.s", List.of(doc(k("g"), "x", k("n"), 1L), doc(k("g"), "x", k("n"), 2L),
        doc(k("g"), "y", k("n"), 5L))));
    List<?> groups = (List<?>) await(client.aggregate("a.s", List.of(
        doc(k("$group"), doc(k("_id"), "$g", k("total"), doc(k("$sum"), "$n"))),
        doc(k("$sort"), doc(k("_id"), 1L))), 0));
    assertEquals(List.of(doc(k("_id"), "x", k("total"), 3L), doc(k("_id"), "y", k("total"), 5L)), groups);
    Map<?, ?> after = (Map<?, ?>) await(client.findAndModify("a.s", doc(k("query"), doc(k("g"), "y"),
        k("update"), doc(k("$inc"), doc(k("n"), 1L)), k("new"), true)));
    assertEquals(6L, after.get(k("n")));
    List<?> colls = (List<?>) await(client.listCollections("a"));
    assertTrue(colls.stream().anyMatch(m -> "s".equals(((Map<?, ?>) m).get(k("name")))), colls.toString());
    assertEquals(Boolean.TRUE, await(client.drop("a.s")));
    assertEquals(Boolean.FALSE, await(client.drop("a.s")));
    assertEquals(0L, driver.getDatabase("a").getCollection("s").countDocuments());
  }

  @Test
  void streamDeliversEveryDocumentAsTheConsumerPulls() {
    List<Map<?, ?>> docs = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      docs.add(doc(k("i"), (long) i));
    }
    await(client.insert("s.c", docs));
    Stream s = (Stream) await(client.findStream("s.c", null, new FindOptions().batchSize(10).sort(doc(k("i"), 1L))));
    for (long i = 0; i < 120; i++) {
      assertEquals(i, ((Map<?, ?>) await(s.take())).get(k("i")));
    }
    assertTrue(await(s.take()) == Stream.EOF);
  }

  @Test
  void poolServesConcurrentOperationsWithinItsBound() {
    MongoClient pooled = (MongoClient) await(MongoClient.connect(
        MongoOptions.of("127.0.0.1", port).pool(3, 1000, 5000), reactor));
    try {
      List<Fut<Object>> fs = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        fs.add(pooled.insert("p.c", List.of(doc(k("i"), (long) i))));
      }
      assertEquals(200, ((List<?>) await(Fut.all(fs))).size());
      assertTrue(pooled.pool("127.0.0.1:" + port).size() <= 3);
      assertEquals(200L, driver.getDatabase("p").getCollection("c").countDocuments());
    } finally {
      pooled.close();
    }
  }

  @Test
  void fullWaitQueueFailsAtOnce() {
    MongoClient tiny = MongoClient.create(MongoOptions.of("127.0.0.1", port).pool(1, 1, 5000), reactor);
    try {
      ConnectionPool p = tiny.pool("127.0.0.1:" + port);
      MongoConnection held = (MongoConnection) await(p.acquire());
      Fut waiting = p.acquire();
      Throwable e = awaitError(p.acquire());
      assertInstanceOf(MongoConnectionException.class, e);
      assertFalse(waiting.isDone());
      p.release(held);
      assertTrue(await(waiting) == held);
    } finally {
      tiny.close();
    }
  }

  @Test
  void waitForAConnectionTimesOut() {
    MongoClient tiny = MongoClient.create(MongoOptions.of("127.0.0.1", port).pool(1, 5, 100), reactor);
    try {
      ConnectionPool p = tiny.pool("127.0.0.1:" + port);
      await(p.acquire());
      assertInstanceOf(MongoConnectionException.class, awaitError(p.acquire()));
    } finally {
      tiny.close();
    }
  }

  @Test
  void serverGoingAwayFailsPendingThenNextOperationReconnects() throws Exception {
    await(client.insert("r.c", List.of(doc(k("a"), 1L))));
    server.shutdownNow();
    Throwable e = awaitError(client.count("r.c", null));
    assertInstanceOf(MongoConnectionException.class, e);
    server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", port);
    await(client.insert("r.c", List.of(doc(k("a"), 2L))));
    assertEquals(1L, await(client.count("r.c", null)));
  }

  @Test
  void uriGivesHostsDatabaseAndLimits() {
    MongoOptions o = MongoOptions.fromUri("mongodb://u:p%40ss@h1:1,h2/mydb?replicaSet=rs0&authSource=admin"
        + "&appName=app&connectTimeoutMS=1234&socketTimeoutMS=99&maxPoolSize=7&waitQueueTimeoutMS=55");
    assertEquals(List.of("h1:1", "h2:27017"), o.hosts);
    assertEquals("mydb", o.database);
    assertEquals("u", o.user);
    assertEquals("p@ss", o.password);
    assertEquals("admin", o.authSource);
    assertEquals("rs0", o.replicaSet);
    assertEquals("app", o.appName);
    assertEquals(1234, o.connectTimeoutMs);
    assertEquals(99, o.socketTimeoutMs);
    assertEquals(7, o.maxPoolSize);
    assertEquals(55, o.waitQueueTimeoutMs);
    assertFalse(o.toString().contains("p@ss"));
  }

  @Test
  void connectingToNothingFails() throws Exception {
    java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
    int dead = ss.getLocalPort();
    ss.close();
    assertInstanceOf(MongoConnectionException.class,
        awaitError(MongoClient.connect(MongoOptions.of("127.0.0.1", dead), reactor)));
  }

  @Test
  void tooLargeDocumentIsRefusedBeforeSending() {
    byte[] big = new byte[17 * 1024 * 1024];
    assertThrows(IllegalArgumentException.class, () -> {
      throw awaitError(client.insert("big.c", List.of(doc(k("b"), big))));
    });
  }

  @Test
  void bulkWriteGroupsMixedOperationsAndSumsTheirCounts() {
    List<BulkOp> ops = List.of(
        BulkOp.insert(doc(k("_id"), 1L, k("v"), "a")),
        BulkOp.insert(doc(k("_id"), 2L, k("v"), "b")),
        BulkOp.update(doc(k("_id"), 1L), doc(k("$set"), doc(k("v"), "A")), false, false),
        BulkOp.update(doc(k("_id"), 9L), doc(k("$set"), doc(k("v"), "up")), true, false),
        BulkOp.insert(doc(k("v"), "c")),
        BulkOp.delete(doc(k("_id"), 2L), true));
    Map<?, ?> r = (Map<?, ?>) await(client.bulkWrite("b.c", ops, true));
    assertEquals(3L, r.get(k("nInserted")));
    assertEquals(1L, r.get(k("nMatched")));
    assertEquals(1L, r.get(k("nModified")));
    assertEquals(1L, r.get(k("nUpserted")));
    assertEquals(1L, r.get(k("nRemoved")));
    assertEquals(List.of(3L), ((List<?>) r.get(k("upserted"))).stream().map(u -> ((Map<?, ?>) u).get(k("index"))).toList());
    Map<?, ?> ids = (Map<?, ?>) r.get(k("insertedIds"));
    assertEquals(List.of(0L, 1L, 4L), new ArrayList<>(ids.keySet()));
    assertInstanceOf(ObjectId.class, ids.get(4L));
    MongoCollection<Document> c = driver.getDatabase("b").getCollection("c");
    assertEquals("A", c.find(new Document("_id", 1L)).first().getString("v"));
    assertNull(c.find(new Document("_id", 2L)).first());
    assertEquals("up", c.find(new Document("_id", 9L)).first().getString("v"));
    assertEquals("c", c.find(new Document("_id", ids.get(4L))).first().getString("v"));
    assertEquals(3L, c.countDocuments());
  }

  @Test
  void orderedBulkWriteStopsAtADuplicateKeyInTheMiddle() {
    await(client.insert("b.o", List.of(doc(k("_id"), 2L))));
    List<BulkOp> ops = List.of(
        BulkOp.delete(doc(k("_id"), 100L), true),
        BulkOp.insert(doc(k("_id"), 1L)),
        BulkOp.insert(doc(k("_id"), 2L)),
        BulkOp.insert(doc(k("_id"), 3L)),
        BulkOp.update(doc(k("_id"), 1L), doc(k("$set"), doc(k("x"), 1L)), false, false));
    MongoCommandException e = assertInstanceOf(MongoCommandException.class,
        awaitError(client.bulkWrite("b.o", ops, true)));
    assertEquals(11000, e.code());
    assertEquals(1, e.writeErrors().size());
    assertEquals(2, e.writeErrors().get(0).index());
    assertEquals(1L, e.response().get("nInserted"));
    assertEquals(List.of("1"), new ArrayList<>(e.response().get("insertedIds", Document.class).keySet()));
    Map<?, ?> data = (Map<?, ?>) e.getData();
    assertEquals(1L, ((Map<?, ?>) data.get(k("response"))).get(k("nInserted")));
    assertEquals(List.of(1L), new ArrayList<>(((Map<?, ?>) ((Map<?, ?>) data.get(k("response"))).get(k("insertedIds"))).keySet()));
    MongoCollection<Document> c = driver.getDatabase("b").getCollection("o");
    assertEquals(2L, c.countDocuments());
    assertNull(c.find(new Document("_id", 3L)).first());
    assertNull(c.find(new Document("_id", 1L)).first().get("x")); // the update after the error was not sent
  }

  @Test
  void unorderedBulkWriteSendsEverythingAndGathersErrorsWithTheirIndexes() {
    await(client.insert("b.u", List.of(doc(k("_id"), 2L), doc(k("_id"), 5L))));
    List<BulkOp> ops = List.of(
        BulkOp.insert(doc(k("_id"), 1L)),
        BulkOp.insert(doc(k("_id"), 2L)),
        BulkOp.insert(doc(k("_id"), 3L)),
        BulkOp.update(doc(k("_id"), 1L), doc(k("$set"), doc(k("x"), 1L)), false, false),
        BulkOp.insert(doc(k("_id"), 5L)),
        BulkOp.insert(doc(k("_id"), 6L)));
    MongoCommandException e = assertInstanceOf(MongoCommandException.class,
        awaitError(client.bulkWrite("b.u", ops, false)));
    List<Integer> idx = new ArrayList<>();
    for (WriteError we : e.writeErrors()) {
      idx.add(we.index());
      assertEquals(11000, we.code());
    }
    assertEquals(List.of(1, 4), idx);
    List<Object> rawIdx = new ArrayList<>();
    for (Object we : (List<?>) e.getData().valAt(k("write-errors"))) {
      rawIdx.add(((Map<?, ?>) we).get(k("index")));
    }
    assertEquals(List.of(1L, 4L), rawIdx);
    assertEquals(3L, e.response().get("nInserted"));
    assertEquals(1L, e.response().get("nModified"));
    assertEquals(List.of("0", "2", "5"), new ArrayList<>(e.response().get("insertedIds", Document.class).keySet()));
    MongoCollection<Document> c = driver.getDatabase("b").getCollection("u");
    assertEquals(5L, c.countDocuments());
    assertEquals(1, c.find(new Document("_id", 1L)).first().getLong("x"));
  }

  @Test
  void bulkWriteSplitsALongRunIntoBatchesAndKeepsIndexes() {
    List<BulkOp> ops = new ArrayList<>();
    for (long i = 0; i < 2500; i++) {
      ops.add(BulkOp.insert(doc(k("_id"), i == 2200 ? 5L : i)));
    }
    MongoCommandException e = assertInstanceOf(MongoCommandException.class,
        awaitError(client.bulkWrite("b.big", ops, true)));
    // The duplicate is in the third batch of 1,000: its index counts from the start of the list.
    assertEquals(2200, e.writeErrors().get(0).index());
    assertEquals(2200L, e.response().get("nInserted"));
    assertEquals(2200L, driver.getDatabase("b").getCollection("big").countDocuments());
  }
}
