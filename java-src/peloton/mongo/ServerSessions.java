package peloton.mongo;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * A client's pool of server sessions (the driver sessions spec, implicit sessions only): a
 * retryable write takes one, sends its {@code lsid} with the session's next {@code txnNumber},
 * and gives it back when the write is over; the server uses the pair to apply a retried write
 * only once. Last in, first out, so that few sessions stay in use on the server. A session with
 * less than a minute left of the server's {@code logicalSessionTimeoutMinutes} is dropped (the
 * server may have forgotten it by the time a command arrives), and so is one whose command met
 * a network error (the server may still be running it).
 */
final class ServerSessions {
  private static final clojure.lang.Keyword ID = clojure.lang.Keyword.intern("id");

  /** One server session: only one operation at a time holds it. */
  static final class Session {
    /** {@code {:id <UUID>}}, sent as the command's {@code lsid}. */
    final Map<?, ?> lsid;
    /** The last transaction number used; each retryable write takes the next one. */
    long txnNumber;
    /** {@link System#nanoTime()} when it was last given back. */
    long lastUse;
    /** Set after a network error: the session is not reused. */
    boolean dirty;

    Session(UUID id) {
      lsid = BsonCodec.command(ID, id);
    }
  }

  private final ConcurrentLinkedDeque<Session> pool = new ConcurrentLinkedDeque<>();

  /** A session that has at least a minute left on a server whose sessions time out after {@code timeoutMinutes}. */
  Session take(long timeoutMinutes) {
    long now = System.nanoTime();
    Session s;
    while ((s = pool.pollFirst()) != null) {
      if (!expiring(s, now, timeoutMinutes)) {
        return s;
      }
    }
    return new Session(UUID.randomUUID());
  }

  /** Gives {@code s} back (a dirty one is dropped), dropping the stale sessions at the old end. */
  void giveBack(Session s, long timeoutMinutes) {
    if (s.dirty) {
      return;
    }
    s.lastUse = System.nanoTime();
    Session oldest;
    while ((oldest = pool.peekLast()) != null && expiring(oldest, s.lastUse, timeoutMinutes)) {
      pool.remove(oldest);
    }
    pool.offerFirst(s);
  }

  /** The number of pooled sessions. */
  int size() {
    return pool.size();
  }

  private static boolean expiring(Session s, long now, long timeoutMinutes) {
    return now - s.lastUse > TimeUnit.MINUTES.toNanos(timeoutMinutes - 1);
  }
}
