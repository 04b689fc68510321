package peloton.mongo;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import clojure.lang.Keyword;

/**
 * The client side of one SCRAM-SHA-1 or SCRAM-SHA-256 conversation (RFC 5802, RFC 7677), as
 * MongoDB uses it. Pure computation, no IO: the connection sends the messages in
 * {@code saslStart}/{@code saslContinue} commands ({@link #saslStartCommand} and
 * {@link #saslContinueCommand} build them) and feeds back the server's payloads.
 *
 * <pre>
 * Scram s = Scram.forMongo(Scram.Mechanism.SCRAM_SHA_256, user, password);
 * send s.clientFirstMessage()                      // in saslStart
 * String fin = s.clientFinalMessage(serverFirst)   // in saslContinue
 * s.verifyServerFinal(serverFinal)                 // throws unless the server proved itself
 * </pre>
 *
 * <p>MongoDB's password preparation: SCRAM-SHA-1 uses {@code hex(md5(user + ":mongo:" +
 * password))}; SCRAM-SHA-256 uses the SASLprep'd password ({@link #saslPrep}). The user name is
 * sent with {@code =} and {@code ,} escaped, not SASLprep'd. Iteration counts under 4096 are
 * refused. One instance is one conversation and is not thread-safe. Nothing here logs, and
 * no message or exception text contains the password or the keys derived from it.
 */
public final class Scram {
  /** The two mechanisms MongoDB supports. */
  public enum Mechanism {
    /** SCRAM-SHA-1 (RFC 5802) with MongoDB's MD5 password digest. */
    SCRAM_SHA_1("SCRAM-SHA-1", "SHA-1", "HmacSHA1", "PBKDF2WithHmacSHA1", 160),
    /** SCRAM-SHA-256 (RFC 7677) with a SASLprep'd password. */
    SCRAM_SHA_256("SCRAM-SHA-256", "SHA-256", "HmacSHA256", "PBKDF2WithHmacSHA256", 256);

    /** The mechanism name sent in {@code saslStart}. */
    public final String saslName;
    final String digest;
    final String hmac;
    final String pbkdf2;
    final int keyBits;

    Mechanism(String saslName, String digest, String hmac, String pbkdf2, int keyBits) {
      this.saslName = saslName;
      this.digest = digest;
      this.hmac = hmac;
      this.pbkdf2 = pbkdf2;
      this.keyBits = keyBits;
    }
  }

  /** The lowest iteration count accepted from a server. */
  public static final int MIN_ITERATIONS = 4096;
  private static final String GS2_HEADER = "n,,";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Mechanism mechanism;
  private final String clientFirstBare;
  private final String clientNonce;
  private char[] password; // prepared; cleared once used
  private byte[] serverSignature;
  private boolean complete;

  private Scram(Mechanism mechanism, String user, char[] preparedPassword, String clientNonce) {
    if (clientNonce == null || clientNonce.isEmpty() || clientNonce.indexOf(',') >= 0) {
      throw new IllegalArgumentException("a nonce must be non-empty printable text without ','");
    }
    for (int i = 0; i < clientNonce.length(); i++) {
      char c = clientNonce.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException("a nonce must be non-empty printable text without ','");
      }
    }
    if (preparedPassword.length == 0) {
      throw new IllegalArgumentException("empty password");
    }
    this.mechanism = mechanism;
    this.password = preparedPassword;
    this.clientNonce = clientNonce;
    this.clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
  }

  /**
   * A conversation for MongoDB user {@code user} with a random 24-byte nonce.
   *
   * @param mechanism SCRAM-SHA-1 or SCRAM-SHA-256
   * @param user the user's name, as stored in the auth source
   * @param password the user's password in clear; MongoDB's digest (SHA-1) or SASLprep (SHA-256) is applied here
   * @return the conversation, before its first message
   * @throws IllegalArgumentException when the password holds a character SASLprep prohibits
   */
  public static Scram forMongo(Mechanism mechanism, String user, String password) {
    byte[] n = new byte[24];
    RANDOM.nextBytes(n);
    return forMongo(mechanism, user, password, Base64.getEncoder().encodeToString(n));
  }

  /**
   * As {@link #forMongo(Mechanism, String, String)} with a given nonce (for tests).
   *
   * @param mechanism SCRAM-SHA-1 or SCRAM-SHA-256
   * @param user the user's name
   * @param password the user's password in clear
   * @param clientNonce the client nonce to send, printable ASCII without a comma
   * @return the conversation, before its first message
   */
  public static Scram forMongo(Mechanism mechanism, String user, String password, String clientNonce) {
    String prepared = mechanism == Mechanism.SCRAM_SHA_1 ? mongoPasswordDigest(user, password) : saslPrep(password);
    return new Scram(mechanism, user, prepared.toCharArray(), clientNonce);
  }

  /**
   * Plain RFC 5802/7677 SCRAM: {@code password} is used as given (no MongoDB digest, no
   * SASLprep). For other SCRAM servers and for checking against the RFC examples.
   *
   * @param mechanism SCRAM-SHA-1 or SCRAM-SHA-256
   * @param user the user's name, sent as is
   * @param password the password, already prepared as the server expects
   * @param clientNonce the client nonce to send, printable ASCII without a comma
   * @return the conversation, before its first message
   */
  public static Scram withPreparedPassword(Mechanism mechanism, String user, String password, String clientNonce) {
    return new Scram(mechanism, user, password.toCharArray(), clientNonce);
  }

  /**
   * MongoDB's SCRAM-SHA-1 password: lowercase {@code hex(md5(user + ":mongo:" + password))}.
   *
   * @param user the user's name
   * @param password the password in clear
   * @return the 32 hex digits SCRAM-SHA-1 uses as the password
   */
  public static String mongoPasswordDigest(String user, String password) {
    try {
      byte[] d = MessageDigest.getInstance("MD5")
          .digest((user + ":mongo:" + password).getBytes(StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder(32);
      for (byte b : d) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return sb.toString();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("MD5 unavailable", e);
    }
  }

  /**
   * The mechanism of this conversation.
   *
   * @return SCRAM-SHA-1 or SCRAM-SHA-256
   */
  public Mechanism mechanism() {
    return mechanism;
  }

  /**
   * The client-first message, e.g. {@code n,,n=user,r=<nonce>}.
   *
   * @return the message, to send as the {@code saslStart} payload
   */
  public String clientFirstMessage() {
    return GS2_HEADER + clientFirstBare;
  }

  /**
   * Parses the server-first message, computes the proof, and answers the client-final message
   * ({@code c=biws,r=<nonce>,p=<proof>}). Remembers the expected server signature.
   *
   * @param serverFirst the server-first message ({@code r=<nonce>,s=<salt>,i=<iterations>})
   * @return the client-final message, to send in a {@code saslContinue}
   * @throws MongoProtocolException if the server-first message is malformed, its nonce does not
   *     extend ours, or its iteration count is under {@link #MIN_ITERATIONS}
   */
  public String clientFinalMessage(String serverFirst) {
    if (password == null) {
      throw new IllegalStateException("clientFinalMessage already computed");
    }
    String nonce = null;
    String salt = null;
    String iterations = null;
    for (String attr : serverFirst.split(",", -1)) {
      if (attr.length() < 2 || attr.charAt(1) != '=') {
        throw new MongoProtocolException("malformed SCRAM server-first message");
      }
      String v = attr.substring(2);
      switch (attr.charAt(0)) {
        case 'm': throw new MongoProtocolException("unsupported SCRAM extension in server-first message");
        case 'r': nonce = v; break;
        case 's': salt = v; break;
        case 'i': iterations = v; break;
        default: break; // RFC 5802: ignore unknown optional attributes
      }
    }
    if (nonce == null || salt == null || iterations == null) {
      throw new MongoProtocolException("SCRAM server-first message lacks r, s or i");
    }
    if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
      throw new MongoProtocolException("SCRAM server nonce does not extend the client nonce");
    }
    byte[] saltBytes;
    int iter;
    try {
      saltBytes = Base64.getDecoder().decode(salt);
      iter = Integer.parseInt(iterations);
    } catch (IllegalArgumentException e) {
      throw new MongoProtocolException("malformed SCRAM salt or iteration count");
    }
    if (iter < MIN_ITERATIONS) {
      throw new MongoProtocolException("SCRAM iteration count " + iter + " is under " + MIN_ITERATIONS);
    }
    String withoutProof = "c=" + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.US_ASCII))
        + ",r=" + nonce;
    byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
    try {
      byte[] salted = hi(saltBytes, iter);
      byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
      byte[] storedKey = MessageDigest.getInstance(mechanism.digest).digest(clientKey);
      byte[] proof = hmac(storedKey, authMessage);
      for (int i = 0; i < proof.length; i++) {
        proof[i] ^= clientKey[i];
      }
      serverSignature = hmac(hmac(salted, "Server Key".getBytes(StandardCharsets.US_ASCII)), authMessage);
      return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(mechanism.saslName + " unavailable in this JVM", e);
    }
  }

  /**
   * Checks the server-final message ({@code v=<signature>}); afterwards {@link #isComplete()}.
   *
   * @param serverFinal the server-final message
   * @throws MongoProtocolException on {@code e=<error>}, a malformed message, or a signature
   *     that does not match (the server does not know the password)
   */
  public void verifyServerFinal(String serverFinal) {
    if (serverSignature == null) {
      throw new IllegalStateException("clientFinalMessage not computed yet");
    }
    for (String attr : serverFinal.split(",", -1)) {
      if (attr.startsWith("e=")) {
        throw new MongoProtocolException("SCRAM server error: " + attr.substring(2));
      }
      if (attr.startsWith("v=")) {
        byte[] v;
        try {
          v = Base64.getDecoder().decode(attr.substring(2));
        } catch (IllegalArgumentException e) {
          throw new MongoProtocolException("malformed SCRAM server signature");
        }
        if (!MessageDigest.isEqual(v, serverSignature)) {
          throw new MongoProtocolException("SCRAM server signature does not match");
        }
        complete = true;
        return;
      }
    }
    throw new MongoProtocolException("SCRAM server-final message has no v=");
  }

  /**
   * Whether the conversation is done: the server proved it knows the password.
   *
   * @return true once the server's signature has been verified
   */
  public boolean isComplete() {
    return complete;
  }

  /**
   * The {@code saslStart} command for database {@code db} (the auth source) as an ordered
   * Clojure map: {@code {:saslStart 1 :mechanism .. :payload <client-first bytes>
   * :autoAuthorize 1 :options {:skipEmptyExchange true} :$db db}}.
   *
   * @param db the database the user is defined in (the auth source), usually {@code "admin"}
   * @return the command, to send with {@link MongoConnection#send}
   */
  public Map<?, ?> saslStartCommand(String db) {
    return BsonCodec.command(kw("saslStart"), 1, kw("mechanism"), mechanism.saslName,
        kw("payload"), clientFirstMessage().getBytes(StandardCharsets.UTF_8), kw("autoAuthorize"), 1,
        kw("options"), BsonCodec.command(kw("skipEmptyExchange"), true), kw("$db"), db);
  }

  /**
   * A {@code saslContinue} command carrying {@code payload} in the conversation the server
   * named ({@code conversationId} from its reply; written as Int32 as the server expects).
   *
   * @param conversationId the {@code conversationId} of the server's previous reply
   * @param payload the SCRAM message to send, as UTF-8 bytes
   * @param db the auth source, as in {@link #saslStartCommand}
   * @return the command, an ordered Clojure map
   */
  public static Map<?, ?> saslContinueCommand(long conversationId, byte[] payload, String db) {
    return BsonCodec.command(kw("saslContinue"), 1, kw("conversationId"), (int) conversationId,
        kw("payload"), payload, kw("$db"), db);
  }

  private static Keyword kw(String s) {
    return Keyword.intern(s);
  }

  private byte[] hi(byte[] salt, int iterations) throws GeneralSecurityException {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, mechanism.keyBits);
    try {
      return SecretKeyFactory.getInstance(mechanism.pbkdf2).generateSecret(spec).getEncoded();
    } finally {
      spec.clearPassword();
      java.util.Arrays.fill(password, '\0');
      password = null;
    }
  }

  private byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance(mechanism.hmac);
    mac.init(new SecretKeySpec(key, mechanism.hmac));
    return mac.doFinal(data);
  }

  // ---------------------------------------------------------------- SASLprep (RFC 4013)

  /**
   * SASLprep for stored strings (RFC 4013 with RFC 3454 tables), approximated with the JDK:
   * non-ASCII spaces map to U+0020; "mapped to nothing" characters are removed; NFKC
   * normalization; then control, private-use, non-character, surrogate, unassigned,
   * display-changing and tagging code points are refused, as are strings that break the
   * bidirectional rule. The JDK's Unicode version (not 3.2) decides what is "unassigned".
   * Printable ASCII returns unchanged at once.
   *
   * @param s the string to prepare (a user name or password)
   * @return the prepared string
   * @throws IllegalArgumentException naming the position of a prohibited character (never
   *     echoing the string, which is usually a password)
   */
  public static String saslPrep(String s) {
    boolean ascii = true;
    for (int i = 0; i < s.length() && ascii; i++) {
      char c = s.charAt(i);
      ascii = c >= 0x20 && c < 0x7f;
    }
    if (ascii) {
      return s;
    }
    StringBuilder mapped = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (mappedToNothing(cp)) {
        continue;
      }
      mapped.appendCodePoint(cp != ' ' && Character.isSpaceChar(cp) ? ' ' : cp);
    }
    String n = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
    boolean randAL = false;
    boolean l = false;
    for (int i = 0; i < n.length(); ) {
      int cp = n.codePointAt(i);
      if (prohibited(cp)) {
        throw new IllegalArgumentException("SASLprep: prohibited character at index " + i);
      }
      byte dir = Character.getDirectionality(cp);
      randAL |= dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
      l |= dir == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
      i += Character.charCount(cp);
    }
    if (randAL) {
      if (l || !isRandAL(n.codePointAt(0)) || !isRandAL(n.codePointBefore(n.length()))) {
        throw new IllegalArgumentException("SASLprep: string breaks the bidirectional rule");
      }
    }
    return n;
  }

  private static boolean isRandAL(int cp) {
    byte dir = Character.getDirectionality(cp);
    return dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
  }

  /** RFC 3454 table B.1. */
  private static boolean mappedToNothing(int cp) {
    return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D)
        || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
  }

  /** RFC 3454 tables C.1.2 - C.9 and A.1 (approximated by the JDK's categories). */
  private static boolean prohibited(int cp) {
    int type = Character.getType(cp);
    return (cp != ' ' && Character.isSpaceChar(cp))                      // C.1.2 (should be mapped already)
        || type == Character.CONTROL                                   // C.2.1, C.2.2
        || cp == 0x06DD || cp == 0x070F || cp == 0x180E
        || (cp >= 0x2028 && cp <= 0x2029) || (cp >= 0x2061 && cp <= 0x2063)
        || (cp >= 0x206A && cp <= 0x206F) || (cp >= 0x1D173 && cp <= 0x1D17A)
        || type == Character.PRIVATE_USE                               // C.3
        || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE    // C.4
        || type == Character.SURROGATE                                 // C.5
        || (cp >= 0xFFF9 && cp <= 0xFFFD)                              // C.6
        || (cp >= 0x2FF0 && cp <= 0x2FFB)                              // C.7
        || cp == 0x0340 || cp == 0x0341 || cp == 0x200E || cp == 0x200F
        || (cp >= 0x202A && cp <= 0x202E)                              // C.8
        || cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F)           // C.9
        || type == Character.UNASSIGNED;                               // A.1
  }
}
