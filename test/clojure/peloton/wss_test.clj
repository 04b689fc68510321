(ns peloton.wss-test
  "WebSocket over TLS from Clojure: serve! with :tls upgraded by ws/upgrade!,
  http/websocket! to wss:// with the HTTP client's TLS options, and the errors
  for an untrusted certificate and a misspelt TLS option."
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.http :as http]
            [peloton.httpd :as httpd]
            [peloton.stream :as s]
            [peloton.ws :as ws])
  (:import (java.util.concurrent LinkedBlockingQueue TimeUnit)))

;; The certificates come from a Java test helper (test/java), which Leiningen does not compile:
;; under `lein test` these tests do nothing; Surefire (mvn test) always runs them.
(def ^:private certs-class
  (try (Class/forName "peloton.transport.TestCerts") (catch ClassNotFoundException _ nil)))

(defn- f ^String [name]
  (clojure.lang.Reflector/invokeStaticMethod ^Class certs-class "file" (object-array [name])))

(defn- deref10 [fut] (deref fut 10000 :timeout))

(defn- failure [fut]
  (try {:unexpected (deref fut 15000 :no-answer)}
       (catch Exception e (ex-data e))))

(defn- failure-message [fut]
  (try (str "no failure: " (deref fut 15000 :no-answer))
       (catch Exception e (or (some #(when (instance? IllegalArgumentException %) (ex-message %))
                                    (take-while some? (iterate ex-cause e)))
                              (str e)))))

(defmacro ^:private with-tls-server [[sym] & body]
  `(when certs-class
     (let [~sym (httpd/serve! {:port 0 :reactors 1
                               :tls {:cert (f "fullchain.pem") :key (f "server.key")}}
                              [:GET #"^/echo$"
                               (fn [conn#]
                                 (ws/upgrade! conn# {:on-message (fn [sock# m#] (ws/send! sock# m#))}))])]
       (try ~@body (finally (httpd/stop-server! ~sym 1))))))

(deftest websocket!-speaks-wss-with-the-clients-tls-options
  (with-tls-server [srv]
    (let [url (str "wss://localhost:" (httpd/port srv) "/echo")
          got (LinkedBlockingQueue.)
          sock (deref10 (http/websocket! url {:on-message (fn [_ m] (.add got m))}
                                         :ca-cert (f "ca.pem")))]
      (is (ws/open? sock))
      (is (true? (deref10 (ws/send! sock "secure h\u00e9llo"))))
      (is (= "secure h\u00e9llo" (.poll got 10 TimeUnit/SECONDS)))
      (let [big (apply str (repeat 200000 "abc "))]
        (ws/send! sock big)
        (is (= big (.poll got 10 TimeUnit/SECONDS)) "800 KB over TLS, deflated"))
      (is (= 1000 (deref10 (ws/close! sock)))))
    (testing "the stream API over wss"
      (let [sock (deref10 (http/websocket! (str "wss://localhost:" (httpd/port srv) "/echo") nil
                                           {:ca-cert (f "ca.pem")}))]
        (s/put! (ws/out sock) "through streams")
        (is (= "through streams" (deref10 (s/take! (ws/in sock)))))
        (ws/close! sock)))))

(deftest a-bad-certificate-fails-websocket!-with-kind-tls
  (with-tls-server [srv]
    (let [url (str "wss://localhost:" (httpd/port srv) "/echo")]
      (testing "the JDK's trust store does not know the test CA"
        (is (= {:kind :tls :url url :reason "untrusted certificate"}
               (failure (http/websocket! url {})))))
      (testing "another CA than the one that signed"
        (is (= :tls (:kind (failure (http/websocket! url {} :ca-cert (f "other-ca.pem"))))))))
    (testing "a misspelt TLS option names the right one"
      (let [e (failure-message (http/websocket! "wss://localhost:1/" {} :ca-certs "x"))]
        (is (re-find #":ca-certs.*:ca-cert" e) e)))))
