package peloton.fut;

import clojure.lang.AFn;
import java.util.ArrayDeque;
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
 * futs are completed outside it, so callbacks never run under the lock. From Clojure, {@code (s
 * x)} puts {@code x}.
 */
public final class Stream extends AFn {

  /** The value a take answers once the stream is closed and drained. */
  public static final Object EOF = new Object() {
    @Override
    public String toString() {
      return "#<EOF>";
    }
  };

  private static final Fut TRUE = Fut.of(Boolean.TRUE);
  private static final Fut FALSE = Fut.of(Boolean.FALSE);
  private static final Fut EOF_FUT = Fut.of(EOF);

  private final int capacity;
  private final ArrayDeque<Object> buffer = new ArrayDeque<>();
  /** Pending puts beyond capacity: value, fut, value, fut... */
  private final ArrayDeque<Object> puts = new ArrayDeque<>();
  /** Takes waiting for a value (only while the buffer is empty). */
  private final ArrayDeque<Fut> takes = new ArrayDeque<>();
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
  public Fut put(Object v) {
    Fut taker;
    Fut pending;
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
        pending = new Fut();
        puts.add(v == null ? NullBox.NULL : v);
        puts.add(pending);
        return pending;
      }
    }
    taker.deliver(v);
    return TRUE;
  }

  /**
   * Asks for the next value.
   *
   * @return a fut of the next value, of {@link #EOF} after close, or failed with the stream's
   *     error; values put before a close or an error are delivered first
   */
  public Fut take() {
    Object v;
    Fut accepted = null;
    synchronized (this) {
      v = buffer.poll();
      if (v != null) {
        if (!puts.isEmpty()) {
          buffer.add(puts.poll());
          accepted = (Fut) puts.poll();
        }
      } else if (!puts.isEmpty()) {
        v = puts.poll();
        accepted = (Fut) puts.poll();
      } else if (error != null) {
        return Fut.failed(error);
      } else if (closed) {
        return EOF_FUT;
      } else {
        Fut f = new Fut();
        takes.add(f);
        return f;
      }
    }
    if (accepted != null) {
      accepted.deliver(Boolean.TRUE);
    }
    return Fut.of(v == NullBox.NULL ? null : v);
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
    Fut[] waiting;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      error = t;
      waiting = takes.toArray(new Fut[0]);
      takes.clear();
    }
    for (Fut f : waiting) {
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
  public void cancel() {
    Fut[] waitingTakes;
    Object[] pending;
    synchronized (this) {
      closed = true;
      error = null;
      buffer.clear();
      pending = puts.toArray();
      puts.clear();
      waitingTakes = takes.toArray(new Fut[0]);
      takes.clear();
    }
    for (int i = 1; i < pending.length; i += 2) {
      ((Fut) pending[i]).deliver(Boolean.FALSE);
    }
    for (Fut f : waitingTakes) {
      f.deliver(EOF);
    }
  }

  /** @return true once {@link #close()}, {@link #cancel()} or {@link #error(Throwable)} was called */
  public synchronized boolean isClosed() {
    return closed;
  }

  /** @return true when the stream is closed and no value is left to take */
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
  public Fut consume(Function<Object, Object> f) {
    Fut done = new Fut();
    next(f, done);
    return done;
  }

  private void next(Function<Object, Object> f, Fut done) {
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
        r = f.apply(v);
      } catch (Throwable t) {
        done.fail(t);
        return;
      }
      if (r instanceof Fut) {
        ((Fut) r).onComplete((v2, e2) -> {
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

  /** Puts {@code v}: {@code (s v)} from Clojure. */
  @Override
  public Object invoke(Object v) {
    return put(v);
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
