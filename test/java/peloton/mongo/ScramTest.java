package peloton.mongo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.lang.Keyword;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import peloton.mongo.Scram.Mechanism;

/** SCRAM against the RFC examples, and SASLprep against RFC 4013's. */
class ScramTest {
  @Test
  void rfc7677Sha256Example() {
    Scram s = Scram.forMongo(Mechanism.SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    assertEquals("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", s.clientFirstMessage());
    String fin = s.clientFinalMessage(
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assertEquals("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", fin);
    assertFalse(s.isComplete());
    s.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    assertTrue(s.isComplete());
  }

  @Test
  void rfc5802Sha1ExampleCore() {
    Scram s = Scram.withPreparedPassword(Mechanism.SCRAM_SHA_1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    assertEquals("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", s.clientFirstMessage());
    assertEquals("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        s.clientFinalMessage("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"));
    s.verifyServerFinal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    assertTrue(s.isComplete());
  }

  @Test
  void mongoAuthSpecSha1Example() {
    // The MongoDB authentication specification's SCRAM-SHA-1 conversation (MD5 password digest).
    Scram s = Scram.forMongo(Mechanism.SCRAM_SHA_1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    assertEquals("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", s.clientFirstMessage());
    assertEquals("c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
        s.clientFinalMessage("r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,"
            + "s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000"));
    s.verifyServerFinal("v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=");
    assertTrue(s.isComplete());
  }

  @Test
  void mongoSha1UsesTheMd5Digest() throws Exception {
    String digest = Scram.mongoPasswordDigest("user", "pencil");
    assertEquals("1c33006ec1ffd90f9cadcbcc0e118200", digest);
    assertEquals(digest, hex(java.security.MessageDigest.getInstance("MD5")
        .digest("user:mongo:pencil".getBytes(StandardCharsets.UTF_8))));
    String serverFirst = "r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=4096";
    String viaMongo = Scram.forMongo(Mechanism.SCRAM_SHA_1, "user", "pencil", "abcdef").clientFinalMessage(serverFirst);
    String viaDigest = Scram.withPreparedPassword(Mechanism.SCRAM_SHA_1, "user", digest, "abcdef")
        .clientFinalMessage(serverFirst);
    assertEquals(viaDigest, viaMongo);
    assertEquals(proof(Mechanism.SCRAM_SHA_1, "HmacSHA1", "SHA-1", digest, "n=user,r=abcdef", serverFirst),
        viaMongo);
  }

  @Test
  void nonAsciiPasswordsArePreppedAndEncodedAsUtf8() throws Exception {
    // U+2168 (ROMAN NUMERAL NINE) becomes "IX" under NFKC; U+00AD vanishes.
    String serverFirst = "r=nonceSERVER,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    String got = Scram.forMongo(Mechanism.SCRAM_SHA_256, "ü=,", "p\u00ADäss\u2168", "nonce").clientFinalMessage(serverFirst);
    assertEquals(proof(Mechanism.SCRAM_SHA_256, "HmacSHA256", "SHA-256", "pässIX", "n=ü=3D=2C,r=nonce", serverFirst),
        got);
  }

  @Test
  void badServerMessagesAreRefused() {
    Scram s = Scram.forMongo(Mechanism.SCRAM_SHA_256, "user", "pencil", "abc");
    assertThrows(MongoProtocolException.class, () -> s.clientFinalMessage("r=xyz123,s=QSXCR+Q6sek8bf92,i=4096"));
    assertThrows(MongoProtocolException.class, () -> s.clientFinalMessage("r=abc,s=QSXCR+Q6sek8bf92,i=4096"));
    assertThrows(MongoProtocolException.class, () -> s.clientFinalMessage("r=abcd,s=QSXCR+Q6sek8bf92,i=1000"));
    assertThrows(MongoProtocolException.class, () -> s.clientFinalMessage("r=abcd,s=!!,i=4096"));
    assertThrows(MongoProtocolException.class, () -> s.clientFinalMessage("m=ext,r=abcd,s=QSXCR+Q6sek8bf92,i=4096"));
    assertThrows(MongoProtocolException.class, () -> s.clientFinalMessage("garbage"));
    assertThrows(IllegalStateException.class, () -> s.verifyServerFinal("v=AAAA"));

    Scram t = Scram.forMongo(Mechanism.SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    t.clientFinalMessage("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assertThrows(MongoProtocolException.class, () -> t.verifyServerFinal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
    MongoProtocolException e = assertThrows(MongoProtocolException.class, () -> t.verifyServerFinal("e=invalid-proof"));
    assertTrue(e.getMessage().contains("invalid-proof"));
    assertFalse(t.isComplete());
    assertThrows(IllegalArgumentException.class, () -> Scram.forMongo(Mechanism.SCRAM_SHA_256, "u", "p", "a,b"));
    assertThrows(IllegalArgumentException.class, () -> Scram.forMongo(Mechanism.SCRAM_SHA_256, "u", "", "ab"));
  }

  @Test
  void randomNoncesDiffer() {
    String a = Scram.forMongo(Mechanism.SCRAM_SHA_256, "u", "p").clientFirstMessage();
    String b = Scram.forMongo(Mechanism.SCRAM_SHA_256, "u", "p").clientFirstMessage();
    assertTrue(a.startsWith("n,,n=u,r=") && a.length() > 20);
    assertFalse(a.equals(b));
  }

  @Test
  void saslPrepRfc4013Examples() {
    assertEquals("IX", Scram.saslPrep("I\u00ADX"));
    assertEquals("user", Scram.saslPrep("user"));
    assertEquals("USER", Scram.saslPrep("USER"));
    assertEquals("a", Scram.saslPrep("\u00AA"));
    assertEquals("IX", Scram.saslPrep("\u2168"));
    assertEquals("a b", Scram.saslPrep("a\u00A0b"));
    assertThrows(IllegalArgumentException.class, () -> Scram.saslPrep("\u0007"));
    assertThrows(IllegalArgumentException.class, () -> Scram.saslPrep("\u0627\u0031"));
    assertEquals("\u0627\u0031\u0628", Scram.saslPrep("\u0627\u0031\u0628"));
    assertThrows(IllegalArgumentException.class, () -> Scram.saslPrep("a\uE000"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scram.saslPrep("secret\u0001"));
    assertFalse(e.getMessage().contains("secret"), "never echoes the password");
  }

  @Test
  void saslCommandsEncode() {
    Scram s = Scram.forMongo(Mechanism.SCRAM_SHA_1, "user", "pencil", "nonce");
    Map<?, ?> start = s.saslStartCommand("admin");
    assertEquals(List.of("saslStart", "mechanism", "payload", "autoAuthorize", "options", "$db"),
        names(start));
    @SuppressWarnings("unchecked")
    Map<Object, Object> back = (Map<Object, Object>) BsonCodec.decode(ByteBuffer.wrap(BsonCodec.encode(start)));
    assertEquals("SCRAM-SHA-1", back.get(Keyword.intern("mechanism")));
    assertArrayEquals("n,,n=user,r=nonce".getBytes(StandardCharsets.UTF_8), (byte[]) back.get(Keyword.intern("payload")));
    byte[] cont = BsonCodec.encode(Scram.saslContinueCommand(3L, new byte[] {1}, "admin"));
    assertEquals(0x10, cont[4 + 1 + "saslContinue".length() + 1 + 4], "conversationId is Int32");
  }

  private static List<String> names(Map<?, ?> m) {
    List<String> out = new ArrayList<>();
    for (Object k : m.keySet()) {
      out.add(((Keyword) k).getName());
    }
    return out;
  }

  /** An independent RFC 5802 computation: Hi as a plain HMAC loop over the UTF-8 password. */
  private static String proof(Mechanism m, String hmac, String digest, String password, String firstBare,
      String serverFirst) throws Exception {
    String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
    String salt = serverFirst.substring(serverFirst.indexOf("s=") + 2, serverFirst.indexOf(",i="));
    Mac mac = Mac.getInstance(hmac);
    mac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), hmac));
    mac.update(Base64.getDecoder().decode(salt));
    byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
    byte[] salted = u.clone();
    for (int i = 1; i < 4096; i++) {
      u = mac.doFinal(u);
      for (int j = 0; j < u.length; j++) {
        salted[j] ^= u[j];
      }
    }
    String without = "c=biws,r=" + nonce;
    byte[] auth = (firstBare + "," + serverFirst + "," + without).getBytes(StandardCharsets.UTF_8);
    Mac k = Mac.getInstance(hmac);
    k.init(new SecretKeySpec(salted, hmac));
    byte[] clientKey = k.doFinal("Client Key".getBytes(StandardCharsets.US_ASCII));
    byte[] stored = java.security.MessageDigest.getInstance(digest).digest(clientKey);
    k.init(new SecretKeySpec(stored, hmac));
    byte[] sig = k.doFinal(auth);
    for (int i = 0; i < sig.length; i++) {
      sig[i] ^= clientKey[i];
    }
    return without + ",p=" + Base64.getEncoder().encodeToString(sig);
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }
}
