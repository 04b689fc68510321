(ns peloton.httpd
  "An HTTP/1.1 server: keep-alive and pipelining, chunked responses, regex
  routes, files with Range and sendfile, and Ring handlers.

  Handlers get a connection, `conn` (a `peloton.http.server.Exchange`), and answer
  through it, now or later, from any thread:

      (defn on-index [conn]
        (set-content-type-html! conn)
        (set-response-body! conn \"<h1>Hello from Peloton</h1>\")
        (send-response! conn))

      (serve! {:ports [8080]}
        [:GET #\"^/$\" on-index])

  Handlers run on the connection's reactor thread unless `:executor` is given:
  never block there. A handler may also answer by what it returns: a Ring
  response map is sent, and a fut that fails gets a 500 and a log line (as a
  handler that throws does). A handler that has not started its answer after
  `:response-timeout` seconds gets a 503 and a warning.

  Times (`:idle-timeout`, `stop-server!`'s grace ...) are in seconds,
  fractions allowed, as in `peloton.reactor`."
  (:require [clojure.string :as str]
            [clojure.tools.logging :as log]
            [peloton.options :as options]
            [peloton.sse :as sse]
            [peloton.util :as util]
            [peloton.ws :as ws])
  (:import (java.io File InputStream)
           (java.nio ByteBuffer)
           (java.util.concurrent Executor TimeUnit)
           (java.util.regex Pattern)
           (peloton.fut Fut Stream)
           (peloton.http Forms HttpLimits)
           (peloton.http.server Exchange FileHandler FileHandler$Options HttpHandler
                                HttpServer HttpServer$Options Request Router)
           (peloton.transport TlsConfig TlsConfig$ClientAuth)
           (javax.net.ssl SSLContext)))

(set! *warn-on-reflection* true)

;; ---- request accessors ----

(defn request-method
  "The request method as an upper-case keyword, e.g. `:GET`."
  [^Exchange conn]
  (keyword (.method conn)))

(defn request-uri
  "The raw request-target as the client sent it, query included, e.g.
  `\"/search?q=x\"` (not normalized: `\"/a/../b\"` stays as sent). Routes
  match `request-path`, not this."
  ^String [^Exchange conn]
  (.uri conn))

(defn request-path
  "The normalized path of the request, before any `?`: what routes match and
  what Ring's `:uri` is. Percent-encoded unreserved characters are decoded
  (`/%61b` is `/ab`), other encodings such as `%2F` are kept (upper-cased),
  and dot segments are removed (`/admin/../public` is `/public`); a path
  climbing above the root was refused with 400. `(.rawPath conn)` is the path
  as sent."
  ^String [^Exchange conn]
  (.path conn))

(defn request-query
  "The raw query string without `?`, or nil."
  ^String [^Exchange conn]
  (.query conn))

(defn request-header
  "The first value of request header `name` (any case), or nil."
  ^String [^Exchange conn ^String name]
  (.header conn name))

(defn request-headers
  "The request headers as a map of lower-case name to value (repeated headers
  joined with \",\", as Ring does)."
  [^Exchange conn]
  (let [^Request r (.request conn)
        n (.headerCount r)]
    (loop [i 0 m (transient {})]
      (if (< i n)
        (let [k (.headerName r i)
              v (.headerValue r i)
              old (get m k)]
          (recur (inc i) (assoc! m k (if old (str old "," v) v))))
        (persistent! m)))))

(defn request-body-stream
  "The request body as a `peloton.stream` of byte arrays. A body larger than
  the server's `:body-buffer-limit` arrives this way while the handler runs
  (the connection reads no faster than the stream is taken from); a small one
  is a single chunk."
  ^Stream [^Exchange conn]
  (.bodyStream conn))

(defn request-body
  "The request body as a byte array (empty when none; for a streamed body, use
  `request-body-stream`)."
  ^bytes [^Exchange conn]
  (let [b (.bodyBytes conn) n (.bodyLength conn)]
    (if (= n (alength b)) b (java.util.Arrays/copyOf b n))))

(defn request-body-string
  "The request body decoded as UTF-8."
  ^String [^Exchange conn]
  (.bodyString conn))

(defn remote-addr
  "The client's IP address as a string."
  ^String [^Exchange conn]
  (some-> (.remoteAddress conn) .getAddress .getHostAddress))

(defn- form-map
  "Forms/parseUrlEncoded's map (a java.util.List for a repeated key) as a
  Clojure map of `key-fn`'d keys to a string or a vector of strings."
  [^String s key-fn]
  (if s
    (into {} (map (fn [[k v]] [(key-fn k) (if (instance? java.util.List v) (vec v) v)]))
          (Forms/parseUrlEncoded s))
    {}))

(defn query-data
  "The query string decoded into a map of string keys to string values (a
  vector of values for a repeated key)."
  [^Exchange conn]
  (form-map (.query conn) identity))

(defn post-data
  "The body decoded as `application/x-www-form-urlencoded` into a map of string
  keys to string values (a vector of values for a repeated key)."
  [^Exchange conn]
  (form-map (.bodyString conn) identity))

(defn post-data-map
  "Like `post-data`, with keyword keys."
  [^Exchange conn]
  (form-map (.bodyString conn) keyword))

(defn finished?
  "True once the response is complete or the client has gone away: a loop that
  streams to `conn` stops when this turns true."
  [^Exchange conn]
  (.isFinished conn))

;; ---- response ----

(defn set-response-status!
  "Sets the response status code."
  [^Exchange conn status]
  (.status conn (int status)))

(defn set-response-message!
  "Sets the reason phrase of the status line."
  [^Exchange conn ^String message]
  (.message conn message))

(defn set-response-header!
  "Sets response header `name` to `value`, replacing earlier values. A CR or LF
  in either is refused with an exception."
  [^Exchange conn name value]
  (.setHeader conn (util/->str name) (str value)))

(defn add-response-header!
  "Adds a value for response header `name`, keeping earlier ones."
  [^Exchange conn name value]
  (.addHeader conn (util/->str name) (str value)))

(defn set-content-type!
  "Sets the Content-Type of the response."
  [^Exchange conn ^String content-type]
  (.contentType conn content-type))

(defn set-content-type-html!
  "Sets the Content-Type to HTML (UTF-8)."
  [conn]
  (set-content-type! conn "text/html; charset=utf-8"))

(defn set-content-type-json!
  "Sets the Content-Type to JSON."
  [conn]
  (set-content-type! conn "application/json"))

(defn set-response-body!
  "Sets the response body: a string (sent as UTF-8) or a byte array."
  [^Exchange conn body]
  (cond
    (string? body) (.body conn ^String body)
    (bytes? body) (.body conn ^bytes body)
    (instance? ByteBuffer body) (.body conn ^ByteBuffer body)
    (nil? body) (.body conn (byte-array 0))
    :else (.body conn (str body))))

(defn send-response!
  "Sends the response: status, headers, Content-Length and body."
  [^Exchange conn]
  (.send conn))

(defn send-html!
  "Sends `html` as a 200 HTML response (or with `status`)."
  ([conn html] (send-html! conn 200 html))
  ([conn status html]
   (set-response-status! conn status)
   (set-content-type-html! conn)
   (set-response-body! conn html)
   (send-response! conn)))

(defn not-found!
  "Sends a 404 page."
  [conn]
  (send-html! conn 404 "<html><h1>404 Not Found</h1></html>"))

(defn see-other!
  "Redirects the client to `location` with a 303 See Other."
  [conn ^String location]
  (set-response-status! conn 303)
  (set-response-header! conn "Location" location)
  (set-response-body! conn "")
  (send-response! conn))

(defn start-chunked-response!
  "Sends the response head with `Transfer-Encoding: chunked`; the body follows
  through `send-chunk!` and ends with `finish-chunked-response!`."
  [^Exchange conn]
  (.startChunked conn))

(defn send-chunk!
  "Queues one chunk (a string or bytes). Answers a fut that completes once the
  connection's output is below its high-water mark: a producer that waits on it
  before the next chunk never fills memory when the client reads slowly."
  ^Fut [^Exchange conn chunk]
  (if (string? chunk)
    (.sendChunk conn ^String chunk)
    (.sendChunk conn ^bytes chunk)))

(defn flush-output!
  "Writes what is queued so far."
  [^Exchange conn]
  (.flush conn))

(defn backed-up?
  "True while the client reads slower than the response is produced (output
  above the high-water mark; reading has paused). `(writable conn)` answers a
  fut that completes when it has drained."
  [^Exchange conn]
  (.isBackedUp conn))

(defn writable
  "A fut that completes (with true) once `conn`'s queued output is below its
  high-water mark, or with false if the client has gone away."
  ^Fut [^Exchange conn]
  (.writable conn))

(defn finish-chunked-response!
  "Ends a chunked response."
  [^Exchange conn]
  (.finishChunked conn))

;; ---- files ----

(def ^:private file-handler-options
  {:classpath? [boolean? "true or false"]
   :index-file [string? "a file name such as \"index.html\" (nil for none)"]
   :serve-hidden? [boolean? "true or false"]
   :mime-types [map? "a map of extension (without the dot) to content type"]
   :cache-control [string? "a Cache-Control header value"]
   :class-loader [#(instance? ClassLoader %) "a java.lang.ClassLoader"]})

(defn create-file-handler
  "A route handler serving static files from `dir`, a directory, or from
  classpath resources when `dir` starts with \"classpath:\" (e.g.
  \"classpath:public\") or `:classpath? true` is given. Answers
  `(fn ([conn]) ([conn path]))`: `path` is the still percent-encoded path
  relative to `dir`, usually a route's regex group; without it the whole
  request path is used.

      (serve! {:ports [8080]}
        [:GET #\"^/files/(.*)$\" (create-file-handler \"public\")])

  GET and HEAD (others get 405), Content-Type from the extension, ETag and
  Last-Modified, 304 on If-None-Match / If-Modified-Since, Range (several
  ranges as multipart/byteranges, 416 when none fits) and If-Range. Files on
  disk go out with sendfile; resources inside jars are streamed. A directory
  answers its index file or 404. Paths that would leave `dir` (`..`, encoded
  or not, backslashes, absolute paths, NUL, symlinks resolving outside) are 404.
  `:GET` routes also answer HEAD (without a body).

  Options (key/value pairs): `:classpath?` (false), `:index-file`
  (\"index.html\"; nil for none), `:serve-hidden?` (false: names starting with
  \".\" are 404), `:mime-types` (a map of extension, without the dot, to
  content type, over the built-in ones), `:cache-control` (a Cache-Control
  value for every file), `:class-loader` (for classpath resources; default the
  thread's context class loader). Any other key, or a value of the wrong
  type, is an IllegalArgumentException naming it."
  [dir & opts]
  (let [m (options/check! "create-file-handler" file-handler-options
                          (options/kv-map "create-file-handler" opts))
        o (FileHandler$Options.)]
    (when (contains? m :index-file) (.indexFile o ^String (:index-file m)))
    (.serveHidden o (boolean (:serve-hidden? m)))
    (when-let [t (:mime-types m)]
      (.mimeTypes o ^java.util.Map (into {} (map (fn [[k v]] [(util/->str k) (str v)])) t)))
    (when-let [c (:cache-control m)] (.cacheControl o ^String c))
    (when-let [l (:class-loader m)] (.classLoader o ^ClassLoader l))
    (let [d (str dir)
          ^FileHandler fh (if (and (:classpath? m) (not (str/starts-with? d FileHandler/CLASSPATH_PREFIX)))
                            (FileHandler/classpath d o)
                            (FileHandler/create d o))]
      (fn
        ([conn] (.handle fh ^Exchange conn))
        ([conn path] (.serve fh ^Exchange conn ^String path))))))

;; ---- routing ----

(def route-methods
  "The methods a route may name (as keywords, any case): the RFC 9110 methods
  and PATCH; `:any` matches every method."
  #{:GET :HEAD :POST :PUT :DELETE :CONNECT :OPTIONS :TRACE :PATCH})

(defn- check-route!
  "Refuses a route that is not `[method regex handler & extra-args]` with a
  real method, so a typo such as `:FETCH` or `:GTE` fails at start-up instead
  of answering 404 for ever."
  [route]
  (when-not (and (vector? route) (<= 3 (count route)))
    (throw (IllegalArgumentException.
            (str "serve!: a route is [method regex handler & extra-args], got " (pr-str route)))))
  (let [[method re handler] route
        m (when (or (keyword? method) (string? method))
            (keyword (str/upper-case (name method))))]
    (when-not (or (= method :any) (contains? route-methods m))
      (let [near (when m (options/closest m route-methods))]
        (throw (IllegalArgumentException.
                (str "serve!: route " (pr-str (subvec route 0 2)) " has an unknown method "
                     (pr-str method) (when near (str " (did you mean " (pr-str near) "?)"))
                     "; valid: :any or one of "
                     (str/join " " (map pr-str (sort-by name route-methods)))
                     " (any case)")))))
    (when-not (instance? Pattern re)
      (throw (IllegalArgumentException. (str "route needs a regex: " (pr-str re)))))
    (when-not (ifn? handler)
      (throw (IllegalArgumentException.
              (str "serve!: route " (pr-str (subvec route 0 2)) " needs a handler function, got "
                   (pr-str handler)))))))

(declare send-ring-response!)

(defn- response-map?
  "True for what looks like a Ring response map (a map with `:status`,
  `:headers` or `:body`), as opposed to whatever value a handler's last form
  happened to have."
  [x]
  (and (map? x) (or (contains? x :status) (contains? x :body) (contains? x :headers))))

(defn- answer-with-result!
  "Acts on what a handler returned: a Ring response map is sent (unless the
  handler already answered); a fut that fails gets a 500 (or a cut connection
  once the answer started) and a throttled log line naming the route; a fut of
  a response map sends it. Anything else is left alone: the handler answers
  through `conn`, or the response timeout does."
  [^Exchange conn result]
  (cond
    (instance? Fut result)
    (.onComplete ^Fut result
                 (reify peloton.fut.Fut$Callback
                   (call [_ v err]
                     (cond
                       err (.handlerFailed conn err)
                       (and (response-map? v) (not (.isStarted conn))) (send-ring-response! conn v)))))
    (and (response-map? result) (not (.isStarted conn)))
    (send-ring-response! conn result))
  nil)

(defn- route-name
  "How log lines name a route: its method and regex."
  ^String [method re]
  (str (if (= method :any) "ANY" (str/upper-case (name method))) " " (pr-str re)))

(defn- wrap-route
  "A route handler that names its route on the exchange (for log lines) and
  acts on what `handler` returns."
  [^String route handler]
  (if (instance? HttpHandler handler)
    (let [^HttpHandler h handler]
      (reify HttpHandler
        (handle [_ ex] (.route ex route) (.handle h ex))))
    (fn
      ([^Exchange conn]
       (.route conn route)
       (answer-with-result! conn (handler conn)))
      ([^Exchange conn & args]
       (.route conn route)
       (answer-with-result! conn (apply handler conn args))))))

(defn- route-handler
  "Turns route vectors `[method regex handler & extra-args]` into a
  `peloton.http.server.Router`."
  ^Router [routes]
  (let [router (Router.)]
    (doseq [[method re handler & extra :as route] routes]
      (check-route! route)
      (.add router
            (if (= method :any) nil (str/upper-case (name method)))
            ^Pattern re
            (wrap-route (route-name method re) handler)
            (object-array extra)))
    router))

(defn- ->handler ^HttpHandler [f]
  (if (instance? HttpHandler f)
    f
    (reify HttpHandler
      (handle [_ ex] (answer-with-result! ex (f ex))))))

;; ---- server ----

(def ^:private tls-spec
  {:cert [string? "the path of a PEM certificate chain (leaf first, as fullchain.pem)"]
   :key [string? "the path of the PEM private key of :cert"]
   :keystore [string? "the path of a PKCS#12 keystore"]
   :password [string? "the password of :keystore"]
   :ssl-context [#(instance? SSLContext %) "a javax.net.ssl.SSLContext"]
   :client-auth [#{:need :want :none} ":need, :want or :none"]
   :ca-cert [string? "the path of a PEM file of the CAs client certificates must chain to"]
   :handshake-tasks [#{:inline :executor} ":inline or :executor"]})

(defn- tls-config
  "The server TlsConfig for the `:tls` option map (or a TlsConfig given as is)."
  ^TlsConfig [tls]
  (if (instance? TlsConfig tls)
    tls
    (let [_ (options/check! "serve! :tls" tls-spec tls)
          {:keys [cert key keystore password ssl-context]} tls]
      (when-not (= 1 (count (filter some? [cert keystore ssl-context])))
        (throw (IllegalArgumentException.
                (str "serve! :tls needs exactly one of :cert (with :key), :keystore (with "
                     ":password) or :ssl-context, got " (pr-str (keys tls))))))
      (when (not= (some? cert) (some? key))
        (throw (IllegalArgumentException. "serve! :tls :cert and :key go together")))
      (when (and password (not keystore))
        (throw (IllegalArgumentException. "serve! :tls :password is for :keystore")))
      (let [{:keys [client-auth ca-cert]} tls
            asks? (contains? #{:need :want} client-auth)]
        (when (and asks? (not ca-cert) (not ssl-context))
          (throw (IllegalArgumentException.
                  (str "serve! :tls :client-auth " client-auth " needs :ca-cert, the CAs "
                       "client certificates must chain to"))))
        (when (and ca-cert (not asks?))
          (throw (IllegalArgumentException.
                  "serve! :tls :ca-cert is for :client-auth :need or :want")))
        (when (and ca-cert ssl-context)
          (throw (IllegalArgumentException.
                  (str "serve! :tls :ca-cert cannot be added to an :ssl-context: init the "
                       "context with the trust managers for client certificates"))))
        (let [^TlsConfig t (cond
                             cert (TlsConfig/serverPem cert key)
                             keystore (TlsConfig/serverKeystore keystore password)
                             :else (TlsConfig/server ^SSLContext ssl-context))]
          (let [^TlsConfig t (if asks?
                               (.clientAuth t (if (= :need client-auth) TlsConfig$ClientAuth/NEED
                                                  TlsConfig$ClientAuth/WANT)
                                            ^String ca-cert)
                               t)]
            (if-let [tasks (:handshake-tasks tls)]
              (.inlineTasks t (= :inline tasks))
              t)))))))

(def server-options
  "The options of `serve!`, `start-server!` and `serve-ring!`, as a
  `peloton.options` spec: key -> `[predicate what-it-expects]`. Durations are
  in seconds. Any other key is refused with an error naming it."
  {:port [options/port? "a port number 0-65535 (0 picks a free one)"]
   :ports [#(and (sequential? %) (seq %) (every? options/port? %))
           "a non-empty vector of port numbers 0-65535"]
   :host [string? "a host name or address string, e.g. \"0.0.0.0\""]
   :listen-backlog [pos-int? "a positive integer (queued connections)"]
   :reactors [pos-int? "a positive integer (reactor threads)"]
   :executor [#(instance? Executor %) "a java.util.concurrent.Executor"]
   :header-timeout [options/pos-num? "a positive number of seconds"]
   :idle-timeout [options/pos-num? "a positive number of seconds"]
   :write-timeout [options/pos-num? "a positive number of seconds"]
   :max-body [nat-int? "a non-negative integer (bytes)"]
   :body-buffer-limit [nat-int? "a non-negative integer (bytes)"]
   :max-request-line [pos-int? "a positive integer (bytes)"]
   :max-header-bytes [pos-int? "a positive integer (bytes)"]
   :max-headers [pos-int? "a positive integer"]
   :response-timeout [options/nat-num? "a non-negative number of seconds (0: off)"]
   :min-body-rate [nat-int? "a non-negative integer (bytes per second; 0: off)"]
   :body-rate-grace [options/nat-num? "a non-negative number of seconds"]
   :shutdown-grace [options/nat-num? "a non-negative number of seconds (nil: no shutdown hook)"]
   :tls [#(or (map? %) (instance? TlsConfig %))
         "a map {:cert :key}, {:keystore :password} or {:ssl-context} (with :client-auth and :ca-cert for mutual TLS), or a peloton.transport.TlsConfig"]})

(def ^:private ring-options
  (assoc server-options :async? [boolean? "true or false (a 3-arity async Ring handler)"]))

(defn- check-server-options!
  "Checks `opts` against `spec` for `where`, and that `:port` and `:ports` are
  not both given (one of them would be ignored)."
  [where spec opts]
  (options/check! where spec opts)
  (when (and (some? (:port opts)) (some? (:ports opts)))
    (throw (IllegalArgumentException.
            (str where ": give :port or :ports, not both; got " (pr-str (select-keys opts [:port :ports]))))))
  opts)

(defn- options ^HttpServer$Options [opts port]
  (let [o (HttpServer$Options.)
        ^HttpLimits limits (.limits o)]
    (set! (.port o) (int port))
    (when-let [h (:host opts)] (set! (.host o) ^String h))
    (when-let [b (:listen-backlog opts)] (set! (.backlog o) (int b)))
    (when-let [n (:reactors opts)] (set! (.reactors o) (int n)))
    (when-let [e (:executor opts)] (set! (.executor o) ^Executor e))
    (when-let [t (:header-timeout opts)] (set! (.headerTimeoutMillis o) (long (* 1000 t))))
    (when-let [t (:idle-timeout opts)] (set! (.idleTimeoutMillis o) (long (* 1000 t))))
    (when-let [t (:write-timeout opts)] (set! (.writeTimeoutMillis o) (long (* 1000 t))))
    (when-let [n (:max-body opts)] (set! (.maxBody limits) (long n)))
    (when-let [n (:body-buffer-limit opts)] (set! (.bodyBufferLimit o) (long n)))
    (when-let [n (:max-request-line opts)] (set! (.maxRequestLine limits) (int n)))
    (when-let [n (:max-header-bytes opts)] (set! (.maxHeaderBytes limits) (int n)))
    (when-let [n (:max-headers opts)] (set! (.maxHeaders limits) (int n)))
    (when-let [t (:tls opts)] (set! (.tls o) (tls-config t)))
    (when-some [t (:response-timeout opts)] (set! (.responseTimeoutMillis o) (long (* 1000 t))))
    (when-some [n (:min-body-rate opts)] (set! (.minBodyRate o) (long n)))
    (when-some [t (:body-rate-grace opts)] (set! (.bodyRateGraceMillis o) (long (* 1000 t))))
    (when-some [t (:shutdown-grace opts)] (set! (.shutdownGraceMillis o) (long (* 1000 t))))
    o))

(defrecord Server [servers]
  java.io.Closeable
  (close [_] (doseq [^HttpServer s servers] (.close s))))

(defn- start-checked!
  "Starts one HttpServer per port of `opts` (already checked) for `handler`;
  on a failure closes those already started and rethrows."
  [opts handler]
  (let [ports (or (:ports opts) [(or (:port opts) 8080)])
        h (->handler handler)
        started (reduce (fn [acc port]
                          (try
                            (conj acc (HttpServer/start (options opts port) h))
                            (catch Throwable t
                              (doseq [^HttpServer s acc] (.close s))
                              (throw t))))
                        [] ports)]
    (->Server started)))

(defn start-server!
  "Starts serving `handler` (a function of `conn`) with the options of `serve!`
  (an unknown option or a value of the wrong type is an
  IllegalArgumentException naming it). Answers a server value for `port` and
  `stop-server!`."
  [opts handler]
  (check-server-options! "start-server!" server-options opts)
  (start-checked! opts handler))

(defn serve!
  "Serves `routes` and answers a server value (stop it with `stop-server!`).

  `opts`: `:ports` (a vector, default [8080]) or `:port`, `:host` (default
  \"127.0.0.1\"; \"0.0.0.0\" for all interfaces), `:listen-backlog` (1024),
  `:reactors` (one per core), `:executor` (run handlers there instead of on the
  reactor, for blocking code), `:header-timeout` (10 s: the time a client has to
  send a request head), `:idle-timeout` (60 s between keep-alive requests),
  `:write-timeout` (30 s without write progress), `:max-body` (16 MiB),
  `:body-buffer-limit` (1 MiB: larger bodies are streamed to the handler),
  `:max-request-line` (8 KiB), `:max-header-bytes` (32 KiB), `:max-headers` (100),
  `:response-timeout` (60 s: a handler that has not started its answer by then
  gets a 503 and a warning, and its late answer is dropped; 0 turns it off),
  `:min-body-rate` (240 bytes/s: a request body arriving slower, on average,
  gets 408; 0 turns it off) after `:body-rate-grace` (5 s), `:shutdown-grace`
  (nil: when a number of seconds, a JVM shutdown such as SIGTERM stops the
  server gracefully with that grace, accepting what is already in the backlog).
  Durations are in seconds (fractions allowed). Any other key, or a value of
  the wrong type, is an IllegalArgumentException naming the option (and the
  closest known one): nothing is silently ignored. See `server-options`.

  `:tls` serves HTTPS (TLS 1.2 and 1.3, ALPN http/1.1) with one of
  `{:cert \"fullchain.pem\" :key \"privkey.pem\"}` (PEM files as certbot writes
  them: a chain leaf first, a PKCS#8 RSA or EC key; PKCS#1 and SEC1 keys too),
  `{:keystore \"server.p12\" :password \"...\"}` (PKCS#12) or
  `{:ssl-context ctx}` (a ready `javax.net.ssl.SSLContext`). An unreadable file,
  or a key that does not belong to the certificate, fails the start naming the
  file. The handshake must end within `:header-timeout`; a client that sends
  plain HTTP gets a plain 400, other garbage is closed (both logged at debug).
  Mutual TLS: add `:client-auth :need` (a client without a certificate that
  chains to a CA of `:ca-cert \"ca.pem\"` is refused in the handshake) or
  `:client-auth :want` (one without a certificate is served too); only the CAs
  of `:ca-cert` are trusted for clients. The handler sees the verified chain:
  `(.clientCertificates conn)`, in Ring `:ssl-client-cert` (the leaf).
  `:handshake-tasks` says where the handshake's CPU work (key exchange,
  signature) runs: `:inline` on the connection's reactor, as Netty does (the
  default with `:cert` or `:keystore`: the JDK's own key managers, a
  millisecond or two each), or `:executor` on a small shared pool (the default
  with `:ssl-context`, whose key managers may block).

  Each route is `[method regex handler & extra-args]`: `method` a keyword such
  as `:GET` (which also takes HEAD) or `:any` (see `route-methods`; another
  method is refused at start-up); the first route whose method matches and whose regex is
  found in the path calls `(apply handler conn (concat extra-args groups))`.
  The regex and its groups see the normalized path (`request-path`: dot
  segments removed, encoded unreserved characters decoded, `%2F` and other
  reserved encodings kept), so `/admin/../public` is routed as `/public` and
  `/%61dmin` as `/admin`; `request-uri` keeps the target as sent.
  No match answers 404. The handler answers through `conn`, or returns a Ring
  response map, or a fut (of a response map, or of anything once it answered
  through `conn`); a fut that fails, like a handler that throws, gets a 500 and
  a log line naming the route. Use a var (`#'handler`) to pick up redefinitions at the
  REPL without restarting."
  [opts & routes]
  (check-server-options! "serve!" server-options opts)
  (start-checked! opts (route-handler routes)))

(defn port
  "The port the (first) server listens on."
  [server]
  (.port ^HttpServer (first (:servers server))))

(defn stop-server!
  "Stops accepting, lets in-flight responses finish for up to `grace-seconds`
  (default 5), then closes everything. Blocks until done."
  ([server] (stop-server! server 5))
  ([server grace-seconds]
   (doseq [^HttpServer s (:servers server)]
     (.join (.stop s (long (* 1000 grace-seconds)) TimeUnit/MILLISECONDS)))
   nil))

;; ---- Ring ----

(defn- client-cert
  "The client's verified leaf certificate over mutual TLS, else nil (as ring-servlet)."
  [^Exchange conn]
  (when (.isSecure conn)
    (when-let [cs (.clientCertificates conn)] (aget cs 0))))

(defn ring-request
  "The Ring request map (per the Ring SPEC) for `conn`: `:server-port`,
  `:server-name`, `:remote-addr`, `:uri`, `:query-string`, `:scheme`,
  `:request-method`, `:protocol`, lower-case `:headers` and `:body` as an
  InputStream, `:ssl-client-cert` (over mutual TLS the client's verified
  X509Certificate, else nil; the whole chain: `(.clientCertificates conn)`). Also
  `:peloton/conn`, the connection itself, and `:peloton/raw-uri`, the
  request-target exactly as sent.

  `:uri` is the normalized path (see `request-path`: dot segments removed,
  encoded unreserved characters decoded, `%2F` kept), the path routes match.
  `:server-name` and `:server-port` come from an absolute-form target's
  authority when the target has one (RFC 9112 §3.2.2), else from the Host
  header (validated by the parser); without a host there, the local address,
  and without a port, the local port."
  [^Exchange conn]
  (let [^Request r (.request conn)
        local (.localAddress conn)
        host (.host r)
        port (.port r)]
    {:server-port (if (neg? port) (some-> local .getPort) port)
     :server-name (if (str/blank? host) (some-> local .getHostString) host)
     :remote-addr (remote-addr conn)
     :uri (.path conn)
     :query-string (.query conn)
     :scheme (if (.isSecure conn) :https :http)
     :ssl-client-cert (client-cert conn)
     :request-method (keyword (str/lower-case (.method conn)))
     :protocol (if (zero? (.versionMinor r)) "HTTP/1.0" "HTTP/1.1")
     :headers (request-headers conn)
     :body (.bodyInputStream conn)
     :websocket? (ws/upgrade-request? conn)
     :peloton/conn conn
     :peloton/raw-uri (.uri conn)}))

(defn- set-ring-headers! [^Exchange conn headers]
  (doseq [[k v] headers]
    (let [k (util/->str k)]
      (if (sequential? v)
        (doseq [x v] (.addHeader conn k (str x)))
        (.setHeader conn k (str v))))))


(defn- stream-chunks!
  "Sends each value taken from stream `s` as a chunk, waiting for the
  connection to drain between chunks; ends the response at end of stream."
  [^Exchange conn ^Stream s]
  (.startChunked conn)
  (-> (.consume s (reify java.util.function.Function
                    (apply [_ v]
                      (if (.isFinished conn)
                        (do (.close s) nil)
                        (if (string? v) (.sendChunk conn ^String v) (.sendChunk conn ^bytes v))))))
      (.onComplete (reify peloton.fut.Fut$Callback
                     (call [_ _ err]
                       (if err
                         (do (log/error err "stream body failed; closing the connection")
                             (.fail conn err))
                         (.finishChunked conn)))))))

(defn send-ring-response!
  "Sends a Ring response map on `conn`. The body may be a String, bytes, an
  InputStream, a File (sent with sendfile), a seq of strings, nil, or beyond
  Ring a `peloton.fut.Stream` (sent chunked, with backpressure). The response
  itself may be a fut of a response map. A WebSocket response (Ring SPEC 1.11:
  `:ring.websocket/listener`, optional `:ring.websocket/protocol`) upgrades the
  connection (see `peloton.ws`); one made by `peloton.sse/response` streams
  Server-Sent Events."
  [^Exchange conn response]
  (if (instance? Fut response)
    (.onComplete ^Fut response
                 (reify peloton.fut.Fut$Callback
                   (call [_ v err]
                     (if err
                       (.handlerFailed conn err)
                       (send-ring-response! conn v)))))
    (cond
      (contains? response :ring.websocket/listener)
      (ws/upgrade! conn (:ring.websocket/listener response)
                   (if-let [p (:ring.websocket/protocol response)] {:protocol p} {}))
      (contains? response ::sse/events) (sse/send-ring-response! conn response)
      :else
    (let [{:keys [status headers body]} response]
      (.status conn (int (or status 200)))
      (set-ring-headers! conn headers)
      (cond
        (nil? body) (do (.body conn (byte-array 0)) (.send conn))
        (string? body) (do (.body conn ^String body) (.send conn))
        (bytes? body) (do (.body conn ^bytes body) (.send conn))
        (instance? InputStream body) (let [b (with-open [^InputStream in body] (.readAllBytes in))]
                                       (.body conn ^bytes b)
                                       (.send conn))
        (instance? File body) (let [^File f body
                                    ch (java.nio.channels.FileChannel/open
                                        (.toPath f)
                                        (into-array java.nio.file.OpenOption
                                                    [java.nio.file.StandardOpenOption/READ]))
                                    n (.size ch)]
                                (.startResponse conn n)
                                (.writeFile conn ch 0 n true)
                                (.end conn))
        (instance? Stream body) (stream-chunks! conn body)
        (seq? body) (do (.startChunked conn)
                        (doseq [x body] (.sendChunk conn (str x)))
                        (.finishChunked conn))
        :else (throw (IllegalArgumentException.
                      (str "unsupported Ring body type: " (class body)))))))))

(defn ring-handler
  "Adapts a Ring handler to a Peloton handler of `conn` (usable with
  `start-server!` or as a route handler). A 1-arity handler answers a response
  map or a fut of one; with `{:async? true}` it is called with
  `[request respond raise]` as Ring's async handlers are."
  ([handler] (ring-handler handler {}))
  ([handler {:keys [async?] :as opts}]
   (options/check! "ring-handler" {:async? (:async? ring-options)} opts)
   (if async?
     (fn [conn & _]
       (handler (ring-request conn)
                (fn [response] (send-ring-response! conn response))
                (fn [^Throwable t] (.handlerFailed ^Exchange conn t)))
       nil)
     (fn [conn & _]
       (send-ring-response! conn (handler (ring-request conn)))
       nil))))

(defn serve-ring!
  "Serves a Ring handler with the options of `serve!` (`:async? true` for a
  3-arity handler; any other key is refused, as by `serve!`). Answers a server
  value for `stop-server!`."
  [opts handler]
  (check-server-options! "serve-ring!" ring-options opts)
  (start-checked! (dissoc opts :async?) (ring-handler handler (select-keys opts [:async?]))))
