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

  /** Whether a server asks TLS clients for a certificate (mutual TLS). */
  public enum ClientAuth {
    /** No client certificate is asked for (the default). */
    NONE,
    /** A certificate is asked for; a client without one is served, one with a bad one refused. */
    WANT,
    /** A client without a certificate that chains to a trusted CA is refused in the handshake. */
    NEED
  }

  private final SSLContext context;
  private final KeyManager[] keyManagers; // kept to rebuild the context with client CAs; may be null
  private final boolean client;
  private final boolean verifyHostname;
  private final boolean insecure;
  private final String[] alpn;
  private final String[] protocols;
  private final ClientAuth clientAuth;
  private final boolean inlineTasks;

  private TlsConfig(SSLContext context, KeyManager[] keyManagers, boolean client,
      boolean verifyHostname, boolean insecure, String[] alpn, ClientAuth clientAuth,
      boolean inlineTasks) {
    this.context = context;
    this.keyManagers = keyManagers;
    this.client = client;
    this.verifyHostname = verifyHostname;
    this.insecure = insecure;
    this.alpn = alpn;
    this.clientAuth = clientAuth;
    this.inlineTasks = inlineTasks;
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
    return new TlsConfig(context, null, false, false, false, new String[0], ClientAuth.NONE,
        false);
  }

  private static TlsConfig server(KeyManager[] kms) {
    return new TlsConfig(context(kms, null), kms, false, false, false, new String[0],
        ClientAuth.NONE, true);
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
    return server(pemKeyManagers(certChainFile, keyFile, null));
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
      return server(kmf.getKeyManagers());
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
    KeyManager[] kms = o.clientCert == null ? null
        : pemKeyManagers(o.clientCert, o.clientKey, o.clientKeyPassword);
    SSLContext ctx = context(kms,
        o.verifyCertificates ? trustManagers(o.caCert) : new TrustManager[] {new Checked(null)});
    return new TlsConfig(ctx, kms, true, o.verifyCertificates && o.verifyHostname,
        !o.verifyCertificates, new String[0], ClientAuth.NONE, true);
  }

  /**
   * A client configuration around a ready {@code context}.
   *
   * @param context an initialized context with the trust (and for mutual TLS the key) managers
   * @param verifyHostname whether the server's certificate must name the host connected to
   * @return the configuration
   */
  public static TlsConfig client(SSLContext context, boolean verifyHostname) {
    return new TlsConfig(context, null, true, verifyHostname, false, new String[0],
        ClientAuth.NONE, false);
  }

  /**
   * This configuration offering (client) or accepting (server, in its order of preference) the
   * ALPN protocols given, e.g. {@code "http/1.1"}; none turns ALPN off.
   *
   * @param protocols the ALPN protocol names, most preferred first
   * @return a new configuration; this one is unchanged
   */
  public TlsConfig alpn(String... protocols) {
    return new TlsConfig(context, keyManagers, client, verifyHostname, insecure, protocols.clone(),
        clientAuth, inlineTasks);
  }

  /**
   * This server configuration asking every client for a certificate ({@code mode}), verified
   * against the CA certificates of the PEM file {@code caFile} and only those (the JDK's public
   * CAs are not trusted for clients, as with nginx's {@code ssl_client_certificate}). With a
   * {@code caFile} of null the context's own trust managers decide: the way for a configuration
   * made by {@link #server(SSLContext)}, whose key cannot be taken out to build a new context.
   * The handler sees the verified chain on the TLS session (the HTTP server's {@code
   * Exchange.clientCertificates()}).
   *
   * @param mode whether a certificate is asked for (WANT) or required (NEED); NONE turns it off
   * @param caFile a PEM file of the CAs client certificates must chain to, or null
   * @return a new configuration; this one is unchanged
   * @throws IOException when {@code caFile} cannot be read or holds no certificate
   * @throws IllegalStateException on a client configuration, or with a {@code caFile} for a
   *     configuration made from a ready context
   */
  public TlsConfig clientAuth(ClientAuth mode, String caFile) throws IOException {
    if (client) {
      throw new IllegalStateException("clientAuth is for a server configuration");
    }
    SSLContext ctx = context;
    if (caFile != null) {
      if (keyManagers == null) {
        throw new IllegalStateException("a client CA file cannot be added to a ready SSLContext: "
            + "init that context with the trust managers for client certificates instead");
      }
      ctx = context(keyManagers, onlyTrust(caFile));
    }
    return new TlsConfig(ctx, keyManagers, false, false, false, alpn, mode, inlineTasks);
  }

  /**
   * This configuration running the handshake's delegated tasks (key exchange, signature,
   * certificate checks) on the connection's reactor thread ({@code true}), as Netty does by
   * default, or on a small shared executor ({@code false}).
   *
   * <p>Inline is the default for configurations built from files ({@link #serverPem},
   * {@link #serverKeystore}, {@link #client(ClientOptions)}): their key and trust managers are the
   * JDK's, a millisecond or two of CPU per handshake, and handing each handshake to another thread
   * and back cost a fifth more CPU per handshake on this machine, mostly in context switches. The
   * executor is the default for a ready {@link SSLContext}, whose managers are the caller's and
   * may block (a key held by a remote service); on the executor a slow one never holds up the
   * reactor's other connections.
   *
   * @param inline true to run the tasks on the reactor, false for the executor
   * @return a new configuration; this one is unchanged
   */
  public TlsConfig inlineTasks(boolean inline) {
    return new TlsConfig(context, keyManagers, client, verifyHostname, insecure, alpn, clientAuth,
        inline);
  }

  /**
   * Where the handshake's delegated tasks run: see {@link #inlineTasks(boolean)}.
   *
   * @return true when they run on the reactor thread
   */
  public boolean inlineTasks() {
    return inlineTasks;
  }

  /**
   * What {@link #clientAuth(ClientAuth, String)} set.
   *
   * @return NONE unless a certificate is asked for
   */
  public ClientAuth clientAuth() {
    return clientAuth;
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
    if (clientAuth == ClientAuth.NEED) {
      p.setNeedClientAuth(true);
    } else if (clientAuth == ClientAuth.WANT) {
      p.setWantClientAuth(true);
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

  /**
   * True when {@code host} is an IPv4 or IPv6 literal (no brackets): an address to parse, not a
   * name to look up or to send as SNI.
   *
   * @param host a host name or an address
   * @return true for an address literal
   */
  public static boolean isIpLiteral(String host) {
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

  /** The key managers of a PEM key pair, checked to belong together. */
  static KeyManager[] pemKeyManagers(String certFile, String keyFile, String keyPassword)
      throws IOException {
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
      return kmf.getKeyManagers();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the key pair of " + certFile + " and " + keyFile + ": "
          + e.getMessage(), e);
    }
  }

  /** An SSL context with {@code kms} (null: no key) and {@code trust} (null: JDK default). */
  static SSLContext context(KeyManager[] kms, TrustManager[] trust) {
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
      List<X509Certificate> cas = new ArrayList<>();
      for (TrustManager tm : dflt.getTrustManagers()) {
        if (tm instanceof X509TrustManager) {
          cas.addAll(Arrays.asList(((X509TrustManager) tm).getAcceptedIssuers()));
        }
      }
      cas.addAll(Pem.certificates(Path.of(caFile)));
      return trusting(cas);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot trust the CA certificates of " + caFile + ": " + e.getMessage(), e);
    }
  }

  /** Only the CA certificates of {@code caFile}: what a server checks client certificates with. */
  static TrustManager[] onlyTrust(String caFile) throws IOException {
    try {
      return trusting(Pem.certificates(Path.of(caFile)));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot trust the CA certificates of " + caFile + ": " + e.getMessage(), e);
    }
  }

  private static TrustManager[] trusting(List<X509Certificate> cas)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    int n = 0;
    for (X509Certificate c : cas) {
      ks.setCertificateEntry("ca-" + n++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return validityFirst(tmf.getTrustManagers());
  }

  /**
   * The JDK's path builder skips an expired certificate and reports "no path to a trusted CA":
   * checking the peer's own certificate's dates first makes an expired one say so.
   */
  private static TrustManager[] validityFirst(TrustManager[] tms) {
    TrustManager[] out = tms.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i] instanceof X509ExtendedTrustManager) {
        out[i] = new Checked((X509ExtendedTrustManager) out[i]);
      }
    }
    return out;
  }

  /**
   * Checks the leaf certificate's validity dates, then delegates to {@code next}; with no {@code
   * next}, accepts every certificate (what {@code insecure} asks for). The JDK's six entry points
   * all come to {@link #check}.
   */
  private static final class Checked extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager next;

    Checked(X509ExtendedTrustManager next) {
      this.next = next;
    }

    private void check(boolean server, X509Certificate[] chain, String authType, Socket socket,
        SSLEngine engine) throws CertificateException {
      if (next == null) {
        return;
      }
      if (chain != null && chain.length > 0) {
        chain[0].checkValidity();
      }
      if (server && engine != null) {
        next.checkServerTrusted(chain, authType, engine);
      } else if (server && socket != null) {
        next.checkServerTrusted(chain, authType, socket);
      } else if (server) {
        next.checkServerTrusted(chain, authType);
      } else if (engine != null) {
        next.checkClientTrusted(chain, authType, engine);
      } else if (socket != null) {
        next.checkClientTrusted(chain, authType, socket);
      } else {
        next.checkClientTrusted(chain, authType);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(false, chain, authType, socket, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(true, chain, authType, socket, null);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(false, chain, authType, null, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(true, chain, authType, null, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(false, chain, authType, null, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(true, chain, authType, null, null);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return next == null ? new X509Certificate[0] : next.getAcceptedIssuers();
    }
  }
}
