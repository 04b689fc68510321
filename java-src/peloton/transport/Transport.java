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
public interface Transport extends AutoCloseable {
  /**
   * Plain TCP over {@code ch}.
   *
   * @param ch a connected channel, non-blocking, registered on the reactor that will use it
   * @return a transport whose {@link #start} completes at once
   */
  static Transport plain(SocketChannel ch) {
    return new PlainTransport(ch);
  }

  /**
   * TLS over {@code ch} with an engine from {@code config}.
   *
   * @param ch a connected channel, non-blocking, registered on the reactor that will use it
   * @param config the TLS settings; a client config makes a client engine, a server config a
   *     server engine
   * @param host for a client, the server's name, checked against its certificate and sent as SNI;
   *     ignored by a server
   * @param port for a client, the server's port (the engine's session cache key); ignored by a
   *     server
   * @return a transport that is usable once its {@link #start} (the handshake) completes
   */
  static TlsTransport tls(SocketChannel ch, TlsConfig config, String host, int port) {
    return new TlsTransport(ch, config.isClient() ? config.clientEngine(host, port)
        : config.serverEngine(), config.inlineTasks());
  }

  /**
   * The socket underneath.
   *
   * @return the channel this transport was made around
   */
  SocketChannel channel();

  /**
   * Starts the transport on {@code key} (the channel's registration on {@code reactor}): for TLS,
   * runs the handshake, failing it after {@code timeoutMillis} (0: no limit). The fut answers this
   * transport, or fails with a {@link TlsException} after the channel was closed.
   *
   * @param reactor the reactor that owns the channel; the handshake runs on its thread
   * @param key the channel's selection key on {@code reactor}
   * @param timeoutMillis the handshake's time limit in milliseconds, 0 for none
   * @return a fut of this transport, ready for {@link #read} and {@link #write}
   */
  Fut<Transport> start(Reactor reactor, SelectionKey key, long timeoutMillis);

  /**
   * Reads application bytes into {@code dst}.
   *
   * @param dst the buffer to fill from its position
   * @return how many bytes were read, 0 for none yet, -1 at the end of the stream
   * @throws IOException when the socket fails or, on TLS, the peer's records are bad
   */
  int read(ByteBuffer dst) throws IOException;

  /**
   * Writes application bytes from {@code srcs}, gathering.
   *
   * @param srcs the buffers, read from their positions
   * @param offset the index of the first buffer to write
   * @param length how many buffers, from {@code offset}, to write
   * @return how many application bytes were taken (on TLS some may still wait in {@link
   *     #hasPendingOutput})
   * @throws IOException when the socket fails or is closed
   */
  long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

  /**
   * Writes application bytes from {@code src}.
   *
   * @param src the buffer, read from its position
   * @return how many bytes were taken
   * @throws IOException when the socket fails or is closed
   */
  default long write(ByteBuffer src) throws IOException {
    return write(new ByteBuffer[] {src}, 0, 1);
  }

  /**
   * Sends up to {@code count} bytes of {@code file} from {@code position}: with sendfile on plain
   * TCP, read and encrypted in bounded pieces on TLS.
   *
   * @param file the file to send from
   * @param position the offset in the file of the first byte to send
   * @param count the most bytes to send
   * @return how many file bytes were taken
   * @throws IOException when the file cannot be read or the socket fails
   */
  long transferFrom(FileChannel file, long position, long count) throws IOException;

  /**
   * Whether bytes taken by {@link #write} wait to go on the socket.
   *
   * @return true while bytes taken by write are not all on the socket yet
   */
  boolean hasPendingOutput();

  /**
   * Writes pending bytes as far as the socket takes them.
   *
   * @return true when none are left
   * @throws IOException when the socket fails
   */
  boolean flush() throws IOException;

  /**
   * Whether bytes already read from the socket wait for {@link #read}.
   *
   * @return true when a read would answer bytes without the selector saying so
   */
  boolean hasBufferedInput();

  /**
   * Whether the bytes are encrypted.
   *
   * @return true for TLS, false for plain TCP
   */
  boolean isSecure();

  /**
   * The TLS session: the peer's certificates, the protocol and the cipher suite agreed.
   *
   * @return the session once the handshake is done, else null (always null on plain TCP)
   */
  SSLSession session();

  /**
   * The protocol agreed by ALPN during the TLS handshake.
   *
   * @return the protocol, such as {@code "http/1.1"}, or null when none was agreed (always on
   *     plain TCP)
   */
  String applicationProtocol();

  /**
   * Ends our side of the stream while reading goes on (a lingering close): TLS sends close_notify,
   * then the socket's output is shut down.
   *
   * @throws IOException when the socket fails
   */
  void shutdownOutput() throws IOException;

  /** Closes the connection; TLS sends close_notify first when it can without waiting. */
  @Override
  void close();
}
