package peloton.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReactorTest {
  private Reactor reactor;

  @BeforeEach
  void start() {
    reactor = new Reactor("test-reactor").start(true);
  }

  @AfterEach
  void stop() throws InterruptedException {
    reactor.stop();
    assertTrue(reactor.awaitTermination(5, TimeUnit.SECONDS));
  }

  private <T> T onReactor(java.util.concurrent.Callable<T> c) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    reactor.submit(() -> {
      try {
        f.complete(c.call());
      } catch (Exception e) {
        f.completeExceptionally(e);
      }
    });
    return f.get(5, TimeUnit.SECONDS);
  }

  @Test
  void pipeBecomesReadableAndCallbackRunsOnReactorThread() throws Exception {
    Pipe pipe = Pipe.open();
    pipe.source().configureBlocking(false);
    CompletableFuture<String> got = new CompletableFuture<>();
    AtomicReference<Thread> ranOn = new AtomicReference<>();
    reactor.watch(pipe.source(), SelectionKey.OP_READ, () -> {
      ranOn.set(Thread.currentThread());
      ByteBuffer b = ByteBuffer.allocate(64);
      try {
        int n = pipe.source().read(b);
        got.complete(new String(b.array(), 0, n, StandardCharsets.UTF_8));
      } catch (Exception e) {
        got.completeExceptionally(e);
      }
    }, false);
    pipe.sink().write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
    assertEquals("hello", got.get(5, TimeUnit.SECONDS));
    assertEquals("test-reactor", ranOn.get().getName());
    assertSame(reactor, onReactor(Reactor::current));
    pipe.sink().close();
    pipe.source().close();
  }

  @Test
  void loopbackAcceptConnectReadWithOnceAndPersistentCallbacks() throws Exception {
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    server.configureBlocking(false);
    CompletableFuture<String> received = new CompletableFuture<>();
    AtomicInteger accepts = new AtomicInteger();
    StringBuilder sb = new StringBuilder();
    reactor.watch(server, SelectionKey.OP_ACCEPT, () -> {
      try {
        SocketChannel c = server.accept();
        if (c == null) {
          return;
        }
        accepts.incrementAndGet();
        c.configureBlocking(false);
        reactor.watch(c, SelectionKey.OP_READ, () -> {
          ByteBuffer b = ByteBuffer.allocate(16);
          try {
            int n = c.read(b);
            if (n < 0) {
              received.complete(sb.toString());
              c.close();
            } else {
              sb.append(new String(b.array(), 0, n, StandardCharsets.US_ASCII));
            }
          } catch (Exception e) {
            received.completeExceptionally(e);
          }
        }, false);
      } catch (Exception e) {
        received.completeExceptionally(e);
      }
    }, true);

    SocketChannel client = SocketChannel.open();
    client.configureBlocking(false);
    CompletableFuture<Void> connected = new CompletableFuture<>();
    reactor.submit(() -> {
      try {
        if (client.connect(server.getLocalAddress())) {
          connected.complete(null);
          return;
        }
        reactor.watch(client, SelectionKey.OP_CONNECT, () -> {
          try {
            client.finishConnect();
            connected.complete(null);
          } catch (Exception e) {
            connected.completeExceptionally(e);
          }
        }, true);
      } catch (Exception e) {
        connected.completeExceptionally(e);
      }
    });
    connected.get(5, TimeUnit.SECONDS);
    String payload = "a longer message than one 16 byte read";
    ByteBuffer out = ByteBuffer.wrap(payload.getBytes(StandardCharsets.US_ASCII));
    while (out.hasRemaining()) {
      client.write(out); // a few dozen bytes: the socket buffer takes them at once
    }
    client.close();
    assertEquals(payload, received.get(5, TimeUnit.SECONDS));
    // The accept callback was one-shot: a second client is not accepted.
    SocketChannel second = SocketChannel.open(server.getLocalAddress());
    CountDownLatch turn = new CountDownLatch(1);
    reactor.later(0.05, turn::countDown);
    assertTrue(turn.await(5, TimeUnit.SECONDS));
    assertEquals(1, accepts.get());
    second.close();
    server.close();
  }

  @Test
  void unwatchStopsCallbacks() throws Exception {
    Pipe pipe = Pipe.open();
    pipe.source().configureBlocking(false);
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Void> first = new CompletableFuture<>();
    reactor.watch(pipe.source(), SelectionKey.OP_READ, () -> {
      calls.incrementAndGet();
      first.complete(null);
      reactor.unwatch(pipe.source(), SelectionKey.OP_READ);
    }, false);
    pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
    first.get(5, TimeUnit.SECONDS);
    // Data stays unread: a level-triggered selector would call again if still watched.
    CountDownLatch turn = new CountDownLatch(1);
    reactor.later(0.05, turn::countDown);
    assertTrue(turn.await(5, TimeUnit.SECONDS));
    assertEquals(1, calls.get());
    pipe.sink().close();
    pipe.source().close();
  }

  @Test
  void hundredThousandTimersFireInDeadlineOrder() throws Exception {
    int n = 100_000;
    List<Timer> fired = new ArrayList<>(n);
    List<Timer> scheduled = new ArrayList<>(n);
    CountDownLatch done = new CountDownLatch(n);
    Random rnd = new Random(42);
    reactor.submit(() -> {
      for (int i = 0; i < n; i++) {
        Timer[] self = new Timer[1];
        self[0] = reactor.schedule(rnd.nextInt(30), TimeUnit.MILLISECONDS, () -> {
          fired.add(self[0]);
          done.countDown();
        });
        scheduled.add(self[0]);
      }
    });
    assertTrue(done.await(30, TimeUnit.SECONDS));
    assertEquals(n, fired.size());
    for (int i = 1; i < n; i++) {
      assertTrue(fired.get(i - 1).compareTo(fired.get(i)) < 0, "timer " + i + " fired out of order");
    }
  }

  @Test
  void equalDeadlinesFireInOrderAdded() throws Exception {
    List<Integer> order = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1000);
    reactor.submit(() -> {
      for (int i = 0; i < 1000; i++) {
        int k = i;
        reactor.schedule(0, TimeUnit.MILLISECONDS, () -> {
          order.add(k);
          done.countDown();
        });
      }
    });
    assertTrue(done.await(5, TimeUnit.SECONDS));
    for (int i = 0; i < 1000; i++) {
      assertEquals(i, order.get(i));
    }
  }

  @Test
  void cancelledTimerDoesNotRun() throws Exception {
    AtomicInteger ran = new AtomicInteger();
    Timer t = reactor.later(0.05, ran::incrementAndGet);
    assertTrue(t.cancel());
    assertFalse(t.cancel());
    CountDownLatch after = new CountDownLatch(1);
    reactor.later(0.1, after::countDown);
    assertTrue(after.await(5, TimeUnit.SECONDS));
    assertEquals(0, ran.get());
    assertTrue(t.isCancelled());
  }

  @Test
  void manyCancelledTimersArePurged() throws Exception {
    int size = onReactor(() -> {
      for (int i = 0; i < 10_000; i++) {
        reactor.later(3600, () -> { }).cancel();
      }
      return 0;
    });
    assertEquals(0, size);
    assertTrue(onReactor(reactor::pendingTimers) < 200);
  }

  @Test
  void submitFromOtherThreadsRunsOnReactorInOrder() throws Exception {
    int perThread = 10_000;
    List<Integer> seen = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(4 * perThread);
    AtomicInteger offThread = new AtomicInteger();
    Thread[] threads = new Thread[4];
    for (int t = 0; t < 4; t++) {
      int base = t * perThread;
      threads[t] = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          int k = base + i;
          reactor.submit(() -> {
            if (!reactor.inReactorThread()) {
              offThread.incrementAndGet();
            }
            seen.add(k);
            done.countDown();
          });
        }
      });
      threads[t].start();
    }
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertEquals(0, offThread.get());
    // Per submitting thread, tasks run in the order submitted.
    int[] last = {-1, -1, -1, -1};
    for (int k : seen) {
      int t = k / perThread;
      assertTrue(k > last[t]);
      last[t] = k;
    }
  }

  @Test
  void throwingCallbacksDoNotStopTheLoop() throws Exception {
    reactor.submit(() -> {
      throw new RuntimeException("task boom (expected by the test)");
    });
    reactor.later(0, () -> {
      throw new IllegalStateException("timer boom (expected by the test)");
    });
    Pipe pipe = Pipe.open();
    pipe.source().configureBlocking(false);
    CompletableFuture<Integer> after = new CompletableFuture<>();
    AtomicInteger calls = new AtomicInteger();
    reactor.watch(pipe.source(), SelectionKey.OP_READ, () -> {
      if (calls.incrementAndGet() == 1) {
        throw new RuntimeException("io boom (expected by the test)");
      }
      after.complete(calls.get());
    }, false);
    pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
    assertEquals(2, after.get(5, TimeUnit.SECONDS));
    assertEquals("still running", onReactor(() -> "still running"));
    pipe.sink().close();
    pipe.source().close();
  }

  @Test
  void idleLoopSleepsUntilTheNextDeadline() throws Exception {
    long before = onReactor(() -> reactor.iterations);
    CountDownLatch fired = new CountDownLatch(1);
    reactor.later(0.3, fired::countDown);
    assertTrue(fired.await(5, TimeUnit.SECONDS));
    long turns = onReactor(() -> reactor.iterations) - before;
    assertTrue(turns < 20, "the loop turned " + turns + " times in 300 ms of idleness");
  }

  @Test
  void stopFromInsideAndFromAnotherThread() throws Exception {
    Reactor inner = new Reactor("inner");
    AtomicInteger count = new AtomicInteger();
    inner.runLoop(() -> inner.later(0, () -> {
      count.incrementAndGet();
      inner.stop();
    }));
    assertEquals(1, count.get());
    assertTrue(inner.isTerminated());

    Reactor other = new Reactor("other").start(true);
    other.stop();
    assertTrue(other.awaitTermination(5, TimeUnit.SECONDS));
    assertThrows(IllegalStateException.class, other::start);
  }

  @Test
  void groupRunsOneReactorPerThreadRoundRobin() throws Exception {
    ReactorGroup g = new ReactorGroup(3, "g").start(true);
    try {
      List<Reactor> picked = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        picked.add(g.next());
      }
      assertEquals(picked.subList(0, 3), picked.subList(3, 6));
      assertEquals(3, picked.subList(0, 3).stream().distinct().count());
      for (Reactor r : g.reactors()) {
        CompletableFuture<String> name = new CompletableFuture<>();
        r.submit(() -> name.complete(Thread.currentThread().getName()));
        assertNotNull(name.get(5, TimeUnit.SECONDS));
        assertEquals(r.name(), name.get());
      }
    } finally {
      g.stop();
      assertTrue(g.awaitTermination(5, TimeUnit.SECONDS));
    }
  }

  /** A connected pair on loopback: [0] accepted (non-blocking), [1] the client (blocking). */
  private static SocketChannel[] loopbackPair() throws Exception {
    try (ServerSocketChannel ss = ServerSocketChannel.open()) {
      ss.bind(new InetSocketAddress("127.0.0.1", 0));
      SocketChannel client = SocketChannel.open(ss.getLocalAddress());
      SocketChannel accepted = ss.accept();
      accepted.configureBlocking(false);
      return new SocketChannel[] {accepted, client};
    }
  }

  /** Reads the client side until EOF; answers -1 once the server side has closed. */
  private static int readToEof(SocketChannel client) throws Exception {
    client.socket().setSoTimeout(5000);
    return client.socket().getInputStream().read();
  }

  @Test
  void closeDeregisteredClosesAfterTheSelectorDropsTheKeyEvenWhenTheLoopIsIdle() throws Exception {
    SocketChannel[] pair = loopbackPair();
    SocketChannel s = pair[0];
    CompletableFuture<Boolean> registeredAtClose = new CompletableFuture<>();
    boolean openAfterCall = onReactor(() -> {
      SelectionKey key = reactor.register(s, SelectionKey.OP_READ, k -> { });
      reactor.closeDeregistered(key, () -> {
        registeredAtClose.complete(s.isRegistered());
        s.close();
      });
      return s.isOpen();
    });
    assertTrue(openAfterCall, "closed while still registered");
    // Nothing else happens on the reactor: the close must not wait for an event or a task.
    assertEquals(-1, readToEof(pair[1]));
    assertFalse(registeredAtClose.get(5, TimeUnit.SECONDS), "closed before the key was dropped");
    assertFalse(s.isOpen());
    pair[1].close();
  }

  @Test
  void closeDeregisteredClosesAtOnceWithoutAKeyOrOffTheReactorAndAtStop() throws Exception {
    SocketChannel[] a = loopbackPair();
    reactor.closeDeregistered(null, a[0]);
    assertFalse(a[0].isOpen());
    a[1].close();

    SocketChannel[] b = loopbackPair();
    SelectionKey key = onReactor(() -> reactor.register(b[0], SelectionKey.OP_READ, k -> { }));
    reactor.closeDeregistered(key, b[0]); // from the test thread
    assertFalse(b[0].isOpen());
    assertEquals(-1, readToEof(b[1]));
    b[1].close();

    // Queued in the loop's last turn: closed when the loop ends, not leaked.
    Reactor r = new Reactor("closing-at-stop").start(true);
    SocketChannel[] c = loopbackPair();
    CompletableFuture<Void> queued = new CompletableFuture<>();
    r.submit(() -> {
      try {
        SelectionKey k = r.register(c[0], SelectionKey.OP_READ, x -> { });
        r.stop();
        r.closeDeregistered(k, c[0]);
        queued.complete(null);
      } catch (Exception e) {
        queued.completeExceptionally(e);
      }
    });
    queued.get(5, TimeUnit.SECONDS);
    assertTrue(r.awaitTermination(5, TimeUnit.SECONDS));
    assertFalse(c[0].isOpen());
    assertEquals(-1, readToEof(c[1]));
    c[1].close();
  }
}
