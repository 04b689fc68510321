(ns peloton.ws
  "WebSocket (RFC 6455, with permessage-deflate) for Peloton, server and client.

  A listener is a map of functions, every key optional:

      {:on-open    (fn [socket])
       :on-message (fn [socket message])   ; a String (text) or a ByteBuffer (binary)
       :on-ping    (fn [socket data])      ; without it, pings are answered with pongs
       :on-pong    (fn [socket data])
       :on-error   (fn [socket throwable])
       :on-close   (fn [socket code reason])}

  or anything that satisfies Ring's `ring.websocket.protocols/Listener` (and
  `PingListener`) when Ring is on the classpath. `:on-close` runs once, if and
  only if `:on-open` ran. When `:on-message` answers a fut that is not yet
  complete, the connection reads nothing more until it completes: a slow
  consumer holds back a fast peer. Listeners run on the connection's reactor.

  Without a listener (`nil`), the socket is a pair of `peloton.stream`s:
  `(in socket)` gives each message (a String, or a byte array for binary) and
  ends when the connection closes; values put on `(out socket)` are sent, and
  closing it closes the socket. Both push back.

  Sockets: `send!` (answers a fut that completes once the frame is written),
  `ping!`, `pong!`, `close!`, `abort!`, `open?`, `subprotocol`. The same socket
  satisfies Ring's `Socket` and `AsyncSocket` protocols when Ring is loaded.

  Options (times in seconds; defaults): `:max-frame-size` (1 MiB),
  `:max-message-size` (1 MiB, measured after inflating; larger messages close
  the connection with 1009), `:idle-timeout` (300; 0 for none: a peer silent
  that long is closed with 1001), `:ping-interval` (0, none: with N, a ping
  every N s, and a peer that has not answered the last one is cut off),
  `:close-timeout` (5: how long the peer has to answer our close),
  `:compression?` (true: permessage-deflate when the peer offers or accepts it),
  `:compression-threshold` (64 bytes: shorter messages go uncompressed),
  `:compression-level` (6), `:high-water-mark` (256 KiB of queued output above
  which reads stop), `:low-water-mark` (64 KiB), `:capacity` (16: the streams'
  buffer), and on the server `:protocol` (the subprotocol to answer, only if the
  client offered it)."
  (:require [clojure.tools.logging :as log]
            [peloton.options :as options]
            [peloton.tls :as tls])
  (:import (java.nio ByteBuffer)
           (java.nio.charset StandardCharsets)
           (java.util List)
           (peloton.fut Fut Fut$Callback)
           (peloton.http.server Exchange)
           (peloton.reactor Reactor)
           (peloton.websocket WebSocket WebSocket$Listener WebSocketClient
                              WebSocketClient$Request WebSocketOptions WebSocketStreams
                              WebSocketUpgrade)))

(set! *warn-on-reflection* true)

;; ---- Ring's protocols, when a user has them ----

(defn- ring-var
  "The var `ring.websocket.protocols/sym`, or nil when that namespace is absent."
  [sym]
  (when-let [n (find-ns 'ring.websocket.protocols)]
    (ns-resolve n sym)))

(defn- extend-ring-socket!
  "Makes every peloton WebSocket satisfy Ring's Socket and AsyncSocket."
  []
  (let [socket @(ring-var 'Socket)
        async @(ring-var 'AsyncSocket)
        send (fn [^WebSocket s m]
               (if (instance? CharSequence m)
                 (.sendText s ^CharSequence m)
                 (.sendBinary s ^ByteBuffer m)))]
    (extend WebSocket
      socket
      {:-open? (fn [^WebSocket s] (.isOpen s))
       :-send send
       :-ping (fn [^WebSocket s data] (.ping s ^ByteBuffer data))
       :-pong (fn [^WebSocket s data] (.pong s ^ByteBuffer data))
       :-close (fn [^WebSocket s code reason] (.close s (int code) ^String reason))}
      async
      {:-send-async (fn [s m succeed fail]
                      (.onComplete ^Fut (send s m)
                                   (reify Fut$Callback
                                     (call [_ _ e] (if e (fail e) (succeed))))))})))

(def ^:private ring-state
  ;; nil: not looked for yet; :absent: not on the classpath; :extended: sockets satisfy it.
  (atom nil))

(defn- ring?
  "True when Ring's WebSocket protocols are loaded, making peloton sockets
  satisfy them the first time. Ring is optional: it is looked for once, and
  found later too if someone loads it afterwards."
  []
  (or (= :extended @ring-state)
      (locking ring-state
        (cond
          (= :extended @ring-state) true
          (find-ns 'ring.websocket.protocols) (do (extend-ring-socket!)
                                                  (reset! ring-state :extended)
                                                  true)
          (= :absent @ring-state) false
          :else (try
                  (require 'ring.websocket.protocols)
                  (extend-ring-socket!)
                  (reset! ring-state :extended)
                  true
                  (catch Exception e
                    (log/debug "ring.websocket.protocols is not on the classpath:"
                               (.getMessage e))
                    (reset! ring-state :absent)
                    false))))))

;; ---- listeners ----

(def ^:private listener-spec
  {:on-open [ifn? "a function of the socket"]
   :on-message [ifn? "a function of the socket and a message"]
   :on-ping [ifn? "a function of the socket and a ByteBuffer"]
   :on-pong [ifn? "a function of the socket and a ByteBuffer"]
   :on-error [ifn? "a function of the socket and a Throwable"]
   :on-close [ifn? "a function of the socket, a code and a reason"]})

(defn- as-fut
  "`x` when it is a fut, else nil: only a fut holds back the reads."
  [x]
  (when (instance? Fut x) x))

(defn- map-listener ^WebSocket$Listener [m]
  (options/check! "WebSocket listener" listener-spec m)
  (let [{:keys [on-open on-message on-ping on-pong on-error on-close]} m]
    (reify WebSocket$Listener
      (onOpen [_ ws] (when on-open (on-open ws)))
      (onText [_ ws text] (when on-message (as-fut (on-message ws text))))
      (onBinary [_ ws data] (when on-message (as-fut (on-message ws data))))
      (onPing [_ ws data] (if on-ping (on-ping ws data) (.pong ws data)))
      (onPong [_ ws data] (when on-pong (on-pong ws data)))
      (onError [_ ws t] (when on-error (on-error ws t)))
      (onClose [_ ws code reason] (when on-close (on-close ws code reason))))))

(defn- ring-listener ^WebSocket$Listener [l]
  (let [on-open @(ring-var 'on-open)
        on-message @(ring-var 'on-message)
        on-pong @(ring-var 'on-pong)
        on-error @(ring-var 'on-error)
        on-close @(ring-var 'on-close)
        ping-listener? (some-> (ring-var 'PingListener) deref (satisfies? l))
        on-ping (when ping-listener? @(ring-var 'on-ping))]
    (reify WebSocket$Listener
      (onOpen [_ ws] (on-open l ws))
      (onText [_ ws text] (as-fut (on-message l ws text)))
      (onBinary [_ ws data] (as-fut (on-message l ws data)))
      (onPing [_ ws data] (if on-ping (on-ping l ws data) (.pong ws data)))
      (onPong [_ ws data] (on-pong l ws data))
      (onError [_ ws t] (on-error l ws t))
      (onClose [_ ws code reason] (on-close l ws code reason)))))

(defn- ->listener
  "A Java listener for a map, a Ring Listener, a Java listener, or nil (streams)."
  ^WebSocket$Listener [l capacity]
  (ring?) ; so that the socket satisfies Ring's protocols whatever the listener
  (cond
    (nil? l) (WebSocketStreams. (int (or capacity 16)))
    (instance? WebSocket$Listener l) l
    ;; A record that implements Ring's Listener is a map too: the protocol comes first.
    (and (ring?) (instance? ^Class (:on-interface @(ring-var 'Listener)) l)) (ring-listener l)
    (map? l) (map-listener l)
    (and (ring?) (satisfies? @(ring-var 'Listener) l)) (ring-listener l)
    :else (throw (IllegalArgumentException.
                  (str "a WebSocket listener is a map of :on-... functions or a Ring "
                       "Listener, not " (pr-str l))))))

;; ---- options ----

(def ^:private common-spec
  {:max-frame-size [pos-int? "a positive number of bytes"]
   :max-message-size [pos-int? "a positive number of bytes"]
   :idle-timeout [#(and (number? %) (>= % 0)) "seconds (0 for none)"]
   :ping-interval [#(and (number? %) (>= % 0)) "seconds (0 for none)"]
   :close-timeout [#(and (number? %) (>= % 0)) "seconds"]
   :compression? [boolean? "true or false"]
   :compression-threshold [nat-int? "a number of bytes"]
   :compression-level [#(and (int? %) (<= 0 % 9)) "a deflate level 0-9"]
   :high-water-mark [pos-int? "a number of bytes"]
   :low-water-mark [pos-int? "a number of bytes"]
   :capacity [pos-int? "the streams' buffer size, a positive count"]})

(def ^:private server-spec
  (assoc common-spec :protocol [string? "a subprotocol name string"]))

(def ^:private client-spec
  (merge (assoc common-spec
                :headers [map? "a map of header names to values"]
                :subprotocols [#(and (sequential? %) (every? string? %)) "a sequence of strings"]
                :handshake-timeout [#(and (number? %) (>= % 0)) "seconds"]
                :reactor [#(instance? Reactor %) "a peloton.reactor.Reactor"])
         tls/client-spec))

(defn- ->options ^WebSocketOptions [opts]
  (let [o (WebSocketOptions.)
        ms (fn [s] (long (* 1000 s)))]
    (when-let [n (:max-frame-size opts)] (set! (.maxFrameSize o) (int n)))
    (when-let [n (:max-message-size opts)] (set! (.maxMessageSize o) (int n)))
    (when-let [t (:idle-timeout opts)] (set! (.idleTimeoutMillis o) (ms t)))
    (when-let [t (:ping-interval opts)] (set! (.pingIntervalMillis o) (ms t)))
    (when-let [t (:close-timeout opts)] (set! (.closeTimeoutMillis o) (ms t)))
    (when-let [t (:handshake-timeout opts)] (set! (.handshakeTimeoutMillis o) (ms t)))
    (when (some? (:compression? opts)) (set! (.compression o) (boolean (:compression? opts))))
    (when-let [n (:compression-threshold opts)] (set! (.compressionThreshold o) (int n)))
    (when-let [n (:compression-level opts)] (set! (.compressionLevel o) (int n)))
    (when-let [n (:high-water-mark opts)] (set! (.highWaterMark o) (long n)))
    (when-let [n (:low-water-mark opts)] (set! (.lowWaterMark o) (long n)))
    (.validate o)))

;; ---- server ----

(defn upgrade-request?
  "True when `conn` (a connection of `serve!`, or a Ring request map) asks for
  a WebSocket (`Upgrade: websocket`)."
  [conn]
  (if (instance? Exchange conn)
    (WebSocketUpgrade/isUpgrade conn)
    (let [h (get-in conn [:headers "upgrade"])]
      (boolean (and (string? h) (.contains (.toLowerCase ^String h) "websocket"))))))

(defn upgrade!
  "Answers `conn`'s WebSocket handshake and hands the connection to `listener`
  (see the namespace doc; nil for the streams `in` and `out`). Answers a fut of
  the socket. A request that is not a valid handshake is answered with 400,
  405, or 426 (`Sec-WebSocket-Version: 13`) and the fut fails with ex-data
  `{:kind :handshake :status 426 ...}`. Options as in the namespace doc, plus
  `:protocol`."
  ([conn listener] (upgrade! conn listener {}))
  ([^Exchange conn listener opts]
   (options/check! "upgrade!" server-spec opts)
   (WebSocketUpgrade/upgrade conn (->listener listener (:capacity opts)) (->options opts)
                             (:protocol opts))))

;; ---- client ----

(defn connect!
  "Opens a client WebSocket to `url` (\"ws://host[:port]/path\" or
  \"wss://...\" over TLS) and answers a fut of the socket, once open. `listener`
  as for `upgrade!` (nil for streams). Options: those of the namespace doc, and
  `:headers` (a map, e.g. Origin or Authorization), `:subprotocols` (offered in
  order; the agreed one is `(subprotocol socket)`), `:handshake-timeout` (10 s:
  connect, TLS and the 101), `:reactor`, and for `wss://` the HTTP client's TLS
  options (see `peloton.http/client`): `:ca-cert`, `:client-cert`,
  `:client-key`, `:client-key-password`, `:insecure?`, `:tls`; by default the
  server's certificate is checked against the JDK's trust store and its name
  against the host, and SNI is sent. Failures fail the fut with ex-data `{:kind
  k :url u}`, `k` one of `:refused`, `:reset`, `:timeout`, `:tls` (with
  `:reason` in words, e.g. \"untrusted certificate\"), `:handshake` (another
  status than 101, with `:status`) or `:malformed`."
  ([url listener] (connect! url listener {}))
  ([url listener opts]
   (try
     (options/check! "websocket!" client-spec opts)
     (let [req (WebSocketClient$Request. url)]
       (doseq [[k v] (:headers opts)] (.header req (name k) (str v)))
       (when-let [ps (:subprotocols opts)] (.subprotocols req ^List (vec ps)))
       (when-let [r (:reactor opts)] (.reactor req ^Reactor r))
       (when-let [t (tls/client-config "websocket!" opts)] (.tls req t))
       (.options req (->options opts))
       (WebSocketClient/connect req (->listener listener (:capacity opts))))
     (catch IllegalArgumentException e
       (Fut/failed e)))))

;; ---- sockets ----

(defn- ->bytes ^bytes [data]
  (cond (nil? data) (byte-array 0)
        (bytes? data) data
        (string? data) (.getBytes ^String data StandardCharsets/UTF_8)
        (instance? ByteBuffer data) (let [b (.duplicate ^ByteBuffer data)
                                          a (byte-array (.remaining b))]
                                      (.get b a)
                                      a)
        :else (throw (IllegalArgumentException.
                      (str "expected bytes, a ByteBuffer or a String, not " (class data))))))

(defn send!
  "Sends `message`: a String (or any CharSequence) as text, bytes or a
  ByteBuffer as binary. Answers a fut of true once the frame is written (wait
  on it to keep memory bounded), failed when the socket closed first."
  [^WebSocket socket message]
  (cond (instance? CharSequence message) (.sendText socket ^CharSequence message)
        (bytes? message) (.sendBinary socket ^bytes message)
        (instance? ByteBuffer message) (.sendBinary socket ^ByteBuffer message)
        :else (throw (IllegalArgumentException.
                      (str "a WebSocket message is a String, bytes or a ByteBuffer, not "
                           (class message))))))

(defn ping!
  "Sends a ping with up to 125 bytes of `data` (bytes, a String or a ByteBuffer)."
  ([socket] (ping! socket nil))
  ([^WebSocket socket data] (.ping socket (ByteBuffer/wrap (->bytes data)))))

(defn pong!
  "Sends a pong with up to 125 bytes of `data`."
  ([socket] (pong! socket nil))
  ([^WebSocket socket data] (.pong socket (ByteBuffer/wrap (->bytes data)))))

(defn close!
  "Starts the close handshake with `code` (default 1000) and `reason`; answers a
  fut of the close code once the TCP connection is closed (the peer's answer,
  or the close timeout)."
  ([socket] (close! socket 1000 ""))
  ([socket code] (close! socket code ""))
  ([^WebSocket socket code reason] (.close socket (int code) ^String (or reason ""))))

(defn abort!
  "Closes the TCP connection at once, without a close handshake."
  [^WebSocket socket]
  (.abort socket))

(defn open?
  "True until a close frame was sent or received or the connection broke."
  [^WebSocket socket]
  (.isOpen socket))

(defn closed
  "A fut of the close code, delivered once the connection is closed."
  [^WebSocket socket]
  (.closed socket))

(defn subprotocol
  "The subprotocol agreed in the handshake, or nil."
  [^WebSocket socket]
  (.subprotocol socket))

(defn- streams ^WebSocketStreams [^WebSocket socket]
  (let [a (.attachment socket)]
    (if (instance? WebSocketStreams a)
      a
      (throw (IllegalArgumentException.
              "this socket has a listener, not streams: open it with a nil listener")))))

(defn in
  "The stream of messages received on a socket opened without a listener."
  [socket]
  (.in (streams socket)))

(defn out
  "The stream of messages to send on a socket opened without a listener;
  closing it closes the socket."
  [socket]
  (.out (streams socket)))
