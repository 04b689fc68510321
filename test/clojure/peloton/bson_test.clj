(ns peloton.bson-test
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [peloton.bson :as bson])
  (:import (java.nio ByteBuffer)
           (java.util Arrays Date UUID)
           (java.util.regex Pattern)
           (org.bson BsonTimestamp)
           (peloton.mongo MongoProtocolException)
           (org.bson.types MaxKey MinKey ObjectId)))

;; ---- generators: every type the codec accepts, nested

(def gen-key (gen/one-of [gen/keyword gen/keyword-ns]))

(def gen-date (gen/fmap #(Date. (long %)) (gen/choose -62135596800000 253402300799999)))
(def gen-instant (gen/fmap (fn [[s n]] (java.time.Instant/ofEpochSecond (long s) (long n)))
                           (gen/tuple (gen/choose -62135596800 253402300799)
                                      (gen/choose 0 999999999))))
(def gen-pattern
  (gen/fmap (fn [[s flags]] (Pattern/compile (Pattern/quote s) (int flags)))
            (gen/tuple (gen/such-that #(not (.contains ^String % "\u0000")) gen/string-alphanumeric)
                       (gen/fmap #(reduce bit-or 0 %)
                                 (gen/vector (gen/elements [0 Pattern/CASE_INSENSITIVE Pattern/MULTILINE
                                                            Pattern/DOTALL Pattern/UNICODE_CASE
                                                            Pattern/COMMENTS]))))))
(def gen-bigdec (gen/fmap (fn [[u s]] (BigDecimal. (biginteger u) (int s)))
                          (gen/tuple gen/large-integer (gen/choose -300 300))))

(def gen-scalar
  (gen/one-of
   [gen/string
    gen/large-integer
    (gen/fmap int (gen/choose Integer/MIN_VALUE Integer/MAX_VALUE))
    (gen/fmap short gen/small-integer)
    (gen/fmap byte (gen/choose -128 127))
    (gen/double* {:NaN? false})
    (gen/fmap float (gen/double* {:NaN? false :infinite? false :min -1e30 :max 1e30}))
    gen/boolean
    (gen/return nil)
    gen-date
    gen-instant
    gen/uuid
    (gen/fmap (fn [_] (ObjectId.)) gen/nat)
    gen/bytes
    gen-pattern
    gen-bigdec
    (gen/fmap bigint gen/large-integer)
    (gen/fmap (fn [[t i]] (BsonTimestamp. (int t) (int i))) (gen/tuple gen/small-integer gen/nat))
    (gen/elements [(MinKey.) (MaxKey.)])
    gen-key
    gen/char]))

(def gen-value
  (gen/recursive-gen
   (fn [inner]
     (gen/one-of [(gen/vector inner 0 4)
                  (gen/fmap #(apply list %) (gen/vector inner 0 4))
                  (gen/fmap seq (gen/not-empty (gen/vector inner 1 4)))
                  (gen/set inner {:max-elements 4})
                  (gen/map gen-key inner {:max-elements 5})]))
   gen-scalar))

(def gen-doc (gen/map gen-key gen-value {:max-elements 10}))

;; ---- what decoding should give back, and a type-exact comparable form

(defn expected
  "The decoded form the codec documents for an encoded value."
  [x]
  (cond
    (map? x) (into {} (map (fn [[k v]] [k (expected v)])) x)
    (coll? x) (mapv expected x)
    (or (instance? Short x) (instance? Byte x)) (int x)
    (instance? Float x) (double x)
    (instance? clojure.lang.BigInt x) (long x)
    (keyword? x) (subs (str x) 1)
    (char? x) (str x)
    (instance? java.time.Instant x) (Date. (.toEpochMilli ^java.time.Instant x))
    :else x))

(defn comparable
  "Turns arrays and patterns into values `=` can compare, and tags numbers with their class."
  [x]
  (cond
    (map? x) (into {} (map (fn [[k v]] [k (comparable v)])) x)
    (vector? x) [:vector (mapv comparable x)]
    (bytes? x) [:bytes (vec x)]
    (instance? Pattern x) [:pattern (.pattern ^Pattern x) (.flags ^Pattern x)]
    (number? x) [(class x) x]
    :else x))

(deftest round-trip-property
  (let [r (tc/quick-check 300
                          (prop/for-all [doc gen-doc]
                            (= (comparable (expected doc))
                               (comparable (bson/decode (bson/encode doc)))))
                          :seed 20240607)]
    (is (:pass? r) (pr-str (:shrunk r)))))

(deftest string-keys-property
  (let [r (tc/quick-check 100
                          (prop/for-all [doc (gen/map gen/string-ascii gen/large-integer {:max-elements 10})]
                            (let [doc (into {} (remove #(.contains ^String (key %) "\u0000")) doc)]
                              (= doc (bson/decode (bson/encode doc) {:keywordize? false}))))
                          :seed 7)]
    (is (:pass? r) (pr-str (:shrunk r)))))

(deftest known-bytes
  ;; The BSON spec's example {"BSON": ["awesome", 5.05, 1986]}; 1986 as an Integer is Int32.
  (let [expected [49 0 0 0 4 66 83 79 78 0 38 0 0 0 2 48 0 8 0 0 0 97 119 101 115 111 109
                  101 0 1 49 0 51 51 51 51 51 51 20 64 16 50 0 194 7 0 0 0 0]
        b (bson/encode {:BSON ["awesome" 5.05 (int 1986)]})]
    (is (= expected (map #(bit-and 0xff %) b)))
    (is (= {:BSON ["awesome" 5.05 1986]} (bson/decode b)))))

(deftest key-order-kept
  (let [cmd (array-map :insert "users" :documents [] :ordered true :$db "test" :a 1 :b 2 :c 3)
        back (bson/decode (bson/encode cmd))]
    (is (= (keys cmd) (keys back)))
    (is (= "insert" (-> (bson/->json cmd :canonical) (subs 2 8))))))

(deftest integer-widths
  (testing "Long is Int64, Integer Int32 (element type byte after the 4-byte length)"
    (is (= 0x12 (aget (bson/encode {:x 1}) 4)))
    (is (= 0x10 (aget (bson/encode {:x (int 1)}) 4))))
  (testing "each decodes as what it was written from, so a read and write back keeps the width"
    (is (instance? Integer (:x (bson/decode (bson/encode {:x (int 1)})))))
    (is (instance? Long (:x (bson/decode (bson/encode {:x 1})))))
    (is (= 0x10 (aget (bson/encode (bson/decode (bson/encode {:x (int 1)}))) 4)))
    (is (instance? Integer (:x (bson/decode (bson/encode {:x (bson/int32 7)})))))
    (is (thrown? ArithmeticException (bson/int32 3000000000))))
  (is (= 12345678901234567890M (:x (bson/decode (bson/encode {:x 12345678901234567890N}))))
      "a BigInt past Long goes as decimal128, back as BigDecimal"))

(deftest rejects-unknown-types
  (is (thrown-with-msg? IllegalArgumentException #"java.lang.Object"
                        (bson/encode {:x (Object.)})))
  (is (thrown-with-msg? IllegalArgumentException #"Ratio" (bson/encode {:x 1/3})))
  (is (thrown-with-msg? IllegalArgumentException #"java.lang.Long" (bson/encode {1 2})))
  (is (thrown? IllegalArgumentException (bson/encode [1 2])))
  (is (thrown? IllegalArgumentException (bson/encode {:x (Pattern/compile "a" Pattern/LITERAL)}))))

(deftest byte-buffer-decoding-advances
  (let [a (bson/encode {:a 1})
        b (bson/encode {:b "two"})
        buf (ByteBuffer/wrap (byte-array (concat a b)))]
    (is (= {:a 1} (bson/decode buf)))
    (is (= (alength a) (.position buf)))
    (is (= {"b" "two"} (bson/decode buf {:keywordize? false})))
    (is (not (.hasRemaining buf)))))

(deftest malformed-input-is-a-protocol-error
  (let [good (bson/encode {:a [1 "x" {:b 2.5}] :c (UUID/randomUUID) :d "hello"})
        rnd (java.util.Random. 42)]
    (is (thrown? MongoProtocolException (bson/decode (byte-array 3))))
    (is (thrown? MongoProtocolException (bson/decode (Arrays/copyOf good (dec (alength good))))))
    (is (thrown? MongoProtocolException (bson/decode (byte-array (concat good [0])))))
    (testing "random corruption gives a value or a MongoProtocolException, nothing else"
      (is (every? true?
                  (for [_ (range 2000)]
                    (let [b (aclone ^bytes good)]
                      (dotimes [_ (inc (.nextInt rnd 3))]
                        (aset-byte b (.nextInt rnd (alength b)) (unchecked-byte (.nextInt rnd 256))))
                      (try (bson/decode b) true
                           (catch MongoProtocolException _ true)
                           (catch Throwable t (throw (ex-info "unexpected" {:bytes (vec b)} t)))))))))))

(deftest deep-nesting-refused
  (let [deep (reduce (fn [m _] {:a m}) {} (range 1000))]
    (is (thrown? IllegalArgumentException (bson/encode deep)))))

(deftest object-ids
  (let [id (bson/object-id)]
    (is (bson/object-id? id))
    (is (not (bson/object-id? (str id))))
    (is (= id (bson/object-id (str id))))
    (is (= id (:_id (bson/decode (bson/encode {:_id id})))))
    (is (thrown? IllegalArgumentException (bson/object-id "zz")))
    (is (bson/object-id? (:_id (bson/add-object-id {:a 1}))))
    (is (= {:_id 5} (bson/add-object-id {:_id 5})))))

(deftest json-for-debugging
  (is (= "{\"a\": 1, \"b\": [\"x\"]}" (bson/->json {:a 1 :b [:x]})))
  (is (= "{\"a\": {\"$numberLong\": \"1\"}}" (bson/->json {:a 1} :canonical))))
