package peloton.fut;

import clojure.lang.AFn;
import clojure.lang.ArityException;
import clojure.lang.IFn;
import clojure.lang.ISeq;

/**
 * The part of Clojure's {@link IFn} that a one-argument function does not use: every other arity
 * throws {@link ArityException}, as {@link AFn} does. It lets {@link FnFut} and {@link
 * FnStream} be Clojure functions while extending the plain Java classes {@link Fut} and {@link
 * Stream}; Java code never needs it.
 */
interface OneArgFn extends IFn {

  private ArityException arity(int n) {
    return new ArityException(n, getClass().getName());
  }

  /**
   * Same as {@link #invoke()}.
   *
   * @return what {@link #invoke()} answers
   */
  @Override
  default Object call() {
    return invoke();
  }

  /** Calls {@link #invoke()}. */
  @Override
  default void run() {
    invoke();
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2) {
    throw arity(2);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3) {
    throw arity(3);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4) {
    throw arity(4);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5) {
    throw arity(5);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6) {
    throw arity(6);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7) {
    throw arity(7);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8) {
    throw arity(8);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9) {
    throw arity(9);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10) {
    throw arity(10);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11) {
    throw arity(11);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12) {
    throw arity(12);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13) {
    throw arity(13);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14) {
    throw arity(14);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15) {
    throw arity(15);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @param a16 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15, Object a16) {
    throw arity(16);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @param a16 ignored
   * @param a17 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15, Object a16, Object a17) {
    throw arity(17);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @param a16 ignored
   * @param a17 ignored
   * @param a18 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15, Object a16, Object a17, Object a18) {
    throw arity(18);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @param a16 ignored
   * @param a17 ignored
   * @param a18 ignored
   * @param a19 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15, Object a16, Object a17, Object a18, Object a19) {
    throw arity(19);
  }

  /**
   * Not supported: throws {@link ArityException}.
   *
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @param a16 ignored
   * @param a17 ignored
   * @param a18 ignored
   * @param a19 ignored
   * @param a20 ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15, Object a16, Object a17, Object a18, Object a19, Object a20) {
    throw arity(20);
  }

  /**
   * Not supported: throws {@link ArityException}.
   * @param a1 ignored
   * @param a2 ignored
   * @param a3 ignored
   * @param a4 ignored
   * @param a5 ignored
   * @param a6 ignored
   * @param a7 ignored
   * @param a8 ignored
   * @param a9 ignored
   * @param a10 ignored
   * @param a11 ignored
   * @param a12 ignored
   * @param a13 ignored
   * @param a14 ignored
   * @param a15 ignored
   * @param a16 ignored
   * @param a17 ignored
   * @param a18 ignored
   * @param a19 ignored
   * @param a20 ignored
   * @param rest ignored
   * @return never
   */
  @Override
  default Object invoke(Object a1, Object a2, Object a3, Object a4, Object a5, Object a6, Object a7, Object a8, Object a9, Object a10, Object a11, Object a12, Object a13, Object a14, Object a15, Object a16, Object a17, Object a18, Object a19, Object a20, Object... rest) {
    throw arity(20 + rest.length);
  }

  /**
   * Calls the arity that matches {@code args}' length.
   *
   * @param args the arguments
   * @return what that arity answers
   */
  @Override
  default Object applyTo(ISeq args) {
    return AFn.applyToHelper(this, args);
  }
}
