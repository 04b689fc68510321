package peloton.websocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The incremental frame decoder and message assembler (RFC 6455 section 5): bytes may arrive split
 * anywhere, control frames may come between the fragments of a message, and every rule a peer can
 * break ends in a {@link WsProtocolException} carrying the close code to fail the connection
 * with: 1002 for framing, 1007 for bad UTF-8 (seen as soon as the bad byte arrives), 1009 for a
 * frame or message over its limit (a compressed message is measured after inflating).
 */
final class FrameReader {
  /** What the reader delivers; called on the thread that feeds it. */
  interface Handler {
    void onText(String text);

    void onBinary(ByteBuffer data);

    void onPing(byte[] data);

    void onPong(byte[] data);

    /** A close frame; {@code code} is 1005 when it carried none. */
    void onClose(int code, String reason);

    /** True when the last delivery asked that no more be read for now. */
    boolean paused();
  }

  private static final int HEAD = 0, PAYLOAD = 1, DONE = 2;
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[16384]);

  private final Handler handler;
  private final boolean expectMasked;
  private final int maxFrame;
  private final int maxMessage;
  private final PerMessageDeflate deflate;

  private int state = HEAD;
  private final byte[] head = new byte[FrameWriter.MAX_HEAD];
  private int headLen;
  private int headNeed = 2;

  private int opcode;
  private boolean fin;
  private boolean masked;
  private final byte[] mask = new byte[4];
  private int maskPos;
  private long remaining;

  private int msgOpcode; // 0: no message in progress
  private boolean msgCompressed;
  private final ByteSink msg = new ByteSink();
  private final Utf8Validator utf8 = new Utf8Validator();

  private byte[] control; // payload of the current control frame (at most 125 bytes)
  private int controlLen;

  FrameReader(Handler handler, boolean expectMasked, int maxFrame, int maxMessage,
      PerMessageDeflate deflate) {
    this.handler = handler;
    this.expectMasked = expectMasked;
    this.maxFrame = maxFrame;
    this.maxMessage = maxMessage;
    this.deflate = deflate;
  }

  /**
   * Consumes bytes from {@code in} until it is empty, a close frame was read, or a delivery paused
   * the reader ({@link Handler#paused()}); what is left stays in {@code in}.
   */
  void feed(ByteBuffer in) throws WsProtocolException {
    while (in.hasRemaining() && state != DONE) {
      if (state == HEAD) {
        int n = Math.min(headNeed - headLen, in.remaining());
        in.get(head, headLen, n);
        headLen += n;
        if (headLen == 2) {
          headNeed = headSize();
        }
        if (headLen < headNeed) {
          continue;
        }
        startFrame();
        if (remaining == 0) {
          endFrame();
          if (handler.paused()) {
            return;
          }
        }
      } else {
        readPayload(in);
        if (remaining == 0) {
          endFrame();
          if (handler.paused()) {
            return;
          }
        }
      }
    }
  }

  /** True once a close frame was read: nothing after it is looked at. */
  boolean isDone() {
    return state == DONE;
  }

  private int headSize() {
    int len7 = head[1] & 0x7f;
    int n = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
    return (head[1] & 0x80) != 0 ? n + 4 : n;
  }

  private void startFrame() throws WsProtocolException {
    int b0 = head[0] & 0xff;
    fin = (b0 & 0x80) != 0;
    boolean rsv1 = (b0 & 0x40) != 0;
    opcode = b0 & 0x0f;
    masked = (head[1] & 0x80) != 0;
    int len7 = head[1] & 0x7f;
    int p = 2;
    long len;
    if (len7 == 126) {
      len = ((head[2] & 0xff) << 8) | (head[3] & 0xff);
      p = 4;
    } else if (len7 == 127) {
      len = 0;
      for (int i = 2; i < 10; i++) {
        len = (len << 8) | (head[i] & 0xff);
      }
      if (len < 0) {
        throw new WsProtocolException(1002, "frame length with its top bit set");
      }
      p = 10;
    } else {
      len = len7;
    }
    if (masked) {
      System.arraycopy(head, p, mask, 0, 4);
      maskPos = 0;
    }
    headLen = 0;
    headNeed = 2;
    if ((b0 & 0x30) != 0) {
      throw new WsProtocolException(1002, "reserved bits RSV2/RSV3 set");
    }
    if (masked != expectMasked) {
      throw new WsProtocolException(1002, expectMasked ? "an unmasked client frame"
          : "a masked server frame");
    }
    if (opcode >= 8) {
      if (opcode > FrameWriter.OP_PONG) {
        throw new WsProtocolException(1002, "unknown control opcode " + opcode);
      }
      if (!fin) {
        throw new WsProtocolException(1002, "a fragmented control frame");
      }
      if (len > 125) {
        throw new WsProtocolException(1002, "a control frame over 125 bytes");
      }
      if (rsv1) {
        throw new WsProtocolException(1002, "RSV1 on a control frame");
      }
      if (control == null) {
        control = new byte[125];
      }
      controlLen = 0;
    } else {
      if (opcode > FrameWriter.OP_BINARY) {
        throw new WsProtocolException(1002, "unknown data opcode " + opcode);
      }
      if (opcode == FrameWriter.OP_CONT) {
        if (msgOpcode == 0) {
          throw new WsProtocolException(1002, "a continuation frame outside a message");
        }
        if (rsv1) {
          throw new WsProtocolException(1002, "RSV1 on a continuation frame");
        }
      } else {
        if (msgOpcode != 0) {
          throw new WsProtocolException(1002, "a new message inside a fragmented one");
        }
        if (rsv1 && deflate == null) {
          throw new WsProtocolException(1002, "RSV1 set without a negotiated extension");
        }
        msgOpcode = opcode;
        msgCompressed = rsv1;
        utf8.reset();
      }
      if (len > maxFrame) {
        throw new WsProtocolException(1009, "a frame of " + len + " bytes (limit " + maxFrame + ")");
      }
      if (!msgCompressed && msg.len + len > maxMessage) {
        throw new WsProtocolException(1009, "a message over " + maxMessage + " bytes");
      }
      if (!msgCompressed && len > 0) {
        msg.ensure((int) len, maxMessage);
      }
    }
    remaining = len;
    state = PAYLOAD;
  }

  private void readPayload(ByteBuffer in) throws WsProtocolException {
    int n = (int) Math.min(remaining, in.remaining());
    remaining -= n;
    if (opcode >= 8) {
      in.get(control, controlLen, n);
      unmask(control, controlLen, n);
      controlLen += n;
      return;
    }
    if (!msgCompressed) {
      int at = msg.len;
      in.get(msg.buf, at, n);
      unmask(msg.buf, at, n);
      msg.len += n;
      if (msgOpcode == FrameWriter.OP_TEXT && !utf8.feed(msg.buf, at, n)) {
        throw new WsProtocolException(1007, "invalid UTF-8 in a text message");
      }
      return;
    }
    byte[] scratch = SCRATCH.get();
    while (n > 0) {
      int k = Math.min(n, scratch.length);
      in.get(scratch, 0, k);
      unmask(scratch, 0, k);
      if (!deflate.inflate(scratch, 0, k, msg, maxMessage,
          msgOpcode == FrameWriter.OP_TEXT ? utf8 : null)) {
        throw new WsProtocolException(1009, "a message over " + maxMessage + " bytes inflated");
      }
      n -= k;
    }
  }

  private void unmask(byte[] b, int off, int n) {
    if (masked) {
      FrameWriter.mask(b, off, n, mask, maskPos);
      maskPos = (maskPos + n) & 3;
    }
  }

  private void endFrame() throws WsProtocolException {
    state = HEAD;
    switch (opcode) {
      case FrameWriter.OP_PING:
        handler.onPing(java.util.Arrays.copyOf(control, controlLen));
        return;
      case FrameWriter.OP_PONG:
        handler.onPong(java.util.Arrays.copyOf(control, controlLen));
        return;
      case FrameWriter.OP_CLOSE:
        endClose();
        return;
      default:
        break;
    }
    if (!fin) {
      return;
    }
    if (msgCompressed && !deflate.finish(msg, maxMessage,
        msgOpcode == FrameWriter.OP_TEXT ? utf8 : null)) {
      throw new WsProtocolException(1009, "a message over " + maxMessage + " bytes inflated");
    }
    int op = msgOpcode;
    msgOpcode = 0;
    byte[] b = msg.buf == null ? new byte[0] : msg.buf;
    int len = msg.len;
    msg.release();
    if (op == FrameWriter.OP_TEXT) {
      if (!utf8.isComplete()) {
        throw new WsProtocolException(1007, "a text message ending inside a UTF-8 sequence");
      }
      handler.onText(new String(b, 0, len, StandardCharsets.UTF_8));
    } else {
      handler.onBinary(ByteBuffer.wrap(b, 0, len));
    }
  }

  private void endClose() throws WsProtocolException {
    if (controlLen == 1) {
      throw new WsProtocolException(1002, "a close frame with a 1-byte payload");
    }
    int code = 1005;
    String reason = "";
    if (controlLen >= 2) {
      code = ((control[0] & 0xff) << 8) | (control[1] & 0xff);
      if (!isValidCloseCode(code)) {
        throw new WsProtocolException(1002, "invalid close code " + code);
      }
      if (!Utf8Validator.isValid(control, 2, controlLen - 2)) {
        throw new WsProtocolException(1007, "invalid UTF-8 in a close reason");
      }
      reason = new String(control, 2, controlLen - 2, StandardCharsets.UTF_8);
    }
    state = DONE;
    handler.onClose(code, reason);
  }

  /**
   * Codes a peer may send (RFC 6455 section 7.4 and the IANA registry, which added 1012-1014):
   * 1004-1006 and 1015 never go on the wire.
   */
  static boolean isValidCloseCode(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
  }

  /** Frees the decompressor and buffers. */
  void release() {
    msg.release();
    control = null;
  }
}
