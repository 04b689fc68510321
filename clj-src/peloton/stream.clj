(ns peloton.stream
  "Streams: asynchronous sequences with a bounded buffer and backpressure.

  A stream (a `peloton.fut.Stream`) carries values from producers to
  consumers. `(put! s v)` (or `(s v)`) answers a fut that delivers true once
  `v` is accepted into the buffer: at once while the buffer has room, later
  when a consumer takes, so a producer that waits for each put's fut (with
  `dofut`, say) slows down to the consumer's pace. It delivers false when the
  stream is closed. `(take! s)` answers a fut of the next value; once the
  stream is closed and drained, of the end-of-stream marker (test it with
  `eof?`); after `error!`, the values put before are still taken, then the
  take fails with the error.

  Nothing blocks (except `stream->seq`, for the REPL and tests); futs complete
  on the thread that made them completable, as everywhere in `peloton.fut`."
  (:import (java.util.concurrent CompletionStage)
           (java.util.function Function)
           (peloton.fut Dofut FnStream Fut Fut$Callback Stream)))

(set! *warn-on-reflection* true)

(defn stream
  "Answers a new open stream whose buffer holds `capacity` values (default 16;
  0 makes each put wait for a take)."
  (^Stream [] (FnStream. 16))
  (^Stream [capacity] (FnStream. (int capacity))))

(defn stream?
  "True when `x` is a stream."
  [x]
  (instance? Stream x))

(defn put!
  "Offers `v` to stream `s`. Answers a fut of true once `v` is accepted into
  the buffer, or of false when `s` is closed (then `v` is dropped)."
  ^Fut [^Stream s v]
  (.put s v))

(defn take!
  "Answers a fut of the next value of stream `s`: of the end-of-stream marker
  (see `eof?`) once `s` is closed and drained, or failed with the stream's
  error once the values before it are drained."
  ^Fut [^Stream s]
  (.take s))

(defn close!
  "Closes stream `s`: later puts answer false; consumers get the values already
  put, then end-of-stream. Closing again does nothing."
  [^Stream s]
  (.close s)
  nil)

(defn cancel-stream!
  "Ends stream `s` from the consumer's side: drops the values buffered or
  waiting to be put, answers waiting puts with false (so a producer stops at
  once) and waiting takes with end-of-stream. Use it, not `close!`, to stop
  consuming early. (Not `cancel!`: `peloton.reactor` has that name, and both
  namespaces are meant to be `:use`d together.)"
  [^Stream s]
  (.cancel s)
  nil)

(defn error!
  "Ends stream `s` with error `ex`: later puts answer false; consumers get the
  values already put, then a take fails with `ex`. Ignored when `s` is already
  closed."
  [^Stream s ^Throwable ex]
  (.error s ex)
  nil)

(defn eof?
  "True when `x` is the end-of-stream marker that `take!` answers after close."
  [x]
  (identical? x Stream/EOF))

(defn closed?
  "True once stream `s` was closed (by `close!` or `error!`)."
  [^Stream s]
  (.isClosed s))

(defn consume!
  "Calls `(f v)` for each value `v` of stream `s` until end-of-stream; when `f`
  answers a fut, waits for it before taking the next value. Answers a fut of
  true at end-of-stream, or failed with the stream's error or the first
  exception from `f` (or failed fut it answered); no value is taken after
  that. Stack-safe however many values are buffered."
  ^Fut [^Stream s f]
  (.consume s (reify Function
                (apply [_ v] (f v)))))

(defn run-do-stream
  "What `do-stream` expands to: calls `(f v)` for each value of `src` (see
  `do-stream`) and answers a fut of the end. A fut (or CompletionStage) is
  waited for without blocking; when it delivers something other than a
  stream, the answer fails with an IllegalArgumentException saying so."
  ^Fut [src f]
  (cond
    (stream? src) (consume! src f)
    (or (instance? Fut src) (instance? CompletionStage src))
    (.then (Dofut/toFut src)
           (reify Function
             (apply [_ v]
               (if (stream? v)
                 (consume! v f)
                 (throw (IllegalArgumentException.
                         (str "do-stream: expected a stream or a fut of a stream; the fut delivered "
                              (if (nil? v) "nil" (.getName (class v))))))))))
    :else (Dofut/run (fn [] (f src)))))

(defmacro do-stream
  "`(do-stream [x s] body...)` runs `body` with `x` bound to each value of
  stream `s` in turn (`x` may destructure), and answers a fut delivered with
  true at end-of-stream. `s` may also be a fut of a stream, as
  `peloton.mongo/query-stream!` answers: `do-stream` waits for it without
  blocking, then iterates the stream; a failed fut fails the answer, and a
  fut of something else fails it with an IllegalArgumentException. When
  `body` answers a fut, the next value is taken only once it is delivered. An
  exception from `body` or the stream's error fails the answer and stops the
  loop. When `s` is neither a stream nor a fut, `body` runs once with `x`
  bound to `s` (as in the original Peloton) and the answer follows `body`'s
  value."
  [bindings & body]
  (when-not (and (vector? bindings) (= 2 (count bindings)))
    (throw (IllegalArgumentException. "do-stream expects [binding stream]")))
  (let [[pat src] bindings]
    `(run-do-stream ~src (fn [~pat] ~@body))))

(defn stream->seq
  "A lazy seq of the values of stream `s`, ending at end-of-stream; realizing
  it blocks the calling thread (REPL and tests only). A stream error is thrown
  when reached."
  [^Stream s]
  (lazy-seq
   (let [v @(.take s)]
     (when-not (eof? v)
       (cons v (stream->seq s))))))

(defn seq->stream
  "A new stream that holds the values of `coll` (each waiting for the
  consumer, so a lazy `coll` is realized only as it is taken) and closes after
  the last. Stack-safe for long collections."
  ([coll] (seq->stream coll 16))
  ([coll capacity]
   (let [s (stream capacity)
         step (fn step [xs]
                (if-let [xs (seq xs)]
                  (.onComplete ^Fut (.put s (first xs))
                               (reify Fut$Callback
                                 (call [_ _ _] (step (rest xs)))))
                  (close! s)))]
     (step coll)
     s)))
