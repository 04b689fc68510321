(ns peloton.bson-fidelity-test
  "Read, write back, nothing changes: every BSON type and every key order
  survives Peloton's codec, checked against the official driver (org.bson) as
  the oracle and against cases built from the BSON corpus spec."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [clojure.test.check :as tc]
            [clojure.test.check.generators :as gen]
            [clojure.test.check.properties :as prop]
            [peloton.bson :as bson])
  (:import (java.util Date UUID)
           (java.util.regex Pattern)
           (org.bson BsonArray BsonBinary BsonBinaryWriter BsonBoolean BsonDateTime BsonDbPointer
                     BsonDecimal128 BsonDocument BsonDouble BsonInt32 BsonInt64 BsonJavaScript
                     BsonJavaScriptWithScope BsonMaxKey BsonMinKey BsonNull BsonObjectId
                     BsonRegularExpression BsonString BsonSymbol BsonTimestamp BsonUndefined
                     RawBsonDocument)
           (org.bson.codecs BsonDocumentCodec EncoderContext)
           (org.bson.io BasicOutputBuffer)
           (org.bson.types Binary Code Decimal128 MaxKey MinKey ObjectId Symbol)
           (peloton.mongo JavaScriptWithScope MongoProtocolException OrderedMap)))

(set! *warn-on-reflection* true)

(defn- hex->bytes ^bytes [^String h]
  (let [h (str/replace h #"\s" "")]
    (byte-array (for [i (range 0 (count h) 2)]
                  (unchecked-byte (Integer/parseInt (subs h i (+ i 2)) 16))))))

(defn- bytes->hex [^bytes b]
  (apply str (map #(format "%02X" (bit-and 0xff %)) b)))

;; ---- the oracle: a Clojure value -> the BsonValue it must become (written from the spec's type list)

(declare ->bson)

(defn- regex-options [^Pattern p]
  (let [f (.flags p)]
    (str (when (pos? (bit-and f Pattern/CASE_INSENSITIVE)) "i")
         (when (pos? (bit-and f Pattern/MULTILINE)) "m")
         (when (pos? (bit-and f Pattern/DOTALL)) "s")
         (when (pos? (bit-and f Pattern/UNICODE_CASE)) "u")
         (when (pos? (bit-and f Pattern/COMMENTS)) "x"))))

(defn- ->bson-doc ^BsonDocument [m]
  (let [d (BsonDocument.)]
    (doseq [[k v] m] (.append d (if (keyword? k) (subs (str k) 1) (str k)) (->bson v)))
    d))

(defn- ->bson [x]
  (cond
    (nil? x) BsonNull/VALUE
    (string? x) (BsonString. x)
    (instance? Long x) (BsonInt64. (long x))
    (instance? Integer x) (BsonInt32. (int x))
    (instance? Double x) (BsonDouble. (double x))
    (instance? BigDecimal x) (BsonDecimal128. (Decimal128. ^BigDecimal x))
    (instance? Decimal128 x) (BsonDecimal128. x)
    (boolean? x) (BsonBoolean/valueOf (boolean x))
    (instance? Date x) (BsonDateTime. (.getTime ^Date x))
    (uuid? x) (BsonBinary. ^UUID x)
    (bytes? x) (BsonBinary. ^bytes x)
    (instance? Binary x) (BsonBinary. (.getType ^Binary x) (.getData ^Binary x))
    (instance? ObjectId x) (BsonObjectId. x)
    (instance? Pattern x) (BsonRegularExpression. (.pattern ^Pattern x) (regex-options x))
    (instance? MinKey x) (BsonMinKey.)
    (instance? MaxKey x) (BsonMaxKey.)
    (instance? Code x) (BsonJavaScript. (.getCode ^Code x))
    (instance? JavaScriptWithScope x) (BsonJavaScriptWithScope. (.code ^JavaScriptWithScope x)
                                                                 (->bson-doc (.scope ^JavaScriptWithScope x)))
    (instance? Symbol x) (BsonSymbol. (.getSymbol ^Symbol x))
    (or (instance? BsonRegularExpression x) (instance? BsonTimestamp x) (instance? BsonDbPointer x)
        (instance? BsonUndefined x)) x
    (map? x) (->bson-doc x)
    (vector? x) (BsonArray. ^java.util.List (mapv ->bson x))
    :else (throw (ex-info "no oracle for" {:class (class x)}))))

(defn- driver-bytes
  "The official driver's encoding of a BsonDocument."
  ^bytes [^BsonDocument d]
  (let [out (BasicOutputBuffer.)]
    (with-open [w (BsonBinaryWriter. out)]
      (.encode (BsonDocumentCodec.) w d (.build (EncoderContext/builder))))
    (.toByteArray out)))

(defn- driver-read ^BsonDocument [^bytes b]
  (.decode (RawBsonDocument. b) (BsonDocumentCodec.)))

;; ---- a type- and order-exact form of decoded data

(defn- shape [x]
  (cond
    (map? x) [:doc (mapv (fn [[k v]] [k (shape v)]) x)] ; in the map's own order
    (vector? x) [:array (mapv shape x)]
    (bytes? x) [:bytes (vec x)]
    (instance? Pattern x) [:pattern (.pattern ^Pattern x) (.flags ^Pattern x)]
    (instance? Binary x) [:binary (.getType ^Binary x) (vec (.getData ^Binary x))]
    (instance? JavaScriptWithScope x) [:code-w-s (.code ^JavaScriptWithScope x) (shape (.scope ^JavaScriptWithScope x))]
    (and (instance? Double x) (Double/isNaN x)) [Double :nan]
    :else [(class x) x]))

;; ---- generators of canonical values: each is what decoding gives back, of every BSON type

(def ^:private gen-name (gen/such-that #(not (str/includes? % "\u0000")) gen/string 50))

(def ^:private gen-bigdec
  (gen/fmap (fn [[u s]] (BigDecimal. (biginteger u) (int s)))
            (gen/tuple gen/large-integer (gen/choose -300 300))))

(def ^:private gen-scalar
  (gen/one-of
   [gen/string
    gen/large-integer
    (gen/fmap int (gen/choose Integer/MIN_VALUE Integer/MAX_VALUE))
    gen/double
    gen-bigdec
    (gen/elements (map #(Decimal128/parse %) ["NaN" "Infinity" "-Infinity" "-0" "-0E+3"]))
    gen/boolean
    (gen/return nil)
    (gen/fmap #(Date. (long %)) gen/large-integer)
    gen/uuid
    gen/bytes
    (gen/fmap (fn [[t b]] (Binary. (unchecked-byte t) ^bytes b))
              (gen/tuple (gen/elements [1 2 3 5 6 7 8 0x80 0xff]) gen/bytes))
    (gen/fmap (fn [b] (Binary. (byte 4) ^bytes b)) (gen/such-that #(not= 16 (alength ^bytes %)) gen/bytes))
    (gen/fmap (fn [_] (ObjectId.)) gen/nat)
    (gen/fmap (fn [[s f]] (Pattern/compile (Pattern/quote s) (int f)))
              (gen/tuple gen-name (gen/fmap #(reduce bit-or 0 %)
                                            (gen/vector (gen/elements [Pattern/CASE_INSENSITIVE Pattern/MULTILINE
                                                                       Pattern/DOTALL Pattern/UNICODE_CASE
                                                                       Pattern/COMMENTS])))))
    ;; what Java cannot take: PCRE syntax, or an option letter it lacks
    (gen/fmap (fn [[s o]] (BsonRegularExpression. (str "(?P<g>" (Pattern/quote s) ")") o))
              (gen/tuple gen-name (gen/elements ["" "i" "imx" "lsu"])))
    (gen/fmap (fn [s] (BsonRegularExpression. (Pattern/quote s) "il")) gen-name)
    (gen/fmap (fn [[t i]] (BsonTimestamp. (int t) (int i))) (gen/tuple gen/int gen/int))
    (gen/elements [(MinKey.) (MaxKey.)])
    (gen/fmap #(Code. %) gen/string)
    (gen/fmap #(Symbol. %) gen/string)
    (gen/fmap (fn [[ns _]] (BsonDbPointer. ns (ObjectId.))) (gen/tuple gen/string gen/nat))
    (gen/return (BsonUndefined.))]))

(def ^:private gen-key (gen/fmap keyword (gen/such-that #(and (seq %) (not (str/includes? % "/")))
                                                        gen-name 50)))

(defn- gen-ordered [gv]
  (gen/fmap (fn [kvs] (OrderedMap/of (object-array (mapcat identity kvs))))
            (gen/vector-distinct-by first (gen/tuple gen-key gv) {:max-elements 20})))

(def ^:private gen-value
  (gen/recursive-gen
   (fn [inner]
     (gen/one-of [(gen/vector inner 0 4)
                  (gen-ordered inner)
                  (gen/fmap (fn [[c scope]] (JavaScriptWithScope. c scope))
                            (gen/tuple gen/string (gen-ordered gen-scalar)))]))
   gen-scalar))

(def ^:private gen-doc (gen-ordered gen-value))

(deftest driver-and-peloton-agree-on-random-documents
  (let [r (tc/quick-check
           300
           (prop/for-all [doc gen-doc]
             (let [ours (bson/encode doc)
                   oracle (->bson doc)
                   theirs (driver-bytes oracle)]
               (and
                ;; Peloton writes exactly the bytes the driver writes for the same typed document
                (= (bytes->hex theirs) (bytes->hex ours))
                ;; the driver reads Peloton's bytes back as the same typed, ordered document
                (= (vec (.keySet (driver-read ours))) (vec (.keySet ^BsonDocument oracle)))
                (= oracle (driver-read ours))
                ;; Peloton reads the driver's bytes back as the same type in the same order
                (= (shape doc) (shape (bson/decode theirs)))
                ;; and writes what it read back unchanged
                (= (bytes->hex theirs) (bytes->hex (bson/encode (bson/decode theirs)))))))
           :seed 20261201)]
    (is (:pass? r) (pr-str (:shrunk r)))))

(deftest order-kept-at-every-size
  (doseq [n [0 1 8 9 16 100 1000]]
    (let [ks (mapv #(keyword (str "k" (- n %))) (range n)) ; not in any sorted or hash order
          doc (apply bson/ordered-map (interleave ks (range)))
          back (bson/decode (bson/encode doc))]
      (is (= ks (vec (keys back))) (str n " keys"))
      (is (map? back))
      (is (= doc back))
      (is (= (into {} doc) back) "equal to a hash map with the same entries")
      (is (= (hash (into {} doc)) (hash back)))
      (when (pos? n)
        (is (= 0 (get back (first ks))))
        (is (= (dec n) ((last ks) back)))
        (testing "assoc of a new key appends, of an old one keeps its place; dissoc closes the gap"
          (let [m (-> back (assoc :new 1) (assoc (first ks) :changed) (dissoc (second ks)))]
            (is (= (concat [(first ks)] (drop 2 ks) [:new]) (keys m)))
            (is (= :changed (get m (first ks))))
            (is (= (concat [(first ks)] (drop 2 ks) [:new])
                   (keys (bson/decode (bson/encode m)))))))))))

(deftest order-kept-for-string-keys-and-duplicates
  (let [doc (driver-bytes (doto (BsonDocument.)
                            (.append "z" (BsonInt32. 1)) (.append "a" (BsonInt32. 2))
                            (.append "m" (BsonInt32. 3)) (.append "b" (BsonInt32. 4))
                            (.append "y" (BsonInt32. 5)) (.append "c" (BsonInt32. 6))
                            (.append "x" (BsonInt32. 7)) (.append "d" (BsonInt32. 8))
                            (.append "w" (BsonInt32. 9)) (.append "e" (BsonInt32. 10))))]
    (is (= ["z" "a" "m" "b" "y" "c" "x" "d" "w" "e"] (keys (bson/decode doc {:keywordize? false})))))
  (testing "a repeated key keeps its first place and its last value, as assoc would"
    ;; {"a": 1, "b": 2, "a": 3}
    (let [b (hex->bytes "1A000000 10 6100 01000000 10 6200 02000000 10 6100 03000000 00")]
      (is (= [[:a 3] [:b 2]] (vec (bson/decode b)))))))

;; ---- cases built from the BSON corpus spec (canonical bytes must come back byte for byte)

(def ^:private corpus-canonical
  {"every type, deprecated ones too (multi-type-deprecated)"
   (str "3B020000075F69640057E193D7A9CC81B4027498B50E53796D626F6C000700000073796D626F6C0002537472696E67000700"
        "0000737472696E670010496E743332002A00000012496E743634002A0000000000000001446F75626C6500000000000000F0"
        "BF0542696E617279001000000003A34C38F7C3ABEDC8A37814A992AB8DB60542696E61727955736572446566696E65640005"
        "0000008001020304050D436F6465000E00000066756E6374696F6E2829207B7D000F436F64655769746853636F7065001B00"
        "00000E00000066756E6374696F6E2829207B7D00050000000003537562646F63756D656E74001200000002666F6F00040000"
        "00626172000004417272617900280000001030000100000010310002000000103200030000001033000400000010340005"
        "000000001154696D657374616D7000010000002A0000000B5265676578007061747465726E0000094461746574696D6545"
        "706F6368000000000000000000094461746574696D65506F73697469766500FFFFFF7F00000000094461746574696D654E"
        "656761746976650000000080FFFFFFFF085472756500010846616C736500000C4442506F696E746572000E00000064622E"
        "636F6C6C656374696F6E0057E193D7A9CC81B4027498B1034442526566003D0000000224726566000B000000636F6C6C65"
        "6374696F6E00072469640057FD71E96E32AB4225B723FB02246462000900000064617461626173650000FF4D696E6B6579"
        "007F4D61786B6579000A4E756C6C0006556E646566696E65640000")
   "regex with options" "0F0000000B610061626300696D0000"
   "regex with slash" "110000000B610061622F636400696D0000"
   "regex as the value of $regex" "270000000B247265676578007061747465726E000002246F7074696F6E73000300000069780000"
   "old binary, subtype 2" "13000000056100060000000202000000FFFF00"
   "user-defined binary subtype 0x80" "0F0000000561000200000080FFFF00"
   "UUID binary of the wrong length stays binary (subtype 4, 2 bytes)" "0F0000000561000200000004FFFF00"
   "int32 -1" "0C000000106900FFFFFFFF00"
   "timestamp with high-order bit set" "10000000116100FFFFFFFFFFFFFFFF00"
   "decimal128 -0" "180000001364000000000000000000000000000000408000"
   "decimal128 NaN" "180000001364000000000000000000000000000000007C00"
   "double -0.0" "10000000016400000000000000008000"
   "code with scope" "2A0000000F61002200000005000000616263640015000000106100010000000262000200000062000000"
   "string with an embedded NUL" "120000000261000600000061620063640000"})

(deftest corpus-canonical-bytes-round-trip
  (doseq [[what h] corpus-canonical]
    (let [b (hex->bytes h)]
      (is (= (bytes->hex b) (bytes->hex (bson/encode (bson/decode b)))) what)
      (is (= (bytes->hex b) (bytes->hex (bson/encode (bson/decode b {:keywordize? false})))) what))))

(deftest corpus-types-decode-to-their-own-values
  (let [d (bson/decode (hex->bytes (corpus-canonical "every type, deprecated ones too (multi-type-deprecated)"))
                       {:keywordize? false})]
    (is (= ["_id" "Symbol" "String" "Int32" "Int64" "Double" "Binary" "BinaryUserDefined" "Code"
            "CodeWithScope" "Subdocument" "Array" "Timestamp" "Regex" "DatetimeEpoch" "DatetimePositive"
            "DatetimeNegative" "True" "False" "DBPointer" "DBRef" "Minkey" "Maxkey" "Null" "Undefined"]
           (keys d)))
    (is (instance? Symbol (d "Symbol")))
    (is (instance? Integer (d "Int32")))
    (is (instance? Long (d "Int64")))
    (is (= 3 (.getType ^Binary (d "Binary"))) "legacy UUID subtype 3 is kept as binary")
    (is (= -128 (.getType ^Binary (d "BinaryUserDefined"))))
    (is (= (Code. "function() {}") (d "Code")))
    (is (= (JavaScriptWithScope. "function() {}" {}) (d "CodeWithScope")))
    (is (= [1 2 3 4 5] (d "Array")))
    (is (every? #(instance? Integer %) (d "Array")))
    (is (= (BsonTimestamp. 42 1) (d "Timestamp")))
    (is (= (BsonDbPointer. "db.collection" (ObjectId. "57e193d7a9cc81b4027498b1")) (d "DBPointer")))
    (is (= ["$ref" "$id" "$db"] (keys (d "DBRef"))))
    (is (instance? BsonUndefined (d "Undefined")))
    (is (contains? d "Null"))
    (is (nil? (d "Null")))))

(deftest regex-java-cannot-compile-is-kept
  (testing "PCRE named group syntax: a BSON regex value, not an exception"
    (let [b (driver-bytes (doto (BsonDocument.) (.append "r" (BsonRegularExpression. "(?P<y>a)" "i"))))
          r (:r (bson/decode b))]
      (is (= (BsonRegularExpression. "(?P<y>a)" "i") r))
      (is (= (bytes->hex b) (bytes->hex (bson/encode {:r r}))))))
  (testing "an option Java does not know (l) is kept"
    (let [b (driver-bytes (doto (BsonDocument.) (.append "r" (BsonRegularExpression. "^a" "il"))))]
      (is (= (BsonRegularExpression. "^a" "il") (:r (bson/decode b))))
      (is (= (bytes->hex b) (bytes->hex (bson/encode (bson/decode b)))))))
  (testing "one Java can take decodes as a Pattern with its flags; unordered options come back sorted"
    (let [p (:a (bson/decode (hex->bytes "100000000B6100616263006D69780000")))] ; "abc" options "mix"
      (is (instance? Pattern p))
      (is (= (bit-or Pattern/CASE_INSENSITIVE Pattern/MULTILINE Pattern/COMMENTS) (.flags ^Pattern p)))
      (is (= "100000000B610061626300696D780000" (bytes->hex (bson/encode {:a p})))))))

(deftest constructors-write-each-type
  (let [d (bson/decode (bson/encode (bson/ordered-map
                                     :i32 (bson/int32 5) :i64 (bson/int64 5) :dec (bson/decimal128 "0.10")
                                     :nan (bson/decimal128 "NaN") :negz (bson/decimal128 "-0")
                                     :bin (bson/binary 0x80 (byte-array [1 2])) :re (bson/regex "(?P<y>a)" "l")
                                     :ts (bson/timestamp 10 2) :min (bson/minkey) :max (bson/maxkey)
                                     :js (bson/code "f()") :jss (bson/code "g()" {:x (int 1)})
                                     :sym (bson/bson-symbol "s") :undef (bson/undefined)
                                     :ptr (bson/db-pointer "db.c" "57e193d7a9cc81b4027498b1"))))
        types (-> (driver-read (bson/encode d)) (.entrySet)
                  (->> (map (fn [^java.util.Map$Entry e] [(.getKey e) (str (.getBsonType ^org.bson.BsonValue (.getValue e)))]))))]
    (is (= [["i32" "INT32"] ["i64" "INT64"] ["dec" "DECIMAL128"] ["nan" "DECIMAL128"] ["negz" "DECIMAL128"]
            ["bin" "BINARY"] ["re" "REGULAR_EXPRESSION"] ["ts" "TIMESTAMP"] ["min" "MIN_KEY"] ["max" "MAX_KEY"]
            ["js" "JAVASCRIPT"] ["jss" "JAVASCRIPT_WITH_SCOPE"] ["sym" "SYMBOL"] ["undef" "UNDEFINED"]
            ["ptr" "DB_POINTER"]]
           types))
    (is (= 0.10M (:dec d)))
    (is (= 2 (.scale ^BigDecimal (:dec d))) "digits kept exactly")
    (is (= (JavaScriptWithScope. "g()" {:x (int 1)}) (:jss d)))))

;; ---- malformed input: a clear MongoProtocolException, never an altered value

(def ^:private malformed
  {"invalid UTF-8 in a string (lone continuation byte)" ["0E00000002610002000000800000" #"UTF-8"]
   "overlong UTF-8 encoding of '/'" ["0F00000002610003000000C0AF0000" #"UTF-8"]
   "UTF-8 encoded surrogate" ["1000000002610004000000EDA0800000" #"UTF-8"]
   "truncated multi-byte sequence" ["0F00000002610003000000E2820000" #"UTF-8"]
   "invalid UTF-8 in a key" ["0C00000010FF0001000000 00" #"UTF-8"]
   "boolean byte 2" ["090000000861000200" #"boolean"]
   "string length 0" ["0D000000026100000000000000" #"string length"]
   "string length past the document" ["0E00000002610030000000000000" #"past the end"]
   "string without its terminating 0" ["0E00000002610002000000616200" #"0 byte"]
   "unknown element type 0x14" ["0C0000001461000100000000" #"unknown element type"]
   "document length too long for its content" ["0D000000106100010000000000" #"content ends"]
   "embedded document overruns its parent" ["140000000378000D000000106100010000000000" #"does not fit"]
   "old binary inner length disagrees" ["13000000056100060000000203000000FFFF00" #"inner length"]
   "code with scope length disagrees" ["2B0000000F6100230000000500000061626364001500000010610001000000026200020000006200000000" #"code with scope"]
   "embedded null in regex flags" ["100000000B61006162630069006D0000" nil]})

(deftest malformed-bson-is-a-protocol-error
  (doseq [[what [h msg]] malformed]
    (let [b (hex->bytes h)
          e (try (bson/decode b) nil (catch MongoProtocolException e e) (catch Throwable t t))]
      (is (instance? MongoProtocolException e) (str what ": " (pr-str e)))
      (when (and msg (instance? MongoProtocolException e))
        (is (re-find msg (.getMessage ^Exception e)) what)))))

(deftest valid-utf-8-is-kept-exactly
  (doseq [s ["" "ascii" "é" "✓" "𝄞 clef" "\u0000inside" "\uFFFD literal replacement char"]]
    (let [k (str/replace s "\u0000" "") ; a key cannot hold NUL, a string value can
          b (driver-bytes (doto (BsonDocument.) (.append k (BsonString. s))))]
      (is (= [[k s]] (vec (bson/decode b {:keywordize? false})))))))
