package peloton.fut;

import clojure.lang.IFn;

/**
 * A {@link Fut} that is also a Clojure function, as the original Peloton's futs were: {@code (f
 * v)} delivers {@code v} (and throws when {@code f} is already complete), {@code (f)} answers the
 * fut itself. Clojure's {@code (fut)}, {@code dofut} and {@code to-fut} make these; Java code uses
 * {@link Fut} and {@link Fut#deliver} and never needs this class.
 *
 * @param <T> the type of the value
 */
public final class FnFut<T> extends Fut<T> implements IFn, OneArgFn {

  /** Creates a pending fut that is also a function. */
  public FnFut() {}

  /**
   * Delivers {@code v}: Clojure's {@code (f v)}.
   *
   * @param v the value
   * @return nil
   * @throws IllegalStateException when the fut is already complete
   */
  @Override
  public Object invoke(Object v) {
    if (!completeAny(v, null)) {
      throw new IllegalStateException("fut already delivered, cannot deliver " + v);
    }
    return null;
  }

  /**
   * Answers this fut itself: {@code (f)} is the fut (the original Peloton's zero-arity call).
   *
   * @return this fut
   */
  @Override
  public Object invoke() {
    return this;
  }
}
