package peloton.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

/** RFC 7692 negotiation and the codec, checked against the JDK's own Inflater too. */
class PerMessageDeflateTest {

  @Test
  void aBrowsersOfferIsAccepted() {
    // What Chromium and Firefox send.
    PerMessageDeflate d = PerMessageDeflate.accept(
        "permessage-deflate; client_max_window_bits", 6);
    assertEquals("permessage-deflate", d.response);
    assertFalse(d.huffmanOnly);
  }

  @Test
  void parametersAreHonouredOrTheOfferDeclined() {
    PerMessageDeflate d = PerMessageDeflate.accept("permessage-deflate; server_no_context_takeover;"
        + " client_no_context_takeover; server_max_window_bits=10", 6);
    assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        + " server_max_window_bits=10", d.response);
    assertTrue(d.resetDeflater);
    assertTrue(d.resetInflater);
    assertTrue(d.huffmanOnly, "a window under 15 bits: no back references");
    assertNull(PerMessageDeflate.accept("permessage-deflate; server_max_window_bits=7", 6));
    assertNull(PerMessageDeflate.accept("permessage-deflate; server_max_window_bits", 6));
    assertNull(PerMessageDeflate.accept("permessage-deflate; mystery=1", 6));
    assertNull(PerMessageDeflate.accept("permessage-deflate; server_no_context_takeover; "
        + "server_no_context_takeover", 6));
    assertNull(PerMessageDeflate.accept("x-webkit-deflate-frame", 6));
    // The first offer we can honour wins.
    assertEquals("permessage-deflate; server_max_window_bits=15", PerMessageDeflate.accept(
        "permessage-deflate; foo, permessage-deflate; server_max_window_bits=\"15\"", 6).response);
  }

  @Test
  void theClientChecksTheAnswer() throws Exception {
    PerMessageDeflate d = PerMessageDeflate.clientAccepted(
        "permessage-deflate; server_no_context_takeover; client_max_window_bits=12", 6);
    assertTrue(d.resetInflater);
    assertTrue(d.huffmanOnly);
    assertNull(PerMessageDeflate.clientAccepted("", 6));
    assertThrows(WsProtocolException.class,
        () -> PerMessageDeflate.clientAccepted("permessage-deflate; bogus", 6));
    assertThrows(WsProtocolException.class,
        () -> PerMessageDeflate.clientAccepted("other-extension", 6));
  }

  private static byte[] roundTrip(PerMessageDeflate out, PerMessageDeflate in, byte[] msg)
      throws Exception {
    byte[] wire = out.compress(msg, 0, msg.length);
    ByteSink sink = new ByteSink();
    assertTrue(in.inflate(wire, 0, wire.length, sink, 1 << 24, null));
    assertTrue(in.finish(sink, 1 << 24, null));
    return java.util.Arrays.copyOf(sink.buf, sink.len);
  }

  @Test
  void messagesRoundTripWithAndWithoutContextTakeover() throws Exception {
    byte[] msg = "the same words again and again, ".repeat(200).getBytes(StandardCharsets.UTF_8);
    for (boolean reset : new boolean[] {false, true}) {
      for (boolean huffman : new boolean[] {false, true}) {
        PerMessageDeflate out = new PerMessageDeflate(reset, reset, huffman, 6, "");
        PerMessageDeflate in = new PerMessageDeflate(reset, reset, false, 6, "");
        byte[] first = out.compress(msg, 0, msg.length);
        assertTrue(first.length < msg.length / (huffman ? 1 : 10), first.length + " bytes");
        ByteSink sink = new ByteSink();
        in.inflate(first, 0, first.length, sink, 1 << 20, null);
        in.finish(sink, 1 << 20, null);
        assertArrayEquals(msg, java.util.Arrays.copyOf(sink.buf, sink.len));
        for (int i = 0; i < 3; i++) {
          assertArrayEquals(msg, roundTrip(out, in, msg), "message " + i);
        }
      }
    }
  }

  @Test
  void huffmanOnlyOutputNeedsNoWindowAtAll() throws Exception {
    // Inflate each message with a fresh JDK Inflater: nothing may refer to earlier bytes.
    PerMessageDeflate out = new PerMessageDeflate(false, false, true, 6, "");
    byte[] msg = "abcabcabcabc".repeat(100).getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 3; i++) {
      byte[] wire = out.compress(msg, 0, msg.length);
      Inflater fresh = new Inflater(true);
      fresh.setInput(concat(wire, new byte[] {0, 0, (byte) 0xff, (byte) 0xff}));
      byte[] back = new byte[msg.length + 10];
      assertEquals(msg.length, fresh.inflate(back));
      fresh.end();
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @Test
  void aDeflateBombStopsAtTheLimitAndUtf8IsCheckedAfterInflating() throws Exception {
    PerMessageDeflate out = new PerMessageDeflate(false, false, false, 9, "");
    byte[] zeros = new byte[16 << 20];
    byte[] wire = out.compress(zeros, 0, zeros.length);
    assertTrue(wire.length < 64 * 1024, wire.length + " bytes");
    PerMessageDeflate in = new PerMessageDeflate(false, false, false, 6, "");
    ByteSink sink = new ByteSink();
    assertFalse(in.inflate(wire, 0, wire.length, sink, 1 << 20, null));
    assertTrue(sink.buf.length < (1 << 20) + 64 * 1024, "inflating stopped near the limit");

    // Through the frame reader: a compressed text frame of bad UTF-8 fails with 1007.
    PerMessageDeflate enc = new PerMessageDeflate(false, false, false, 6, "");
    byte[] bad = enc.compress(new byte[] {'o', 'k', (byte) 0xff}, 0, 3);
    FrameReader fr = new FrameReader(new FrameReaderTest.Recorder(), true, 1 << 20, 1 << 20,
        new PerMessageDeflate(false, false, false, 6, ""));
    assertEquals(1007, assertThrows(WsProtocolException.class,
        () -> fr.feed(ByteBuffer.wrap(FrameReaderTest.frame(0xC1, bad, true)))).code);
    // And a compressed message over the limit fails with 1009, however small its frames.
    PerMessageDeflate enc2 = new PerMessageDeflate(false, false, false, 9, "");
    byte[] big = enc2.compress(new byte[2 << 20], 0, 2 << 20);
    FrameReader fr2 = new FrameReader(new FrameReaderTest.Recorder(), true, 1 << 20, 1 << 20,
        new PerMessageDeflate(false, false, false, 6, ""));
    assertEquals(1009, assertThrows(WsProtocolException.class,
        () -> fr2.feed(ByteBuffer.wrap(FrameReaderTest.frame(0xC2, big, true)))).code);
  }

  @Test
  void compressedFramesDecodeAtEverySplit() throws Exception {
    PerMessageDeflate enc = new PerMessageDeflate(false, false, false, 6, "");
    String text = "caf\u00e9 ".repeat(50);
    byte[] c1 = enc.compress(text.getBytes(StandardCharsets.UTF_8), 0,
        text.getBytes(StandardCharsets.UTF_8).length);
    byte[] c2 = enc.compress(text.getBytes(StandardCharsets.UTF_8), 0,
        text.getBytes(StandardCharsets.UTF_8).length); // uses the first as context
    int half = c2.length / 2;
    byte[] wire = FrameReaderTest.concat(FrameReaderTest.frame(0xC1, c1, true),
        FrameReaderTest.frame(0x41, java.util.Arrays.copyOf(c2, half), true), // fragmented
        FrameReaderTest.frame(0x89, new byte[] {'p'}, true),
        FrameReaderTest.frame(0x80, java.util.Arrays.copyOfRange(c2, half, c2.length), true));
    for (int cut = 0; cut <= wire.length; cut++) {
      FrameReaderTest.Recorder r = new FrameReaderTest.Recorder();
      FrameReader fr = new FrameReader(r, true, 1 << 20, 1 << 20,
          new PerMessageDeflate(false, false, false, 6, ""));
      fr.feed(ByteBuffer.wrap(wire, 0, cut));
      fr.feed(ByteBuffer.wrap(wire, cut, wire.length - cut));
      assertEquals(List.of("text:" + text, "ping:p", "text:" + text), r.events, "cut " + cut);
    }
  }
}
