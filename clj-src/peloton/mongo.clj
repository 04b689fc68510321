(ns peloton.mongo
  "A non-blocking MongoDB client: every operation answers a fut (see
  `peloton.fut`), so `dofut` chains read top to bottom.

  Connect with `(connect! host port)` or `(connect! \"mongodb://...\")`; the
  answer is a fut of a client that keeps a small pool of connections per
  server on the reactor (the calling thread's, else the shared one) and finds
  the primary of a replica set by itself. Collections are named
  \"db.collection\" (or given as `[db collection]`); documents, filters and
  updates are Clojure maps with keyword keys (commands and sort orders need an
  order: use `array-map`). Requests travel as OP_MSG, so any current server,
  replica set or `mongos` works.

  Errors fail the fut with an ex-info: a server error (a duplicate key is
  code 11000) carries `:code`, `:code-name`, `:message`, `:write-errors` and
  the server's `:response`; a network failure carries `:type :connection` and
  `:address`. A fut never hangs: a silent server fails it within the socket
  timeout, and the next operation connects again.

  Names from the original Peloton: `connect!`, `insert!`, `update!`,
  `delete!`, `query-all!`, `query-stream!`, `close!`. Note that
  `peloton.stream` also has a `close!`: `:use` one of them with `:exclude`."
  (:require [clojure.tools.logging :as log]
            [peloton.options :as options])
  (:import (java.util List Map)
           (peloton.fut Stream)
           (peloton.mongo BulkOp FindOptions MongoClient MongoOptions ReadPreference)
           (peloton.reactor Reactor ReactorGroup)))

(set! *warn-on-reflection* true)

(def default-port
  "MongoDB's usual port."
  27017)

(defn- read-pref
  "The ReadPreference for `x` (:secondary-preferred, \"secondaryPreferred\", a
  ReadPreference), or nil for nil."
  ^ReadPreference [x]
  (cond
    (nil? x) nil
    (instance? ReadPreference x) x
    :else (ReadPreference/parse (name x))))

(defn- read-pref?
  "A read preference as connect! and reads take it."
  [x]
  (or (instance? ReadPreference x)
      (and (or (keyword? x) (string? x))
           (try (ReadPreference/parse (name x)) true (catch IllegalArgumentException _ false)))))

(defn- reactors?
  "What `:reactors` takes: a ReactorGroup, or a collection of Reactors."
  [x]
  (or (instance? ReactorGroup x) (and (coll? x) (every? #(instance? Reactor %) x))))

(def ^:private connect-spec
  {:database [string? "a database name string"]
   :user [string? "a user name string"]
   :password [string? "a password string"]
   :auth-source [string? "a database name string"]
   :auth-mechanism [#{"SCRAM-SHA-256" "SCRAM-SHA-1" "MONGODB-X509"}
                    "\"SCRAM-SHA-256\", \"SCRAM-SHA-1\" or \"MONGODB-X509\""]
   :replica-set [string? "a replica set name string"]
   :app-name [string? "an application name string"]
   :connect-timeout-ms [nat-int? "milliseconds, a non-negative integer (0: no limit)"]
   :socket-timeout-ms [nat-int? "milliseconds, a non-negative integer (0: no limit)"]
   :max-pool-size [nat-int? "a non-negative integer (0: no limit)"]
   :wait-queue-timeout-ms [nat-int? "milliseconds, a non-negative integer"]
   :max-wait-queue-size [pos-int? "a positive integer"]
   :write-concern [map? "a map such as {:w \"majority\" :j true}"]
   :read-concern [map? "a map such as {:level \"majority\"}"]
   :retry-reads? [boolean? "true or false"]
   :retry-writes? [boolean? "true or false"]
   :direct-connection? [boolean? "true or false"]
   :read-preference [read-pref? "one of :primary :primary-preferred :secondary :secondary-preferred :nearest"]
   :reactors [reactors? "a ReactorGroup or a collection of Reactors"]
   :tls? [boolean? "true or false"]
   :tls-ca-file [string? "the path of a PEM file of CA certificates"]
   :tls-certificate-key-file [string? "the path of a PEM file with the client certificate and key"]
   :tls-certificate-key-file-password [string? "the password of the key in :tls-certificate-key-file"]
   :tls-allow-invalid-certificates? [boolean? "true or false"]
   :tls-allow-invalid-hostnames? [boolean? "true or false"]
   :tls-insecure? [boolean? "true or false"]
   :srv-dns-server [#(and (string? %) (.startsWith ^String % "dns://"))
                    "a JNDI DNS URL such as \"dns://10.0.0.2:53\""]})

(defn- ->options ^MongoOptions [^MongoOptions o opts]
  (options/check! "connect!" connect-spec opts)
  (let [{:keys [database user password auth-source auth-mechanism replica-set app-name
                connect-timeout-ms socket-timeout-ms max-pool-size wait-queue-timeout-ms
                max-wait-queue-size write-concern read-concern retry-reads? retry-writes?
                direct-connection?
                read-preference
                tls? tls-ca-file tls-certificate-key-file tls-certificate-key-file-password
                tls-allow-invalid-certificates? tls-allow-invalid-hostnames? tls-insecure?
                srv-dns-server]} opts]
    (when (and (some? tls-insecure?) (or (some? tls-allow-invalid-certificates?)
                                         (some? tls-allow-invalid-hostnames?)))
      (throw (IllegalArgumentException.
              (str "connect!: :tls-insecure? cannot be given with :tls-allow-invalid-certificates?"
                   " or :tls-allow-invalid-hostnames?"))))
    (when database (set! (.database o) ^String database))
    (when user (set! (.user o) ^String user))
    (when password (set! (.password o) ^String password))
    (when auth-source (set! (.authSource o) ^String auth-source))
    (when auth-mechanism (set! (.authMechanism o) ^String auth-mechanism))
    (when replica-set (set! (.replicaSet o) ^String replica-set))
    (when app-name (set! (.appName o) ^String app-name))
    (when connect-timeout-ms (set! (.connectTimeoutMs o) (int connect-timeout-ms)))
    (when socket-timeout-ms (set! (.socketTimeoutMs o) (int socket-timeout-ms)))
    (when max-pool-size (set! (.maxPoolSize o) (int max-pool-size)))
    (when wait-queue-timeout-ms (set! (.waitQueueTimeoutMs o) (int wait-queue-timeout-ms)))
    (when max-wait-queue-size (set! (.maxWaitQueueSize o) (int max-wait-queue-size)))
    (when write-concern (set! (.writeConcern o) write-concern))
    (when read-concern (set! (.readConcern o) read-concern))
    (when (some? retry-reads?) (set! (.retryReads o) (boolean retry-reads?)))
    (when (some? retry-writes?) (set! (.retryWrites o) (boolean retry-writes?)))
    (when (some? direct-connection?) (set! (.directConnection o) (boolean direct-connection?)))
    (when read-preference (set! (.readPreference o) (read-pref read-preference)))
    (when (some? tls?) (set! (.tls o) (boolean tls?)))
    (when tls-ca-file (set! (.tlsCAFile o) ^String tls-ca-file))
    (when tls-certificate-key-file
      (set! (.tlsCertificateKeyFile o) ^String tls-certificate-key-file))
    (when tls-certificate-key-file-password
      (set! (.tlsCertificateKeyFilePassword o) ^String tls-certificate-key-file-password))
    (when (some? tls-allow-invalid-certificates?)
      (set! (.tlsAllowInvalidCertificates o) (boolean tls-allow-invalid-certificates?)))
    (when (some? tls-allow-invalid-hostnames?)
      (set! (.tlsAllowInvalidHostnames o) (boolean tls-allow-invalid-hostnames?)))
    (when (some? tls-insecure?)
      (set! (.tlsAllowInvalidCertificates o) (boolean tls-insecure?))
      (set! (.tlsAllowInvalidHostnames o) (boolean tls-insecure?)))
    (when srv-dns-server
      (when-not (.srvHost o)
        (throw (IllegalArgumentException.
                "connect!: :srv-dns-server is for a mongodb+srv:// URI")))
      (set! (.srvDnsServer o) ^String srv-dns-server))
    (.checkAuth o)
    o))

(defn- reactor-array
  "The reactors a client runs on: those given, else none (MongoClient then
  follows the calling reactor, see connect!)."
  ^"[Lpeloton.reactor.Reactor;" [rs]
  (into-array Reactor (if (instance? ReactorGroup rs) (.reactors ^ReactorGroup rs) rs)))

(defn connect!
  "Answers a fut of a client once a first connection is open (handshake and
  authentication done), or failed with what stopped it.

    (connect! \"127.0.0.1\" default-port)
    (connect! \"mongodb://user:pw@h1,h2/db?replicaSet=rs0&maxPoolSize=20\")
    (connect! \"127.0.0.1\" 27017 {:max-pool-size 4 :socket-timeout-ms 5000})

  Options (they override the URI's; an unknown key or a wrongly typed value is
  an error naming it): `:database` (for names without a \"db.\"), `:user`
  `:password` `:auth-source` `:auth-mechanism` (\"SCRAM-SHA-256\" or
  \"SCRAM-SHA-1\"), `:replica-set`, `:direct-connection?`, `:app-name`,
  `:connect-timeout-ms` (10000; 0 no limit), `:socket-timeout-ms` (30000; 0
  waits forever), `:max-pool-size` (10; 0 no limit), `:wait-queue-timeout-ms`
  (10000), `:max-wait-queue-size` (no limit), `:write-concern` (a map such as
  `{:w \"majority\"}`), `:read-concern` (such as `{:level \"majority\"}`),
  `:retry-reads?` (true: a read that meets a network or retryable server error
  is sent once more), `:retry-writes?` (true: on a replica set or mongos with
  sessions, a single-document write that meets a network or retryable error is
  sent once more with the same `lsid` and `txnNumber`, so the server applies
  it once), `:read-preference` (`:primary` (default),
  `:primary-preferred`, `:secondary`, `:secondary-preferred`, `:nearest`) and
  `:reactors` (a ReactorGroup or Reactors for connections opened off any
  reactor; default the calling thread's, else the shared one).

  Every URI option is applied or refused (see MongoOptions/fromUri): the
  write concern from `w`, `journal`, `wtimeoutMS`; `readConcernLevel`;
  `retryReads`; `retryWrites` (retryable writes, as `:retry-writes?`);
  `maxPoolSize=0`; a socket file as host
  (`mongodb://%2Ftmp%2Fmongodb-27017.sock`). Compression, tag sets,
  staleness bounds, load balancing and mechanisms other than SCRAM are refused
  with an error naming the option; invalid timeouts are logged and ignored.

  Reactors: an operation started on a reactor thread (an HTTP handler, say)
  runs on a connection of that reactor, opened there on first use, so its
  callbacks run where the exchange lives; from other threads connections go
  round robin over the client's reactors. A client made once at start-up
  therefore serves every server reactor without a thread hop.

  TLS, as the URI options `tls`, `tlsCAFile`, `tlsCertificateKeyFile`,
  `tlsCertificateKeyFilePassword`, `tlsAllowInvalidCertificates`,
  `tlsAllowInvalidHostnames`, `tlsInsecure`: `:tls?`, `:tls-ca-file` (PEM CAs
  trusted besides the JDK's), `:tls-certificate-key-file` (PEM client
  certificate and key in one file, for MONGODB-X509 too),
  `:tls-certificate-key-file-password`, `:tls-allow-invalid-certificates?`,
  `:tls-allow-invalid-hostnames?`, `:tls-insecure?` (both of the last two;
  not with either). TLS options while TLS is off are an error, never ignored.
  `:auth-mechanism \"MONGODB-X509\"` authenticates with the client certificate.

  `mongodb+srv://host/db` looks up the SRV and TXT records of the host (off the
  reactor, with the JDK's JNDI DNS provider and the system's DNS servers);
  `:srv-dns-server \"dns://10.0.0.2:53\"` asks that server instead (for the
  records and the targets' addresses), e.g. a private or test DNS server. Host
  names are always looked up off the reactor; IP literals are not looked up."
  ([uri] (connect! uri nil))
  ([host-or-uri port-or-opts]
   (if (number? port-or-opts)
     (connect! host-or-uri port-or-opts nil)
     (let [opts port-or-opts
           o (->options (MongoOptions/fromUri host-or-uri) opts)]
       (MongoClient/connect o (reactor-array (:reactors opts))))))
  ([host port opts]
   (let [o (->options (MongoOptions/of ^String host (int port)) opts)]
     (MongoClient/connect o (reactor-array (:reactors opts))))))

(def ^:private write-concern-opt [map? "a map such as {:w 1 :j true}"])
(def ^:private read-pref-opt
  [read-pref? "one of :primary :primary-preferred :secondary :secondary-preferred :nearest"])

(defn- opts
  "The keyword arguments `kvs` of operation `where` as a map, checked against
  `spec`: an unknown key or a wrongly typed value is an error naming it."
  [where spec kvs]
  (options/check! where spec (options/kv-map where kvs)))

(defn- coll-name ^String [coll]
  (if (vector? coll)
    (str (first coll) "." (second coll))
    (str coll)))

(defn- doc-list ^List [docs]
  (if (map? docs) [docs] (vec docs)))

(defn insert!
  "Inserts `docs` (a map or a collection of maps) into `coll`, adding an
  ObjectId `:_id` to each that has none; large inserts go in batches as the
  server allows. Answers a fut of the vector of `_id`s. With `:ordered? false`
  the server goes on past a failing document. `:write-concern` (a map such as
  `{:w 1 :j true}`) overrides the client's; with `{:w 0}` nothing waits for
  the server, which reports no errors."
  [^MongoClient conn coll docs & kvs]
  (let [{:keys [ordered? write-concern] :or {ordered? true}}
        (opts "insert!" {:ordered? [boolean? "true or false"] :write-concern write-concern-opt} kvs)]
    (.insert conn (coll-name coll) (doc-list docs) (boolean ordered?) write-concern)))

(defn update!
  "Updates the first document of `coll` matching `selector` with `update`
  (operators like `{:$set {...}}`, or a replacement document). `:upsert? true`
  inserts one when none matches; `:multi-update? true` updates every match.
  Answers a fut of the server's reply (`:n` matched, `:nModified`).
  `:write-concern` as in `insert!` (with `{:w 0}` the reply is
  `{:acknowledged false}`)."
  [^MongoClient conn coll selector update & kvs]
  (let [{:keys [upsert? multi-update? write-concern]}
        (opts "update!" {:upsert? [boolean? "true or false"] :multi-update? [boolean? "true or false"]
                         :write-concern write-concern-opt} kvs)]
    (.update conn (coll-name coll) selector update (boolean upsert?) (boolean multi-update?) write-concern)))

(defn delete!
  "Deletes every document of `coll` matching `selector` (only the first with
  `:single-remove? true`). Answers a fut of the server's reply (`:n`).
  `:write-concern` as in `update!`."
  [^MongoClient conn coll selector & kvs]
  (let [{:keys [single-remove? write-concern]}
        (opts "delete!" {:single-remove? [boolean? "true or false"] :write-concern write-concern-opt} kvs)]
    (.delete conn (coll-name coll) selector (boolean single-remove?) write-concern)))

(defn- bulk-op ^BulkOp [op]
  (let [[kind a b c] op]
    (case kind
      :insert (BulkOp/insert a)
      :update (let [c (options/check! "bulk-write! :update" {:upsert? [boolean? "true or false"]
                                                             :multi-update? [boolean? "true or false"]
                                                             :multi? [boolean? "true or false"]} c)]
                (BulkOp/update a b (boolean (:upsert? c)) (boolean (or (:multi-update? c) (:multi? c)))))
      :delete (let [b (options/check! "bulk-write! :delete" {:single-remove? [boolean? "true or false"]} b)]
                (BulkOp/delete a (boolean (:single-remove? b))))
      (throw (IllegalArgumentException. (str "unknown bulk operation " (pr-str op)))))))

(defn bulk-write!
  "Runs the operations `ops` against `coll`:

    [[:insert doc]
     [:update selector update {:upsert? true :multi-update? true}]
     [:delete selector {:single-remove? true}] ...]

  (the option maps may be left out). Consecutive operations of one kind go as
  one command. With `:ordered? true` (the default) it stops at the first
  error and sends nothing after it; with `:ordered? false` it sends everything
  and gathers the errors. Answers a fut of `{:nInserted :nMatched :nModified
  :nRemoved :nUpserted :upserted [{:index :_id}] :insertedIds {index id}}`;
  write errors fail it with an ex-info whose `:write-errors` carry `:index`,
  the position in `ops`, and whose `:response` is the result so far.
  `:write-concern` as in `insert!`."
  [^MongoClient conn coll ops & kvs]
  (let [{:keys [ordered? write-concern] :or {ordered? true}}
        (opts "bulk-write!" {:ordered? [boolean? "true or false"] :write-concern write-concern-opt} kvs)]
    (.bulkWrite conn (coll-name coll) ^List (mapv bulk-op ops) (boolean ordered?) write-concern)))

(def ^:private find-spec
  {:offset [nat-int? "a non-negative integer"]
   :limit [nat-int? "a non-negative integer (0: no limit)"]
   :fieldset [coll? "a collection of field names such as [:name :age]"]
   :projection [map? "a map such as {:name 1}"]
   :batch-size [nat-int? "a non-negative integer"]
   :sort [map? "an ordered map such as (array-map :age -1)"]
   :read-preference read-pref-opt})

(defn- find-options ^FindOptions [where kvs]
  (let [{:keys [offset limit fieldset projection batch-size sort read-preference]} (opts where find-spec kvs)
        o (FindOptions.)]
    (set! (.readPreference o) (read-pref read-preference))
    (set! (.projection o) (or projection (when (seq fieldset) (into {} (map (fn [f] [f 1])) fieldset))))
    (set! (.sort o) sort)
    (set! (.skip o) (int (or offset 0)))
    (set! (.limit o) (int (or limit 0)))
    (set! (.batchSize o) (int (or batch-size 0)))
    o))

(defn query-all!
  "Answers a fut of the vector of every document of `coll` matching `query`.
  Options: `:offset` (skip), `:limit`, `:fieldset` (fields to return, e.g.
  `[:name :age]`) or `:projection` (a map), `:sort` (an ordered map such as
  `(array-map :age -1)`), `:batch-size`, `:read-preference` (as in
  `connect!`; default the client's)."
  [^MongoClient conn coll query & kvs]
  (.find conn (coll-name coll) query (find-options "query-all!" kvs)))

(defn query-stream!
  "Like `query-all!`, but answers a fut of a stream (`peloton.stream`) of the
  documents, delivered once the first batch is in. Further batches are
  fetched only as the consumer takes (a slow consumer means no more requests);
  closing the stream early kills the server's cursor."
  [^MongoClient conn coll query & kvs]
  (.findStream conn (coll-name coll) query (find-options "query-stream!" kvs)))

(defn find-one
  "Answers a fut of the first document of `coll` matching `query`, or of nil.
  Options: `:fieldset` or `:projection`, `:read-preference`."
  [^MongoClient conn coll query & kvs]
  (let [{:keys [fieldset projection read-preference]}
        (opts "find-one" (select-keys find-spec [:fieldset :projection :read-preference]) kvs)]
    (.findOne conn (coll-name coll) query
              (or projection (when (seq fieldset) (into {} (map (fn [f] [f 1])) fieldset)))
              (read-pref read-preference))))

(defn count-docs
  "Answers a fut of the number of documents of `coll` matching `query` (all
  when omitted). Option: `:read-preference`."
  ([conn coll] (count-docs conn coll {}))
  ([^MongoClient conn coll query & kvs]
   (let [{:keys [read-preference]} (opts "count-docs" {:read-preference read-pref-opt} kvs)]
     (.count conn (coll-name coll) query (read-pref read-preference)))))

(defn distinct-values
  "Answers a fut of the vector of distinct values of field `k` (a keyword or
  string, dotted for nested fields) among documents of `coll` matching `query`.
  Option: `:read-preference`."
  ([conn coll k] (distinct-values conn coll k {}))
  ([^MongoClient conn coll k query & kvs]
   (.distinct conn (coll-name coll) (if (keyword? k) (subs (str k) 1) (str k)) query
              (read-pref (:read-preference (opts "distinct-values" {:read-preference read-pref-opt} kvs))))))

(defn aggregate
  "Runs the aggregation `pipeline` (a vector of stage maps) on `coll` and
  answers a fut of the vector of results, or, with `:stream? true`, a fut of a
  stream of them. `:batch-size` sets the size of each batch;
  `:read-preference` where it runs (a pipeline ending in `$out` or `$merge`
  always runs on the primary)."
  [^MongoClient conn coll pipeline & kvs]
  (let [{:keys [batch-size stream? read-preference]}
        (opts "aggregate" {:batch-size [nat-int? "a non-negative integer"] :stream? [boolean? "true or false"]
                           :read-preference read-pref-opt} kvs)
        n (int (or batch-size 0))
        rp (read-pref read-preference)]
    (if stream?
      (.aggregateStream conn (coll-name coll) (vec pipeline) n rp)
      (.aggregate conn (coll-name coll) (vec pipeline) n rp))))

(defn find-and-modify!
  "Atomically finds one document of `coll` and changes it. `opts`: `:query`,
  `:sort`, `:update` (or `:remove? true`), `:new?` (answer the document after
  the change), `:fields`, `:upsert?`, `:write-concern`. Answers a fut of the
  document, or of nil."
  [^MongoClient conn coll args]
  (options/check! "find-and-modify!" {:query [map? "a filter map"] :sort [map? "an ordered sort map"]
                                      :update [map? "an update map"] :remove? [boolean? "true or false"]
                                      :new? [boolean? "true or false"] :fields [map? "a projection map"]
                                      :upsert? [boolean? "true or false"] :write-concern write-concern-opt}
                  args)
  (let [{:keys [query sort update remove? new? fields upsert? write-concern]} args]
   (.findAndModify conn (coll-name coll)
                  (cond-> (array-map)
                    query (assoc :query query)
                    sort (assoc :sort sort)
                    update (assoc :update update)
                    remove? (assoc :remove true)
                    new? (assoc :new true)
                    fields (assoc :fields fields)
                    upsert? (assoc :upsert true)
                    write-concern (assoc :writeConcern write-concern)))))

(defn create-index!
  "Creates an index on `keys` (an ordered map such as `{:email 1}`) of `coll`;
  `:unique? true` (or `:unique true`, Monger's and the shell's spelling)
  makes it unique, `:name` names it. Answers a fut of the server's reply."
  [^MongoClient conn coll keys & kvs]
  (let [{:keys [unique? unique name]}
        (opts "create-index!" {:unique? [boolean? "true or false"] :unique [boolean? "true or false"]
                               :name [string? "an index name string"]} kvs)]
    (.createIndex conn (coll-name coll) ^Map keys (boolean (or unique? unique)) ^String name)))

(defn drop!
  "Drops the collection `coll`. Answers a fut of true, or of false when there
  was no such collection."
  [^MongoClient conn coll]
  (.drop conn (coll-name coll)))

(defn list-collections
  "Answers a fut of the vector of the collections of database `db` (maps with
  `:name`, `:type`, ...)."
  [^MongoClient conn db]
  (.listCollections conn (str db)))

(defn command!
  "Runs `cmd` (an ordered map, command name first, e.g. `(array-map :ping 1)`)
  on database `db`; answers a fut of the server's reply."
  [^MongoClient conn db cmd]
  (.command conn (str db) ^Map cmd))

(defn close!
  "Closes a client (idle connections at once, busy ones when their request is
  answered) or a stream from `query-stream!` or `aggregate` (cancels it: the
  documents not yet taken are dropped and the server cursor is killed)."
  [x]
  (cond
    (instance? MongoClient x) (.close ^MongoClient x)
    (instance? Stream x) (.cancel ^Stream x)
    :else (log/warn "close! ignores" (type x)))
  nil)
