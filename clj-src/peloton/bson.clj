(ns peloton.bson
  "Clojure data <-> BSON bytes, through the Java codec `peloton.mongo.BsonCodec`.

  Read, write back, nothing changes: a decoded document is an ordered map
  (`peloton.mongo.OrderedMap`, an ordinary persistent map that keeps its key
  order at every size, through `assoc` too) and every BSON type decodes to a
  value that encodes back to the same type.

  How to write each BSON type on purpose:

    Int64        a Clojure integer (a Long): 5, (long x), (int64 x)
    Int32        an Integer: (int 5), (int32 5); Int32 fields decode as Integer
    Double       a double: 1.5, (double x)
    Decimal128   a BigDecimal: 1.5M, (decimal128 \"0.10\")
    string       a String (keywords, symbols and characters are written as strings)
    document     a map; build ordered ones with `ordered-map` (or `array-map` up
                 to 8 keys): commands need their name first
    array        a vector, list, seq or set (decodes as a vector)
    binary       a byte array (subtype 0), a UUID (subtype 4), (binary subtype bytes)
    ObjectId     (object-id)
    datetime     a java.util.Date or java.time.Instant (decodes as Date, milliseconds)
    boolean, null  true/false, nil
    regex        a java.util.regex.Pattern, or (regex pattern options) for one Java
                 cannot compile or with options Java lacks; decodes as a Pattern
                 when Java can compile it with its options, else as that value
    timestamp    (timestamp seconds increment)
    MinKey/MaxKey  (minkey), (maxkey)
    JavaScript   (code src), (code src scope-map) for code with scope
    deprecated   (bson-symbol s), (undefined), (db-pointer ns id) for old data

  Malformed input (bad lengths, invalid UTF-8, an unknown type) fails with a
  `peloton.mongo.MongoProtocolException` naming what is wrong. See the
  BsonCodec Javadoc for the whole type table."
  (:import (java.nio ByteBuffer)
           (org.bson BsonDbPointer BsonRegularExpression BsonTimestamp BsonUndefined
                     RawBsonDocument)
           (org.bson.json JsonMode JsonWriterSettings)
           (org.bson.types Binary Code Decimal128 MaxKey MinKey ObjectId)
           (peloton.mongo BsonCodec JavaScriptWithScope MongoProtocolException OrderedMap)))

(set! *warn-on-reflection* true)

(defn encode
  "Encodes the map `doc` as one BSON document; answers a byte array.
  Throws IllegalArgumentException for a value it cannot encode (naming its class)."
  ^bytes [doc]
  (BsonCodec/encode ^Object doc))

(defn decode
  "Decodes one BSON document from `b` (a byte array, which must hold exactly one document, or a
  ByteBuffer, read from its position, which is advanced past the document).
  Documents decode as ordered maps (key order kept at every size).
  Options: `:keywordize?` (default true) turns keys into keywords; false keeps strings.
  Throws peloton.mongo.MongoProtocolException for malformed input."
  ([b] (decode b nil))
  ([b {:keys [keywordize?] :or {keywordize? true}}]
   (if (instance? ByteBuffer b)
     (BsonCodec/decode ^ByteBuffer b (boolean keywordize?))
     (let [^bytes a b
           buf (ByteBuffer/wrap a)
           doc (BsonCodec/decode buf (boolean keywordize?))]
       (when (.hasRemaining buf)
         (throw (MongoProtocolException.
                 (str (.remaining buf) " bytes after the BSON document"))))
       doc))))

(defn object-id
  "Answers a new ObjectId, or the ObjectId of the 24-digit hex string `hex`
  (IllegalArgumentException when `hex` is not one)."
  (^ObjectId [] (ObjectId.))
  (^ObjectId [^String hex] (ObjectId. hex)))

(defn object-id?
  "True when `x` is an org.bson.types.ObjectId."
  [x]
  (instance? ObjectId x))

(defn add-object-id
  "Answers `doc` with a new ObjectId under :_id unless it already has an :_id."
  [doc]
  (if (contains? doc :_id) doc (assoc doc :_id (object-id))))

(defn ->json
  "Renders `doc` (a map, or BSON bytes) as MongoDB Extended JSON for debugging.
  `mode` is :relaxed (default, readable) or :canonical (keeps every type exact)."
  ([doc] (->json doc :relaxed))
  ([doc mode]
   (let [^bytes b (if (bytes? doc) doc (encode doc))
         settings (.build (.outputMode (JsonWriterSettings/builder)
                                       (if (= mode :canonical) JsonMode/EXTENDED JsonMode/RELAXED)))]
     (.toJson (RawBsonDocument. b) settings))))

;; ---- writing each BSON type on purpose

(defn ordered-map
  "An ordered map of the alternating `kvs` (keys in that order, at any size;
  `assoc` of a new key appends it): for documents and commands whose order
  matters, e.g. `(ordered-map :createIndexes \"users\" :indexes [...])`."
  [& kvs]
  (OrderedMap/of (object-array kvs)))

(defn int32
  "`n` as a BSON Int32 (a java.lang.Integer); throws when it does not fit."
  ^Integer [n]
  (Integer/valueOf (int n)))

(defn int64
  "`n` as a BSON Int64 (a java.lang.Long), which is what a Clojure integer
  literal already is."
  ^Long [n]
  (Long/valueOf (long n)))

(defn decimal128
  "`x` (a string such as \"0.10\", or a number) as a BSON Decimal128; strings
  keep their exact digits and also allow \"NaN\", \"Infinity\" and \"-0\"."
  [x]
  (if (string? x)
    (let [d (Decimal128/parse x)]
      (if (or (.isNaN d) (.isInfinite d))
        d
        (try (.bigDecimalValue d)
             (catch ArithmeticException _ d)))) ; -0, which BigDecimal cannot hold
    (bigdec x)))

(defn binary
  "BSON binary data of `subtype` (0-255; 0 is generic, 4 a UUID, 128 and up
  user-defined) holding the byte array `data`."
  ^Binary [subtype ^bytes data]
  (Binary. (unchecked-byte (int subtype)) data))

(defn regex
  "A BSON regular expression with `pattern` and `options` (letters such as
  \"imsux\", or \"l\" that Java lacks) kept exactly as given, for a pattern Java
  cannot compile (PCRE syntax) or options it does not know. For an ordinary
  one a java.util.regex.Pattern (`#\"...\"`) is simpler."
  (^BsonRegularExpression [^String pattern] (BsonRegularExpression. pattern))
  (^BsonRegularExpression [^String pattern ^String options] (BsonRegularExpression. pattern options)))

(defn timestamp
  "A BSON timestamp (replication's logical clock): `seconds` since the epoch
  and an `increment` within that second."
  ^BsonTimestamp [seconds increment]
  (BsonTimestamp. (int seconds) (int increment)))

(defn minkey
  "The BSON MinKey, which sorts before every other value."
  ^MinKey []
  (MinKey.))

(defn maxkey
  "The BSON MaxKey, which sorts after every other value."
  ^MaxKey []
  (MaxKey.))

(defn code
  "BSON JavaScript code `src`; with `scope` (a map of variables) JavaScript code
  with scope (deprecated by MongoDB, kept for old data)."
  ([^String src] (Code. src))
  ([^String src scope] (JavaScriptWithScope. src scope)))

(defn bson-symbol
  "A BSON symbol (deprecated by MongoDB; a Clojure symbol is written as a plain
  string instead)."
  ^org.bson.types.Symbol [^String s]
  (org.bson.types.Symbol. s))

(defn undefined
  "The BSON undefined value (deprecated by MongoDB; nil is written as null)."
  ^BsonUndefined []
  (BsonUndefined.))

(defn db-pointer
  "A BSON DBPointer (deprecated by MongoDB) to the document with ObjectId `id`
  (or its hex string) in namespace `ns` (\"db.collection\")."
  ^BsonDbPointer [^String ns id]
  (BsonDbPointer. ns (if (instance? ObjectId id) id (ObjectId. ^String id))))
