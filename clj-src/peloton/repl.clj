(ns peloton.repl
  "REPL-driven development: an nREPL server inside a running application.

      (def nrepl (start-nrepl! {:port 7888}))   ; then connect an editor to 7888
      (stop-nrepl! nrepl)

  Connected, you evaluate code in the running program: redefine a handler with
  `defn` and, when its route names the var (`[:GET #\"^/$\" #'on-index]`), the
  next request runs the new definition, without restarting the server.

  nREPL itself (`nrepl/nrepl` 1.x, from Clojars or Debian's
  `libnrepl-clojure`) is not a dependency of Peloton: it is loaded on the first
  `start-nrepl!`, which fails with a clear message when it is not on the
  classpath. An nREPL server runs any code sent to it: keep it on 127.0.0.1."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.tools.logging :as log]))

(set! *warn-on-reflection* true)

(defn- nrepl-var
  "Resolves `sym` (a namespace-qualified symbol), loading its namespace; a
  missing namespace is an ex-info that says what to add."
  [sym]
  (let [ns-path (-> (namespace sym) munge (str/replace \. \/))]
    (when-not (or (io/resource (str ns-path ".clj"))
                  (io/resource (str ns-path "__init.class")))
      (throw (ex-info (str "nREPL is not on the classpath (no " (namespace sym) "): add the "
                           "dependency nrepl/nrepl 1.x (Clojars), or on Debian install "
                           "libnrepl-clojure and add /usr/share/java/nrepl.jar")
                      {:type :missing-dependency :artifact "nrepl:nrepl" :namespace (namespace sym)})))
    (requiring-resolve sym)))

(defn start-nrepl!
  "Starts an nREPL server in this process and answers it (a map-like value:
  `(:port server)` is the port it listens on). Options: `:port` (default 0,
  any free port), `:bind` (default \"127.0.0.1\"; anything else exposes code
  execution to the network), `:handler` (an nREPL handler, e.g. with CIDER's
  middleware; default nREPL's own). Throws an ex-info with `:type
  :missing-dependency` when nREPL is not on the classpath, and the socket's
  exception when the port is taken."
  ([] (start-nrepl! {}))
  ([{:keys [port bind handler] :or {port 0 bind "127.0.0.1"}}]
   (let [start (nrepl-var 'nrepl.server/start-server)
         server (apply start :port (int port) :bind bind (when handler [:handler handler]))]
     (log/info "nREPL server on" (str bind ":" (:port server)))
     server)))

(defn nrepl-port
  "The port an nREPL server from `start-nrepl!` listens on."
  [server]
  (:port server))

(defn stop-nrepl!
  "Stops an nREPL server from `start-nrepl!`: it stops accepting and closes
  its open sessions. Answers nil."
  [server]
  ((nrepl-var 'nrepl.server/stop-server) server)
  nil)
