package peloton.websocket;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The permessage-deflate extension (RFC 7692): its negotiation and the compressor and
 * decompressor of one connection.
 *
 * <p>{@code java.util.zip} always deflates with a 32 KiB window (15 bits). When the peer asks that
 * we use a smaller one ({@code server_max_window_bits} offered to a server, {@code
 * client_max_window_bits} answered to a client) this side deflates with the Huffman-only strategy:
 * its output refers to no earlier bytes at all, so it honours any window size, and text still
 * shrinks. Inflating accepts any window up to 15 bits, so the peer's window is never a problem.
 * The zlib state is made on the first message, so an idle connection holds none.
 */
final class PerMessageDeflate {
  static final String NAME = "permessage-deflate";
  private static final byte[] TAIL = {0, 0, (byte) 0xff, (byte) 0xff};

  /** Our deflater starts from nothing for each message. */
  final boolean resetDeflater;
  /** The peer's deflater starts from nothing for each message (so we may reset too). */
  final boolean resetInflater;
  /** Our window must be below 15 bits: deflate without back references. */
  final boolean huffmanOnly;
  /** The extension as answered in {@code Sec-WebSocket-Extensions}. */
  final String response;
  private final int level;
  private Deflater deflater;
  private Inflater inflater;
  private byte[] out;

  PerMessageDeflate(boolean resetDeflater, boolean resetInflater, boolean huffmanOnly, int level,
      String response) {
    this.resetDeflater = resetDeflater;
    this.resetInflater = resetInflater;
    this.huffmanOnly = huffmanOnly;
    this.level = level;
    this.response = response;
  }

  // ---- negotiation ----

  /** One extension offer: its name and its parameters, in order (value null when absent). */
  static final class Offer {
    final String name;
    final List<String[]> params = new ArrayList<>();

    Offer(String name) {
      this.name = name;
    }
  }

  /** Parses {@code Sec-WebSocket-Extensions} values (several headers joined by commas). */
  static List<Offer> parse(String header) {
    List<Offer> offers = new ArrayList<>();
    if (header == null) {
      return offers;
    }
    for (String ext : splitOutsideQuotes(header, ',')) {
      List<String> parts = splitOutsideQuotes(ext, ';');
      if (parts.isEmpty() || parts.get(0).isEmpty()) {
        continue;
      }
      Offer o = new Offer(parts.get(0).toLowerCase(java.util.Locale.ROOT));
      for (int i = 1; i < parts.size(); i++) {
        String p = parts.get(i);
        int eq = p.indexOf('=');
        String k = (eq < 0 ? p : p.substring(0, eq)).trim().toLowerCase(java.util.Locale.ROOT);
        String v = eq < 0 ? null : unquote(p.substring(eq + 1).trim());
        o.params.add(new String[] {k, v});
      }
      offers.add(o);
    }
    return offers;
  }

  private static List<String> splitOutsideQuotes(String s, char sep) {
    List<String> out = new ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == sep && !quoted) {
        out.add(s.substring(start, i).trim());
        start = i + 1;
      }
    }
    out.add(s.substring(start).trim());
    return out;
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }

  /** A window-bits value 8-15, or -1 when malformed. */
  private static int windowBits(String v) {
    if (v == null || v.isEmpty() || v.length() > 2) {
      return -1;
    }
    for (int i = 0; i < v.length(); i++) {
      if (v.charAt(i) < '0' || v.charAt(i) > '9') {
        return -1;
      }
    }
    int n = Integer.parseInt(v);
    return n >= 8 && n <= 15 ? n : -1;
  }

  /**
   * The server side: the first permessage-deflate offer of {@code header} that we can honour, as
   * the connection's codec, or null to decline them all (the connection then runs uncompressed).
   */
  static PerMessageDeflate accept(String header, int level) {
    for (Offer o : parse(header)) {
      if (!NAME.equals(o.name)) {
        continue;
      }
      PerMessageDeflate d = acceptOne(o, level);
      if (d != null) {
        return d;
      }
    }
    return null;
  }

  private static PerMessageDeflate acceptOne(Offer o, int level) {
    boolean serverNoContext = false, clientNoContext = false, seenServerBits = false,
        seenClientBits = false;
    int serverBits = 15;
    for (String[] p : o.params) {
      switch (p[0]) {
        case "server_no_context_takeover":
          if (serverNoContext || p[1] != null) {
            return null;
          }
          serverNoContext = true;
          break;
        case "client_no_context_takeover":
          if (clientNoContext || p[1] != null) {
            return null;
          }
          clientNoContext = true;
          break;
        case "server_max_window_bits":
          if (seenServerBits || (serverBits = windowBits(p[1])) < 0) {
            return null;
          }
          seenServerBits = true;
          break;
        case "client_max_window_bits":
          // The client can take a limit; we set none (our inflater takes any window).
          if (seenClientBits || (p[1] != null && windowBits(p[1]) < 0)) {
            return null;
          }
          seenClientBits = true;
          break;
        default:
          return null; // a parameter we do not know: decline this offer (RFC 7692 section 5)
      }
    }
    StringBuilder r = new StringBuilder(NAME);
    if (serverNoContext) {
      r.append("; server_no_context_takeover");
    }
    if (clientNoContext) {
      r.append("; client_no_context_takeover");
    }
    if (seenServerBits) {
      r.append("; server_max_window_bits=").append(serverBits);
    }
    return new PerMessageDeflate(serverNoContext, clientNoContext, serverBits < 15, level,
        r.toString());
  }

  /** What a client offers: the extension with room for the server to limit our window. */
  static String clientOffer() {
    return NAME + "; client_max_window_bits";
  }

  /**
   * The client side: the codec for the server's answer {@code header}, null when the server
   * declined; throws when it answered something we did not offer or cannot take.
   */
  static PerMessageDeflate clientAccepted(String header, int level) throws WsProtocolException {
    List<Offer> answers = parse(header);
    if (answers.isEmpty()) {
      return null;
    }
    if (answers.size() > 1 || !NAME.equals(answers.get(0).name)) {
      throw new WsProtocolException(1010, "the server answered an extension we did not offer: "
          + header);
    }
    boolean serverNoContext = false, clientNoContext = false;
    int clientBits = 15;
    for (String[] p : answers.get(0).params) {
      switch (p[0]) {
        case "server_no_context_takeover":
          serverNoContext = true;
          break;
        case "client_no_context_takeover":
          clientNoContext = true;
          break;
        case "server_max_window_bits":
          if (windowBits(p[1]) < 0) {
            throw new WsProtocolException(1010, "bad server_max_window_bits: " + header);
          }
          break;
        case "client_max_window_bits":
          if ((clientBits = windowBits(p[1])) < 0) {
            throw new WsProtocolException(1010, "bad client_max_window_bits: " + header);
          }
          break;
        default:
          throw new WsProtocolException(1010, "unknown permessage-deflate parameter: " + header);
      }
    }
    return new PerMessageDeflate(clientNoContext, serverNoContext, clientBits < 15, level, header);
  }

  // ---- codec ----

  /** Compresses one whole message; answers the payload to send with RSV1 (the 4-byte tail cut). */
  byte[] compress(byte[] in, int off, int len) {
    if (deflater == null) {
      deflater = new Deflater(level, true);
      if (huffmanOnly) {
        deflater.setStrategy(Deflater.HUFFMAN_ONLY);
      }
    }
    if (out == null) {
      out = new byte[Math.max(64, Math.min(len + 64, 64 * 1024))];
    }
    deflater.setInput(in, off, len);
    int n = 0;
    while (true) {
      if (n == out.length) {
        out = java.util.Arrays.copyOf(out, out.length * 2);
      }
      n += deflater.deflate(out, n, out.length - n, Deflater.SYNC_FLUSH);
      if (n < out.length && deflater.needsInput()) {
        break;
      }
    }
    if (resetDeflater) {
      deflater.reset();
    }
    // A sync flush ends with 00 00 ff ff; RFC 7692 section 7.2.1 drops it.
    int keep = n >= 4 ? n - 4 : n;
    byte[] result = java.util.Arrays.copyOf(out, keep);
    if (out.length > 64 * 1024) {
      out = null; // do not keep a big buffer for one big message
    }
    return result;
  }

  /**
   * Inflates {@code len} compressed bytes into {@code sink} (at most {@code limit} bytes in all);
   * answers false when the message grew past the limit.
   */
  boolean inflate(byte[] in, int off, int len, ByteSink sink, int limit, Utf8Validator text)
      throws WsProtocolException {
    if (inflater == null) {
      inflater = new Inflater(true);
    }
    inflater.setInput(in, off, len);
    return drain(sink, limit, text);
  }

  /** Ends a compressed message: feeds the cut tail and answers false when over the limit. */
  boolean finish(ByteSink sink, int limit, Utf8Validator text) throws WsProtocolException {
    if (inflater == null) {
      inflater = new Inflater(true);
    }
    inflater.setInput(TAIL);
    boolean ok = drain(sink, limit, text);
    if (resetInflater || inflater.finished()) {
      inflater.reset();
    }
    return ok;
  }

  private boolean drain(ByteSink sink, int limit, Utf8Validator text) throws WsProtocolException {
    try {
      while (true) {
        if (inflater.finished()) {
          return true; // a final block: finish() starts the next message afresh
        }
        sink.ensure(8192, limit);
        int room = sink.buf.length - sink.len;
        int n = inflater.inflate(sink.buf, sink.len, room);
        if (n > 0) {
          if (text != null && !text.feed(sink.buf, sink.len, n)) {
            throw new WsProtocolException(1007, "invalid UTF-8 in a text message");
          }
          sink.len += n;
          if (sink.len > limit) {
            return false;
          }
        } else if (inflater.needsInput() || inflater.needsDictionary()) {
          return true;
        }
      }
    } catch (DataFormatException e) {
      throw new WsProtocolException(1007, "bad compressed data: " + e.getMessage());
    }
  }

  /** Frees the zlib state; the codec must not be used afterwards. */
  void end() {
    if (deflater != null) {
      deflater.end();
      deflater = null;
    }
    if (inflater != null) {
      inflater.end();
      inflater = null;
    }
  }
}
