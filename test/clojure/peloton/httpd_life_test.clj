(ns peloton.httpd-life-test
  "Handlers that never answer, answer by returning, or fail through their fut."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [peloton.fut :as f]
            [peloton.httpd :as httpd]
            [peloton.reactor :as reactor])
  (:import (java.io ByteArrayOutputStream OutputStream PrintStream)
           (java.net URI)
           (java.net.http HttpClient HttpRequest HttpResponse$BodyHandlers)
           (java.nio.charset StandardCharsets)
           (java.time Duration)))

(set! *warn-on-reflection* true)

(def ^:private ^HttpClient client
  (-> (HttpClient/newBuilder) (.connectTimeout (Duration/ofSeconds 5)) (.build)))

(defn- GET [port path]
  (let [req (-> (HttpRequest/newBuilder (URI/create (str "http://127.0.0.1:" port path)))
                (.timeout (Duration/ofSeconds 20))
                (.build))
        resp (.send client req (HttpResponse$BodyHandlers/ofString))]
    {:status (.statusCode resp)
     :body (.body resp)
     :headers (into {} (map (fn [[k v]] [k (first v)])) (.map (.headers resp)))}))

(defn- capturing-stderr
  "Runs `f` and answers [its value, what was logged to System.err meanwhile]."
  [f]
  (let [old System/err
        buf (ByteArrayOutputStream.)
        tee (PrintStream. (proxy [OutputStream] []
                            (write
                              ([b] (locking buf (.write buf (int b))))
                              ([^bytes b off len] (locking buf (.write buf b (int off) (int len))))))
                          true "UTF-8")]
    (System/setErr tee)
    (try
      (let [v (f)]
        [v (locking buf (.toString buf "UTF-8"))])
      (finally (System/setErr old)))))

(defmacro ^:private with-server [[sym expr] & body]
  `(let [~sym ~expr]
     (try ~@body (finally (httpd/stop-server! ~sym 1)))))

(defn- value-later
  "A fut delivered with `v` by a reactor timer after `seconds`."
  [seconds v]
  (let [p (f/fut)]
    (reactor/timeout seconds #(f/deliver! p v))
    p))

(defn- failing-later [_conn]
  (f/dofut [x (value-later 0.05 1)]
    (throw (ex-info "the database is down (expected by the test)" {:x x}))))

(deftest a-handler-whose-fut-fails-gets-500-and-a-log-line-with-the-route
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                      [:GET #"^/fails$" failing-later])]
    (let [[r log] (capturing-stderr #(GET (httpd/port srv) "/fails"))]
      (is (= 500 (:status r)))
      (is (str/includes? log "handler failed on GET /fails (route GET #\"^/fails$\")") log)
      (is (str/includes? log "the database is down") log)
      (is (str/includes? log "\tat ") "with the stack trace"))))

(deftest a-handler-may-return-a-ring-response-map-or-a-fut-of-one
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                      [:GET #"^/map$" (fn [_] {:status 201 :headers {"X-A" "1"} :body "made"})]
                      [:GET #"^/fut-map/(\w+)$"
                       (fn [_ word] (value-later 0.05 {:status 200 :body (str "later " word)}))]
                      [:GET #"^/answered$"
                       (fn [conn] (httpd/send-html! conn "<p>through conn</p>") {:status 500 :body "ignored"})])]
    (let [p (httpd/port srv)
          r (GET p "/map")]
      (is (= [201 "made" "1"] [(:status r) (:body r) (get-in r [:headers "x-a"])]))
      (is (= "later ho" (:body (GET p "/fut-map/ho"))))
      (testing "an answer already given through conn wins over the returned map"
        (is (= [200 "<p>through conn</p>"] ((juxt :status :body) (GET p "/answered"))))))))

(deftest a-handler-that-never-answers-gets-503-after-the-response-timeout
  (with-server [srv (httpd/serve! {:port 0 :reactors 1 :response-timeout 0.3}
                      [:GET #"^/nil$" (fn [_] nil)])]
    (let [[r log] (capturing-stderr #(GET (httpd/port srv) "/nil"))]
      (is (= 503 (:status r)))
      (is (str/includes? log "no answer to GET /nil (route GET #\"^/nil$\") within 300 ms") log))))

(deftest start-server-handlers-answer-by-returning-too
  (with-server [srv (httpd/start-server! {:port 0 :reactors 1}
                                         (fn [_] {:status 202 :body "plain handler"}))]
    (is (= [202 "plain handler"] ((juxt :status :body) (GET (httpd/port srv) "/x"))))))
