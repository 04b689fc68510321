package peloton.transport;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * How one side speaks TLS: an {@link SSLContext} plus what Peloton sets on every engine it makes
 * from it: TLS 1.2 and 1.3 only, ALPN protocols, and on a client, SNI (not for IP literals) and
 * HTTPS hostname verification unless turned off. Immutable; make one per server or client and
 * share it.
 *
 * <pre>{@code
 * TlsConfig server = TlsConfig.serverPem("fullchain.pem", "privkey.pem");
 * TlsConfig client = TlsConfig.client(new TlsConfig.ClientOptions().caCert("ca.pem"));
 * }</pre>
 */
public final class TlsConfig {
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
  private static final char[] INTERNAL_PASSWORD = "peloton".toCharArray();

  private final SSLContext context;
  private final boolean client;
  private final boolean verifyHostname;
  private final boolean insecure;
  private final String[] alpn;
  private final String[] protocols;

  private TlsConfig(SSLContext context, boolean client, boolean verifyHostname, boolean insecure,
      String[] alpn) {
    this.context = context;
    this.client = client;
    this.verifyHostname = verifyHostname;
    this.insecure = insecure;
    this.alpn = alpn;
    List<String> supported = Arrays.asList(context.getSupportedSSLParameters().getProtocols());
    List<String> ps = new ArrayList<>();
    for (String p : PROTOCOLS) {
      if (supported.contains(p)) {
        ps.add(p);
      }
    }
    this.protocols = ps.toArray(new String[0]);
  }

  // ------------------------------------------------------------------ servers

  /**
   * A server configuration around a ready {@code context} (ALPN: none until {@link #alpn}).
   *
   * @param context an initialized context holding the server's key and certificate chain
   * @return the configuration
   */
  public static TlsConfig server(SSLContext context) {
    return new TlsConfig(context, false, false, false, new String[0]);
  }

  /**
   * A server configuration from a PEM certificate chain (leaf first, as certbot's {@code
   * fullchain.pem}) and a PEM private key (PKCS#8 RSA or EC as certbot writes it, or PKCS#1 /
   * SEC1). Fails with an {@link IOException} naming the file that cannot be read or parsed, or
   * both files when the key does not belong to the certificate.
   *
   * @param certChainFile the path of the PEM certificate chain, leaf first
   * @param keyFile the path of the PEM private key of the leaf certificate (unencrypted)
   * @return the configuration
   * @throws IOException when a file cannot be read or parsed, or the key does not match
   */
  public static TlsConfig serverPem(String certChainFile, String keyFile) throws IOException {
    return server(pemContext(certChainFile, keyFile, null, null));
  }

  /**
   * A server configuration from a PKCS#12 keystore holding one key and its chain.
   *
   * @param file the path of the {@code .p12} / {@code .pfx} file
   * @param password the keystore's password (also the key's), or null for none
   * @return the configuration
   * @throws IOException when the file cannot be read, or the password is wrong
   */
  public static TlsConfig serverKeystore(String file, String password) throws IOException {
    char[] pw = password == null ? new char[0] : password.toCharArray();
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, pw);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return server(ctx);
    } catch (IOException | GeneralSecurityException e) {
      throw new IOException("cannot load the PKCS#12 keystore " + file + " (wrong password?): "
          + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------ clients

  /** What a client trusts and shows; setters chain. */
  public static final class ClientOptions {
    /** A PEM file of CA certificates trusted besides the JDK's default ones, or null. */
    public String caCert;
    /** A PEM client certificate chain for mutual TLS (with {@link #clientKey}), or null. */
    public String clientCert;
    /** The PEM private key of {@link #clientCert}; may be the same file. */
    public String clientKey;
    /** Password of an encrypted {@link #clientKey}, or null. */
    public String clientKeyPassword;
    /** Check the server's certificate chain (default true). */
    public boolean verifyCertificates = true;
    /** Check that the certificate names the host connected to (default true). */
    public boolean verifyHostname = true;

    /**
     * Sets {@link #caCert}.
     *
     * @param file the path of a PEM file of CA certificates to trust besides the JDK's, or null
     * @return these options
     */
    public ClientOptions caCert(String file) {
      caCert = file;
      return this;
    }

    /**
     * Sets {@link #clientCert} and {@link #clientKey}, for mutual TLS.
     *
     * @param certFile the path of the PEM client certificate chain, leaf first
     * @param keyFile the path of its PEM private key (may be {@code certFile} when that holds both)
     * @return these options
     */
    public ClientOptions clientCert(String certFile, String keyFile) {
      clientCert = certFile;
      clientKey = keyFile;
      return this;
    }

    /**
     * Turns off every check: any certificate for any name is accepted (tests and local tools only).
     *
     * @return these options
     */
    public ClientOptions insecure() {
      verifyCertificates = false;
      verifyHostname = false;
      return this;
    }
  }

  /**
   * A client that trusts the JDK's default CAs and checks host names.
   *
   * @return the configuration
   * @throws IOException when the JDK's default trust store cannot be read
   */
  public static TlsConfig client() throws IOException {
    return client(new ClientOptions());
  }

  /**
   * A client configured by {@code o}; unreadable files fail naming the file.
   *
   * @param o what to trust and which certificate to show; read now, later changes do not apply
   * @return the configuration
   * @throws IOException when a file of {@code o} cannot be read or parsed
   */
  public static TlsConfig client(ClientOptions o) throws IOException {
    if ((o.clientCert == null) != (o.clientKey == null)) {
      throw new IllegalArgumentException("a client certificate needs its key and a key its "
          + "certificate (client cert " + o.clientCert + ", key " + o.clientKey + ")");
    }
    SSLContext ctx = pemContext(o.clientCert, o.clientKey, o.clientKeyPassword,
        o.verifyCertificates ? trustManagers(o.caCert) : new TrustManager[] {new TrustAll()});
    return new TlsConfig(ctx, true, o.verifyCertificates && o.verifyHostname,
        !o.verifyCertificates, new String[0]);
  }

  /**
   * A client configuration around a ready {@code context}.
   *
   * @param context an initialized context with the trust (and for mutual TLS the key) managers
   * @param verifyHostname whether the server's certificate must name the host connected to
   * @return the configuration
   */
  public static TlsConfig client(SSLContext context, boolean verifyHostname) {
    return new TlsConfig(context, true, verifyHostname, false, new String[0]);
  }

  /**
   * This configuration offering (client) or accepting (server, in its order of preference) the
   * ALPN protocols given, e.g. {@code "http/1.1"}; none turns ALPN off.
   *
   * @param protocols the ALPN protocol names, most preferred first
   * @return a new configuration; this one is unchanged
   */
  public TlsConfig alpn(String... protocols) {
    return new TlsConfig(context, client, verifyHostname, insecure, protocols.clone());
  }

  /**
   * Whether certificates are not checked at all.
   *
   * @return true for a client made with {@link ClientOptions#insecure()}
   */
  public boolean insecure() {
    return insecure;
  }

  /**
   * Whether this configures the client side of connections.
   *
   * @return true for a client configuration, false for a server one
   */
  public boolean isClient() {
    return client;
  }

  /**
   * The SSL context engines are made from.
   *
   * @return the context
   */
  public SSLContext context() {
    return context;
  }

  /**
   * A server-side engine with this configuration's protocols and ALPN.
   *
   * @return a new engine, in server mode
   */
  public SSLEngine serverEngine() {
    SSLEngine e = context.createSSLEngine();
    e.setUseClientMode(false);
    SSLParameters p = e.getSSLParameters();
    p.setProtocols(protocols);
    if (alpn.length > 0) {
      p.setApplicationProtocols(alpn);
    }
    e.setSSLParameters(p);
    return e;
  }

  /**
   * A client-side engine for {@code host} (a name or an IP literal without brackets).
   *
   * @param host the server's name (sent as SNI and, unless turned off, checked against its
   *     certificate) or IP literal
   * @param port the server's port
   * @return a new engine, in client mode
   */
  public SSLEngine clientEngine(String host, int port) {
    SSLEngine e = context.createSSLEngine(host, port);
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    p.setProtocols(protocols);
    if (verifyHostname) {
      p.setEndpointIdentificationAlgorithm("HTTPS");
    }
    if (!isIpLiteral(host)) {
      // The JDK skips SNI for a name without a dot (localhost); send it always.
      p.setServerNames(List.of(new SNIHostName(host)));
    }
    if (alpn.length > 0) {
      p.setApplicationProtocols(alpn);
    }
    e.setSSLParameters(p);
    return e;
  }

  static boolean isIpLiteral(String host) {
    if (host.indexOf(':') >= 0) {
      return true;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------ building contexts

  /** An SSL context with the PEM key pair (when given) and {@code trust} (null: JDK default). */
  static SSLContext pemContext(String certFile, String keyFile, String keyPassword,
      TrustManager[] trust) throws IOException {
    KeyManager[] kms = null;
    if (certFile != null) {
      List<X509Certificate> chain = Pem.certificates(Path.of(certFile));
      PrivateKey key = Pem.privateKey(Path.of(keyFile),
          keyPassword == null ? null : keyPassword.toCharArray());
      checkPair(certFile, keyFile, chain.get(0), key);
      try {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("key", key, INTERNAL_PASSWORD, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, INTERNAL_PASSWORD);
        kms = kmf.getKeyManagers();
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot use the key pair of " + certFile + " and " + keyFile + ": "
            + e.getMessage(), e);
      }
    }
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kms, trust, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no TLS", e);
    }
  }

  /** The certificate's public key must verify what the private key signs. */
  private static void checkPair(String certFile, String keyFile, X509Certificate cert,
      PrivateKey key) throws IOException {
    String alg = key.getAlgorithm();
    String sigAlg = alg.equals("RSA") ? "SHA256withRSA" : alg.equals("EC") ? "SHA256withECDSA"
        : alg;
    boolean ok;
    try {
      byte[] probe = "peloton key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(sigAlg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(sigAlg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      ok = v.verify(sig);
    } catch (GeneralSecurityException e) {
      ok = false;
    }
    if (!ok) {
      throw new IOException("the private key in " + keyFile + " does not belong to the certificate "
          + cert.getSubjectX500Principal().getName() + " in " + certFile);
    }
  }

  /** The JDK's default trust anchors plus the CA certificates of {@code caFile} (if any). */
  static TrustManager[] trustManagers(String caFile) throws IOException {
    try {
      TrustManagerFactory dflt = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      dflt.init((KeyStore) null);
      if (caFile == null) {
        return validityFirst(dflt.getTrustManagers());
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      int n = 0;
      for (TrustManager tm : dflt.getTrustManagers()) {
        if (tm instanceof X509TrustManager) {
          for (X509Certificate c : ((X509TrustManager) tm).getAcceptedIssuers()) {
            ks.setCertificateEntry("jdk-" + n++, c);
          }
        }
      }
      for (X509Certificate c : Pem.certificates(Path.of(caFile))) {
        ks.setCertificateEntry("ca-" + n++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      return validityFirst(tmf.getTrustManagers());
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot trust the CA certificates of " + caFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * The JDK's path builder skips an expired certificate and reports "no path to a trusted CA":
   * checking the peer's own certificate's dates first makes an expired one say so.
   */
  private static TrustManager[] validityFirst(TrustManager[] tms) {
    TrustManager[] out = tms.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i] instanceof X509ExtendedTrustManager) {
        out[i] = new ValidityFirst((X509ExtendedTrustManager) out[i]);
      }
    }
    return out;
  }

  /** Checks the leaf certificate's validity dates, then delegates. */
  private static final class ValidityFirst extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager next;

    ValidityFirst(X509ExtendedTrustManager next) {
      this.next = next;
    }

    private static void dates(X509Certificate[] chain) throws CertificateException {
      if (chain != null && chain.length > 0) {
        chain[0].checkValidity();
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      dates(chain);
      next.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      dates(chain);
      next.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      dates(chain);
      next.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      dates(chain);
      next.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      dates(chain);
      next.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      dates(chain);
      next.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return next.getAcceptedIssuers();
    }
  }

  /** Accepts every certificate: what {@code insecure} asks for. */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
