(ns peloton.original-reactor-test
  "The original library's reactor test, ported as a regression test."
  (:use peloton.reactor)
  (:use clojure.test))

(deftest reactor-test
  (let [a (atom 0)]
    (with-reactor
      (later 0
             (swap! a inc)
             (stop!))
      (is (= @a 0)))
    (is (= @a 1))))
