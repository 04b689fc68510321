package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentVector;
import com.mongodb.MongoClientSettings;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonNull;
import org.bson.BsonObjectId;
import org.bson.BsonRegularExpression;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DocumentCodec;
import org.bson.codecs.configuration.CodecRegistries;
import org.bson.codecs.configuration.CodecRegistry;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

/** The official driver's codecs read what BsonCodec writes, and BsonCodec reads what they write. */
class BsonCodecInteropTest {
  private static final UUID UU = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
  private static final ObjectId OID = new ObjectId("5f3e1a2b3c4d5e6f70819203");
  private static final long MILLIS = 1_700_000_000_123L;

  private static Keyword k(String s) {
    return Keyword.intern(s);
  }

  private static Object sampleDoc() {
    Object nested = PersistentArrayMap.createAsIfByAssoc(new Object[] {k("inner"), "x", k("n"), 7});
    return PersistentArrayMap.createAsIfByAssoc(new Object[] {
        k("str"), "héllo ✓", k("i64"), 42L, k("i32"), 7, k("dbl"), 2.5, k("t"), true,
        k("nil"), null, k("date"), new Date(MILLIS), k("inst"), Instant.ofEpochMilli(MILLIS + 1),
        k("uuid"), UU, k("oid"), OID, k("bin"), new byte[] {1, 2, 3},
        k("re"), Pattern.compile("^a.c$", Pattern.CASE_INSENSITIVE | Pattern.MULTILINE),
        k("dec"), new BigDecimal("123.4500"), k("ts"), new BsonTimestamp(100, 3),
        k("min"), new MinKey(), k("max"), new MaxKey(), k("kw"), k("ns/name"), k("ch"), 'c',
        k("arr"), PersistentVector.create(1L, "two", nested), "strkey", 1L, k("nested"), nested});
  }

  @Test
  void driverReadsWhatPelotonWrites() {
    byte[] bytes = BsonCodec.encode(sampleDoc());
    BsonDocument d = new RawBsonDocument(bytes).decode(new BsonDocumentCodec());

    assertEquals(List.of("str", "i64", "i32", "dbl", "t", "nil", "date", "inst", "uuid", "oid", "bin",
        "re", "dec", "ts", "min", "max", "kw", "ch", "arr", "strkey", "nested"),
        new ArrayList<>(d.keySet()), "key order is the array-map's");
    assertEquals(new BsonString("héllo ✓"), d.get("str"));
    assertEquals(new BsonInt64(42), d.get("i64"));
    assertEquals(new BsonInt32(7), d.get("i32"));
    assertEquals(new BsonDouble(2.5), d.get("dbl"));
    assertEquals(BsonBoolean.TRUE, d.get("t"));
    assertEquals(BsonNull.VALUE, d.get("nil"));
    assertEquals(new BsonDateTime(MILLIS), d.get("date"));
    assertEquals(new BsonDateTime(MILLIS + 1), d.get("inst"));
    assertEquals(4, d.getBinary("uuid").getType());
    assertEquals(UU, d.getBinary("uuid").asUuid());
    assertEquals(new BsonObjectId(OID), d.get("oid"));
    assertEquals(new BsonBinary(new byte[] {1, 2, 3}), d.get("bin"));
    assertEquals(new BsonRegularExpression("^a.c$", "im"), d.get("re"));
    assertEquals(new BsonDecimal128(Decimal128.parse("123.4500")), d.get("dec"));
    assertEquals(new BsonTimestamp(100, 3), d.get("ts"));
    assertEquals(new BsonMinKey(), d.get("min"));
    assertEquals(new BsonMaxKey(), d.get("max"));
    assertEquals(new BsonString("ns/name"), d.get("kw"));
    assertEquals(new BsonString("c"), d.get("ch"));
    BsonDocument nested = new BsonDocument("inner", new BsonString("x")).append("n", new BsonInt32(7));
    assertEquals(new BsonArray(List.of(new BsonInt64(1), new BsonString("two"), nested)), d.get("arr"));
    assertEquals(nested, d.get("nested"));

    // The default Document codec (with the standard UUID representation) agrees too.
    CodecRegistry reg = CodecRegistries.withUuidRepresentation(
        MongoClientSettings.getDefaultCodecRegistry(), UuidRepresentation.STANDARD);
    Document doc = new RawBsonDocument(bytes).decode(reg.get(Document.class));
    assertEquals("héllo ✓", doc.getString("str"));
    assertEquals(42L, doc.getLong("i64"));
    assertEquals(7, doc.getInteger("i32"));
    assertEquals(UU, doc.get("uuid", UUID.class));
    assertEquals(new Date(MILLIS), doc.getDate("date"));
    assertEquals(new Decimal128(new BigDecimal("123.4500")), doc.get("dec"));
    assertEquals("x", doc.get("nested", Document.class).getString("inner"));
  }

  @Test
  void pelotonReadsWhatTheDriverWrites() {
    BsonDocument src = new BsonDocument()
        .append("str", new BsonString("ü"))
        .append("i32", new BsonInt32(-5))
        .append("i64", new BsonInt64(1L << 40))
        .append("dbl", new BsonDouble(-0.25))
        .append("f", BsonBoolean.FALSE)
        .append("nil", BsonNull.VALUE)
        .append("date", new BsonDateTime(MILLIS))
        .append("uuid", new BsonBinary(UU))
        .append("bin", new BsonBinary(new byte[] {9, 8}))
        .append("oid", new BsonObjectId(OID))
        .append("re", new BsonRegularExpression("b+", "is"))
        .append("dec", new BsonDecimal128(Decimal128.parse("-1.5E+10")))
        .append("ts", new BsonTimestamp(7, 8))
        .append("min", new BsonMinKey())
        .append("max", new BsonMaxKey())
        .append("arr", new BsonArray(List.of(new BsonInt32(1), new BsonDocument("a", new BsonString("b")))))
        .append("doc", new BsonDocument("z", new BsonInt64(1)));
    byte[] bytes = new RawBsonDocument(src, new BsonDocumentCodec()).getByteBuffer().array();

    @SuppressWarnings("unchecked")
    Map<Object, Object> m = (Map<Object, Object>) BsonCodec.decode(ByteBuffer.wrap(bytes));
    assertEquals("ü", m.get(k("str")));
    assertEquals(-5, m.get(k("i32")));
    assertEquals(1L << 40, m.get(k("i64")));
    assertEquals(-0.25, m.get(k("dbl")));
    assertEquals(Boolean.FALSE, m.get(k("f")));
    assertTrue(m.containsKey(k("nil")));
    assertNull(m.get(k("nil")));
    assertEquals(new Date(MILLIS), m.get(k("date")));
    assertEquals(UU, m.get(k("uuid")));
    assertArrayEquals(new byte[] {9, 8}, (byte[]) m.get(k("bin")));
    assertEquals(OID, m.get(k("oid")));
    Pattern p = (Pattern) m.get(k("re"));
    assertEquals("b+", p.pattern());
    assertEquals(Pattern.CASE_INSENSITIVE | Pattern.DOTALL, p.flags());
    assertEquals(new BigDecimal("-1.5E+10"), m.get(k("dec")));
    assertEquals(new BsonTimestamp(7, 8), m.get(k("ts")));
    assertInstanceOf(MinKey.class, m.get(k("min")));
    assertInstanceOf(MaxKey.class, m.get(k("max")));
    assertEquals(PersistentVector.create(1, PersistentArrayMap.createAsIfByAssoc(new Object[] {k("a"), "b"})),
        m.get(k("arr")));
    assertEquals(Map.of(k("z"), 1L), m.get(k("doc")));

    // A Document written with the default codec, string keys on our side.
    Document d = new Document("b", 1).append("a", List.of("x", 2L)).append("when", new Date(MILLIS));
    byte[] db = new RawBsonDocument(d, new DocumentCodec()).getByteBuffer().array();
    @SuppressWarnings("unchecked")
    Map<Object, Object> back = (Map<Object, Object>) BsonCodec.decode(ByteBuffer.wrap(db), false);
    assertEquals(List.of("b", "a", "when"), new ArrayList<>(back.keySet()));
    assertEquals(1, back.get("b"));
    assertEquals(List.of("x", 2L), back.get("a"));
    assertEquals(new Date(MILLIS), back.get("when"));
  }

  @Test
  void commandKeepsOrderAndEncodesInPlace() {
    Map<?, ?> cmd = BsonCodec.command("find", "users", "filter", Map.of(), "$db", "test");
    assertEquals(List.of("find", "filter", "$db"), new ArrayList<>(cmd.keySet()));
    org.bson.io.BasicOutputBuffer out = new org.bson.io.BasicOutputBuffer();
    out.writeInt32(99); // something already in the buffer
    int n = BsonCodec.encode(out, cmd);
    assertEquals(out.getPosition() - 4, n);
    BsonDocument d = new RawBsonDocument(out.toByteArray(), 4, n).decode(new BsonDocumentCodec());
    assertEquals("find", d.getFirstKey());
    assertEquals("users", d.getString("find").getValue());
  }
}
