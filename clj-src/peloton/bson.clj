(ns peloton.bson
  "Clojure data <-> BSON bytes, through the Java codec `peloton.mongo.BsonCodec`.

  Maps encode as documents (keyword, string or symbol keys, written in the map's order: build
  commands with `array-map` so the command name stays first), sequential collections and sets
  as arrays, and decode back to maps with keyword keys and vectors. Int32 decodes as Long,
  dates as java.util.Date, binary subtype 4 as UUID, decimal128 as BigDecimal. See the
  BsonCodec Javadoc for the whole type table."
  (:import (java.nio ByteBuffer)
           (org.bson RawBsonDocument)
           (org.bson.json JsonMode JsonWriterSettings)
           (org.bson.types ObjectId)
           (peloton.mongo BsonCodec)))

(set! *warn-on-reflection* true)

(defn encode
  "Encodes the map `doc` as one BSON document; answers a byte array.
  Throws IllegalArgumentException for a value it cannot encode (naming its class)."
  ^bytes [doc]
  (BsonCodec/encode ^Object doc))

(defn decode
  "Decodes one BSON document from `b` (a byte array, which must hold exactly one document, or a
  ByteBuffer, read from its position, which is advanced past the document).
  Options: `:keywordize?` (default true) turns keys into keywords; false keeps strings.
  Throws org.bson.BsonSerializationException for malformed input."
  ([b] (decode b nil))
  ([b {:keys [keywordize?] :or {keywordize? true}}]
   (if (instance? ByteBuffer b)
     (BsonCodec/decode ^ByteBuffer b (boolean keywordize?))
     (let [^bytes a b
           buf (ByteBuffer/wrap a)
           doc (BsonCodec/decode buf (boolean keywordize?))]
       (when (.hasRemaining buf)
         (throw (org.bson.BsonSerializationException.
                 (str (.remaining buf) " bytes after the document"))))
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
