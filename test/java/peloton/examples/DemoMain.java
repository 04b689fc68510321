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
    Clojure.var("clojure.core", "require").invoke(Clojure.read("peloton.examples.demo"));
    Clojure.var("peloton.examples.demo", "-main").applyTo(ArraySeq.create((Object[]) args));
  }
}
