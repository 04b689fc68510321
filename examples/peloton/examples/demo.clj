(ns peloton.examples.demo
  "The demo application: the whole library in one small program.

      mvn -q test-compile exec:java                       ; http://127.0.0.1:8080/
      mvn -q test-compile exec:java -Dexec.args=\"--port 9090 --nrepl-port 7888\"

  Pages: `/` hello, `/chunked` the original's live counter (chunked
  `<script>` pieces, one a second), `/files/` static files with Range and
  sendfile, `/blog` a blog whose posts live in MongoDB, written with `dofut`.

  MongoDB is embedded by default (mongo-java-server with its H2 backend, in
  this process, storing under `--data-dir`, so posts survive a restart); with
  `--mongo-uri mongodb://...` the demo uses that server or replica set.

  Every route names its handler as a var (`#'on-index`), so a `defn` at the
  REPL (`--nrepl-port`, see `peloton.repl`) changes the next response."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.tools.logging :as log]
            [peloton.fut :refer [dofut fut deliver! fail! recover on-complete!]]
            [peloton.httpd :as httpd]
            [peloton.mongo :as mongo]
            [peloton.reactor :as reactor]
            [peloton.repl :as repl]
            [peloton.sse :as sse]
            [peloton.ws :as ws]
            [web-example])
  (:import (de.bwaldvogel.mongo MongoServer)
           (de.bwaldvogel.mongo.backend.h2 H2Backend)
           (java.io File IOException)
           (java.net InetSocketAddress)
           (java.time ZoneOffset)
           (java.time.format DateTimeFormatter)
           (java.util Date)
           (org.bson.types ObjectId)))

(set! *warn-on-reflection* true)

(def posts-coll
  "Where the blog keeps its posts."
  "peloton_demo.posts")

;; ---- HTML ----

(defn esc
  "`s` as HTML text: & < > \" ' escaped, so user input shows as typed and
  never becomes markup."
  ^String [s]
  (str/escape (str s) {\& "&amp;" \< "&lt;" \> "&gt;" \" "&quot;" \' "&#39;"}))

(defn page-start
  "The start of every demo page, up to and including the navigation: what a
  page that never ends (the chunked counter) sends first."
  ^String [title]
  (str "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<title>" (esc title) "</title>"
       "<link rel=\"stylesheet\" href=\"/files/style.css\"></head><body>"
       "<nav><a href=\"/\">Home</a> <a href=\"/chunked\">Counter</a> "
       "<a href=\"/files/\">Files</a> <a href=\"/blog\">Blog</a></nav>"))

(defn page
  "A whole HTML page with the demo's navigation; `body` is HTML already."
  [title & body]
  (str (page-start title)
       (apply str body)
       "</body></html>\n"))

;; ---- hello ----

(defn on-index
  "GET / : the hello page."
  [conn]
  (httpd/send-html!
   conn
   (page "Peloton"
         "<h1>Hello from Peloton</h1>"
         "<ul>"
         "<li><a href=\"/chunked\">/chunked</a>: a counter that rises once a second, "
         "sent as chunks of one never-ending response</li>"
         "<li><a href=\"/files/\">/files/</a>: static files with Range and sendfile</li>"
         "<li><a href=\"/blog\">/blog</a>: a small blog on MongoDB, written with <code>dofut</code></li>"
         "<li><a href=\"/live\">/live</a>: a chat where a post appears at once in every open page "
         "(WebSocket), with a feed of the same posts (Server-Sent Events)</li>"
         "</ul>")))

;; ---- the counter ----

(defn on-chunked
  "GET /chunked : the original's live counter (`web-example/chunk-loop` sends
  one `<script>x++ ...</script>` chunk a second) inside the demo's page frame.
  The page starts at 1 with x=1, so the first tick shows 2 (the original
  starts x at 0 under a \"1\", showing 1 twice)."
  [conn]
  (httpd/set-content-type-html! conn)
  (httpd/start-chunked-response! conn)
  (httpd/send-chunk! conn (str (page-start "Counter")
                               "<h1>Counter</h1>"
                               "<p>One response that never ends: each second the server sends "
                               "another chunk, a small script that raises the number.</p>"
                               "<script>x=1;</script><p class=\"counter\" id=foo>1</p>"))
  ;; Some browsers render a chunked page only after its first kilobyte.
  (httpd/send-chunk! conn (apply str (repeat 1024 " ")))
  (httpd/flush-output! conn)
  (reactor/timeout 1.0 web-example/chunk-loop conn))

;; ---- blog ----

(def ^:private ^DateTimeFormatter time-format
  (.withZone (DateTimeFormatter/ofPattern "yyyy-MM-dd HH:mm:ss 'UTC'") ZoneOffset/UTC))

(defn- post-html [{:keys [_id title body created]}]
  (str "<article><h2>" (esc title) "</h2>"
       "<div class=\"meta\">" (when (instance? Date created)
                                (.format time-format (.toInstant ^Date created)))
       " <form class=\"delete\" method=\"post\" action=\"/blog/" _id "/delete\">"
       "<button type=\"submit\">Delete</button></form></div>"
       "<div class=\"body\">" (esc body) "</div></article>"))

(defn blog-page
  "The blog page for `posts` (newest first), with `error` above the form."
  [posts & [error]]
  (page "Blog"
        "<h1>Blog</h1>"
        (when error (str "<p class=\"error\">" (esc error) "</p>"))
        "<form class=\"post\" method=\"post\" action=\"/blog\">"
        "<input type=\"text\" name=\"title\" placeholder=\"Title\" maxlength=\"200\" required>"
        "<textarea name=\"body\" rows=\"4\" placeholder=\"What happened?\"></textarea>"
        "<button type=\"submit\">Post</button></form>"
        (if (seq posts)
          (apply str (map post-html posts))
          "<p>No posts yet.</p>")))

(defn- answer-errors
  "Answers a 503 page when fut `f` (a handler's `dofut`) fails, so the client
  never waits for an answer that will not come."
  [conn f]
  (recover f (fn [e]
               (log/warn e "blog request failed")
               (when-not (httpd/finished? conn)
                 (httpd/send-html! conn 503 (page "Unavailable" "<h1>The database is unavailable</h1>"
                                                  "<p>" (esc (ex-message e)) "</p>"))))))

(defn- load-posts [client]
  (mongo/query-all! client posts-coll {} :sort (array-map :created -1 :_id -1) :limit 200))

(defn on-blog
  "GET /blog : the posts, newest first, and a form for a new one. `db` is a
  fut of the MongoDB client."
  [conn db]
  (answer-errors conn
                 (dofut [client db
                         posts (load-posts client)]
                   (httpd/send-html! conn (blog-page posts)))))

(defn- field
  "A form field as a trimmed string (the first, when sent twice)."
  [form k]
  (let [v (get form k)]
    (str/trim (str (if (vector? v) (first v) v)))))

(defn on-create-post
  "POST /blog : stores a post from the form, then 303 See Other back to /blog
  (so a reload does not post again). A missing title or an over-long field
  answers 400 with the page and the reason."
  [conn db]
  (let [form (httpd/post-data-map conn)
        title (field form :title)
        body (field form :body)
        error (cond (str/blank? title) "A post needs a title."
                    (> (count title) 200) "The title is longer than 200 characters."
                    (> (count body) 20000) "The text is longer than 20000 characters.")]
    (answer-errors conn
                   (if error
                     (dofut [client db
                             posts (load-posts client)]
                       (httpd/send-html! conn 400 (blog-page posts error)))
                     (dofut [client db
                             _ (mongo/insert! client posts-coll {:title title :body body :created (Date.)})]
                       (httpd/see-other! conn "/blog"))))))

(defn on-delete-post
  "POST /blog/<id>/delete : deletes the post, then 303 See Other back to /blog."
  [conn db id]
  (answer-errors conn
                 (dofut [client db
                         _ (mongo/delete! client posts-coll {:_id (ObjectId. ^String id)})]
                   (httpd/see-other! conn "/blog"))))

;; ---- live: a chat over WebSocket, and the same posts as Server-Sent Events ----

(def ^:private live-script
  "The live page's script: posts go up the WebSocket, every page's socket gets
  each post back, and the EventSource feed lists them too. Text only, shown as
  text (textContent), never as markup."
  "
var state = document.getElementById('status'); // (a global named status would be window.status)
var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live/socket');
ws.onopen = function () { state.textContent = 'connected'; };
ws.onclose = function () { state.textContent = 'disconnected'; };
ws.onmessage = function (e) {
  var li = document.createElement('li'); li.textContent = e.data;
  document.getElementById('messages').appendChild(li);
};
document.getElementById('say').onsubmit = function (e) {
  e.preventDefault();
  var input = document.getElementById('text');
  if (input.value) { ws.send(input.value); input.value = ''; }
};
var feed = new EventSource('/live/events');
feed.addEventListener('post', function (e) {
  var li = document.createElement('li'); li.textContent = e.data;
  document.getElementById('feed').appendChild(li);
});
feed.onopen = function () { document.getElementById('feed-status').textContent = 'listening'; };
")

(defn on-live
  "GET /live : the chat page."
  [conn]
  (httpd/send-html!
   conn
   (page "Live"
         "<h1>Live</h1><p>Open this page in two windows: a post made in one appears at once "
         "in both. <span id=\"status\">connecting</span></p>"
         "<form id=\"say\"><input id=\"text\" maxlength=\"500\" autocomplete=\"off\"> "
         "<button type=\"submit\">Post</button></form>"
         "<h2>Over WebSocket</h2><ul id=\"messages\"></ul>"
         "<h2>Server-Sent Events feed <small id=\"feed-status\"></small></h2><ul id=\"feed\"></ul>"
         "<script>" live-script "</script>")))

(defn- broadcast!
  "Sends `text` to every open live socket and every live feed."
  [live text]
  (let [{:keys [sockets feeds]} @live]
    (doseq [s sockets] (ws/send! s text))
    (doseq [es feeds] (sse/send! es {:event "post" :data text}))))

(defn on-live-socket
  "GET /live/socket : the chat's WebSocket; each text message goes to everyone."
  [conn live]
  (ws/upgrade! conn {:on-open (fn [s] (swap! live update :sockets (fnil conj #{}) s))
                     :on-message (fn [_ m] (when (string? m) (broadcast! live m)))
                     :on-close (fn [s _ _] (swap! live update :sockets disj s))}
               {:max-message-size 4096 :ping-interval 30}))

(defn on-live-events
  "GET /live/events : the chat's posts as Server-Sent Events."
  [conn live]
  (let [es (sse/start! conn {:heartbeat 15})]
    (swap! live update :feeds (fnil conj #{}) es)
    (on-complete! (sse/closed es)
                  (fn [_ _] (swap! live update :feeds disj es)))))

;; ---- the application ----

(defn routes
  "The demo's routes. Handlers are vars so REPL redefinitions take effect;
  `db` is a fut of the MongoDB client, `files` the static file handler, `live`
  an atom of the live page's open sockets and feeds."
  ([db files] (routes db files (atom {})))
  ([db files live]
  [[:GET #"^/$" #'on-index]
   [:GET #"^/chunked$" #'on-chunked]
   [:GET #"^/files$" (fn [conn] (httpd/see-other! conn "/files/"))]
   [:GET #"^/files/(.*)$" files]
   [:GET #"^/blog$" #'on-blog db]
   [:POST #"^/blog$" #'on-create-post db]
   [:POST #"^/blog/([0-9a-f]{24})/delete$" #'on-delete-post db]
   [:GET #"^/live$" #'on-live]
   [:GET #"^/live/socket$" #'on-live-socket live]
   [:GET #"^/live/events$" #'on-live-events live]]))

(defn default-files-dir
  "The demo's static files: examples/demo-files as found on the classpath (a
  directory when run from the build, so sendfile applies)."
  []
  (let [u (io/resource "demo-files")]
    (if (and u (= "file" (.getProtocol ^java.net.URL u)))
      (.getPath (io/file u))
      "classpath:demo-files")))

(defn- start-embedded-mongo!
  "mongo-java-server with its H2 backend in `data-dir`, on a free 127.0.0.1 port."
  [data-dir]
  (let [dir (io/file data-dir)
        _ (.mkdirs dir)
        file (io/file dir "mongo.mv.db")
        backend (try (H2Backend. (.getPath file))
                     (catch Exception e
                       (throw (ex-info (str "cannot open " (.getPath file) " (is another demo using "
                                            data-dir "?): " (ex-message e))
                                       {:type :data-dir} e))))
        server (MongoServer. backend)]
    (.bind server "127.0.0.1" (int 0))
    {:server server
     :file file
     :uri (str "mongodb://127.0.0.1:" (.getPort ^InetSocketAddress (.getLocalAddress server)))}))

(defn redact-uri
  "`uri` with any password replaced by ***."
  [uri]
  (str/replace (str uri) #"(//[^/@:]*:)[^@/]*@" "$1***@"))

(declare stop!)

(defn start!
  "Starts the demo and answers a map of what runs (for `stop!`): `:server`,
  `:url`, `:port`, `:mongo` (a fut of the client), `:mongo-uri`, `:embedded`
  (the in-process MongoDB, when no URI was given), `:nrepl`.

  Options: `:port` (8080; 0 for any), `:host` (\"127.0.0.1\"), `:data-dir`
  (\"demo-data\"), `:mongo-uri` (nil: embedded), `:nrepl-port` (nil: none),
  `:files-dir` (the shipped examples/demo-files). Throws the server's
  IOException when the port is taken, an ex-info when MongoDB cannot be
  reached within 10 s; nothing is left running then."
  [{:keys [port host data-dir mongo-uri nrepl-port files-dir]
    :or {port 8080 host "127.0.0.1" data-dir "demo-data"}}]
  (let [db (fut)
        files (httpd/create-file-handler (or files-dir (default-files-dir)))
        ;; The HTTP port first: when it is taken, nothing else has started.
        ;; SIGTERM stops the server gracefully (the hook in -main then waits for that stop).
        server (apply httpd/serve! {:port port :host host :shutdown-grace 2} (routes db files))
        sys (atom {:server server
                   :port (httpd/port server)
                   :url (str "http://" host ":" (httpd/port server) "/")
                   :mongo db
                   :data-dir (when-not mongo-uri (.getAbsolutePath (io/file data-dir)))})]
    (try
      (let [embedded (when-not mongo-uri (start-embedded-mongo! data-dir))
            _ (swap! sys assoc :embedded embedded)
            uri (or mongo-uri (:uri embedded))
            client (deref (mongo/connect! uri) 10000 ::timeout)]
        (when (= ::timeout client)
          (throw (ex-info (str "MongoDB at " (redact-uri uri) " did not answer within 10 s")
                          {:type :mongo :uri (redact-uri uri)})))
        (deliver! db client)
        (swap! sys assoc :mongo-uri uri :client client)
        (when nrepl-port
          (swap! sys assoc :nrepl (repl/start-nrepl! {:port nrepl-port})))
        @sys)
      (catch Throwable t
        (fail! db t)
        (stop! @sys 0)
        (throw t)))))

(defn stop!
  "Stops what `start!` started: the HTTP server (letting responses finish for
  up to `grace-seconds`, default 2), the nREPL server, the MongoDB client and
  the embedded MongoDB (which writes its data to disk)."
  ([sys] (stop! sys 2))
  ([{:keys [server nrepl client embedded]} grace-seconds]
   (when server (httpd/stop-server! server grace-seconds))
   (when nrepl (repl/stop-nrepl! nrepl))
   (when client (mongo/close! client))
   (when-let [^MongoServer s (:server embedded)] (.shutdown s))
   nil))

;; ---- command line ----

(def usage
  "The demo's command-line help."
  (str "Usage: mvn -q test-compile exec:java -Dexec.args=\"[options]\"\n"
       "  --port N          HTTP port (default 8080; 0 picks a free one)\n"
       "  --host ADDR       address to listen on (default 127.0.0.1; 0.0.0.0 for all)\n"
       "  --data-dir DIR    where the embedded MongoDB keeps its data (default ./demo-data)\n"
       "  --mongo-uri URI   use this MongoDB (mongodb://host:port/...) instead of the embedded one\n"
       "  --nrepl-port N    also start an nREPL server on 127.0.0.1:N\n"
       "  --files-dir DIR   serve /files/ from DIR instead of examples/demo-files\n"
       "  --help            this text"))

(defn parse-args
  "The options map of `start!` from command-line `args`; an ex-info with
  `:type :usage` for an unknown option or a bad value."
  [args]
  (loop [[k v & more :as args] args opts {}]
    (let [need (fn [] (if (and v (not (str/starts-with? v "--")))
                        v
                        (throw (ex-info (str k " needs a value") {:type :usage}))))
          number (fn [] (let [s (need)]
                          (or (parse-long s)
                              (throw (ex-info (str k " needs a number, not " s) {:type :usage})))))]
      (case k
        nil opts
        "--help" (throw (ex-info "help" {:type :help}))
        "--port" (recur more (assoc opts :port (number)))
        "--host" (recur more (assoc opts :host (need)))
        "--data-dir" (recur more (assoc opts :data-dir (need)))
        "--mongo-uri" (recur more (assoc opts :mongo-uri (need)))
        "--nrepl-port" (recur more (assoc opts :nrepl-port (number)))
        "--files-dir" (recur more (assoc opts :files-dir (need)))
        (throw (ex-info (str "unknown option " k) {:type :usage}))))))

(defn connect-hints
  "Commands that connect a terminal REPL to nREPL on `port`, as far as they
  work here: nREPL's own client on the demo's classpath always;
  `lein repl :connect` only when Leiningen's REPL client (REPL-y, from
  Clojars) is in the local Maven repository, as it fails without it."
  [port]
  (let [reply (io/file (System/getProperty "user.home") ".m2/repository/reply/reply")]
    (cond-> [(str "mvn -q exec:java -Dexec.mainClass=clojure.main -Dexec.args=\"-m nrepl.cmdline --connect --port "
                  port "\"")]
      (.isDirectory reply) (conj (str "lein repl :connect " port)))))

(defn- exit! [code & lines]
  (binding [*out* *err*]
    (doseq [l lines] (println l)))
  (shutdown-agents)
  (System/exit code))

(defn -main
  "Runs the demo until Ctrl-C."
  [& args]
  (let [opts (try (parse-args args)
                  (catch clojure.lang.ExceptionInfo e
                    (if (= :help (:type (ex-data e)))
                      (do (println usage) (System/exit 0))
                      (exit! 2 (str "demo: " (ex-message e)) usage))))
        sys (try (start! opts)
                 (catch IOException e
                   (exit! 1 (str "demo: " (ex-message e))
                          "demo: is another program (another demo?) using that port? Pick one with --port N."))
                 (catch Throwable e
                   (exit! 1 (str "demo: " (or (ex-message e) e)))))
        port-file (io/file ".nrepl-port")]
    (println (str "Peloton demo at " (:url sys) "  (Ctrl-C stops it)"))
    (println (str "  pages:   " (:url sys) "  " (:url sys) "chunked  "
                  (:url sys) "files/  " (:url sys) "blog"))
    (if (:embedded sys)
      (println (str "  MongoDB: embedded (mongo-java-server, H2 file "
                    (.getAbsolutePath ^File (:file (:embedded sys))) "), at " (:mongo-uri sys)))
      (println (str "  MongoDB: " (redact-uri (:mongo-uri sys)))))
    (when-let [d (:data-dir sys)]
      (println (str "  data:    " d)))
    (when-let [n (:nrepl sys)]
      (spit port-file (str (repl/nrepl-port n)))
      (println (str "  nREPL:   127.0.0.1:" (repl/nrepl-port n)
                    " (port also in .nrepl-port, for CIDER and Calva)"))
      (doseq [hint (connect-hints (repl/nrepl-port n))]
        (println (str "           " hint))))
    (.addShutdownHook (Runtime/getRuntime)
                      (Thread. ^Runnable
                               (fn []
                                 (println "Stopping the demo...")
                                 (stop! sys 2)
                                 (when (:nrepl sys) (.delete port-file))
                                 (println "Stopped."))))))
