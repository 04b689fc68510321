package peloton.http.server;

/**
 * A server in its own JVM for the SIGTERM test: stops gracefully on shutdown; {@code /slow}
 * answers two seconds after it began, so a SIGTERM arrives while it is in flight.
 */
public final class SigtermServer {
  private SigtermServer() {}

  /** Starts on a free port, prints {@code port N}, and runs until the JVM is stopped. */
  public static void main(String[] args) throws Exception {
    HttpServer.Options o = new HttpServer.Options();
    o.port = 0;
    o.reactors = 1;
    o.shutdownGraceMillis = 10_000;
    HttpServer s = HttpServer.start(o, ex -> {
      System.out.println("in handler");
      System.out.flush();
      ex.reactor().later(2.0, () -> ex.body("slow but answered").send());
    });
    System.out.println("port " + s.port());
    System.out.flush();
    Thread.currentThread().join();
  }
}
