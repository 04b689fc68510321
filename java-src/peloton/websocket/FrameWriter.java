package peloton.websocket;

import java.security.SecureRandom;

/** Encodes frame heads (RFC 6455 section 5.2) and masks payloads. */
final class FrameWriter {
  static final int OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;
  /** The longest head: 2 bytes, an 8-byte length and a 4-byte mask. */
  static final int MAX_HEAD = 14;

  private static final SecureRandom RANDOM = new SecureRandom();

  private FrameWriter() {}

  /**
   * Writes a frame head into {@code h} at {@code off} and answers its length; with {@code mask}
   * the 4 key bytes of {@code maskKey} follow the length.
   */
  static int head(byte[] h, int off, int opcode, boolean fin, boolean rsv1, long len, boolean mask,
      int maskKey) {
    int p = off;
    h[p++] = (byte) ((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    int m = mask ? 0x80 : 0;
    if (len < 126) {
      h[p++] = (byte) (m | (int) len);
    } else if (len <= 0xFFFF) {
      h[p++] = (byte) (m | 126);
      h[p++] = (byte) (len >>> 8);
      h[p++] = (byte) len;
    } else {
      h[p++] = (byte) (m | 127);
      for (int s = 56; s >= 0; s -= 8) {
        h[p++] = (byte) (len >>> s);
      }
    }
    if (mask) {
      h[p++] = (byte) (maskKey >>> 24);
      h[p++] = (byte) (maskKey >>> 16);
      h[p++] = (byte) (maskKey >>> 8);
      h[p++] = (byte) maskKey;
    }
    return p - off;
  }

  /** XORs {@code len} bytes of {@code b} from {@code off} with the key, starting at key byte {@code k}. */
  static void mask(byte[] b, int off, int len, byte[] key, int k) {
    int end = off + len;
    for (int i = off; i < end; i++) {
      b[i] ^= key[k & 3];
      k++;
    }
  }

  /** A fresh masking key from a {@link SecureRandom} (RFC 6455 section 10.3). */
  static int randomMask() {
    return RANDOM.nextInt();
  }
}
