package peloton.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoCredential;
import java.util.ArrayList;
import java.util.List;

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
   * readPreference (without tag sets).
   */
  public static MongoOptions fromUri(String uri) {
    ConnectionString cs = new ConnectionString(uri);
    if (uri.startsWith("mongodb+srv:")) {
      throw new IllegalArgumentException("mongodb+srv URIs are not supported; list the hosts");
    }
    MongoOptions o = new MongoOptions();
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

  String authDatabase() {
    return authSource != null ? authSource : "admin";
  }

  @Override
  public String toString() {
    return "MongoOptions{hosts=" + hosts + ", database=" + database + ", user=" + user
        + (password != null ? ", password=***" : "") + ", replicaSet=" + replicaSet
        + ", maxPoolSize=" + maxPoolSize + "}";
  }
}
