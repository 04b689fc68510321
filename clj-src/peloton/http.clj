(ns peloton.http
  "An asynchronous HTTP/1.1 client on Peloton's reactors.

      (dofut [{:keys [status headers body]} (request! \"http://127.0.0.1:8080/\")]
        (println status (headers \"content-type\") body))

  `request!` answers a fut of a response map `{:status 200 :reason \"OK\"
  :headers {\"content-type\" \"text/html\"} :body \"...\"}`: header names are
  lower-case strings, a repeated header's values come as a vector, and the body
  is a UTF-8 string unless asked otherwise (`:as :bytes`, or `:as :stream` for a
  `peloton.fut.Stream` of byte arrays, answered as soon as the head arrives).

  Connections are kept alive and pooled per scheme, host and port (see `client`).
  Every failure fails the fut with an exception whose `ex-data` is
  `{:kind k :url u}`, `k` one of `:refused` (cannot connect), `:reset` (the
  connection broke or closed early), `:timeout` (connect or whole exchange),
  `:malformed` (not HTTP/1.1), `:too-large` (body over `:max-body`),
  `:pool-full` (every connection busy and the wait queue full) or `:closed`
  (the client was closed), or `:tls` (with `:reason` in words: \"untrusted
  certificate\", \"certificate expired\", \"hostname mismatch\", \"protocol
  version\", \"handshake timeout\", \"handshake failure\"). A bad URL or header
  fails it with an IllegalArgumentException.

  `https://` URLs speak TLS 1.2/1.3: the server's certificate is checked against
  the JDK's trust store and its name against the host (SNI is sent); see
  `client` for a private CA, a client certificate or `:insecure? true`.

  Times (`:timeout`, `:connect-timeout`, `:idle-timeout`) are in seconds,
  fractions allowed, as everywhere in `peloton.reactor` and `peloton.httpd`."
  (:require [peloton.options :as options]
            [peloton.tls :as tls]
            [peloton.ws :as ws])
  (:import (java.nio.charset StandardCharsets)
           (java.util LinkedHashMap Map)
           (java.util.function Function)
           (peloton.fut Fut)
           (peloton.http.client ClientRequest ClientResponse HttpClient HttpClient$Options)
           (peloton.reactor ReactorGroup)
           (peloton.sse EventStreamClient ServerSentEvent)))

(set! *warn-on-reflection* true)

(def client-options
  "The options of `client`, as a `peloton.options` spec (key ->
  `[predicate what-it-expects]`); any other key is refused. The TLS keys are
  `peloton.tls/client-spec`, shared with `websocket!`."
  (merge
  {:reactors [#(instance? ReactorGroup %) "a peloton.reactor.ReactorGroup"]
   :connect-timeout [options/pos-num? "a positive number of seconds"]
   :timeout [options/pos-num? "a positive number of seconds"]
   :idle-timeout [options/pos-num? "a positive number of seconds"]
   :max-connections [pos-int? "a positive integer (connections per host)"]
   :max-waiters [nat-int? "a non-negative integer (queued requests per host)"]
   :max-redirects [nat-int? "a non-negative integer"]
   :max-body [nat-int? "a non-negative integer (bytes)"]
   :user-agent [string? "a string"]}
  tls/client-spec))

(defn client
  "Makes a client with its own connection pools. Times are in seconds.
  Options (defaults):
  `:reactors` a `peloton.reactor.ReactorGroup` (the current reactor, or the
  shared one, when a host's pool is made), `:connect-timeout` (10 s, the TLS
  handshake included), `:timeout` (60 s for a whole exchange), `:idle-timeout`
  (30 s), `:max-connections` per host (16), `:max-waiters` per host (1024),
  `:max-redirects` (5), `:max-body` (64 MiB), `:user-agent` (\"peloton\").
  Close it with `close-client!`.

  TLS for `https://`: `:ca-cert` (a PEM file of CAs trusted besides the JDK's),
  `:client-cert` and `:client-key` (PEM files, for mutual TLS; an encrypted key
  takes `:client-key-password`), `:insecure? true` (no certificate or host name
  check at all; logged as a warning), or `:tls` (a ready
  `peloton.transport.TlsConfig` or `javax.net.ssl.SSLContext`). An unreadable
  file is an error naming it. An unknown key or a value of the wrong type is an
  IllegalArgumentException naming it."
  ([] (client {}))
  ([opts]
   (options/check! "client" client-options opts)
   (let [o (HttpClient$Options.)
         ms (fn [s] (long (* 1000 s)))]
     (when-let [g (:reactors opts)] (set! (.group o) ^ReactorGroup g))
     (when-let [t (:connect-timeout opts)] (set! (.connectTimeoutMillis o) (ms t)))
     (when-let [t (:timeout opts)] (set! (.requestTimeoutMillis o) (ms t)))
     (when-let [t (:idle-timeout opts)] (set! (.idleTimeoutMillis o) (ms t)))
     (when-let [n (:max-connections opts)] (set! (.maxConnectionsPerHost o) (int n)))
     (when-let [n (:max-waiters opts)] (set! (.maxWaitersPerHost o) (int n)))
     (when-let [n (:max-redirects opts)] (set! (.maxRedirects o) (int n)))
     (when-let [n (:max-body opts)] (set! (.maxBody o) (long n)))
     (when-let [ua (:user-agent opts)] (set! (.userAgent o) ^String ua))
     (set! (.tls o) (tls/client-config "client" opts))
     (HttpClient. o))))

(defn close-client!
  "Closes `c`'s connections; its pending requests fail with `:kind :closed`."
  [^HttpClient c]
  (.close c))

(defonce ^:private default-client (delay (client)))

(defn encode-params
  "`params` (a map; keyword or string keys; a collection value repeats its key)
  as `application/x-www-form-urlencoded` text, as for a query string."
  [params]
  (HttpClient/encodeParams ^Map (into {} params)))

(defn- header-map [^ClientResponse r]
  (loop [i 0 m (transient {})]
    (if (< i (.headerCount r))
      (let [k (.headerName r i)
            v (.headerValue r i)
            old (get m k)]
        (recur (inc i) (assoc! m k (cond (nil? old) v
                                         (vector? old) (conj old v)
                                         :else [old v]))))
      (persistent! m))))

(defn- ->map [^ClientResponse r as]
  {:status (.status r)
   :reason (.reason r)
   :headers (header-map r)
   :url (.url r)
   :body (case as
           :stream (.bodyStream r)
           :bytes (.body r)
           (String. ^bytes (.body r) StandardCharsets/UTF_8))})

(defn- ->request ^ClientRequest [url opts]
  (let [{:keys [method headers params body timeout follow-redirects? max-redirects as]} opts
        ^ClientRequest req (ClientRequest. ^String url)]
    (when method (.method req (name method)))
    (doseq [[k v] headers] (.header req (name k) (str v)))
    (when (seq params)
      (let [m (LinkedHashMap.)]
        (doseq [[k v] params] (.put m k (if (sequential? v) (vec v) v)))
        (.params req m)))
    (cond (string? body) (.body req ^String body)
          (bytes? body) (.body req ^bytes body)
          (some? body) (throw (IllegalArgumentException. ":body must be a String or bytes")))
    (when timeout (.timeout req (long (* 1000 timeout))))
    (when follow-redirects? (.followRedirects req true))
    (when max-redirects (.maxRedirects req (int max-redirects)))
    (when (= as :stream) (.stream req true))
    req))

(def request-options
  "The options of `request!` (and `get!`, `post!` ...), as a
  `peloton.options` spec (key -> `[predicate what-it-expects]`); any other key
  fails the answered fut with an IllegalArgumentException naming it."
  {:method [#(or (keyword? %) (string? %)) "a keyword or string, e.g. :get"]
   :headers [map? "a map of header name to value"]
   :params [#(or (map? %) (and (sequential? %) (every? (fn [e] (and (sequential? e) (= 2 (count e)))) %)))
            "a map (or a sequence of [name value] pairs)"]
   :body [#(or (string? %) (bytes? %)) "a String (sent as UTF-8) or bytes"]
   :timeout [options/pos-num? "a positive number of seconds"]
   :follow-redirects? [boolean? "true or false"]
   :max-redirects [nat-int? "a non-negative integer"]
   :as [#{:string :bytes :stream} "one of :string :bytes :stream"]
   :client [#(instance? HttpClient %) "a client made by peloton.http/client"]})

(defn request!
  "Sends a request to `url` (\"http://host[:port]/path?query\") and answers a
  fut of `{:status :reason :headers :url :body}` (see the namespace doc).
  Options, as a map or as keyword arguments (`:timeout` in seconds):
  `:method` (:get; any keyword or string), `:headers` (a map),
  `:params` (a map: the query string, or for a :post without `:body` a form
  body), `:body` (a String, sent as UTF-8, or bytes), `:timeout` (seconds for
  the whole exchange, redirects and a streamed body included; default the
  client's, 60 s), `:follow-redirects?` (false; 301/302/303/307/308, a 303 or a
  POST's 301/302 turning into a GET), `:max-redirects` (5), `:as` (:string,
  :bytes or :stream), `:client` (a `client`; default a shared one). Any
  other key, or a value of the wrong type, fails the fut with an
  IllegalArgumentException naming the option (and the closest known one)."
  [url & {:as opts}]
  (try
    (options/check! "request!" request-options opts)
    (let [^HttpClient c (or (:client opts) @default-client)
          as (:as opts :string)
          ^Fut f (.request c (->request url opts))]
      (.map f (reify Function (apply [_ r] (->map r as)))))
    (catch IllegalArgumentException e
      (Fut/failed e))))

(defn get!
  "`request!` with `:method :get`."
  [url & {:as opts}]
  (request! url (assoc opts :method :get)))

(defn post!
  "`request!` with `:method :post`: `:params` become a form body."
  [url & {:as opts}]
  (request! url (assoc opts :method :post)))

(defn websocket!
  "Opens a WebSocket to `url` (\"ws://host[:port]/path\", or \"wss://...\" over
  TLS) and answers a fut of the socket (see `peloton.ws`: `send!`, `close!`
  ...). `listener` is a map of `:on-open` `:on-message` `:on-ping` `:on-pong`
  `:on-error` `:on-close` functions, a Ring Listener, or nil for a socket read
  and written through the streams `(peloton.ws/in s)` and `(peloton.ws/out s)`.
  Options, as a map or as keyword arguments: `:headers`, `:subprotocols`,
  `:compression?` (true: offer permessage-deflate), `:handshake-timeout` (10 s),
  the limits of `peloton.ws`, and for `wss://` the TLS options of `client`
  (`:ca-cert`, `:client-cert`, `:client-key`, `:client-key-password`,
  `:insecure?`, `:tls`; by default certificates are verified against the JDK's
  trust store and the host name is checked). Failures fail the fut with ex-data
  `{:kind k :url u}`, `k` one of `:refused`, `:reset`, `:timeout`, `:tls` (with
  `:reason`, e.g. \"untrusted certificate\"), `:handshake` (with the refusal's
  `:status`) or `:malformed`."
  [url listener & opts]
  (ws/connect! url listener (if (map? (first opts))
                              (first opts)
                              (options/kv-map "websocket!" opts))))

(def ^:private events-options
  (assoc (dissoc request-options :as)
         :last-event-id [string? "the id of the last event seen (sent as Last-Event-ID)"]
         :max-line [pos-int? "the longest line accepted, in bytes"]
         :capacity [pos-int? "how many events wait in the stream, a positive count"]))

(defn- event->map [^ServerSentEvent e]
  (cond-> {:event (.event e) :data (.data e) :id (.id e)}
    (>= (.retry e) 0) (assoc :retry (.retry e))))

(defn events!
  "Opens a Server-Sent Events stream (`text/event-stream`) at `url` and answers
  a fut of a `peloton.stream` of event maps `{:event \"message\" :data \"...\"
  :id \"...\"}` (`:retry` in ms when the server set one), read as the HTML
  standard says: multi-line data joined with \\n, ids carried over to later
  events, comments skipped. The stream ends when the server ends the response
  and fails when the connection breaks; cancelling it lets the connection go
  (at the server's next data). While it is full (`:capacity` events, 16) nothing more is read.
  Options: those of `request!` (`:headers`, `:client`, and `:timeout`, which
  bounds the whole stream, so give a long one), `:last-event-id` (sent as
  `Last-Event-ID`, to resume), `:max-line` (1 MiB: a longer line fails the
  stream). An answer that is not a 200 event stream fails the fut with ex-data
  `{:kind :not-event-stream :status s :content-type t :url u}`; other failures
  are those of `request!`."
  [url & {:as opts}]
  (try
    (options/check! "events!" events-options opts)
    (let [^HttpClient c (or (:client opts) @default-client)
          req (->request url (dissoc opts :last-event-id :max-line :capacity))
          _ (when-let [id (:last-event-id opts)] (.header req "Last-Event-ID" ^String id))
          capacity (int (or (:capacity opts) 16))]
      (EventStreamClient/open c req
                              (int (or (:max-line opts) EventStreamClient/DEFAULT_MAX_LINE_BYTES))
                              capacity
                              (reify Function (apply [_ e] (event->map e)))))
    (catch IllegalArgumentException e
      (Fut/failed e))))
