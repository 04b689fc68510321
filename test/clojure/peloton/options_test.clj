(ns peloton.options-test
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.options :as o]))

(def spec {:port [o/port? "a port number 0-65535"]
           :host [string? "a host name or address string"]
           :unique? [boolean? "true or false"]})

(defn- message [opts]
  (try (o/check! "serve!" spec opts) nil
       (catch IllegalArgumentException e (.getMessage e))))

(deftest unknown-key-names-it-and-the-closest-known-one
  (is (= "serve!: unknown option :prot (did you mean :port?); known options: :host :port :unique?"
         (message {:prot 8093})))
  (is (re-find #"unknown option :unique \(did you mean :unique\?\?\)" (message {:unique true})))
  (testing "a prefix of a longer name suggests it"
    (is (re-find #"unknown option :hos \(did you mean :host\?\)" (message {:hos 1})))
    (is (re-find #"unknown option :uni \(did you mean :unique\?\?\)" (message {:uni 1}))))
  (testing "nothing near: no suggestion"
    (is (re-find #"unknown option :zzzzzzzzzzzz; known" (message {:zzzzzzzzzzzz 1})))))

(deftest wrong-type-names-the-option-and-what-it-expects
  (is (= "serve!: option :port expects a port number 0-65535, got \"8094\" (java.lang.String)"
         (message {:port "8094"})))
  (is (re-find #":port expects .* got 70000" (message {:port 70000})))
  (is (re-find #"options must be a map" (message [:port 1]))))

(deftest valid-and-nil-values-pass-through
  (is (= {:port 0 :host "h" :unique? false} (o/check! "x" spec {:port 0 :host "h" :unique? false})))
  (is (= {:port nil} (o/check! "x" spec {:port nil})))
  (is (nil? (o/check! "x" spec nil))))

(deftest kv-map-refuses-an-odd-count
  (is (= {:limit 10} (o/kv-map "query-all!" [:limit 10])))
  (is (thrown-with-msg? IllegalArgumentException #"query-all!: options must be key/value pairs"
                        (o/kv-map "query-all!" [:limit]))))
