package peloton.transport;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Reads PEM files with the JDK alone: certificate chains ({@code CERTIFICATE} blocks) and private
 * keys as certbot and openssl write them: PKCS#8 ({@code PRIVATE KEY}, RSA or EC), encrypted
 * PKCS#8 ({@code ENCRYPTED PRIVATE KEY}, with a password), PKCS#1 ({@code RSA PRIVATE KEY}) and
 * SEC1 ({@code EC PRIVATE KEY}). Errors are {@link IOException}s that name the file.
 */
public final class Pem {
  private Pem() {}

  /** One {@code -----BEGIN X-----} block: its label and decoded bytes. */
  private static final class Block {
    final String label;
    final byte[] der;

    Block(String label, byte[] der) {
      this.label = label;
      this.der = der;
    }
  }

  private static List<Block> blocks(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + e, e);
    }
    List<Block> out = new ArrayList<>();
    int i = 0;
    while ((i = text.indexOf("-----BEGIN ", i)) >= 0) {
      int labelEnd = text.indexOf("-----", i + 11);
      if (labelEnd < 0) {
        break;
      }
      String label = text.substring(i + 11, labelEnd);
      String end = "-----END " + label + "-----";
      int bodyStart = labelEnd + 5;
      int endAt = text.indexOf(end, bodyStart);
      if (endAt < 0) {
        throw new IOException(file + ": PEM block " + label + " has no END line");
      }
      String body = text.substring(bodyStart, endAt);
      if (body.contains(":")) {
        throw new IOException(file + ": PEM block " + label
            + " has headers (an OpenSSL-encrypted legacy key?); convert it to PKCS#8");
      }
      try {
        out.add(new Block(label, Base64.getMimeDecoder().decode(body)));
      } catch (IllegalArgumentException e) {
        throw new IOException(file + ": PEM block " + label + " is not valid base64", e);
      }
      i = endAt + end.length();
    }
    return out;
  }

  /**
   * The certificates of {@code file}, in file order (leaf first in a chain); at least one.
   *
   * @param file a PEM file with one or more {@code CERTIFICATE} blocks
   * @return the certificates
   * @throws IOException when the file cannot be read, has no certificate or a bad one
   */
  public static List<X509Certificate> certificates(Path file) throws IOException {
    List<X509Certificate> certs = new ArrayList<>();
    CertificateFactory cf;
    try {
      cf = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
    for (Block b : blocks(file)) {
      if (b.label.equals("CERTIFICATE") || b.label.equals("TRUSTED CERTIFICATE")) {
        try {
          certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der)));
        } catch (CertificateException e) {
          throw new IOException(file + ": a CERTIFICATE block is not an X.509 certificate: "
              + e.getMessage(), e);
        }
      }
    }
    if (certs.isEmpty()) {
      throw new IOException(file + ": no PEM CERTIFICATE block found");
    }
    return certs;
  }

  /**
   * The private key of {@code file} (the first key block; others are ignored). {@code password}
   * decrypts an {@code ENCRYPTED PRIVATE KEY}; null for a plain one.
   *
   * @param file a PEM file with a PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key block
   * @param password the password of an encrypted key, or null
   * @return the key
   * @throws IOException when the file cannot be read, has no key, or the password is wrong
   */
  public static PrivateKey privateKey(Path file, char[] password) throws IOException {
    for (Block b : blocks(file)) {
      switch (b.label) {
        case "PRIVATE KEY":
          return pkcs8(file, b.der);
        case "RSA PRIVATE KEY":
          return pkcs8(file, wrapPkcs8(RSA_ALGORITHM, b.der));
        case "EC PRIVATE KEY":
          return pkcs8(file, wrapPkcs8(ecAlgorithm(file, b.der), b.der));
        case "ENCRYPTED PRIVATE KEY":
          if (password == null) {
            throw new IOException(file + ": the private key is encrypted and no password was given");
          }
          return pkcs8(file, decrypt(file, b.der, password));
        default:
          break;
      }
    }
    throw new IOException(file + ": no PEM private key block found (PRIVATE KEY, RSA PRIVATE KEY,"
        + " EC PRIVATE KEY or ENCRYPTED PRIVATE KEY)");
  }

  private static PrivateKey pkcs8(Path file, byte[] der) throws IOException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next
      }
    }
    throw new IOException(file + ": the private key is not an RSA, EC or EdDSA key in PKCS#8");
  }

  private static byte[] decrypt(Path file, byte[] der, char[] password) throws IOException {
    try {
      EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
      // PBES2's name is an OID; its parameters know the JCE name (PBEWithHmacSHA256AndAES_256).
      String alg = info.getAlgParameters() != null ? info.getAlgParameters().toString()
          : info.getAlgName();
      SecretKeyFactory f = SecretKeyFactory.getInstance(alg);
      Cipher c = Cipher.getInstance(alg);
      c.init(Cipher.DECRYPT_MODE, f.generateSecret(new PBEKeySpec(password)),
          info.getAlgParameters());
      return info.getKeySpec(c).getEncoded();
    } catch (GeneralSecurityException | IOException e) {
      throw new IOException(file + ": cannot decrypt the private key (wrong password?): " + e, e);
    }
  }

  // ---- the few DER pieces needed to wrap PKCS#1 and SEC1 keys into PKCS#8 ----

  private static final byte[] RSA_ALGORITHM = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
    0x01, 0x05, 0x00
  };
  private static final byte[] EC_PUBLIC_KEY_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  /** PrivateKeyInfo: SEQUENCE { INTEGER 0, algorithm, OCTET STRING key }. */
  private static byte[] wrapPkcs8(byte[] algorithm, byte[] key) {
    ByteArrayOutputStream body = new ByteArrayOutputStream(key.length + 32);
    body.write(0x02);
    body.write(0x01);
    body.write(0x00);
    body.writeBytes(algorithm);
    tlv(body, 0x04, key);
    ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + 40);
    tlv(out, 0x30, body.toByteArray());
    return out.toByteArray();
  }

  /** AlgorithmIdentifier for an SEC1 key: ecPublicKey with the curve named in its [0] field. */
  private static byte[] ecAlgorithm(Path file, byte[] sec1) throws IOException {
    // ECPrivateKey ::= SEQUENCE { INTEGER 1, OCTET STRING, [0] OID curve, [1] BIT STRING }
    int[] p = {0};
    expect(file, sec1, p, 0x30);
    length(file, sec1, p);
    expect(file, sec1, p, 0x02);
    int version = length(file, sec1, p);
    p[0] += version;
    expect(file, sec1, p, 0x04);
    int key = length(file, sec1, p);
    p[0] += key;
    if (p[0] >= sec1.length || (sec1[p[0]] & 0xff) != 0xa0) {
      throw new IOException(file + ": the EC PRIVATE KEY does not name its curve; use PKCS#8");
    }
    p[0]++;
    int n = length(file, sec1, p);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(EC_PUBLIC_KEY_OID);
    body.write(sec1, p[0], n);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    tlv(out, 0x30, body.toByteArray());
    return out.toByteArray();
  }

  private static int expect(Path file, byte[] der, int[] p, int tag) throws IOException {
    if (p[0] >= der.length || (der[p[0]] & 0xff) != tag) {
      throw new IOException(file + ": malformed key (DER tag " + tag + " expected)");
    }
    return der[p[0]++];
  }

  private static int length(Path file, byte[] der, int[] p) throws IOException {
    if (p[0] >= der.length) {
      throw new IOException(file + ": malformed key (truncated DER)");
    }
    int b = der[p[0]++] & 0xff;
    if (b < 0x80) {
      return b;
    }
    int k = b & 0x7f;
    if (k > 3 || p[0] + k > der.length) {
      throw new IOException(file + ": malformed key (bad DER length)");
    }
    int n = 0;
    for (int i = 0; i < k; i++) {
      n = (n << 8) | (der[p[0]++] & 0xff);
    }
    return n;
  }

  private static void tlv(ByteArrayOutputStream out, int tag, byte[] content) {
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
  }
}
