package peloton.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import peloton.reactor.Reactor;

/**
 * The reactor against the JDK's executors doing the same work: timers inserted and fired, and tasks
 * submitted from another thread and run. Each invocation moves a batch of 1,000 and waits for the
 * last, so the numbers are per task including the hand-off.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ReactorBench {
  private static final int BATCH = 1000;

  private Reactor reactor;
  private ExecutorService single;
  private ScheduledThreadPoolExecutor scheduled;

  @Setup(Level.Trial)
  public void setup() {
    reactor = new Reactor("bench").start(true);
    single = Executors.newSingleThreadExecutor();
    scheduled = new ScheduledThreadPoolExecutor(1);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    reactor.stop();
    single.shutdown();
    scheduled.shutdown();
  }

  /** Reactor: from its own thread, insert 1,000 due timers; they fire in order. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void reactorTimerInsertFire() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(BATCH);
    reactor.submit(() -> {
      for (int i = 0; i < BATCH; i++) {
        reactor.schedule(0, TimeUnit.NANOSECONDS, done::countDown);
      }
    });
    done.await();
  }

  /** ScheduledThreadPoolExecutor: the same 1,000 due timers, inserted on its thread. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void jdkTimerInsertFire() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(BATCH);
    scheduled.execute(() -> {
      for (int i = 0; i < BATCH; i++) {
        scheduled.schedule(done::countDown, 0, TimeUnit.NANOSECONDS);
      }
    });
    done.await();
  }

  /** Reactor: 1,000 tasks submitted from this thread, run on the reactor thread. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void reactorCrossThreadSubmit() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(BATCH);
    for (int i = 0; i < BATCH; i++) {
      reactor.submit(done::countDown);
    }
    done.await();
  }

  /** A single-thread ExecutorService: the same 1,000 tasks. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void jdkCrossThreadSubmit() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(BATCH);
    for (int i = 0; i < BATCH; i++) {
      single.execute(done::countDown);
    }
    done.await();
  }
}
