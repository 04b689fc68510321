(ns peloton.sse
  "Server-Sent Events: `text/event-stream` responses, each event flushed at once.

  With `serve!` handlers:

      (defn on-feed [conn]
        (let [es (sse/start! conn {:heartbeat 15})]
          (sse/send! es {:event \"hello\" :data \"line one\\nline two\" :id \"1\"})))

  With Ring handlers, answer a stream of events; closing it ends the response,
  and when the client leaves the stream is cancelled (a producer's `put!` then
  answers false):

      (fn [request]
        (let [events (s/stream 16)]
          (future (s/put! events {:data \"hi\"}))
          (sse/response events {:heartbeat 15})))

  An event is a map of `:data` (any text: multi-line data becomes several
  `data:` lines), `:event`, `:id` and `:retry` (ms), or a plain string of data.
  Every send answers a fut that completes once the output is below the
  connection's high-water mark (false once the client has gone)."
  (:require [peloton.options :as options])
  (:import (peloton.fut Fut Fut$Callback Stream)
           (peloton.http.server Exchange)
           (peloton.sse EventStream)))

(set! *warn-on-reflection* true)

(def ^:private spec
  {:heartbeat [#(and (number? %) (>= % 0)) "seconds between comment heartbeats (0 for none)"]})

(defn start!
  "Starts an event stream on `conn` (200, `Content-Type: text/event-stream`,
  `Cache-Control: no-cache`, chunked). Options: `:heartbeat` (seconds between
  comment lines that keep proxies from timing out and notice a client that
  left; default 0, none)."
  (^EventStream [conn] (start! conn {}))
  (^EventStream [^Exchange conn opts]
   (options/check! "sse/start!" spec opts)
   (EventStream/start conn (long (* 1000 (or (:heartbeat opts) 0))))))

(def ^:private event-spec
  {:data [some? "the event's data (a string; other values are printed with str)"]
   :event [string? "an event name without line breaks"]
   :id [string? "an event id without line breaks"]
   :retry [nat-int? "a reconnection time in ms"]})

(defn send!
  "Sends `event` (a map of `:data` `:event` `:id` `:retry`, or a string of
  data). Answers a fut (see the namespace doc)."
  [^EventStream es event]
  (if (map? event)
    (do (options/check! "sse event" event-spec event)
        (let [{:keys [data id retry]} event
              ^String name (:event event)
              ^String text (when (some? data) (str data))
              ^String id id]
          (.send es name text id (long (if retry retry -1)))))
    (.send es (str event))))

(defn comment!
  "Sends a comment line (clients ignore it)."
  [^EventStream es text]
  (.comment es (str text)))

(defn close!
  "Ends the event stream's response."
  [^EventStream es]
  (.close es))

(defn open?
  "True until the stream was closed or the client left."
  [^EventStream es]
  (.isOpen es))

(defn closed
  "A fut that completes once the stream has ended."
  [^EventStream es]
  (.closed es))

(defn last-event-id
  "The `Last-Event-ID` a reconnecting client sent, from a connection or a Ring
  request, or nil."
  [conn-or-request]
  (if (instance? Exchange conn-or-request)
    (EventStream/lastEventId conn-or-request)
    (get-in conn-or-request [:headers "last-event-id"])))

(defn response
  "A Ring response that streams the events taken from `events` (a
  `peloton.stream`) as Server-Sent Events; options as for `start!`."
  ([events] (response events {}))
  ([events opts]
   (options/check! "sse/response" spec opts)
   {:status 200 ::events events ::options opts}))

(defn- pump!
  "Sends every event taken from `events` on `es`; ends the response at end of
  stream, and cancels the stream once the client has gone."
  [^EventStream es ^Stream events]
  (.onComplete (.closed es) (reify Fut$Callback (call [_ _ _] (.cancel events))))
  (.onComplete (.consume events
                         (reify java.util.function.Function
                           (apply [_ ev]
                             (if (open? es)
                               (send! es ev)
                               (do (.cancel events) nil)))))
               (reify Fut$Callback
                 (call [_ _ _] (close! es)))))

(defn send-ring-response!
  "Serves a `response` made by `response` on `conn` (called by peloton.httpd)."
  [conn resp]
  (pump! (start! conn (::options resp)) (::events resp)))
