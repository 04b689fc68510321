package peloton.mongo;

import static org.junit.jupiter.api.Assertions.*;

import clojure.lang.Keyword;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import org.bson.BsonBinaryReader;
import org.bson.BsonBinarySubType;
import org.bson.BsonDocument;
import org.bson.BsonDbPointer;
import org.bson.BsonSerializationException;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DecoderContext;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;

/**
 * Coverage-guided fuzz targets for the MongoDB decoders (Jazzer; see FUZZING.md). Under {@code
 * mvn test} each runs only its seeds and past findings, kept in {@code
 * test/resources/peloton/mongo/MongoFuzzTestInputs/<target>/}.
 */
class MongoFuzzTest {

    /**
     * BsonCodec against org.bson's own reader ({@link BsonDocumentCodec}) as the reference: the
     * same bytes are accepted or refused by both, and where both accept, the documents are the
     * same once org.bson's values are mapped the way BsonCodec documents it. The only error
     * BsonCodec may raise is BsonSerializationException.
     */
    @FuzzTest
    void bsonDecoder(byte[] data) {
        Object ours;
        try {
            ours = BsonCodec.decode(data);
        } catch (BsonSerializationException e) {
            ours = e;
        }
        Object reference;
        try {
            reference = referenceDecode(data);
        } catch (RuntimeException e) { // org.bson reports corruption with several exception types
            reference = e;
        }
        if (reference instanceof Exception || ours instanceof Exception) {
            if ((reference instanceof Exception) != (ours instanceof Exception)) {
                fail("accept/refuse differ on " + HexFormat.of().formatHex(data) + ": ours " + describe(ours)
                        + ", org.bson " + describe(reference));
            }
            return;
        }
        assertEquals(reference, canon(ours), HexFormat.of().formatHex(data));
    }

    private static String describe(Object o) {
        return o instanceof Exception ? o.toString() : String.valueOf(canon(o));
    }

    // org.bson reads the whole array as exactly one document, nesting within BsonCodec's guard
    private static Object referenceDecode(byte[] data) {
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        BsonDocument doc;
        try (BsonBinaryReader r = new BsonBinaryReader(buf)) {
            doc = new BsonDocumentCodec().decode(r, DecoderContext.builder().build());
            if (r.getBsonInput().getPosition() != data.length) {
                throw new BsonSerializationException("bytes after the document");
            }
        }
        if (data.length < 4 || buf.getInt(0) != data.length) {
            throw new BsonSerializationException("length prefix");
        }
        return canonValue(doc, 0);
    }

    /** org.bson's value as BsonCodec documents its decoding, in canonical comparable form. */
    private static Object canonValue(BsonValue v, int depth) {
        switch (v.getBsonType()) {
            case DOCUMENT: {
                if (depth >= BsonCodec.MAX_DEPTH) throw new BsonSerializationException("too deep");
                Map<String, Object> m = new TreeMap<>();
                for (Map.Entry<String, BsonValue> e : v.asDocument().entrySet()) {
                    m.put(e.getKey(), canonValue(e.getValue(), depth + 1));
                }
                return m;
            }
            case ARRAY: {
                if (depth >= BsonCodec.MAX_DEPTH) throw new BsonSerializationException("too deep");
                List<Object> l = new ArrayList<>();
                for (BsonValue e : v.asArray()) l.add(canonValue(e, depth + 1));
                return l;
            }
            case STRING: return "s:" + v.asString().getValue();
            case SYMBOL: return "s:" + v.asSymbol().getSymbol();
            case INT32: return "l:" + v.asInt32().getValue();
            case INT64: return "l:" + v.asInt64().getValue();
            case DOUBLE: return "d:" + Double.doubleToRawLongBits(v.asDouble().getValue());
            case BOOLEAN: return "b:" + v.asBoolean().getValue();
            case NULL: case UNDEFINED: return "nil";
            case OBJECT_ID: return "oid:" + v.asObjectId().getValue().toHexString();
            case DATE_TIME: return "date:" + v.asDateTime().getValue();
            case BINARY: {
                byte type = v.asBinary().getType();
                byte[] b = v.asBinary().getData();
                if (type == BsonBinarySubType.UUID_STANDARD.getValue() && b.length == 16) {
                    ByteBuffer u = ByteBuffer.wrap(b);
                    return "uuid:" + new UUID(u.getLong(), u.getLong());
                }
                return "bin:" + type + ":" + HexFormat.of().formatHex(b);
            }
            case DECIMAL128: return "dec:" + v.asDecimal128().getValue();
            case REGULAR_EXPRESSION: {
                String p = v.asRegularExpression().getPattern();
                String o = v.asRegularExpression().getOptions();
                Pattern compiled = Pattern.compile(p, flags(o)); // a pattern Java cannot compile is refused
                return "re:" + compiled.pattern() + "/" + compiled.flags();
            }
            case TIMESTAMP: return "ts:" + v.asTimestamp().getValue();
            case MIN_KEY: return "minkey";
            case MAX_KEY: return "maxkey";
            case JAVASCRIPT: return "js:" + v.asJavaScript().getCode();
            case JAVASCRIPT_WITH_SCOPE: {
                if (depth >= BsonCodec.MAX_DEPTH) throw new BsonSerializationException("too deep");
                Map<String, Object> m = new TreeMap<>();
                m.put("$code", "s:" + v.asJavaScriptWithScope().getCode());
                m.put("$scope", canonValue(v.asJavaScriptWithScope().getScope(), depth));
                return m;
            }
            case DB_POINTER: {
                BsonDbPointer p = v.asDBPointer();
                return "dbp:" + p.getNamespace() + ":" + p.getId().toHexString();
            }
            default:
                throw new AssertionError("unexpected type " + v.getBsonType());
        }
    }

    private static int flags(String options) {
        int f = 0;
        for (char c : options.toCharArray()) {
            switch (c) {
                case 'i': f |= Pattern.CASE_INSENSITIVE; break;
                case 'm': f |= Pattern.MULTILINE; break;
                case 's': f |= Pattern.DOTALL; break;
                case 'u': f |= Pattern.UNICODE_CASE; break;
                case 'x': f |= Pattern.COMMENTS; break;
                default: break;
            }
        }
        return f;
    }

    /** BsonCodec's decoded value in the same canonical form. */
    private static Object canon(Object o) {
        if (o == null) return "nil";
        if (o instanceof Map) {
            Map<String, Object> m = new TreeMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                Object k = e.getKey();
                m.put(k instanceof Keyword ? ((Keyword) k).sym.toString() : (String) k, canon(e.getValue()));
            }
            return m;
        }
        if (o instanceof List) {
            List<Object> l = new ArrayList<>();
            for (Object e : (List<?>) o) l.add(canon(e));
            return l;
        }
        if (o instanceof String) return "s:" + o;
        if (o instanceof Long) return "l:" + o;
        if (o instanceof Double) return "d:" + Double.doubleToRawLongBits((Double) o);
        if (o instanceof Boolean) return "b:" + o;
        if (o instanceof ObjectId) return "oid:" + ((ObjectId) o).toHexString();
        if (o instanceof Date) return "date:" + ((Date) o).getTime();
        if (o instanceof UUID) return "uuid:" + o;
        if (o instanceof byte[]) return "bin:0:" + HexFormat.of().formatHex((byte[]) o);
        if (o instanceof Binary) return "bin:" + ((Binary) o).getType() + ":" + HexFormat.of().formatHex(((Binary) o).getData());
        if (o instanceof java.math.BigDecimal) return "dec:" + new Decimal128((java.math.BigDecimal) o);
        if (o instanceof Decimal128) return "dec:" + o;
        if (o instanceof Pattern) return "re:" + ((Pattern) o).pattern() + "/" + ((Pattern) o).flags();
        if (o instanceof BsonTimestamp) return "ts:" + ((BsonTimestamp) o).getValue();
        if (o instanceof MinKey) return "minkey";
        if (o instanceof MaxKey) return "maxkey";
        if (o instanceof Code) return "js:" + ((Code) o).getCode();
        if (o instanceof BsonDbPointer) {
            return "dbp:" + ((BsonDbPointer) o).getNamespace() + ":" + ((BsonDbPointer) o).getId().toHexString();
        }
        throw new AssertionError("BsonCodec decoded an undocumented type " + o.getClass() + ": " + o);
    }

    /**
     * The OP_MSG decoder: only MongoProtocolException for bad bytes; where it accepts, the frame
     * length it reads first agrees, the message is consumed exactly, and re-encoding what it
     * decoded decodes to the same again.
     */
    @FuzzTest
    void opMsgDecoder(FuzzedDataProvider d) {
        int maxSize = d.consumeBoolean() ? OpMsg.DEFAULT_MAX_MESSAGE_SIZE : d.consumeInt(0, 4096);
        boolean keywords = d.consumeBoolean();
        byte[] data = d.consumeRemainingAsBytes();
        ByteBuffer buf = ByteBuffer.wrap(data);
        OpMsg.Reply reply;
        try {
            reply = OpMsg.decode(buf, keywords, maxSize);
        } catch (MongoProtocolException e) {
            return;
        }
        int frame = OpMsg.frameLength(ByteBuffer.wrap(data), maxSize);
        assertEquals(frame, reply.messageLength);
        assertEquals(frame, buf.position(), "the message is consumed exactly");
        assertTrue(frame <= maxSize && frame <= data.length);

        List<OpMsg.Sequence> seqs = new ArrayList<>();
        for (Map.Entry<String, List<Object>> e : reply.sequences.entrySet()) {
            seqs.add(new OpMsg.Sequence(e.getKey(), e.getValue()));
        }
        byte[] again;
        try {
            again = OpMsg.encode(reply.requestId, reply.flagBits & ~OpMsg.CHECKSUM_PRESENT, reply.body,
                    seqs.toArray(new OpMsg.Sequence[0]));
        } catch (IllegalArgumentException e) {
            // decoded values BsonCodec cannot write back (documented: JavaScript with scope, DBPointer,
            // an empty or NUL sequence identifier)
            return;
        }
        OpMsg.Reply second = OpMsg.decode(ByteBuffer.wrap(again), keywords, Integer.MAX_VALUE);
        assertEquals(canon(reply.body), canon(second.body));
        assertEquals(reply.requestId, second.requestId);
        assertEquals(reply.flagBits & ~OpMsg.CHECKSUM_PRESENT, second.flagBits);
        assertEquals(reply.sequences.keySet(), second.sequences.keySet());
        for (String k : reply.sequences.keySet()) {
            assertEquals(canon(reply.sequences.get(k)), canon(second.sequences.get(k)));
        }
    }
}
