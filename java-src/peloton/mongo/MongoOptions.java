package peloton.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoCredential;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import peloton.transport.TlsConfig;

/**
 * How a {@link MongoClient} connects: servers, credentials, timeouts and pool limits. Plain mutable
 * fields with chaining setters; build one from a {@code mongodb://} URI with {@link #fromUri}.
 * {@link #toString()} never shows the password.
 */
public final class MongoOptions {
  private static final Logger log = LoggerFactory.getLogger(MongoOptions.class);

  /** Seed servers as "host:port", or the path of a unix domain socket (starting with "/"). */
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
  /** Connections per server; 0 means no limit (as in the URI spec). */
  public int maxPoolSize = 10;
  /** Milliseconds to wait for a free connection. */
  public int waitQueueTimeoutMs = 10_000;
  /**
   * Operations allowed to wait for a free connection per server; more fail at once. No limit by
   * default (as the official drivers), so an application that fans out just waits its turn.
   */
  public int maxWaitQueueSize = Integer.MAX_VALUE;

  /** Write concern document added to every write command (e.g. {@code {:w "majority"}}), or null. */
  public Object writeConcern;

  /** Read concern document added to every read command (e.g. {@code {:level "majority"}}), or null. */
  public Object readConcern;

  /**
   * Retry a read once, on another connection (and server, if the first went away), after a
   * network error or a retryable server error (the retryable reads spec; default true).
   */
  public boolean retryReads = true;

  /**
   * Retryable writes (the URI's retryWrites, default true). Per the retryable writes spec they
   * apply only where the server supports them (a replica set or mongos with sessions): a
   * single-document write carries an {@code lsid} and a {@code txnNumber} and is sent once more,
   * with the same two, after a network or retryable error. On a standalone server, with {@code
   * w: 0} and for multi-document updates and deletes nothing is retried.
   */
  public boolean retryWrites = true;

  /** Milliseconds of round trip within the fastest server that a read may also go to (15). */
  public int localThresholdMs = 15;

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

  /**
   * Options for one server, every other option at its default.
   *
   * @param host the server's name or IP address
   * @param port the server's port, usually 27017
   * @return new options
   */
  public static MongoOptions of(String host, int port) {
    MongoOptions o = new MongoOptions();
    o.hosts.add(host + ":" + port);
    return o;
  }

  /** URI options (lower-cased) Peloton applies. */
  private static final Set<String> APPLIED = Set.of("appname", "authsource", "authmechanism",
      "authmechanismproperties", "connecttimeoutms", "sockettimeoutms", "maxpoolsize", "waitqueuetimeoutms",
      "replicaset", "directconnection", "readpreference", "readpreferencetags", "maxstalenessseconds", "w",
      "journal", "wtimeoutms", "readconcernlevel", "retrywrites", "retryreads", "tls", "ssl", "loadbalanced",
      "compressors", "localthresholdms", "uuidrepresentation", "minpoolsize", "tlscafile",
      "tlscertificatekeyfile", "tlscertificatekeyfilepassword", "tlsallowinvalidcertificates",
      "tlsallowinvalidhostnames", "tlsinsecure", "srvservicename", "srvmaxhosts");
  /** URI options of the spec that Peloton cannot honour: refused with an error naming them. */
  private static final Set<String> REFUSED = Set.of("maxidletimems", "maxconnecting", "heartbeatfrequencyms",
      "serverselectiontimeoutms", "serverselectiontryonce", "timeoutms",
      "tlsdisableocspendpointcheck",
      "tlsdisablecertificaterevocationcheck", "zlibcompressionlevel", "proxyhost", "proxyport",
      "proxyusername", "proxypassword", "gssapiservicename", "waitqueuemultiple", "safe", "wtimeout",
      "sslinvalidhostnameallowed", "sslverifycertificate", "slaveok");

  /**
   * Options from a {@code mongodb://} URI. Every option is applied or refused, never silently
   * dropped: hosts (a percent-encoded path such as {@code %2Ftmp%2Fmongodb-27017.sock} is a unix
   * domain socket), database, user, password, authSource, authMechanism (SCRAM-SHA-256 or
   * SCRAM-SHA-1; others are refused here, at connect), replicaSet, directConnection, appName,
   * connectTimeoutMS, socketTimeoutMS, maxPoolSize (0: no limit), waitQueueTimeoutMS,
   * readPreference, an empty readPreferenceTags, maxStalenessSeconds=-1, w/journal/wtimeoutMS
   * (the write concern), readConcernLevel, retryReads, retryWrites, localThresholdMS, tls (or
   * ssl), tlsCAFile, tlsCertificateKeyFile, tlsCertificateKeyFilePassword,
   * tlsAllowInvalidCertificates, tlsAllowInvalidHostnames, tlsInsecure, srvServiceName,
   * srvMaxHosts, loadBalanced=false, minPoolSize=0, uuidRepresentation=standard. A {@code
   * mongodb+srv://} URI turns TLS on; its SRV and TXT records are looked up at connect. An invalid
   * value of a timeout, size or boolean is logged as a warning and ignored, as the URI options
   * spec says; an option Peloton cannot honour (compression, tag sets, a staleness bound, load
   * balancing, AWS, OIDC, GSSAPI, PLAIN ...) or does not know is an {@link
   * IllegalArgumentException} naming it.
   *
   * @param uri a {@code mongodb://} or {@code mongodb+srv://} connection string
   * @return the options it gives
   * @throws IllegalArgumentException when the URI is malformed or has an option Peloton refuses
   */
  public static MongoOptions fromUri(String uri) {
    MongoOptions o = new MongoOptions();
    o.tlsFromUri(uri);
    boolean srv = uri.startsWith("mongodb+srv://");
    if (srv) {
      uri = o.srvFromUri(uri); // checked, SRV options taken, as mongodb:// for the parser
    }
    int q = uri.indexOf('?');
    Map<String, String[]> query = parseQuery(q < 0 ? "" : uri.substring(q + 1));
    String base = q < 0 ? uri : uri.substring(0, q);
    String mech = value(query, "authmechanism");
    if (mech != null) {
      checkMechanism(mech);
    }
    ConnectionString cs = new ConnectionString(base);
    for (String h : srv ? List.<String>of() : cs.getHosts()) {
      o.hosts.add(h.startsWith("/") || h.indexOf(':') >= 0 && !(h.startsWith("[") && h.endsWith("]")) ? h : h + ":27017");
    }
    if (cs.getDatabase() != null) {
      o.database = cs.getDatabase();
    }
    MongoCredential c = cs.getCredential();
    if (c != null) {
      o.user = c.getUserName();
      o.password = c.getPassword() == null ? null : new String(c.getPassword());
    }
    for (Map.Entry<String, String[]> e : query.entrySet()) {
      o.applyUriOption(e.getKey(), e.getValue()[0], e.getValue()[1]);
    }
    if (o.authSource == null && o.user != null && cs.getDatabase() != null) {
      o.authSource = cs.getDatabase(); // the auth spec: the URI's database, else admin
    }
    if (srv && o.directConnection) {
      throw new IllegalArgumentException("mongodb+srv URIs cannot have directConnection=true");
    }
    o.checkAuth();
    if (o.writeConcern instanceof Map && Long.valueOf(0).equals(((Map<?, ?>) o.writeConcern).get(MongoClient.k("w")))
        && Boolean.TRUE.equals(((Map<?, ?>) o.writeConcern).get(MongoClient.k("j")))) {
      throw new IllegalArgumentException("w=0 with journal=true asks for no acknowledgement and a journaled one");
    }
    return o;
  }

  /** The query's options by lower-cased name: {original name, value}; a repeated one keeps the last. */
  private static Map<String, String[]> parseQuery(String query) {
    Map<String, String[]> m = new LinkedHashMap<>();
    for (String part : query.split("[&;]")) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("URI option " + part + " has no value (name=value)");
      }
      String name = URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8);
      String value = URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
      String key = name.toLowerCase(Locale.ROOT);
      if (key.equals("readpreferencetags") && m.containsKey(key)) {
        value = m.get(key)[1] + "|" + value; // tag sets are a list
      }
      m.put(key, new String[] {name, value});
    }
    return m;
  }

  private static String value(Map<String, String[]> query, String key) {
    String[] v = query.get(key);
    return v == null ? null : v[1];
  }

  private static void checkMechanism(String mech) {
    if (!mech.equals("SCRAM-SHA-256") && !mech.equals("SCRAM-SHA-1") && !mech.equals("MONGODB-X509")) {
      throw new IllegalArgumentException("authMechanism=" + mech + " is not supported: Peloton authenticates"
          + " with SCRAM-SHA-256, SCRAM-SHA-1 or MONGODB-X509 only (MONGODB-AWS, MONGODB-OIDC, GSSAPI, PLAIN"
          + " and MONGODB-CR are not implemented)");
    }
  }

  /**
   * Checks what authentication needs (a user and password for SCRAM, a mechanism Peloton has), so
   * a mistake fails at connect, not at the first operation; throws IllegalArgumentException.
   */
  public void checkAuth() {
    if ("MONGODB-X509".equals(authMechanism)) {
      // The user comes from the client certificate (the name is optional); no password.
      if (password != null) {
        throw new IllegalArgumentException("authMechanism=MONGODB-X509 takes no password");
      }
      return;
    }
    if (authMechanism != null) {
      checkMechanism(authMechanism);
      if (user == null) {
        throw new IllegalArgumentException("authMechanism=" + authMechanism + " needs a user name");
      }
    }
    if (user != null && password == null) {
      throw new IllegalArgumentException("user " + user + " has no password: SCRAM needs one");
    }
    if (user == null && password != null) {
      throw new IllegalArgumentException("a password without a user name");
    }
    if (authSource != null && user == null) {
      throw new IllegalArgumentException("authSource=" + authSource + " without a user name");
    }
  }

  private void applyUriOption(String key, String name, String v) {
    switch (key) {
      case "appname": appName = v; return;
      case "authsource": authSource = v; return;
      case "authmechanism": authMechanism = v; return;
      case "authmechanismproperties":
        if (!v.isEmpty()) {
          throw new IllegalArgumentException(name + "=" + v + " is not supported: SCRAM takes no mechanism"
              + " properties, and the mechanisms that do (GSSAPI, MONGODB-AWS, MONGODB-OIDC) are not implemented");
        }
        return;
      case "connecttimeoutms": connectTimeoutMs = nonNegative(name, v, connectTimeoutMs); return;
      case "sockettimeoutms": socketTimeoutMs = nonNegative(name, v, socketTimeoutMs); return;
      case "waitqueuetimeoutms": waitQueueTimeoutMs = nonNegative(name, v, waitQueueTimeoutMs); return;
      case "localthresholdms": localThresholdMs = nonNegative(name, v, localThresholdMs); return;
      case "maxpoolsize": maxPoolSize = nonNegative(name, v, maxPoolSize); return;
      case "minpoolsize":
        if (nonNegative(name, v, 0) != 0) {
          throw new IllegalArgumentException(name + "=" + v + " is not supported: Peloton opens connections"
              + " as operations need them and keeps no minimum");
        }
        return;
      case "replicaset": replicaSet = v; return;
      case "directconnection": directConnection = bool(name, v, directConnection); return;
      case "retryreads": retryReads = bool(name, v, retryReads); return;
      case "retrywrites": retryWrites = bool(name, v, retryWrites); return;
      case "readpreference": readPreference = ReadPreference.parse(v); return;
      case "readpreferencetags":
        for (String set : v.split("\\|", -1)) {
          if (!set.isEmpty()) {
            throw new IllegalArgumentException(name + "=" + v + " is not supported: Peloton selects servers"
                + " by mode only, not by tag sets");
          }
        }
        return;
      case "maxstalenessseconds":
        if (!v.equals("-1")) {
          throw new IllegalArgumentException(name + "=" + v + " is not supported: Peloton does not measure"
              + " staleness (only -1, no bound, is accepted)");
        }
        return;
      case "w": {
        Object w;
        try {
          w = Long.valueOf(v);
        } catch (NumberFormatException tag) {
          w = v;
        }
        if (w instanceof Long && (Long) w < 0) {
          log.warn("URI option {}={} is invalid (a negative w): ignored", name, v);
          return;
        }
        writeConcern = withEntry(writeConcern, "w", w);
        return;
      }
      case "journal": {
        Boolean j = parseBool(name, v);
        if (j != null) {
          writeConcern = withEntry(writeConcern, "j", j);
        }
        return;
      }
      case "wtimeoutms": {
        int t = nonNegative(name, v, -1);
        if (t >= 0) {
          writeConcern = withEntry(writeConcern, "wtimeout", (long) t);
        }
        return;
      }
      case "readconcernlevel":
        readConcern = BsonCodec.command(MongoClient.k("level"), v);
        return;
      case "tls":
      case "ssl":
      case "tlscafile":
      case "tlscertificatekeyfile":
      case "tlscertificatekeyfilepassword":
      case "tlsallowinvalidcertificates":
      case "tlsallowinvalidhostnames":
      case "tlsinsecure":
        return; // applied, and their combinations checked, by tlsFromUri
      case "srvservicename":
      case "srvmaxhosts":
        throw new IllegalArgumentException(name + " is for mongodb+srv URIs only");
      case "loadbalanced":
        if (Boolean.TRUE.equals(parseBool(name, v))) {
          throw new IllegalArgumentException(name + "=true is not supported: Peloton does not speak the"
              + " load-balanced protocol (serviceId pinning)");
        }
        return;
      case "compressors":
        if (!v.isEmpty()) {
          throw new IllegalArgumentException(name + "=" + v + " is not supported: Peloton sends and reads"
              + " OP_MSG uncompressed; remove the option");
        }
        return;
      case "uuidrepresentation":
        if (!v.equalsIgnoreCase("standard")) {
          throw new IllegalArgumentException(name + "=" + v + " is not supported: Peloton writes UUIDs as"
              + " binary subtype 4 (standard) only");
        }
        return;
      default:
        if (REFUSED.contains(key)) {
          throw new IllegalArgumentException("URI option " + name + " is not supported by Peloton");
        }
        String near = closest(key);
        throw new IllegalArgumentException("unknown URI option " + name
            + (near == null ? "" : " (did you mean " + near + "?)"));
    }
  }

  private static final String[] SPELLED = {"appName", "authSource", "authMechanism", "authMechanismProperties",
      "connectTimeoutMS", "socketTimeoutMS", "maxPoolSize", "waitQueueTimeoutMS", "replicaSet",
      "directConnection", "readPreference", "readPreferenceTags", "maxStalenessSeconds", "w", "journal",
      "wtimeoutMS", "readConcernLevel", "retryWrites", "retryReads", "tls", "ssl", "loadBalanced",
      "compressors", "localThresholdMS", "uuidRepresentation", "minPoolSize", "tlsCAFile", "tlsCertificateKeyFile",
      "tlsCertificateKeyFilePassword", "tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames",
      "tlsInsecure", "srvServiceName", "srvMaxHosts"};

  /** The known option nearest to {@code key} by edit distance, or null when none is close. */
  private static String closest(String key) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String k : SPELLED) {
      int d = distance(key, k.toLowerCase(Locale.ROOT));
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return bestD <= 2 + key.length() / 3 ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static Object withEntry(Object doc, String key, Object value) {
    Map<Object, Object> m = new LinkedHashMap<>();
    if (doc instanceof Map) {
      m.putAll((Map<?, ?>) doc);
    }
    m.put(MongoClient.k(key), value);
    return OrderedMap.from(m);
  }

  /** A non-negative integer; an invalid or negative one is a warning and {@code dflt} (the spec's rule). */
  private static int nonNegative(String name, String v, int dflt) {
    try {
      int n = Integer.parseInt(v);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // warned below
    }
    log.warn("URI option {}={} is invalid (a non-negative integer is expected): ignored", name, v);
    return dflt;
  }

  private static Boolean parseBool(String name, String v) {
    if (v.equals("true")) {
      return Boolean.TRUE;
    }
    if (v.equals("false")) {
      return Boolean.FALSE;
    }
    log.warn("URI option {}={} is invalid (true or false is expected): ignored", name, v);
    return null;
  }

  private static boolean bool(String name, String v, boolean dflt) {
    Boolean b = parseBool(name, v);
    return b == null ? dflt : b;
  }

  /**
   * Sets the credentials; the source defaults to "admin".
   *
   * @param user the user's name
   * @param password the user's password in clear (never logged)
   * @param authSource the database the user is defined in, or null for {@code "admin"}
   * @return these options
   */
  public MongoOptions credentials(String user, String password, String authSource) {
    this.user = user;
    this.password = password;
    this.authSource = authSource;
    return this;
  }

  /**
   * Sets the connect and socket timeouts in milliseconds.
   *
   * @param connectMs milliseconds to open a connection, handshake and authenticate included (0: no limit)
   * @param socketMs milliseconds to wait for a reply before the connection is closed (0: no limit)
   * @return these options
   */
  public MongoOptions timeouts(int connectMs, int socketMs) {
    this.connectTimeoutMs = connectMs;
    this.socketTimeoutMs = socketMs;
    return this;
  }

  /**
   * Sets the pool size, the wait queue bound and the wait timeout.
   *
   * @param maxSize the most connections per server, 0 for no limit
   * @param maxWaitQueue the most operations waiting for a connection per server; one more fails at once
   * @param waitTimeoutMs milliseconds an operation waits for a connection before it fails
   * @return these options
   */
  public MongoOptions pool(int maxSize, int maxWaitQueue, int waitTimeoutMs) {
    this.maxPoolSize = maxSize;
    this.maxWaitQueueSize = maxWaitQueue;
    this.waitQueueTimeoutMs = waitTimeoutMs;
    return this;
  }

  /**
   * Sets the required replica set name.
   *
   * @param name the replica set's name; servers of another set are not used
   * @return these options
   */
  public MongoOptions replicaSet(String name) {
    this.replicaSet = name;
    return this;
  }

  /**
   * Sets the default read preference.
   *
   * @param p where reads go unless an operation says otherwise; null for the primary
   * @return these options
   */
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
      tls = tlsBool("tls", tlsV != null ? tlsV : sslV);
    }
    boolean insecure = m.containsKey("tlsinsecure") && tlsBool("tlsInsecure", m.get("tlsinsecure"));
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
        && tlsBool("tlsAllowInvalidCertificates", m.get("tlsallowinvalidcertificates"));
    tlsAllowInvalidHostnames = insecure || m.containsKey("tlsallowinvalidhostnames")
        && tlsBool("tlsAllowInvalidHostnames", m.get("tlsallowinvalidhostnames"));
    if (m.containsKey("tlsdisableocspendpointcheck")
        || m.containsKey("tlsdisablecertificaterevocationcheck")) {
      throw new IllegalArgumentException("URI options tlsDisableOCSPEndpointCheck and "
          + "tlsDisableCertificateRevocationCheck are not supported (Peloton does no OCSP)");
    }
  }

  private static boolean tlsBool(String name, String v) {
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
   *
   * @return the configuration made from the TLS options (once, then kept), or null
   * @throws IllegalArgumentException when a TLS option is set while TLS is off, or a TLS file
   *     cannot be read
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
        + ", maxPoolSize=" + (maxPoolSize == 0 ? "unlimited" : String.valueOf(maxPoolSize))
        + (tls ? ", tls" : "") + "}";
  }
}
