package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static peloton.mongo.MongoClientTest.await;
import static peloton.mongo.MongoClientTest.awaitError;
import static peloton.mongo.MongoClientTest.doc;
import static peloton.mongo.ScriptedServer.hello;
import static peloton.mongo.ScriptedServer.k;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import peloton.fut.PelotonException;
import peloton.reactor.Reactor;

/**
 * A server's error replies as the typed {@link MongoCommandException} a Java caller reads, and as
 * the ex-data a Clojure caller reads, over real sockets to a scripted server.
 */
class MongoErrorsTest {
  private Reactor reactor;
  private ScriptedServer server;
  private MongoClient client;

  @BeforeEach
  void start() {
    reactor = new Reactor("errors-test").start(true);
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
    reactor.stop();
    reactor.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** A client of a server that answers every insert with {@code insertReply}. */
  private MongoCollection collectionAnswering(Map<?, ?> insertReply) throws Exception {
    server = new ScriptedServer((r, name) -> name.equals("isMaster") ? hello()
        : name.equals("insert") ? insertReply : doc(k("ok"), 1.0));
    MongoOptions o = new MongoOptions();
    o.hosts.add(server.address());
    client = (MongoClient) await(MongoClient.connect(o.timeouts(2000, 2000), reactor));
    return client.collection("app.users");
  }

  @Test
  void aCommandErrorHasItsCodeNameAndLabelsTyped() throws Exception {
    MongoCollection users = collectionAnswering(doc(k("ok"), 0.0, k("code"), 112L, k("codeName"), "WriteConflict",
        k("errmsg"), "write conflict on users", k("errorLabels"), List.of("TransientTransactionError")));
    Throwable t = awaitError(users.insertOne(new Document("name", "ann")));
    MongoCommandException e = assertInstanceOf(MongoCommandException.class, t);
    assertEquals(112, e.code());
    assertEquals("WriteConflict", e.codeName());
    assertEquals("write conflict on users", e.errorMessage());
    assertEquals(List.of("TransientTransactionError"), e.errorLabels());
    assertTrue(e.hasErrorLabel("TransientTransactionError"));
    assertFalse(e.hasErrorLabel("RetryableWriteError"));
    assertTrue(e.writeErrors().isEmpty());
    Document reply = e.response();
    assertEquals("WriteConflict", reply.getString("codeName"));
    assertEquals(List.of("TransientTransactionError"), reply.getList("errorLabels", String.class));
    // Clojure's view of the same error.
    Map<?, ?> data = (Map<?, ?>) e.getData();
    assertEquals(112L, data.get(k("code")));
    assertEquals("WriteConflict", data.get(k("code-name")));
    assertEquals("write conflict on users", data.get(k("message")));
    assertEquals(List.of("TransientTransactionError"), data.get(k("error-labels")));
    assertEquals("WriteConflict", ((Map<?, ?>) data.get(k("response"))).get(k("codeName")));
  }

  @Test
  void aWriteConcernErrorIsAnErrorWithTheWriteDone() throws Exception {
    MongoCollection users = collectionAnswering(doc(k("ok"), 1.0, k("n"), 1L, k("writeConcernError"),
        doc(k("code"), 64L, k("codeName"), "WriteConcernFailed", k("errmsg"), "waiting for replication timed out")));
    MongoCommandException e = assertInstanceOf(MongoCommandException.class,
        awaitError(users.insertOne(new Document("name", "ann"))));
    assertEquals(64, e.code());
    assertEquals("WriteConcernFailed", e.codeName());
    assertTrue(e.writeErrors().isEmpty());
    assertTrue(e.errorLabels().isEmpty());
    assertNull(e.getData().valAt(k("error-labels")));
    assertEquals(1L, e.response().get("n"));
    assertEquals("waiting for replication timed out",
        e.response().get("writeConcernError", Document.class).getString("errmsg"));
  }

  @Test
  void writeErrorsAreTypedWithTheirIndexes() throws Exception {
    MongoCollection users = collectionAnswering(doc(k("ok"), 1.0, k("n"), 1L, k("writeErrors"), List.of(
        doc(k("index"), 1L, k("code"), 11000L, k("errmsg"), "E11000 duplicate key"),
        doc(k("index"), 2L, k("code"), 121L, k("codeName"), "DocumentValidationFailure",
            k("errmsg"), "Document failed validation"))));
    MongoCommandException e = assertInstanceOf(MongoCommandException.class, awaitError(users.insertMany(
        List.of(new Document("_id", 1), new Document("_id", 2), new Document("_id", 3)),
        new com.mongodb.client.model.InsertManyOptions().ordered(false))));
    assertEquals(11000, e.code(), "the first write error is the exception's own");
    assertEquals(2, e.writeErrors().size());
    WriteError dup = e.writeErrors().get(0);
    assertEquals(1, dup.index());
    assertEquals(11000, dup.code());
    assertNull(dup.codeName());
    assertEquals("E11000 duplicate key", dup.message());
    WriteError invalid = e.writeErrors().get(1);
    assertEquals(2, invalid.index());
    assertEquals("DocumentValidationFailure", invalid.codeName());
    assertEquals("write 2 failed with 121 (DocumentValidationFailure): Document failed validation",
        invalid.toString());
    List<?> raw = (List<?>) e.getData().valAt(k("write-errors"));
    assertEquals(121L, ((Map<?, ?>) raw.get(1)).get(k("code")));
  }

  @Test
  void aConnectionErrorIsAPelotonExceptionWithTypeConnection() throws Exception {
    MongoCollection users = collectionAnswering(doc(k("ok"), 1.0));
    server.close();
    server = null;
    Throwable t = awaitError(users.insertOne(new Document("name", "ann")));
    MongoConnectionException e = assertInstanceOf(MongoConnectionException.class, t);
    assertInstanceOf(PelotonException.class, e);
    assertTrue(e.address().startsWith("127.0.0.1:"), e.address());
    assertEquals(k("connection"), e.getData().valAt(k("type")));
    assertEquals(e.address(), e.getData().valAt(k("address")));
  }
}
