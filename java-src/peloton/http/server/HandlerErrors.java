package peloton.http.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's log of handler failures, throttled: the first failure of each kind (route,
 * exception class and the place it was thrown) is logged in full with its stack trace; repeats
 * are only counted, and each kind's count is logged once per interval. A handler that throws on
 * every request under load then costs one log line per interval instead of a stack trace per
 * request. Thread-safe: handlers fail on reactors and on executors.
 */
final class HandlerErrors {
  private static final Logger log = LoggerFactory.getLogger(HandlerErrors.class);
  /** Kinds remembered at most; past that, new kinds share one counter (a bounded map). */
  static final int MAX_KINDS = 512;
  private static final String OTHER = "(other kinds, past " + MAX_KINDS + ")";

  private static final class Kind {
    final String description;
    final AtomicLong repeats = new AtomicLong();
    final AtomicLong windowStart;
    volatile String lastExample;

    Kind(String description, long now) {
      this.description = description;
      this.windowStart = new AtomicLong(now);
    }
  }

  private final long intervalNanos;
  private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

  HandlerErrors(long intervalMillis) {
    this.intervalNanos = Math.max(1, intervalMillis) * 1_000_000L;
  }

  /** Logs (or counts) a failure of the handler of {@code method target} on {@code route}. */
  void report(String method, String target, String route, Throwable t) {
    long now = System.nanoTime();
    String key = kindOf(route, t);
    Kind k = kinds.get(key);
    if (k == null) {
      if (kinds.size() >= MAX_KINDS) {
        key = OTHER;
        k = kinds.get(OTHER);
      }
      if (k == null) {
        Kind fresh = new Kind(key, now);
        k = kinds.putIfAbsent(key, fresh);
        if (k == null) {
          log.error("handler failed on {} {} (route {}); answered 500. Repeats of this error are "
                  + "counted and logged every {} s", method, target, route == null ? "-" : route,
              intervalNanos / 1_000_000_000L, t);
          return;
        }
      }
    }
    k.repeats.incrementAndGet();
    k.lastExample = method + " " + target + ": " + t;
    summarize(k, now);
  }

  /** Repeats counted but not logged yet, over all kinds. */
  long pendingRepeats() {
    long n = 0;
    for (Kind k : kinds.values()) {
      n += k.repeats.get();
    }
    return n;
  }

  /** Logs the counts of kinds whose interval is over; the server's sweep calls it. */
  void flush() {
    long now = System.nanoTime();
    for (Kind k : kinds.values()) {
      summarize(k, now);
    }
  }

  private void summarize(Kind k, long now) {
    long start = k.windowStart.get();
    if (now - start < intervalNanos || k.repeats.get() == 0
        || !k.windowStart.compareAndSet(start, now)) {
      return;
    }
    long n = k.repeats.getAndSet(0);
    if (n > 0) {
      log.error("handler failed {} more times in the last {} s: {} (last: {})", n,
          (now - start) / 1_000_000_000L, k.description, k.lastExample);
    }
  }

  /** Route, exception class and first stack frame: what makes two failures "the same". */
  private static String kindOf(String route, Throwable t) {
    StackTraceElement[] st = t.getStackTrace();
    StringBuilder sb = new StringBuilder(128);
    sb.append(t.getClass().getName()).append(" at ");
    if (st.length > 0) {
      sb.append(st[0].getClassName()).append('.').append(st[0].getMethodName()).append(':')
          .append(st[0].getLineNumber());
    } else {
      sb.append('?');
    }
    sb.append(" on route ").append(route == null ? "-" : route);
    return sb.toString();
  }
}
