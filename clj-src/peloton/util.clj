(ns peloton.util
  "Small helpers shared by Peloton's namespaces: UTF-8 encoding, safe calls."
  (:require [clojure.tools.logging :as log])
  (:import (java.nio.charset StandardCharsets)))

(set! *warn-on-reflection* true)

(defn utf8-encode
  "Encodes string `s` as UTF-8 bytes."
  ^bytes [^String s]
  (.getBytes s StandardCharsets/UTF_8))

(defn utf8-decode
  "Decodes UTF-8 bytes `b` (optionally `len` bytes from `offset`) into a String."
  (^String [^bytes b] (String. b StandardCharsets/UTF_8))
  (^String [^bytes b offset len] (String. b (int offset) (int len) StandardCharsets/UTF_8)))

(defmacro safe
  "Evaluates `body`; an exception is logged and swallowed, answering nil."
  [& body]
  `(try ~@body
        (catch Throwable t#
          (log/error t# "uncaught exception in safe block")
          nil)))

(defn ->str
  "A keyword's or symbol's name, else `(str x)`."
  ^String [x]
  (if (instance? clojure.lang.Named x) (name x) (str x)))
