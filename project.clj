;; Leiningen description of the same project as pom.xml. CI runs the tests through it too
;; (.ci/run): `lein with-profile -base test`. Leiningen's base profile adds nREPL and
;; REPL-y from Clojars; without Clojars, leave it out with `with-profile -base`. nREPL is
;; then not on the classpath, and peloton.repl's tests check the error that says so.
(defproject peloton/peloton "0.1.0-SNAPSHOT"
  :description "Fast asynchronous web applications on the JVM: reactor, HTTP server and client, MongoDB client, futures and streams."
  :license {:name "Apache License 2.0" :url "https://www.apache.org/licenses/LICENSE-2.0"}
  :dependencies [[org.clojure/clojure "1.12.6"]
                 [org.clojure/tools.logging "1.3.0"]
                 [org.slf4j/slf4j-api "2.0.17"]
                 [org.mongodb/mongodb-driver-core "5.14.0"]]
  :java-source-paths ["java-src"]
  :source-paths ["clj-src"]
  :test-paths ["test/clojure"]
  :resource-paths ["examples"]
  :javac-options ["--release" "17"]
  :main peloton.examples.demo
  :profiles {:dev {:dependencies [[org.clojure/test.check "1.1.1"]
                                  [org.slf4j/slf4j-simple "2.0.17"]
                                  [de.bwaldvogel/mongo-java-server-memory-backend "1.47.0"]
                                  [org.mongodb/mongodb-driver-sync "5.14.0"]
                                  [de.bwaldvogel/mongo-java-server-h2-backend "1.47.0"]
                                  [com.h2database/h2 "2.3.232"]]}
             ;; as the pom's Surefire setting: the tests' expected errors, not every INFO line
             :test {:jvm-opts ["-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]}})
