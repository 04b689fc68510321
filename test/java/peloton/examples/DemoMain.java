package peloton.examples;

import clojure.java.api.Clojure;
import clojure.lang.ArraySeq;

/**
 * Starts the demo application ({@code peloton.examples.demo/-main}) with the command-line
 * arguments as they are, so that {@code mvn -q test-compile exec:java -Dexec.args="--port 9090"}
 * passes options straight to the demo ({@code clojure.main -m} would need them after its own).
 */
public final class DemoMain {
  private DemoMain() {}

  /**
   * Loads the demo's namespace and runs its {@code -main}.
   *
   * @param args the demo's options, e.g. {@code --port 8080 --nrepl-port 7888}
   */
  public static void main(String[] args) {
    // exec:java runs in Maven's JVM, where "mvn -q" sets slf4j-simple's level to error for
    // everyone: the demo's own binding (slf4j-simple, test scope) would then hide its warnings.
    // The demo logs at info (or -Dpeloton.demo.log=LEVEL); mongo-java-server's chatter at warn.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
        System.getProperty("peloton.demo.log", "info"));
    System.setProperty("org.slf4j.simpleLogger.log.de.bwaldvogel", "warn");
    Clojure.var("clojure.core", "require").invoke(Clojure.read("peloton.examples.demo"));
    Clojure.var("peloton.examples.demo", "-main").applyTo(ArraySeq.create((Object[]) args));
  }
}
