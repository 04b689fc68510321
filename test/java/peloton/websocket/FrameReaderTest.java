package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The frame decoder over arbitrary splits, and every rule a peer can break. */
class FrameReaderTest {

  /** Records what the reader delivers, as strings such as {@code text:hi} or {@code close:1000:}. */
  static final class Recorder implements FrameReader.Handler {
    final List<String> events = new ArrayList<>();
    final List<byte[]> binaries = new ArrayList<>();

    @Override
    public void onText(String text) {
      events.add("text:" + text);
    }

    @Override
    public void onBinary(ByteBuffer data) {
      byte[] b = new byte[data.remaining()];
      data.get(b);
      binaries.add(b);
      events.add("binary:" + b.length);
    }

    @Override
    public void onPing(byte[] data) {
      events.add("ping:" + new String(data, StandardCharsets.UTF_8));
    }

    @Override
    public void onPong(byte[] data) {
      events.add("pong:" + new String(data, StandardCharsets.UTF_8));
    }

    @Override
    public void onClose(int code, String reason) {
      events.add("close:" + code + ":" + reason);
    }

    @Override
    public boolean paused() {
      return false;
    }
  }

  /** A frame as a client sends it (masked), or unmasked when {@code mask} is false. */
  static byte[] frame(int b0, byte[] payload, boolean mask) {
    byte[] f = new byte[FrameWriter.MAX_HEAD + payload.length];
    int key = 0x5a3c9e01;
    int h = FrameWriter.head(f, 0, b0 & 0x0f, (b0 & 0x80) != 0, (b0 & 0x40) != 0, payload.length,
        mask, key);
    f[0] = (byte) b0; // keep reserved bits exactly as given
    System.arraycopy(payload, 0, f, h, payload.length);
    if (mask) {
      FrameWriter.mask(f, h, payload.length,
          new byte[] {0x5a, 0x3c, (byte) 0x9e, 0x01}, 0);
    }
    return java.util.Arrays.copyOf(f, h + payload.length);
  }

  static byte[] frame(int b0, String payload) {
    return frame(b0, payload.getBytes(StandardCharsets.UTF_8), true);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static FrameReader reader(Recorder r) {
    return new FrameReader(r, true, 1 << 20, 1 << 20, null);
  }

  /** Feeds {@code wire} cut at {@code cut} (and, if positive, again at {@code cut2}). */
  static List<String> feedSplit(byte[] wire, int cut, int cut2) throws WsProtocolException {
    Recorder r = new Recorder();
    FrameReader fr = reader(r);
    int a = Math.min(cut, wire.length);
    int b = Math.max(a, Math.min(cut2, wire.length));
    fr.feed(ByteBuffer.wrap(wire, 0, a));
    fr.feed(ByteBuffer.wrap(wire, a, b - a));
    fr.feed(ByteBuffer.wrap(wire, b, wire.length - b));
    return r.events;
  }

  static int failCode(byte[] wire) {
    FrameReader fr = reader(new Recorder());
    WsProtocolException e = assertThrows(WsProtocolException.class,
        () -> fr.feed(ByteBuffer.wrap(wire)));
    return e.code;
  }

  @Test
  void everySplitOfAStreamGivesTheSameMessages() throws Exception {
    String euro = "\u20ac \ud83d\ude00 caf\u00e9";
    byte[] bigText = "x".repeat(300).getBytes(StandardCharsets.UTF_8); // a 16-bit length
    byte[] eb = euro.getBytes(StandardCharsets.UTF_8);
    byte[] wire = concat(
        frame(0x81, "hello"),
        frame(0x01, java.util.Arrays.copyOf(eb, 6), true), // fragmented inside the emoji ...
        frame(0x89, "p1"), // ... with a ping between its fragments
        frame(0x80, java.util.Arrays.copyOfRange(eb, 6, eb.length), true),
        frame(0x82, new byte[] {1, 2, 3}, true),
        frame(0x81, bigText, true),
        frame(0x8A, "p2"),
        frame(0x88, concat(new byte[] {0x03, (byte) 0xe8}, "bye".getBytes(StandardCharsets.UTF_8)),
            true));
    List<String> expected = List.of("text:hello", "ping:p1", "text:" + euro, "binary:3",
        "text:" + "x".repeat(300), "pong:p2", "close:1000:bye");
    for (int i = 0; i <= wire.length; i++) {
      assertEquals(expected, feedSplit(wire, i, -1), "split at " + i);
    }
    for (int i = 0; i <= wire.length; i += 3) {
      for (int j = i; j <= wire.length; j += 5) {
        assertEquals(expected, feedSplit(wire, i, j), "splits at " + i + " and " + j);
      }
    }
  }

  @Test
  void byteByByteAcrossA64BitLength() throws Exception {
    byte[] payload = new byte[70_000];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) (i * 7);
    }
    byte[] wire = frame(0x82, payload, true);
    assertEquals(127, wire[1] & 0x7f);
    Recorder r = new Recorder();
    FrameReader fr = reader(r);
    for (int i = 0; i < wire.length; i++) {
      fr.feed(ByteBuffer.wrap(wire, i, 1));
    }
    assertEquals(List.of("binary:70000"), r.events);
    assertArrayEquals(payload, r.binaries.get(0));
  }

  @Test
  void invalidUtf8IsSeenAtTheBadByteEvenWhenSplitAcrossFragments() throws Exception {
    // A 4-byte sequence cut between fragments is fine ...
    byte[] smile = "\ud83d\ude00".getBytes(StandardCharsets.UTF_8);
    byte[] ok = concat(frame(0x01, java.util.Arrays.copyOf(smile, 2), true),
        frame(0x80, java.util.Arrays.copyOfRange(smile, 2, 4), true));
    assertEquals(List.of("text:\ud83d\ude00"), feedSplit(ok, 3, 9));
    // ... a surrogate (ED A0 80) fails with 1007 in the first fragment, before the message ends.
    byte[] first = frame(0x01, new byte[] {'a', (byte) 0xed, (byte) 0xa0, (byte) 0x80}, true);
    assertEquals(1007, failCode(first));
    // A message that ends inside a sequence fails at its end.
    assertEquals(1007, failCode(frame(0x81, new byte[] {'a', (byte) 0xe2, (byte) 0x82}, true)));
    // Overlong encodings and bytes above U+10FFFF.
    assertEquals(1007, failCode(frame(0x81, new byte[] {(byte) 0xc0, (byte) 0xaf}, true)));
    assertEquals(1007, failCode(frame(0x81, new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80,
        (byte) 0x80}, true)));
    // A bad close reason.
    assertEquals(1007, failCode(frame(0x88, new byte[] {0x03, (byte) 0xe8, (byte) 0xff}, true)));
  }

  @Test
  void framingErrorsFailWith1002() {
    assertEquals(1002, failCode(frame(0xC1, "rsv1 without deflate")));
    assertEquals(1002, failCode(frame(0xA1, "rsv2")));
    assertEquals(1002, failCode(frame(0x91, "rsv3")));
    assertEquals(1002, failCode(frame(0x83, "opcode 3")));
    assertEquals(1002, failCode(frame(0x8B, "opcode 11")));
    assertEquals(1002, failCode(frame(0x09, "fragmented ping")));
    assertEquals(1002, failCode(frame(0x89, "p".repeat(126))));
    assertEquals(1002, failCode(frame(0x80, "continuation with no message")));
    assertEquals(1002, failCode(concat(frame(0x01, "a"), frame(0x81, "new message inside"))));
    assertEquals(1002, failCode(frame(0x81, "hi".getBytes(StandardCharsets.UTF_8), false)));
    assertEquals(1002, failCode(frame(0x88, new byte[] {0x03}, true)));
    for (int code : new int[] {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000}) {
      assertEquals(1002, failCode(frame(0x88, new byte[] {(byte) (code >> 8), (byte) code}, true)),
          "close code " + code);
    }
  }

  @Test
  void validCloseCodesAndAnEmptyClose() throws Exception {
    for (int code : new int[] {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 3000,
        4999}) {
      byte[] wire = frame(0x88, new byte[] {(byte) (code >> 8), (byte) code}, true);
      assertEquals(List.of("close:" + code + ":"), feedSplit(wire, 1, 3));
    }
    assertEquals(List.of("close:1005:"), feedSplit(frame(0x88, new byte[0], true), 1, -1));
  }

  @Test
  void nothingAfterACloseFrameIsRead() throws Exception {
    byte[] wire = concat(frame(0x88, new byte[0], true), frame(0x81, "late"), frame(0x83, "x"));
    Recorder r = new Recorder();
    FrameReader fr = reader(r);
    fr.feed(ByteBuffer.wrap(wire));
    assertTrue(fr.isDone());
    assertEquals(List.of("close:1005:"), r.events);
  }

  @Test
  void limitsFailWith1009() {
    Recorder r = new Recorder();
    FrameReader small = new FrameReader(r, true, 1000, 1500, null);
    assertEquals(1009, assertThrows(WsProtocolException.class,
        () -> small.feed(ByteBuffer.wrap(frame(0x82, new byte[1001], true)))).code);
    FrameReader msg = new FrameReader(new Recorder(), true, 1000, 1500, null);
    byte[] two = concat(frame(0x02, new byte[1000], true), frame(0x80, new byte[501], true));
    assertEquals(1009, assertThrows(WsProtocolException.class,
        () -> msg.feed(ByteBuffer.wrap(two))).code);
  }

  @Test
  void serverFramesMustNotBeMaskedForAClient() throws Exception {
    Recorder r = new Recorder();
    FrameReader client = new FrameReader(r, false, 1 << 20, 1 << 20, null);
    client.feed(ByteBuffer.wrap(frame(0x81, "hi".getBytes(StandardCharsets.UTF_8), false)));
    assertEquals(List.of("text:hi"), r.events);
    assertEquals(1002, assertThrows(WsProtocolException.class,
        () -> client.feed(ByteBuffer.wrap(frame(0x81, "hi")))).code);
  }

  @Test
  void utf8ValidatorAgreesWithTheJdkDecoderOnEveryTwoByteAndThreeByteSequence() {
    java.nio.charset.CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder();
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8);
    for (int a = 0; a < 256; a++) {
      for (int b = 0; b < 256; b++) {
        for (int c : new int[] {0x41, 0x80, 0x9f, 0xa0, 0xbf, 0xc0}) {
          byte[] s = {(byte) a, (byte) b, (byte) c};
          dec.reset();
          out.clear();
          boolean jdk = !dec.decode(ByteBuffer.wrap(s), out, true).isError()
              && !dec.flush(out).isError();
          if (jdk != Utf8Validator.isValid(s, 0, 3)) {
            assertEquals(jdk, Utf8Validator.isValid(s, 0, 3),
                String.format("%02x %02x %02x", a, b, c));
          }
        }
      }
    }
    assertFalse(Utf8Validator.isValid(new byte[] {(byte) 0xf0, (byte) 0x8f, (byte) 0xbf,
        (byte) 0xbf}, 0, 4));
  }
}
