package peloton.websocket;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A blocking, byte-exact WebSocket client for tests: it sends what it is told, right or wrong. */
final class RawWs implements AutoCloseable {
  final Socket socket;
  final DataInputStream in;
  final OutputStream out;
  String responseHead;

  RawWs(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Sends a request head as given and reads the response head (through the blank line). */
  String request(String head) throws IOException {
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed during the response head: " + b);
      }
      b.write(c);
      state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
          ? state + 1 : 0;
    }
    responseHead = b.toString(StandardCharsets.ISO_8859_1);
    return responseHead;
  }

  /** The standard handshake (RFC 6455's sample key) plus {@code extra} header lines. */
  String handshake(String path, String extra) throws IOException {
    return request("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n" + extra + "\r\n");
  }

  void send(int b0, byte[] payload) throws IOException {
    out.write(FrameReaderTest.frame(b0, payload, true));
    out.flush();
  }

  void sendText(String s) throws IOException {
    send(0x81, s.getBytes(StandardCharsets.UTF_8));
  }

  /** One frame from the server: {@code [b0, payload...]}; null at end of stream. */
  byte[] readFrame() throws IOException {
    int b0 = in.read();
    if (b0 < 0) {
      return null;
    }
    int b1 = in.readUnsignedByte();
    if ((b1 & 0x80) != 0) {
      throw new IOException("a masked server frame");
    }
    long len = b1 & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    byte[] f = new byte[1 + (int) len];
    f[0] = (byte) b0;
    in.readFully(f, 1, (int) len);
    return f;
  }

  /** Reads frames until a close frame, answering its code (1005 for none); -1 at end of stream. */
  int readCloseCode() throws IOException {
    while (true) {
      byte[] f = readFrame();
      if (f == null) {
        return -1;
      }
      if ((f[0] & 0x0f) == 8) {
        return f.length >= 3 ? ((f[1] & 0xff) << 8) | (f[2] & 0xff) : 1005;
      }
    }
  }

  /** True when the server closes the TCP connection (reads to the end, within the timeout). */
  boolean closedByPeer() throws IOException {
    InputStream i = socket.getInputStream();
    byte[] b = new byte[4096];
    try {
      while (i.read(b) >= 0) {
        // drain
      }
      return true;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
