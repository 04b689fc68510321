package peloton.mongo;

import clojure.lang.BigInt;
import clojure.lang.ITransientCollection;
import clojure.lang.Keyword;
import clojure.lang.PersistentVector;
import clojure.lang.Ratio;
import clojure.lang.Symbol;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.bson.BsonBinary;
import org.bson.BsonBinarySubType;
import org.bson.BsonBinaryWriter;
import org.bson.BsonDbPointer;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.BsonUndefined;
import org.bson.BsonValue;
import org.bson.BsonWriter;
import org.bson.codecs.BsonValueCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.CodeWithScope;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;

/**
 * Clojure data to BSON and back. Encoding writes with {@link BsonWriter} (no intermediate
 * {@code org.bson.Document} tree, no reflection); decoding reads the bytes itself, checking every
 * length, and builds Clojure data directly.
 *
 * <p><b>Fidelity:</b> a document read and written back is the same BSON: every field keeps its
 * type and its place. Decoded documents are {@link OrderedMap}s (ordinary persistent maps that
 * keep their key order at every size, also through {@code assoc}); each BSON type decodes to a
 * value that encodes back to that type.
 *
 * <h2>Encoding (Clojure/Java value → BSON)</h2>
 * A document is any {@link java.util.Map} (Clojure maps and records included). Keys may be
 * keywords (written without the colon; a namespaced {@code :a/b} is written {@code "a/b"}),
 * strings or symbols. Entries are written in the map's iteration order: <b>a command must
 * be ordered</b> (an {@code array-map} of up to 8 keys, an {@link OrderedMap}, a sorted map or a
 * {@link java.util.LinkedHashMap}) because the server reads the command name from the first
 * key; a Clojure hash map (more than 8 entries, or built by {@code assoc} past that) has no
 * useful order.
 * <table>
 *   <caption>Value mapping (the third column is what the BSON decodes back to)</caption>
 *   <tr><th>Java / Clojure</th><th>BSON</th><th>decoded as</th></tr>
 *   <tr><td>nil</td><td>null</td><td>nil</td></tr>
 *   <tr><td>String</td><td>string</td><td>String</td></tr>
 *   <tr><td>keyword, symbol, Character</td><td>string (keyword {@code :a/b} → "a/b")</td><td>String</td></tr>
 *   <tr><td>Long (a Clojure integer literal)</td><td>int64</td><td>Long</td></tr>
 *   <tr><td>Integer ({@code (int 5)}), Short, Byte</td><td>int32</td><td>Integer</td></tr>
 *   <tr><td>BigInt, BigInteger</td><td>int64 when it fits, else decimal128 (exact, ≤ 34 digits)</td><td>Long / BigDecimal</td></tr>
 *   <tr><td>Double, Float</td><td>double</td><td>Double</td></tr>
 *   <tr><td>BigDecimal ({@code 1.5M}), Decimal128</td><td>decimal128 (exact or NumberFormatException)</td><td>BigDecimal; NaN, ±Infinity, -0 and non-canonical encodings as Decimal128</td></tr>
 *   <tr><td>Ratio</td><td>rejected (no exact BSON form): convert with {@code double} or {@code bigdec}</td><td></td></tr>
 *   <tr><td>Boolean</td><td>boolean</td><td>Boolean</td></tr>
 *   <tr><td>Map</td><td>embedded document</td><td>{@link OrderedMap}</td></tr>
 *   <tr><td>List, vector, seq, Set</td><td>array</td><td>vector</td></tr>
 *   <tr><td>java.util.Date, java.time.Instant</td><td>datetime (milliseconds; finer precision is dropped)</td><td>java.util.Date</td></tr>
 *   <tr><td>UUID</td><td>binary subtype 4 (standard)</td><td>UUID</td></tr>
 *   <tr><td>byte[]</td><td>binary subtype 0</td><td>byte[]</td></tr>
 *   <tr><td>org.bson.types.Binary</td><td>binary of its subtype</td><td>byte[] (subtype 0), UUID (4 with 16 bytes), else Binary</td></tr>
 *   <tr><td>ObjectId</td><td>objectId</td><td>ObjectId</td></tr>
 *   <tr><td>Pattern</td><td>regex; flags CASE_INSENSITIVE i, MULTILINE m, DOTALL s, UNICODE_CASE u, COMMENTS x
 *           (other flags rejected)</td><td>Pattern when Java compiles it with those options only</td></tr>
 *   <tr><td>BsonRegularExpression</td><td>regex, pattern and options as given</td><td>BsonRegularExpression when Java cannot
 *           compile it (PCRE syntax such as {@code (?P<y>a)}) or it has another option (such as {@code l})</td></tr>
 *   <tr><td>BsonTimestamp</td><td>timestamp</td><td>BsonTimestamp</td></tr>
 *   <tr><td>MinKey/MaxKey (or BsonMinKey/BsonMaxKey)</td><td>minKey/maxKey</td><td>MinKey/MaxKey</td></tr>
 *   <tr><td>org.bson.types.Code</td><td>JavaScript</td><td>Code</td></tr>
 *   <tr><td>{@link JavaScriptWithScope}, org.bson.types.CodeWithScope</td><td>JavaScript with scope</td><td>JavaScriptWithScope</td></tr>
 *   <tr><td>org.bson.types.Symbol</td><td>symbol (deprecated)</td><td>org.bson.types.Symbol</td></tr>
 *   <tr><td>BsonDbPointer</td><td>DBPointer (deprecated)</td><td>BsonDbPointer</td></tr>
 *   <tr><td>BsonUndefined</td><td>undefined (deprecated)</td><td>BsonUndefined</td></tr>
 *   <tr><td>any other {@link BsonValue}</td><td>its own type</td><td>as above</td></tr>
 * </table>
 * Any other value class gives an {@link IllegalArgumentException} naming the class.
 * Nesting deeper than {@link #MAX_DEPTH} is refused both ways (a stack guard).
 *
 * <h2>Decoding</h2>
 * {@link #decode(ByteBuffer)} reads exactly one document at the buffer's position and leaves the
 * position just after it (the buffer's byte order is not touched). Keys become keywords unless
 * {@code keywordKeys} is false; a repeated key keeps its first place and its last value.
 * Malformed BSON (a length that does not match, a missing terminator, an unknown type, a boolean
 * byte other than 0 or 1, a string that is not valid UTF-8, ...) gives a {@link
 * MongoProtocolException} saying what is wrong, never an index exception or an altered string.
 *
 * <p>All methods are static and thread-safe.
 */
public final class BsonCodec {
  /** Deepest nesting of documents/arrays accepted by encode and decode. */
  public static final int MAX_DEPTH = 200;

  private static final BsonValueCodec BSON_VALUES = new BsonValueCodec();
  private static final EncoderContext ENCODER_CONTEXT = EncoderContext.builder().build();
  private static final int KNOWN_REGEX_FLAGS = Pattern.CASE_INSENSITIVE | Pattern.MULTILINE
      | Pattern.DOTALL | Pattern.UNICODE_CASE | Pattern.COMMENTS;

  private BsonCodec() {}

  // ---------------------------------------------------------------- encode

  /**
   * Encodes the map {@code doc} as one BSON document and answers its bytes. A string or key that
   * is not valid UTF-16 (an unpaired surrogate) is an {@link IllegalArgumentException} naming the
   * field, never an altered string.
   *
   * @param doc a map (keyword or string keys; an {@link OrderedMap} keeps its order)
   * @return the document's BSON bytes
   * @throws IllegalArgumentException when a key or value cannot be encoded, naming it
   */
  public static byte[] encode(Object doc) {
    BasicOutputBuffer out = new Utf8OutputBuffer(256);
    encode(out, doc);
    return out.toByteArray();
  }

  /**
   * Appends the map {@code doc} as one BSON document at the buffer's position (in place, no
   * copy) and answers the number of bytes written. Unpaired surrogates are refused as by {@link
   * #encode(Object)} in the buffers Peloton makes (its connections', {@code encode(Object)}'s); a
   * plain {@code BasicOutputBuffer} writes them as org.bson does.
   *
   * @param out the buffer to append to
   * @param doc a map (keyword or string keys)
   * @return the number of bytes written
   * @throws IllegalArgumentException when a key or value cannot be encoded, naming it
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
   *
   * @param w the writer, at the top level or just after a name
   * @param doc a map (keyword or string keys)
   * @throws IllegalArgumentException when a key or value cannot be encoded, naming it
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
   * guarantees the first key comes first. Answers an {@link OrderedMap}.
   *
   * @param kvs keys and values, alternating: keys are keywords or strings, the command's name first
   * @return the command, an {@link OrderedMap} in the order given
   */
  public static Map<?, ?> command(Object... kvs) {
    if ((kvs.length & 1) != 0) {
      throw new IllegalArgumentException("command needs alternating keys and values");
    }
    return OrderedMap.of(kvs);
  }

  private static void writeMap(BsonWriter w, Map<?, ?> m, int depth) {
    if (depth >= MAX_DEPTH) {
      throw new IllegalArgumentException("document nested deeper than " + MAX_DEPTH);
    }
    w.writeStartDocument();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      String name = keyName(e.getKey());
      w.writeName(name);
      try {
        writeValue(w, e.getValue(), depth + 1);
      } catch (Utf8OutputBuffer.BadString bad) {
        throw bad.in(name);
      }
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
      int i = 0;
      for (Object x : (Collection<?>) v) {
        try {
          writeValue(w, x, depth + 1);
        } catch (Utf8OutputBuffer.BadString bad) {
          throw bad.in(Integer.toString(i));
        }
        i++;
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
    } else if (v instanceof JavaScriptWithScope) {
      JavaScriptWithScope js = (JavaScriptWithScope) v;
      w.writeJavaScriptWithScope(js.code);
      writeMap(w, js.scope, depth);
    } else if (v instanceof CodeWithScope) {
      w.writeJavaScriptWithScope(((CodeWithScope) v).getCode());
      writeMap(w, ((CodeWithScope) v).getScope(), depth);
    } else if (v instanceof Code) {
      w.writeJavaScript(((Code) v).getCode());
    } else if (v instanceof org.bson.types.Symbol) {
      w.writeSymbol(((org.bson.types.Symbol) v).getSymbol());
    } else if (v instanceof BsonValue) {
      BSON_VALUES.encode(w, (BsonValue) v, ENCODER_CONTEXT);
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

  // ---------------------------------------------------------------- decode

  /**
   * Decodes one document at {@code buf}'s position with keyword keys; see {@link #decode(ByteBuffer, boolean)}.
   *
   * @param buf the bytes, a document at their position; the position moves past it
   * @return the document, an {@link OrderedMap} with keyword keys
   * @throws MongoProtocolException when the bytes are not one well-formed document
   */
  public static Object decode(ByteBuffer buf) {
    return decode(buf, true);
  }

  /**
   * Decodes a whole byte array holding exactly one document (keyword keys).
   *
   * @param bytes exactly one BSON document
   * @return the document, an {@link OrderedMap} with keyword keys
   * @throws MongoProtocolException when the bytes are not exactly one well-formed document
   */
  public static Object decode(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    Object doc = decode(buf, true);
    if (buf.hasRemaining()) {
      throw new MongoProtocolException(buf.remaining() + " bytes after the BSON document");
    }
    return doc;
  }

  /**
   * Decodes exactly one BSON document starting at {@code buf}'s position into an {@link
   * OrderedMap} and advances the position past it. Keys are keywords when {@code keywordKeys},
   * else strings.
   *
   * @param buf the bytes, a document at their position
   * @param keywordKeys true for keyword keys (the Clojure API), false for string keys
   * @return the document, an {@link OrderedMap}
   * @throws MongoProtocolException when the bytes are not one well-formed document (bad lengths,
   *     an unknown type, invalid UTF-8, a boolean other than 0 or 1, ...); the position is then
   *     left where it was
   */
  public static Object decode(ByteBuffer buf, boolean keywordKeys) {
    int at = buf.position();
    int len = documentLength(buf, at, buf.remaining());
    Reader r;
    if (buf.hasArray()) {
      r = new Reader(buf.array(), buf.arrayOffset() + at, keywordKeys);
    } else {
      byte[] copy = new byte[len];
      buf.duplicate().position(at).get(copy);
      r = new Reader(copy, 0, keywordKeys);
    }
    Object doc = r.document(r.pos + len, 0);
    buf.position(at + len);
    return doc;
  }

  /**
   * Reads and checks the int32 length of a document at absolute index {@code at} with
   * {@code available} bytes there; answers the length.
   */
  static int documentLength(ByteBuffer buf, int at, int available) {
    if (available < 5) {
      throw new MongoProtocolException("truncated BSON document: " + available + " bytes");
    }
    int len = buf.order() == ByteOrder.LITTLE_ENDIAN ? buf.getInt(at) : Integer.reverseBytes(buf.getInt(at));
    if (len < 5 || len > available) {
      throw new MongoProtocolException("bad BSON document length " + len + " (" + available + " bytes available)");
    }
    if (buf.get(at + len - 1) != 0) {
      throw new MongoProtocolException("BSON document does not end with a 0 byte");
    }
    return len;
  }

  /**
   * One decoding pass over a byte array: every read is bounded by the end of the enclosing
   * document, so a lying length fails here instead of reading a neighbour's bytes.
   */
  private static final class Reader {
    final byte[] a;
    final boolean keywordKeys;
    int pos;

    Reader(byte[] a, int pos, boolean keywordKeys) {
      this.a = a;
      this.pos = pos;
      this.keywordKeys = keywordKeys;
    }

    MongoProtocolException bad(String what) {
      return new MongoProtocolException("malformed BSON: " + what);
    }

    void need(int n, int end) {
      if (n < 0 || end - pos < n) {
        throw bad("value runs past the end of its document (" + n + " bytes needed, " + (end - pos) + " left)");
      }
    }

    int int32() {
      int p = pos;
      pos = p + 4;
      return (a[p] & 0xff) | (a[p + 1] & 0xff) << 8 | (a[p + 2] & 0xff) << 16 | a[p + 3] << 24;
    }

    long int64() {
      long lo = int32() & 0xffffffffL;
      return lo | (long) int32() << 32;
    }

    /** A document whose length field is at {@code pos}; it must end at or before {@code end}. */
    Object document(int end, int depth) {
      int start = pos;
      int docEnd = open(end, depth, "document");
      Object[] kvs = new Object[16];
      int n = 0;
      byte t;
      while ((t = a[pos++]) != 0) {
        Object key = key(docEnd - 1);
        Object v = value(t, docEnd - 1, depth);
        if (2 * n + 2 > kvs.length) {
          kvs = Arrays.copyOf(kvs, kvs.length * 2);
        }
        kvs[2 * n] = key;
        kvs[2 * n + 1] = v;
        n++;
      }
      close(start, docEnd);
      return OrderedMap.ofPairs(kvs, n, keywordKeys);
    }

    Object array(int end, int depth) {
      int start = pos;
      int docEnd = open(end, depth, "array");
      ITransientCollection v = PersistentVector.EMPTY.asTransient();
      byte t;
      while ((t = a[pos++]) != 0) {
        skipCstring(docEnd - 1); // the keys "0", "1" ... carry nothing a vector does not
        v = v.conj(value(t, docEnd - 1, depth));
      }
      close(start, docEnd);
      return v.persistent();
    }

    /** Checks the length at {@code pos} and steps over it; answers the document's end. */
    int open(int end, int depth, String what) {
      if (depth >= MAX_DEPTH) {
        throw bad(what + " nested deeper than " + MAX_DEPTH);
      }
      need(5, end);
      int len = int32();
      int docEnd = pos - 4 + len;
      if (len < 5 || len > end - pos + 4) {
        throw bad(what + " length " + len + " does not fit in its parent (" + (end - pos + 4) + " bytes)");
      }
      if (a[docEnd - 1] != 0) {
        throw bad(what + " does not end with a 0 byte");
      }
      return docEnd;
    }

    void close(int start, int docEnd) {
      if (pos != docEnd) {
        throw bad("document at " + start + " is " + (docEnd - start) + " bytes long but its content ends at "
            + (pos - start));
      }
    }

    /** A value of type {@code t}; its bytes end at or before {@code end} (its document's final 0). */
    Object value(byte t, int end, int depth) {
      switch (t) {
        case 0x02: return string(end);
        case 0x10: need(4, end); return int32();
        case 0x12: need(8, end); return int64();
        case 0x01: need(8, end); return Double.longBitsToDouble(int64());
        case 0x03: return document(end, depth + 1);
        case 0x04: return array(end, depth + 1);
        case 0x08: {
          need(1, end);
          byte b = a[pos++];
          if (b != 0 && b != 1) {
            throw bad("boolean byte " + b + " is neither 0 nor 1");
          }
          return b == 1 ? Boolean.TRUE : Boolean.FALSE;
        }
        case 0x0A: return null;
        case 0x07: return objectId(end);
        case 0x09: need(8, end); return new Date(int64());
        case 0x05: return binary(end);
        case 0x13: {
          need(16, end);
          long low = int64();
          long high = int64();
          Decimal128 d = Decimal128.fromIEEE754BIDEncoding(high, low);
          if (d.isNaN() || d.isInfinite()) {
            return d;
          }
          BigDecimal b;
          try {
            b = d.bigDecimalValue();
          } catch (ArithmeticException negativeZero) {
            return d; // BigDecimal has no -0
          }
          // A non-canonical encoding (a significand past 34 digits, read as 0) would come back
          // canonical through BigDecimal: keep the Decimal128 so its bits are written back as read.
          // A value BigDecimal holds but Decimal128 cannot take back exactly (fuzzing finding 3)
          // is kept as read too.
          Decimal128 again;
          try {
            again = new Decimal128(b);
          } catch (NumberFormatException inexact) {
            return d;
          }
          return again.getHigh() == high && again.getLow() == low ? b : d;
        }
        case 0x0B: {
          String pattern = cstring(end);
          String options = cstring(end);
          return regex(pattern, options);
        }
        case 0x11: need(8, end); return new BsonTimestamp(int64());
        case (byte) 0xFF: return MIN_KEY;
        case 0x7F: return MAX_KEY;
        case 0x06: return UNDEFINED;
        case 0x0E: return new org.bson.types.Symbol(string(end));
        case 0x0D: return new Code(string(end));
        case 0x0F: {
          int start = pos;
          need(4, end);
          int len = int32();
          if (len < 14 || len > end - start) {
            throw bad("code with scope length " + len + " does not fit (" + (end - start) + " bytes)");
          }
          int cwsEnd = start + len;
          String code = string(cwsEnd);
          Object scope = document(cwsEnd, depth + 1);
          if (pos != cwsEnd) {
            throw bad("code with scope is " + len + " bytes long but its content ends at " + (pos - start));
          }
          return new JavaScriptWithScope(code, (Map<?, ?>) scope);
        }
        case 0x0C: {
          String ns = string(end);
          return new BsonDbPointer(ns, objectId(end));
        }
        default:
          throw bad("unknown element type 0x" + Integer.toHexString(t & 0xff) + " at byte " + (pos - 1));
      }
    }

    ObjectId objectId(int end) {
      need(12, end);
      ObjectId id = new ObjectId(ByteBuffer.wrap(a, pos, 12));
      pos += 12;
      return id;
    }

    Object binary(int end) {
      need(5, end);
      int len = int32();
      byte subtype = a[pos++];
      need(len, end);
      if (len < 0) {
        throw bad("negative binary length " + len);
      }
      int from = pos;
      int n = len;
      if (subtype == BsonBinarySubType.OLD_BINARY.getValue()) {
        // Subtype 2 repeats the length inside the data; the two must agree.
        if (len < 4) {
          throw bad("old binary (subtype 2) shorter than its inner length");
        }
        int inner = int32();
        if (inner != len - 4) {
          throw bad("old binary (subtype 2) inner length " + inner + " does not match " + (len - 4));
        }
        from = pos;
        n = inner;
      }
      byte[] data = Arrays.copyOfRange(a, from, from + n);
      pos = from + n;
      return readBinary(subtype, data);
    }

    /** A length-prefixed, 0-terminated UTF-8 string. */
    String string(int end) {
      need(4, end);
      int len = int32();
      if (len < 1) {
        throw bad("string length " + len);
      }
      need(len, end);
      if (a[pos + len - 1] != 0) {
        throw bad("string does not end with a 0 byte");
      }
      String s = utf8(pos, len - 1);
      pos += len;
      return s;
    }

    /** A 0-terminated UTF-8 string (a key, a regex part) that must end before {@code end}. */
    String cstring(int end) {
      int from = pos;
      int p = from;
      while (p < end && a[p] != 0) {
        p++;
      }
      if (p >= end) {
        throw bad("unterminated name or regex at byte " + from);
      }
      pos = p + 1;
      return utf8(from, p - from);
    }

    /**
     * A document's key: the cstring at {@code pos} as a keyword (or string). Most documents
     * repeat the same few keys, so a small cache maps key bytes to the key already made,
     * saving the String and the keyword lookup that dominate decoding otherwise.
     */
    Object key(int end) {
      int from = pos;
      int p = from;
      int h = 0;
      while (p < end && a[p] != 0) {
        h = 31 * h + a[p];
        p++;
      }
      if (p >= end) {
        throw bad("unterminated name at byte " + from);
      }
      pos = p + 1;
      int n = p - from;
      if (n > KeyEntry.MAX_LENGTH) {
        String name = utf8(from, n);
        return keywordKeys ? Keyword.intern(name) : name;
      }
      KeyEntry[] cache = KEY_CACHE;
      int slot = (h ^ (h >>> 16)) & (cache.length - 1);
      KeyEntry e = cache[slot];
      if (e == null || !e.matches(a, from, n)) {
        String name = utf8(from, n);
        e = new KeyEntry(Arrays.copyOfRange(a, from, p), name, Keyword.intern(name));
        cache[slot] = e; // racy but safe: entries are immutable, a lost update only costs a miss
      }
      return keywordKeys ? e.keyword : e.name;
    }

    void skipCstring(int end) {
      int p = pos;
      while (p < end && a[p] != 0) {
        p++;
      }
      if (p >= end) {
        throw bad("unterminated array index at byte " + pos);
      }
      pos = p + 1;
    }

    /** Bytes {@code from}..{@code from+n} as a String, refusing anything that is not valid UTF-8. */
    String utf8(int from, int n) {
      int end = from + n;
      int i = from;
      while (i < end && a[i] >= 0) {
        i++;
      }
      if (i == end) {
        return new String(a, from, n, StandardCharsets.ISO_8859_1); // all ASCII: the cheap path
      }
      while (i < end) {
        int b = a[i] & 0xff;
        if (b < 0x80) {
          i++;
          continue;
        }
        int extra;
        int min;
        if (b >= 0xC2 && b <= 0xDF) {
          extra = 1;
          min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
          extra = 2;
          min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
          extra = 3;
          min = 0x10000;
        } else {
          throw badUtf8(i);
        }
        if (end - i <= extra) {
          throw badUtf8(i);
        }
        int cp = b & (0x3F >> extra);
        for (int k = 1; k <= extra; k++) {
          int c = a[i + k] & 0xff;
          if ((c & 0xC0) != 0x80) {
            throw badUtf8(i);
          }
          cp = cp << 6 | (c & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || cp >= 0xD800 && cp <= 0xDFFF) {
          throw badUtf8(i); // overlong, beyond Unicode, or a surrogate
        }
        i += extra + 1;
      }
      return new String(a, from, n, StandardCharsets.UTF_8);
    }

    MongoProtocolException badUtf8(int at) {
      return bad("invalid UTF-8 at byte " + at);
    }
  }

  /** A decoded key: its UTF-8 bytes, the String and the keyword made from them. */
  private static final class KeyEntry {
    static final int MAX_LENGTH = 48;
    final byte[] bytes;
    final String name;
    final Keyword keyword;

    KeyEntry(byte[] bytes, String name, Keyword keyword) {
      this.bytes = bytes;
      this.name = name;
      this.keyword = keyword;
    }

    boolean matches(byte[] a, int from, int n) {
      byte[] b = bytes;
      if (b.length != n) {
        return false;
      }
      for (int i = 0; i < n; i++) {
        if (b[i] != a[from + i]) {
          return false;
        }
      }
      return true;
    }
  }

  /** Direct-mapped, process-wide, bounded (1024 keys of at most 48 bytes). */
  private static final KeyEntry[] KEY_CACHE = new KeyEntry[1024];

  private static final BsonUndefined UNDEFINED = new BsonUndefined();
  private static final MinKey MIN_KEY = new MinKey();
  private static final MaxKey MAX_KEY = new MaxKey();

  /**
   * A stored regular expression: a {@link Pattern} when Java compiles it and knows every option
   * (it then encodes back to the same BSON), else the {@link BsonRegularExpression} itself, so
   * PCRE-only syntax and options such as {@code l} survive instead of failing the whole read.
   */
  static Object regex(String pattern, String options) {
    int flags = 0;
    for (int i = 0; i < options.length(); i++) {
      int f = patternFlag(options.charAt(i));
      if (f == 0) {
        return new BsonRegularExpression(pattern, options);
      }
      flags |= f;
    }
    try {
      return Pattern.compile(pattern, flags);
    } catch (PatternSyntaxException notJava) {
      return new BsonRegularExpression(pattern, options);
    }
  }

  private static int patternFlag(char c) {
    switch (c) {
      case 'i': return Pattern.CASE_INSENSITIVE;
      case 'm': return Pattern.MULTILINE;
      case 's': return Pattern.DOTALL;
      case 'u': return Pattern.UNICODE_CASE;
      case 'x': return Pattern.COMMENTS;
      default: return 0;
    }
  }

  private static Object readBinary(byte type, byte[] data) {
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
