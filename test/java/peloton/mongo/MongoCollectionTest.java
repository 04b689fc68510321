package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoClientSettings;
import com.mongodb.bulk.BulkWriteResult;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.InsertOneModel;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.UpdateManyModel;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import com.mongodb.client.result.InsertManyResult;
import com.mongodb.client.result.UpdateResult;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bson.BsonInt32;
import org.bson.BsonObjectId;
import org.bson.Document;
import org.bson.types.Binary;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.Fut;
import peloton.fut.Stream;
import peloton.reactor.Reactor;

/**
 * The Java-shaped API ({@link MongoCollection}) against mongo-java-server over real sockets, with
 * the official sync driver as the oracle for what was written and what a read must answer.
 */
class MongoCollectionTest {
  private MongoServer server;
  private Reactor reactor;
  private MongoClient client;
  private com.mongodb.client.MongoClient driver;
  private MongoCollection coll;
  private com.mongodb.client.MongoCollection<Document> oracle;

  static <T> T await(Fut<T> f) {
    try {
      return f.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("fut failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static Throwable awaitError(Fut<?> f) {
    try {
      Object v = f.get(10, TimeUnit.SECONDS);
      throw new AssertionError("no error: " + v);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @BeforeEach
  void start() {
    server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", 0);
    int port = server.getLocalAddress().getPort();
    reactor = new Reactor("mongo-java-test").start(true);
    client = await(MongoClient.connect(MongoOptions.of("127.0.0.1", port).timeouts(2000, 2000), reactor));
    driver = MongoClients.create("mongodb://127.0.0.1:" + port);
    coll = client.database("shop").collection("items");
    oracle = driver.getDatabase("shop").getCollection("items");
  }

  @AfterEach
  void stop() throws InterruptedException {
    client.close();
    driver.close();
    server.shutdownNow();
    reactor.stop();
    reactor.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** A document with a field of each common BSON type and more than eight keys. */
  static Document rich(Object id) {
    return new Document("_id", id).append("i32", 7).append("i64", 7L).append("dbl", 1.5)
        .append("dec", new Decimal128(new BigDecimal("1.10"))).append("str", "s")
        .append("bin", new Binary(new byte[] {1, 2, 3})).append("date", new Date(1_700_000_000_000L))
        .append("oid", new ObjectId("5f0000000000000000000001")).append("bool", true).append("nil", null)
        .append("arr", List.of(1, 2L, "x")).append("sub", new Document("z", 1).append("a", 2));
  }

  @Test
  void documentsComeBackAsTheDriverReadsThemTypesAndOrderKept() {
    Document written = rich(1);
    await(coll.insertOne(written));
    Document byDriver = oracle.find(Filters.eq("_id", 1)).first();
    Document byPeloton = await(coll.find(Filters.eq("_id", 1)).first());
    assertEquals(byDriver, byPeloton);
    assertEquals(new ArrayList<>(byDriver.keySet()), new ArrayList<>(byPeloton.keySet()));
    assertEquals(new ArrayList<>(written.keySet()), new ArrayList<>(byPeloton.keySet()));
    assertInstanceOf(Integer.class, byPeloton.get("i32"));
    assertInstanceOf(Long.class, byPeloton.get("i64"));
    assertInstanceOf(Decimal128.class, byPeloton.get("dec"));
    assertEquals(List.of("z", "a"), new ArrayList<>(byPeloton.get("sub", Document.class).keySet()));
    assertEquals(List.of(1, 2L, "x"), byPeloton.getList("arr", Object.class));
  }

  @Test
  void whatTheDriverWritesPelotonReadsTheSame() {
    oracle.insertOne(rich("d"));
    Document expected = oracle.find().first();
    assertEquals(List.of(expected), await(coll.find().toList()));
  }

  @Test
  void insertAssignsIdsLikeTheDriver() {
    Document a = new Document("name", "a");
    ObjectId id = await(coll.insertOne(a)).getInsertedId().asObjectId().getValue();
    assertEquals(id, a.getObjectId("_id"));
    InsertManyResult many = await(coll.insertMany(List.of(new Document("name", "b"), new Document("_id", 5))));
    assertEquals(new BsonInt32(5), many.getInsertedIds().get(1));
    assertInstanceOf(BsonObjectId.class, many.getInsertedIds().get(0));
    assertEquals(3, oracle.countDocuments());
    assertEquals("_id", oracle.find(Filters.eq("name", "a")).first().keySet().iterator().next());
  }

  @Test
  void findRefinesWithBuilders() {
    for (int i = 0; i < 10; i++) {
      oracle.insertOne(new Document("_id", i).append("n", i % 3).append("name", "item" + i));
    }
    List<Document> got = await(coll.find(Filters.gte("_id", 2)).sort(Sorts.descending("_id"))
        .projection(Projections.include("name")).skip(1).limit(3).batchSize(2).toList());
    assertEquals(List.of(new Document("_id", 8).append("name", "item8"), new Document("_id", 7).append("name", "item7"),
        new Document("_id", 6).append("name", "item6")), got);
    assertEquals(new Document("_id", 0).append("n", 0).append("name", "item0"),
        await(coll.find().sort(Sorts.ascending("_id")).first()));
    assertNull(await(coll.findOne(Filters.eq("_id", 99))));
  }

  @Test
  void aCursorStreamsEveryBatchInOrder() {
    for (int i = 0; i < 7; i++) {
      oracle.insertOne(new Document("_id", i));
    }
    Stream<Document> docs = await(coll.find().sort(Sorts.ascending("_id")).batchSize(2).cursor());
    List<Integer> ids = new ArrayList<>();
    await(docs.forEach(d -> ids.add(d.getInteger("_id"))));
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), ids);
  }

  @Test
  void aCancelledCursorEndsAndTheClientGoesOn() {
    for (int i = 0; i < 9; i++) {
      oracle.insertOne(new Document("_id", i));
    }
    Stream<Document> docs = await(coll.find().sort(Sorts.ascending("_id")).batchSize(2).cursor());
    assertEquals(0, await(docs.next()).getInteger("_id"));
    docs.cancel();
    assertNull(await(docs.next()));
    assertEquals(9L, await(coll.countDocuments(null)));
  }

  @Test
  void updatesReportMatchedModifiedAndUpserted() {
    oracle.insertMany(List.of(new Document("_id", 1).append("n", 1), new Document("_id", 2).append("n", 1)));
    UpdateResult one = await(coll.updateOne(Filters.eq("n", 1), Updates.set("n", 2)));
    assertEquals(1, one.getMatchedCount());
    assertEquals(1, one.getModifiedCount());
    assertNull(one.getUpsertedId());
    UpdateResult many = await(coll.updateMany(Filters.gt("n", 0), Updates.inc("n", 10)));
    assertEquals(2, many.getMatchedCount());
    assertEquals(List.of(12, 11), oracle.find().sort(Sorts.ascending("_id")).map(d -> d.getInteger("n")).into(new ArrayList<>()));
    UpdateResult up = await(coll.updateOne(Filters.eq("_id", 3), Updates.set("n", 0), new UpdateOptions().upsert(true)));
    assertEquals(0, up.getMatchedCount());
    assertEquals(new BsonInt32(3), up.getUpsertedId());
    UpdateResult rep = await(coll.replaceOne(Filters.eq("_id", 2), new Document("name", "two")));
    assertEquals(1, rep.getMatchedCount());
    assertEquals(new Document("_id", 2).append("name", "two"), oracle.find(Filters.eq("_id", 2)).first());
    UpdateResult repUp = await(coll.replaceOne(Filters.eq("_id", 4), new Document("name", "four"),
        new ReplaceOptions().upsert(true)));
    assertEquals(new BsonInt32(4), repUp.getUpsertedId());
    assertThrows(IllegalArgumentException.class, () -> coll.updateOne(Filters.eq("_id", 1), new Document("n", 1)));
    assertThrows(IllegalArgumentException.class, () -> coll.replaceOne(Filters.eq("_id", 1), new Document("$set", 1)));
  }

  @Test
  void deletesCount() {
    oracle.insertMany(List.of(new Document("k", 1), new Document("k", 1), new Document("k", 2)));
    assertEquals(1, await(coll.deleteOne(Filters.eq("k", 1))).getDeletedCount());
    assertEquals(2, await(coll.deleteMany(new Document())).getDeletedCount());
    assertEquals(0, oracle.countDocuments());
  }

  @Test
  void findOneAndUpdateAnswersBeforeOrAfter() {
    oracle.insertOne(new Document("_id", 1).append("n", 1));
    assertEquals(new Document("_id", 1).append("n", 1), await(coll.findOneAndUpdate(Filters.eq("_id", 1), Updates.inc("n", 1))));
    assertEquals(new Document("_id", 1).append("n", 3), await(coll.findOneAndUpdate(Filters.eq("_id", 1),
        Updates.inc("n", 1), new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER))));
    assertNull(await(coll.findOneAndUpdate(Filters.eq("_id", 9), Updates.inc("n", 1))));
  }

  @Test
  void aggregateCountAndDistinct() {
    oracle.insertMany(List.of(new Document("c", "a").append("v", 1), new Document("c", "a").append("v", 2),
        new Document("c", "b").append("v", 5)));
    List<Document> sums = await(coll.aggregate(List.of(Aggregates.group("$c", Accumulators.sum("total", "$v")),
        Aggregates.sort(Sorts.ascending("_id")))).toList());
    List<Document> expected = oracle.aggregate(List.of(Aggregates.group("$c", Accumulators.sum("total", "$v")),
        Aggregates.sort(Sorts.ascending("_id")))).into(new ArrayList<>());
    assertEquals(expected, sums);
    assertEquals(2L, await(coll.countDocuments(Filters.eq("c", "a"))));
    assertEquals(3L, await(coll.countDocuments(null)));
    List<Integer> vs = await(coll.distinct("v", Filters.lt("v", 5), Integer.class));
    assertEquals(List.of(1, 2), vs);
    assertInstanceOf(ClassCastException.class, awaitError(coll.distinct("v", null, String.class)));
  }

  @Test
  void bulkWriteTakesTheDriversModels() {
    BulkWriteResult r = await(coll.bulkWrite(List.of(
        new InsertOneModel<>(new Document("_id", 1).append("n", 1)),
        new InsertOneModel<>(new Document("_id", 2).append("n", 1)),
        new UpdateManyModel<>(Filters.eq("n", 1), Updates.set("n", 2)),
        new UpdateOneModel<>(Filters.eq("_id", 3), Updates.set("n", 3), new UpdateOptions().upsert(true)),
        new DeleteOneModel<>(Filters.eq("_id", 1)))));
    assertEquals(2, r.getInsertedCount());
    assertEquals(2, r.getMatchedCount());
    assertEquals(1, r.getDeletedCount());
    assertEquals(1, r.getUpserts().size());
    assertEquals(3, r.getUpserts().get(0).getIndex());
    assertEquals(new BsonInt32(3), r.getUpserts().get(0).getId());
    assertEquals(List.of(new Document("_id", 2).append("n", 2), new Document("_id", 3).append("n", 3)),
        oracle.find().sort(Sorts.ascending("_id")).into(new ArrayList<>()));
  }

  @Test
  void aUniqueIndexFailsADuplicateWithCode11000() {
    assertEquals("email_1", await(coll.createIndex(Indexes.ascending("email"), new IndexOptions().unique(true))));
    await(coll.insertOne(new Document("email", "a@x")));
    Throwable e = awaitError(coll.insertOne(new Document("email", "a@x")));
    assertInstanceOf(MongoCommandException.class, e);
    assertEquals(11000, ((MongoCommandException) e).code());
    await(coll.drop());
    assertEquals(0, oracle.countDocuments());
  }

  @Test
  void runCommandAnswersADocument() {
    Document pong = await(client.database("admin").runCommand(new Document("ping", 1)));
    assertEquals(1.0, ((Number) pong.get("ok")).doubleValue());
    Throwable e = awaitError(client.database("shop").runCommand(new Document("noSuchCommand", 1)));
    assertInstanceOf(MongoCommandException.class, e);
  }

  @Test
  void aServerThatGoesAwayFailsWithAConnectionError() {
    await(coll.insertOne(new Document("x", 1)));
    server.shutdownNow();
    assertInstanceOf(MongoConnectionException.class, awaitError(coll.find().toList()));
  }

  @Test
  void namesAreChecked() {
    assertEquals("shop.items", client.collection("shop.items").namespace());
    assertEquals("items", client.collection("shop.items").name());
    assertThrows(IllegalArgumentException.class, () -> client.collection("shop."));
    assertThrows(IllegalArgumentException.class, () -> client.database("a.b"));
    assertNotNull(MongoClientSettings.getDefaultCodecRegistry());
    assertTrue(client.collection("items").namespace().endsWith(".items"));
  }
}
