package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.lang.Keyword;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OP_MSG against a real wire-protocol server (mongo-java-server) over a real socket, with the
 * official driver checking what landed and writing what we read.
 */
class OpMsgServerTest {
  private MongoServer server;
  private InetSocketAddress addr;
  private Socket socket;
  private MongoClient driver;

  static Keyword k(String s) {
    return Keyword.intern(s);
  }

  static Map<?, ?> doc(Object... kvs) {
    return BsonCodec.command(kvs);
  }

  @BeforeEach
  void start() throws IOException {
    server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", 0);
    addr = server.getLocalAddress();
    socket = new Socket(addr.getAddress(), addr.getPort());
    socket.setSoTimeout(10_000);
    driver = MongoClients.create("mongodb://127.0.0.1:" + addr.getPort());
  }

  @AfterEach
  void stop() throws IOException {
    driver.close();
    socket.close();
    server.shutdownNow();
  }

  /** Sends one message and reads its reply, framed with OpMsg.frameLength. */
  private OpMsg.Reply roundTrip(byte[] request, int requestId) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(request);
    out.flush();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    byte[] head = new byte[4];
    in.readFully(head);
    int len = OpMsg.frameLength(ByteBuffer.wrap(head));
    byte[] msg = new byte[len];
    System.arraycopy(head, 0, msg, 0, 4);
    in.readFully(msg, 4, len - 4);
    OpMsg.Reply r = OpMsg.decode(ByteBuffer.wrap(msg));
    assertEquals(requestId, r.responseTo);
    return r;
  }

  private OpMsg.Reply command(Map<?, ?> body, OpMsg.Sequence... seqs) throws IOException {
    int id = OpMsg.requestId();
    OpMsg.Reply r = roundTrip(OpMsg.encode(id, 0, body, seqs), id);
    assertEquals(1.0, ((Number) ((Map<?, ?>) r.body).get(k("ok"))).doubleValue(), () -> String.valueOf(r.body));
    return r;
  }

  @Test
  void handshakeInsertInBatchesThenDriverSeesTheDocuments() throws IOException {
    Map<?, ?> hello = (Map<?, ?>) command(doc(k("isMaster"), 1, k("$db"), "admin")).body;
    assertTrue(hello.get(k("maxWireVersion")) instanceof Integer, "Int32 stays Integer");
    int maxBatch = ((Number) hello.get(k("maxWriteBatchSize"))).intValue();
    int maxMessage = ((Number) hello.get(k("maxMessageSizeBytes"))).intValue();
    int maxObject = ((Number) hello.get(k("maxBsonObjectSize"))).intValue();

    UUID uuid = UUID.randomUUID();
    Date when = new Date(1_700_000_000_000L);
    List<Object> docs = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      docs.add(doc(k("_id"), (long) i, k("name"), "n" + i, k("i32"), i, k("tags"), List.of("a", (long) i),
          k("sub"), doc(k("uuid"), uuid, k("when"), when)));
    }
    List<List<byte[]>> batches = OpMsg.splitBatches(docs, Math.min(maxBatch, 1000), maxMessage, maxObject);
    assertEquals(3, batches.size());
    long inserted = 0;
    for (List<byte[]> b : batches) {
      Map<?, ?> reply = (Map<?, ?>) command(doc(k("insert"), "things", k("ordered"), true, k("$db"), "test"),
          new OpMsg.Sequence("documents", b)).body;
      inserted += ((Number) reply.get(k("n"))).longValue();
    }
    assertEquals(2500, inserted);

    MongoCollection<Document> coll = driver.getDatabase("test").getCollection("things");
    assertEquals(2500, coll.countDocuments());
    Document d = coll.find(new Document("_id", 1234L)).first();
    assertEquals("n1234", d.getString("name"));
    assertEquals(1234, d.getInteger("i32"));
    assertEquals(List.of("a", 1234L), d.getList("tags", Object.class));
    Document sub = d.get("sub", Document.class);
    assertEquals(when, sub.getDate("when"));
    assertEquals(4, sub.get("uuid", org.bson.types.Binary.class).getType());
  }

  @Test
  void driverWritesAndOurFindDecodes() throws IOException {
    ObjectId oid = new ObjectId();
    driver.getDatabase("test").getCollection("people").insertMany(List.of(
        new Document("_id", oid).append("name", "Ada").append("age", 36).append("langs", List.of("en", "fr")),
        new Document("_id", new ObjectId()).append("name", "Bob").append("age", 41L)));

    Map<?, ?> body = (Map<?, ?>) command(doc(k("find"), "people", k("filter"), doc(k("name"), "Ada"),
        k("$db"), "test")).body;
    Map<?, ?> cursor = (Map<?, ?>) body.get(k("cursor"));
    assertEquals(0L, cursor.get(k("id")));
    List<?> batch = (List<?>) cursor.get(k("firstBatch"));
    assertEquals(1, batch.size());
    Map<?, ?> ada = (Map<?, ?>) batch.get(0);
    assertEquals(oid, ada.get(k("_id")));
    assertEquals("Ada", ada.get(k("name")));
    assertEquals(36, ada.get(k("age")), "the driver wrote an Int32");
    assertEquals(List.of("en", "fr"), ada.get(k("langs")));

    // An update sent as a kind-1 "updates" sequence, checked through the driver.
    Map<?, ?> upd = (Map<?, ?>) command(doc(k("update"), "people", k("$db"), "test"), new OpMsg.Sequence("updates",
        List.of(doc(k("q"), doc(k("name"), "Bob"), k("u"), doc(k("$set"), doc(k("age"), 42L)), k("multi"), false))))
        .body;
    assertEquals(1, upd.get(k("nModified")), "an Int32 from the server");
    assertEquals(42L, driver.getDatabase("test").getCollection("people")
        .find(new Document("name", "Bob")).first().getLong("age"));

    // And a delete as a "deletes" sequence.
    command(doc(k("delete"), "people", k("$db"), "test"), new OpMsg.Sequence("deletes",
        List.of(doc(k("q"), doc(k("name"), "Ada"), k("limit"), 1))));
    assertEquals(1, driver.getDatabase("test").getCollection("people").countDocuments());
    byte[] raw = BsonCodec.encode(doc(k("x"), new byte[] {1}));
    assertArrayEquals(new byte[] {1}, (byte[]) ((Map<?, ?>) BsonCodec.decode(raw)).get(k("x")));
  }
}
