package peloton.websocket;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** The pieces of the opening handshake (RFC 6455 section 4) both sides need. */
final class Handshake {
  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private Handshake() {}

  /** {@code Sec-WebSocket-Accept} for a key: base64(SHA-1(key + GUID)). */
  static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] d = sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }

  /** True when {@code key} is base64 of exactly 16 bytes. */
  static boolean isValidKey(String key) {
    if (key == null || key.length() != 24) {
      return false;
    }
    try {
      return Base64.getDecoder().decode(key).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The comma-separated tokens of header values, trimmed (quotes kept), empty ones dropped. */
  static List<String> tokens(List<String> values) {
    List<String> out = new ArrayList<>();
    if (values == null) {
      return out;
    }
    for (String v : values) {
      int start = 0;
      for (int i = 0; i <= v.length(); i++) {
        if (i == v.length() || v.charAt(i) == ',') {
          String t = v.substring(start, i).trim();
          if (!t.isEmpty()) {
            out.add(t);
          }
          start = i + 1;
        }
      }
    }
    return out;
  }

  /** True when one of the comma-separated tokens of {@code values} is {@code token} (any case). */
  static boolean hasToken(List<String> values, String token) {
    for (String t : tokens(values)) {
      if (t.toLowerCase(Locale.ROOT).equals(token)) {
        return true;
      }
    }
    return false;
  }

  /** Joins header values with commas (as one field, RFC 9110 section 5.3), or null. */
  static String joined(List<String> values) {
    if (values == null || values.isEmpty()) {
      return null;
    }
    return String.join(", ", values);
  }
}
