package peloton.websocket;

/**
 * Incremental UTF-8 validation (RFC 3629, Unicode table 3-7): bytes may arrive in any pieces, so
 * a message split across frames, reads or inflater outputs is checked exactly once, and the first
 * bad byte is seen as soon as it arrives (fail-fast, as RFC 6455 section 8.1 asks).
 */
final class Utf8Validator {
  private int need; // continuation bytes still expected
  private int lo = 0x80, hi = 0xBF; // allowed range of the next continuation byte
  private boolean bad;

  /** Checks {@code len} bytes of {@code b} from {@code off}; false once anything was invalid. */
  boolean feed(byte[] b, int off, int len) {
    if (bad) {
      return false;
    }
    int end = off + len;
    int i = off;
    while (i < end) {
      int c = b[i] & 0xff;
      if (need == 0) {
        if (c < 0x80) {
          i++;
          // Fast path: runs of ASCII need no state.
          while (i < end && b[i] >= 0) {
            i++;
          }
          continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
          need = 1;
          lo = 0x80;
          hi = 0xBF;
        } else if (c == 0xE0) {
          need = 2;
          lo = 0xA0;
          hi = 0xBF;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
          need = 2;
          lo = 0x80;
          hi = 0xBF;
        } else if (c == 0xED) {
          need = 2; // no UTF-16 surrogates
          lo = 0x80;
          hi = 0x9F;
        } else if (c == 0xF0) {
          need = 3;
          lo = 0x90;
          hi = 0xBF;
        } else if (c >= 0xF1 && c <= 0xF3) {
          need = 3;
          lo = 0x80;
          hi = 0xBF;
        } else if (c == 0xF4) {
          need = 3; // nothing above U+10FFFF
          lo = 0x80;
          hi = 0x8F;
        } else {
          bad = true;
          return false;
        }
      } else {
        if (c < lo || c > hi) {
          bad = true;
          return false;
        }
        need--;
        lo = 0x80;
        hi = 0xBF;
      }
      i++;
    }
    return true;
  }

  /** True when everything fed so far is valid and ends on a whole character. */
  boolean isComplete() {
    return !bad && need == 0;
  }

  /** Starts over, for the next message. */
  void reset() {
    need = 0;
    lo = 0x80;
    hi = 0xBF;
    bad = false;
  }

  /** True when {@code len} bytes of {@code b} from {@code off} are whole, valid UTF-8. */
  static boolean isValid(byte[] b, int off, int len) {
    Utf8Validator v = new Utf8Validator();
    return v.feed(b, off, len) && v.isComplete();
  }
}
