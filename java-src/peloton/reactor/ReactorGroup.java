package peloton.reactor;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of {@link Reactor}s, one per core by default, each on its own thread. Servers give
 * each reactor its own listening socket; clients spread connections with {@link #next()}.
 */
public final class ReactorGroup {
  private final Reactor[] reactors;
  private final AtomicInteger nextIndex = new AtomicInteger();

  /** One reactor per available processor. */
  public ReactorGroup() {
    this(defaultSize(), "peloton-reactor");
  }

  /**
   * {@code n} reactors whose threads are named {@code namePrefix-0} ...
   *
   * @param n how many reactors
   * @param namePrefix the start of their names (and their threads')
   */
  public ReactorGroup(int n, String namePrefix) {
    if (n < 1) {
      throw new IllegalArgumentException("a reactor group needs at least one reactor, got " + n);
    }
    reactors = new Reactor[n];
    for (int i = 0; i < n; i++) {
      reactors[i] = new Reactor(namePrefix + "-" + i);
    }
  }

  /**
   * The number of processors the JVM sees.
   *
   * @return the number of processors the JVM sees
   */
  public static int defaultSize() {
    return Runtime.getRuntime().availableProcessors();
  }

  /**
   * Starts every reactor on a thread of its own (daemon threads if asked).
   *
   * @return this group
   * @param daemon whether the threads are daemons
   */
  public ReactorGroup start(boolean daemon) {
    for (Reactor r : reactors) {
      r.start(daemon);
    }
    return this;
  }

  /**
   * The reactors, in order.
   *
   * @return the reactors, in order
   */
  public List<Reactor> reactors() {
    return List.of(reactors);
  }

  /**
   * How many reactors.
   *
   * @return how many reactors
   */
  public int size() {
    return reactors.length;
  }

  /**
   * The next reactor in round-robin order; safe from any thread.
   *
   * @return the next reactor in round-robin order; safe from any thread
   */
  public Reactor next() {
    return reactors[Math.floorMod(nextIndex.getAndIncrement(), reactors.length)];
  }

  /** Stops every reactor. */
  public void stop() {
    for (Reactor r : reactors) {
      r.stop();
    }
  }

  /**
   * Waits for every reactor's loop to end; answers false on timeout.
   *
   * @param timeout how long to wait
   * @param unit the unit of {@code timeout}
   * @return true when every loop ended, false on timeout
   * @throws InterruptedException when this thread is interrupted while waiting
   */
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    for (Reactor r : reactors) {
      if (!r.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return true;
  }
}
