(ns peloton.reactor-test
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.reactor :as r])
  (:import (java.nio ByteBuffer)
           (java.nio.channels Pipe)
           (java.util.concurrent CountDownLatch TimeUnit)))

(deftest with-reactor-answers-the-body-and-runs-timers-in-order
  (let [seen (atom [])
        v (r/with-reactor
            (r/later 0.02 (swap! seen conj :c) (r/stop))
            (r/later 0.01 (swap! seen conj :b))
            (r/timeout 0 (fn [x y] (swap! seen conj [x y])) 1 2)
            (swap! seen conj :a)
            :body-value)]
    (is (= :body-value v))
    (is (= [:a [1 2] :b :c] @seen))))

(deftest cancelled-timer-never-fires
  (let [fired (atom false)]
    (r/with-reactor
      (let [t (r/later 0.01 (reset! fired true))]
        (is (true? (r/cancel! t)))
        (r/later 0.03 (r/stop))))
    (is (false? @fired))))

(deftest on-readable-runs-on-the-reactor-thread
  (let [pipe (Pipe/open)
        src (doto (.source pipe) (.configureBlocking false))
        got (promise)]
    (r/with-reactor
      (r/on-readable! src
                      (fn [tag]
                        (let [b (ByteBuffer/allocate 8)
                              n (.read src b)]
                          (deliver got [tag n (r/in-reactor?)])
                          (r/stop-readable! src)
                          (r/stop)))
                      :tag)
      (future (.write (.sink pipe) (ByteBuffer/wrap (byte-array [1 2 3])))))
    (is (= [:tag 3 true] (deref got 1000 :timeout)))
    (.close (.sink pipe))
    (.close src)))

(deftest stop-from-another-thread-ends-the-loop
  (let [started (CountDownLatch. 1)
        reactor (promise)
        done (future
               (r/with-reactor
                 (deliver reactor (r/current-reactor))
                 (.countDown started)
                 :ran))]
    (is (.await started 5 TimeUnit/SECONDS))
    (r/stop @reactor)
    (is (= :ran (deref done 5000 :hung)))))

(deftest later-outside-any-reactor-uses-the-shared-one
  (let [p (promise)]
    (r/later 0 (deliver p (.getName (Thread/currentThread))))
    (is (= "peloton-shared-reactor" (deref p 5000 :timeout)))))

(deftest a-throwing-callback-does-not-stop-the-loop
  (let [after (atom nil)]
    (r/with-reactor
      (r/later 0 (throw (RuntimeException. "boom (expected by the test)")))
      (r/later 0.01 (reset! after :still-running) (r/stop)))
    (is (= :still-running @after))))

(deftest stop-without-a-reactor-says-so
  (testing "outside any reactor thread"
    (is (thrown-with-msg? IllegalStateException #"no reactor" (r/stop)))))
