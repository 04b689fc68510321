package peloton.fut;

import clojure.lang.IBlockingDeref;
import clojure.lang.IDeref;
import clojure.lang.IPending;
import clojure.lang.LazilyPersistentVector;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-assignment asynchronous result of type {@code T}: it completes once, from any thread,
 * with a value or an error.
 *
 * <p>Every Peloton method that completes later answers a {@code Fut}; chain on it without
 * blocking, or block at the edges of a program (tests, {@code main}) with {@link #join()} or
 * {@link #get(long, TimeUnit)}:
 *
 * <pre>{@code
 * Fut<ClientResponse> resp = client.request(ClientRequest.newBuilder("http://127.0.0.1:8080/").build());
 * Fut<Integer> length = resp.map(r -> r.bodyString().length())
 *     .withTimeout(Duration.ofSeconds(2))
 *     .recover(e -> -1);
 * length.onComplete((n, error) -> log.info("length {}", n));
 * CompletableFuture<Integer> cf = length.toCompletableFuture();  // and Fut.from(cf) back
 * }</pre>
 *
 * <p>Callbacks added with {@link #onComplete(Callback)} run exactly once, whether they were added
 * before or after completion: on the completing thread, or on the adding thread when the fut is
 * already complete, unless an {@link Executor} is given. Callback dispatch goes through a
 * per-thread trampoline, so a chain of futs that complete synchronously (a recursive {@link
 * #then} loop of a million steps, say) never grows the stack: past a small nesting depth, further
 * callbacks are queued and run by the outermost dispatch on that thread before it returns.
 *
 * <p>Completion is lock-free: one volatile state field moved by compare-and-set. Errors keep their
 * original exception object along a chain (nothing is wrapped), except where a blocking accessor
 * must rethrow a checked exception.
 *
 * <p>For Clojure a fut is a reference: it implements Clojure's small {@code IDeref}, {@code
 * IBlockingDeref} and {@code IPending} interfaces, so {@code @f}, {@code (deref f ms v)} and
 * {@code (realized? f)} work on every fut. (Clojure's {@code IDeref} extends the JDK's {@code
 * Supplier} family, which is where {@link #get()} and the {@code getAs...} methods come from.) The
 * futs that Clojure's {@code (fut)} makes are {@link FnFut}s, which are also functions: {@code (f
 * v)} delivers {@code v}.
 *
 * @param <T> the type of the value
 */
public class Fut<T> implements IDeref, IBlockingDeref, IPending {

  /**
   * Receives the outcome of a fut: exactly one of {@code value} and {@code error} is meaningful.
   *
   * @param <T> the type of the value
   */
  @FunctionalInterface
  public interface Callback<T> {
    /**
     * Called once with the value (and a null error) or the error (and a null value).
     *
     * @param value the delivered value, when {@code error} is null
     * @param error the failure, or null when the fut delivered a value
     */
    void call(T value, Throwable error);
  }

  private static final Logger LOG = LoggerFactory.getLogger(Fut.class);

  /** A pending state: a stack of callbacks (the sentinel EMPTY has none). */
  private static final class Node {
    final Callback<?> cb;
    final Executor executor;
    final Node next;

    Node(Callback<?> cb, Executor executor, Node next) {
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

  /** Creates a pending fut; complete it with {@link #deliver} or {@link #fail}. */
  public Fut() {}

  /**
   * A fut already delivered with {@code v}.
   *
   * @param v the value
   * @param <T> the type of the value
   * @return a completed fut
   */
  public static <T> Fut<T> of(T v) {
    Fut<T> f = new Fut<>();
    f.state = v == null ? NIL : v;
    return f;
  }

  /**
   * A fut already failed with {@code t}.
   *
   * @param t the error
   * @param <T> the type the fut would have had
   * @return a failed fut
   */
  public static <T> Fut<T> failed(Throwable t) {
    Fut<T> f = new Fut<>();
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
  public boolean deliver(T v) {
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
  public boolean complete(T value, Throwable error) {
    return error != null ? fail(error) : deliver(value);
  }

  /** Completes from an untyped outcome: the bridge for Clojure values and erased callbacks. */
  @SuppressWarnings("unchecked")
  final boolean completeAny(Object value, Throwable error) {
    return complete((T) value, error);
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

  /**
   * Completes this fut with the outcome of {@code other}, once {@code other} completes.
   *
   * @param other the fut to follow
   */
  public void follow(Fut<? extends T> other) {
    other.onComplete(this::complete);
  }

  /**
   * Completes this fut with {@code x}: when {@code x} is a fut or {@link CompletionStage}, with
   * its outcome once known; otherwise with {@code x} itself. The untyped form that Clojure code
   * and {@link #then} use, where a function may answer a fut or a plain value.
   */
  final void followAny(Object x) {
    if (x instanceof Fut) {
      ((Fut<?>) x).onComplete(this::completeAny);
    } else if (x instanceof CompletionStage) {
      from((CompletionStage<?>) x).onComplete(this::completeAny);
    } else {
      completeAny(x, null);
    }
  }

  // ---------------------------------------------------------------- callbacks

  /**
   * Runs {@code cb} once when the fut completes (now, on this thread, if it already has).
   *
   * @param cb the callback; an exception it throws is logged and does not affect other callbacks
   * @return this fut
   */
  public Fut<T> onComplete(Callback<? super T> cb) {
    return onComplete(null, cb);
  }

  /**
   * Runs {@code cb} once on {@code executor} when the fut completes.
   *
   * @param executor where the callback runs; null means the completing (or adding) thread
   * @param cb the callback
   * @return this fut
   */
  public Fut<T> onComplete(Executor executor, Callback<? super T> cb) {
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

  private static void dispatch(Callback<?> cb, Executor executor, Object encoded) {
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

  @SuppressWarnings("unchecked")
  static void invokeCallback(Callback<?> c, Object encoded) {
    // Only a fut's own callbacks reach here, registered with that fut's value type.
    Callback<Object> cb = (Callback<Object>) c;
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

    static void run(Callback<?> cb, Object encoded) {
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
            invokeCallback((Callback<?>) c, t.queue.poll());
          }
        }
      } finally {
        t.depth--;
      }
    }
  }

  // ---------------------------------------------------------------- inspection

  /**
   * Whether the fut is complete (never blocks).
   *
   * @return true once the fut has a value or an error
   */
  public boolean isDone() {
    return !(state instanceof Node);
  }

  /**
   * Whether the fut failed (never blocks).
   *
   * @return true when the fut completed with an error
   */
  public boolean isFailed() {
    return state instanceof Failure;
  }

  /**
   * Same as {@link #isDone()}: Clojure's {@code realized?}.
   *
   * @return true once the fut is complete
   */
  @Override
  public boolean isRealized() {
    return isDone();
  }

  /**
   * The value if there is one yet (never blocks).
   *
   * @return the delivered value, or null when pending or failed
   */
  @SuppressWarnings("unchecked")
  public T value() {
    Object s = state;
    return s instanceof Node || s instanceof Failure || s == NIL ? null : (T) s;
  }

  /**
   * The error if there is one yet (never blocks).
   *
   * @return the error, or null when pending or delivered
   */
  public Throwable error() {
    Object s = state;
    return s instanceof Failure ? ((Failure) s).error : null;
  }

  // ---------------------------------------------------------------- blocking

  /**
   * Blocks until the fut completes and answers its value, or throws its error: runtime exceptions
   * and errors as they are, checked exceptions wrapped in a {@link CompletionException} (unlike
   * {@link CompletableFuture#join()}, which wraps every error). For tests and {@code main}: never
   * block a reactor thread, nor a fut callback (a completion queued on this thread's trampoline
   * would never run).
   *
   * @return the value
   */
  public T join() {
    if (!isDone()) {
      awaitDone(-1);
    }
    return outcome();
  }

  /**
   * Blocks like {@link java.util.concurrent.Future#get(long, TimeUnit)}: answers the value within
   * the time limit, or throws.
   *
   * @param timeout how long to wait
   * @param unit the unit of {@code timeout}
   * @return the value
   * @throws TimeoutException when the fut is not complete in time (the fut itself is left alone)
   * @throws ExecutionException when the fut failed; its cause is the fut's error
   * @throws InterruptedException when this thread is interrupted while waiting
   */
  public T get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (!isDone()) {
      CountDownLatch latch = new CountDownLatch(1);
      onComplete((v, e) -> latch.countDown());
      if (!latch.await(timeout, unit)) {
        throw new TimeoutException("fut not complete within " + timeout + " " + unit);
      }
    }
    Throwable t = error();
    if (t != null) {
      throw new ExecutionException(t);
    }
    return value();
  }

  /**
   * Same as {@link #join()}. This is the {@link java.util.function.Supplier} method that
   * Clojure's {@code IDeref} brings, typed; as a {@code Supplier} it cannot throw checked
   * exceptions, so use {@link #get(long, TimeUnit)} for the {@code Future}-style contract.
   *
   * @return the value
   */
  @Override
  public T get() {
    return join();
  }

  /**
   * Same as {@link #join()}: Clojure's {@code @f}.
   *
   * @return the value
   */
  @Override
  public T deref() {
    return join();
  }

  /**
   * Like {@link #deref()}, but answers {@code timeoutValue} when the fut is not complete within
   * {@code ms} milliseconds: Clojure's {@code (deref f ms timeout-value)}.
   *
   * @param ms how long to wait, in milliseconds
   * @param timeoutValue what to answer on timeout
   * @return the value, or {@code timeoutValue}
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

  @SuppressWarnings("unchecked")
  private T outcome() {
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
    return s == NIL ? null : (T) s;
  }

  // ---------------------------------------------------------------- combinators

  /**
   * A fut of {@code f} applied to this fut's value; an error passes through, and an exception
   * thrown by {@code f} fails the result with that exception.
   *
   * @param f the function of the value
   * @param <R> the type of the result
   * @return a fut of {@code f}'s answer
   */
  public <R> Fut<R> map(Function<? super T, ? extends R> f) {
    Fut<R> r = new Fut<>();
    onComplete((v, e) -> {
      if (e != null) {
        r.fail(e);
        return;
      }
      R x;
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
   * Compose (flat-map): a fut of the outcome of the fut that {@code f} answers for this fut's
   * value, like {@link CompletableFuture#thenCompose}. Errors pass through; an exception thrown by
   * {@code f} fails the result. (Untyped callers such as Clojure may also answer a plain value or
   * a {@link CompletionStage}; either is awaited the same way.)
   *
   * @param f the next step
   * @param <R> the type of the result
   * @return a fut of the next step's outcome
   */
  public <R> Fut<R> then(Function<? super T, ? extends Fut<? extends R>> f) {
    Fut<R> r = new Fut<>();
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
   * Catch: a fut that has this fut's value, or, when this fut fails, the value {@code f} answers
   * for the error. An exception thrown by {@code f} fails the result with that exception. (When
   * {@code f} answers a fut, as untyped Clojure handlers may, it is awaited.)
   *
   * @param f the handler of the error
   * @return a fut of this fut's value or of the handler's answer
   */
  public Fut<T> recover(Function<? super Throwable, ? extends T> f) {
    return caught(f);
  }

  /**
   * Catch with a fut: like {@link #recover}, but the handler answers a fut (a retry, say), whose
   * outcome the result takes.
   *
   * @param f the handler of the error
   * @return a fut of this fut's value or of the handler's fut's outcome
   */
  public Fut<T> recoverWith(Function<? super Throwable, ? extends Fut<? extends T>> f) {
    return caught(f);
  }

  /**
   * The body of {@link #recover} and {@link #recoverWith}: their handlers differ only in type,
   * since {@link #completeWith} awaits a fut a handler answers either way.
   */
  private Fut<T> caught(Function<? super Throwable, ?> f) {
    Fut<T> r = new Fut<>();
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
   *
   * @param action what to run
   * @return a fut of this fut's outcome, after {@code action}
   */
  public Fut<T> ensure(Runnable action) {
    Fut<T> r = new Fut<>();
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

  private <A> void completeWith(Function<A, ?> f, A arg) {
    Object x;
    try {
      x = f.apply(arg);
    } catch (Throwable t) {
      fail(t);
      return;
    }
    followAny(x);
  }

  /**
   * A fut of the values of {@code futs}, in order, as an immutable {@link List}. It fails with the
   * first error to occur.
   *
   * @param futs the futs to wait for
   * @param <T> the type of their values
   * @return a fut of the list of values
   */
  public static <T> Fut<List<T>> all(List<? extends Fut<? extends T>> futs) {
    return allOf(futs.toArray());
  }

  /**
   * Same as {@link #all(List)}.
   *
   * @param futs the futs to wait for
   * @param <T> the type of their values
   * @return a fut of the list of values
   */
  @SafeVarargs
  public static <T> Fut<List<T>> all(Fut<? extends T>... futs) {
    return allOf(futs);
  }

  /**
   * The untyped {@code all} behind {@link #all(List)} and Clojure's {@code all}: elements that
   * are completion stages are converted, elements that are not futs count as values. The list is
   * a Clojure vector, which is an immutable {@link List}.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static <T> Fut<List<T>> allOf(Object[] futs) {
    Object[] items = Arrays.copyOf(futs, futs.length, Object[].class);
    Fut<List<T>> r = new Fut<>();
    int n = items.length;
    if (n == 0) {
      r.deliver((List) LazilyPersistentVector.createOwning());
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
        ((Fut<?>) x).onComplete((v, e) -> {
          if (e != null) {
            r.fail(e);
            return;
          }
          items[idx] = v;
          // The decrement publishes items[idx] to whichever thread reaches zero.
          if (remaining.decrementAndGet() == 0) {
            r.deliver((List) LazilyPersistentVector.createOwning(items));
          }
        });
      } else if (remaining.decrementAndGet() == 0) {
        r.deliver((List) LazilyPersistentVector.createOwning(items));
      }
    }
    return r;
  }

  /**
   * A {@link CompletableFuture} completed with this fut's outcome.
   *
   * @return a new completable future
   */
  public CompletableFuture<T> toCompletableFuture() {
    CompletableFuture<T> cf = new CompletableFuture<>();
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
   *
   * @param stage a completion stage, such as a {@link CompletableFuture}
   * @param <T> the type of the value
   * @return a fut of the stage's outcome
   */
  public static <T> Fut<T> from(CompletionStage<? extends T> stage) {
    Fut<T> r = new Fut<>();
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
   *
   * @param millis the time limit in milliseconds
   * @param scheduler where the timer runs
   * @return a fut with the same outcome, or a timeout
   */
  public Fut<T> withTimeout(long millis, ScheduledExecutorService scheduler) {
    if (isDone()) {
      return this;
    }
    Fut<T> r = new Fut<>();
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
   *
   * @param millis the time limit in milliseconds
   * @return a fut with the same outcome, or a timeout
   */
  public Fut<T> withTimeout(long millis) {
    return withTimeout(millis, SharedTimer.INSTANCE);
  }

  /**
   * {@link #withTimeout(long)} with a {@link Duration} (at millisecond precision).
   *
   * @param timeout the time limit
   * @return a fut with the same outcome, or a timeout
   */
  public Fut<T> withTimeout(Duration timeout) {
    return withTimeout(timeout.toMillis());
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
