(ns peloton.sse-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is]]
            [peloton.httpd :as httpd]
            [peloton.sse :as sse]
            [peloton.stream :as s])
  (:import (java.io BufferedReader InputStreamReader)
           (java.net Socket)
           (java.nio.charset StandardCharsets)
           (peloton.sse EventStream)))

(defn- open-feed
  "A raw client: sends a GET with `headers` and answers [socket reader]."
  [port path headers]
  (let [sock (doto (Socket. "127.0.0.1" (int port)) (.setSoTimeout 10000))
        out (.getOutputStream sock)]
    (.write out (.getBytes (str "GET " path " HTTP/1.1\r\nHost: x\r\n" headers "\r\n")
                           StandardCharsets/US_ASCII))
    (.flush out)
    [sock (BufferedReader. (InputStreamReader. (.getInputStream sock) StandardCharsets/UTF_8))]))

(defn- read-head [^BufferedReader r]
  (loop [lines []]
    (let [l (.readLine r)]
      (if (str/blank? l) lines (recur (conj lines l))))))

(defn- read-event
  "Reads chunked lines until an empty SSE line; answers the event's lines."
  [^BufferedReader r]
  (loop [lines []]
    (let [l (.readLine r)]
      (cond
        (nil? l) lines
        (re-matches #"[0-9a-f]+" l) (recur lines) ; a chunk-size line
        (and (= "" l) (seq lines)) lines
        (= "" l) (recur lines)
        :else (recur (conj lines l))))))

(deftest events-go-out-formatted-and-flushed-one-by-one
  (let [es-p (promise)
        srv (httpd/serve! {:port 0}
                          [:GET #"^/feed$" (fn [conn]
                                             (deliver es-p [(sse/start! conn) (sse/last-event-id conn)]))])]
    (try
      (let [[sock r] (open-feed (httpd/port srv) "/feed" "Last-Event-ID: 41\r\n")
            head (read-head r)
            [es last-id] (deref es-p 10000 nil)]
        (is (= "HTTP/1.1 200 OK" (first head)))
        (is (some #{"Content-Type: text/event-stream; charset=utf-8"} head))
        (is (some #{"Cache-Control: no-cache"} head))
        (is (= "41" last-id))
        (is (true? (deref (sse/send! es {:event "update" :id "42" :retry 3000
                                         :data "line one\nline two\r\nline three"}) 10000 nil)))
        (is (= ["event: update" "id: 42" "retry: 3000"
                "data: line one" "data: line two" "data: line three"]
               (read-event r)) "one event arrives before the next is sent: it was flushed")
        (sse/send! es "plain")
        (is (= ["data: plain"] (read-event r)))
        (sse/comment! es "keep-alive")
        (sse/send! es {:data ""})
        (is (= [": keep-alive"] (read-event r)))
        (is (= ["data:"] (read-event r)))
        (is (thrown? IllegalArgumentException (sse/send! es {:event "a\nb" :data "x"})))
        (is (thrown-with-msg? IllegalArgumentException #"did you mean :data"
              (sse/send! es {:dat "x"})))
        (sse/close! es)
        (is (= "0" (first (remove str/blank? (repeatedly #(.readLine ^BufferedReader r)))))
            "the last chunk ends the response")
        (.close ^Socket sock))
      (finally (httpd/stop-server! srv 1)))))

(deftest heartbeats-and-a-client-that-leaves
  (let [es-p (promise)
        srv (httpd/serve! {:port 0}
                          [:GET #"^/feed$" (fn [conn] (deliver es-p (sse/start! conn {:heartbeat 0.1})))])]
    (try
      (let [[sock r] (open-feed (httpd/port srv) "/feed" "")
            _ (read-head r)
            ^EventStream es (deref es-p 10000 nil)]
        (is (= [":"] (read-event r)) "a comment heartbeat")
        (.close ^Socket sock)
        (is (true? (deref (sse/closed es) 10000 :timeout)) "the stream notices the client left")
        (is (not (sse/open? es)))
        (is (false? (deref (sse/send! es "late") 10000 :timeout))))
      (finally (httpd/stop-server! srv 1)))))

(deftest a-ring-handler-streams-events-and-the-stream-is-cancelled-when-the-client-leaves
  (let [events (s/stream 4)
        srv (httpd/serve-ring! {:port 0} (fn [_] (sse/response events {:heartbeat 0.1})))]
    (try
      (let [[sock r] (open-feed (httpd/port srv) "/" "")
            head (read-head r)]
        (is (some #{"Content-Type: text/event-stream; charset=utf-8"} head))
        @(s/put! events {:data "one" :id "1"})
        (is (= ["id: 1" "data: one"] (read-event r)))
        @(s/put! events "two")
        (is (= ["data: two"] (read-event r)))
        (.close ^Socket sock)
        ;; The producer learns the client left: its puts answer false.
        (is (false? (deref (first (drop-while #(deref % 10000 nil)
                                              (repeatedly 100 #(s/put! events "more"))))
                           10000 :timeout))))
      (finally (httpd/stop-server! srv 1)))))
