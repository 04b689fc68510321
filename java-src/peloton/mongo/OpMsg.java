package peloton.mongo;

import clojure.lang.IPersistentMap;
import clojure.lang.ITransientCollection;
import clojure.lang.PersistentArrayMap;
import clojure.lang.PersistentVector;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.bson.BsonSerializationException;
import org.bson.io.BasicOutputBuffer;

/**
 * The MongoDB OP_MSG wire format (opCode 2013): pure encoding and decoding, no IO.
 *
 * <pre>
 * header   int32 messageLength, int32 requestID, int32 responseTo, int32 opCode (all little-endian)
 * flagBits uint32: {@link #CHECKSUM_PRESENT}, {@link #MORE_TO_COME}, {@link #EXHAUST_ALLOWED}
 * sections kind 0: one body document
 *          kind 1: int32 size, cstring identifier, documents... (e.g. "documents" for insert)
 * checksum optional CRC32C of everything before it
 * </pre>
 *
 * A connection uses it like this: {@link #encode(BasicOutputBuffer, int, int, Object, List, int)}
 * a request with an id from {@link #requestId()}; accumulate socket reads in a buffer; when
 * {@link #frameLength(ByteBuffer, int)} answers n &gt; 0 and n bytes are there, slice them and
 * {@link #decode(ByteBuffer, boolean, int)} a {@link Reply}, matched to its request by
 * {@link Reply#responseTo}. Large inserts/updates/deletes go out in batches from
 * {@link #splitBatches}. Documents are Clojure maps (see {@link BsonCodec}); a {@code byte[]}
 * in their place is taken as one already-encoded BSON document.
 *
 * <p>All methods are static and thread-safe. Protocol violations by the peer raise
 * {@link MongoProtocolException}; bad arguments from the caller raise
 * {@link IllegalArgumentException}.
 */
public final class OpMsg {
  /** OP_MSG's opCode. */
  public static final int OP_CODE = 2013;
  /** Bytes in the standard message header. */
  public static final int HEADER_LENGTH = 16;
  /** flagBits: a CRC32C checksum ends the message. */
  public static final int CHECKSUM_PRESENT = 1;
  /** flagBits: the sender will send another message without waiting for a reply. */
  public static final int MORE_TO_COME = 1 << 1;
  /** flagBits: the client accepts several replies (moreToCome) to this request. */
  public static final int EXHAUST_ALLOWED = 1 << 16;
  /** The server's usual maxMessageSizeBytes, used until the handshake says otherwise. */
  public static final int DEFAULT_MAX_MESSAGE_SIZE = 48_000_000;
  /** The server's usual maxBsonObjectSize. */
  public static final int DEFAULT_MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
  /** The server's usual maxWriteBatchSize. */
  public static final int DEFAULT_MAX_WRITE_BATCH_SIZE = 100_000;
  /**
   * Bytes of a message {@link #splitBatches} leaves for the header, the command body and the
   * sequence identifier; the documents of a batch fill the rest of maxMessageSizeBytes.
   */
  public static final int BATCH_HEADROOM = 16 * 1024;

  private static final int REQUIRED_FLAGS = 0xFFFF; // bits 0-15: unknown ones must be refused
  private static final int KNOWN_FLAGS = CHECKSUM_PRESENT | MORE_TO_COME;
  private static final int MIN_MESSAGE = HEADER_LENGTH + 4 + 1 + 5;
  private static final AtomicInteger NEXT_ID = new AtomicInteger();

  private OpMsg() {}

  /** A kind-1 section: documents sent as a sequence under {@code identifier} instead of in the body. */
  public static final class Sequence {
    /** The body field the documents belong to, e.g. {@code "documents"}, {@code "updates"}, {@code "deletes"}. */
    public final String identifier;
    /** Clojure maps or already-encoded BSON {@code byte[]}s. */
    public final List<?> documents;

    /**
     * A sequence of {@code documents} under {@code identifier}.
     *
     * @param identifier the command field the documents belong to, such as {@code "documents"} for an insert
     * @param documents the documents: maps, or BSON {@code byte[]}s already encoded
     */
    public Sequence(String identifier, List<?> documents) {
      if (identifier == null || identifier.isEmpty() || identifier.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("bad sequence identifier");
      }
      this.identifier = identifier;
      this.documents = documents;
    }
  }

  /** A decoded OP_MSG. */
  public static final class Reply {
    /** Length of the whole message in bytes. */
    public final int messageLength;
    /** The sender's id for this message. */
    public final int requestId;
    /** The requestId of the request this answers. */
    public final int responseTo;
    /** The flagBits. */
    public final int flagBits;
    /** The body document as Clojure data. */
    public final Object body;
    /** Kind-1 sections: identifier → vector of documents (usually empty in replies). */
    public final Map<String, List<Object>> sequences;

    Reply(int messageLength, int requestId, int responseTo, int flagBits, Object body,
        Map<String, List<Object>> sequences) {
      this.messageLength = messageLength;
      this.requestId = requestId;
      this.responseTo = responseTo;
      this.flagBits = flagBits;
      this.body = body;
      this.sequences = sequences;
    }

    /**
     * Whether the server will send another reply to the same request (exhaust cursors).
     *
     * @return true when the reply's flag bits have {@link #MORE_TO_COME}
     */
    public boolean moreToCome() {
      return (flagBits & MORE_TO_COME) != 0;
    }
  }

  /**
   * A fresh positive request id (process-wide counter, wraps after 2^31 - 1).
   *
   * @return the id, at least 1
   */
  public static int requestId() {
    int id;
    do {
      id = NEXT_ID.incrementAndGet() & 0x7fffffff;
    } while (id == 0);
    return id;
  }

  // ---------------------------------------------------------------- encode

  /**
   * Encodes a request into a new byte array, with the default size limit.
   *
   * @param requestId the message's request id (see {@link #requestId()})
   * @param flagBits the OP_MSG flag bits, such as {@link #MORE_TO_COME}; 0 for none
   * @param body the command document, its first key the command's name
   * @param sequences the kind-1 sections to send after the body
   * @return the whole message
   * @throws IllegalArgumentException if a document cannot be encoded or the message is too long
   */
  public static byte[] encode(int requestId, int flagBits, Object body, Sequence... sequences) {
    BasicOutputBuffer out = new Utf8OutputBuffer(512);
    encode(out, requestId, flagBits, body, Arrays.asList(sequences), DEFAULT_MAX_MESSAGE_SIZE);
    return out.toByteArray();
  }

  /**
   * Appends one OP_MSG at {@code out}'s position: header (responseTo 0), {@code flagBits}, the
   * {@code body} document (a map whose first key is the command name, see {@link BsonCodec}),
   * then each of {@code sequences} as a kind-1 section. Lengths are filled in after the fact;
   * when {@code flagBits} has {@link #CHECKSUM_PRESENT} a CRC32C is appended. Answers the
   * message length.
   *
   * @param out the buffer to append to
   * @param requestId the message's request id (see {@link #requestId()})
   * @param flagBits the OP_MSG flag bits; 0 for none
   * @param body the command document, its first key the command's name
   * @param sequences the kind-1 sections to send after the body, possibly empty
   * @param maxMessageSize the longest message allowed, in bytes (the server's {@code
   *     maxMessageSizeBytes})
   * @return the length of the message appended, in bytes
   * @throws IllegalArgumentException if a document cannot be encoded or the message would be
   *     longer than {@code maxMessageSize}; {@code out} is then left as it was
   */
  public static int encode(BasicOutputBuffer out, int requestId, int flagBits, Object body,
      List<Sequence> sequences, int maxMessageSize) {
    if ((flagBits & REQUIRED_FLAGS & ~KNOWN_FLAGS) != 0) {
      throw new IllegalArgumentException("unknown required flag bits 0x" + Integer.toHexString(flagBits));
    }
    int start = out.getPosition();
    try {
      out.writeInt32(0); // messageLength, patched below
      out.writeInt32(requestId);
      out.writeInt32(0);
      out.writeInt32(OP_CODE);
      out.writeInt32(flagBits);
      out.writeByte(0);
      writeDocument(out, body);
      for (Sequence s : sequences) {
        out.writeByte(1);
        int sizeAt = out.getPosition();
        out.writeInt32(0);
        out.writeCString(s.identifier);
        for (Object doc : s.documents) {
          writeDocument(out, doc);
        }
        out.writeInt32(sizeAt, out.getPosition() - sizeAt);
      }
      boolean checksum = (flagBits & CHECKSUM_PRESENT) != 0;
      int length = out.getPosition() - start + (checksum ? 4 : 0);
      if (length > maxMessageSize) {
        throw new IllegalArgumentException("message of " + length + " bytes is over the limit of "
            + maxMessageSize + ": split the documents with OpMsg.splitBatches");
      }
      out.writeInt32(start, length);
      if (checksum) {
        CRC32C crc = new CRC32C();
        crc.update(out.getInternalBuffer(), start, length - 4);
        out.writeInt32((int) crc.getValue());
      }
      return length;
    } catch (RuntimeException e) {
      out.truncateToPosition(start);
      throw e instanceof BsonSerializationException ? new IllegalArgumentException(e.getMessage(), e) : e;
    }
  }

  private static void writeDocument(BasicOutputBuffer out, Object doc) {
    if (doc instanceof byte[]) {
      byte[] b = (byte[]) doc;
      checkEncoded(b);
      out.writeBytes(b, 0, b.length);
    } else {
      BsonCodec.encode(out, doc);
    }
  }

  private static void checkEncoded(byte[] b) {
    if (b.length < 5 || int32(b, 0) != b.length || b[b.length - 1] != 0) {
      throw new IllegalArgumentException("a byte[] document must be exactly one encoded BSON document");
    }
  }

  // ---------------------------------------------------------------- framing

  /**
   * {@link #frameLength(ByteBuffer, int)} with {@link #DEFAULT_MAX_MESSAGE_SIZE}.
   *
   * @param buf bytes read from the server, the message starting at its position
   * @return -1 while fewer than 4 bytes are there, else the message's length
   * @throws MongoProtocolException if the length is out of bounds
   */
  public static int frameLength(ByteBuffer buf) {
    return frameLength(buf, DEFAULT_MAX_MESSAGE_SIZE);
  }

  /**
   * Reads, without moving the position, the length of the message that starts at {@code buf}'s
   * position: -1 while fewer than 4 bytes are there, else the length. A complete message is
   * present once {@code buf.remaining() >= length}.
   *
   * @param buf bytes read from the server, the message starting at its position
   * @param maxMessageSize the longest message accepted, in bytes
   * @return -1 while fewer than 4 bytes are there, else the message's length
   * @throws MongoProtocolException if the length is below a minimal message or above
   *     {@code maxMessageSize}
   */
  public static int frameLength(ByteBuffer buf, int maxMessageSize) {
    if (buf.remaining() < 4) {
      return -1;
    }
    int len = int32(buf, buf.position());
    if (len < MIN_MESSAGE || len > maxMessageSize) {
      throw new MongoProtocolException("bad message length " + len + " (limit " + maxMessageSize + ")");
    }
    return len;
  }

  // ---------------------------------------------------------------- decode

  /**
   * Decodes with keyword keys and the default size limit; see {@link #decode(ByteBuffer, boolean, int)}.
   *
   * @param msg the bytes, a complete message at their position
   * @return the message's flag bits, body and sequences
   * @throws MongoProtocolException if the bytes are not one well-formed OP_MSG
   */
  public static Reply decode(ByteBuffer msg) {
    return decode(msg, true, DEFAULT_MAX_MESSAGE_SIZE);
  }

  /**
   * Decodes the complete OP_MSG at {@code msg}'s position and advances the position past it.
   * Documents decode with {@link BsonCodec} (keyword keys when {@code keywordKeys}). A present
   * checksum is verified.
   *
   * @param msg the bytes, a complete message at their position (see {@link #frameLength})
   * @param keywordKeys true to decode documents as keyword-keyed Clojure maps, false for {@code
   *     org.bson.Document}s
   * @param maxMessageSize the longest message accepted, in bytes
   * @return the message's flag bits, body and sequences
   * @throws MongoProtocolException if the bytes are not one well-formed OP_MSG: wrong opCode,
   *     length under the minimum, over {@code maxMessageSize} or past the buffer, unknown
   *     required flag bits, bad checksum, unknown section kind, not exactly one body, or
   *     malformed documents
   */
  public static Reply decode(ByteBuffer msg, boolean keywordKeys, int maxMessageSize) {
    return decode(msg, keywordKeys, maxMessageSize, false);
  }

  /**
   * {@link #decode(ByteBuffer, boolean, int)}; with {@code javaBody} the body is read into an
   * {@code org.bson.Document} by the driver's codec instead (a reply to the Java API).
   */
  static Reply decode(ByteBuffer msg, boolean keywordKeys, int maxMessageSize, boolean javaBody) {
    int start = msg.position();
    if (msg.remaining() < HEADER_LENGTH + 4) {
      throw new MongoProtocolException("truncated message: " + msg.remaining() + " bytes");
    }
    int len = int32(msg, start);
    if (len < MIN_MESSAGE || len > maxMessageSize) {
      throw new MongoProtocolException("bad message length " + len + " (limit " + maxMessageSize + ")");
    }
    if (len > msg.remaining()) {
      throw new MongoProtocolException("truncated message: length " + len + ", " + msg.remaining() + " bytes");
    }
    int requestId = int32(msg, start + 4);
    int responseTo = int32(msg, start + 8);
    int opCode = int32(msg, start + 12);
    if (opCode != OP_CODE) {
      throw new MongoProtocolException("unsupported opCode " + opCode + " (only OP_MSG 2013)");
    }
    int flags = int32(msg, start + 16);
    if ((flags & REQUIRED_FLAGS & ~KNOWN_FLAGS) != 0) {
      throw new MongoProtocolException("unknown required flag bits 0x" + Integer.toHexString(flags));
    }
    int end = start + len;
    if ((flags & CHECKSUM_PRESENT) != 0) {
      end -= 4;
      CRC32C crc = new CRC32C();
      ByteBuffer covered = msg.duplicate();
      covered.position(start).limit(end);
      crc.update(covered);
      if ((int) crc.getValue() != int32(msg, end)) {
        throw new MongoProtocolException("checksum mismatch");
      }
    }
    Object body = null;
    IPersistentMap sequences = PersistentArrayMap.EMPTY;
    ByteBuffer view = msg.duplicate();
    int pos = start + HEADER_LENGTH + 4;
    try {
      while (pos < end) {
        byte kind = msg.get(pos++);
        if (kind == 0) {
          if (body != null) {
            throw new MongoProtocolException("more than one body section");
          }
          view.limit(end).position(pos);
          body = javaBody ? JavaBson.decode(view) : BsonCodec.decode(view, keywordKeys);
          pos = view.position();
        } else if (kind == 1) {
          if (end - pos < 5) {
            throw new MongoProtocolException("truncated document sequence");
          }
          int size = int32(msg, pos);
          int sectionEnd = pos + size;
          if (size < 5 || size > end - pos) {
            throw new MongoProtocolException("bad document sequence size " + size);
          }
          int nameEnd = pos + 4;
          while (nameEnd < sectionEnd && msg.get(nameEnd) != 0) {
            nameEnd++;
          }
          if (nameEnd == sectionEnd) {
            throw new MongoProtocolException("unterminated sequence identifier");
          }
          byte[] name = new byte[nameEnd - pos - 4];
          msg.duplicate().position(pos + 4).get(name);
          view.limit(sectionEnd).position(nameEnd + 1);
          ITransientCollection docs = PersistentVector.EMPTY.asTransient();
          while (view.hasRemaining()) {
            docs = docs.conj(BsonCodec.decode(view, keywordKeys));
          }
          sequences = sequences.assoc(new String(name, StandardCharsets.UTF_8), docs.persistent());
          pos = sectionEnd;
        } else {
          throw new MongoProtocolException("unknown section kind " + kind);
        }
      }
    } catch (BsonSerializationException e) {
      throw new MongoProtocolException("malformed document in message " + requestId + ": " + e.getMessage(), e);
    }
    if (body == null) {
      throw new MongoProtocolException("message has no body section");
    }
    msg.position(start + len);
    @SuppressWarnings("unchecked")
    Map<String, List<Object>> seqs = (Map<String, List<Object>>) sequences;
    return new Reply(len, requestId, responseTo, flags, body, seqs);
  }

  // ---------------------------------------------------------------- batches

  /**
   * Encodes {@code docs} (maps, or already-encoded {@code byte[]}s) once each and splits them,
   * in order, into batches for kind-1 sequences: at most {@code maxWriteBatchSize} documents
   * per batch, and documents of a batch together at most {@code maxMessageSizeBytes -}
   * {@link #BATCH_HEADROOM} bytes. Pass the server's limits from the handshake (or the
   * DEFAULT_ constants). Each batch's elements are BSON {@code byte[]}s that
   * {@link #encode} writes as they are; batch i starts right after batch i-1 in {@code docs}.
   *
   * @param docs the documents of one kind of write, in the caller's order
   * @param maxWriteBatchSize the most documents in a batch (the server's {@code maxWriteBatchSize})
   * @param maxMessageSizeBytes the longest message, in bytes (the server's {@code maxMessageSizeBytes})
   * @param maxBsonObjectSize the largest document, in bytes (the server's {@code maxBsonObjectSize})
   * @return the batches, in order, each a non-empty list of encoded documents
   * @throws IllegalArgumentException if a document is larger than {@code maxBsonObjectSize}
   *     (naming its index) or cannot be encoded, or a limit is not positive
   */
  public static List<List<byte[]>> splitBatches(List<?> docs, int maxWriteBatchSize,
      int maxMessageSizeBytes, int maxBsonObjectSize) {
    int budget = maxMessageSizeBytes - BATCH_HEADROOM;
    if (maxWriteBatchSize <= 0 || maxBsonObjectSize <= 0 || budget <= 0) {
      throw new IllegalArgumentException("limits must leave room for documents: maxWriteBatchSize="
          + maxWriteBatchSize + " maxMessageSizeBytes=" + maxMessageSizeBytes
          + " maxBsonObjectSize=" + maxBsonObjectSize);
    }
    List<List<byte[]>> batches = new ArrayList<>();
    List<byte[]> batch = new ArrayList<>();
    long bytes = 0;
    int i = 0;
    for (Object doc : docs) {
      byte[] b;
      if (doc instanceof byte[]) {
        b = (byte[]) doc;
        checkEncoded(b);
      } else {
        b = BsonCodec.encode(doc);
      }
      if (b.length > maxBsonObjectSize || b.length > budget) {
        throw new IllegalArgumentException("document " + i + " is " + b.length
            + " bytes, over the limit of " + Math.min(maxBsonObjectSize, budget));
      }
      if (!batch.isEmpty() && (batch.size() == maxWriteBatchSize || bytes + b.length > budget)) {
        batches.add(batch);
        batch = new ArrayList<>();
        bytes = 0;
      }
      batch.add(b);
      bytes += b.length;
      i++;
    }
    if (!batch.isEmpty()) {
      batches.add(batch);
    }
    return batches;
  }

  // ---------------------------------------------------------------- little-endian helpers

  private static int int32(ByteBuffer b, int at) {
    return (b.get(at) & 0xff) | (b.get(at + 1) & 0xff) << 8 | (b.get(at + 2) & 0xff) << 16
        | (b.get(at + 3) & 0xff) << 24;
  }

  private static int int32(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
  }
}
