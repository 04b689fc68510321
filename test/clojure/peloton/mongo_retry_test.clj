(ns peloton.mongo-retry-test
  "Retryable writes from Clojure against a scripted replica-set primary on a
  real socket: a small OP_MSG peer that drops connections as told."
  (:require [clojure.test :refer [deftest is]]
            [peloton.mongo :as mongo])
  (:import (clojure.lang IExceptionInfo)
           (java.io DataInputStream)
           (java.net InetAddress ServerSocket Socket)
           (java.nio ByteBuffer ByteOrder)
           (peloton.mongo OpMsg OpMsg$Reply OpMsg$Sequence)))

(set! *warn-on-reflection* true)

(defn- reply-bytes ^bytes [^long request-id body]
  (let [b (OpMsg/encode (OpMsg/requestId) 0 body (make-array OpMsg$Sequence 0))]
    (.putInt (.order (ByteBuffer/wrap b) ByteOrder/LITTLE_ENDIAN) 8 (int request-id))
    b))

(defn- serve-conn [^Socket s address answer received]
  (try
    (with-open [s s]
      (let [in (DataInputStream. (.getInputStream s))
            out ^java.io.OutputStream (.getOutputStream s)]
        (loop []
          (let [head (byte-array 4)
                _ (.readFully in head)
                len (OpMsg/frameLength (ByteBuffer/wrap head))
                msg (byte-array len)
                _ (System/arraycopy head 0 msg 0 4)
                _ (.readFully in msg 4 (- len 4))
                req (OpMsg/decode (ByteBuffer/wrap msg))
                body (.body ^OpMsg$Reply req)
                cmd (name (key (first body)))]
            (swap! received conj body)
            (let [a (if (#{"isMaster" "hello"} cmd)
                      {:ismaster true :isWritablePrimary true :setName "rs0" :hosts [address]
                       :maxWireVersion (int 17) :logicalSessionTimeoutMinutes (int 30) :ok 1.0}
                      (answer cmd (count (filter #(= cmd (name (key (first %)))) @received))))]
              (when-not (= a :close)
                (let [^bytes b (reply-bytes (.requestId ^OpMsg$Reply req) a)]
                  (.write out b))
                (.flush out)
                (recur)))))))
    (catch java.io.IOException _ nil)))

(defn- primary
  "A scripted primary: `answer` gets a command's name and how many of it have
  arrived (1 for the first) and answers a reply map or :close."
  [answer]
  (let [ss (ServerSocket. 0 50 (InetAddress/getLoopbackAddress))
        address (str "127.0.0.1:" (.getLocalPort ss))
        received (atom [])]
    (future
      (while (not (.isClosed ss))
        (try
          (let [s (.accept ss)]
            (future (serve-conn s address answer received)))
          (catch java.io.IOException _ nil))))
    {:socket ss :address address :received received}))

(defn- inserts [server]
  (filter #(= "insert" (name (key (first %)))) @(:received server)))

(deftest a-dropped-insert-is-sent-once-more-with-the-same-lsid-and-txn-number
  (let [server (primary (fn [_ n] (if (= n 1) :close {:n 1 :ok 1.0})))
        conn @(mongo/connect! (str "mongodb://" (:address server) "/db?replicaSet=rs0&retryWrites=true"))]
    (try
      (is (= 1 (count (deref (mongo/insert! conn "db.c" [{:a 1}]) 10000 :timeout))))
      (let [[first-try retry] (inserts server)]
        (is (= 2 (count (inserts server))))
        (is (uuid? (get-in first-try [:lsid :id])))
        (is (= (:lsid first-try) (:lsid retry)))
        (is (= (:txnNumber first-try) (:txnNumber retry))))
      (finally (mongo/close! conn) (.close ^ServerSocket (:socket server))))))

(deftest both-attempts-failing-is-an-ex-info-and-retry-writes-false-sends-once
  (let [server (primary (fn [_ _] :close))
        address (str "mongodb://" (:address server) "/db")]
    (try
      (let [conn @(mongo/connect! address {:replica-set "rs0" :socket-timeout-ms 3000})
            e (try (deref (mongo/insert! conn "db.c" [{:a 1}]) 10000 :timeout)
                   (catch Exception e e))]
        (mongo/close! conn)
        (is (instance? IExceptionInfo e))
        (is (= :connection (:type (ex-data e))))
        (is (= 2 (count (inserts server)))))
      (let [off @(mongo/connect! address {:replica-set "rs0" :retry-writes? false})
            e (try (deref (mongo/insert! off "db.c" [{:a 2}]) 10000 :timeout)
                   (catch Exception e e))]
        (mongo/close! off)
        (is (instance? IExceptionInfo e))
        (is (= 3 (count (inserts server))) "retry-writes? false: sent once")
        (is (nil? (:lsid (last (inserts server))))))
      (let [msg (try (deref (mongo/connect! "mongodb://127.0.0.1/db" {:retry-writes? "yes"}) 10000 :timeout)
                     (catch IllegalArgumentException e (ex-message e)))]
        (is (re-find #":retry-writes\?" (str msg))))
      (finally (.close ^ServerSocket (:socket server))))))
