package peloton;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every clojure.test namespace under {@code test/clojure} through JUnit, one dynamic test per
 * test var, so Surefire counts each {@code deftest} and a failing {@code is} fails the build. It also
 * loads every library namespace under {@code clj-src} and fails if loading prints a reflection warning
 * or a public var has no docstring.
 */
class ClojureTests {

  private static final String RUNNER = String.join("\n",
      "(fn [nsym vsym]",
      "  (let [v (ns-resolve nsym vsym)",
      "        out (java.io.StringWriter.)",
      "        counters (ref clojure.test/*initial-report-counters*)]",
      "    (binding [clojure.test/*report-counters* counters",
      "              clojure.test/*test-out* out]",
      "      (clojure.test/test-vars [v]))",
      "    (let [c @counters]",
      "      (when (or (pos? (:fail c 0)) (pos? (:error c 0)))",
      "        (throw (AssertionError. (str out))))",
      "      (when (zero? (:pass c 0))",
      "        (throw (AssertionError. (str vsym \" made no assertion\\n\" out))))",
      "      nil)))");

  private static final String LOAD_CHECKED = String.join("\n",
      "(fn [nsym]",
      "  (let [err (java.io.StringWriter.)]",
      "    (binding [*err* (java.io.PrintWriter. err true)]",
      "      (require nsym))",
      "    (when (.contains (str err) \"Reflection warning\")",
      "      (throw (AssertionError. (str err))))",
      "    (when-let [undocumented (seq (for [[s v] (ns-publics nsym) :when (not (:doc (meta v)))] s))]",
      "      (throw (AssertionError. (str nsym \" has public vars without a docstring: \" (vec undocumented)))))",
      "    nil))");

  private static List<String> namespacesUnder(String dir) throws IOException {
    Path root = Paths.get(dir);
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(p -> p.toString().endsWith(".clj"))
          .map(p -> root.relativize(p).toString())
          .map(s -> s.substring(0, s.length() - 4).replace('/', '.').replace('_', '-'))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  @TestFactory
  List<DynamicNode> clojureTests() throws IOException {
    IFn eval = Clojure.var("clojure.core", "eval");
    IFn read = Clojure.var("clojure.core", "read-string");
    Clojure.var("clojure.core", "require").invoke(Clojure.read("clojure.test"));
    IFn runVar = (IFn) eval.invoke(read.invoke(RUNNER));
    IFn loadChecked = (IFn) eval.invoke(read.invoke(LOAD_CHECKED));

    List<DynamicNode> nodes = new ArrayList<>();
    List<DynamicTest> loads = new ArrayList<>();
    for (String ns : namespacesUnder("clj-src")) {
      loads.add(DynamicTest.dynamicTest(ns + " loads without reflection warnings, all public vars documented",
          () -> loadChecked.invoke(Clojure.read(ns))));
    }
    nodes.add(DynamicContainer.dynamicContainer("library namespaces", loads));

    for (String ns : namespacesUnder("test/clojure")) {
      Object nsym = Clojure.read(ns);
      Clojure.var("clojure.core", "require").invoke(nsym);
      Object publics = Clojure.var("clojure.core", "ns-interns").invoke(nsym);
      List<DynamicTest> tests = new ArrayList<>();
      for (Object entry : (Iterable<?>) publics) {
        clojure.lang.Var v = (clojure.lang.Var) ((java.util.Map.Entry<?, ?>) entry).getValue();
        if (v.meta() != null && v.meta().valAt(Clojure.read(":test")) != null) {
          String name = v.sym.getName();
          tests.add(DynamicTest.dynamicTest(name, () -> runVar.invoke(nsym, v.sym)));
        }
      }
      tests.sort((a, b) -> a.getDisplayName().compareTo(b.getDisplayName()));
      if (!tests.isEmpty()) {
        nodes.add(DynamicContainer.dynamicContainer(ns, tests));
      }
    }
    return nodes;
  }
}
