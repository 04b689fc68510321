(ns peloton.options
  "One checker for every public options map of Peloton: an unknown key is an
  error naming it and the closest known key, and a value of the wrong type is an
  error naming the option and what it expects. Nothing is silently ignored.

  A spec maps each known key to `[pred expects]`, where `pred` is a predicate
  on the value and `expects` says in words what it accepts:

      (def server-spec {:port [port? \"a port number 0-65535\"]
                        :host [string? \"a host name or address string\"]})
      (check! \"serve!\" server-spec {:prot 8080})
      ;; => IllegalArgumentException: serve!: unknown option :prot (did you mean :port?) ...

  `nil` values are allowed for every key (they mean \"the default\"), so callers
  can pass options through without filtering."
  (:require [clojure.string :as str]))

(set! *warn-on-reflection* true)

(defn- distance
  "Levenshtein edit distance between two strings."
  ^long [^String a ^String b]
  (let [n (.length b)]
    (loop [i 0
           prev (vec (range (inc n)))]
      (if (= i (.length a))
        (long (peek prev))
        (recur (inc i)
               (reduce (fn [row j]
                         (conj row (min (inc (long (row (dec j))))
                                        (inc (long (prev j)))
                                        (+ (long (prev (dec j)))
                                           (if (= (.charAt a i) (.charAt b (dec j))) 0 1)))))
                       [(inc i)]
                       (range 1 (inc n))))))))

(defn closest
  "The key of `known` (a collection of keywords) whose name is nearest to `k`'s
  by edit distance, or nil when none is within half the name's length (plus 2);
  failing that, the shortest known name that `k`'s name begins (`:index` for
  `:index-file`)."
  [k known]
  (let [s (name k)
        scored (for [c known] [(distance s (name c)) c])
        [d best] (first (sort-by (fn [[d c]] [d (name c)]) scored))]
    (if (and best (<= (long d) (+ 2 (quot (count s) 2))))
      best
      (when (<= 3 (count s))
        (first (sort-by (comp count name) (filter #(str/starts-with? (name %) s) known)))))))

(defn check!
  "Checks the options map `opts` against `spec` (key -> `[pred expects]`) and
  answers `opts`. Throws `IllegalArgumentException` naming `where` (the
  function or option group, e.g. \"serve!\") for a non-map, for an unknown key
  (with the closest known key, when one is near), or for a non-nil value that
  fails its predicate (with what the option expects and the value given)."
  [where spec opts]
  (when-not (or (nil? opts) (map? opts))
    (throw (IllegalArgumentException.
            (str where ": options must be a map, got " (pr-str opts)))))
  (doseq [[k v] opts]
    (if-let [[pred expects] (get spec k)]
      (when (and (some? v) (not (pred v)))
        (throw (IllegalArgumentException.
                (str where ": option " (pr-str k) " expects " expects
                     ", got " (pr-str v)
                     (when (some? v) (str " (" (.getName (class v)) ")"))))))
      (let [near (when (keyword? k) (closest k (keys spec)))]
        (throw (IllegalArgumentException.
                (str where ": unknown option " (pr-str k)
                     (when near (str " (did you mean " (pr-str near) "?)"))
                     "; known options: "
                     (str/join " " (map pr-str (sort-by name (keys spec))))))))))
  opts)

(defn kv-map
  "Turns trailing keyword arguments (`[:limit 10 :sort {...}]`) into a map,
  refusing an odd count with an error naming `where`, so a missing value is
  not silently taken as a key."
  [where kvs]
  (when (odd? (count kvs))
    (throw (IllegalArgumentException.
            (str where ": options must be key/value pairs, got an odd number: "
                 (pr-str kvs)))))
  (apply hash-map kvs))

;; ---- predicates for specs (clojure.core has pos-int?, nat-int?, boolean?) ----

(defn port?
  "A TCP port number 0-65535 (0 picks a free port)."
  [x]
  (and (integer? x) (<= 0 (long x) 65535)))

(defn pos-num?
  "A positive number (a duration in seconds may be fractional)."
  [x]
  (and (number? x) (pos? (double x))))

(defn nat-num?
  "A non-negative number."
  [x]
  (and (number? x) (<= 0.0 (double x))))
