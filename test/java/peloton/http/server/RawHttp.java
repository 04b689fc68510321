package peloton.http.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A raw-socket HTTP/1.1 client for tests: sends exact bytes, reads responses strictly. */
final class RawHttp implements AutoCloseable {
  final Socket socket;
  final InputStream in;
  final OutputStream out;

  /** One parsed response. */
  static final class Response {
    int status;
    String reason;
    final Map<String, String> headers = new LinkedHashMap<>();
    byte[] body = new byte[0];

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String body() {
      return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return status + " " + reason + " " + headers + " " + body();
    }
  }

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  RawHttp send(String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  RawHttp send(byte[] b) throws IOException {
    out.write(b);
    out.flush();
    return this;
  }

  /** Reads one response; a HEAD request's response must be read with {@code head} true. */
  Response read(boolean head) throws IOException {
    Response r = new Response();
    String statusLine = line();
    if (statusLine == null) {
      return null;
    }
    String[] parts = statusLine.split(" ", 3);
    if (!parts[0].startsWith("HTTP/1.")) {
      throw new IOException("bad status line: " + statusLine);
    }
    r.status = Integer.parseInt(parts[1]);
    r.reason = parts.length > 2 ? parts[2] : "";
    String l;
    while (!(l = line()).isEmpty()) {
      int c = l.indexOf(':');
      String k = l.substring(0, c).trim().toLowerCase(Locale.ROOT);
      String v = l.substring(c + 1).trim();
      r.headers.merge(k, v, (a, b) -> a + "," + b);
    }
    if (head || r.status == 204 || r.status == 304 || r.status < 200) {
      return r;
    }
    String te = r.header("transfer-encoding");
    String cl = r.header("content-length");
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (te != null && te.contains("chunked")) {
      while (true) {
        String size = line();
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          while (!line().isEmpty()) {
            // trailers
          }
          break;
        }
        body.write(in.readNBytes(n));
        if (!line().isEmpty()) {
          throw new IOException("chunk not followed by CRLF");
        }
      }
    } else if (cl != null) {
      int n = Integer.parseInt(cl);
      byte[] b = in.readNBytes(n);
      if (b.length != n) {
        throw new IOException("body cut short: " + b.length + " of " + n);
      }
      body.write(b);
    } else {
      body.write(in.readAllBytes());
    }
    r.body = body.toByteArray();
    return r;
  }

  Response read() throws IOException {
    return read(false);
  }

  /** True when the server closed the connection (EOF) within the socket timeout. */
  boolean closedByServer() throws IOException {
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        byte[] a = b.toByteArray();
        int n = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
        return new String(a, 0, n, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    if (b.size() == 0) {
      return null;
    }
    throw new IOException("EOF inside a line: " + b);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
