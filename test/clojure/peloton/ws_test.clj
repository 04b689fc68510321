(ns peloton.ws-test
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.fut :as f]
            [peloton.http :as http]
            [peloton.httpd :as httpd]
            [peloton.stream :as s]
            [peloton.ws :as ws])
  (:import (java.nio ByteBuffer)
           (java.nio.charset StandardCharsets)
           (java.util.concurrent LinkedBlockingQueue TimeUnit)))

(defn- queue ^LinkedBlockingQueue [] (LinkedBlockingQueue.))

(defn- poll [^LinkedBlockingQueue q]
  (or (.poll q 10 TimeUnit/SECONDS) :nothing-within-10-s))

(defn- deref10 [fut] (deref fut 10000 :timeout))

(defn- failure-data
  "The ex-data of the first exception with a :kind in `e`'s cause chain."
  [e]
  (some #(when (:kind (ex-data %)) (ex-data %)) (take-while some? (iterate ex-cause e))))

(defmacro with-server [[sym expr] & body]
  `(let [~sym ~expr]
     (try ~@body (finally (httpd/stop-server! ~sym 1)))))

(defn- url [srv path] (str "ws://127.0.0.1:" (httpd/port srv) path))

(defn- recording-echo
  "A listener map that echoes and records its calls on `q`."
  [q]
  {:on-open (fn [_] (.add q [:open]))
   :on-message (fn [sock m]
                 (.add q [:message (if (string? m) m (.remaining ^ByteBuffer m))])
                 (ws/send! sock m))
   :on-close (fn [_ code reason] (.add q [:close code reason]))})

(deftest a-serve-route-upgrades-with-a-listener-map-and-the-client-talks-to-it
  (let [server-events (queue)
        client-events (queue)]
    (with-server [srv (httpd/serve! {:port 0}
                        [:GET #"^/echo$" (fn [conn] (ws/upgrade! conn (recording-echo server-events)))])]
      (let [sock (deref10 (http/websocket! (url srv "/echo")
                                           {:on-open (fn [_] (.add client-events [:open]))
                                            :on-message (fn [_ m] (.add client-events
                                                                        (if (string? m)
                                                                          m
                                                                          (let [b (byte-array (.remaining ^ByteBuffer m))]
                                                                            (.get ^ByteBuffer m b)
                                                                            (vec b)))))
                                            :on-pong (fn [_ data] (.add client-events [:pong (.remaining ^ByteBuffer data)]))
                                            :on-close (fn [_ code reason] (.add client-events [:close code reason]))}))]
        (is (ws/open? sock))
        (is (= [:open] (poll client-events)))
        (is (= [:open] (poll server-events)))
        (is (true? (deref10 (ws/send! sock "h\u00e9llo"))))
        (is (= "h\u00e9llo" (poll client-events)))
        (is (= [:message "h\u00e9llo"] (poll server-events)))
        (ws/send! sock (byte-array [1 2 3]))
        (is (= [1 2 3] (poll client-events)))
        (is (= [:message 3] (poll server-events)))
        (ws/ping! sock "abc")
        (is (= [:pong 3] (poll client-events)) "a map without :on-ping answers pings")
        (is (= 4100 (deref10 (ws/close! sock 4100 "done"))))
        (is (not (ws/open? sock)))
        (is (= [:close 4100 ""] (poll client-events)))
        (is (= [:close 4100 "done"] (poll server-events)))
        (is (nil? (.poll server-events 200 TimeUnit/MILLISECONDS)) "on-close runs once")))))

(deftest sockets-as-streams-on-both-sides
  (with-server [srv (httpd/serve! {:port 0}
                      [:GET #"^/shout$"
                       (fn [conn]
                         (f/dofut [sock (ws/upgrade! conn nil)]
                           (s/do-stream [m (ws/in sock)]
                             (s/put! (ws/out sock) (.toUpperCase ^String m)))))])]
    (let [sock (deref10 (http/websocket! (url srv "/shout") nil :capacity 4))]
      (doseq [w ["a" "b" "c"]] (s/put! (ws/out sock) w))
      (is (= ["A" "B" "C"] (repeatedly 3 #(deref10 (s/take! (ws/in sock))))))
      (s/close! (ws/out sock))
      (is (= 1000 (deref10 (ws/closed sock))))
      (is (s/eof? (deref10 (s/take! (ws/in sock))))))))

(deftest a-slow-stream-consumer-holds-back-the-sender
  (let [server-sock (promise)]
    (with-server [srv (httpd/serve! {:port 0}
                        [:GET #"^/$" (fn [conn]
                                       (f/dofut [sock (ws/upgrade! conn nil {:capacity 2})]
                                         (deliver server-sock sock)))])]
      (let [client (deref10 (http/websocket! (url srv "/") {} :compression? false))
            payload (apply str (repeat 65536 "x"))
            sends (doall (for [_ (range 200)] (ws/send! client payload)))]
        ;; Nobody takes from the server's `in`: the server stops reading, so
        ;; 13 MB cannot all leave the client.
        (is (= :pending (deref (last sends) 500 :pending)))
        (let [in (ws/in (deref10 server-sock))]
          (is (= 200 (count (repeatedly 200 #(deref10 (s/take! in)))))))
        (is (true? (deref10 (last sends))))
        (ws/close! client)))))

(deftest listener-maps-and-options-are-checked
  (let [conn-error (promise)]
    (with-server [srv (httpd/serve! {:port 0}
                        [:GET #"^/$" (fn [conn]
                                       (try (ws/upgrade! conn {:on-mesage prn})
                                            (catch IllegalArgumentException e
                                              (deliver conn-error (.getMessage e))
                                              (httpd/send-html! conn "no"))))])]
      (is (= :handshake (:kind (failure-data (try (deref10 (http/websocket! (url srv "/") {}))
                                                  (catch Exception e e))))))
      (is (re-find #"unknown option :on-mesage \(did you mean :on-message\?\)"
                   (deref conn-error 10000 ""))))
    (is (thrown-with-msg? IllegalArgumentException #"did you mean :max-message-size"
          (deref10 (http/websocket! "ws://127.0.0.1:1/" {} :max-mesage-size 10))))))

(deftest client-failures-have-kinds
  (let [port (with-open [s (java.net.ServerSocket. 0)] (.getLocalPort s))
        e (try (deref10 (http/websocket! (str "ws://127.0.0.1:" port "/") {})) nil
               (catch Exception e e))]
    (is (= :refused (:kind (failure-data e)))))
  (with-server [srv (httpd/serve! {:port 0} [:GET #"^/$" (fn [conn] (httpd/not-found! conn))])]
    (let [e (try (deref10 (http/websocket! (url srv "/") {})) nil
                 (catch Exception e e))
          data (failure-data e)]
      (is (= :handshake (:kind data)))
      (is (= 404 (:status data))))))

(deftest a-plain-get-to-a-websocket-route-gets-426-and-the-upgrade-fut-fails
  (let [outcome (promise)]
    (with-server [srv (httpd/serve! {:port 0}
                        [:GET #"^/$" (fn [conn]
                                       (.onComplete ^peloton.fut.Fut (ws/upgrade! conn {})
                                                    (reify peloton.fut.Fut$Callback
                                                      (call [_ _ e] (deliver outcome e)))))])]
      (let [r (deref10 (http/get! (str "http://127.0.0.1:" (httpd/port srv) "/")))]
        (is (= 426 (:status r)))
        (is (= "13" (get-in r [:headers "sec-websocket-version"])))
        (is (= {:kind :handshake :status 426} (select-keys (ex-data (deref outcome 10000 nil))
                                                           [:kind :status])))))))
