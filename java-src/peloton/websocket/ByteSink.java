package peloton.websocket;

import java.util.Arrays;

/** A growable byte array for one message, with a size limit; let go of after each message. */
final class ByteSink {
  byte[] buf;
  int len;

  /** Makes room for {@code n} more bytes, doubling (but not past {@code limit} + 1). */
  void ensure(int n, int limit) {
    int need = len + n;
    if (buf == null) {
      buf = new byte[Math.max(n, 256)];
    } else if (need > buf.length) {
      long grown = Math.max((long) need, Math.min((long) buf.length * 2, (long) limit + 1));
      buf = Arrays.copyOf(buf, (int) Math.min(grown, Integer.MAX_VALUE - 8));
    }
  }

  void append(byte[] b, int off, int n, int limit) {
    ensure(n, limit);
    System.arraycopy(b, off, buf, len, n);
    len += n;
  }

  /** Forgets the bytes (and the array, so an idle connection holds none). */
  void release() {
    buf = null;
    len = 0;
  }
}
