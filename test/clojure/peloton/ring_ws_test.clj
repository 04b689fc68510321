(ns peloton.ring-ws-test
  "A Ring WebSocket handler written against Ring's protocols (SPEC 1.11), run
  unchanged on serve-ring!. Ring's protocols jar is not reachable here, so the
  namespace is defined from the SPEC's names and arities (test/ring-spec)."
  (:require [clojure.test :refer [deftest is]]
            [peloton.http :as http]
            [peloton.httpd :as httpd]
            [peloton.ws :as ws])
  (:import (java.nio ByteBuffer)
           (java.nio.charset StandardCharsets)
           (java.util.concurrent LinkedBlockingQueue TimeUnit)))

(load-file "test/ring-spec/ring/websocket/protocols.clj")
(require '[ring.websocket.protocols :as wsp])

(defn- poll [^LinkedBlockingQueue q]
  (or (.poll q 10 TimeUnit/SECONDS) :nothing-within-10-s))

(defn- text [^ByteBuffer b] (str (.decode StandardCharsets/UTF_8 (.duplicate b))))

;; What a Ring library would ship: a listener record and a handler.
(defrecord ShoutListener [^LinkedBlockingQueue events]
  wsp/Listener
  (on-open [_ socket]
    (.add events [:open (boolean (wsp/-open? socket))])
    (wsp/-send socket "welcome"))
  (on-message [_ socket message]
    (.add events [:message (if (instance? CharSequence message) (str message) :binary)])
    (if (= "async" (str message))
      (wsp/-send-async socket "sent async" #(.add events [:succeeded]) #(.add events [:failed %]))
      (wsp/-send socket (.toUpperCase (str message)))))
  (on-pong [_ _ data] (.add events [:pong (text data)]))
  (on-error [_ _ t] (.add events [:error (.getMessage ^Throwable t)]))
  (on-close [_ _ code reason] (.add events [:close code reason])))

(defrecord PingingListener [^LinkedBlockingQueue events]
  wsp/Listener
  (on-open [_ _])
  (on-message [_ socket message]
    (when (= "bye" (str message)) (wsp/-close socket 4321 "as asked")))
  (on-pong [_ _ _])
  (on-error [_ _ _])
  (on-close [_ _ code _] (.add events [:close code]))
  wsp/PingListener
  (on-ping [_ socket data]
    (.add events [:ping (text data)])
    (wsp/-pong socket (ByteBuffer/wrap (.getBytes "my own pong" StandardCharsets/UTF_8)))))

(defn- ring-handler [events]
  (fn [request]
    (if (:websocket? request)
      {:ring.websocket/listener (if (= "/ping" (:uri request))
                                  (->PingingListener events)
                                  (->ShoutListener events))
       :ring.websocket/protocol "shout"}
      {:status 200 :headers {"Content-Type" "text/plain"} :body "not a websocket request"})))

(defn- collector [^LinkedBlockingQueue q]
  {:on-message (fn [_ m] (.add q (str m)))
   :on-pong (fn [_ d] (.add q [:pong (text d)]))
   :on-close (fn [_ code reason] (.add q [:close code reason]))})

(deftest a-ring-websocket-handler-runs-unchanged-on-serve-ring
  (let [events (LinkedBlockingQueue.)
        got (LinkedBlockingQueue.)
        srv (httpd/serve-ring! {:port 0} (ring-handler events))]
    (try
      (let [base (str "ws://127.0.0.1:" (httpd/port srv))
            sock @(http/websocket! (str base "/") (collector got) :subprotocols ["other" "shout"])]
        (is (= "shout" (ws/subprotocol sock)))
        (is (= [:open true] (poll events)))
        (is (= "welcome" (poll got)))
        (ws/send! sock "hello")
        (is (= [:message "hello"] (poll events)))
        (is (= "HELLO" (poll got)))
        (ws/send! sock "async")
        (is (= [:message "async"] (poll events)))
        (is (= "sent async" (poll got)))
        (is (= [:succeeded] (poll events)))
        (ws/ping! sock "p")
        (is (= [:pong "p"] (poll got)) "no PingListener: the pong is automatic")
        @(ws/close! sock 1000 "")
        (is (= [:close 1000 ""] (poll got)))
        (is (= [:close 1000 ""] (poll events))))
      (let [sock @(http/websocket! (str "ws://127.0.0.1:" (httpd/port srv) "/ping") (collector got))]
        (ws/ping! sock "hi")
        (is (= [:ping "hi"] (poll events)))
        (is (= [:pong "my own pong"] (poll got)))
        (ws/send! sock "bye")
        (is (= [:close 4321 "as asked"] (poll got)))
        (is (= [:close 4321] (poll events))))
      (is (= "not a websocket request"
             (:body @(http/get! (str "http://127.0.0.1:" (httpd/port srv) "/")))))
      (finally (httpd/stop-server! srv 1)))))

(deftest peloton-sockets-satisfy-rings-socket-protocols
  (let [got (LinkedBlockingQueue.)
        srv (httpd/serve! {:port 0} [:GET #"^/$" (fn [conn] (ws/upgrade! conn {:on-message (fn [s m] (ws/send! s m))}))])]
    (try
      (let [sock @(http/websocket! (str "ws://127.0.0.1:" (httpd/port srv) "/") (collector got))]
        (is (satisfies? wsp/Socket sock))
        (is (satisfies? wsp/AsyncSocket sock))
        (wsp/-send sock (ByteBuffer/wrap (.getBytes "bin" StandardCharsets/UTF_8)))
        (is (re-find #"HeapByteBuffer" (poll got)) "binary comes back as a ByteBuffer")
        (wsp/-close sock 1000 "")
        (is (= [:close 1000 ""] (poll got))))
      (finally (httpd/stop-server! srv 1)))))
