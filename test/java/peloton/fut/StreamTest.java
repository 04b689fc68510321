package peloton.fut;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StreamTest {

  @Test
  void putBeyondBufferWaitsForTake() {
    Stream<Object> s = new Stream<>(2);
    assertEquals(true, s.put(1).value());
    assertEquals(true, s.put(2).value());
    Fut<Boolean> third = s.put(3);
    assertFalse(third.isDone());
    assertEquals(1, s.take().value());
    assertEquals(true, third.value());
    assertEquals(2, s.take().value());
    assertEquals(3, s.take().value());
    Fut<Object> waiting = s.take();
    assertFalse(waiting.isDone());
    s.put(null);
    assertTrue(waiting.isDone());
    assertEquals(null, waiting.value());
  }

  @Test
  void zeroCapacityIsARendezvous() {
    Stream<Object> s = new Stream<>(0);
    Fut<Boolean> p = s.put("x");
    assertFalse(p.isDone());
    assertEquals("x", s.take().value());
    assertEquals(true, p.value());
  }

  @Test
  void closeDrainsThenEof() {
    Stream<Object> s = new Stream<>(4);
    Fut<Object> waiting = new Stream<>(1).take();
    s.put("a");
    s.close();
    assertEquals(false, s.put("b").value());
    assertEquals("a", s.take().value());
    assertSame(Stream.EOF, s.take().value());
    assertSame(Stream.EOF, s.take().value());
    assertFalse(waiting.isDone());

    Stream<Object> t = new Stream<>();
    Fut<Object> pendingTake = t.take();
    t.close();
    assertSame(Stream.EOF, pendingTake.value());
  }

  @Test
  void errorReachesConsumerAfterBufferedValues() {
    Stream<Object> s = new Stream<>(4);
    RuntimeException boom = new RuntimeException("boom");
    s.put(1);
    s.error(boom);
    assertEquals(1, s.take().value());
    assertSame(boom, s.take().error());
    Stream<Object> t = new Stream<>();
    Fut<Object> pending = t.take();
    t.error(boom);
    assertSame(boom, pending.error());
  }

  @Test
  void consumeWaitsForFutsAndStopsOnError() {
    Stream<Object> s = new Stream<>(8);
    List<Object> seen = new ArrayList<>();
    AtomicReference<Fut<Object>> gate = new AtomicReference<>();
    Fut<Boolean> done = s.consume(v -> {
      seen.add(v);
      Fut<Object> g = new Fut<>();
      gate.set(g);
      return g;
    });
    s.put(1);
    s.put(2);
    assertEquals(List.of(1), seen);
    gate.get().deliver(null);
    assertEquals(List.of(1, 2), seen);
    s.close();
    assertFalse(done.isDone());
    gate.get().deliver(null);
    assertEquals(true, done.value());

    Stream<Object> e = new Stream<>(8);
    IllegalStateException bad = new IllegalStateException();
    e.put(1);
    e.put(2);
    Fut<Boolean> failed = e.consume(v -> {
      throw bad;
    });
    assertSame(bad, failed.error());
    assertEquals(2, e.take().value());
  }

  @Test
  void consumeOfManyBufferedValuesIsStackSafe() {
    Stream<Object> s = new Stream<>(1_000_000);
    for (int i = 0; i < 1_000_000; i++) {
      s.put(i);
    }
    s.close();
    long[] sum = {0};
    Fut<Boolean> done = s.consume(v -> {
      sum[0] += (Integer) v;
      return null;
    });
    assertEquals(true, done.value());
    assertEquals(499_999_500_000L, sum[0]);
  }

  @Test
  void producerAndConsumerThreadsMoveValuesInOrder() throws Exception {
    int n = 100_000;
    Stream<Object> s = new Stream<>(64);
    Thread producer = new Thread(() -> {
      for (int i = 0; i < n; i++) {
        // Waiting on each put is the backpressure a blocking producer would use.
        s.put(i).deref();
      }
      s.close();
    });
    AtomicReference<String> problem = new AtomicReference<>();
    CountDownLatch finished = new CountDownLatch(1);
    int[] next = {0};
    Thread consumer = new Thread(() -> {
      Fut<Boolean> done = s.consume(v -> {
        if ((Integer) v != next[0] && problem.get() == null) {
          problem.set("expected " + next[0] + " got " + v);
        }
        next[0]++;
        return null;
      });
      done.onComplete((v, e) -> finished.countDown());
    });
    producer.start();
    consumer.start();
    assertTrue(finished.await(30, TimeUnit.SECONDS), "stream did not finish");
    producer.join();
    consumer.join();
    assertEquals(null, problem.get());
    assertEquals(n, next[0]);
  }

  @Test
  void cancelAnswersAPendingPutWithFalseAndDropsWhatIsBuffered() {
    Stream<Object> s = new Stream<>(1);
    assertEquals(true, s.put("a").value());
    Fut<Boolean> waiting = s.put("b");
    assertFalse(waiting.isDone());
    s.cancel();
    assertEquals(false, waiting.value());
    assertSame(Stream.EOF, s.take().value());
    assertEquals(false, s.put("c").value());
    assertTrue(s.isClosed());
    assertTrue(s.isDrained());

    Stream<Object> t = new Stream<>(1);
    Fut<Object> pendingTake = t.take();
    t.cancel();
    assertSame(Stream.EOF, pendingTake.value());
  }

  @Test
  void closeStillLetsTheConsumerDrainPendingPutsAndCancelAfterCloseDropsThem() {
    Stream<Object> s = new Stream<>(1);
    s.put("a");
    Fut<Boolean> waiting = s.put("b");
    s.close();
    assertFalse(waiting.isDone());
    assertEquals("a", s.take().value());
    assertEquals(true, waiting.value());
    Stream<Object> t = new Stream<>(0);
    Fut<Boolean> p = t.put("y");
    t.close();
    t.cancel();
    assertEquals(false, p.value());
    assertSame(Stream.EOF, t.take().value());
  }
}
