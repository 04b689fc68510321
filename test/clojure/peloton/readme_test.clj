(ns peloton.readme-test
  "The original README's namespaces `:use` peloton.fut, peloton.reactor and
  peloton.util together; its load-a/load-b example must run as written."
  (:use peloton.fut)
  (:use peloton.reactor)
  (:use peloton.util)
  (:require [clojure.test :refer [deftest is]]
            [peloton.reactor :as reactor]))

(defn load-a [secs]
  (let [f (fut)]
    (reactor/later secs (f 1))
    f))

(defn load-b [secs]
  (let [f (fut)]
    (reactor/later secs (f 2))
    f))

(deftest the-three-namespaces-load-together
  (is (every? #(find-ns %) '[peloton.fut peloton.reactor peloton.util]))
  (is (= (ns-resolve 'peloton.readme-test 'dofut) #'peloton.fut/dofut))
  (is (= (ns-resolve 'peloton.readme-test 'later) #'peloton.reactor/later))
  (is (= (ns-resolve 'peloton.readme-test 'safe) #'peloton.util/safe)))

(deftest readme-program-sequential-and-concurrent
  ;; Short delays keep the test quick; the README uses 1 s and 2 s.
  (let [out (atom [])]
    (reactor/with-reactor
      (dofut [a (load-a 0.01)
              b (load-b 0.02)]
        (swap! out conj (+ a b))
        (reactor/stop)))
    (is (= [3] @out)))
  (let [out (atom [])]
    (reactor/with-reactor
      (dofut-concurrent [a (load-a 0.01)
                         b (load-b 0.02)]
        (swap! out conj (+ a b))
        (reactor/stop)))
    (is (= [3] @out))))

(deftest stop-when-stops-on-completion
  (let [f (fut)]
    (reactor/with-reactor
      (stop-when! f)
      (reactor/later 0.01 (f :done)))
    (is (= :done @f))))
