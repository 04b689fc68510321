package peloton.fut;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An asynchronous sequence with a bounded buffer and backpressure.
 *
 * <p>A producer calls {@link #put(Object)}, which answers a fut that completes with {@code true}
 * once the value is accepted into the buffer (at once while there is room, later when a take
 * makes room) or {@code false} when the stream is closed. A consumer calls {@link #take()}, which
 * answers a fut of the next value, of {@link #EOF} once the stream is closed and drained, or
 * failed with the error given to {@link #error(Throwable)} once the values before it are drained.
 * A producer that waits for each put's fut before the next never has more than the buffer's
 * capacity (plus one pending put) in flight.
 *
 * <p>Thread-safe for any number of producers and consumers; one short lock guards the buffer and
 * futs are completed outside it, so callbacks never run under the lock.
 *
 * <pre>{@code
 * Stream<String> lines = new Stream<>(16);
 * Fut<Boolean> done = lines.forEach(line -> log.info("got {}", line));
 * lines.put("one").then(accepted -> lines.put("two")).onComplete((ok, e) -> lines.close());
 * }</pre>
 *
 * <p>From Java, {@link #next()} answers the next value (null at the end), and {@link
 * #forEach(Consumer)} and {@link #consume(Function)} loop with backpressure; {@link #take()} is the
 * untyped form that Clojure's {@code take!} uses, answering the {@link #EOF} marker at the end.
 * Clojure's {@code (stream)} makes a {@link FnStream}, which is also a function: {@code (s x)} puts
 * {@code x}.
 *
 * @param <T> the type of the values
 */
public class Stream<T> {

  /** The value a take answers once the stream is closed and drained. */
  public static final Object EOF = new Object() {
    @Override
    public String toString() {
      return "#<EOF>";
    }
  };

  private static final Fut<Boolean> TRUE = Fut.of(Boolean.TRUE);
  private static final Fut<Boolean> FALSE = Fut.of(Boolean.FALSE);
  private static final Fut<Object> EOF_FUT = Fut.of(EOF);

  private final int capacity;
  private final ArrayDeque<Object> buffer = new ArrayDeque<>();
  /** Pending puts beyond capacity: value, fut, value, fut... */
  private final ArrayDeque<Object> puts = new ArrayDeque<>();
  /** Takes waiting for a value (only while the buffer is empty). */
  private final ArrayDeque<Fut<Object>> takes = new ArrayDeque<>();
  private boolean closed;
  private Throwable error;

  /**
   * A stream whose buffer holds up to {@code capacity} values (0: each put waits for a take).
   *
   * @param capacity the buffer size
   */
  public Stream(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0: " + capacity);
    }
    this.capacity = capacity;
  }

  /** A stream with a buffer of 16 values. */
  public Stream() {
    this(16);
  }

  /**
   * Offers {@code v} (null is a value like any other).
   *
   * @param v the value
   * @return a fut of true once {@code v} is accepted, or of false when the stream is closed
   */
  public Fut<Boolean> put(T v) {
    Fut<Object> taker;
    Fut<Boolean> pending;
    synchronized (this) {
      if (closed) {
        return FALSE;
      }
      taker = takes.poll();
      if (taker == null) {
        if (buffer.size() < capacity) {
          buffer.add(v == null ? NullBox.NULL : v);
          return TRUE;
        }
        pending = new Fut<>();
        puts.add(v == null ? NullBox.NULL : v);
        puts.add(pending);
        return pending;
      }
    }
    taker.deliver(v);
    return TRUE;
  }

  /**
   * Asks for the next value, or the end marker: the untyped take that Clojure's {@code take!}
   * uses. Java code usually wants {@link #next()}.
   *
   * @return a fut of the next value, of {@link #EOF} after close, or failed with the stream's
   *     error; values put before a close or an error are delivered first
   */
  @SuppressWarnings("unchecked")
  public Fut<Object> take() {
    Object v;
    Fut<Boolean> accepted = null;
    synchronized (this) {
      v = buffer.poll();
      if (v != null) {
        if (!puts.isEmpty()) {
          buffer.add(puts.poll());
          accepted = (Fut<Boolean>) puts.poll();
        }
      } else if (!puts.isEmpty()) {
        v = puts.poll();
        accepted = (Fut<Boolean>) puts.poll();
      } else if (error != null) {
        return Fut.failed(error);
      } else if (closed) {
        return EOF_FUT;
      } else {
        Fut<Object> f = new Fut<>();
        takes.add(f);
        return f;
      }
    }
    if (accepted != null) {
      accepted.deliver(Boolean.TRUE);
    }
    return Fut.of(v == NullBox.NULL ? null : v);
  }

  /**
   * Asks for the next value, typed.
   *
   * @return a fut of the next value, of null once the stream is closed and drained (a stream
   *     that carries null values tells the two apart with {@link #take()}), or failed with the
   *     stream's error once the values before it are drained
   */
  @SuppressWarnings("unchecked")
  public Fut<T> next() {
    Fut<Object> f = take();
    if (f == EOF_FUT) {
      return Fut.of(null);
    }
    return f.map(v -> v == EOF ? null : (T) v);
  }

  /**
   * Whether {@code x} is the end marker that {@link #take()} answers after close.
   *
   * @param x a value taken from a stream
   * @return true for {@link #EOF}
   */
  public static boolean isEof(Object x) {
    return x == EOF;
  }

  /** Ends the stream: later puts answer false; takes answer {@link #EOF} once drained. */
  public void close() {
    end(null);
  }

  /**
   * Ends the stream with {@code t}: later puts answer false; takes fail with {@code t} once the
   * values put before are drained. Ignored when the stream is already closed.
   *
   * @param t the error
   */
  public void error(Throwable t) {
    end(t == null ? new NullPointerException("stream error") : t);
  }

  private void end(Throwable t) {
    Object[] waiting;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      error = t;
      waiting = takes.toArray();
      takes.clear();
    }
    for (Object o : waiting) {
      @SuppressWarnings("unchecked")
      Fut<Object> f = (Fut<Object>) o;
      if (t != null) {
        f.fail(t);
      } else {
        f.deliver(EOF);
      }
    }
  }

  /**
   * Ends the stream from the consumer's side: drops the buffered values and the pending puts,
   * answers every pending put with false and every pending take with {@link #EOF}; later puts
   * answer false and takes {@link #EOF}. Unlike {@link #close()} (the producer's "no more"), it
   * tells a producer waiting for room to stop now. Works on a closed stream too (its values are
   * dropped).
   */
  @SuppressWarnings("unchecked")
  public void cancel() {
    Object[] waitingTakes;
    Object[] pending;
    synchronized (this) {
      closed = true;
      error = null;
      buffer.clear();
      pending = puts.toArray();
      puts.clear();
      waitingTakes = takes.toArray();
      takes.clear();
    }
    for (int i = 1; i < pending.length; i += 2) {
      ((Fut<Boolean>) pending[i]).deliver(Boolean.FALSE);
    }
    for (Object f : waitingTakes) {
      ((Fut<Object>) f).deliver(EOF);
    }
  }

  /**
   * Whether the stream is closed.
   *
   * @return true once {@link #close()}, {@link #cancel()} or {@link #error(Throwable)} was called
   */
  public synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Whether the stream is closed and empty.
   *
   * @return true when the stream is closed and no value is left to take
   */
  public synchronized boolean isDrained() {
    return closed && buffer.isEmpty() && puts.isEmpty();
  }

  /**
   * Takes every value in turn and calls {@code f} with it; when {@code f} answers a fut, the next
   * take waits for it (so a slow consumer slows the producer). Stack-safe however many values are
   * already buffered.
   *
   * @param f called with each value
   * @return a fut of true at end of stream, or failed with the stream's error or the first
   *     exception (or failed fut) from {@code f}, after which no more values are taken
   */
  public Fut<Boolean> consume(Function<? super T, ?> f) {
    Fut<Boolean> done = new Fut<>();
    next(f, done);
    return done;
  }

  /**
   * Calls {@code action} with each value in turn, as {@link #consume(Function)} does.
   *
   * @param action called with each value
   * @return a fut of true at end of stream, or failed with the stream's error or the first
   *     exception from {@code action}
   */
  public Fut<Boolean> forEach(Consumer<? super T> action) {
    return consume(v -> {
      action.accept(v);
      return null;
    });
  }

  @SuppressWarnings("unchecked")
  private void next(Function<? super T, ?> f, Fut<Boolean> done) {
    take().onComplete((v, e) -> {
      if (e != null) {
        done.fail(e);
        return;
      }
      if (v == EOF) {
        done.deliver(Boolean.TRUE);
        return;
      }
      Object r;
      try {
        r = f.apply((T) v);
      } catch (Throwable t) {
        done.fail(t);
        return;
      }
      if (r instanceof Fut) {
        ((Fut<?>) r).onComplete((v2, e2) -> {
          if (e2 != null) {
            done.fail(e2);
          } else {
            next(f, done);
          }
        });
      } else {
        next(f, done);
      }
    });
  }

  @Override
  public synchronized String toString() {
    return "#<Stream " + buffer.size() + "/" + capacity + (closed ? " closed>" : ">");
  }

  /** Stands for null inside the buffer, where ArrayDeque allows no null. */
  private enum NullBox {
    NULL
  }
}
