package peloton.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSession;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

/** Plain TCP: every call goes straight to the channel (files by {@code transferTo}). */
final class PlainTransport implements Transport {
  private final SocketChannel ch;

  PlainTransport(SocketChannel ch) {
    this.ch = ch;
  }

  @Override
  public SocketChannel channel() {
    return ch;
  }

  @Override
  public Fut<Transport> start(Reactor reactor, SelectionKey key, long timeoutMillis) {
    return Fut.of(this);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return ch.read(dst);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    return length == 1 ? ch.write(srcs[offset]) : ch.write(srcs, offset, length);
  }

  @Override
  public long write(ByteBuffer src) throws IOException {
    return ch.write(src);
  }

  @Override
  public long transferFrom(FileChannel file, long position, long count) throws IOException {
    return file.transferTo(position, count, ch);
  }

  @Override
  public boolean hasPendingOutput() {
    return false;
  }

  @Override
  public boolean flush() {
    return true;
  }

  @Override
  public boolean hasBufferedInput() {
    return false;
  }

  @Override
  public boolean isSecure() {
    return false;
  }

  @Override
  public SSLSession session() {
    return null;
  }

  @Override
  public String applicationProtocol() {
    return null;
  }

  @Override
  public void shutdownOutput() throws IOException {
    ch.shutdownOutput();
  }

  @Override
  public void close() {
    try {
      ch.close();
    } catch (IOException e) {
      // closing: nothing left to do with the error
    }
  }
}
