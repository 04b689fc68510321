package peloton.mongo;

import com.mongodb.MongoClientSettings;
import java.nio.ByteBuffer;
import org.bson.BsonBinaryReader;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.BsonWriter;
import org.bson.Document;
import org.bson.codecs.BsonValueCodec;
import org.bson.codecs.Codec;
import org.bson.codecs.DecoderContext;
import org.bson.codecs.EncoderContext;
import org.bson.codecs.configuration.CodecRegistry;
import org.bson.conversions.Bson;

/**
 * The Java side of the one BSON layer: what {@link BsonCodec} hands over to for Java-shaped data.
 *
 * <p>Encoding: {@link BsonCodec} writes {@code org.bson.Document}s itself (they are maps); this
 * class writes what is not a plain Java value, a {@link BsonValue} (the values of a {@link
 * BsonDocument}) and any other {@link Bson} (what {@code Filters}, {@code Updates}, {@code Sorts},
 * {@code Projections}, {@code Aggregates} and {@code Indexes} build), rendered with the driver's
 * default codec registry. Decoding: a reply to an operation of the Java API is read by the
 * driver's own {@link org.bson.codecs.DocumentCodec} straight from the reply bytes, so a Java
 * caller gets exactly the {@link Document} the official driver would give (Int32 as Integer, Int64
 * as Long, Decimal128, Binary, key order kept), and the Clojure path is not touched.
 */
final class JavaBson {
  /** The driver's default registry: what a Java MongoDB user's {@code Bson} builders expect. */
  static final CodecRegistry REGISTRY = MongoClientSettings.getDefaultCodecRegistry();

  private static final Codec<Document> DOCUMENTS = REGISTRY.get(Document.class);
  private static final BsonValueCodec BSON_VALUES = new BsonValueCodec(REGISTRY);
  private static final EncoderContext ENCODE = EncoderContext.builder().build();
  private static final DecoderContext DECODE = DecoderContext.builder().build();

  private JavaBson() {}

  /**
   * Writes {@code v} when it is a {@link BsonValue} or a {@link Bson}; answers false (writing
   * nothing) for anything else.
   */
  static boolean write(BsonWriter w, Object v) {
    if (v instanceof BsonValue) {
      BSON_VALUES.encode(w, (BsonValue) v, ENCODE);
      return true;
    }
    if (v instanceof Bson) {
      BSON_VALUES.encode(w, toBsonDocument((Bson) v), ENCODE);
      return true;
    }
    return false;
  }

  /** {@code b} rendered as a {@link BsonDocument} with the driver's default registry. */
  static BsonDocument toBsonDocument(Bson b) {
    return b.toBsonDocument(BsonDocument.class, REGISTRY);
  }

  /**
   * Reads exactly one document at {@code buf}'s position into a {@link Document} with the driver's
   * {@link org.bson.codecs.DocumentCodec}, and moves the position past it.
   *
   * @throws MongoProtocolException when the bytes are not one well-formed document
   */
  static Document decode(ByteBuffer buf) {
    int at = buf.position();
    int len = BsonCodec.documentLength(buf, at, buf.remaining());
    ByteBuffer slice = buf.slice();
    slice.limit(len);
    Document d;
    try (BsonBinaryReader r = new BsonBinaryReader(slice)) {
      d = DOCUMENTS.decode(r, DECODE);
      if (r.getBsonInput().getPosition() != len) {
        throw new MongoProtocolException("BSON document length " + len + " does not match its content");
      }
    } catch (MongoProtocolException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new MongoProtocolException("malformed BSON document: " + e.getMessage(), e);
    }
    buf.position(at + len);
    return d;
  }
}
