(ns peloton.repl-test
  "REPL-driven development for real: the demo serving on a free port, nREPL
  inside it, a real nREPL client redefining a handler, and the next HTTP
  response changing without a restart."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [peloton.examples.demo :as demo]
            [peloton.repl :as repl])
  (:import (java.net ConnectException Socket URI)
           (java.net.http HttpClient HttpRequest HttpResponse HttpResponse$BodyHandlers)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)
           (java.time Duration)))

(set! *warn-on-reflection* true)

(def ^HttpClient client (HttpClient/newHttpClient))

(def ^:private token (str (random-uuid)))

(defn- get-body [url]
  (let [req (-> (HttpRequest/newBuilder (URI/create url)) (.timeout (Duration/ofSeconds 10)) (.build))
        ^HttpResponse resp (.send client req (HttpResponse$BodyHandlers/ofString))]
    (str (.body resp))))

(defn- refused-within?
  "True once a connection to `port` is refused, within `ms` (the listening
  socket is released by nREPL's accept thread, a moment after the stop)."
  [port ms]
  (let [deadline (+ (System/currentTimeMillis) ms)]
    (loop []
      (if (try (.close (Socket. "127.0.0.1" (int port))) false
               (catch ConnectException _ true))
        true
        (when (< (System/currentTimeMillis) deadline)
          (Thread/sleep 20)
          (recur))))))

(defn- nrepl-eval
  "Evaluates `code` in namespace `ns` through a real nREPL client connection
  to `port`; answers the responses' combined :value, :out and :err."
  [port ns code]
  (let [connect (requiring-resolve 'nrepl.core/connect)
        nclient (requiring-resolve 'nrepl.core/client)
        message (requiring-resolve 'nrepl.core/message)]
    (with-open [^java.io.Closeable transport (connect :port port)]
      (let [responses (doall (message (nclient transport 10000) {:op "eval" :ns ns :code code}))]
        {:value (vec (keep :value responses))
         :out (apply str (keep :out responses))
         :err (apply str (keep :err responses))
         :status (set (mapcat :status responses))}))))

(deftest this-jvm-runs-the-pom-s-clojure
  ;; Debian's nrepl jar names Clojure 1.11 in its manifest's Class-Path; the
  ;; build unpacks nREPL so that jar never reaches the classpath.
  (println "Clojure in the test JVM:" (clojure-version))
  (is (<= 12 (:minor *clojure-version*)) (clojure-version))
  (is (not (str/includes? (str (.getLocation (.getCodeSource (.getProtectionDomain clojure.lang.RT))))
                          "/usr/share/java"))))

(def ^:private nrepl-here?
  "nREPL is optional (the pom unpacks it when Debian's libnrepl-clojure is
  installed, or with -Pnrepl): without it, the tests below check the error
  that says what to add instead."
  (some? (clojure.java.io/resource "nrepl/server.clj")))

(defn- missing-nrepl-error
  "The ex-info that calling `f` throws when nREPL is not on the classpath."
  [f]
  (try (f) nil (catch clojure.lang.ExceptionInfo e e)))

(deftest without-nrepl-the-demo-starts-and-only-its-nrepl-option-fails
  (if nrepl-here?
    (is (some? (requiring-resolve 'nrepl.server/start-server)))
    (let [dir (.toFile (Files/createTempDirectory "peloton-repl" (make-array FileAttribute 0)))]
      (try
        (let [sys (demo/start! {:port 0 :data-dir (str dir)})]
          (try
            (is (str/includes? (get-body (:url sys)) "<h1>Hello from Peloton</h1>"))
            (finally (demo/stop! sys 1))))
        (let [e (missing-nrepl-error #(demo/start! {:port 0 :data-dir (str dir) :nrepl-port 0}))]
          (is (= :missing-dependency (:type (ex-data e))) (pr-str e))
          (is (str/includes? (ex-message e) "libnrepl-clojure")))
        (finally
          (doseq [^java.io.File f (reverse (file-seq dir))] (.delete f)))))))

(deftest redefining-a-demo-handler-through-nrepl-changes-the-next-response
  (if-not nrepl-here?
    (is (= :missing-dependency (:type (ex-data (missing-nrepl-error #(repl/start-nrepl! {:port 0}))))))
  (let [dir (.toFile (Files/createTempDirectory "peloton-repl" (make-array FileAttribute 0)))
        original @#'demo/on-index
        sys (demo/start! {:port 0 :data-dir (str dir) :nrepl-port 0})
        nport (repl/nrepl-port (:nrepl sys))]
    (try
      (is (pos? nport))
      (is (str/includes? (get-body (:url sys)) "<h1>Hello from Peloton</h1>"))
      (testing "eval over nREPL runs in the application"
        (is (= ["3"] (:value (nrepl-eval nport "user" "(+ 1 2)"))))
        (is (= [(pr-str token)] (:value (nrepl-eval nport "user" "@#'peloton.repl-test/token")))
            "the same JVM: it sees this test's var"))
      (let [r (nrepl-eval nport "peloton.examples.demo"
                          "(defn on-index [conn] (httpd/send-html! conn \"<h1>Redefined at the REPL</h1>\"))")]
        (is (= ["#'peloton.examples.demo/on-index"] (:value r)) (pr-str r)))
      (is (= "<h1>Redefined at the REPL</h1>" (get-body (:url sys)))
          "the same server, the new definition")
      (is (str/includes? (get-body (str (:url sys) "files/hello.txt")) "Hello from Peloton")
          "other routes untouched")
      (finally
        (alter-var-root #'demo/on-index (constantly original))
        (demo/stop! sys 1)
        (doseq [^java.io.File f (reverse (file-seq dir))] (.delete f))))
    (testing "stop! stopped the nREPL server too"
      (is (refused-within? nport 5000))))))

(deftest start-and-stop-on-their-own
  (if-not nrepl-here?
    (is (= :missing-dependency (:type (ex-data (missing-nrepl-error #(repl/start-nrepl!))))))
  (let [server (repl/start-nrepl! {:port 0})
        port (repl/nrepl-port server)]
    (try
      (is (= ["[1 2]"] (:value (nrepl-eval port "user" "(vector 1 2)"))))
      (finally (repl/stop-nrepl! server)))
    (is (refused-within? port 5000)))))

(deftest without-nrepl-on-the-classpath-the-error-says-what-to-add
  (let [e (try (#'repl/nrepl-var 'nrepl.not-there/start-server) nil
               (catch clojure.lang.ExceptionInfo e e))]
    (is (= :missing-dependency (:type (ex-data e))))
    (is (str/includes? (ex-message e) "nrepl/nrepl"))
    (is (str/includes? (ex-message e) "libnrepl-clojure"))))
