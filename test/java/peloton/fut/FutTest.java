package peloton.fut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import clojure.lang.ExceptionInfo;
import clojure.lang.PersistentArrayMap;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FutTest {

  @Test
  void callbacksBeforeAndAfterDeliveryRunOnceInOrder() {
    Fut f = new Fut();
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
    assertEquals(1, f.value());
    assertEquals(3, seen.size());
  }

  @Test
  void invokeDeliversAndThrowsWhenAlreadyDelivered() {
    Fut f = new Fut();
    f.invoke("x");
    assertEquals("x", f.deref());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.invoke("y"));
    assertTrue(e.getMessage().startsWith("fut already delivered"), e.getMessage());
    assertSame(f, f.invoke());
  }

  @Test
  void nullIsAValue() {
    Fut f = new Fut();
    f.deliver(null);
    assertTrue(f.isDone());
    assertFalse(f.isFailed());
    assertNull(f.value());
    assertNull(f.deref());
  }

  @Test
  void failureKeepsTheExceptionObject() {
    RuntimeException boom = new RuntimeException("boom");
    Fut f = Fut.failed(boom).map(v -> v).then(v -> v);
    assertTrue(f.isFailed());
    assertSame(boom, f.error());
    assertSame(boom, assertThrows(RuntimeException.class, f::deref));
  }

  @Test
  void derefWrapsCheckedAndKeepsExInfo() {
    IOException io = new IOException("io");
    CompletionException ce = assertThrows(CompletionException.class, () -> Fut.failed(io).deref());
    assertSame(io, ce.getCause());
    ExceptionInfo ei = new ExceptionInfo("info", PersistentArrayMap.EMPTY);
    assertSame(ei, assertThrows(ExceptionInfo.class, () -> Fut.failed(ei).deref()));
  }

  @Test
  void derefWithTimeoutAnswersTimeoutValue() {
    assertEquals(":none", new Fut().deref(10, ":none"));
    assertEquals(5, Fut.of(5).deref(10, ":none"));
  }

  @Test
  void derefBlocksUntilAnotherThreadDelivers() throws Exception {
    Fut f = new Fut();
    Thread t = new Thread(() -> f.deliver("late"));
    t.start();
    assertEquals("late", f.deref(5000, ":timeout"));
    t.join();
  }

  @Test
  void exceptionInFunctionFailsResult() {
    IllegalArgumentException iae = new IllegalArgumentException("bad");
    Fut m = Fut.of(1).map(v -> {
      throw iae;
    });
    assertSame(iae, m.error());
    Fut t = Fut.of(1).then(v -> {
      throw iae;
    });
    assertSame(iae, t.error());
  }

  @Test
  void thenFlattensAndRecoverCatches() {
    Fut inner = new Fut();
    Fut r = Fut.of(2).then(v -> inner).map(v -> (Integer) v * 10);
    assertFalse(r.isDone());
    inner.deliver(4);
    assertEquals(40, r.value());

    RuntimeException boom = new RuntimeException("boom");
    AtomicReference<Throwable> caught = new AtomicReference<>();
    Fut rec = Fut.failed(boom).recover(e -> {
      caught.set(e);
      return Fut.of("fallback");
    });
    assertSame(boom, caught.get());
    assertEquals("fallback", rec.value());
    assertEquals(7, Fut.of(7).recover(e -> 0).value());
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
    Fut a = new Fut();
    Fut b = new Fut();
    Fut all = Fut.all(a, b, "plain");
    b.deliver("B");
    assertFalse(all.isDone());
    a.deliver("A");
    assertEquals(List.of("A", "B", "plain"), all.value());
    assertEquals(List.of(), Fut.all(List.of()).value());

    Fut c = new Fut();
    RuntimeException boom = new RuntimeException();
    Fut failing = Fut.all(List.of(c, Fut.failed(boom)));
    assertSame(boom, failing.error());
  }

  @Test
  void completableFutureInterop() throws Exception {
    Fut f = new Fut();
    CompletableFuture<Object> cf = f.toCompletableFuture();
    f.deliver(3);
    assertEquals(3, cf.get(1, TimeUnit.SECONDS));

    CompletableFuture<Object> src = new CompletableFuture<>();
    Fut g = Fut.from(src);
    IOException io = new IOException();
    src.completeExceptionally(io);
    assertSame(io, g.error());
    Fut async = Fut.from(CompletableFuture.supplyAsync(() -> {
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
      Fut never = new Fut();
      Fut t = never.withTimeout(20, s);
      CountDownLatch done = new CountDownLatch(1);
      t.onComplete((v, e) -> done.countDown());
      assertTrue(done.await(5, TimeUnit.SECONDS));
      assertTrue(t.error() instanceof java.util.concurrent.TimeoutException);
      assertTrue(t.error().getMessage().contains("20 ms"), t.error().getMessage());
      assertFalse(never.isDone());

      Fut quick = new Fut();
      Fut t2 = quick.withTimeout(60_000);
      quick.deliver("ok");
      assertEquals("ok", t2.value());
    } finally {
      s.shutdownNow();
    }
  }

  @Test
  void executorCallbacksRunOnTheExecutor() throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "cb-exec"));
    try {
      Fut f = new Fut();
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
    Fut f = new Fut();
    AtomicInteger n = new AtomicInteger();
    f.onComplete((v, e) -> {
      throw new RuntimeException("callback bug (expected in this test)");
    });
    f.onComplete((v, e) -> n.incrementAndGet());
    f.deliver(1);
    assertEquals(1, n.get());
  }

  private static Fut countDown(int i) {
    return i == 0 ? Fut.of("done") : Fut.of(i).then(v -> countDown((Integer) v - 1));
  }

  @Test
  void millionStepSynchronousThenChainIsStackSafe() {
    assertEquals("done", countDown(1_000_000).value());
  }

  @Test
  void millionFutChainCompletedLateIsStackSafe() {
    Fut head = new Fut();
    Fut f = head;
    for (int i = 0; i < 1_000_000; i++) {
      f = f.map(v -> (Integer) v + 1);
    }
    head.deliver(0);
    assertEquals(1_000_000, f.value());
  }

  @Test
  void concurrentDeliverersExactlyOneWins() throws Exception {
    for (int round = 0; round < 200; round++) {
      Fut f = new Fut();
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
