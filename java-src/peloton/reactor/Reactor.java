package peloton.reactor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A one-thread event loop: a {@link Selector} for IO readiness, a heap of timers and a queue of
 * tasks submitted from other threads.
 *
 * <p>Everything that touches a channel registered here runs on the reactor's thread; calls from
 * other threads are queued and run there, never concurrently. Timers fire in deadline order, equal
 * deadlines in the order they were scheduled. The loop sleeps in {@code select} until the next
 * deadline, an IO event or a submitted task, and never spins. A callback that throws is logged and
 * the loop goes on.
 *
 * <p>Start it on a thread of its own with {@link #start()}, or run it on the calling thread with
 * {@link #runLoop()}; end it from anywhere with {@link #stop()}.
 */
public final class Reactor implements Executor {

  private static final Logger log = LoggerFactory.getLogger(Reactor.class);
  private static final ThreadLocal<Reactor> CURRENT = new ThreadLocal<>();
  private static final AtomicLong TIMER_SEQ = new AtomicLong();
  private static volatile Reactor shared;

  /** What the loop calls when a registered channel is ready. Runs on the reactor thread. */
  @FunctionalInterface
  public interface IoHandler {
    /**
     * Called with the key whose {@code readyOps()} tell what is ready.
     *
     * @param key the ready key
     * @throws Exception anything: it is logged and the channel is closed
     */
    void onReady(SelectionKey key) throws Exception;
  }

  private final String name;
  private final Selector selector;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  // True while a wakeup is already owed to the selector: submitters skip the syscall.
  private final AtomicBoolean wakeupPending = new AtomicBoolean();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final CountDownLatch terminated = new CountDownLatch(1);
  // Channels whose keys were cancelled, to close once the selector has dropped them (see
  // closeDeregistered); swapped with the second list each turn, so a close queued while the
  // keys are being handled waits for the next select, which is the one that drops its key.
  private ArrayList<AutoCloseable> toClose = new ArrayList<>();
  private ArrayList<AutoCloseable> closing = new ArrayList<>();
  private int cancelledTimers;
  long iterations; // loop turns, for the test that the loop sleeps instead of spinning
  private volatile boolean stopRequested;
  private volatile Thread thread;
  private volatile boolean started;

  /** Creates a reactor named {@code "peloton-reactor"}; it runs once started. */
  public Reactor() {
    this("peloton-reactor");
  }

  /**
   * Creates a reactor whose thread gets {@code name}; it runs once started.
   *
   * @param name the reactor's name, also its thread's
   */
  public Reactor(String name) {
    this.name = name;
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a selector", e);
    }
  }

  /**
   * The reactor running on the calling thread, or null when the thread runs none.
   *
   * @return the reactor running on the calling thread, or null when the thread runs none
   */
  public static Reactor current() {
    return CURRENT.get();
  }

  /**
   * A process-wide reactor on a daemon thread, started on first use. It serves code that schedules
   * work outside any reactor, at the REPL for instance.
   *
   * @return a process-wide reactor on a daemon thread, started on first use
   */
  public static Reactor shared() {
    Reactor r = shared;
    if (r == null) {
      synchronized (Reactor.class) {
        r = shared;
        if (r == null || r.isTerminated()) {
          r = new Reactor("peloton-shared-reactor");
          r.start(true);
          shared = r;
        }
      }
    }
    return r;
  }

  /**
   * The reactor on this thread if there is one, else {@link #shared()}.
   *
   * @return the reactor on this thread if there is one, else {@link #shared()}
   */
  public static Reactor currentOrShared() {
    Reactor r = CURRENT.get();
    return r != null ? r : shared();
  }

  /**
   * This reactor's name (also its thread's name).
   *
   * @return this reactor's name (also its thread's name)
   */
  public String name() {
    return name;
  }

  /**
   * The selector, for code that registers channels itself; use it on the reactor thread only.
   *
   * @return the selector, for code that registers channels itself; use it on the reactor thread only
   */
  public Selector selector() {
    return selector;
  }

  /**
   * True when called on this reactor's thread.
   *
   * @return true when called on this reactor's thread
   */
  public boolean inReactorThread() {
    return Thread.currentThread() == thread;
  }

  /**
   * Starts the loop on a new non-daemon thread.
   *
   * @return this reactor
   */
  public Reactor start() {
    return start(false);
  }

  /**
   * Starts the loop on a new thread, a daemon one if asked.
   *
   * @param daemon whether the thread is a daemon
   * @return this reactor
   */
  public Reactor start(boolean daemon) {
    Thread t = new Thread(this::runLoop, name);
    t.setDaemon(daemon);
    claim(t);
    t.start();
    return this;
  }

  private synchronized void claim(Thread t) {
    if (started) {
      throw new IllegalStateException("reactor " + name + " was already started");
    }
    started = true;
    thread = t;
  }

  /**
   * Runs the loop on the calling thread until {@link #stop()}, then closes the selector. Channels
   * registered here stay open: their owners close them.
   */
  public void runLoop() {
    runLoop(null);
  }

  /**
   * Runs {@code first} on the calling thread as this reactor's first task, then the loop until
   * {@link #stop()}. Used by {@code with-reactor}: the body sees this reactor as {@link #current()}.
   * When {@code first} throws, the loop does not run and the exception propagates.
   *
   * @param first the first task
   */
  public void runLoop(Runnable first) {
    if (thread != Thread.currentThread()) {
      claim(Thread.currentThread());
    }
    Reactor outer = CURRENT.get();
    CURRENT.set(this);
    try {
      if (first != null) {
        first.run();
      }
      while (!stopRequested) {
        iterations++;
        select();
        runTimers();
        runTasks();
      }
    } finally {
      CURRENT.set(outer);
      try {
        selector.close();
      } catch (IOException e) {
        log.warn("closing the selector of {} failed", name, e);
      }
      closeAll(closing);
      closeAll(toClose);
      terminated.countDown();
    }
  }

  private void select() {
    wakeupPending.set(false);
    ArrayList<AutoCloseable> dropped = null;
    if (!toClose.isEmpty()) {
      dropped = toClose;
      toClose = closing;
      closing = dropped;
    }
    try {
      // The Consumer forms hand each ready key to onKey as it is found: no selected-key set,
      // whose HashSet node per ready key was the largest allocation of a keep-alive request.
      if (!tasks.isEmpty() || dropped != null) {
        selector.selectNow(onKey);
        return;
      }
      long waitMillis = millisToNextTimer();
      if (waitMillis == 0) {
        selector.selectNow(onKey);
      } else if (waitMillis < 0) {
        selector.select(onKey);
      } else {
        selector.select(onKey, waitMillis);
      }
    } catch (IOException e) {
      log.error("select failed on {}", name, e);
    } finally {
      if (dropped != null) {
        closeAll(dropped); // the select began by dropping their keys: close() is one syscall now
      }
    }
  }

  private static void closeAll(ArrayList<AutoCloseable> cs) {
    for (int i = 0, n = cs.size(); i < n; i++) {
      try {
        cs.get(i).close();
      } catch (Throwable t) {
        log.debug("close failed: {}", t.toString());
      }
    }
    cs.clear();
  }

  /**
   * Closes {@code resource}, the owner of {@code key}'s channel, once the selector has dropped the
   * key: the key is cancelled now and the close runs at the start of the next loop turn, whose
   * select does not wait while closes are due. Closing a socket that is still registered makes the
   * JDK shut its output down and close it only at the next select anyway, two system calls more
   * per connection than closing it after. With a null key, or off the reactor thread, it closes at
   * once.
   *
   * @param key the channel's key with this reactor's selector, or null
   * @param resource what to close (the channel, or a protocol layer that closes it)
   */
  public void closeDeregistered(SelectionKey key, AutoCloseable resource) {
    if (key == null || !inReactorThread() || key.selector() != selector) {
      try {
        resource.close();
      } catch (Throwable t) {
        log.debug("close failed: {}", t.toString());
      }
      return;
    }
    key.cancel();
    toClose.add(resource);
  }

  /** -1: no timer; 0: one is due; else milliseconds, rounded up so the loop never spins early. */
  private long millisToNextTimer() {
    Timer next = peekLiveTimer();
    if (next == null) {
      return -1;
    }
    long nanos = next.deadline - System.nanoTime();
    return nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
  }

  private Timer peekLiveTimer() {
    Timer t;
    while ((t = timers.peek()) != null && t.cancelled) {
      timers.poll();
      cancelledTimers--;
    }
    return t;
  }

  private final Consumer<SelectionKey> onKey = this::onKey;

  private void onKey(SelectionKey key) {
    if (!key.isValid()) {
      return;
    }
    try {
      ((IoHandler) key.attachment()).onReady(key);
    } catch (Throwable t) {
      log.error("IO callback failed on {}", name, t);
    }
  }

  private void runTimers() {
    if (timers.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    Timer t;
    while ((t = timers.peek()) != null && (t.cancelled || t.deadline - now <= 0)) {
      timers.poll();
      if (t.cancelled) {
        cancelledTimers--;
        continue;
      }
      t.fired = true;
      runSafely(t.task, "timer");
    }
  }

  private void runTasks() {
    // Only the tasks present now: a task that resubmits itself must not starve IO.
    for (int n = tasks.size(); n > 0; n--) {
      Runnable r = tasks.poll();
      if (r == null) {
        return;
      }
      runSafely(r, "task");
    }
  }

  private void runSafely(Runnable r, String what) {
    try {
      r.run();
    } catch (Throwable t) {
      log.error("{} failed on {}", what, name, t);
    }
  }

  /**
   * Queues {@code task} to run on the reactor thread; safe from any thread, in order of submission.
   *
   * @param task what to run
   */
  public void submit(Runnable task) {
    tasks.add(task);
    if (!inReactorThread() && wakeupPending.compareAndSet(false, true)) {
      selector.wakeup();
    }
  }

  /** Same as {@link #submit(Runnable)}: it lets a reactor serve as a {@link Executor}. */
  @Override
  public void execute(Runnable task) {
    submit(task);
  }

  /**
   * Runs {@code task} now when on the reactor thread, else submits it.
   *
   * @param task what to run
   */
  public void dispatch(Runnable task) {
    if (inReactorThread()) {
      task.run();
    } else {
      submit(task);
    }
  }

  /**
   * Runs {@code task} once after {@code delay}; safe from any thread. Cancel it through the answered
   * handle.
   *
   * @param delay how long to wait
   * @param unit the unit of {@code delay}
   * @param task what to run
   * @return the timer, to cancel it
   */
  public Timer schedule(long delay, TimeUnit unit, Runnable task) {
    Timer t = new Timer(this, System.nanoTime() + unit.toNanos(Math.max(0, delay)),
        TIMER_SEQ.getAndIncrement(), task);
    if (inReactorThread()) {
      timers.add(t);
    } else {
      submit(() -> timers.add(t));
    }
    return t;
  }

  /**
   * Runs {@code task} once after {@code seconds} (fractions allowed).
   *
   * @param seconds how long to wait
   * @param task what to run
   * @return the timer, to cancel it
   */
  public Timer later(double seconds, Runnable task) {
    return schedule((long) (seconds * 1e9), TimeUnit.NANOSECONDS, task);
  }

  void onTimerCancelled(Timer t) {
    dispatch(() -> {
      // Purge when dead entries dominate, so cancelled timeouts cannot pile up.
      if (++cancelledTimers > 64 && cancelledTimers > timers.size() / 2) {
        ArrayList<Timer> live = new ArrayList<>(timers.size());
        for (Timer x : timers) {
          if (!x.cancelled) {
            live.add(x);
          }
        }
        timers.clear();
        timers.addAll(live);
        cancelledTimers = 0;
      }
    });
  }

  /**
   * How many timers are waiting (cancelled ones not yet purged included); reactor thread only.
   *
   * @return how many timers are waiting (cancelled ones not yet purged included); reactor thread only
   */
  public int pendingTimers() {
    return timers.size();
  }

  /**
   * Registers {@code channel} for {@code ops} with {@code handler}, replacing an earlier handler.
   * Call it on the reactor thread.
   *
   * @param channel a non-blocking channel
   * @param ops the {@link SelectionKey} interest operations
   * @param handler called on the reactor thread when the channel is ready
   * @return the selection key
   * @throws ClosedChannelException when the channel is closed
   */
  public SelectionKey register(SelectableChannel channel, int ops, IoHandler handler)
      throws ClosedChannelException {
    checkThread();
    if (channel.isBlocking()) {
      try {
        channel.configureBlocking(false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return channel.register(selector, ops, handler);
  }

  /**
   * Turns {@code op} on or off in {@code key}'s interest set, touching the key only when that
   * changes it (each change costs a selector update) and doing nothing on a null or cancelled key,
   * so a protocol may call it freely while its connection closes. Call it on the reactor thread.
   *
   * @param key the channel's selection key, or null
   * @param op one {@link SelectionKey} operation, such as {@code OP_READ}
   * @param on whether the reactor should watch for {@code op}
   */
  public static void setInterest(SelectionKey key, int op, boolean on) {
    if (key == null || !key.isValid()) {
      return;
    }
    int ops = key.interestOps();
    int next = on ? ops | op : ops & ~op;
    if (next != ops) {
      key.interestOps(next);
    }
  }

  /**
   * Calls {@code callback} on the reactor thread each time {@code channel} is ready for {@code op}
   * (one of {@link SelectionKey}'s OP_ constants), or only the next time when {@code once}. Replaces
   * an earlier callback for the same op. Safe from any thread.
   *
   * @param channel a non-blocking channel
   * @param op one {@link SelectionKey} operation, such as {@code OP_READ}
   * @param callback called on the reactor thread when the channel is ready
   * @param once whether to stop watching after the first call
   */
  public void watch(SelectableChannel channel, int op, Runnable callback, boolean once) {
    dispatch(() -> {
      SelectionKey key = channel.keyFor(selector);
      OpCallbacks cbs;
      if (key == null || !key.isValid()) {
        cbs = new OpCallbacks();
        try {
          key = register(channel, 0, cbs);
        } catch (ClosedChannelException e) {
          log.warn("cannot watch a closed channel on {}", name);
          return;
        }
      } else if (key.attachment() instanceof OpCallbacks) {
        cbs = (OpCallbacks) key.attachment();
      } else {
        throw new IllegalStateException("channel is registered with another handler");
      }
      cbs.set(op, callback, once);
      key.interestOps(key.interestOps() | op);
    });
  }

  /**
   * Stops calling back for {@code op} on {@code channel}; safe from any thread.
   *
   * @param channel the channel
   * @param op the {@link SelectionKey} operation to stop watching
   */
  public void unwatch(SelectableChannel channel, int op) {
    dispatch(() -> {
      SelectionKey key = channel.keyFor(selector);
      if (key != null && key.isValid() && key.attachment() instanceof OpCallbacks) {
        ((OpCallbacks) key.attachment()).set(op, null, false);
        key.interestOps(key.interestOps() & ~op);
      }
    });
  }

  private void checkThread() {
    if (!inReactorThread()) {
      throw new IllegalStateException("not on the thread of reactor " + name);
    }
  }

  /** Ends the loop after the current iteration; safe from any thread, and from inside the loop. */
  public void stop() {
    stopRequested = true;
    if (!inReactorThread()) {
      selector.wakeup();
    }
  }

  /**
   * True once {@link #stop()} was called.
   *
   * @return true once {@link #stop()} was called
   */
  public boolean isStopping() {
    return stopRequested;
  }

  /**
   * True once the loop has ended.
   *
   * @return true once the loop has ended
   */
  public boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  /**
   * Waits until the loop has ended; answers false on timeout.
   *
   * @param timeout how long to wait
   * @param unit the unit of {@code timeout}
   * @return true when the loop ended, false on timeout
   * @throws InterruptedException when this thread is interrupted while waiting
   */
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  @Override
  public String toString() {
    return "Reactor[" + name + "]";
  }

  /** The per-op callbacks behind {@link #watch}, as the original API offered them. */
  private static final class OpCallbacks implements IoHandler {
    private static final int[] OPS = {
      SelectionKey.OP_CONNECT, SelectionKey.OP_ACCEPT, SelectionKey.OP_READ, SelectionKey.OP_WRITE
    };
    private final Runnable[] callbacks = new Runnable[4];
    private int onceMask;

    private static int slot(int op) {
      switch (op) {
        case SelectionKey.OP_CONNECT: return 0;
        case SelectionKey.OP_ACCEPT: return 1;
        case SelectionKey.OP_READ: return 2;
        case SelectionKey.OP_WRITE: return 3;
        default: throw new IllegalArgumentException("not a single selection op: " + op);
      }
    }

    void set(int op, Runnable cb, boolean once) {
      callbacks[slot(op)] = cb;
      onceMask = once ? (onceMask | op) : (onceMask & ~op);
    }

    @Override
    public void onReady(SelectionKey key) {
      int ready = key.readyOps();
      for (int op : OPS) {
        if ((ready & op) == 0 || !key.isValid()) {
          continue;
        }
        Runnable cb = callbacks[slot(op)];
        if (cb == null) {
          continue;
        }
        if ((onceMask & op) != 0) {
          set(op, null, false);
          key.interestOps(key.interestOps() & ~op);
        }
        try {
          cb.run();
        } catch (Throwable t) {
          log.error("IO callback failed", t);
        }
      }
    }
  }
}
