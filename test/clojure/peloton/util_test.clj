(ns peloton.util-test
  (:require [clojure.test :refer [deftest is]]
            [peloton.util :as u]))

(deftest utf8-round-trip
  (is (= "héllo ✓" (u/utf8-decode (u/utf8-encode "héllo ✓"))))
  (is (= 3 (alength (u/utf8-encode "✓"))))
  (is (= "ll" (u/utf8-decode (u/utf8-encode "hello") 2 2))))

(deftest safe-swallows-and-answers-nil
  (is (nil? (u/safe (throw (RuntimeException. "boom")))))
  (is (= 3 (u/safe (+ 1 2)))))
