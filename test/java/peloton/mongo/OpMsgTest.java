package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import clojure.lang.Keyword;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bson.io.BasicOutputBuffer;
import org.junit.jupiter.api.Test;

/** OP_MSG encoding, framing, decoding of good and bad bytes, and batch splitting. */
class OpMsgTest {
  static Keyword k(String s) {
    return Keyword.intern(s);
  }

  static Map<?, ?> doc(Object... kvs) {
    return BsonCodec.command(kvs);
  }

  private static byte[] sample(int flags) {
    List<Object> docs = List.of(doc(k("_id"), 1L, k("a"), "x"), doc(k("_id"), 2L));
    List<Object> more = List.of(doc(k("q"), doc(), k("u"), doc(k("$set"), doc(k("b"), 1L))));
    return OpMsg.encode(77, flags, doc(k("insert"), "c", k("$db"), "test"),
        new OpMsg.Sequence("documents", docs), new OpMsg.Sequence("updates", more));
  }

  @Test
  void encodesHeaderAndSectionsThatDecodeBack() {
    byte[] m = sample(0);
    ByteBuffer le = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(m.length, le.getInt(0));
    assertEquals(77, le.getInt(4));
    assertEquals(0, le.getInt(8));
    assertEquals(2013, le.getInt(12));
    assertEquals(0, le.getInt(16));
    assertEquals(0, m[20], "first section is the body");
    assertEquals(m.length, OpMsg.frameLength(ByteBuffer.wrap(m)));

    OpMsg.Reply r = OpMsg.decode(ByteBuffer.wrap(m));
    assertEquals(77, r.requestId);
    assertEquals(m.length, r.messageLength);
    assertEquals(doc(k("insert"), "c", k("$db"), "test"), r.body);
    assertEquals(List.of(doc(k("_id"), 1L, k("a"), "x"), doc(k("_id"), 2L)), r.sequences.get("documents"));
    assertEquals(1, r.sequences.get("updates").size());
  }

  @Test
  void checksumIsWrittenVerifiedAndSkipped() {
    byte[] m = sample(OpMsg.CHECKSUM_PRESENT);
    assertEquals(sample(0).length + 4, m.length);
    OpMsg.Reply r = OpMsg.decode(ByteBuffer.wrap(m));
    assertEquals(OpMsg.CHECKSUM_PRESENT, r.flagBits);
    assertEquals(2, r.sequences.get("documents").size());
    m[30] ^= 1;
    assertThrows(MongoProtocolException.class, () -> OpMsg.decode(ByteBuffer.wrap(m)));
  }

  @Test
  void decodeAdvancesPastOneMessageOfSeveral() {
    byte[] a = sample(0);
    byte[] b = OpMsg.encode(78, OpMsg.MORE_TO_COME, doc(k("ok"), 1.0));
    ByteBuffer buf = ByteBuffer.allocate(a.length + b.length).put(a).put(b).flip();
    assertEquals(77, OpMsg.decode(buf).requestId);
    assertEquals(a.length, buf.position());
    OpMsg.Reply r = OpMsg.decode(buf);
    assertTrue(r.moreToCome());
    assertEquals(0, buf.remaining());
  }

  @Test
  void frameLength() {
    assertEquals(-1, OpMsg.frameLength(ByteBuffer.wrap(new byte[3])));
    byte[] m = sample(0);
    ByteBuffer partial = ByteBuffer.wrap(m, 0, 10);
    assertEquals(m.length, OpMsg.frameLength(partial), "length known before the message is complete");
    assertEquals(0, partial.position(), "position untouched");
    assertThrows(MongoProtocolException.class, () -> OpMsg.frameLength(ByteBuffer.wrap(m), m.length - 1));
    assertThrows(MongoProtocolException.class, () -> OpMsg.frameLength(ByteBuffer.wrap(new byte[] {3, 0, 0, 0})));
    assertThrows(MongoProtocolException.class, () -> OpMsg.frameLength(ByteBuffer.wrap(new byte[] {-1, -1, -1, -1})));
  }

  @Test
  void malformedMessagesAreProtocolErrors() {
    byte[] m = sample(0);
    for (int n = 0; n < m.length; n++) {
      ByteBuffer prefix = ByteBuffer.wrap(Arrays.copyOf(m, n));
      assertThrows(MongoProtocolException.class, () -> OpMsg.decode(prefix), "prefix of " + n);
    }
    byte[] op = m.clone();
    op[12] = 1; // OP_REPLY
    assertThrows(MongoProtocolException.class, () -> OpMsg.decode(ByteBuffer.wrap(op)));
    byte[] kind = m.clone();
    kind[20] = 2;
    assertThrows(MongoProtocolException.class, () -> OpMsg.decode(ByteBuffer.wrap(kind)));
    byte[] flag = m.clone();
    flag[16] = 4; // unknown required bit
    assertThrows(MongoProtocolException.class, () -> OpMsg.decode(ByteBuffer.wrap(flag)));
    byte[] shortLen = m.clone();
    shortLen[0] -= 3; // length now ends inside a document
    assertThrows(MongoProtocolException.class, () -> OpMsg.decode(ByteBuffer.wrap(shortLen)));
    byte[] noBody = OpMsg.encode(1, 0, doc());
    noBody[20] = 1; // the body reinterpreted as a sequence
    assertThrows(MongoProtocolException.class, () -> OpMsg.decode(ByteBuffer.wrap(noBody)));

    Random rnd = new Random(7);
    for (int i = 0; i < 3000; i++) {
      byte[] c = m.clone();
      for (int j = rnd.nextInt(3); j >= 0; j--) {
        c[rnd.nextInt(c.length)] = (byte) rnd.nextInt(256);
      }
      try {
        OpMsg.decode(ByteBuffer.wrap(c));
      } catch (MongoProtocolException expected) {
        // fine: the only failure allowed
      } catch (RuntimeException e) {
        fail("corrupted message gave " + e, e);
      }
    }
  }

  @Test
  void encodeRefusesOversizeMessagesAndLeavesTheBufferClean() {
    BasicOutputBuffer out = new BasicOutputBuffer();
    out.writeInt32(5);
    List<Object> docs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      docs.add(doc(k("i"), (long) i, k("pad"), "x".repeat(100)));
    }
    assertThrows(IllegalArgumentException.class, () -> OpMsg.encode(out, 1, 0, doc(k("insert"), "c"),
        List.of(new OpMsg.Sequence("documents", docs)), 5000));
    assertEquals(4, out.getPosition());
    int n = OpMsg.encode(out, 1, 0, doc(k("insert"), "c"), List.of(new OpMsg.Sequence("documents", docs)),
        OpMsg.DEFAULT_MAX_MESSAGE_SIZE);
    assertEquals(4 + n, out.getPosition());
    assertThrows(IllegalArgumentException.class, () -> OpMsg.encode(2, 0, doc(k("x"), new Object())));
  }

  @Test
  void splitBatchesByCountAndBySize() {
    List<Object> docs = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      docs.add(doc(k("_id"), (long) i, k("pad"), "y".repeat(80)));
    }
    List<List<byte[]>> batches = OpMsg.splitBatches(docs, 1000, OpMsg.DEFAULT_MAX_MESSAGE_SIZE,
        OpMsg.DEFAULT_MAX_BSON_OBJECT_SIZE);
    assertEquals(5, batches.size());
    batches.forEach(b -> assertEquals(1000, b.size()));
    assertArrayEquals(BsonCodec.encode(docs.get(1000)), batches.get(1).get(0), "order and content kept");

    int docSize = BsonCodec.encode(docs.get(0)).length;
    int maxMessage = OpMsg.BATCH_HEADROOM + 50 * docSize + 10; // room for 50 documents
    List<List<byte[]>> small = OpMsg.splitBatches(docs, 1000, maxMessage, OpMsg.DEFAULT_MAX_BSON_OBJECT_SIZE);
    assertEquals(100, small.size());
    int total = 0;
    for (List<byte[]> b : small) {
      int bytes = b.stream().mapToInt(x -> x.length).sum();
      assertTrue(bytes <= maxMessage - OpMsg.BATCH_HEADROOM);
      total += b.size();
      // every batch, as a real insert message, fits the limit
      assertTrue(OpMsg.encode(1, 0, doc(k("insert"), "c", k("$db"), "test"),
          new OpMsg.Sequence("documents", b)).length <= maxMessage);
    }
    assertEquals(5000, total);

    List<Object> withBig = List.of(doc(k("a"), 1L), doc(k("big"), "z".repeat(2000)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OpMsg.splitBatches(withBig, 1000, OpMsg.DEFAULT_MAX_MESSAGE_SIZE, 1000));
    assertTrue(e.getMessage().contains("document 1"), e.getMessage());
    assertEquals(List.of(), OpMsg.splitBatches(List.of(), 10, OpMsg.DEFAULT_MAX_MESSAGE_SIZE, 1000));
  }

  @Test
  void requestIdsArePositiveAndDistinct() {
    int a = OpMsg.requestId();
    int b = OpMsg.requestId();
    assertTrue(a > 0 && b > 0 && a != b);
  }
}
