package peloton.fut;

import clojure.lang.AFn;
import clojure.lang.IBlockingDeref;
import clojure.lang.IDeref;
import clojure.lang.IPending;
import clojure.lang.LazilyPersistentVector;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-assignment asynchronous result: it completes once, from any thread, with a value or an
 * error.
 *
 * <p>Callbacks added with {@link #onComplete(Callback)} run exactly once, whether they were added
 * before or after completion: on the completing thread, or on the adding thread when the fut is
 * already complete, unless an {@link Executor} is given. Callback dispatch goes through a
 * per-thread trampoline, so a chain of futs that complete synchronously (a recursive {@link
 * #then} loop of a million steps, say) never grows the stack: past a small nesting depth, further
 * callbacks are queued and run by the outermost dispatch on that thread before it returns.
 *
 * <p>Completion is lock-free: one volatile state field moved by compare-and-set. Errors keep their
 * original exception object along a chain (nothing is wrapped), except where {@link #deref()} must
 * rethrow a checked exception, which it wraps in a {@link CompletionException}.
 *
 * <p>From Clojure a fut is a function and a reference: {@code (f v)} delivers {@code v}, {@code @f}
 * blocks for the value (for the REPL and tests; never block a reactor thread), {@code (realized?
 * f)} tells whether it is complete.
 */
public final class Fut extends AFn implements IDeref, IBlockingDeref, IPending {

  /** Receives the outcome of a fut: exactly one of {@code value} and {@code error} is meaningful. */
  @FunctionalInterface
  public interface Callback {
    /**
     * Called once with the value (and a null error) or the error (and a null value).
     *
     * @param value the delivered value, when {@code error} is null
     * @param error the failure, or null when the fut delivered a value
     */
    void call(Object value, Throwable error);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Fut.class);

  /** A pending state: a stack of callbacks (the sentinel EMPTY has none). */
  private static final class Node {
    final Callback cb;
    final Executor executor;
    final Node next;

    Node(Callback cb, Executor executor, Node next) {
      this.cb = cb;
      this.executor = executor;
      this.next = next;
    }
  }

  /** A completed-with-error state. */
  private static final class Failure {
    final Throwable error;

    Failure(Throwable error) {
      this.error = error;
    }
  }

  private static final Node EMPTY = new Node(null, null, null);
  private static final Object NIL = new Object();

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Fut.class, "state", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Node while pending; NIL, a Failure, or the value itself once complete. */
  @SuppressWarnings("unused")
  private volatile Object state = EMPTY;

  /** Creates a pending fut. */
  public Fut() {}

  /**
   * A fut already delivered with {@code v}.
   *
   * @param v the value
   * @return a completed fut
   */
  public static Fut of(Object v) {
    Fut f = new Fut();
    f.state = v == null ? NIL : v;
    return f;
  }

  /**
   * A fut already failed with {@code t}.
   *
   * @param t the error
   * @return a failed fut
   */
  public static Fut failed(Throwable t) {
    Fut f = new Fut();
    f.state = new Failure(requireError(t));
    return f;
  }

  private static Throwable requireError(Throwable t) {
    return t == null ? new NullPointerException("fut failed with a null error") : t;
  }

  // ---------------------------------------------------------------- completion

  /**
   * Delivers {@code v}.
   *
   * @param v the value (may be null)
   * @return true when this call completed the fut, false when it was already complete
   */
  public boolean deliver(Object v) {
    return complete(v == null ? NIL : v);
  }

  /**
   * Fails the fut with {@code t}, which consumers see as is.
   *
   * @param t the error
   * @return true when this call completed the fut, false when it was already complete
   */
  public boolean fail(Throwable t) {
    return complete(new Failure(requireError(t)));
  }

  /**
   * Completes with {@code error} when it is non-null, else with {@code value}.
   *
   * @param value the value
   * @param error the error or null
   * @return true when this call completed the fut
   */
  public boolean complete(Object value, Throwable error) {
    return error != null ? fail(error) : deliver(value);
  }

  private boolean complete(Object encoded) {
    for (;;) {
      Object s = state;
      if (!(s instanceof Node)) {
        return false;
      }
      if (STATE.compareAndSet(this, s, encoded)) {
        Node n = (Node) s;
        if (n != EMPTY) {
          runAll(n, encoded);
        }
        return true;
      }
    }
  }

  private static void runAll(Node n, Object encoded) {
    if (n.next == EMPTY) {
      dispatch(n.cb, n.executor, encoded);
      return;
    }
    // The stack is newest-first; run in the order callbacks were added.
    Node rev = null;
    for (Node p = n; p != EMPTY; p = p.next) {
      rev = new Node(p.cb, p.executor, rev);
    }
    for (Node p = rev; p != null; p = p.next) {
      dispatch(p.cb, p.executor, encoded);
    }
  }

  /** Delivers {@code v}; throws when already complete. From Clojure: {@code (f v)}. */
  @Override
  public Object invoke(Object v) {
    if (!deliver(v)) {
      throw new IllegalStateException("fut already delivered, cannot deliver " + v);
    }
    return null;
  }

  /** Answers this fut itself: {@code (f)} is the fut (the original Peloton's zero-arity call). */
  @Override
  public Object invoke() {
    return this;
  }

  // ---------------------------------------------------------------- callbacks

  /**
   * Runs {@code cb} once when the fut completes (now, on this thread, if it already has).
   *
   * @param cb the callback; an exception it throws is logged and does not affect other callbacks
   * @return this fut
   */
  public Fut onComplete(Callback cb) {
    return onComplete(null, cb);
  }

  /**
   * Runs {@code cb} once on {@code executor} when the fut completes.
   *
   * @param executor where the callback runs; null means the completing (or adding) thread
   * @param cb the callback
   * @return this fut
   */
  public Fut onComplete(Executor executor, Callback cb) {
    if (cb == null) {
      throw new NullPointerException("callback");
    }
    for (;;) {
      Object s = state;
      if (!(s instanceof Node)) {
        dispatch(cb, executor, s);
        return this;
      }
      if (STATE.compareAndSet(this, s, new Node(cb, executor, (Node) s))) {
        return this;
      }
    }
  }

  private static void dispatch(Callback cb, Executor executor, Object encoded) {
    if (executor != null) {
      try {
        executor.execute(() -> invokeCallback(cb, encoded));
      } catch (RuntimeException e) {
        LOG.error("executor refused a fut callback", e);
      }
    } else {
      Trampoline.run(cb, encoded);
    }
  }

  static void invokeCallback(Callback cb, Object encoded) {
    try {
      if (encoded instanceof Failure) {
        cb.call(null, ((Failure) encoded).error);
      } else {
        cb.call(encoded == NIL ? null : encoded, null);
      }
    } catch (Throwable t) {
      LOG.error("uncaught exception in a fut callback", t);
    }
  }

  /**
   * Per-thread callback runner: runs callbacks directly up to a small depth, then queues them for
   * the outermost dispatch on this thread, which drains the queue before returning. Chains of
   * synchronously completing futs therefore use bounded stack.
   */
  static final class Trampoline {
    private static final int MAX_DEPTH = 32;
    private static final ThreadLocal<Trampoline> CURRENT = ThreadLocal.withInitial(Trampoline::new);

    private int depth;
    private final ArrayDeque<Object> queue = new ArrayDeque<>();

    static void run(Callback cb, Object encoded) {
      Trampoline t = CURRENT.get();
      if (t.depth >= MAX_DEPTH) {
        t.queue.add(cb);
        t.queue.add(encoded);
        return;
      }
      t.depth++;
      try {
        invokeCallback(cb, encoded);
        if (t.depth == 1) {
          Object c;
          while ((c = t.queue.poll()) != null) {
            invokeCallback((Callback) c, t.queue.poll());
          }
        }
      } finally {
        t.depth--;
      }
    }
  }

  // ---------------------------------------------------------------- inspection

  /** @return true once the fut has a value or an error */
  public boolean isDone() {
    return !(state instanceof Node);
  }

  /** @return true when the fut completed with an error */
  public boolean isFailed() {
    return state instanceof Failure;
  }

  /** Same as {@link #isDone()}: Clojure's {@code realized?}. */
  @Override
  public boolean isRealized() {
    return isDone();
  }

  /** @return the delivered value, or null when pending or failed (never blocks) */
  public Object value() {
    Object s = state;
    return s instanceof Node || s instanceof Failure || s == NIL ? null : s;
  }

  /** @return the error, or null when pending or delivered (never blocks) */
  public Throwable error() {
    Object s = state;
    return s instanceof Failure ? ((Failure) s).error : null;
  }

  /**
   * Blocks until the fut completes and answers its value, or rethrows its error (runtime
   * exceptions and errors as they are, checked exceptions wrapped in a {@link
   * CompletionException}). For the REPL and tests: never block a reactor thread, nor a fut
   * callback (a completion queued on this thread's trampoline would never run).
   */
  @Override
  public Object deref() {
    if (!isDone()) {
      awaitDone(-1);
    }
    return outcome();
  }

  /**
   * Like {@link #deref()}, but answers {@code timeoutValue} when the fut is not complete within
   * {@code ms} milliseconds.
   */
  @Override
  public Object deref(long ms, Object timeoutValue) {
    if (!isDone() && !awaitDone(ms)) {
      return timeoutValue;
    }
    return outcome();
  }

  private boolean awaitDone(long ms) {
    CountDownLatch latch = new CountDownLatch(1);
    onComplete((v, e) -> latch.countDown());
    try {
      if (ms < 0) {
        latch.await();
        return true;
      }
      return latch.await(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(e);
    }
  }

  private Object outcome() {
    Object s = state;
    if (s instanceof Failure) {
      Throwable t = ((Failure) s).error;
      if (t instanceof RuntimeException) {
        throw (RuntimeException) t;
      }
      if (t instanceof Error) {
        throw (Error) t;
      }
      throw new CompletionException(t);
    }
    return s == NIL ? null : s;
  }

  // ---------------------------------------------------------------- combinators

  /**
   * A fut of {@code f} applied to this fut's value; an error passes through, and an exception
   * thrown by {@code f} fails the result with that exception.
   */
  public Fut map(Function<Object, Object> f) {
    Fut r = new Fut();
    onComplete((v, e) -> {
      if (e != null) {
        r.fail(e);
        return;
      }
      Object x;
      try {
        x = f.apply(v);
      } catch (Throwable t) {
        r.fail(t);
        return;
      }
      r.deliver(x);
    });
    return r;
  }

  /**
   * Flat-map: a fut of {@code f} applied to this fut's value, where a fut (or {@link
   * CompletionStage}) answered by {@code f} is awaited. Errors pass through; an exception thrown by
   * {@code f} fails the result.
   */
  public Fut then(Function<Object, Object> f) {
    Fut r = new Fut();
    onComplete((v, e) -> {
      if (e != null) {
        r.fail(e);
      } else {
        r.completeWith(f, v);
      }
    });
    return r;
  }

  /**
   * Catch: a fut that has this fut's value, or, when this fut fails, what {@code f} answers for
   * the error (a fut answered by {@code f} is awaited; an exception thrown by {@code f} fails the
   * result with that exception).
   */
  public Fut recover(Function<Throwable, Object> f) {
    Fut r = new Fut();
    onComplete((v, e) -> {
      if (e == null) {
        r.deliver(v);
      } else {
        r.completeWith(f, e);
      }
    });
    return r;
  }

  /**
   * Finally: runs {@code action} when this fut completes either way, then completes the result
   * with this fut's outcome, unless {@code action} throws, whose exception then fails the result.
   */
  public Fut ensure(Runnable action) {
    Fut r = new Fut();
    onComplete((v, e) -> {
      try {
        action.run();
      } catch (Throwable t) {
        r.fail(t);
        return;
      }
      r.complete(v, e);
    });
    return r;
  }

  private <T> void completeWith(Function<T, Object> f, T arg) {
    Object x;
    try {
      x = f.apply(arg);
    } catch (Throwable t) {
      fail(t);
      return;
    }
    follow(x);
  }

  /**
   * Completes this fut with {@code x}: when {@code x} is a fut or {@link CompletionStage}, with
   * its outcome once known; otherwise with {@code x} itself.
   *
   * @param x a value, fut or completion stage
   */
  public void follow(Object x) {
    if (x instanceof Fut) {
      ((Fut) x).onComplete(this::complete);
    } else if (x instanceof CompletionStage) {
      from((CompletionStage<?>) x).onComplete(this::complete);
    } else {
      deliver(x);
    }
  }

  /**
   * A fut of the values of {@code futs}, in order, as an immutable {@link List} (a Clojure
   * vector). It fails with the first error to occur. Elements that are not futs count as values.
   */
  public static Fut all(List<?> futs) {
    return all(futs.toArray());
  }

  /** Same as {@link #all(List)}. */
  public static Fut all(Object... futs) {
    Object[] items = Arrays.copyOf(futs, futs.length, Object[].class);
    Fut r = new Fut();
    int n = items.length;
    if (n == 0) {
      r.deliver(LazilyPersistentVector.createOwning());
      return r;
    }
    AtomicInteger remaining = new AtomicInteger(n);
    for (int i = 0; i < n; i++) {
      Object x = items[i];
      if (x instanceof CompletionStage) {
        x = from((CompletionStage<?>) x);
      }
      if (x instanceof Fut) {
        final int idx = i;
        ((Fut) x).onComplete((v, e) -> {
          if (e != null) {
            r.fail(e);
            return;
          }
          items[idx] = v;
          // The decrement publishes items[idx] to whichever thread reaches zero.
          if (remaining.decrementAndGet() == 0) {
            r.deliver(LazilyPersistentVector.createOwning(items));
          }
        });
      } else if (remaining.decrementAndGet() == 0) {
        r.deliver(LazilyPersistentVector.createOwning(items));
      }
    }
    return r;
  }

  /** A {@link CompletableFuture} completed with this fut's outcome. */
  public CompletableFuture<Object> toCompletableFuture() {
    CompletableFuture<Object> cf = new CompletableFuture<>();
    onComplete((v, e) -> {
      if (e != null) {
        cf.completeExceptionally(e);
      } else {
        cf.complete(v);
      }
    });
    return cf;
  }

  /**
   * A fut completed with the outcome of {@code stage}; a {@link CompletionException} carrying a
   * cause is unwrapped to that cause.
   */
  public static Fut from(CompletionStage<?> stage) {
    Fut r = new Fut();
    stage.whenComplete((v, e) -> {
      if (e == null) {
        r.deliver(v);
      } else {
        r.fail(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
      }
    });
    return r;
  }

  /**
   * A fut with this fut's outcome, or failed with a {@link FutTimeoutException} when this fut is
   * not complete within {@code millis} milliseconds. The timer runs on {@code scheduler}; the
   * failure (and callbacks that follow from it) run on the scheduler's thread.
   */
  public Fut withTimeout(long millis, ScheduledExecutorService scheduler) {
    if (isDone()) {
      return this;
    }
    Fut r = new Fut();
    ScheduledFuture<?> timer = scheduler.schedule(
        () -> r.fail(new FutTimeoutException(millis)), millis, TimeUnit.MILLISECONDS);
    onComplete((v, e) -> {
      timer.cancel(false);
      r.complete(v, e);
    });
    return r;
  }

  /**
   * {@link #withTimeout(long, ScheduledExecutorService)} on one shared daemon thread named
   * {@code peloton-fut-timer}, created on first use. A timeout's failure callbacks run on that
   * thread: keep them short, or give them an executor.
   */
  public Fut withTimeout(long millis) {
    return withTimeout(millis, SharedTimer.INSTANCE);
  }

  private static final class SharedTimer {
    static final ScheduledThreadPoolExecutor INSTANCE = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "peloton-fut-timer");
        t.setDaemon(true);
        return t;
      });
      s.setRemoveOnCancelPolicy(true);
      return s;
    }
  }

  @Override
  public String toString() {
    Object s = state;
    if (s instanceof Node) {
      return "#<Fut pending>";
    }
    if (s instanceof Failure) {
      return "#<Fut failed " + ((Failure) s).error + ">";
    }
    return "#<Fut " + (s == NIL ? "nil" : s) + ">";
  }
}
