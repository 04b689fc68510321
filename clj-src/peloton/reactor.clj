(ns peloton.reactor
  "One-thread event loops: timers, IO readiness callbacks and tasks submitted
  from other threads, on `peloton.reactor.Reactor`.

  Everything here acts on the *current* reactor: the one running on the calling
  thread (inside `with-reactor`, a timer, an IO callback or a server handler),
  or else a shared daemon reactor started on first use (handy at the REPL).

      (with-reactor
        (later 1.0
          (println \"one second later\")
          (stop)))

  Callbacks run on the reactor thread: keep them short and non-blocking. One
  that throws is logged and the loop goes on.

  Times here are in seconds (fractions allowed: `(later 0.25 ...)`), as in
  the original Peloton; so are `peloton.httpd`'s and `peloton.http`'s.
  `peloton.fut` counts milliseconds, as `deref` does."
  (:import (java.nio.channels SelectableChannel SelectionKey)
           (peloton.fut Fut Fut$Callback)
           (peloton.reactor Reactor Timer)))

(set! *warn-on-reflection* true)

(defn current-reactor
  "The reactor running on this thread, or nil."
  ^Reactor []
  (Reactor/current))

(defn- the-reactor ^Reactor []
  (Reactor/currentOrShared))

(defn reactor?
  "True when `x` is a `peloton.reactor.Reactor`."
  [x]
  (instance? Reactor x))

(defn in-reactor?
  "True when called on a reactor thread (inside `with-reactor`, a callback or a handler)."
  []
  (some? (Reactor/current)))

(defmacro with-reactor
  "Runs `body` on a new reactor that takes over the calling thread, then runs
  that reactor's loop until `stop` is called (from a callback, or from another
  thread). Answers the body's value once the loop has ended. Timers and IO
  callbacks set up in `body` belong to this reactor."
  [& body]
  `(let [r# (Reactor. "peloton-with-reactor")
         result# (volatile! nil)]
     (.runLoop r# ^Runnable (fn [] (vreset! result# (do ~@body))))
     @result#))

(defn submit!
  "Queues `f` (no arguments) to run on `reactor` (default: the current one);
  safe from any thread. Tasks run in the order submitted."
  ([f] (submit! (the-reactor) f))
  ([^Reactor reactor f] (.submit reactor ^Runnable f) nil))

(defn timeout
  "Calls `(apply f args)` on the current reactor after `seconds` (a number,
  fractions allowed). Answers a timer handle for `cancel!`."
  ^Timer [seconds f & args]
  (.later (the-reactor) (double seconds) ^Runnable (fn [] (apply f args))))

(defn timeout!
  "The original's name for `timeout`."
  ^Timer [seconds f & args]
  (apply timeout seconds f args))

(defmacro later
  "Evaluates `body` on the current reactor after `seconds` (in seconds,
  fractions allowed). Answers a timer handle for `cancel!`."
  [seconds & body]
  `(timeout ~seconds (fn [] ~@body)))

(defn later!
  "Calls `f` (no arguments) on the current reactor after `seconds` (in
  seconds, fractions allowed); the function form of `later`."
  ^Timer [seconds f]
  (timeout seconds f))

(defn cancel!
  "Cancels a timer from `timeout` or `later`; answers false when it had already
  fired or been cancelled."
  [^Timer timer]
  (.cancel timer))

(defn stop
  "Ends the loop of `reactor`, by default the one running on this thread, after
  its current step. Safe from any thread."
  ([]
   (if-let [r (Reactor/current)]
     (.stop r)
     (throw (IllegalStateException. "stop: no reactor runs on this thread; pass one"))))
  ([^Reactor reactor] (.stop reactor)))

(defn stop!
  "The original's name for `stop`."
  ([] (stop))
  ([reactor] (stop reactor)))

(defn stop-when!
  "Stops `reactor` (default: the current one) once the fut `f` completes, with
  a value or an error."
  ([f] (stop-when! (or (Reactor/current)
                       (throw (IllegalStateException. "stop-when!: no reactor runs on this thread; pass one")))
                   f))
  ([^Reactor reactor ^Fut f]
   (.onComplete f (reify Fut$Callback (call [_ _ _] (.stop reactor))))
   nil))

(defn- watch! [^SelectableChannel channel op once? f args]
  (.watch (the-reactor) channel (int op) ^Runnable (fn [] (apply f args)) (boolean once?))
  nil)

(defn- unwatch! [^SelectableChannel channel op]
  (.unwatch (the-reactor) channel (int op))
  nil)

(defn on-readable!
  "Calls `(apply f args)` on the current reactor each time `channel` (a
  non-blocking `SelectableChannel`) is readable, until `stop-readable!`."
  [channel f & args] (watch! channel SelectionKey/OP_READ false f args))

(defn on-writable!
  "Calls `(apply f args)` each time `channel` is writable, until `stop-writable!`."
  [channel f & args] (watch! channel SelectionKey/OP_WRITE false f args))

(defn on-acceptable!
  "Calls `(apply f args)` each time server `channel` has a connection to accept,
  until `stop-acceptable!`."
  [channel f & args] (watch! channel SelectionKey/OP_ACCEPT false f args))

(defn on-connectable!
  "Calls `(apply f args)` when `channel`'s connection attempt can be finished,
  until `stop-connectable!`."
  [channel f & args] (watch! channel SelectionKey/OP_CONNECT false f args))

(defn on-readable-once!
  "Calls `(apply f args)` the next time `channel` is readable, once."
  [channel f & args] (watch! channel SelectionKey/OP_READ true f args))

(defn on-writable-once!
  "Calls `(apply f args)` the next time `channel` is writable, once."
  [channel f & args] (watch! channel SelectionKey/OP_WRITE true f args))

(defn on-acceptable-once!
  "Calls `(apply f args)` the next time `channel` has a connection to accept, once."
  [channel f & args] (watch! channel SelectionKey/OP_ACCEPT true f args))

(defn on-connectable-once!
  "Calls `(apply f args)` the next time `channel` can finish connecting, once."
  [channel f & args] (watch! channel SelectionKey/OP_CONNECT true f args))

(defn stop-readable!
  "Stops the readable callback of `channel`."
  [channel] (unwatch! channel SelectionKey/OP_READ))

(defn stop-writable!
  "Stops the writable callback of `channel`."
  [channel] (unwatch! channel SelectionKey/OP_WRITE))

(defn stop-acceptable!
  "Stops the acceptable callback of `channel`."
  [channel] (unwatch! channel SelectionKey/OP_ACCEPT))

(defn stop-connectable!
  "Stops the connectable callback of `channel`."
  [channel] (unwatch! channel SelectionKey/OP_CONNECT))
