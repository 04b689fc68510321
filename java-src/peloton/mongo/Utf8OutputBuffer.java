package peloton.mongo;

import org.bson.BsonSerializationException;
import org.bson.io.BasicOutputBuffer;

/**
 * The output buffer every document Peloton sends is encoded into: org.bson's, with its own UTF-8
 * encoder for strings and keys. org.bson writes a lone UTF-16 surrogate (a Java String cut in
 * the middle of a pair, say) as bytes that are not UTF-8, which the server stores altered or
 * refuses; this one refuses it with a {@link BadString} (an {@link IllegalArgumentException}
 * that {@link BsonCodec} completes with the field's path). The check costs nothing on ASCII: it
 * sits in the branch for characters at or above U+0800, in the one pass that encodes. Strings go
 * through a per-thread scratch array and are copied into the buffer once, instead of a bounds
 * check per byte.
 */
final class Utf8OutputBuffer extends BasicOutputBuffer {
  private static final int SCRATCH = 8192;
  private static final ThreadLocal<byte[]> SCRATCHES = ThreadLocal.withInitial(() -> new byte[SCRATCH]);
  private byte[] scratch;

  /** An empty buffer of {@code initialSize} bytes. */
  Utf8OutputBuffer(int initialSize) {
    super(initialSize);
  }

  /** A string that cannot be encoded: a surrogate at {@code index} has no partner. */
  static final class BadString extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    final String string;
    final int index;
    /** The field's path, outermost first, filled in as the exception leaves each document. */
    private String path = "";
    private boolean key;

    BadString(String string, int index) {
      super((String) null, null);
      this.string = string;
      this.index = index;
    }

    /** This error, inside the field {@code name} (a key or an array index) of the enclosing document. */
    BadString in(String name) {
      if (path.isEmpty() && name == string) {
        key = true; // the key itself is the bad string (keys are written with their value)
      }
      path = path.isEmpty() ? name : name + "." + path;
      return this;
    }

    @Override
    public String getMessage() {
      StringBuilder sb = new StringBuilder("cannot encode ");
      if (path.isEmpty()) {
        sb.append("a string");
      } else {
        sb.append(key ? "the key of field \"" : "the value of field \"");
        escape(sb, path, 80);
        sb.append('"');
      }
      sb.append(": an unpaired surrogate U+").append(Integer.toHexString(string.charAt(index)).toUpperCase())
          .append(" at index ").append(index).append(" of \"");
      escape(sb, string, 80);
      return sb.append("\" (a String cut in the middle of a UTF-16 pair is not valid UTF-8)").toString();
    }

    private static void escape(StringBuilder sb, String s, int max) {
      for (int i = 0; i < s.length() && i < max; i++) {
        char c = s.charAt(i);
        if (Character.isSurrogate(c) || c < 0x20) {
          sb.append(String.format("\\u%04X", (int) c));
        } else {
          sb.append(c);
        }
      }
      if (s.length() > max) {
        sb.append("...");
      }
    }
  }

  @Override
  protected int writeCharacters(String s, boolean cstring) {
    byte[] b = scratch;
    if (b == null) {
      b = SCRATCHES.get();
      scratch = b;
    }
    int limit = b.length - 5; // room for a 4-byte sequence and the terminating 0
    int n = s.length();
    int total = 0;
    int j = 0;
    for (int i = 0; i < n; i++) {
      if (j > limit) {
        writeBytes(b, 0, j);
        total += j;
        j = 0;
      }
      char c = s.charAt(i);
      if (c < 0x80) {
        if (c == 0 && cstring) {
          throw new BsonSerializationException("BSON cstring '" + s
              + "' is not valid because it contains a null character at index " + i);
        }
        b[j++] = (byte) c;
      } else if (c < 0x800) {
        b[j++] = (byte) (0xC0 | c >> 6);
        b[j++] = (byte) (0x80 | c & 0x3F);
      } else if (!Character.isSurrogate(c)) {
        b[j++] = (byte) (0xE0 | c >> 12);
        b[j++] = (byte) (0x80 | c >> 6 & 0x3F);
        b[j++] = (byte) (0x80 | c & 0x3F);
      } else {
        if (!Character.isHighSurrogate(c) || i + 1 == n || !Character.isLowSurrogate(s.charAt(i + 1))) {
          throw new BadString(s, i);
        }
        int cp = Character.toCodePoint(c, s.charAt(++i));
        b[j++] = (byte) (0xF0 | cp >> 18);
        b[j++] = (byte) (0x80 | cp >> 12 & 0x3F);
        b[j++] = (byte) (0x80 | cp >> 6 & 0x3F);
        b[j++] = (byte) (0x80 | cp & 0x3F);
      }
    }
    b[j++] = 0;
    writeBytes(b, 0, j);
    return total + j;
  }
}
