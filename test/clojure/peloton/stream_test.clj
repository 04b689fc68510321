(ns peloton.stream-test
  (:require [clojure.test :refer [deftest is]]
            [peloton.fut :as f :refer [dofut]]
            [peloton.stream :as s]))

(deftest put-take-and-backpressure
  (let [st (s/stream 1)
        p1 (s/put! st :a)
        p2 (st :b)]
    (is (true? @p1))
    (is (not (realized? p2)) "a put beyond the buffer waits")
    (is (= :a @(s/take! st)))
    (is (true? @p2))
    (is (= :b @(s/take! st)))))

(deftest close-reaches-the-consumer
  (let [st (s/stream)
        pending (s/take! st)]
    (s/close! st)
    (is (s/eof? @pending))
    (is (false? @(s/put! st 1)))
    (is (s/closed? st))))

(deftest error-reaches-the-consumer-after-values
  (let [st (s/stream)
        boom (ex-info "boom" {})]
    (s/put! st 1)
    (s/error! st boom)
    (is (= 1 @(s/take! st)))
    (is (identical? boom (.error ^peloton.fut.Fut (s/take! st))))))

(deftest do-stream-runs-body-per-value
  (let [st (s/stream 4)
        seen (atom [])
        done (s/do-stream [x st] (swap! seen conj x))]
    (s/put! st 1)
    (s/put! st 2)
    (is (= [1 2] @seen))
    (is (not (realized? done)))
    (s/close! st)
    (is (true? @done))))

(deftest do-stream-waits-for-body-futs-and-stops-on-error
  (let [st (s/seq->stream (range 5))
        gates (atom [])
        done (s/do-stream [x st]
               (let [g (f/fut)] (swap! gates conj [x g]) g))]
    (is (= [0] (map first @gates)))
    ((second (first @gates)) nil)
    (is (= [0 1] (map first @gates)))
    (let [boom (RuntimeException.)]
      (f/fail! (second (second @gates)) boom)
      (is (identical? boom (.error ^peloton.fut.Fut done))))))

(deftest do-stream-over-a-plain-value-runs-once
  (let [seen (atom [])]
    (is (= 3 @(s/do-stream [x 3] (swap! seen conj x) x)))
    (is (= [3] @seen))))

(deftest producer-and-consumer-on-two-threads
  (let [n 100000
        st (s/stream 32)
        producer (future
                   (dotimes [i n] @(s/put! st i))
                   (s/close! st))
        consumer (future (vec (s/stream->seq st)))]
    (is (= (range n) (deref consumer 30000 :timeout)))
    @producer))

(deftest seq->stream-with-dofut-consumer
  (let [st (s/seq->stream [1 2 3])
        r (dofut [a (s/take! st) b (s/take! st) c (s/take! st) d (s/take! st)]
            [a b c (s/eof? d)])]
    (is (= [1 2 3 true] @r))))

(deftest cancel-stream-stops-a-waiting-producer
  (let [st (s/stream 1)
        _ (s/put! st :a)
        waiting (s/put! st :b)]
    (is (not (realized? waiting)))
    (s/cancel-stream! st)
    (is (false? (deref waiting 1000 :timeout)))
    (is (s/eof? @(s/take! st)) "buffered values are dropped")
    (is (false? @(s/put! st :c)))))

(deftest do-stream-waits-for-a-fut-of-a-stream
  (let [st (s/stream 4)
        pending (f/fut)
        seen (atom [])
        done (s/do-stream [x pending] (swap! seen conj x))]
    (is (not (realized? done)) "nothing to iterate before the fut delivers")
    (.start (Thread. ^Runnable (fn [] (s/put! st 1) (s/put! st 2) (s/close! st) (pending st))))
    (is (true? (deref done 10000 :timeout)))
    (is (= [1 2] @seen) "the stream's values, not the fut itself")))

(deftest do-stream-over-a-failed-fut-or-a-fut-of-something-else-fails
  (let [boom (ex-info "boom" {})
        ran (atom 0)
        failed (s/do-stream [_ (f/error-fut boom)] (swap! ran inc))
        other (s/do-stream [_ (f/success-fut 42)] (swap! ran inc))]
    (is (identical? boom (.error ^peloton.fut.Fut failed)))
    (is (instance? IllegalArgumentException (.error ^peloton.fut.Fut other)))
    (is (= "do-stream: expected a stream or a fut of a stream; the fut delivered java.lang.Long"
           (.getMessage ^Throwable (.error ^peloton.fut.Fut other))))
    (is (zero? @ran) "the body never ran with the fut or its value")))
