(ns peloton.sse-client-test
  "http/events! against Peloton's own SSE server: event maps, resuming with
  Last-Event-ID, the end of the stream, and refusals."
  (:require [clojure.test :refer [deftest is testing]]
            [peloton.http :as http]
            [peloton.httpd :as httpd]
            [peloton.sse :as sse]
            [peloton.stream :as s]))

(defmacro ^:private with-server [[sym expr] & body]
  `(let [~sym ~expr]
     (try ~@body (finally (httpd/stop-server! ~sym 1)))))

(defn- all-events
  "Every value of stream `st` until its end, or the error it failed with."
  [st]
  (let [got (atom [])
        done (s/consume! st #(swap! got conj %))]
    (try (deref done 15000 :timeout)
         @got
         (catch Exception e {:error (ex-message e) :got @got}))))

(deftest events!-reads-a-serve!-event-stream-as-maps
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                                  [:GET #"^/feed$"
                                   (fn [conn]
                                     (let [es (sse/start! conn)]
                                       (sse/send! es {:data "hello"})
                                       (sse/send! es {:event "update" :id "42" :retry 3000
                                                      :data "line one\nline two"})
                                       (sse/comment! es "heartbeat")
                                       (sse/send! es {:data (str "resumed after " (sse/last-event-id conn))})
                                       (sse/close! es)))]
                                  [:GET #"^/page$" (fn [conn] (httpd/send-html! conn "not a feed"))])]
    (let [base (str "http://127.0.0.1:" (httpd/port srv))
          st (deref (http/events! (str base "/feed") :last-event-id "41" :timeout 30) 15000 :timeout)]
      (is (= [{:event "message" :data "hello" :id ""}
              {:event "update" :data "line one\nline two" :id "42" :retry 3000}
              {:event "message" :data "resumed after 41" :id "42" :retry 3000}]
             (all-events st)))
      (testing "an HTML page is not an event stream"
        (let [data (try (deref (http/events! (str base "/page")) 15000 :timeout)
                        (catch Exception e (ex-data (or (ex-cause e) e))))]
          (is (= :not-event-stream (:kind data)) (pr-str data))
          (is (= 200 (:status data)))))
      (testing "options are checked"
        (is (thrown-with-msg? Exception #":max-lines.*:max-line"
                              (deref (http/events! (str base "/feed") :max-lines 5) 15000 :timeout)))))))
