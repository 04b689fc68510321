(ns peloton.mongo-test
  "The original Peloton's MongoDB example, and errors, against an in-process
  mongo-java-server on a random 127.0.0.1 port."
  (:require [clojure.test :refer [deftest is use-fixtures]]
            [peloton.mongo :as mongo])
  (:use peloton.fut
        peloton.mongo
        [peloton.stream :exclude [close!]])
  (:import (de.bwaldvogel.mongo MongoServer)
           (de.bwaldvogel.mongo.backend.memory MemoryBackend)
           (java.net InetSocketAddress)
           (org.bson.types ObjectId)))

(set! *warn-on-reflection* true)

(def ^:dynamic ^MongoServer *server* nil)
(def ^:dynamic *port* nil)

(defn- start-server ^MongoServer [port]
  (doto (MongoServer. (MemoryBackend.)) (.bind "127.0.0.1" (int port))))

(use-fixtures :each
  (fn [t]
    (let [s (start-server 0)]
      (try
        (binding [*server* s
                  *port* (.getPort ^InetSocketAddress (.getLocalAddress s))]
          (t))
        (finally (.shutdownNow s))))))

(defn- wait
  "The fut's value, or :timeout after 10 s (the test then fails instead of hanging)."
  [f]
  (deref f 10000 :timeout))

(deftest original-example
  (let [x (atom 0)
        result
        (wait
         (dofut [conn (connect! "127.0.0.1" *port*)
                 deleted? (delete! conn "foods.groups" {})
                 inserted? (insert! conn "foods.groups" [{:name "Fruits"}])
                 updated? (update! conn "foods.groups" {:name "Fruits"} {:color "Green"})
                 docs (query-all! conn "foods.groups" {})
                 _ (delete! conn "foods.groups" {})
                 _ (delete! conn "x.y" {})
                 large-inserted? (insert! conn "x.y" (repeat 5000 {:x 1}))
                 large-result (query-all! conn "x.y" {} :limit 5000)
                 books (query-stream! conn "x.y" {} :limit 5000)
                 stream-done? (do-stream [b books] (swap! x inc))]
           (close! conn)
           {:deleted? deleted? :inserted? inserted? :updated? updated? :docs docs
            :large (count large-inserted?) :large-result (count large-result)
            :stream-done? stream-done?}))]
    (is (map? result) (str result))
    (is (= 0 (:n (:deleted? result))))
    (is (instance? ObjectId (first (:inserted? result))))
    (is (= 1 (:n (:updated? result))))
    (is (= [{:_id (first (:inserted? result)) :color "Green"}] (:docs result)))
    (is (= 5000 (:large result) (:large-result result)))
    (is (true? (:stream-done? result)))
    (is (= 5000 @x))))

(deftest more-operations
  (let [r (wait
           (dofut [c (connect! (str "mongodb://127.0.0.1:" *port* "/shop") {:max-pool-size 2})
                   _ (insert! c "people" [{:name "ann" :age 31} {:name "bob" :age 25} {:name "cy" :age 31}])
                   n (count-docs c "people" {:age 31})
                   one (find-one c ["shop" "people"] {:name "bob"} :fieldset [:age])
                   ages (distinct-values c "people" :age)
                   sorted (query-all! c "shop.people" {} :sort (array-map :age 1 :name -1) :fieldset [:name])
                   groups (aggregate c "people" [{:$group {:_id "$age" :n {:$sum 1}}} {:$sort {:_id 1}}])
                   older (find-and-modify! c "people" {:query {:name "bob"} :update {:$inc {:age 1}} :new? true})
                   _ (create-index! c "people" {:name 1} :unique? true)
                   colls (list-collections c "shop")
                   ping (command! c "admin" (array-map :ping 1))
                   dropped (drop! c "people")
                   after (count-docs c "people")]
             (close! c)
             {:n n :one one :ages (set ages) :sorted (mapv :name sorted) :groups groups
              :older (:age older) :colls (set (map :name colls)) :ping (:ok ping)
              :dropped dropped :after after}))]
    (is (= 2 (:n r)) (str r))
    (is (= 25 (:age (:one r))))
    (is (nil? (:name (:one r))))
    (is (= #{25 31} (:ages r)))
    (is (= ["bob" "cy" "ann"] (:sorted r)))
    (is (= [{:_id 25 :n 1} {:_id 31 :n 2}] (:groups r)))
    (is (= 26 (:older r)))
    (is (contains? (:colls r) "people"))
    (is (= 1.0 (:ping r)))
    (is (true? (:dropped r)))
    (is (= 0 (:after r)))))

(deftest duplicate-key-is-ex-info-with-code-11000
  (let [c (wait (connect! "127.0.0.1" *port*))
        f (dofut [_ (create-index! c "d.users" {:email 1} :unique? true)
                  _ (insert! c "d.users" {:email "a@b.c"})]
            (insert! c "d.users" {:email "a@b.c"}))
        e (try (wait f) (catch Exception e e))]
    (close! c)
    (is (instance? clojure.lang.IExceptionInfo e))
    (is (= 11000 (:code (ex-data e))))
    (is (string? (:message (ex-data e))))
    (is (= 11000 (:code (first (:write-errors (ex-data e))))))))

(deftest server-gone-fails-then-next-operation-reconnects
  (let [port *port*
        c (wait (connect! "127.0.0.1" port {:socket-timeout-ms 2000 :connect-timeout-ms 2000}))]
    (is (vector? (wait (insert! c "r.c" {:a 1}))))
    (.shutdownNow *server*)
    (let [e (try (wait (count-docs c "r.c")) (catch Exception e e))]
      (is (= :connection (:type (ex-data e))) (str e)))
    (let [s2 (start-server port)]
      (try
        (is (vector? (wait (insert! c "r.c" {:a 2}))))
        (is (= 1 (wait (count-docs c "r.c"))))
        (finally (close! c) (.shutdownNow s2))))))

(deftest stream-closed-early-stops
  (let [c (wait (connect! "127.0.0.1" *port*))
        _ (wait (insert! c "s.c" (for [i (range 50)] {:i i})))
        s (wait (query-stream! c "s.c" {} :batch-size 5 :sort {:i 1}))]
    (is (= 0 (:i (wait (take! s)))))
    (mongo/close! s)
    (is (closed? s))
    (is (eof? (wait (take! s))) "close! cancels: the documents not taken are dropped")
    (is (= 50 (wait (count-docs c "s.c"))))
    (close! c)))

(deftest read-preference-on-a-standalone-server
  (let [c (wait (connect! (str "mongodb://127.0.0.1:" *port* "/?readPreference=secondaryPreferred")))]
    (try
      (is (vector? (wait (insert! c "rp.c" [{:i 1} {:i 2}]))))
      (is (= 2 (wait (count-docs c "rp.c" {} :read-preference :secondary))))
      (is (= [1 2] (mapv :i (wait (query-all! c "rp.c" {} :sort {:i 1} :read-preference :nearest)))))
      (is (= 1 (:i (wait (find-one c "rp.c" {:i 1} :read-preference "primaryPreferred")))))
      (is (= #{1 2} (set (wait (distinct-values c "rp.c" :i {} :read-preference :secondary-preferred)))))
      (is (thrown? IllegalArgumentException (count-docs c "rp.c" {} :read-preference :farthest)))
      (finally (close! c)))))

(deftest bulk-write-with-an-error-in-the-middle
  (let [c (wait (connect! "127.0.0.1" *port*))]
    (try
      (let [r (wait (bulk-write! c "bw.c" [[:insert {:_id 1 :v "a"}]
                                           [:insert {:_id 2 :v "b"}]
                                           [:update {:_id 1} {:$set {:v "A"}}]
                                           [:update {:_id 7} {:$set {:v "u"}} {:upsert? true}]
                                           [:delete {:_id 2} {:single-remove? true}]]
                                 :write-concern {:w 1}))]
        (is (= 2 (:nInserted r)))
        (is (= 1 (:nMatched r)))
        (is (= 1 (:nUpserted r)))
        (is (= 1 (:nRemoved r)))
        (is (= #{{:_id 1 :v "A"} {:_id 7 :v "u"}} (set (wait (query-all! c "bw.c" {}))))))
      (let [e (try (wait (bulk-write! c "bw.c" [[:insert {:_id 3}] [:insert {:_id 1}] [:delete {}]]))
                   (catch Exception e e))]
        (is (= 11000 (:code (ex-data e))) (str e))
        (is (= [1] (map :index (:write-errors (ex-data e)))))
        (is (= 3 (wait (count-docs c "bw.c")))))
      (let [e (try (wait (bulk-write! c "bw.c" [[:insert {:_id 4}] [:insert {:_id 1}] [:delete {:_id 3}]]
                                      :ordered? false))
                   (catch Exception e e))]
        (is (= [1] (map :index (:write-errors (ex-data e)))))
        (is (= 1 (:nRemoved (:response (ex-data e)))))
        (is (= #{1 4 7} (set (map :_id (wait (query-all! c "bw.c" {})))))))
      (is (= [{:_id 9}] (mapv #(select-keys % [:_id])
                              (do (wait (insert! c "bw.d" {:_id 9} :write-concern {:w 1 :j true}))
                                  (wait (query-all! c "bw.d" {}))))))
      (finally (close! c)))))
