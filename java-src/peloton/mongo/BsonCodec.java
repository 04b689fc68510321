package peloton.mongo;

import clojure.lang.BigInt;
import clojure.lang.ITransientCollection;
import clojure.lang.ITransientMap;
import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentVector;
import clojure.lang.Ratio;
import clojure.lang.Symbol;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.bson.BsonBinary;
import org.bson.BsonBinaryReader;
import org.bson.BsonBinarySubType;
import org.bson.BsonBinaryWriter;
import org.bson.BsonDbPointer;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonReader;
import org.bson.BsonRegularExpression;
import org.bson.BsonSerializationException;
import org.bson.BsonTimestamp;
import org.bson.BsonType;
import org.bson.BsonWriter;
import org.bson.io.BasicOutputBuffer;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;

/**
 * Clojure data to BSON and back, written and read directly with {@link BsonWriter} and
 * {@link BsonReader} (no intermediate {@code org.bson.Document} tree, no reflection).
 *
 * <h2>Encoding (Clojure/Java value → BSON)</h2>
 * A document is any {@link java.util.Map} (Clojure maps and records included). Keys may be
 * keywords (written without the colon; a namespaced {@code :a/b} is written {@code "a/b"}),
 * strings or symbols. Entries are written in the map's iteration order: <b>a command must
 * be an {@code array-map}</b> (or a sorted map / {@link java.util.LinkedHashMap}) because the
 * server reads the command name from the first key; a Clojure hash map (more than 8 entries,
 * or built by {@code assoc} past that) has no useful order.
 * <table>
 *   <caption>Value mapping</caption>
 *   <tr><th>Java / Clojure</th><th>BSON</th><th>decoded as</th></tr>
 *   <tr><td>nil</td><td>null</td><td>nil</td></tr>
 *   <tr><td>String, Character, keyword, symbol</td><td>string (keyword {@code :a/b} → "a/b")</td><td>String</td></tr>
 *   <tr><td>Long</td><td>int64</td><td>Long</td></tr>
 *   <tr><td>Integer, Short, Byte</td><td>int32</td><td><b>Long</b> (Clojure's integer type)</td></tr>
 *   <tr><td>BigInt, BigInteger</td><td>int64 when it fits, else decimal128 (exact, ≤ 34 digits)</td><td>Long / BigDecimal</td></tr>
 *   <tr><td>Double, Float</td><td>double</td><td>Double</td></tr>
 *   <tr><td>BigDecimal, Decimal128</td><td>decimal128 (exact or NumberFormatException)</td><td>BigDecimal; NaN, ±Infinity and -0 as Decimal128</td></tr>
 *   <tr><td>Ratio</td><td>rejected (no exact BSON form): convert with {@code double} or {@code bigdec}</td><td></td></tr>
 *   <tr><td>Boolean</td><td>boolean</td><td>Boolean</td></tr>
 *   <tr><td>Map</td><td>embedded document</td><td>persistent map</td></tr>
 *   <tr><td>List, vector, seq, Set</td><td>array</td><td>vector</td></tr>
 *   <tr><td>java.util.Date, java.time.Instant</td><td>datetime (milliseconds; finer precision is dropped)</td><td>java.util.Date</td></tr>
 *   <tr><td>UUID</td><td>binary subtype 4 (standard)</td><td>UUID</td></tr>
 *   <tr><td>byte[]</td><td>binary subtype 0</td><td>byte[]</td></tr>
 *   <tr><td>org.bson.types.Binary</td><td>binary of its subtype</td><td>byte[] (subtype 0), UUID (4), else Binary</td></tr>
 *   <tr><td>ObjectId</td><td>objectId</td><td>ObjectId</td></tr>
 *   <tr><td>Pattern</td><td>regex; flags CASE_INSENSITIVE i, MULTILINE m, DOTALL s, UNICODE_CASE u, COMMENTS x
 *           (other flags rejected)</td><td>Pattern (unknown option letters such as {@code l} ignored)</td></tr>
 *   <tr><td>BsonTimestamp</td><td>timestamp</td><td>BsonTimestamp</td></tr>
 *   <tr><td>MinKey/MaxKey (or BsonMinKey/BsonMaxKey)</td><td>minKey/maxKey</td><td>MinKey/MaxKey</td></tr>
 *   <tr><td>org.bson.types.Code</td><td>JavaScript</td><td>Code</td></tr>
 * </table>
 * On decode, BSON undefined becomes nil, symbol becomes String, JavaScript-with-scope becomes
 * {@code {:$code s :$scope m}} and DBPointer stays {@link BsonDbPointer}.
 * Any other value class gives an {@link IllegalArgumentException} naming the class.
 * Nesting deeper than {@link #MAX_DEPTH} is refused both ways (a stack guard).
 *
 * <h2>Decoding</h2>
 * {@link #decode(ByteBuffer)} reads exactly one document at the buffer's position and leaves the
 * position just after it (the buffer's byte order is not touched). Keys become keywords unless
 * {@code keywordKeys} is false. Maps and vectors are built as transients. Malformed BSON gives a
 * {@link BsonSerializationException}, never an index exception.
 *
 * <p>All methods are static and thread-safe.
 */
public final class BsonCodec {
  /** Deepest nesting of documents/arrays accepted by encode and decode. */
  public static final int MAX_DEPTH = 200;

  private static final Keyword CODE = Keyword.intern("$code");
  private static final Keyword SCOPE = Keyword.intern("$scope");
  private static final int KNOWN_REGEX_FLAGS = Pattern.CASE_INSENSITIVE | Pattern.MULTILINE
      | Pattern.DOTALL | Pattern.UNICODE_CASE | Pattern.COMMENTS;

  private BsonCodec() {}

  // ---------------------------------------------------------------- encode

  /** Encodes the map {@code doc} as one BSON document and answers its bytes. */
  public static byte[] encode(Object doc) {
    BasicOutputBuffer out = new BasicOutputBuffer(256);
    encode(out, doc);
    return out.toByteArray();
  }

  /**
   * Appends the map {@code doc} as one BSON document at the buffer's position (in place, no
   * copy) and answers the number of bytes written.
   */
  public static int encode(BasicOutputBuffer out, Object doc) {
    int start = out.getPosition();
    try (BsonBinaryWriter w = new BsonBinaryWriter(out)) {
      encode(w, doc);
    }
    return out.getPosition() - start;
  }

  /**
   * Writes the map {@code doc} as a whole document with {@code w}: at the top level, or as the
   * value of a name the caller has just written with {@link BsonWriter#writeName}.
   */
  public static void encode(BsonWriter w, Object doc) {
    if (!(doc instanceof Map)) {
      throw new IllegalArgumentException("a BSON document must be a map, not "
          + (doc == null ? "nil" : doc.getClass().getName()));
    }
    writeMap(w, (Map<?, ?>) doc, 0);
  }

  /**
   * Builds an ordered command document from alternating keys and values, e.g.
   * {@code command("insert", "users", "ordered", true)}: a convenience for Java callers that
   * guarantees the first key comes first. Answers a Clojure array-map.
   */
  public static Map<?, ?> command(Object... kvs) {
    if ((kvs.length & 1) != 0) {
      throw new IllegalArgumentException("command needs alternating keys and values");
    }
    return PersistentArrayMap.createAsIfByAssoc(kvs.clone());
  }

  private static void writeMap(BsonWriter w, Map<?, ?> m, int depth) {
    if (depth >= MAX_DEPTH) {
      throw new IllegalArgumentException("document nested deeper than " + MAX_DEPTH);
    }
    w.writeStartDocument();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      w.writeName(keyName(e.getKey()));
      writeValue(w, e.getValue(), depth + 1);
    }
    w.writeEndDocument();
  }

  private static String keyName(Object k) {
    if (k instanceof Keyword) {
      return ((Keyword) k).sym.toString();
    } else if (k instanceof String) {
      return (String) k;
    } else if (k instanceof Symbol) {
      return k.toString();
    }
    throw new IllegalArgumentException("a BSON key must be a keyword, string or symbol, not "
        + (k == null ? "nil" : k.getClass().getName()));
  }

  private static void writeValue(BsonWriter w, Object v, int depth) {
    // Most frequent types first.
    if (v instanceof String) {
      w.writeString((String) v);
    } else if (v instanceof Long) {
      w.writeInt64((Long) v);
    } else if (v instanceof Keyword) {
      w.writeString(((Keyword) v).sym.toString());
    } else if (v instanceof Map) {
      writeMap(w, (Map<?, ?>) v, depth);
    } else if (v instanceof Collection) {
      if (depth >= MAX_DEPTH) {
        throw new IllegalArgumentException("array nested deeper than " + MAX_DEPTH);
      }
      w.writeStartArray();
      for (Object x : (Collection<?>) v) {
        writeValue(w, x, depth + 1);
      }
      w.writeEndArray();
    } else if (v == null) {
      w.writeNull();
    } else if (v instanceof Double || v instanceof Float) {
      w.writeDouble(((Number) v).doubleValue());
    } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      w.writeInt32(((Number) v).intValue());
    } else if (v instanceof Boolean) {
      w.writeBoolean((Boolean) v);
    } else if (v instanceof ObjectId) {
      w.writeObjectId((ObjectId) v);
    } else if (v instanceof Date) {
      w.writeDateTime(((Date) v).getTime());
    } else if (v instanceof Instant) {
      w.writeDateTime(((Instant) v).toEpochMilli());
    } else if (v instanceof UUID) {
      w.writeBinaryData(new BsonBinary(BsonBinarySubType.UUID_STANDARD.getValue(),
          uuidBytes((UUID) v)));
    } else if (v instanceof byte[]) {
      w.writeBinaryData(new BsonBinary((byte[]) v));
    } else if (v instanceof BigDecimal) {
      w.writeDecimal128(new Decimal128((BigDecimal) v));
    } else if (v instanceof Decimal128) {
      w.writeDecimal128((Decimal128) v);
    } else if (v instanceof BigInt) {
      writeBigInteger(w, ((BigInt) v).toBigInteger());
    } else if (v instanceof BigInteger) {
      writeBigInteger(w, (BigInteger) v);
    } else if (v instanceof Character || v instanceof Symbol) {
      w.writeString(v.toString());
    } else if (v instanceof Pattern) {
      Pattern p = (Pattern) v;
      w.writeRegularExpression(new BsonRegularExpression(p.pattern(), regexOptions(p.flags())));
    } else if (v instanceof BsonTimestamp) {
      w.writeTimestamp((BsonTimestamp) v);
    } else if (v instanceof MinKey || v instanceof BsonMinKey) {
      w.writeMinKey();
    } else if (v instanceof MaxKey || v instanceof BsonMaxKey) {
      w.writeMaxKey();
    } else if (v instanceof Binary) {
      Binary b = (Binary) v;
      w.writeBinaryData(new BsonBinary(b.getType(), b.getData()));
    } else if (v instanceof Code) {
      w.writeJavaScript(((Code) v).getCode());
    } else if (v instanceof Ratio) {
      throw new IllegalArgumentException("clojure.lang.Ratio " + v
          + " has no exact BSON form: convert it with double or bigdec");
    } else if (!JavaBson.write(w, v)) { // BsonValue, and the Bson that the driver's builders make
      throw new IllegalArgumentException("cannot encode " + v.getClass().getName() + " as BSON");
    }
  }

  private static void writeBigInteger(BsonWriter w, BigInteger b) {
    if (b.bitLength() < 64) {
      w.writeInt64(b.longValue());
    } else {
      w.writeDecimal128(new Decimal128(new BigDecimal(b)));
    }
  }

  private static byte[] uuidBytes(UUID u) {
    return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
        .putLong(u.getLeastSignificantBits()).array();
  }

  /** BSON regex options (alphabetical, as the spec asks) for Java {@link Pattern} flags. */
  static String regexOptions(int flags) {
    if ((flags & ~KNOWN_REGEX_FLAGS) != 0) {
      throw new IllegalArgumentException("Pattern flags 0x" + Integer.toHexString(flags & ~KNOWN_REGEX_FLAGS)
          + " have no BSON regex option (supported: CASE_INSENSITIVE, MULTILINE, DOTALL, UNICODE_CASE, COMMENTS)");
    }
    StringBuilder sb = new StringBuilder(5);
    if ((flags & Pattern.CASE_INSENSITIVE) != 0) sb.append('i');
    if ((flags & Pattern.MULTILINE) != 0) sb.append('m');
    if ((flags & Pattern.DOTALL) != 0) sb.append('s');
    if ((flags & Pattern.UNICODE_CASE) != 0) sb.append('u');
    if ((flags & Pattern.COMMENTS) != 0) sb.append('x');
    return sb.toString();
  }

  static int patternFlags(String options) {
    int flags = 0;
    for (int i = 0; i < options.length(); i++) {
      switch (options.charAt(i)) {
        case 'i': flags |= Pattern.CASE_INSENSITIVE; break;
        case 'm': flags |= Pattern.MULTILINE; break;
        case 's': flags |= Pattern.DOTALL; break;
        case 'u': flags |= Pattern.UNICODE_CASE; break;
        case 'x': flags |= Pattern.COMMENTS; break;
        default: break; // 'l' (locale) and others have no Java meaning
      }
    }
    return flags;
  }

  // ---------------------------------------------------------------- decode

  /** Decodes one document at {@code buf}'s position with keyword keys; see {@link #decode(ByteBuffer, boolean)}. */
  public static Object decode(ByteBuffer buf) {
    return decode(buf, true);
  }

  /** Decodes a whole byte array holding one document (keyword keys). */
  public static Object decode(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    Object doc = decode(buf, true);
    if (buf.hasRemaining()) {
      throw new BsonSerializationException(buf.remaining() + " bytes after the document");
    }
    return doc;
  }

  /**
   * Decodes exactly one BSON document starting at {@code buf}'s position into a persistent
   * Clojure map and advances the position past it. Keys are keywords when {@code keywordKeys},
   * else strings.
   *
   * @throws BsonSerializationException when the bytes are not one well-formed document
   */
  public static Object decode(ByteBuffer buf, boolean keywordKeys) {
    int len = documentLength(buf, buf.position(), buf.remaining());
    ByteBuffer slice = buf.slice();
    slice.limit(len);
    Object doc;
    try (BsonBinaryReader r = new BsonBinaryReader(slice)) {
      doc = readDocument(r, keywordKeys, 0);
      if (r.getBsonInput().getPosition() != len) {
        throw new BsonSerializationException("document length " + len + " does not match its content");
      }
    } catch (BsonSerializationException e) {
      throw e;
    } catch (RuntimeException e) {
      // org.bson reports some corruptions with other exception types; keep one error type.
      throw new BsonSerializationException("malformed BSON document: " + e);
    }
    buf.position(buf.position() + len);
    return doc;
  }

  /**
   * Reads and checks the int32 length of a document at absolute index {@code at} with
   * {@code available} bytes there; answers the length.
   */
  static int documentLength(ByteBuffer buf, int at, int available) {
    if (available < 5) {
      throw new BsonSerializationException("truncated BSON document: " + available + " bytes");
    }
    int len = buf.order() == ByteOrder.LITTLE_ENDIAN ? buf.getInt(at) : Integer.reverseBytes(buf.getInt(at));
    if (len < 5 || len > available) {
      throw new BsonSerializationException("bad BSON document length " + len + " (" + available + " bytes available)");
    }
    if (buf.get(at + len - 1) != 0) {
      throw new BsonSerializationException("BSON document does not end with a 0 byte");
    }
    return len;
  }

  private static Object readDocument(BsonReader r, boolean keywordKeys, int depth) {
    if (depth >= MAX_DEPTH) {
      throw new BsonSerializationException("document nested deeper than " + MAX_DEPTH);
    }
    r.readStartDocument();
    ITransientMap m = PersistentArrayMap.EMPTY.asTransient();
    BsonType t;
    while ((t = r.readBsonType()) != BsonType.END_OF_DOCUMENT) {
      String name = r.readName();
      Object key = keywordKeys ? Keyword.intern(name) : name;
      m = m.assoc(key, readValue(r, t, keywordKeys, depth + 1));
    }
    r.readEndDocument();
    return m.persistent();
  }

  private static Object readValue(BsonReader r, BsonType t, boolean keywordKeys, int depth) {
    switch (t) {
      case STRING: return r.readString();
      case INT32: return (long) r.readInt32();
      case INT64: return r.readInt64();
      case DOUBLE: return r.readDouble();
      case DOCUMENT: return readDocument(r, keywordKeys, depth);
      case ARRAY: {
        if (depth >= MAX_DEPTH) {
          throw new BsonSerializationException("array nested deeper than " + MAX_DEPTH);
        }
        r.readStartArray();
        ITransientCollection v = PersistentVector.EMPTY.asTransient();
        BsonType et;
        while ((et = r.readBsonType()) != BsonType.END_OF_DOCUMENT) {
          v = v.conj(readValue(r, et, keywordKeys, depth + 1));
        }
        r.readEndArray();
        return v.persistent();
      }
      case BOOLEAN: return r.readBoolean() ? Boolean.TRUE : Boolean.FALSE;
      case NULL: r.readNull(); return null;
      case OBJECT_ID: return r.readObjectId();
      case DATE_TIME: return new Date(r.readDateTime());
      case BINARY: return readBinary(r.readBinaryData());
      case DECIMAL128: {
        Decimal128 d = r.readDecimal128();
        if (d.isNaN() || d.isInfinite()) {
          return d;
        }
        try {
          return d.bigDecimalValue();
        } catch (ArithmeticException negativeZero) {
          return d; // BigDecimal has no -0
        }
      }
      case REGULAR_EXPRESSION: {
        BsonRegularExpression re = r.readRegularExpression();
        return Pattern.compile(re.getPattern(), patternFlags(re.getOptions()));
      }
      case TIMESTAMP: return r.readTimestamp();
      case MIN_KEY: r.readMinKey(); return new MinKey();
      case MAX_KEY: r.readMaxKey(); return new MaxKey();
      case UNDEFINED: r.readUndefined(); return null;
      case SYMBOL: return r.readSymbol();
      case JAVASCRIPT: return new Code(r.readJavaScript());
      case JAVASCRIPT_WITH_SCOPE: {
        String code = r.readJavaScriptWithScope();
        Object scope = readDocument(r, keywordKeys, depth);
        return PersistentArrayMap.createAsIfByAssoc(new Object[] {
            keywordKeys ? CODE : "$code", code, keywordKeys ? SCOPE : "$scope", scope});
      }
      case DB_POINTER: return r.readDBPointer();
      default:
        throw new BsonSerializationException("unsupported BSON type " + t);
    }
  }

  private static Object readBinary(BsonBinary b) {
    byte type = b.getType();
    byte[] data = b.getData();
    if (type == BsonBinarySubType.BINARY.getValue()) {
      return data;
    }
    if (type == BsonBinarySubType.UUID_STANDARD.getValue() && data.length == 16) {
      ByteBuffer bb = ByteBuffer.wrap(data);
      return new UUID(bb.getLong(), bb.getLong());
    }
    return new Binary(type, data);
  }
}
