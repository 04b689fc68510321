(ns peloton.mongo-options-test
  "MongoDB options applied or refused, never ignored; the pool without a wait
  limit; retryable reads; unix domain sockets; a find from an HTTP handler
  completing on that handler's reactor. Against mongo-java-server on 127.0.0.1."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing use-fixtures]]
            [peloton.fut :as f]
            [peloton.httpd :as httpd]
            [peloton.mongo :as mongo])
  (:import (de.bwaldvogel.mongo MongoServer)
           (java.util Map)
           (de.bwaldvogel.mongo.backend.memory MemoryBackend)
           (java.net InetSocketAddress StandardProtocolFamily UnixDomainSocketAddress)
           (java.net.http HttpClient HttpRequest HttpResponse$BodyHandlers)
           (java.nio ByteBuffer)
           (java.nio.channels ServerSocketChannel SocketChannel)
           (java.nio.file Files Path)
           (java.nio.file.attribute FileAttribute)
           (java.net URI)
           (peloton.http.server HttpServer)
           (peloton.mongo MongoClient MongoOptions)
           (peloton.reactor Reactor)))

(set! *warn-on-reflection* true)

(def ^:dynamic *port* nil)
(def ^:dynamic ^MongoServer *server* nil)

(use-fixtures :each
  (fn [t]
    (let [s (doto (MongoServer. (MemoryBackend.)) (.bind "127.0.0.1" (int 0)))]
      (try
        (binding [*server* s
                  *port* (.getPort ^InetSocketAddress (.getLocalAddress s))]
          (t))
        (finally (.shutdownNow s))))))

(defn- wait [fut] (deref fut 15000 :timeout))

(defn- uri [query] (str "mongodb://127.0.0.1:" *port* "/test" query))

(defn- refused-msg
  "The message of the IllegalArgumentException that `thunk` throws, or of the
  one its fut fails with."
  [thunk]
  (try
    (let [r (thunk)
          v (if (instance? peloton.fut.Fut r) (wait r) r)]
      (when (instance? MongoClient v) (mongo/close! v))
      (str "not refused: " (pr-str v)))
    (catch IllegalArgumentException e (.getMessage e))
    (catch clojure.lang.ExceptionInfo e
      (if (instance? IllegalArgumentException (ex-cause e)) (.getMessage (ex-cause e)) (throw e)))))

(deftest connect-options-refuse-unknown-keys-and-wrong-types
  (is (re-find #"unknown option :max-pool-sise.*did you mean :max-pool-size"
               (refused-msg #(mongo/connect! "127.0.0.1" *port* {:max-pool-sise 3}))))
  (is (re-find #":socket-timeout-ms expects milliseconds.*\"5\""
               (refused-msg #(mongo/connect! "127.0.0.1" *port* {:socket-timeout-ms "5"}))))
  (is (re-find #":read-preference expects"
               (refused-msg #(mongo/connect! (uri "") {:read-preference :secondry})))))

(deftest operation-options-refuse-unknown-keys-and-wrong-types
  (let [c (wait (mongo/connect! "127.0.0.1" *port*))]
    (try
      (is (re-find #"query-all!: unknown option :limt.*did you mean :limit"
                   (refused-msg #(mongo/query-all! c "t.x" {} :limt 1))))
      (is (re-find #"query-all!: option :limit expects"
                   (refused-msg #(mongo/query-all! c "t.x" {} :limit "1"))))
      (is (re-find #"odd number" (refused-msg #(mongo/find-one c "t.x" {} :fieldset))))
      (is (re-find #"insert!: unknown option :orderd" (refused-msg #(mongo/insert! c "t.x" {:a 1} :orderd false))))
      (is (re-find #"update!: unknown option :upsert.*did you mean :upsert\?"
                   (refused-msg #(mongo/update! c "t.x" {} {:$set {:a 1}} :upsert true))))
      (is (re-find #"delete!: unknown option" (refused-msg #(mongo/delete! c "t.x" {} :single? true))))
      (is (re-find #"count-docs: unknown option" (refused-msg #(mongo/count-docs c "t.x" {} :limit 1))))
      (is (re-find #"aggregate: option :stream\? expects" (refused-msg #(mongo/aggregate c "t.x" [] :stream? 1))))
      (is (re-find #"find-and-modify!: unknown option :new"
                   (refused-msg #(mongo/find-and-modify! c "t.x" {:query {} :new true}))))
      (is (re-find #"bulk-write! :update: unknown option :upsert"
                   (refused-msg #(mongo/bulk-write! c "t.x" [[:update {} {:$set {:a 1}} {:upsert true}]]))))
      (is (re-find #"create-index!: unknown option :uniq"
                   (refused-msg #(mongo/create-index! c "t.x" {:a 1} :uniq true))))
      (finally (mongo/close! c)))))

(deftest create-index-takes-monger-spelling-unique
  (let [c (wait (mongo/connect! "127.0.0.1" *port*))]
    (try
      (is (map? (wait (mongo/create-index! c "t.users" {:email 1} :unique true))))
      (is (vector? (wait (mongo/insert! c "t.users" {:email "a@x"}))))
      (let [dup (try (wait (mongo/insert! c "t.users" {:email "a@x"})) (catch Exception e e))]
        (is (= 11000 (:code (ex-data dup))) "the index is unique: the duplicate is refused"))
      (finally (mongo/close! c)))))

(deftest uri-options-applied-or-refused
  (testing "Atlas-style options are applied: the write concern comes from the URI"
    (let [c (wait (mongo/connect! (uri "?retryWrites=true&w=majority&journal=true&wtimeoutMS=2500&readConcernLevel=local")))]
      (try
        (is (= {:w "majority" :j true :wtimeout 2500} (.writeConcern (.options ^MongoClient c))))
        (is (= [:w :j :wtimeout] (keys (.writeConcern (.options ^MongoClient c)))))
        (is (= {:level "local"} (.readConcern (.options ^MongoClient c))))
        (is (vector? (wait (mongo/insert! c "t.a" {:x 1}))))
        (is (= 1 (count (wait (mongo/query-all! c "t.a" {})))) "reads carry readConcern local")
        (finally (mongo/close! c)))))
  (testing "what Peloton cannot do is an error naming the option"
    ;; tls/ssl and MONGODB-X509 are applied since the TLS layer landed (tls_test covers them);
    ;; a TLS option with TLS off is still refused.
    (doseq [[q re] [["?tlsCAFile=/x.pem" #"TLS options are set but TLS is off"]
                    ["?compressors=zlib" #"compressors"]
                    ["?loadBalanced=true" #"loadBalanced"]
                    ["?readPreference=secondary&readPreferenceTags=dc:ny" #"readPreferenceTags"]
                    ["?readPreference=secondary&maxStalenessSeconds=120" #"maxStalenessSeconds"]
                    ["?serverSelectionTimeoutMS=500" #"serverSelectionTimeoutMS"]
                    ["?authMechanism=MONGODB-AWS" #"MONGODB-AWS"]
                    ["?maxPoolSise=3" #"unknown URI option maxPoolSise \(did you mean maxPoolSize\?\)"]
                    ["?w=0&journal=true" #"w=0 with journal=true"]]]
      (is (re-find re (refused-msg #(mongo/connect! (uri q)))) q)))
  (testing "authentication mistakes fail at connect"
    (is (re-find #"[Pp]assword" (refused-msg #(mongo/connect! (str "mongodb://ada@127.0.0.1:" *port* "/")))))
    (is (re-find #"needs a user" (refused-msg #(mongo/connect! (uri "?authMechanism=SCRAM-SHA-256")))))
    (is (re-find #"no password" (refused-msg #(mongo/connect! "127.0.0.1" *port* {:user "ada"})))))
  (testing "invalid timeouts and sizes are warned about and ignored, as the URI options spec says"
    (let [o (MongoOptions/fromUri "mongodb://h/?connectTimeoutMS=-2&socketTimeoutMS=abc&maxPoolSize=-1&retryReads=maybe")]
      (is (= 10000 (.connectTimeoutMs o)))
      (is (= 30000 (.socketTimeoutMs o)))
      (is (= 10 (.maxPoolSize o)))
      (is (true? (.retryReads o)))))
  (testing "defaults: no wait-queue limit, retryable reads and writes on"
    (let [o (MongoOptions/fromUri "mongodb://h/")]
      (is (= Integer/MAX_VALUE (.maxWaitQueueSize o)))
      (is (true? (.retryReads o)))
      (is (true? (.retryWrites o))))))

(deftest pool-without-limits-serves-a-fan-out
  (testing "maxPoolSize=0 means no limit"
    (let [c (wait (mongo/connect! (uri "?maxPoolSize=0")))]
      (try
        (wait (mongo/insert! c "t.p" {:_id 1}))
        (is (every? #(= 1 (:_id %)) (wait (f/all (repeatedly 50 #(mongo/find-one c "t.p" {:_id 1}))))))
        (finally (mongo/close! c)))))
  (testing "1,280 concurrent find-ones on 2 connections all succeed: the wait queue has no default bound"
    (let [c (wait (mongo/connect! "127.0.0.1" *port* {:max-pool-size 2}))]
      (try
        (wait (mongo/insert! c "t.p2" {:_id 1}))
        (let [rs (wait (f/all (repeatedly 1280 #(mongo/find-one c "t.p2" {:_id 1}))))]
          (is (= 1280 (count rs)))
          (is (every? #(= 1 (:_id %)) rs)))
        (finally (mongo/close! c)))))
  (testing "the bound stays available as an option"
    (let [c (wait (mongo/connect! "127.0.0.1" *port* {:max-pool-size 1 :max-wait-queue-size 1}))]
      (try
        (let [fs (doall (repeatedly 20 #(mongo/find-one c "t.p" {})))
              outcomes (map #(try (wait %) :ok (catch Exception e (str (.getMessage e)))) fs)]
          (is (some #(and (string? %) (str/includes? % "too many operations waiting")) outcomes)))
        (finally (mongo/close! c))))))

(defn- relay!
  "A unix domain socket at a fresh path that relays each connection to the TCP
  port `port` (blocking, one thread per direction). Answers [path stop-fn]."
  [port]
  (let [dir (Files/createTempDirectory "peloton-mongo" (make-array FileAttribute 0))
        path (.resolve dir "mongodb-test.sock")
        server (doto (ServerSocketChannel/open StandardProtocolFamily/UNIX)
                 (.bind (UnixDomainSocketAddress/of path)))
        pump (fn [^SocketChannel from ^SocketChannel to]
               (doto (Thread. ^Runnable
                      (fn []
                        (let [buf (ByteBuffer/allocate 65536)]
                          (try
                            (loop []
                              (.clear buf)
                              (when (pos? (.read from buf))
                                (.flip buf)
                                (while (.hasRemaining buf) (.write to buf))
                                (recur)))
                            (catch Exception _ nil)
                            (finally (.close from) (.close to))))))
                 (.setDaemon true)
                 (.start)))
        acceptor (doto (Thread. ^Runnable
                        (fn []
                          (try
                            (loop []
                              (let [u (.accept server)
                                    t (SocketChannel/open (InetSocketAddress. "127.0.0.1" (int port)))]
                                (pump u t)
                                (pump t u)
                                (recur)))
                            (catch Exception _ nil))))
                   (.setDaemon true)
                   (.start))]
    [(str path) (fn [] (.close server) (.join acceptor 5000) (Files/deleteIfExists path) (Files/deleteIfExists dir))]))

(deftest unix-domain-socket-hosts
  (let [[path stop] (relay! *port*)]
    (try
      (let [encoded (str/replace path "/" "%2F")
            c (wait (mongo/connect! (str "mongodb://" encoded "/test")))]
        (try
          (is (= [path] (vec (.hosts (.options ^MongoClient c)))) "a socket file, not a TCP host on 27017")
          (is (vector? (wait (mongo/insert! c "t.u" {:_id 7 :via "unix"}))))
          (is (= {:_id 7 :via "unix"} (wait (mongo/find-one c "t.u" {:_id 7}))))
          (finally (mongo/close! c))))
      (finally (stop)))))

(deftest a-find-from-a-handler-completes-on-the-handlers-reactor
  (let [c (wait (mongo/connect! "127.0.0.1" *port*)) ; made once at start-up, off any reactor
        seen (atom [])
        srv (httpd/serve! {:port 0 :reactors 2}
                          [:GET #"^/doc$"
                           (fn [conn]
                             (let [here (Reactor/current)]
                               (f/on-complete! (mongo/find-one c "t.h" {:_id 1})
                                               (fn [doc _err]
                                                 (swap! seen conj [(.name here) (.name (Reactor/current))])
                                                 (httpd/set-response-body! conn (pr-str doc))
                                                 (httpd/send-response! conn)))))])]
    (try
      (wait (mongo/insert! c "t.h" {:_id 1 :n "one"}))
      (let [client (HttpClient/newHttpClient)
            port (httpd/port srv)]
        ;; Several connections, so both server reactors run handlers.
        (doseq [_ (range 8)]
          (let [cl (HttpClient/newHttpClient)
                resp (.send cl (.build (HttpRequest/newBuilder (URI. (str "http://127.0.0.1:" port "/doc"))))
                            (HttpResponse$BodyHandlers/ofString))]
            (is (= 200 (.statusCode resp)))
            (is (= "{:_id 1, :n \"one\"}" (.body resp)))))
        (is (= 8 (count @seen)))
        (is (every? (fn [[handler callback]] (= handler callback)) @seen)
            (pr-str @seen))
        (is (< 1 (count (distinct (map first @seen)))) "both reactors took part")
        (is (every? #(str/starts-with? (first %) "peloton-http") @seen)))
      (finally
        (mongo/close! c)
        (httpd/stop-server! srv 1)))))
