package peloton.bench;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;
import peloton.fut.Fut;

/**
 * Fut against CompletableFuture: one round trip (create, add a callback, deliver) and a
 * three-step asynchronous chain (what a three-binding dofut does), single-threaded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FutBench {

  private IFn dofut3;
  private int n;

  /** Compiles a three-binding dofut once, as a function of three futs. */
  @Setup
  public void setup() {
    Clojure.var("clojure.core", "require").invoke(Clojure.read("peloton.fut"));
    dofut3 = (IFn) Clojure.var("clojure.core", "eval").invoke(Clojure.read(
        "(fn [fa fb fc] (peloton.fut/dofut [a fa b fb c fc] (+ a b c)))"));
  }

  /** Fut: create, one callback, deliver. */
  @Benchmark
  public void futRoundTrip(Blackhole bh) {
    Fut<Integer> f = new Fut<>();
    f.onComplete((v, e) -> bh.consume(v));
    f.deliver(++n);
  }

  /** CompletableFuture: create, one callback, complete. */
  @Benchmark
  public void cfRoundTrip(Blackhole bh) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    f.thenAccept(bh::consume);
    f.complete(++n);
  }

  /** Three dependent async steps with Fut.then, sources delivered after the chain is built. */
  @Benchmark
  public Object futChain3() {
    Fut<Integer> a = new Fut<>();
    Fut<Integer> b = new Fut<>();
    Fut<Integer> c = new Fut<>();
    Fut<Integer> r = a.then(x -> b.then(y -> c.map(z -> x + y + z)));
    a.deliver(1);
    b.deliver(2);
    c.deliver(++n);
    return r.value();
  }

  /** The same chain with CompletableFuture.thenCompose. */
  @Benchmark
  public Object cfChain3() {
    CompletableFuture<Integer> a = new CompletableFuture<>();
    CompletableFuture<Integer> b = new CompletableFuture<>();
    CompletableFuture<Integer> c = new CompletableFuture<>();
    CompletableFuture<Integer> r =
        a.thenCompose(x -> b.thenCompose(y -> c.thenApply(z -> x + y + z)));
    a.complete(1);
    b.complete(2);
    c.complete(++n);
    return r.getNow(null);
  }

  /** The same chain as a Clojure three-binding dofut. */
  @Benchmark
  public Object dofutChain3() {
    Fut<Object> a = new Fut<>();
    Fut<Object> b = new Fut<>();
    Fut<Object> c = new Fut<>();
    Fut<?> r = (Fut<?>) dofut3.invoke(a, b, c);
    a.deliver(1L);
    b.deliver(2L);
    c.deliver((long) ++n);
    return r.value();
  }
}
