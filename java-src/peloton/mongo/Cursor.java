package peloton.mongo;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import peloton.fut.Fut;
import peloton.fut.Stream;

/**
 * Feeds a server cursor into a {@link Stream}: each document is put only once the previous put
 * was accepted, and the next batch is asked for only after the last document of the batch was
 * accepted, so a consumer that stops taking stops the requests. When the consumer cancels the
 * stream ({@link Stream#cancel()}), the waiting put answers false and the server's cursor is
 * killed; a put after a {@link Stream#close()} answers false too, but a put already waiting for
 * room then waits for takes, so consumers that stop early should cancel.
 */
final class Cursor {
  private final MongoClient client;
  private final ConnectionPool pool;
  private final String db;
  private final String coll;
  private final int limit;
  private final int batchSize;
  /** The documents are {@code org.bson.Document}s (a cursor of the Java API). */
  private final boolean java;
  final Stream stream;
  private final AtomicBoolean finished = new AtomicBoolean();
  private volatile long id;
  private int delivered;

  Cursor(MongoClient client, ConnectionPool pool, String db, String coll, int limit, int batchSize,
      boolean java) {
    this.java = java;
    this.client = client;
    this.pool = pool;
    this.db = db;
    this.coll = coll;
    this.limit = limit;
    this.batchSize = batchSize;
    this.stream = new Stream(batchSize > 0 ? batchSize : 101);
  }

  void onBatch(Map<?, ?> reply) {
    id = MongoClient.cursorId(reply);
    feed(MongoClient.batch(reply), 0);
  }

  private void feed(List<?> batch, int from) {
    int i = from;
    while (i < batch.size() && (limit <= 0 || delivered < limit)) {
      Fut put = stream.put(batch.get(i++));
      delivered++;
      if (!put.isDone()) {
        int next = i;
        put.onComplete((v, e) -> {
          if (Boolean.TRUE.equals(v)) {
            feed(batch, next);
          } else {
            abandon();
          }
        });
        return;
      }
      if (!Boolean.TRUE.equals(put.value())) {
        abandon();
        return;
      }
    }
    if (id == 0 || limit > 0 && delivered >= limit) {
      abandon();
      stream.close();
      return;
    }
    int n = limit > 0 ? (batchSize > 0 ? Math.min(batchSize, limit - delivered) : limit - delivered) : batchSize;
    client.runOnPool(pool, client.getMoreBody(db, coll, id, n), java).onComplete((r, e) -> {
      if (e != null) {
        finished.set(true);
        stream.error(e);
      } else if (!finished.get()) {
        onBatch((Map<?, ?>) r);
      }
    });
  }

  /** Ends the cursor on the server if it is still open there. */
  private void abandon() {
    if (finished.compareAndSet(false, true) && id != 0) {
      client.killCursor(pool, db, coll, id);
    }
  }
}
