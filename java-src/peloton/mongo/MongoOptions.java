package peloton.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoCredential;
import java.util.ArrayList;
import java.util.List;
import peloton.transport.TlsConfig;

/**
 * How a {@link MongoClient} connects: servers, credentials, timeouts and pool limits. Plain mutable
 * fields with chaining setters; build one from a {@code mongodb://} URI with {@link #fromUri}.
 * {@link #toString()} never shows the password.
 */
public final class MongoOptions {
  /** Seed servers as "host:port". */
  public final List<String> hosts = new ArrayList<>();
  /** Database for collection names without a "db." prefix ("test" unless the URI names one). */
  public String database = "test";
  /** User name, or null for no authentication. */
  public String user;
  /** Password (never logged). */
  public String password;
  /** Database holding the user ("admin" by default). */
  public String authSource;
  /** "SCRAM-SHA-256", "SCRAM-SHA-1", or null to choose from the server's saslSupportedMechs. */
  public String authMechanism;
  /** Required replica set name; with it (or several hosts) the client finds the primary. */
  public String replicaSet;
  /** Talk to the one given host whatever its role. */
  public boolean directConnection;
  /** Sent in the handshake's client metadata. */
  public String appName;
  /** Milliseconds to open a connection and finish handshake and authentication (0: no limit). */
  public int connectTimeoutMs = 10_000;
  /** Milliseconds to wait for a reply before the connection is closed (0: no limit). */
  public int socketTimeoutMs = 30_000;
  /** Connections per server. */
  public int maxPoolSize = 10;
  /** Milliseconds to wait for a free connection. */
  public int waitQueueTimeoutMs = 10_000;
  /** Operations allowed to wait for a free connection per server; more fail at once. */
  public int maxWaitQueueSize = 1000;

  /** Write concern document added to every write command (e.g. {@code {:w "majority"}}), or null. */
  public Object writeConcern;

  /** Where reads go unless an operation says otherwise (primary by default). */
  public ReadPreference readPreference = ReadPreference.PRIMARY;

  /** Speak TLS to every server (URI {@code tls=true} or {@code ssl=true}; on for +srv). */
  public boolean tls;
  /** PEM file of CAs trusted besides the JDK's default ones ({@code tlsCAFile}), or null. */
  public String tlsCAFile;
  /**
   * PEM file holding the client certificate and its private key ({@code
   * tlsCertificateKeyFile}), for mutual TLS and MONGODB-X509, or null.
   */
  public String tlsCertificateKeyFile;
  /** Password of an encrypted key in {@link #tlsCertificateKeyFile}, or null. */
  public String tlsCertificateKeyFilePassword;
  /** Accept any server certificate ({@code tlsAllowInvalidCertificates}); unsafe. */
  public boolean tlsAllowInvalidCertificates;
  /** Do not check that the certificate names the host ({@code tlsAllowInvalidHostnames}). */
  public boolean tlsAllowInvalidHostnames;
  /** A ready TLS configuration, used instead of the file options above, or null. */
  public TlsConfig tlsConfig;
  private TlsConfig builtTls;

  /** Options for localhost:27017. */
  public MongoOptions() {}

  /** Options for one server. */
  public static MongoOptions of(String host, int port) {
    MongoOptions o = new MongoOptions();
    o.hosts.add(host + ":" + port);
    return o;
  }

  /**
   * Options from a {@code mongodb://} URI (parsed by the official driver's {@link
   * ConnectionString}): hosts, database, user, password, authSource, authMechanism, replicaSet,
   * directConnection, appName, connectTimeoutMS, socketTimeoutMS, maxPoolSize, waitQueueTimeoutMS,
   * readPreference (without tag sets), and TLS: tls/ssl, tlsCAFile, tlsCertificateKeyFile,
   * tlsCertificateKeyFilePassword, tlsAllowInvalidCertificates, tlsAllowInvalidHostnames,
   * tlsInsecure (the URI options spec's forbidden combinations are errors).
   */
  public static MongoOptions fromUri(String uri) {
    ConnectionString cs = new ConnectionString(uri);
    if (uri.startsWith("mongodb+srv:")) {
      throw new IllegalArgumentException("mongodb+srv URIs are not supported; list the hosts");
    }
    MongoOptions o = new MongoOptions();
    o.tlsFromUri(uri);
    for (String h : cs.getHosts()) {
      o.hosts.add(h.indexOf(':') < 0 || h.startsWith("[") && h.endsWith("]") ? h + ":27017" : h);
    }
    if (cs.getDatabase() != null) {
      o.database = cs.getDatabase();
    }
    MongoCredential c = cs.getCredential();
    if (c != null) {
      o.user = c.getUserName();
      o.password = c.getPassword() == null ? null : new String(c.getPassword());
      o.authSource = c.getSource();
      o.authMechanism = c.getMechanism();
    }
    o.replicaSet = cs.getRequiredReplicaSetName();
    o.directConnection = Boolean.TRUE.equals(cs.isDirectConnection());
    o.appName = cs.getApplicationName();
    if (cs.getConnectTimeout() != null) {
      o.connectTimeoutMs = cs.getConnectTimeout();
    }
    if (cs.getSocketTimeout() != null) {
      o.socketTimeoutMs = cs.getSocketTimeout();
    }
    if (cs.getMaxConnectionPoolSize() != null) {
      o.maxPoolSize = cs.getMaxConnectionPoolSize();
    }
    if (cs.getMaxWaitTime() != null) {
      o.waitQueueTimeoutMs = cs.getMaxWaitTime();
    }
    com.mongodb.ReadPreference rp = cs.getReadPreference();
    if (rp != null) {
      if (rp instanceof com.mongodb.TaggableReadPreference
          && !((com.mongodb.TaggableReadPreference) rp).getTagSetList().isEmpty()) {
        throw new IllegalArgumentException("read preference tag sets are not supported");
      }
      o.readPreference = ReadPreference.parse(rp.getName());
    }
    return o;
  }

  /** Sets the credentials; the source defaults to "admin". */
  public MongoOptions credentials(String user, String password, String authSource) {
    this.user = user;
    this.password = password;
    this.authSource = authSource;
    return this;
  }

  /** Sets the connect and socket timeouts in milliseconds. */
  public MongoOptions timeouts(int connectMs, int socketMs) {
    this.connectTimeoutMs = connectMs;
    this.socketTimeoutMs = socketMs;
    return this;
  }

  /** Sets the pool size, the wait queue bound and the wait timeout. */
  public MongoOptions pool(int maxSize, int maxWaitQueue, int waitTimeoutMs) {
    this.maxPoolSize = maxSize;
    this.maxWaitQueueSize = maxWaitQueue;
    this.waitQueueTimeoutMs = waitTimeoutMs;
    return this;
  }

  /** Sets the required replica set name. */
  public MongoOptions replicaSet(String name) {
    this.replicaSet = name;
    return this;
  }

  /** Sets the default read preference. */
  public MongoOptions readPreference(ReadPreference p) {
    this.readPreference = p == null ? ReadPreference.PRIMARY : p;
    return this;
  }

  /** Sets the TLS options of the URI; the spec's forbidden combinations are errors. */
  private void tlsFromUri(String uri) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return;
    }
    java.util.Map<String, String> m = new java.util.HashMap<>();
    for (String pair : uri.substring(q + 1).split("[&;]")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String k = pair.substring(0, eq).toLowerCase(java.util.Locale.ROOT);
      String v = java.net.URLDecoder.decode(pair.substring(eq + 1),
          java.nio.charset.StandardCharsets.UTF_8);
      if (m.containsKey(k) && !m.get(k).equals(v)) {
        throw new IllegalArgumentException("URI option " + pair.substring(0, eq)
            + " given twice with different values");
      }
      m.put(k, v);
    }
    String tlsV = m.get("tls");
    String sslV = m.get("ssl");
    if (tlsV != null && sslV != null && !tlsV.equalsIgnoreCase(sslV)) {
      throw new IllegalArgumentException("URI options tls=" + tlsV + " and ssl=" + sslV
          + " disagree");
    }
    if (tlsV != null || sslV != null) {
      tls = bool("tls", tlsV != null ? tlsV : sslV);
    }
    boolean insecure = m.containsKey("tlsinsecure") && bool("tlsInsecure", m.get("tlsinsecure"));
    if (m.containsKey("tlsinsecure")) {
      for (String other : new String[] {"tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames",
          "tlsDisableOCSPEndpointCheck", "tlsDisableCertificateRevocationCheck"}) {
        if (m.containsKey(other.toLowerCase(java.util.Locale.ROOT))) {
          throw new IllegalArgumentException("URI options tlsInsecure and " + other
              + " cannot be given together");
        }
      }
    }
    if (m.containsKey("tlsallowinvalidcertificates")) {
      for (String other : new String[] {"tlsDisableOCSPEndpointCheck",
          "tlsDisableCertificateRevocationCheck"}) {
        if (m.containsKey(other.toLowerCase(java.util.Locale.ROOT))) {
          throw new IllegalArgumentException("URI options tlsAllowInvalidCertificates and "
              + other + " cannot be given together");
        }
      }
    }
    tlsCAFile = m.getOrDefault("tlscafile", tlsCAFile);
    tlsCertificateKeyFile = m.getOrDefault("tlscertificatekeyfile", tlsCertificateKeyFile);
    tlsCertificateKeyFilePassword = m.getOrDefault("tlscertificatekeyfilepassword",
        tlsCertificateKeyFilePassword);
    tlsAllowInvalidCertificates = insecure || m.containsKey("tlsallowinvalidcertificates")
        && bool("tlsAllowInvalidCertificates", m.get("tlsallowinvalidcertificates"));
    tlsAllowInvalidHostnames = insecure || m.containsKey("tlsallowinvalidhostnames")
        && bool("tlsAllowInvalidHostnames", m.get("tlsallowinvalidhostnames"));
    if (m.containsKey("tlsdisableocspendpointcheck")
        || m.containsKey("tlsdisablecertificaterevocationcheck")) {
      throw new IllegalArgumentException("URI options tlsDisableOCSPEndpointCheck and "
          + "tlsDisableCertificateRevocationCheck are not supported (Peloton does no OCSP)");
    }
  }

  private static boolean bool(String name, String v) {
    if (v.equalsIgnoreCase("true")) {
      return true;
    }
    if (v.equalsIgnoreCase("false")) {
      return false;
    }
    throw new IllegalArgumentException("URI option " + name + " must be true or false, not " + v);
  }

  /**
   * The TLS configuration to connect with, or null without TLS. TLS options given while TLS is
   * off are an error: they would otherwise be silently ignored, with traffic in clear.
   */
  public synchronized TlsConfig tlsConfig() {
    boolean anyTlsOption = tlsCAFile != null || tlsCertificateKeyFile != null
        || tlsCertificateKeyFilePassword != null || tlsAllowInvalidCertificates
        || tlsAllowInvalidHostnames || tlsConfig != null;
    if (!tls) {
      if (anyTlsOption) {
        throw new IllegalArgumentException("TLS options are set but TLS is off: add tls=true"
            + " to the URI (or set tls) to use them");
      }
      return null;
    }
    if (tlsConfig != null) {
      return tlsConfig;
    }
    if (builtTls == null) {
      TlsConfig.ClientOptions c = new TlsConfig.ClientOptions();
      c.caCert = tlsCAFile;
      c.clientCert = tlsCertificateKeyFile;
      c.clientKey = tlsCertificateKeyFile;
      c.clientKeyPassword = tlsCertificateKeyFilePassword;
      c.verifyCertificates = !tlsAllowInvalidCertificates;
      c.verifyHostname = !tlsAllowInvalidHostnames;
      try {
        builtTls = TlsConfig.client(c);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }
    return builtTls;
  }

  String authDatabase() {
    return authSource != null ? authSource : "admin";
  }

  @Override
  public String toString() {
    return "MongoOptions{hosts=" + hosts + ", database=" + database + ", user=" + user
        + (password != null ? ", password=***" : "") + ", replicaSet=" + replicaSet
        + ", maxPoolSize=" + maxPoolSize + (tls ? ", tls" : "") + "}";
  }
}
