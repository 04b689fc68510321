(ns peloton.do-stream-mongo-test
  "`do-stream` over what `peloton.mongo/query-stream!` really answers (a fut
  of a stream), against an in-process mongo-java-server."
  (:require [clojure.test :refer [deftest is]]
            [peloton.fut :refer [dofut]]
            [peloton.mongo :as mongo]
            [peloton.stream :as s])
  (:import (de.bwaldvogel.mongo MongoServer)
           (de.bwaldvogel.mongo.backend.memory MemoryBackend)
           (java.net InetSocketAddress)))

(set! *warn-on-reflection* true)

(deftest do-stream-iterates-a-query-stream
  (let [server (doto (MongoServer. (MemoryBackend.)) (.bind "127.0.0.1" (int 0)))
        port (.getPort ^InetSocketAddress (.getLocalAddress server))]
    (try
      (let [c (deref (mongo/connect! "127.0.0.1" port) 10000 :timeout)
            _ (deref (mongo/insert! c "d.s" (for [i (range 12)] {:i i})) 10000 :timeout)
            seen (atom [])
            done (s/do-stream [{:keys [i]} (mongo/query-stream! c "d.s" {} :batch-size 5 :sort {:i 1})]
                   (swap! seen conj i))]
        (try
          (is (true? (deref done 10000 :timeout)))
          (is (= (range 12) @seen) "every document, over three batches")
          (is (= 3 (deref (dofut [n (s/do-stream [d (mongo/query-stream! c "d.s" {:i {:$lt 3}})]
                                      (swap! seen conj (:i d)))]
                            (count (drop 12 @seen)))
                          10000 :timeout))
              "inside dofut too")
          (finally (mongo/close! c))))
      (finally (.shutdownNow server)))))
