package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static peloton.mongo.MongoClientTest.await;
import static peloton.mongo.MongoClientTest.awaitError;
import static peloton.mongo.MongoClientTest.doc;
import static peloton.mongo.ScriptedServer.k;

import clojure.lang.PersistentVector;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonBinaryWriter;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import org.junit.jupiter.api.Test;
import peloton.reactor.Reactor;

/** Strings are encoded as UTF-8 or refused: an unpaired surrogate is an error naming the field. */
class Utf8EncodingTest {
  private static String message(Object doc) {
    return assertThrows(IllegalArgumentException.class, () -> BsonCodec.encode(doc)).getMessage();
  }

  @Test
  void anUnpairedSurrogateInAValueNamesTheFieldAndTheIndex() {
    String m = message(doc(k("name"), "ab\uD800"));
    assertTrue(m.contains("value of field \"name\""), m);
    assertTrue(m.contains("U+D800 at index 2"), m);

    String nested = message(doc(k("a"), doc(k("b"), PersistentVector.create("fine", "x\uDC00y"))));
    assertTrue(nested.contains("value of field \"a.b.1\""), nested);
    assertTrue(nested.contains("U+DC00 at index 1"), nested);

    // A high surrogate followed by something other than a low one.
    assertTrue(message(doc(k("t"), "\uD83Dx")).contains("U+D83D at index 0"));
    // Two high surrogates: the first has no partner.
    assertTrue(message(doc(k("t"), "\uD83D\uD83D\uDE00")).contains("U+D83D at index 0"));
  }

  @Test
  void anUnpairedSurrogateInAKeyIsRefusedToo() {
    String m = message(doc(k("outer"), doc("k\uD801", 1L)));
    assertTrue(m.contains("key of field \"outer.k\\uD801\""), m);
    String top = message(doc("\uDFFF", "v"));
    assertTrue(top.contains("key of field"), top);
  }

  @Test
  void validStringsEncodeExactlyAsTheOfficialDriverDoes() {
    StringBuilder mixed = new StringBuilder();
    String[] parts = {"a", "\u00e9", "\u20ac", "\uD83D\uDE00", "z\u07ff\u0800\uFFFF"};
    // Long enough to cross the encoder's scratch chunks at every alignment, pairs included.
    for (int i = 0; mixed.length() < 30_000; i++) {
      mixed.append(parts[i % parts.length]);
    }
    for (String s : List.of("", "plain ascii", "caf\u00e9", "\u20ac100", "\uD83D\uDE00", "\uDBFF\uDFFF",
        mixed.toString(), "x".repeat(20_000))) {
      byte[] ours = BsonCodec.encode(doc(k("s"), s, "k\u00e9\uD83D\uDE00", 1L));
      BsonDocument d = new BsonDocument("s", new BsonString(s)).append("k\u00e9\uD83D\uDE00", new org.bson.BsonInt64(1));
      BasicOutputBuffer out = new BasicOutputBuffer();
      new BsonDocumentCodec().encode(new BsonBinaryWriter(out), d, EncoderContext.builder().build());
      assertArrayEquals(out.toByteArray(), ours, "length " + s.length());
      assertEquals(s, ((Map<?, ?>) BsonCodec.decode(java.nio.ByteBuffer.wrap(ours))).get(k("s")));
    }
  }

  @Test
  void aKeyWithANulIsStillRefused() {
    RuntimeException e = assertThrows(RuntimeException.class, () -> BsonCodec.encode(doc("a\u0000b", 1L)));
    assertTrue(e.getMessage().contains("null character"), e.getMessage());
  }

  @Test
  void overTheWireTheFutFailsAndNothingIsWritten() throws Exception {
    MongoServer server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", 0);
    Reactor reactor = new Reactor("utf8-test").start(true);
    try (MongoClient c = (MongoClient) await(MongoClient.connect(
        MongoOptions.of("127.0.0.1", server.getLocalAddress().getPort()), reactor))) {
      Throwable e = awaitError(c.insert("db.c", List.of(doc(k("ok"), "fine"), doc(k("title"), "cut \uD83D"))));
      assertInstanceOf(IllegalArgumentException.class, e);
      assertTrue(e.getMessage().contains("\"title\""), e.getMessage());
      Throwable j = awaitError(c.collection("db.c").insertOne(new org.bson.Document("body", "\uDE00")));
      assertInstanceOf(IllegalArgumentException.class, j);
      assertTrue(j.getMessage().contains("\"body\""), j.getMessage());
      Throwable f = awaitError(c.findOne("db.c", doc(k("q"), "\uD800"), null));
      assertInstanceOf(IllegalArgumentException.class, f);
      assertEquals(0L, ((Number) await(c.count("db.c", doc()))).longValue(), "nothing was sent");
    } finally {
      reactor.stop();
      reactor.awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow();
    }
  }
}
