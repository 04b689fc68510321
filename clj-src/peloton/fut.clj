(ns peloton.fut
  "Futs: single-assignment asynchronous results, and macros that make code
  which waits on them read top to bottom.

  The model. A fut (a `peloton.fut.Fut`; the ones made here are
  `peloton.fut.FnFut`s, which are also functions) starts pending and completes once,
  from any thread, with either a value or an error. Nothing here blocks or
  starts a thread: code that needs a fut's value registers a callback, and the
  callback runs on the thread that completes the fut (or at once, on the
  calling thread, when the fut is already complete), unless you give an
  `java.util.concurrent.Executor` (a Peloton reactor is one). Callback dispatch
  goes through a per-thread trampoline, so even a million futs completing one
  another synchronously never overflow the stack.

  Delivering: `(fut)` makes one; `(f v)` or `(deliver! f v)` delivers `v`;
  `(fail! f ex)` fails it. Errors travel as the original exception object (with
  its stack trace), never wrapped, until something handles them (`recover`) or
  a blocking `@f` rethrows them.

  Waiting without blocking: `dofut` is `let` for futs: each binding may be a
  fut (or a CompletionStage, or a plain value) and is evaluated only after the
  previous binding's value is known; the body runs when all are known, and the
  whole form answers a fut of the body's value. The first error short-circuits.
  `dofut-concurrent` is its sibling that starts every binding as soon as the
  bindings it mentions are known, so independent loads overlap. `all`/`zip`
  wait for many futs at once; `then`, `recover`, `always` chain callbacks.

  Blocking: `@f` and `(deref f ms timeout-val)` block the calling thread: for
  the REPL and tests only, never on a reactor thread or inside a callback.

  Times here are in milliseconds (`with-timeout`, `deref`), as Clojure's
  `deref` counts them; `peloton.reactor`, `peloton.http` and `peloton.httpd`
  take seconds, as the original's `later` did."
  (:require [clojure.walk :as walk])
  (:import (java.util List)
           (java.util.concurrent Executor ScheduledExecutorService)
           (java.util.function Function)
           (peloton.fut Dofut FnFut Fut Fut$Callback)))

(set! *warn-on-reflection* true)

(defn fut
  "Answers a new pending fut. Deliver it with `(f v)` or `(deliver! f v)`, fail
  it with `(fail! f ex)`; wait for it with `dofut`, `on-complete!` or
  `subscribe!` (or, at the REPL, `@f`). Calling `(f)` with no argument answers
  the fut itself."
  ^Fut []
  (FnFut.))

(defn fut?
  "True when `x` is a fut."
  [x]
  (instance? Fut x))

(defn deliver!
  "Completes fut `f` with value `v` and runs its callbacks (on this thread,
  unless they were given an executor). With more than one value, delivers them
  as a vector. Answers true when this call completed `f`, false when it was
  already complete (unlike `(f v)`, which throws then)."
  ([^Fut f v] (.deliver f v))
  ([^Fut f v & more] (.deliver f (into [v] more))))

(defn fail!
  "Completes fut `f` with the error `ex` (a Throwable), which consumers see as
  the same object. Answers true when this call completed `f`."
  [^Fut f ^Throwable ex]
  (.fail f ex))

(defn- callback ^Fut$Callback [cb]
  (reify Fut$Callback
    (call [_ v e] (cb v e))))

(defn on-complete!
  "Calls `(cb value error)` once when fut `f` completes: `error` is nil when
  `f` delivered `value`, else `value` is nil. Runs on the completing thread, or
  at once on this thread when `f` is already complete; with `executor` (any
  `java.util.concurrent.Executor`, such as a reactor) it runs there instead. An
  exception thrown by `cb` is logged. Answers `f`."
  ([^Fut f cb]
   (.onComplete f (callback cb)))
  ([^Fut f ^Executor executor cb]
   (.onComplete f executor (callback cb))))

(defn subscribe!
  "Calls `(cb value)` once when fut `f` delivers a value (at once when it
  already has). `cb` is not called when `f` fails: use `on-complete!` or
  `recover` to see errors. Answers `f`."
  [^Fut f cb]
  (.onComplete f (reify Fut$Callback
                   (call [_ v e] (when-not e (cb v))))))

(defn success-fut
  "Answers a fut already delivered with `v`."
  ^Fut [v]
  (Fut/of v))

(defn error-fut
  "Answers a fut already failed with `ex`."
  ^Fut [^Throwable ex]
  (Fut/failed ex))

(defn ->fut
  "Coerces `x` to a fut: a fut as it is, a `java.util.concurrent.CompletionStage`
  (a CompletableFuture, say) as a fut of its outcome, anything else as a fut
  delivered with `x`."
  ^Fut [x]
  (Dofut/toFut x))

(defn- function ^Function [g]
  (reify Function
    (apply [_ v] (g v))))

(defn then
  "Answers a fut of `(g v)` where `v` is the value of `x` (a fut or a plain
  value); when `g` answers a fut, its value. With more functions, chains them
  in order, like `->` for futs. An error (a failed fut, or an exception thrown
  by a function) skips the remaining functions and fails the answer with that
  same exception."
  ^Fut [x g & gs]
  (reduce (fn [^Fut f g] (.then f (function g)))
          (.then (->fut x) (function g))
          gs))

(defn recover
  "Answers a fut with the value of `x`, or, when `x` fails with error `e`, with
  `(handler e)` (awaited when it is a fut). An exception thrown by `handler`
  fails the answer. The asynchronous `catch`."
  ^Fut [x handler]
  (.recover (->fut x) (function handler)))

(defn always
  "Answers a fut with the outcome of `x`, after calling `(thunk)` when `x`
  completes either way. When `thunk` throws, the answer fails with that
  exception. The asynchronous `finally`."
  ^Fut [x thunk]
  (.ensure (->fut x) ^Runnable thunk))

(defn all
  "Answers a fut of a vector of the values of `xs` (futs, completion stages or
  plain values), in order, once all are known; it fails with the first error to
  occur. All the futs run concurrently: `all` only waits."
  ^Fut [xs]
  (Dofut/all ^objects (to-array xs)))

(defn zip
  "`(zip a b c)` is `(all [a b c])`: a fut of the vector of their values."
  ^Fut [& xs]
  (all xs))

(defn with-timeout
  "Fails with a timeout unless `x` completes within `ms` MILLISECONDS (as `deref`).
  Answers a fut with the outcome of `x`, or failed with a
  `peloton.fut.FutTimeoutException` (a `java.util.concurrent.TimeoutException`
  whose message gives the timeout) when `x` is not complete in time. `x` itself is left alone. The timer runs on `scheduler`, or on
  one shared daemon thread named peloton-fut-timer; the timeout's callbacks run
  on the timer's thread, so give them an executor if they are slow."
  (^Fut [x ms]
   (.withTimeout (->fut x) (long ms)))
  (^Fut [x ms ^ScheduledExecutorService scheduler]
   (.withTimeout (->fut x) (long ms) scheduler)))

(defn to-fut
  "Turns `f`, a function that takes a completion callback as its last argument
  (or at position `arg-idx`), into a function of the other arguments that
  answers a fut. The fut is delivered with the callback's argument, or a vector
  of its arguments when it is called with several (nil with none)."
  ([f]
   (fn [& xs]
     (let [r (FnFut.)
           done (fn [& ys] (.deliver r (if (next ys) (vec ys) (first ys))))]
       (apply f (concat xs [done]))
       r)))
  ([f arg-idx]
   (fn [& xs]
     (let [r (FnFut.)
           done (fn [& ys] (.deliver r (if (next ys) (vec ys) (first ys))))]
       (apply f (concat (take arg-idx xs) [done] (drop arg-idx xs)))
       r))))

(defn- check-bindings [bindings form-name]
  (when-not (and (vector? bindings) (even? (count bindings)))
    (throw (IllegalArgumentException.
            (str form-name " requires a vector of an even number of binding forms")))))

(defmacro dofut
  "`let` for futs: `(dofut [pattern expr ...] body...)` answers a fut of the
  body's value and never blocks.

  Each `expr` may answer a fut, a CompletionStage or a plain value. Bindings
  are evaluated in order, each only after the previous binding's value is
  known (so they run one after another: see `dofut-concurrent` to overlap
  them); each pattern destructures as in `let`, a repeated name shadows as in
  `let`, and every binding is evaluated and awaited even when nothing refers to
  it. The body runs once every value is known; when it answers a fut, the
  answer follows that fut.

  Errors: the first error, be it a failed fut, an exception thrown by an
  `expr`, by destructuring or by the body, stops the rest (later bindings and
  the body are not evaluated) and fails the answered fut with that same
  exception object. `dofut` itself never throws, so a `try` around a `dofut`
  form catches nothing from it: handle errors on the answer with `recover` or
  `always`. A `try` inside one `expr` or inside the body works as usual on the
  plain code it wraps, but sees a fut only as a value, not its later failure.
  The body and each `expr` run inside functions, so `recur` cannot cross them.

  Where things run: the first `expr` runs at once, on the calling thread; each
  later one runs where the previous binding's fut was completed (or at once,
  when it already was). Loops written as functions that call themselves
  through `dofut` are stack-safe.

  Example (the original Peloton's):
    (dofut [a (load-a)    ; a fut delivered with 1 after 1 s
            b (load-b)]   ; started after a: delivered with 2 after 2 more s
      (println (+ a b)))  ; prints 3 after about 3 s"
  [bindings & body]
  (check-bindings bindings "dofut")
  (if (empty? bindings)
    `(Dofut/run (fn [] ~@body))
    (let [result (gensym "result")
          build (fn build [[[pat expr] & more]]
                  `(Dofut/step ~result
                               (fn [] ~expr)
                               (fn [~pat] ~@(if more [(build more)] body))
                               ~(nil? more)))]
      `(let [~result (FnFut.)]
         ~(build (partition 2 bindings))
         ~result))))

(defmacro let-fut
  "The original Peloton's first name for `dofut`; exactly `dofut`."
  [bindings & body]
  `(dofut ~bindings ~@body))

(defn- bound-names [pat]
  (set (take-nth 2 (destructure [pat nil]))))

(defn- symbols-in [form]
  (set (filter symbol? (tree-seq coll? seq form))))

(defmacro dofut-concurrent
  "Like `dofut`, but starts each binding's `expr` as soon as the bindings it
  refers to are known, instead of after the binding before it. Bindings that
  do not refer to one another run concurrently:

    (dofut-concurrent [a (load-a)      ; both started at once
                       b (load-b)
                       c (combine a b)] ; started when a and b are known
      (println (+ a b)))               ; after max(load-a, load-b), not the sum

  A binding refers to an earlier one when its `expr` (or a default in its
  destructuring pattern) mentions a name that the earlier one binds; this is
  read from the code, conservatively: a mention inside a nested `let` or `fn`
  that shadows the name still counts, which only costs concurrency. Side
  effects of independent bindings therefore happen in no promised order beyond
  this: bindings with nothing to wait for start at once, in written order, on
  the calling thread; the others start on the thread that completed the last
  of their dependencies.

  Errors: the body waits for every binding; the first error to happen fails the
  answer with that exception. Bindings already started are not stopped;
  bindings that depend on a failed one are never evaluated. Shadowing,
  destructuring, body flattening and `try` behave as in `dofut`."
  [bindings & body]
  (check-bindings bindings "dofut-concurrent")
  (let [pairs (vec (partition 2 bindings))
        futs (vec (repeatedly (count pairs) #(gensym "binding")))
        vs (gensym "vals")
        ;; index of the latest binding before i that binds sym, or nil
        binder (fn [i sym]
                 (first (filter #(contains? (bound-names (first (pairs %))) sym)
                                (range (dec i) -1 -1))))
        deps-of (fn [i]
                  (let [[pat expr] (pairs i)
                        refs (into (symbols-in expr)
                                   (remove (bound-names pat) (symbols-in pat)))]
                    (vec (sort (distinct (keep #(binder i %) refs))))))
        rebind (fn [idxs]
                 (vec (mapcat (fn [pos idx] [(first (pairs idx)) `(aget ~vs ~pos)])
                              (range) idxs)))
        start (fn [i]
                (let [deps (deps-of i)]
                  `(Dofut/after (object-array ~(mapv futs deps))
                                (fn [~(with-meta vs {:tag 'objects})]
                                  (let ~(rebind deps) ~(second (pairs i)))))))
        all-idx (vec (range (count pairs)))]
    `(let ~(vec (mapcat (fn [i] [(futs i) (start i)]) all-idx))
       (Dofut/after (object-array ~futs)
                    (fn [~(with-meta vs {:tag 'objects})]
                      (let ~(rebind all-idx) ~@body))))))

(defn- future-ref? [x]
  (and (symbol? x) (nil? (namespace x))
       (let [n (name x)] (and (> (count n) 1) (.startsWith n "?")))))

(defmacro >?
  "Waits, inside one expression, for the futs named by symbols written with a
  leading `?`: `(>? (+ ?a ?b 1))` answers a fut of `(+ a' b' 1)` where `a'` and
  `b'` are the values of the futs `a` and `b` (or plain values); `(>? ?a)` is a
  fut of `a`'s value. The same as a `dofut` binding each `?name` in turn."
  [form]
  (let [refs (distinct (filter future-ref? (tree-seq coll? seq form)))
        syms (into {} (map (fn [r] [r (gensym (subs (name r) 1))]) refs))]
    `(dofut ~(vec (mapcat (fn [r] [(syms r) (symbol (subs (name r) 1))]) refs))
       ~(walk/postwalk-replace syms form))))
