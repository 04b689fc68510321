package peloton.http.client;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.concurrent.CompletableFuture;
import peloton.reactor.Reactor;
import peloton.transport.TlsConfig;

/**
 * The keep-alive connections of a {@link HttpClient} to one scheme, host and port, and the requests
 * waiting for one. Everything here runs on {@link #reactor}'s thread.
 */
final class ClientPool {
  final HttpClient client;
  final String host;
  final int port;
  final Reactor reactor;
  final TlsConfig tls; // null for http://
  private final ArrayDeque<ClientConnection> idle = new ArrayDeque<>();
  private final ArrayDeque<HttpClient.Call> waiters = new ArrayDeque<>();
  private final HashSet<ClientConnection> all = new HashSet<>();
  private InetSocketAddress address;

  ClientPool(HttpClient client, String host, int port, Reactor reactor, TlsConfig tls) {
    this.client = client;
    this.host = host;
    this.port = port;
    this.reactor = reactor;
    this.tls = tls;
  }

  HttpClient.Options options() {
    return client.options;
  }

  /** Gives {@code call} a connection: an idle one, a new one, or a place in the queue. */
  void acquire(HttpClient.Call call) {
    if (call.result.isDone()) return;
    if (client.closed) {
      call.fail(call.error(HttpClientException.Kind.CLOSED, "client closed", null));
      return;
    }
    ClientConnection c = idle.pollLast(); // the most recently used: least likely to be stale
    if (c != null) {
      c.send(call, true);
    } else if (all.size() < options().maxConnectionsPerHost) {
      open(call);
    } else if (waiters.size() < options().maxWaitersPerHost) {
      waiters.add(call);
    } else {
      call.fail(call.error(HttpClientException.Kind.POOL_FULL, "all "
          + options().maxConnectionsPerHost + " connections busy and " + waiters.size()
          + " requests waiting", null));
    }
  }

  private void open(HttpClient.Call call) {
    ClientConnection c = new ClientConnection(this);
    all.add(c);
    c.call = call;
    call.conn = c;
    if (address != null) {
      c.connect(address);
      return;
    }
    // Name lookup blocks: do it off the reactor, once per pool.
    CompletableFuture.supplyAsync(() -> new InetSocketAddress(host, port))
        .whenComplete((a, e) -> reactor.dispatch(() -> {
          if (e != null || a.isUnresolved()) {
            c.fail(c.call == null ? null : c.call.error(HttpClientException.Kind.REFUSED,
                "unknown host " + host, e));
            return;
          }
          address = a;
          c.connect(a);
        }));
  }

  /** A connection finished a response and can serve another request. */
  void release(ClientConnection c) {
    if (client.closed) {
      c.close();
      return;
    }
    HttpClient.Call next;
    while ((next = waiters.poll()) != null) {
      if (!next.result.isDone()) {
        c.send(next, true);
        return;
      }
    }
    idle.addLast(c);
    c.startIdle();
  }

  /** A connection was closed: forget it, and open one for a waiting request if there is one. */
  void gone(ClientConnection c) {
    if (!all.remove(c)) return;
    idle.remove(c);
    HttpClient.Call next;
    while (all.size() < options().maxConnectionsPerHost && (next = waiters.poll()) != null) {
      if (!next.result.isDone()) open(next);
    }
  }

  /** Ends {@code call} with {@code e} wherever it is: waiting, connecting or being answered. */
  void abort(HttpClient.Call call, HttpClientException e) {
    waiters.remove(call);
    ClientConnection c = call.conn;
    if (c != null && c.call == call) {
      c.fail(e);
    }
    call.fail(e);
  }

  void close() {
    HttpClient.Call w;
    while ((w = waiters.poll()) != null) {
      w.fail(w.error(HttpClientException.Kind.CLOSED, "client closed", null));
    }
    for (ClientConnection c : all.toArray(new ClientConnection[0])) {
      HttpClient.Call call = c.call;
      c.fail(call == null ? null : call.error(HttpClientException.Kind.CLOSED, "client closed", null));
    }
  }
}
