package peloton.http;

import java.io.IOException;
import java.io.InputStream;
import peloton.fut.Stream;
import peloton.reactor.Reactor;

/** A blocking InputStream over a stream of byte[] chunks: request bodies and response bodies. */
public final class ChunkInputStream extends InputStream {
  private final Stream<byte[]> source;
  private final String what;
  private byte[] chunk;
  private int pos;
  private boolean eof;

  /**
   * An InputStream that reads the chunks of {@code source} in order, blocking while none is there.
   *
   * @param source the body's chunks; its end is the stream's end, its failure an IOException
   * @param what the body's name in errors ("the request body", "the response body")
   */
  public ChunkInputStream(Stream<byte[]> source, String what) {
    this.source = source;
    this.what = what;
  }

  private boolean fill() throws IOException {
    while (!eof && (chunk == null || pos == chunk.length)) {
      if (Reactor.current() != null) {
        // Blocking here would stop the very reactor that feeds the stream.
        throw new IllegalStateException(what + " is streamed and cannot be read with blocking "
            + "IO on a reactor thread: run the code on an executor, or use bodyStream()");
      }
      Object v;
      try {
        v = source.take().join();
      } catch (RuntimeException e) {
        throw new IOException("reading " + what + " failed", e);
      }
      if (Stream.isEof(v)) {
        eof = true;
      } else {
        chunk = (byte[]) v;
        pos = 0;
      }
    }
    return !eof;
  }

  @Override
  public int read() throws IOException {
    return fill() ? chunk[pos++] & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, chunk.length - pos);
    System.arraycopy(chunk, pos, b, off, n);
    pos += n;
    return n;
  }
}
