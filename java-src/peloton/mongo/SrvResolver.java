package peloton.mongo;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/**
 * {@code mongodb+srv://} per the Initial DNS Seedlist Discovery spec, through the JDK's JNDI DNS
 * provider: the SRV records of {@code _<srvServiceName>._tcp.<host>} give the seed list (every
 * target must lie under the host's parent domain), one TXT record may add {@code authSource},
 * {@code replicaSet} and {@code loadBalanced}. It blocks: call it off any reactor thread.
 */
final class SrvResolver {
  private SrvResolver() {}

  /** The seed hosts ("host:port") and TXT options of {@code o.srvHost}, into {@code o}. */
  static void resolve(MongoOptions o) {
    String host = o.srvHost;
    Hashtable<String, String> env = new Hashtable<>();
    env.put("java.naming.factory.initial", "com.sun.jndi.dns.DnsContextFactory");
    env.put("java.naming.provider.url", o.srvDnsServer == null ? "dns:" : o.srvDnsServer);
    env.put("com.sun.jndi.dns.timeout.initial", "2000");
    env.put("com.sun.jndi.dns.timeout.retries", "2");
    List<String> targets = new ArrayList<>();
    Map<String, String> txt;
    DirContext ctx = null;
    try {
      ctx = new InitialDirContext(env);
      String name = "_" + o.srvServiceName + "._tcp." + host;
      List<String> srvs;
      try {
        srvs = values(ctx, name, "SRV");
      } catch (NamingException e) {
        throw new IllegalArgumentException("mongodb+srv: no SRV records for " + name + " ("
            + e.getMessage() + ")", e);
      }
      for (String rec : srvs) {
        // priority weight port target
        String[] f = rec.trim().split("\\s+");
        if (f.length != 4) {
          throw new IllegalArgumentException("mongodb+srv: malformed SRV record for " + name
              + ": " + rec);
        }
        String target = f[3].endsWith(".") ? f[3].substring(0, f[3].length() - 1) : f[3];
        checkDomain(host, target);
        targets.add(target + ":" + Integer.parseInt(f[2]));
      }
      if (targets.isEmpty()) {
        throw new IllegalArgumentException("mongodb+srv: no SRV records for " + name);
      }
      List<String> txts = values(ctx, host, "TXT");
      if (txts.size() > 1) {
        throw new IllegalArgumentException("mongodb+srv: " + host + " has " + txts.size()
            + " TXT records; at most one is allowed");
      }
      txt = txts.isEmpty() ? Map.of() : txtOptions(host, txts.get(0));
      if (o.srvMaxHosts > 0 && targets.size() > o.srvMaxHosts) {
        Collections.shuffle(targets);
        targets = new ArrayList<>(targets.subList(0, o.srvMaxHosts));
      }
      if (o.srvDnsServer != null) {
        // A private DNS server answers the targets' addresses too (the system resolver may not
        // know them); resolved here, off the reactor.
        for (String t : targets) {
          String h = t.substring(0, t.lastIndexOf(':'));
          List<String> a = values(ctx, h, "A");
          if (a.isEmpty()) {
            throw new IllegalArgumentException("mongodb+srv: no address for " + h);
          }
          o.srvAddresses.put(h, InetAddress.getByAddress(h, InetAddress.getByName(a.get(0).trim())
              .getAddress()));
        }
      }
    } catch (NamingException | UnknownHostException e) {
      throw new IllegalArgumentException("mongodb+srv: DNS lookup for " + host + " failed: " + e, e);
    } finally {
      if (ctx != null) {
        try {
          ctx.close();
        } catch (NamingException e) {
          // nothing held
        }
      }
    }
    o.hosts.clear();
    o.hosts.addAll(targets);
    // URI options win over TXT ones.
    // Atlas's TXT says authSource=admin for every client: it only matters with a user.
    if (txt.containsKey("authsource") && !o.uriOptions.containsKey("authsource") && o.user != null) {
      o.authSource = txt.get("authsource");
    }
    if (txt.containsKey("replicaset") && !o.uriOptions.containsKey("replicaset")) {
      o.replicaSet = txt.get("replicaset");
    }
    if (txt.containsKey("loadbalanced") && !o.uriOptions.containsKey("loadbalanced")
        && txt.get("loadbalanced").equalsIgnoreCase("true")) {
      throw new IllegalArgumentException("mongodb+srv: loadBalanced=true (from TXT) is not"
          + " supported by Peloton");
    }
  }

  private static List<String> values(DirContext ctx, String name, String type)
      throws NamingException {
    List<String> out = new ArrayList<>();
    Attributes attrs;
    try {
      attrs = ctx.getAttributes(name, new String[] {type});
    } catch (javax.naming.NameNotFoundException e) {
      return out;
    }
    Attribute a = attrs.get(type);
    if (a == null) {
      return out;
    }
    NamingEnumeration<?> e = a.getAll();
    while (e.hasMore()) {
      String v = String.valueOf(e.next());
      if (type.equals("TXT") && v.startsWith("\"") && v.endsWith("\"") && v.length() >= 2) {
        v = v.substring(1, v.length() - 1).replace("\" \"", "");
      }
      out.add(v);
    }
    return out;
  }

  /** A target must be under the SRV host's parent domain ({@code a.b.c} -> {@code .b.c}). */
  static void checkDomain(String srvHost, String target) {
    String h = srvHost.toLowerCase(Locale.ROOT);
    String t = target.toLowerCase(Locale.ROOT);
    int dot = h.indexOf('.');
    String parent = h.substring(dot + 1);
    if (!t.endsWith("." + parent)) {
      throw new IllegalArgumentException("mongodb+srv: SRV target " + target
          + " is not under the domain " + parent + " of " + srvHost);
    }
  }

  private static Map<String, String> txtOptions(String host, String txt) {
    Map<String, String> m = new HashMap<>();
    for (String pair : txt.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = (eq < 0 ? pair : pair.substring(0, eq)).toLowerCase(Locale.ROOT);
      if (!k.equals("authsource") && !k.equals("replicaset") && !k.equals("loadbalanced")) {
        throw new IllegalArgumentException("mongodb+srv: the TXT record of " + host
            + " sets " + pair + "; only authSource, replicaSet and loadBalanced are allowed");
      }
      m.put(k, eq < 0 ? "" : pair.substring(eq + 1));
    }
    return m;
  }
}
