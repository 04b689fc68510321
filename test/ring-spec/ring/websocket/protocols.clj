(ns ring.websocket.protocols
  "Ring's WebSocket protocols as the Ring SPEC (1.11+) names them, for tests:
  the real ones come from Clojars' org.ring-clojure/ring-websocket-protocols,
  which is not reachable from the build machine. Only the names and arities
  matter to Peloton, which looks them up at run time.")

(defprotocol Listener
  "WebSocket events; the socket satisfies Socket."
  (on-open [listener socket] "The socket opened.")
  (on-message [listener socket message] "A String or ByteBuffer message.")
  (on-pong [listener socket data] "A pong with a ByteBuffer.")
  (on-error [listener socket throwable] "An error.")
  (on-close [listener socket code reason] "The socket closed."))

(defprotocol PingListener
  "Pings, for listeners that answer them themselves."
  (on-ping [listener socket data] "A ping with a ByteBuffer."))

(defprotocol Socket
  "Sending on a WebSocket."
  (-open? [socket] "True while open.")
  (-send [socket message] "Sends a String or ByteBuffer.")
  (-ping [socket data] "Sends a ping with a ByteBuffer.")
  (-pong [socket data] "Sends a pong with a ByteBuffer.")
  (-close [socket code reason] "Closes with a code and reason."))

(defprotocol AsyncSocket
  "Sending with callbacks."
  (-send-async [socket message succeed fail]
    "Sends; calls (succeed) or (fail throwable)."))
