package peloton.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSession;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

/**
 * The seam every protocol (HTTP server, HTTP client, MongoDB) reads and writes through: plain TCP
 * ({@link #plain}) or TLS ({@link #tls}), later unix sockets. A protocol sees application bytes
 * only. All methods run on the reactor thread that owns the channel.
 *
 * <p>Life: make one around a connected non-blocking channel registered on its reactor, call
 * {@link #start} once (for TLS: the handshake, which borrows the selection key meanwhile and gives
 * it back with the interest set it had), then {@link #read} and {@link #write} as the key says the
 * socket is ready. When {@link #hasBufferedInput} is true after start (application data came with
 * the last handshake flight) read at once: the selector will not say so again.
 *
 * <p>{@link #read} returns with {@code dst} full, or with everything the socket had taken in
 * (only a partial TLS record may stay buffered): a protocol that reads once per readiness event
 * with a fresh buffer of 64 KiB, or that reads until 0 or until {@code dst} is not filled, never
 * strands bytes. {@link #write} may keep some encrypted bytes it accepted when the socket is
 * full: a protocol keeps write interest while {@link #hasPendingOutput} and calls {@link #flush}
 * (or write) when the socket is writable again.
 */
public interface Transport {
  /** Plain TCP over {@code ch}. */
  static Transport plain(SocketChannel ch) {
    return new PlainTransport(ch);
  }

  /** TLS over {@code ch} with an engine from {@code config} (for a client, towards host:port). */
  static TlsTransport tls(SocketChannel ch, TlsConfig config, String host, int port) {
    return new TlsTransport(ch, config.isClient() ? config.clientEngine(host, port)
        : config.serverEngine());
  }

  /** The socket underneath. */
  SocketChannel channel();

  /**
   * Starts the transport on {@code key} (the channel's registration on {@code reactor}): for TLS,
   * runs the handshake, failing it after {@code timeoutMillis} (0: no limit). The fut answers this
   * transport, or fails with a {@link TlsException} after the channel was closed.
   */
  Fut<Transport> start(Reactor reactor, SelectionKey key, long timeoutMillis);

  /** Reads application bytes into {@code dst}: how many, 0 for none yet, -1 at end of stream. */
  int read(ByteBuffer dst) throws IOException;

  /** Writes from {@code srcs}: answers how many application bytes were taken. */
  long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

  /** Writes from {@code src}: answers how many bytes were taken. */
  default long write(ByteBuffer src) throws IOException {
    return write(new ByteBuffer[] {src}, 0, 1);
  }

  /**
   * Sends up to {@code count} bytes of {@code file} from {@code position}: with sendfile on plain
   * TCP, read and encrypted in bounded pieces on TLS. Answers how many file bytes were taken.
   */
  long transferFrom(FileChannel file, long position, long count) throws IOException;

  /** True while bytes taken by write are not all on the socket yet. */
  boolean hasPendingOutput();

  /** Writes pending bytes; answers true when none are left. */
  boolean flush() throws IOException;

  /** True when bytes already read from the socket wait for {@link #read}. */
  boolean hasBufferedInput();

  /** True for TLS. */
  boolean isSecure();

  /** The TLS session once the handshake is done, else null. */
  SSLSession session();

  /** The protocol agreed by ALPN ({@code "http/1.1"}), or null. */
  String applicationProtocol();

  /**
   * Ends our side of the stream while reading goes on (a lingering close): TLS sends close_notify,
   * then the socket's output is shut down.
   */
  void shutdownOutput() throws IOException;

  /** Closes the connection; TLS sends close_notify first when it can without waiting. */
  void close();
}
