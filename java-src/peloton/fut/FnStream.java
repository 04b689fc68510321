package peloton.fut;

import clojure.lang.ArityException;
import clojure.lang.IFn;

/**
 * A {@link Stream} that is also a Clojure function: {@code (s x)} puts {@code x}, like {@code
 * (put! s x)}. Clojure's {@code (stream)} makes these; Java code uses {@link Stream} and never
 * needs this class.
 *
 * @param <T> the type of the values
 */
public final class FnStream<T> extends Stream<T> implements IFn, OneArgFn {

  /**
   * A stream whose buffer holds up to {@code capacity} values.
   *
   * @param capacity the buffer size (0: each put waits for a take)
   */
  public FnStream(int capacity) {
    super(capacity);
  }

  /**
   * Puts {@code v}: Clojure's {@code (s v)}.
   *
   * @param v the value
   * @return the fut that {@link #put} answers
   */
  @Override
  @SuppressWarnings("unchecked")
  public Object invoke(Object v) {
    return put((T) v);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @return never
   */
  @Override
  public Object invoke() {
    throw new ArityException(0, getClass().getName());
  }
}
