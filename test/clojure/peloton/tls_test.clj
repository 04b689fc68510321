(ns peloton.tls-test
  "HTTPS end to end in Clojure: serve! and serve-ring! with :tls, the client's TLS
  options, and the errors for bad options and bad key material."
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.http :as http]
            [peloton.httpd :as httpd]
            [peloton.mongo])
  (:import (peloton.transport TlsConfig)))

;; The certificates come from a Java test helper (test/java), which Leiningen does not compile:
;; under `lein test` these tests do nothing; Surefire (mvn test) always runs them.
(def ^:private certs-class
  (try (Class/forName "peloton.transport.TestCerts") (catch ClassNotFoundException _ nil)))

(defn- f ^String [name]
  (clojure.lang.Reflector/invokeStaticMethod ^Class certs-class "file" (object-array [name])))

(defmacro ^:private deftest-tls [sym & body]
  `(deftest ~sym (when certs-class ~@body)))

(defn- wait [fut] (deref fut 15000 ::no-answer))

(defn- failure [fut]
  (try {:unexpected (deref fut 15000 ::no-answer)}
       (catch Exception e (ex-data e))))

(defmacro ^:private with-server [[sym server] & body]
  `(let [~sym ~server]
     (try ~@body (finally (httpd/stop-server! ~sym 1)))))

(deftest-tls https-serve-and-call
  (doseq [tls [{:cert (f "fullchain.pem") :key (f "server.key")}
               {:cert (f "server-ec.pem") :key (f "server-ec-sec1.key")}
               {:keystore (f "server.p12") :password "secret"}
               {:ssl-context (.context (TlsConfig/serverPem (f "fullchain.pem") (f "server.key")))}
               {:cert (f "fullchain.pem") :key (f "server.key") :handshake-tasks :executor}
               {:ssl-context (.context (TlsConfig/serverPem (f "fullchain.pem") (f "server.key")))
                :handshake-tasks :inline}]]
    (testing (pr-str (keys tls))
      (with-server [s (httpd/serve! {:port 0 :reactors 1 :tls tls}
                                    [:GET #"^/$" (fn [conn] (httpd/send-html! conn "secure hello"))])]
        (let [c (http/client {:ca-cert (f "ca.pem")})
              url (str "https://localhost:" (httpd/port s) "/")]
          (try
            (is (= {:status 200 :body "secure hello"}
                   (select-keys (wait (http/get! url :client c)) [:status :body])))
            (testing "the default client does not trust the test CA"
              (is (= {:kind :tls :url url :reason "untrusted certificate"}
                     (failure (http/get! url)))))
            (testing "insecure? trusts anything"
              (let [ic (http/client {:insecure? true})]
                (try (is (= 200 (:status (wait (http/get! url :client ic)))))
                     (finally (http/close-client! ic)))))
            (finally (http/close-client! c))))))))

(deftest-tls ring-requests-over-tls-say-https
  (with-server [s (httpd/serve-ring! {:port 0 :reactors 1
                                      :tls {:cert (f "fullchain.pem") :key (f "server.key")}}
                                     (fn [req] {:status 200 :body (name (:scheme req))}))]
    (let [c (http/client {:ca-cert (f "ca.pem")})]
      (try
        (is (= "https" (:body (wait (http/get! (str "https://127.0.0.1:" (httpd/port s) "/")
                                               :client c)))))
        (finally (http/close-client! c))))))

(deftest-tls bad-tls-options-are-clear-errors
  (testing "unknown key in :tls names the closest known one"
    (let [e (is (thrown? IllegalArgumentException
                         (httpd/serve! {:port 0 :tls {:cert (f "server.pem") :kye (f "server.key")}})))]
      (is (re-find #":kye.*:key" (ex-message e)))))
  (testing "neither cert nor keystore"
    (is (thrown-with-msg? IllegalArgumentException #"exactly one of"
                          (httpd/serve! {:port 0 :tls {}}))))
  (testing "a key that is not the certificate's names both files"
    (is (thrown-with-msg? java.io.IOException #"client\.key.*server\.pem"
                          (httpd/serve! {:port 0 :tls {:cert (f "server.pem") :key (f "client.key")}}))))
  (testing "a missing file is named"
    (is (thrown-with-msg? java.io.IOException #"missing\.pem"
                          (httpd/serve! {:port 0 :tls {:cert "missing.pem" :key (f "server.key")}}))))
  (testing "client options are checked"
    (is (thrown-with-msg? IllegalArgumentException #":ca-crt.*:ca-cert"
                          (http/client {:ca-crt "x"})))
    (is (thrown-with-msg? IllegalArgumentException #"insecure"
                          (http/client {:insecure? true :ca-cert (f "ca.pem")})))
    (is (thrown-with-msg? java.io.IOException #"nowhere\.pem"
                          (http/client {:ca-cert "nowhere.pem"})))))

(defn- tls-mongo-server
  "A mongo-java-server speaking TLS with the localhost certificate."
  ^de.bwaldvogel.mongo.MongoServer []
  (let [s (de.bwaldvogel.mongo.MongoServer. (de.bwaldvogel.mongo.backend.memory.MemoryBackend.))
        chain (peloton.transport.Pem/certificates (java.nio.file.Path/of (f "server.pem")
                                                                        (make-array String 0)))]
    (.enableSsl s (peloton.transport.Pem/privateKey (java.nio.file.Path/of (f "server.key")
                                                                          (make-array String 0))
                                                    nil)
                nil (into-array java.security.cert.X509Certificate chain))
    (.bind s "127.0.0.1" 0)
    s))

(deftest-tls mongo-over-tls
  (let [server (tls-mongo-server)
        port (.getPort (.getLocalAddress server))]
    (try
      (testing "connect! options"
        (let [c (wait (peloton.mongo/connect! "localhost" port {:tls? true :tls-ca-file (f "ca.pem")}))]
          (try
            (wait (peloton.mongo/insert! c "db.t" {:_id 1 :via "tls"}))
            (is (= [{:_id 1 :via "tls"}] (wait (peloton.mongo/query-all! c "db.t" {}))))
            (finally (peloton.mongo/close! c)))))
      (testing "the URI's tls options"
        (let [c (wait (peloton.mongo/connect! (str "mongodb://localhost:" port "/db?tls=true&tlsCAFile="
                                                   (f "ca.pem"))))]
          (try
            (is (= 1 (count (wait (peloton.mongo/query-all! c "t" {})))))
            (finally (peloton.mongo/close! c)))))
      (testing "forbidden combination"
        (is (thrown? IllegalArgumentException
                     (peloton.mongo/connect! "localhost" port {:tls? true :tls-insecure? true
                                                                :tls-allow-invalid-hostnames? true}))))
      (testing "TLS options with TLS off are an error, not ignored"
        (is (thrown-with-msg? IllegalArgumentException #"tls=true"
                              (peloton.mongo/connect! "localhost" port {:tls-ca-file (f "ca.pem")}))))
      (finally (.shutdownNow server)))))

(deftest-tls mutual-tls-shows-the-client-certificate-to-ring
  (let [tls {:cert (f "fullchain.pem") :key (f "server.key") :client-auth :need :ca-cert (f "ca.pem")}
        handler (fn [req]
                  {:status 200
                   :body (str (:scheme req) " "
                              (some-> ^java.security.cert.X509Certificate (:ssl-client-cert req)
                                      .getSubjectX500Principal .getName))})]
    (with-server [s (httpd/serve-ring! {:port 0 :reactors 1 :tls tls} handler)]
      (let [url (str "https://localhost:" (httpd/port s) "/")
            with (http/client {:ca-cert (f "ca.pem") :client-cert (f "client.pem")
                               :client-key (f "client.key")})
            without (http/client {:ca-cert (f "ca.pem")})]
        (try
          (is (= ":https CN=peloton-client" (:body (wait (http/get! url :client with)))))
          (testing "no client certificate: refused in the handshake"
            ;; TLS 1.3: the client ends its handshake before the server checks its
            ;; certificate, so its request may meet the reset before the alert is read.
            (is (contains? #{:tls :reset} (:kind (failure (http/get! url :client without))))))
          (finally (http/close-client! with) (http/close-client! without)))))
    (testing ":want serves a client without a certificate, with no :ssl-client-cert"
      (with-server [s (httpd/serve-ring! {:port 0 :reactors 1 :tls (assoc tls :client-auth :want)}
                                         handler)]
        (let [c (http/client {:ca-cert (f "ca.pem")})]
          (try
            (is (= ":https " (:body (wait (http/get! (str "https://localhost:" (httpd/port s) "/")
                                                     :client c)))))
            (finally (http/close-client! c))))))))

(deftest-tls bad-client-auth-options-are-clear-errors
  (let [base {:cert (f "fullchain.pem") :key (f "server.key")}]
    (is (thrown-with-msg? IllegalArgumentException #":client-auth.*:need, :want or :none"
                          (httpd/serve! {:port 0 :tls (assoc base :client-auth :required)})))
    (is (thrown-with-msg? IllegalArgumentException #"needs :ca-cert"
                          (httpd/serve! {:port 0 :tls (assoc base :client-auth :need)})))
    (is (thrown-with-msg? IllegalArgumentException #":ca-cert is for :client-auth"
                          (httpd/serve! {:port 0 :tls (assoc base :ca-cert (f "ca.pem"))})))
    (is (thrown-with-msg? IllegalArgumentException #":ca-certs.*:ca-cert"
                          (httpd/serve! {:port 0 :tls (assoc base :client-auth :need
                                                             :ca-certs (f "ca.pem"))})))
    (is (thrown-with-msg? java.io.IOException #"missing-ca\.pem"
                          (httpd/serve! {:port 0 :tls (assoc base :client-auth :need
                                                             :ca-cert "missing-ca.pem")})))
    (is (thrown-with-msg? IllegalArgumentException #":handshake-tasks.*:inline or :executor"
                          (httpd/serve! {:port 0 :tls (assoc base :handshake-tasks :reactor)})))))

(deftest srv-dns-server-option-is-checked
  (testing "a value that is no dns:// URL names the option"
    (is (thrown-with-msg? IllegalArgumentException #":srv-dns-server"
                          (peloton.mongo/connect! "mongodb+srv://cluster0.peloton.test/db"
                                                  {:srv-dns-server "127.0.0.1:5353"}))))
  (testing "only for mongodb+srv://"
    (is (thrown-with-msg? IllegalArgumentException #"is for a mongodb\+srv"
                          (peloton.mongo/connect! "mongodb://localhost:27017/db"
                                                  {:srv-dns-server "dns://127.0.0.1:5353"})))))
