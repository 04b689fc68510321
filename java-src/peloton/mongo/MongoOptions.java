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

  /** The host of a {@code mongodb+srv://} URI, whose SRV records give {@link #hosts}; or null. */
  public String srvHost;
  /** The SRV service name ({@code srvServiceName}): records of {@code _<name>._tcp.<host>}. */
  public String srvServiceName = "mongodb";
  /** At most this many of the SRV hosts, chosen at random ({@code srvMaxHosts}); 0: all. */
  public int srvMaxHosts;
  /**
   * The JNDI DNS provider URL for SRV and TXT lookups, e.g. {@code dns://10.0.0.2:53}; null uses
   * the system's resolvers. With a server given, the SRV targets' addresses are asked of it too.
   */
  public String srvDnsServer;
  /** Addresses of SRV targets from {@link #srvDnsServer}, by host name. */
  final java.util.Map<String, java.net.InetAddress> srvAddresses =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** The options the URI gave, names lower case (they win over TXT records). */
  final java.util.Map<String, String> uriOptions = new java.util.HashMap<>();

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
    MongoOptions o = new MongoOptions();
    o.tlsFromUri(uri);
    boolean srv = uri.startsWith("mongodb+srv://");
    ConnectionString cs = new ConnectionString(srv ? o.srvFromUri(uri) : uri);
    if (!srv && (o.uriOptions.containsKey("srvservicename") || o.uriOptions.containsKey("srvmaxhosts"))) {
      throw new IllegalArgumentException("srvServiceName and srvMaxHosts are for mongodb+srv URIs");
    }
    for (String h : srv ? List.<String>of() : cs.getHosts()) {
      o.hosts.add(h.indexOf(':') < 0 || h.startsWith("[") && h.endsWith("]") ? h + ":27017" : h);
    }
    if (srv && Boolean.TRUE.equals(cs.isDirectConnection())) {
      throw new IllegalArgumentException("mongodb+srv URIs cannot have directConnection=true");
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
    if (o.authSource == null && o.uriOptions.containsKey("authsource")) {
      o.authSource = o.uriOptions.get("authsource"); // given without a user (X509, +srv)
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

  /**
   * Checks a {@code mongodb+srv://} URI (one host, no port), takes its SRV options and answers
   * it as a {@code mongodb://} URI for the driver's parser (which would do DNS itself).
   */
  private String srvFromUri(String uri) {
    String rest = uri.substring("mongodb+srv://".length());
    int end = rest.length();
    for (char c : new char[] {'/', '?'}) {
      int i = rest.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String authority = rest.substring(0, end);
    String h = authority.substring(authority.lastIndexOf('@') + 1);
    if (h.isEmpty() || h.contains(",")) {
      throw new IllegalArgumentException("a mongodb+srv URI names exactly one host: " + h);
    }
    if (h.contains(":")) {
      throw new IllegalArgumentException("a mongodb+srv URI cannot have a port: " + h);
    }
    if (h.split("\\.").length < 3) {
      throw new IllegalArgumentException("a mongodb+srv host needs at least three parts"
          + " (host.domain.tld): " + h);
    }
    srvHost = h;
    if (!uriOptions.containsKey("tls") && !uriOptions.containsKey("ssl")) {
      tls = true; // +srv implies TLS unless the URI turns it off
    }
    // Drop the SRV-only options: the driver's parser refuses them on mongodb://.
    StringBuilder out = new StringBuilder("mongodb://").append(rest, 0, end);
    int q = rest.indexOf('?', end);
    out.append(rest, end, q < 0 ? rest.length() : q);
    if (q >= 0) {
      String sep = "?";
      for (String pair : rest.substring(q + 1).split("[&;]")) {
        int eq = pair.indexOf('=');
        String k = (eq < 0 ? pair : pair.substring(0, eq)).toLowerCase(java.util.Locale.ROOT);
        String v = eq < 0 ? "" : pair.substring(eq + 1);
        if (k.equals("srvservicename")) {
          srvServiceName = v;
        } else if (k.equals("srvmaxhosts")) {
          try {
            srvMaxHosts = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("srvMaxHosts must be a number, not " + v);
          }
        } else if (!pair.isEmpty()) {
          out.append(sep).append(pair);
          sep = "&";
        }
      }
    }
    return out.toString();
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
      uriOptions.put(k, v);
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
