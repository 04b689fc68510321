(ns peloton.fut-test
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.fut :as f :refer [dofut dofut-concurrent >?]])
  (:import (java.util.concurrent CompletableFuture Executors ExecutorService
                                 TimeoutException TimeUnit)))

(defn- error-of [fut]
  (.error ^peloton.fut.Fut fut))

(deftest invoke-delivers-once
  (let [x (f/fut)]
    (x 1)
    (is (= 1 @x))
    (is (thrown-with-msg? IllegalStateException #"already delivered" (x 2)))
    (is (false? (f/deliver! x 3)))
    (is (identical? x (x)))
    (is (f/fut? x))
    (is (not (f/fut? 1)))))

(deftest deliver-several-values-delivers-a-vector
  (let [x (f/fut)]
    (f/deliver! x 1 2 3)
    (is (= [1 2 3] @x))))

(deftest on-complete-sees-errors-and-subscribe-only-values
  (let [x (f/fut)
        seen (atom [])
        boom (ex-info "boom" {:k 1})]
    (f/on-complete! x (fn [v e] (swap! seen conj [:complete v e])))
    (f/subscribe! x (fn [v] (swap! seen conj [:subscribe v])))
    (f/fail! x boom)
    (is (= [[:complete nil boom]] @seen))
    (is (identical? boom (try @x (catch clojure.lang.ExceptionInfo e e))))))

(deftest on-complete-with-executor
  (let [^ExecutorService ex (Executors/newSingleThreadExecutor)
        thread (promise)]
    (try
      (f/on-complete! (f/success-fut 1) ex (fn [_ _] (deliver thread (Thread/currentThread))))
      (is (not= (Thread/currentThread) (deref thread 5000 nil)))
      (finally (.shutdownNow ex)))))

(deftest dofut-plain-values-futs-and-completion-stages
  (let [cf (CompletableFuture.)
        r (dofut [a 1
                  b (f/success-fut 2)
                  c cf]
            (+ a b c))]
    (is (not (realized? r)))
    (.complete cf 3)
    (is (= 6 @r))))

(deftest dofut-bindings-wait-for-the-previous-one
  (let [started (atom [])
        fa (f/fut)
        fb (f/fut)
        r (dofut [a (do (swap! started conj :a) fa)
                  b (do (swap! started conj :b) fb)]
            [a b])]
    (is (= [:a] @started) "the second load starts only after the first delivered")
    (fa 1)
    (is (= [:a :b] @started))
    (fb 2)
    (is (= [1 2] @r))))

(deftest dofut-concurrent-starts-independent-bindings-at-once
  (let [started (atom [])
        fa (f/fut)
        fb (f/fut)
        r (dofut-concurrent [a (do (swap! started conj :a) fa)
                             b (do (swap! started conj :b) fb)
                             c (do (swap! started conj :c) (+ a b))]
            [a b c])]
    (is (= [:a :b] @started) "both loads start before either is delivered")
    (fb 2)
    (is (= [:a :b] @started) "c waits for both a and b")
    (fa 1)
    (is (= [:a :b :c] @started))
    (is (= [1 2 3] @r))))

(deftest dofut-concurrent-shadowing-and-destructuring
  (let [r (dofut-concurrent [x (f/success-fut 1)
                             x (f/success-fut (+ x 10))
                             {:keys [y] :or {y x}} (f/success-fut {})
                             [p q] [x y]]
            [x y p q])]
    (is (= [11 11 11 11] @r))))

(deftest dofut-concurrent-fails-and-skips-dependents
  (let [boom (RuntimeException. "boom")
        ran (atom false)
        r (dofut-concurrent [a (f/error-fut boom)
                             b (reset! ran a)]
            b)]
    (is (identical? boom (error-of r)))
    (is (false? @ran))))

(deftest dofut-destructures-and-shadows-like-let
  (is (= [1 2 {:a 1}] @(dofut [[x y] (f/success-fut [1 2])
                                {:keys [a] :as m} {:a 1}]
                          [x y m])))
  (is (= 3 @(dofut [x 1 x (inc x) x (inc x)] x))))

(deftest dofut-evaluates-unreferenced-bindings
  (let [hits (atom 0)
        boom (RuntimeException. "unused but failing")]
    (is (= :ok @(dofut [_ (swap! hits inc) _ (swap! hits inc)] :ok)))
    (is (= 2 @hits))
    (is (identical? boom (error-of (dofut [_ (f/error-fut boom)] :never))))))

(deftest dofut-short-circuits-with-the-same-exception
  (let [boom (IllegalStateException. "boom")
        later (atom false)
        r1 (dofut [a (f/error-fut boom) b (reset! later true)] b)
        r2 (dofut [a 1 b (throw boom) c (reset! later true)] c)
        r3 (dofut [a 1] (throw boom))
        r4 (dofut [[x] 5] x)]
    (is (identical? boom (error-of r1)))
    (is (identical? boom (error-of r2)))
    (is (identical? boom (error-of r3)))
    (is (false? @later))
    (is (instance? Exception (error-of r4)) "destructuring errors fail the fut")))

(deftest dofut-never-throws-so-try-belongs-inside
  (let [boom (RuntimeException. "boom")
        outer (try (dofut [x (throw boom)] x)
                   (catch RuntimeException _ :caught-synchronously))]
    (is (f/fut? outer) "an error in a binding goes into the fut, not to a surrounding try")
    (is (identical? boom (error-of outer))))
  (is (= :handled @(dofut [x 1]
                     (try (throw (RuntimeException. "plain code"))
                          (catch RuntimeException _ :handled)))))
  (is (= :recovered @(f/recover (dofut [x (f/error-fut (RuntimeException.))] x)
                                (fn [_] :recovered)))))

(deftest dofut-flattens-a-body-fut
  (let [inner (f/fut)
        r (dofut [x 1] inner)]
    (is (not (realized? r)))
    (inner 5)
    (is (= 5 @r)))
  (is (= 7 @(dofut [] 7))))

(defn- count-down [n]
  (dofut [x n]
    (if (zero? x) :done (count-down (dec x)))))

(defn- count-down-futs [n]
  (dofut [x (f/success-fut n)
          y (f/success-fut (dec x))]
    (if (neg? y) :done (count-down-futs y))))

(deftest dofut-loop-of-a-million-steps-is-stack-safe
  (is (= :done @(count-down 1000000)))
  (is (= :done @(count-down-futs 1000000))))

(deftest dofut-body-runs-where-the-last-fut-was-delivered
  (let [fa (f/fut)
        where (atom nil)
        r (dofut [a fa] (reset! where (Thread/currentThread)))
        t (Thread. #(fa 1))]
    (.start t)
    (.join t 5000)
    @r
    (is (identical? t @where))))

(deftest then-recover-always
  (is (= 6 @(f/then 1 inc #(f/success-fut (* 3 %)))))
  (let [boom (RuntimeException.)]
    (is (identical? boom (error-of (f/then 1 (fn [_] (throw boom)) inc))))
    (is (= [:fixed boom] @(f/recover (f/error-fut boom) (fn [e] [:fixed e])))))
  (let [ran (atom 0)]
    (is (= 1 @(f/always 1 #(swap! ran inc))))
    (is (= 1 @ran))))

(deftest all-and-zip
  (let [a (f/fut) b (f/fut)
        r (f/zip a b 3)]
    (b 2)
    (is (not (realized? r)))
    (a 1)
    (is (= [1 2 3] @r))
    (is (vector? @r))
    (is (= [] @(f/all [])))))

(deftest with-timeout-fails-with-a-timeout-exception
  (let [r (f/with-timeout (f/fut) 10)
        e (deref (f/recover r identity) 5000 nil)]
    (is (instance? TimeoutException e))
    (is (re-find #"10 ms" (.getMessage ^Exception e))))
  (is (= 1 @(f/with-timeout (f/success-fut 1) 10))))

(deftest to-fut-wraps-callback-apis
  (let [add (fn [a b cb] (cb (+ a b)))
        pair (fn [cb x] (cb x x))]
    (is (= 3 @((f/to-fut add) 1 2)))
    (is (= [4 4] @((f/to-fut pair 0) 4)))))

(deftest question-mark-refs
  (let [a (f/fut) b 10
        r (>? (+ ?a ?b 1))]
    (is (not (realized? r)))
    (a 1)
    (is (= 12 @r))
    (is (= 1 @(>? ?a)))))

(deftest deref-timeout-value
  (is (= :none (deref (f/fut) 10 :none))))
