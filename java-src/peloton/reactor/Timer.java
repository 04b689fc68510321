package peloton.reactor;

/**
 * A handle on a task scheduled on a {@link Reactor}: {@link #cancel()} keeps it from running.
 * Cancelling is safe from any thread; a timer that already fired cannot be cancelled.
 */
public final class Timer implements Comparable<Timer> {
  final Reactor reactor;
  final long deadline;
  final long seq;
  final Runnable task;
  volatile boolean cancelled;
  volatile boolean fired;

  Timer(Reactor reactor, long deadline, long seq, Runnable task) {
    this.reactor = reactor;
    this.deadline = deadline;
    this.seq = seq;
    this.task = task;
  }

  /**
   * Keeps the task from running; answers false when it already ran or was cancelled.
   *
   * @return true when this call kept the task from running
   */
  public boolean cancel() {
    if (cancelled || fired) {
      return false;
    }
    cancelled = true;
    reactor.onTimerCancelled(this);
    return true;
  }

  /**
   * True once cancelled.
   *
   * @return true once cancelled
   */
  public boolean isCancelled() {
    return cancelled;
  }

  /**
   * True once the task has been started.
   *
   * @return true once the task has been started
   */
  public boolean hasFired() {
    return fired;
  }

  @Override
  public int compareTo(Timer o) {
    long d = deadline - o.deadline;
    if (d != 0) {
      return d < 0 ? -1 : 1;
    }
    return Long.compare(seq, o.seq);
  }
}
