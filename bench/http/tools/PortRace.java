import java.util.concurrent.TimeUnit;
import peloton.http.server.HttpServer;

/**
 * One side of the same-port start race (bench/http/same-port.sh runs two at once): for trial
 * i, wait until {@code start + i * interval} ms (wall clock, shared by both processes), start a
 * Peloton server with 2 reactors on {@code basePort + i} and print "i ok FROM TO" (the wall-clock
 * ms it held the port, until 80% of the interval) or "i taken". Two "ok" whose times overlap
 * are the bug: both servers held the port at once.
 * Usage: java -cp CLASSPATH PortRace.java TRIALS BASE_PORT START_EPOCH_MS INTERVAL_MS
 */
public final class PortRace {
  public static void main(String[] args) throws Exception {
    int trials = Integer.parseInt(args[0]);
    int basePort = Integer.parseInt(args[1]);
    long start = Long.parseLong(args[2]);
    long interval = Long.parseLong(args[3]);
    for (int i = 0; i < trials; i++) {
      long at = start + i * interval;
      long wait;
      while ((wait = at - System.currentTimeMillis()) > 0) {
        Thread.sleep(Math.min(wait, 50));
      }
      HttpServer.Options o = new HttpServer.Options();
      o.port = basePort + i;
      o.reactors = 2;
      HttpServer s;
      try {
        s = HttpServer.start(o, ex -> ex.body("hi").send());
      } catch (java.io.IOException e) {
        System.out.println(i + " taken");
        continue;
      }
      long from = System.currentTimeMillis();
      long until = at + interval * 8 / 10;
      while ((wait = until - System.currentTimeMillis()) > 0) {
        Thread.sleep(Math.min(wait, 50));
      }
      // Stamped before the stop begins: the port is surely held until then.
      long to = System.currentTimeMillis();
      s.stop(0, TimeUnit.MILLISECONDS).join();
      System.out.println(i + " ok " + from + " " + to);
    }
  }
}
