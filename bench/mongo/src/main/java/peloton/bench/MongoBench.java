package peloton.bench;

import clojure.lang.Keyword;
import clojure.lang.PersistentArrayMap;
import com.mongodb.client.model.Filters;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.bson.Document;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import peloton.fut.Fut;
import peloton.mongo.MongoClient;
import peloton.mongo.MongoOptions;
import peloton.reactor.Reactor;
import peloton.reactor.ReactorGroup;

/**
 * Single-document inserts and finds by _id through Peloton (one connection; a pool) and the
 * official drivers (sync with threads; reactive streams), against mongo-java-server in its own
 * JVM. Reports ops/s and this process's CPU seconds per 10,000 ops.
 *
 * <p>Usage: java -cp ... peloton.bench.MongoBench [ops-per-phase] [in-flight]
 */
public final class MongoBench {
  static final Keyword ID = Keyword.intern("_id");
  static final Keyword NAME = Keyword.intern("name");
  static final Keyword N = Keyword.intern("n");

  interface AsyncOp {
    /** Starts op i; calls done.run() when it completes (errors abort the run). */
    void start(int i, Runnable done, java.util.function.Consumer<Throwable> fail);
  }

  static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  static void report(String name, int ops, long wallNanos, long cpuNanos) {
    System.out.printf("%-34s %9.0f ops/s   %6.3f CPU s / 10k ops%n", name,
        ops / (wallNanos / 1e9), cpuNanos / 1e9 * 10_000 / ops);
  }

  /** Runs ops 0..n-1 keeping {@code window} in flight. */
  static void runAsync(String name, int n, int window, AsyncOp op, boolean print) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    AtomicReference<Throwable> error = new AtomicReference<>();
    Runnable[] step = new Runnable[1];
    step[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= n) {
        return;
      }
      op.start(i, () -> {
        if (finished.incrementAndGet() == n) {
          done.countDown();
        } else {
          step[0].run();
        }
      }, e -> {
        error.set(e);
        done.countDown();
      });
    };
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    for (int w = 0; w < window; w++) {
      step[0].run();
    }
    if (!done.await(300, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " did not finish");
    }
    long wall = System.nanoTime() - t0;
    long cpu = cpuNanos() - cpu0;
    if (error.get() != null) {
      throw new IllegalStateException(name + " failed", error.get());
    }
    if (print) {
      report(name, n, wall, cpu);
    }
  }

  static void runThreads(String name, int n, int threads, IntFunction<Object> op, boolean print) throws Exception {
    AtomicInteger next = new AtomicInteger();
    List<Thread> ts = new ArrayList<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          int i;
          while ((i = next.getAndIncrement()) < n) {
            op.apply(i);
          }
        } catch (Throwable e) {
          error.set(e);
        }
      });
      ts.add(th);
      th.start();
    }
    for (Thread th : ts) {
      th.join();
    }
    long wall = System.nanoTime() - t0;
    long cpu = cpuNanos() - cpu0;
    if (error.get() != null) {
      throw new IllegalStateException(name + " failed", error.get());
    }
    if (print) {
      report(name, n, wall, cpu);
    }
  }

  static AsyncOp pelotonInsert(MongoClient c, String ns, int offset) {
    return (i, done, fail) -> c.insert(ns, List.of(PersistentArrayMap.createAsIfByAssoc(
        new Object[] {ID, (long) (i + offset), NAME, "x" + i, N, (long) i}))).onComplete((v, e) -> {
          if (e != null) {
            fail.accept(e);
          } else {
            done.run();
          }
        });
  }

  /**
   * {@code op} started on the reactors of {@code group} in turn, as an HTTP handler would start it:
   * the pool then gives each reactor connections of its own, and every callback runs on the
   * reactor that started the operation.
   */
  static AsyncOp onReactors(ReactorGroup group, AsyncOp op) {
    return (i, done, fail) -> group.reactors().get(i % group.size()).execute(() -> op.start(i, done, fail));
  }

  static AsyncOp pelotonFind(MongoClient c, String ns, int range) {
    SplittableRandom rnd = new SplittableRandom(1);
    return (i, done, fail) -> {
      long id;
      synchronized (rnd) {
        id = rnd.nextInt(range);
      }
      c.findOne(ns, PersistentArrayMap.createAsIfByAssoc(new Object[] {ID, id}), null).onComplete((v, e) -> {
        if (e != null || v == null) {
          fail.accept(e != null ? e : new IllegalStateException("not found: " + id));
        } else {
          done.run();
        }
      });
    };
  }

  static <T> void subscribe(Publisher<T> p, Runnable done, java.util.function.Consumer<Throwable> fail, boolean needValue) {
    p.subscribe(new Subscriber<T>() {
      boolean got;

      @Override
      public void onSubscribe(Subscription s) {
        s.request(1);
      }

      @Override
      public void onNext(T t) {
        got = true;
      }

      @Override
      public void onError(Throwable t) {
        fail.accept(t);
      }

      @Override
      public void onComplete() {
        if (needValue && !got) {
          fail.accept(new IllegalStateException("no document"));
        } else {
          done.run();
        }
      }
    });
  }

  /** The JSON the route answers for one document: {"_id":..,"name":".."} (names are plain ASCII here). */
  static String json(Object id, Object name) {
    return "{\"_id\":" + id + ",\"name\":\"" + name + "\"}";
  }

  /**
   * One HTTP + MongoDB row: {@code wrk} loads {@code GET /doc/<random id>} on {@code server} for
   * {@code seconds}; reports requests/s and this process's CPU (HTTP server and MongoDB client
   * together) per 10,000 requests.
   */
  static void httpRow(String name, peloton.http.server.HttpServer server, int ids, int seconds, int connections)
      throws Exception {
    java.nio.file.Path lua = java.nio.file.Files.createTempFile("doc", ".lua");
    java.nio.file.Files.writeString(lua, "math.randomseed(7)\nrequest = function() return wrk.format(\"GET\", "
        + "\"/doc/\" .. math.random(0, " + (ids - 1) + ")) end\n");
    long cpu0 = cpuNanos();
    Process wrk = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "-s", lua.toString(),
        "http://127.0.0.1:" + server.port() + "/").redirectErrorStream(true).start();
    String out = new String(wrk.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    wrk.waitFor();
    long cpu = cpuNanos() - cpu0;
    java.nio.file.Files.deleteIfExists(lua);
    double rps = 0;
    long requests = 0;
    for (String l : out.split("\n")) {
      String t = l.trim();
      if (t.startsWith("Requests/sec:")) {
        rps = Double.parseDouble(t.substring(13).trim());
      } else if (t.contains(" requests in ")) {
        requests = Long.parseLong(t.substring(0, t.indexOf(' ')));
      } else if (t.startsWith("Non-2xx") || t.startsWith("Socket errors")) {
        throw new IllegalStateException(name + ": " + t);
      }
    }
    System.out.printf("%-34s %9.0f req/s   %6.3f CPU s / 10k req%n", name, rps,
        requests == 0 ? 0.0 : cpu / 1e9 * 10_000 / requests);
  }

  static long idOf(peloton.http.server.Exchange ex) {
    String p = ex.path();
    return Long.parseLong(p.substring(p.lastIndexOf('/') + 1));
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int window = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    int warm = Math.max(2000, n / 4);
    Process server = new ProcessBuilder(System.getProperty("java.home") + "/bin/java", "-Xmx1g",
        "-cp", System.getProperty("java.class.path"), "peloton.bench.MongoBenchServer")
        .redirectErrorStream(true).start();
    try {
      BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream()));
      String line;
      int port = -1;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("PORT ")) {
          port = Integer.parseInt(line.substring(5).trim());
          break;
        }
      }
      String uri = "mongodb://127.0.0.1:" + port;
      System.out.printf("server pid %d port %d; %d ops per phase, %d in flight (sync: %d threads)%n",
          server.pid(), port, n, window, Math.min(window, 8));

      Reactor reactor = new Reactor("bench-reactor").start(true);
      MongoOptions one = MongoOptions.fromUri(uri);
      one.maxPoolSize = 1;
      one.maxWaitQueueSize = 100_000;
      MongoClient p1 = (MongoClient) MongoClient.connect(one, reactor).deref();
      MongoOptions many = MongoOptions.fromUri(uri);
      many.maxPoolSize = 8;
      many.maxWaitQueueSize = 100_000;
      MongoClient p8 = (MongoClient) MongoClient.connect(many, reactor).deref();
      // The shared-reactor path: a client made off any reactor, used from the reactors of a group
      // (as an HTTP server's handlers use it); its connections follow the calling reactor.
      ReactorGroup group = new ReactorGroup(2, "bench-group").start(true);
      MongoOptions shared = MongoOptions.fromUri(uri);
      shared.maxPoolSize = 8;
      MongoClient ps = (MongoClient) MongoClient.connect(shared).deref();
      com.mongodb.client.MongoClient sync = com.mongodb.client.MongoClients.create(uri + "/?maxPoolSize=8");
      com.mongodb.reactivestreams.client.MongoClient rs =
          com.mongodb.reactivestreams.client.MongoClients.create(uri + "/?maxPoolSize=8");

      // Warm-up rounds (different collections), then the measured ones.
      for (int round = 0; round < 2; round++) {
        boolean print = round == 1;
        int count = print ? n : warm;
        String sfx = print ? "" : "_warm";
        if (print) {
          System.out.println("-- inserts (one document each)");
        }
        runAsync("peloton, 1 connection", count, window, pelotonInsert(p1, "bench.p1" + sfx, 0), print);
        runAsync("peloton, pool of 8", count, window, pelotonInsert(p8, "bench.p8" + sfx, 0), print);
        runAsync("peloton, pool of 8, from 2 reactors", count, window,
            onReactors(group, pelotonInsert(ps, "bench.ps" + sfx, 0)), print);
        com.mongodb.client.MongoCollection<Document> sc = sync.getDatabase("bench").getCollection("sync" + sfx);
        runThreads("official sync, " + Math.min(window, 8) + " threads", count, Math.min(window, 8),
            i -> sc.insertOne(new Document("_id", (long) i).append("name", "x" + i).append("n", (long) i)), print);
        com.mongodb.reactivestreams.client.MongoCollection<Document> rc =
            rs.getDatabase("bench").getCollection("rs" + sfx);
        runAsync("official reactive streams", count, window, (i, done, fail) -> subscribe(rc.insertOne(
            new Document("_id", (long) i).append("name", "x" + i).append("n", (long) i)), done, fail, false), print);
        if (print) {
          System.out.println("-- finds by _id");
        }
        runAsync("peloton, 1 connection", count, window, pelotonFind(p1, "bench.p1" + sfx, count), print);
        runAsync("peloton, pool of 8", count, window, pelotonFind(p8, "bench.p8" + sfx, count), print);
        runAsync("peloton, pool of 8, from 2 reactors", count, window,
            onReactors(group, pelotonFind(ps, "bench.ps" + sfx, count)), print);
        SplittableRandom rnd = new SplittableRandom(2);
        runThreads("official sync, " + Math.min(window, 8) + " threads", count, Math.min(window, 8), i -> {
          long id;
          synchronized (rnd) {
            id = rnd.nextInt(count);
          }
          Document d = sc.find(Filters.eq("_id", id)).first();
          if (d == null) {
            throw new IllegalStateException("not found " + id);
          }
          return d;
        }, print);
        SplittableRandom rnd2 = new SplittableRandom(3);
        runAsync("official reactive streams", count, window, (i, done, fail) -> {
          long id;
          synchronized (rnd2) {
            id = rnd2.nextInt(count);
          }
          subscribe(rc.find(Filters.eq("_id", id)).first(), done, fail, true);
        }, print);
      }
      System.out.println("-- HTTP + MongoDB: GET /doc/<id> reads one document by _id, answers JSON"
          + " (wrk -t1 -c32, 2 server reactors)");
      int ids = n;
      int seconds = Integer.getInteger("httpSeconds", 8);
      com.mongodb.reactivestreams.client.MongoCollection<Document> rcoll = rs.getDatabase("bench").getCollection("rs");
      peloton.http.server.HttpServer.Options ho = new peloton.http.server.HttpServer.Options().host("127.0.0.1").port(0).reactors(2);
      peloton.http.server.HttpServer hp = peloton.http.server.HttpServer.start(ho, ex -> ps.findOne("bench.ps",
          PersistentArrayMap.createAsIfByAssoc(new Object[] {ID, idOf(ex)}), null).onComplete((v, e) -> {
            if (e != null || v == null) {
              ex.sendStatus(500, String.valueOf(e));
            } else {
              java.util.Map<?, ?> d = (java.util.Map<?, ?>) v;
              ex.contentType("application/json").body(json(d.get(ID), d.get(NAME))).send();
            }
          }));
      peloton.http.server.HttpServer ho2 = peloton.http.server.HttpServer.start(
          new peloton.http.server.HttpServer.Options().host("127.0.0.1").port(0).reactors(2), ex -> {
            Document[] got = new Document[1];
            rcoll.find(Filters.eq("_id", idOf(ex))).first().subscribe(new Subscriber<Document>() {
              @Override
              public void onSubscribe(Subscription sub) {
                sub.request(1);
              }

              @Override
              public void onNext(Document d) {
                got[0] = d;
              }

              @Override
              public void onError(Throwable t) {
                ex.sendStatus(500, String.valueOf(t));
              }

              @Override
              public void onComplete() {
                if (got[0] == null) {
                  ex.sendStatus(500, "not found");
                } else {
                  ex.contentType("application/json").body(json(got[0].get("_id"), got[0].get("name"))).send();
                }
              }
            });
          });
      for (int round = 0; round < 2; round++) {
        boolean print = round == 1;
        int secs = print ? seconds : 3;
        if (print) {
          httpRow("peloton client, same route", hp, ids, secs, 32);
          httpRow("official reactive driver, same route", ho2, ids, secs, 32);
        } else {
          httpRow("(warm-up) peloton", hp, ids, secs, 32);
          httpRow("(warm-up) official reactive", ho2, ids, secs, 32);
        }
      }
      hp.close();
      ho2.close();
      p1.close();
      p8.close();
      ps.close();
      group.stop();
      sync.close();
      rs.close();
      reactor.stop();
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
