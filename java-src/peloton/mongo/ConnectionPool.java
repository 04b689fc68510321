package peloton.mongo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import peloton.fut.Fut;
import peloton.reactor.Reactor;

/**
 * The connections to one server: at most {@code maxPoolSize} (0: no limit). Each connection lives
 * on one reactor. {@link #acquire()} called on a reactor thread prefers a connection of that
 * reactor (an idle one, else a new one opened there while under the limit), so the reply's
 * callbacks run on the thread that asked, with no hop (an HTTP handler's exchange stays on its
 * reactor); called from another thread it opens connections round robin over the client's
 * reactors. Otherwise it takes any idle connection, else the next one released, waiting at most {@code waitQueueTimeoutMs}, with at
 * most {@code maxWaitQueueSize} waiting: one timer for the whole queue, not one per waiter);
 * {@link #release} gives it back. {@link #clear()} retires
 * every connection made so far (after a network error: they probably share its fate). One short
 * lock guards the state; futs are completed outside it.
 */
public final class ConnectionPool {
  private final String address;
  private final MongoOptions options;
  private final Reactor[] reactors;
  private final AtomicInteger nextReactor = new AtomicInteger();
  private final ArrayDeque<MongoConnection> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int total;
  private long generation;
  private boolean closed;

  /** The waiters' deadlines: one timeout for all, so the queue is in deadline order. */
  private static final class Waiter {
    final Fut fut = new Fut();
    final long deadline;

    Waiter(long deadline) {
      this.deadline = deadline;
    }
  }

  /** True while a {@link #sweep} is scheduled; one timer serves every waiter. */
  private boolean sweepScheduled;

  ConnectionPool(String address, MongoOptions options, Reactor[] reactors) {
    this.address = address;
    this.options = options;
    this.reactors = reactors;
  }

  /**
   * The server this pool connects to.
   *
   * @return its "host:port"
   */
  public String address() {
    return address;
  }

  /**
   * A fut of a connection to use for one request and then {@link #release}.
   *
   * @return a fut of an idle or new connection; it fails with a {@link MongoConnectionException} when
   *     the pool is closed, its wait queue is full, the wait timed out or no connection could be opened
   */
  public Fut<MongoConnection> acquire() {
    Waiter w = null;
    Reactor opener = null;
    boolean scheduleSweep = false;
    synchronized (this) {
      if (closed) {
        return Fut.failed(new MongoConnectionException(address, "client is closed"));
      }
      Reactor here = Reactor.current();
      MongoConnection any = null;
      for (java.util.Iterator<MongoConnection> it = idle.descendingIterator(); it.hasNext();) {
        MongoConnection c = it.next();
        if (!c.isOpen() || c.generation != generation) {
          it.remove();
          c.close(); // only queues the close on its reactor
        } else if (here == null || c.reactor() == here) {
          it.remove();
          return Fut.of(c);
        } else if (any == null) {
          any = c;
        }
      }
      if (total < limit()) {
        total++;
        opener = here;
      } else if (any != null) {
        idle.remove(any);
        return Fut.of(any);
      } else if (waiters.size() < options.maxWaitQueueSize) {
        w = new Waiter(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.waitQueueTimeoutMs));
        waiters.add(w);
        scheduleSweep = !sweepScheduled;
        sweepScheduled = true;
      } else {
        return Fut.failed(new MongoConnectionException(address,
            "too many operations waiting for a connection (" + options.maxWaitQueueSize + ")"));
      }
    }
    if (w == null) {
      return openNew(opener);
    }
    if (scheduleSweep) {
      reactors[0].schedule(options.waitQueueTimeoutMs, TimeUnit.MILLISECONDS, this::sweep);
    }
    return w.fut;
  }

  /** Fails the waiters whose time is up, and comes back at the next deadline while any wait. */
  private void sweep() {
    List<Waiter> expired = new ArrayList<>();
    long now = System.nanoTime();
    long next = -1;
    synchronized (this) {
      Waiter w;
      while ((w = waiters.peek()) != null && w.deadline - now <= 0) {
        expired.add(waiters.poll());
      }
      if (w != null) {
        next = w.deadline - now;
      } else {
        sweepScheduled = false;
      }
    }
    if (next >= 0) {
      reactors[0].schedule(next, TimeUnit.NANOSECONDS, this::sweep);
    }
    for (Waiter x : expired) {
      x.fut.fail(new MongoConnectionException(address,
          "no connection free within " + options.waitQueueTimeoutMs + " ms"));
    }
  }

  /** The most connections: maxPoolSize, where 0 means no limit. */
  private int limit() {
    return options.maxPoolSize == 0 ? Integer.MAX_VALUE : options.maxPoolSize;
  }

  /** Opens a connection already counted in {@code total}, on {@code on} (null: the next of the client's). */
  private Fut openNew(Reactor on) {
    long gen;
    synchronized (this) {
      gen = generation;
    }
    Reactor r = on != null ? on : reactors[Math.floorMod(nextReactor.getAndIncrement(), reactors.length)];
    MongoConnection[] self = new MongoConnection[1];
    Fut f = MongoConnection.open(r, address, options, gen, () -> onClosed(self[0]));
    Fut result = new Fut();
    f.onComplete((c, e) -> {
      if (e != null) {
        // The server cannot be reached: those waiting would fail the same way.
        failWaiters(e);
        result.fail(e);
      } else {
        self[0] = (MongoConnection) c;
        result.deliver(c);
      }
    });
    return result;
  }

  private void failWaiters(Throwable e) {
    List<Waiter> ws;
    synchronized (this) {
      ws = new ArrayList<>(waiters);
      waiters.clear();
    }
    for (Waiter w : ws) {
      w.fut.fail(e);
    }
  }

  private void onClosed(MongoConnection c) {
    boolean openForWaiter = false;
    synchronized (this) {
      total--;
      if (c != null) {
        idle.remove(c);
      }
      if (!closed && !waiters.isEmpty() && total < limit()) {
        total++;
        openForWaiter = true;
      }
    }
    if (openForWaiter) {
      openNew(null).onComplete((v, e) -> {
        if (e == null) {
          release((MongoConnection) v);
        }
      });
    }
  }

  /**
   * Gives back a connection got from {@link #acquire()}.
   *
   * @param c the connection; a closed one is dropped, an open one serves the next waiter or waits idle
   */
  public void release(MongoConnection c) {
    Waiter w;
    synchronized (this) {
      if (!c.isOpen()) {
        return;
      }
      if (closed || c.generation != generation) {
        c.close();
        return;
      }
      w = waiters.poll();
      if (w == null) {
        idle.add(c);
        return;
      }
    }
    w.fut.deliver(c);
  }

  /** Retires every connection made so far: idle ones close now, busy ones when released. */
  public void clear() {
    List<MongoConnection> old;
    synchronized (this) {
      generation++;
      old = new ArrayList<>(idle);
      idle.clear();
    }
    for (MongoConnection c : old) {
      c.close();
    }
  }

  /** Closes the pool: idle connections now, busy ones when released; waiters fail. */
  public void close() {
    synchronized (this) {
      closed = true;
    }
    clear();
    failWaiters(new MongoConnectionException(address, "client is closed"));
  }

  Reactor anyReactor() {
    return reactors[0];
  }

  /**
   * How many connections are open or opening.
   *
   * @return the count, in use and idle
   */
  public synchronized int size() {
    return total;
  }

  /**
   * How many operations wait for a connection.
   *
   * @return the length of the wait queue
   */
  public synchronized int waiting() {
    return waiters.size();
  }
}
