package peloton.mongo;

import static org.junit.jupiter.api.Assertions.*;

import clojure.lang.Keyword;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.bson.BsonBinaryReader;
import org.bson.BsonDocument;
import org.bson.BsonSerializationException;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DecoderContext;

/**
 * Coverage-guided fuzz targets for the MongoDB decoders (Jazzer; see FUZZING.md). Under {@code
 * mvn test} each runs only its seeds and past findings, kept in {@code
 * test/resources/peloton/mongo/MongoFuzzTestInputs/<target>/}.
 */
class MongoFuzzTest {

    /**
     * BsonCodec against org.bson's own reader ({@link BsonDocumentCodec}) as the reference. The
     * only error BsonCodec may raise is MongoProtocolException. What it accepts, org.bson accepts
     * too, and BsonCodec's decoded value encodes back to a document org.bson reads as the same
     * (a repeated key keeping its first place and last value, as both do); for input org.bson
     * writes back byte for byte, BsonCodec does too (its fidelity promise). What org.bson accepts
     * and BsonCodec refuses must be input org.bson only tolerates (it does not write it back the
     * same: invalid UTF-8, say) or nesting past {@link BsonCodec#MAX_DEPTH}.
     */
    @FuzzTest
    void bsonDecoder(byte[] data) {
        Object decoded;
        try {
            decoded = BsonCodec.decode(data);
        } catch (MongoProtocolException e) {
            decoded = e;
        }
        final Object ours = decoded;
        BsonDocument ref;
        try {
            ref = referenceDecode(data);
        } catch (RuntimeException e) { // org.bson reports corruption with several exception types
            ref = null;
        }
        final BsonDocument reference = ref;
        if (ours instanceof MongoProtocolException) {
            if (reference != null) {
                assertTrue(!Arrays.equals(data, referenceEncode(reference)) || depth(reference) >= BsonCodec.MAX_DEPTH,
                        () -> "BsonCodec refused BSON org.bson reads and writes back as it is: "
                                + HexFormat.of().formatHex(data) + ": " + ours);
            }
            return;
        }
        assertNotNull(reference, () -> "BsonCodec accepted what org.bson refuses: " + HexFormat.of().formatHex(data));
        byte[] again = BsonCodec.encode(ours);
        // Known and left to BsonCodec's owner (fuzzing finding 2): a non-canonical decimal128
        // (a significand past 10^34, which means zero) comes back canonical: same value, other bits.
        BsonDocument expected = canonicalDecimals(reference);
        assertEquals(expected, canonicalDecimals(referenceDecode(again)), () -> HexFormat.of().formatHex(data));
        if (Arrays.equals(data, referenceEncode(reference)) && expected.equals(reference)) {
            assertArrayEquals(data, again, () -> "not written back byte for byte: " + HexFormat.of().formatHex(data));
        }
    }

    // the document with every finite, non-negative-zero decimal128 in its canonical encoding
    private static BsonDocument canonicalDecimals(BsonDocument d) {
        BsonDocument out = new BsonDocument();
        for (Map.Entry<String, BsonValue> e : d.entrySet()) out.append(e.getKey(), canonicalDecimals(e.getValue()));
        return out;
    }

    private static BsonValue canonicalDecimals(BsonValue v) {
        if (v.isDocument()) return canonicalDecimals(v.asDocument());
        if (v.isArray()) {
            org.bson.BsonArray a = new org.bson.BsonArray();
            for (BsonValue e : v.asArray()) a.add(canonicalDecimals(e));
            return a;
        }
        if (v.isDecimal128()) {
            org.bson.types.Decimal128 x = v.asDecimal128().getValue();
            if (!x.isNaN() && !x.isInfinite() && !(x.isNegative() && x.bigDecimalValue().signum() == 0)) {
                return new org.bson.BsonDecimal128(new org.bson.types.Decimal128(x.bigDecimalValue()));
            }
        }
        return v;
    }

    // org.bson reads the whole array as exactly one document
    private static BsonDocument referenceDecode(byte[] data) {
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (data.length < 4 || buf.getInt(0) != data.length) {
            throw new BsonSerializationException("length prefix");
        }
        try (BsonBinaryReader r = new BsonBinaryReader(buf)) {
            BsonDocument doc = new BsonDocumentCodec().decode(r, DecoderContext.builder().build());
            if (r.getBsonInput().getPosition() != data.length) {
                throw new BsonSerializationException("bytes after the document");
            }
            return doc;
        }
    }

    private static byte[] referenceEncode(BsonDocument doc) {
        ByteBuffer b = new RawBsonDocument(doc, new BsonDocumentCodec()).getByteBuffer().asNIO();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static int depth(BsonValue v) {
        int d = 0;
        if (v.isDocument()) {
            for (BsonValue e : v.asDocument().values()) d = Math.max(d, depth(e));
            return d + 1;
        }
        if (v.isArray()) {
            for (BsonValue e : v.asArray()) d = Math.max(d, depth(e));
            return d + 1;
        }
        if (v.isJavaScriptWithScope()) return depth(v.asJavaScriptWithScope().getScope()) + 1;
        return 0;
    }

    /**
     * The first finding: a BSON regex Java cannot compile (PCRE syntax, or a mutated "^a**b$")
     * made the whole document unreadable. Its fuzzer input is replayed as a seed; this is the
     * behaviour in plain form.
     */
    @org.junit.jupiter.api.Test
    void aRegexJavaCannotCompileKeepsTheDocumentReadable() {
        BsonDocument d = new BsonDocument("re", new org.bson.BsonRegularExpression("^a**b$", "i"))
                .append("n", new org.bson.BsonInt32(1));
        ByteBuffer raw = new RawBsonDocument(d, new BsonDocumentCodec()).getByteBuffer().asNIO();
        byte[] bytes = new byte[raw.remaining()];
        raw.get(bytes);
        Map<?, ?> doc = (Map<?, ?>) BsonCodec.decode(bytes);
        Object re = doc.get(Keyword.intern("re"));
        assertInstanceOf(org.bson.BsonRegularExpression.class, re);
        assertEquals("^a**b$", ((org.bson.BsonRegularExpression) re).getPattern());
        assertEquals(1, doc.get(Keyword.intern("n")));
        Map<?, ?> ok = (Map<?, ?>) BsonCodec.decode(BsonCodec.encode(Map.of("ok", Pattern.compile("^a+$"))));
        assertInstanceOf(Pattern.class, ok.get(Keyword.intern("ok")), "a regex Java compiles is still a Pattern");
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

        byte[] again;
        try {
            List<OpMsg.Sequence> seqs = new ArrayList<>();
            for (Map.Entry<String, List<Object>> e : reply.sequences.entrySet()) {
                seqs.add(new OpMsg.Sequence(e.getKey(), e.getValue()));
            }
            again = OpMsg.encode(reply.requestId, reply.flagBits & ~OpMsg.CHECKSUM_PRESENT, reply.body,
                    seqs.toArray(new OpMsg.Sequence[0]));
        } catch (IllegalArgumentException e) {
            // only a sequence identifier Sequence refuses (empty, or with a NUL) cannot be written back
            assertTrue(reply.sequences.keySet().stream().anyMatch(k -> k.isEmpty() || k.indexOf(0) >= 0), e.toString());
            return;
        }
        OpMsg.Reply second = OpMsg.decode(ByteBuffer.wrap(again), keywords, Integer.MAX_VALUE);
        assertArrayEquals(BsonCodec.encode(reply.body), BsonCodec.encode(second.body));
        assertEquals(reply.requestId, second.requestId);
        assertEquals(reply.flagBits & ~OpMsg.CHECKSUM_PRESENT, second.flagBits);
        assertEquals(reply.sequences.keySet(), second.sequences.keySet());
        for (String k : reply.sequences.keySet()) {
            List<Object> x = reply.sequences.get(k), y = second.sequences.get(k);
            assertEquals(x.size(), y.size());
            for (int i = 0; i < x.size(); i++) assertArrayEquals(BsonCodec.encode(x.get(i)), BsonCodec.encode(y.get(i)));
        }
    }
}
