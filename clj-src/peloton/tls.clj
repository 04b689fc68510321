(ns peloton.tls
  "The TLS client options shared by the HTTP client (`peloton.http/client`) and
  the WebSocket client (`peloton.http/websocket!`), so `https://` and `wss://`
  are configured alike: certificates verified against the JDK's trust store and
  host names checked unless told otherwise."
  (:import (javax.net.ssl SSLContext)
           (peloton.transport TlsConfig TlsConfig$ClientOptions)))

(set! *warn-on-reflection* true)

(def client-spec
  "The TLS options of a client, as a `peloton.options` spec (key ->
  `[predicate what-it-expects]`)."
  {:ca-cert [string? "the path of a PEM file of CA certificates"]
   :client-cert [string? "the path of a PEM client certificate (chain)"]
   :client-key [string? "the path of the client certificate's PEM private key"]
   :client-key-password [string? "the password of an encrypted :client-key"]
   :insecure? [boolean? "true or false"]
   :tls [#(or (instance? TlsConfig %) (instance? SSLContext %))
         "a peloton.transport.TlsConfig or a javax.net.ssl.SSLContext"]})

(defn client-config
  "The `TlsConfig` for `opts` (checked against `client-spec` already), offering
  ALPN `http/1.1`, or nil when no TLS option is given (the caller's default: the
  JDK's trust store). `who` names the caller in errors. `:insecure? true` with
  `:ca-cert` is an IllegalArgumentException; an unreadable file is an error
  naming it."
  ^TlsConfig [who opts]
  (let [{:keys [ca-cert client-cert client-key client-key-password insecure? tls]} opts]
    (cond
      (instance? TlsConfig tls) tls
      (instance? SSLContext tls) (.alpn (TlsConfig/client ^SSLContext tls true)
                                        (into-array String ["http/1.1"]))
      (or ca-cert client-cert client-key insecure?)
      (let [o (TlsConfig$ClientOptions.)]
        (when (and insecure? ca-cert)
          (throw (IllegalArgumentException.
                  (str who ": :insecure? true checks nothing, so :ca-cert makes no sense with it"))))
        (set! (.caCert o) ^String ca-cert)
        (set! (.clientCert o) ^String client-cert)
        (set! (.clientKey o) ^String client-key)
        (set! (.clientKeyPassword o) ^String client-key-password)
        (when insecure? (.insecure o))
        (.alpn (TlsConfig/client o) (into-array String ["http/1.1"]))))))
