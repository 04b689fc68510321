package peloton.websocket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * What a WebSocket connection reads and writes through: plain TCP today, TLS later, with the same
 * non-blocking contract as {@link SocketChannel} (reads answer -1 at end of stream, writes take
 * what fits).
 */
interface Transport {
  int read(ByteBuffer dst) throws IOException;

  long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

  /** The channel to register with the reactor's selector. */
  SocketChannel channel();

  void close();

  /** Plain TCP. */
  static Transport plain(SocketChannel ch) {
    return new Transport() {
      @Override
      public int read(ByteBuffer dst) throws IOException {
        return ch.read(dst);
      }

      @Override
      public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return ch.write(srcs, offset, length);
      }

      @Override
      public SocketChannel channel() {
        return ch;
      }

      @Override
      public void close() {
        try {
          ch.close();
        } catch (IOException e) {
          // already gone
        }
      }
    };
  }
}
