package peloton.fut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FutTest {

  @Test
  void callbacksBeforeAndAfterDeliveryRunOnceInOrder() {
    Fut<Integer> f = new Fut<>();
    List<Object> seen = new ArrayList<>();
    f.onComplete((v, e) -> seen.add("a" + v));
    f.onComplete((v, e) -> seen.add("b" + v));
    assertTrue(seen.isEmpty());
    assertFalse(f.isDone());
    assertTrue(f.deliver(1));
    assertEquals(List.of("a1", "b1"), seen);
    f.onComplete((v, e) -> seen.add("c" + v));
    assertEquals(List.of("a1", "b1", "c1"), seen);
    assertFalse(f.deliver(2));
    assertFalse(f.fail(new RuntimeException()));
    int one = f.value();
    assertEquals(1, one);
    assertEquals(3, seen.size());
  }

  @Test
  void nullIsAValue() {
    Fut<String> f = new Fut<>();
    f.deliver(null);
    assertTrue(f.isDone());
    assertFalse(f.isFailed());
    assertNull(f.value());
    assertNull(f.join());
  }

  @Test
  void failureKeepsTheExceptionObject() {
    RuntimeException boom = new RuntimeException("boom");
    Fut<Integer> f = Fut.<String>failed(boom).map(v -> v + "!").then(v -> Fut.of(v.length()));
    assertTrue(f.isFailed());
    assertSame(boom, f.error());
    assertSame(boom, assertThrows(RuntimeException.class, f::join));
  }

  @Test
  void joinWrapsCheckedErrorsOnly() {
    IOException io = new IOException("io");
    CompletionException ce = assertThrows(CompletionException.class, () -> Fut.failed(io).join());
    assertSame(io, ce.getCause());
    IllegalStateException ise = new IllegalStateException("as is");
    assertSame(ise, assertThrows(IllegalStateException.class, () -> Fut.failed(ise).join()));
    assertSame(ise, assertThrows(IllegalStateException.class, () -> Fut.failed(ise).get()));
  }

  @Test
  void getWithTimeoutFollowsTheFutureContract() throws Exception {
    Fut<String> never = new Fut<>();
    assertThrows(TimeoutException.class, () -> never.get(10, TimeUnit.MILLISECONDS));
    assertFalse(never.isDone());
    IOException io = new IOException("io");
    ExecutionException ee =
        assertThrows(ExecutionException.class, () -> Fut.failed(io).get(1, TimeUnit.SECONDS));
    assertSame(io, ee.getCause());
    String v = Fut.of("now").get(1, TimeUnit.SECONDS);
    assertEquals("now", v);
  }

  @Test
  void derefWithTimeoutAnswersTimeoutValue() {
    assertEquals(":none", new Fut<Integer>().deref(10, ":none"));
    assertEquals(5, Fut.of(5).deref(10, ":none"));
  }

  @Test
  void blockingAccessorsWaitForAnotherThread() throws Exception {
    Fut<String> f = new Fut<>();
    Thread t = new Thread(() -> f.deliver("late"));
    t.start();
    String late = f.get(5, TimeUnit.SECONDS);
    assertEquals("late", late);
    assertEquals("late", f.join());
    t.join();
  }

  @Test
  void exceptionInFunctionFailsResult() {
    IllegalArgumentException iae = new IllegalArgumentException("bad");
    Fut<String> m = Fut.of(1).map(v -> {
      throw iae;
    });
    assertSame(iae, m.error());
    Fut<String> t = Fut.of(1).then(v -> {
      throw iae;
    });
    assertSame(iae, t.error());
  }

  @Test
  void thenFlattensAndRecoverCatches() {
    Fut<Integer> inner = new Fut<>();
    Fut<Integer> r = Fut.of(2).then(v -> inner).map(v -> v * 10);
    assertFalse(r.isDone());
    inner.deliver(4);
    assertEquals(40, r.value());

    RuntimeException boom = new RuntimeException("boom");
    AtomicReference<Throwable> caught = new AtomicReference<>();
    Fut<String> rec = Fut.<String>failed(boom).recover(e -> {
      caught.set(e);
      return "fallback";
    });
    assertSame(boom, caught.get());
    assertEquals("fallback", rec.value());
    assertEquals(7, Fut.of(7).recover(e -> 0).value());

    Fut<String> retry = new Fut<>();
    Fut<String> recWith = Fut.<String>failed(boom).recoverWith(e -> retry);
    assertFalse(recWith.isDone());
    retry.deliver("second try");
    assertEquals("second try", recWith.value());
    assertSame(boom, Fut.<String>failed(new IOException()).recoverWith(e -> Fut.failed(boom)).error());
  }

  @Test
  void ensureRunsEitherWayAndKeepsOutcome() {
    AtomicInteger runs = new AtomicInteger();
    assertEquals(1, Fut.of(1).ensure(runs::incrementAndGet).value());
    RuntimeException boom = new RuntimeException();
    assertSame(boom, Fut.failed(boom).ensure(runs::incrementAndGet).error());
    assertEquals(2, runs.get());
    IllegalStateException inFinally = new IllegalStateException();
    assertSame(inFinally, Fut.of(1).ensure(() -> {
      throw inFinally;
    }).error());
  }

  @Test
  void allCollectsInOrderAndFailsOnFirstError() {
    Fut<String> a = new Fut<>();
    Fut<String> b = new Fut<>();
    Fut<List<String>> all = Fut.all(a, b, Fut.of("plain"));
    b.deliver("B");
    assertFalse(all.isDone());
    a.deliver("A");
    List<String> values = all.value();
    assertEquals(List.of("A", "B", "plain"), values);
    assertThrows(UnsupportedOperationException.class, () -> values.add("more"));
    assertEquals(List.of(), Fut.all(List.<Fut<String>>of()).value());

    Fut<Integer> c = new Fut<>();
    RuntimeException boom = new RuntimeException();
    Fut<List<Integer>> failing = Fut.all(List.of(c, Fut.failed(boom)));
    assertSame(boom, failing.error());
  }

  @Test
  void completableFutureInterop() throws Exception {
    Fut<Integer> f = new Fut<>();
    CompletableFuture<Integer> cf = f.toCompletableFuture();
    f.deliver(3);
    assertEquals(3, cf.get(1, TimeUnit.SECONDS));

    CompletableFuture<String> src = new CompletableFuture<>();
    Fut<String> g = Fut.from(src);
    IOException io = new IOException();
    src.completeExceptionally(io);
    assertSame(io, g.error());
    Fut<String> async = Fut.from(CompletableFuture.<String>supplyAsync(() -> {
      throw new IllegalStateException("async");
    }));
    CountDownLatch done = new CountDownLatch(1);
    async.onComplete((v, e) -> done.countDown());
    assertTrue(done.await(5, TimeUnit.SECONDS));
    // supplyAsync wraps in CompletionException; from() unwraps to the thrown exception.
    assertEquals(IllegalStateException.class, async.error().getClass());
  }

  @Test
  void timeoutFailsWithTimeoutExceptionNamingTheTime() throws Exception {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
    try {
      Fut<String> never = new Fut<>();
      Fut<String> t = never.withTimeout(20, s);
      CountDownLatch done = new CountDownLatch(1);
      t.onComplete((v, e) -> done.countDown());
      assertTrue(done.await(5, TimeUnit.SECONDS));
      assertTrue(t.error() instanceof java.util.concurrent.TimeoutException);
      assertTrue(t.error().getMessage().contains("20 ms"), t.error().getMessage());
      assertFalse(never.isDone());

      Fut<String> quick = new Fut<>();
      Fut<String> t2 = quick.withTimeout(60_000);
      quick.deliver("ok");
      assertEquals("ok", t2.value());
      Fut<String> t3 = new Fut<String>().withTimeout(Duration.ofMillis(10));
      ExecutionException late = assertThrows(ExecutionException.class, () -> t3.get(5, TimeUnit.SECONDS));
      assertTrue(late.getCause() instanceof java.util.concurrent.TimeoutException);
    } finally {
      s.shutdownNow();
    }
  }

  @Test
  void executorCallbacksRunOnTheExecutor() throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "cb-exec"));
    try {
      Fut<Integer> f = new Fut<>();
      AtomicReference<String> thread = new AtomicReference<>();
      CountDownLatch ran = new CountDownLatch(1);
      f.onComplete(ex, (v, e) -> {
        thread.set(Thread.currentThread().getName());
        ran.countDown();
      });
      f.deliver(1);
      assertTrue(ran.await(5, TimeUnit.SECONDS));
      assertEquals("cb-exec", thread.get());
    } finally {
      ex.shutdownNow();
    }
  }

  @Test
  void throwingCallbackDoesNotStopOthers() {
    Fut<Integer> f = new Fut<>();
    AtomicInteger n = new AtomicInteger();
    f.onComplete((v, e) -> {
      throw new RuntimeException("callback bug (expected in this test)");
    });
    f.onComplete((v, e) -> n.incrementAndGet());
    f.deliver(1);
    assertEquals(1, n.get());
  }

  private static Fut<String> countDown(int i) {
    return i == 0 ? Fut.of("done") : Fut.of(i).then(v -> countDown(v - 1));
  }

  @Test
  void millionStepSynchronousThenChainIsStackSafe() {
    assertEquals("done", countDown(1_000_000).value());
  }

  @Test
  void millionFutChainCompletedLateIsStackSafe() {
    Fut<Integer> head = new Fut<>();
    Fut<Integer> f = head;
    for (int i = 0; i < 1_000_000; i++) {
      f = f.map(v -> v + 1);
    }
    head.deliver(0);
    assertEquals(1_000_000, f.value());
  }

  @Test
  void concurrentDeliverersExactlyOneWins() throws Exception {
    for (int round = 0; round < 200; round++) {
      Fut<Integer> f = new Fut<>();
      AtomicInteger wins = new AtomicInteger();
      AtomicInteger calls = new AtomicInteger();
      f.onComplete((v, e) -> calls.incrementAndGet());
      CountDownLatch go = new CountDownLatch(1);
      Thread[] ts = new Thread[2];
      for (int i = 0; i < ts.length; i++) {
        final int id = i;
        ts[i] = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException ignored) {
            return;
          }
          f.onComplete((v, e) -> calls.incrementAndGet());
          if (f.deliver(id)) {
            wins.incrementAndGet();
          }
        });
        ts[i].start();
      }
      go.countDown();
      for (Thread t : ts) {
        t.join();
      }
      assertEquals(1, wins.get());
      assertEquals(3, calls.get());
    }
  }
}
