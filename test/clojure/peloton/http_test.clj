(ns peloton.http-test
  (:require [clojure.test :refer [deftest is testing use-fixtures]]
            [peloton.http :as http]
            [peloton.httpd :as httpd])
  (:import (java.net InetAddress ServerSocket Socket)
           (java.nio.charset StandardCharsets)
           (peloton.fut Stream)))

(def ^:dynamic *base* nil)

(defn- on-echo [conn]
  (httpd/set-content-type! conn "text/plain")
  (httpd/set-response-body! conn (str (name (httpd/request-method conn)) "|"
                                      (or (not-empty (httpd/request-query conn)) "null") "|"
                                      (or (httpd/request-header conn "content-type") "null") "|"
                                      (httpd/request-body-string conn)))
  (httpd/send-response! conn))

(defn- with-server [t]
  (let [server (httpd/serve! {:port 0 :reactors 1}
                             [:GET #"^/$" (fn [conn] (httpd/send-html! conn "<p>hi</p>"))]
                             [:any #"^/echo$" on-echo]
                             [:GET #"^/chunked$" (fn [conn]
                                                   (httpd/start-chunked-response! conn)
                                                   (httpd/send-chunk! conn "a,")
                                                   (httpd/send-chunk! conn "b")
                                                   (httpd/finish-chunked-response! conn))]
                             [:GET #"^/moved$" (fn [conn] (httpd/see-other! conn "/echo?moved=1"))])]
    (try
      (binding [*base* (str "http://127.0.0.1:" (httpd/port server))]
        (t))
      (finally (httpd/stop-server! server 1)))))

(use-fixtures :each with-server)

(defn- wait [f] (deref f 10000 ::no-answer))

(defn- failure
  "The ex-data of the error `f` fails with (within 10 s)."
  [f]
  (try
    (let [v (deref f 10000 ::no-answer)]
      {:unexpected v})
    (catch Exception e (ex-data e))))

(defn- raw-server
  "A blocking server answering each connection with `(serve socket)` on a thread."
  ^ServerSocket [serve]
  (let [ss (ServerSocket. 0 50 (InetAddress/getByName "127.0.0.1"))]
    (doto (Thread. (fn []
                     (try
                       (loop []
                         (let [s (.accept ss)]
                           (doto (Thread. (fn [] (with-open [^Socket s s]
                                                   (try (serve s) (catch Exception _ nil)))))
                             (.setDaemon true)
                             (.start)))
                         (recur))
                       (catch Exception _ nil))))
      (.setDaemon true)
      (.start))
    ss))

(defn- read-head [^Socket s]
  (let [in (.getInputStream s)]
    (loop [last4 ""]
      (when-not (= last4 "\r\n\r\n")
        (let [c (.read in)]
          (when (neg? c) (throw (java.io.IOException. "closed")))
          (recur (let [x (str last4 (char c))] (subs x (max 0 (- (count x) 4))))))))))

(defn- url-of [^ServerSocket ss] (str "http://127.0.0.1:" (.getLocalPort ss) "/"))

(deftest get-answers-a-response-map
  (let [r (wait (http/request! (str *base* "/")))]
    (is (= 200 (:status r)))
    (is (= "<p>hi</p>" (:body r)))
    (is (= "text/html; charset=utf-8" (get-in r [:headers "content-type"])))
    (is (every? #(= % (.toLowerCase ^String %)) (keys (:headers r)))))
  (is (= "a,b" (:body (wait (http/get! (str *base* "/chunked"))))))
  (is (= "<p>hi</p>" (String. ^bytes (:body (wait (http/get! (str *base* "/") :as :bytes)))
                              StandardCharsets/UTF_8))
      "GET as bytes")
  (is (= "GET|x=1&y=a+b|null|" (:body (wait (http/request! (str *base* "/echo")
                                                           {:params {:x 1 "y" "a b"}}))))))

(deftest params-form-posts-and-bodies
  (is (= "POST|null|application/x-www-form-urlencoded|name=Ada&tag=a&tag=b"
         (:body (wait (http/post! (str *base* "/echo") :params {:name "Ada" :tag ["a" "b"]})))))
  (is (= "PUT|null|application/json|{\"a\":1}"
         (:body (wait (http/request! (str *base* "/echo")
                                     :method :put
                                     :headers {"Content-Type" "application/json"}
                                     :body "{\"a\":1}")))))
  (is (= "x=1&y=2" (http/encode-params [[:x "1"] [:y "2"]]))))

(deftest redirects-only-when-asked
  (let [r (wait (http/get! (str *base* "/moved")))]
    (is (= 303 (:status r)))
    (is (= "/echo?moved=1" (get-in r [:headers "location"]))))
  (let [r (wait (http/get! (str *base* "/moved") :follow-redirects? true))]
    (is (= 200 (:status r)))
    (is (= "GET|moved=1|null|" (:body r)))
    (is (= (str *base* "/echo?moved=1") (:url r)))))

(deftest streamed-body
  (let [r (wait (http/get! (str *base* "/chunked") :as :stream))
        ^Stream s (:body r)
        pieces (loop [acc []]
                 (let [x (deref (.take s) 10000 ::no-answer)]
                   (if (or (= x Stream/EOF) (= x ::no-answer))
                     acc
                     (recur (conj acc (String. ^bytes x StandardCharsets/UTF_8))))))]
    (is (instance? Stream s))
    (is (= "a,b" (apply str pieces)))))

(deftest every-error-kind
  (testing "refused"
    (let [port (with-open [ss (ServerSocket. 0)] (.getLocalPort ss))
          url (str "http://127.0.0.1:" port "/x")]
      (is (= {:kind :refused :url url} (failure (http/get! url))))))
  (testing "reset"
    (with-open [ss (raw-server (fn [^Socket s] (read-head s) (.setSoLinger s true 0)))]
      (is (= {:kind :reset :url (url-of ss)} (failure (http/get! (url-of ss)))))))
  (testing "timeout"
    (with-open [ss (raw-server (fn [^Socket s] (read-head s) (.read (.getInputStream s))))]
      (is (= {:kind :timeout :url (url-of ss)} (failure (http/get! (url-of ss) :timeout 0.2))))))
  (testing "malformed"
    (with-open [ss (raw-server (fn [^Socket s]
                                 (read-head s)
                                 (.write (.getOutputStream s) (.getBytes "no thanks\r\n\r\n"))
                                 (.read (.getInputStream s))))]
      (is (= {:kind :malformed :url (url-of ss)} (failure (http/get! (url-of ss)))))))
  (testing "bad URL"
    (is (thrown? IllegalArgumentException @(http/get! "ftp://example.com/")))))

(deftest own-client-with-options
  (let [c (http/client {:max-connections 1 :timeout 5 :user-agent "tester"})]
    (try
      (is (= 200 (:status (wait (http/get! (str *base* "/") :client c)))))
      (finally (http/close-client! c)))
    (is (= :closed (:kind (failure (http/get! (str *base* "/") :client c)))))))
