package peloton.fut;

import clojure.lang.IFn;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run-time support for the {@code dofut} and {@code dofut-concurrent} macros of {@code
 * peloton.fut}; Java code has {@link Fut#then} and {@link Fut#all} instead. Its futs are untyped
 * ({@code Fut<Object>}), as Clojure values are; those it makes are {@link FnFut}s. Every continuation is
 * dispatched through the fut trampoline, so loops written with the macros use bounded stack.
 */
public final class Dofut {
  private Dofut() {}

  /**
   * One {@code dofut} binding: evaluates {@code producer}, waits for its value (a fut, a {@link
   * CompletionStage} or a plain value) and calls {@code k} with it. An exception from {@code
   * producer} or {@code k}, or a failed fut, fails {@code result}. When {@code last} is true,
   * {@code k}'s answer (the body's value, flattened when it is a fut) completes {@code result}.
   *
   * @param result the fut the whole {@code dofut} answers
   * @param producer evaluates the binding's expression
   * @param k the rest of the {@code dofut}, a function of the binding's value
   * @param last whether {@code k} is the body
   */
  public static void step(Fut<Object> result, IFn producer, IFn k, boolean last) {
    Object x;
    try {
      x = producer.invoke();
    } catch (Throwable t) {
      result.fail(t);
      return;
    }
    toFut(x).onComplete((v, e) -> {
      if (e != null) {
        result.fail(e);
        return;
      }
      Object y;
      try {
        y = k.invoke(v);
      } catch (Throwable t) {
        result.fail(t);
        return;
      }
      if (last) {
        result.followAny(y);
      }
    });
  }

  /**
   * Evaluates {@code body} (a {@code dofut} without bindings) into a fut: its value, flattened
   * when it is a fut; an exception it throws fails the answer.
   *
   * @param body a function of no arguments
   * @return a fut of the body's value
   */
  public static Fut<Object> run(IFn body) {
    Fut<Object> r = new FnFut<>();
    Fut.Trampoline.run((v, e) -> {
      Object y;
      try {
        y = body.invoke();
      } catch (Throwable t) {
        r.fail(t);
        return;
      }
      r.followAny(y);
    }, null);
    return r;
  }

  /**
   * Calls {@code k} with the values of {@code deps} (as an {@code Object[]}) once all of them are
   * known, and answers a fut of its answer (flattened). The first failed dependency, or an
   * exception from {@code k}, fails the answer; {@code k} then never runs.
   *
   * @param deps futs, completion stages or plain values
   * @param k a function of one {@code Object[]} argument
   * @return a fut of {@code k}'s answer
   */
  public static Fut<Object> after(Object[] deps, IFn k) {
    Fut<Object> r = new FnFut<>();
    int n = deps.length;
    Object[] vals = new Object[n];
    AtomicInteger remaining = new AtomicInteger(n + 1);
    Fut.Callback<Object> fire = (v0, e0) -> {
      Object y;
      try {
        y = k.invoke(vals);
      } catch (Throwable t) {
        r.fail(t);
        return;
      }
      r.followAny(y);
    };
    for (int i = 0; i < n; i++) {
      final int idx = i;
      toFut(deps[i]).onComplete((v, e) -> {
        if (e != null) {
          r.fail(e);
          return;
        }
        vals[idx] = v;
        if (remaining.decrementAndGet() == 0) {
          fire.call(null, null);
        }
      });
    }
    // The extra count keeps k from running before every dependency is subscribed.
    if (remaining.decrementAndGet() == 0) {
      Fut.Trampoline.run(fire, null);
    }
    return r;
  }

  /**
   * Coerces {@code x} to a fut: a fut as is, a {@link CompletionStage} converted, anything else a
   * delivered fut.
   *
   * @param x a value
   * @return a fut
   */
  @SuppressWarnings("unchecked")
  public static Fut<Object> toFut(Object x) {
    if (x instanceof Fut) {
      return (Fut<Object>) x;
    }
    if (x instanceof CompletionStage) {
      return Fut.from((CompletionStage<?>) x);
    }
    return Fut.of(x);
  }

  /**
   * Clojure's {@code all}: a fut of the vector of the values of {@code xs} (futs, completion
   * stages or plain values), failed with the first error.
   *
   * @param xs futs, completion stages or plain values
   * @return a fut of an immutable list (a Clojure vector)
   */
  public static Fut<List<Object>> all(Object[] xs) {
    return Fut.allOf(xs);
  }
}
