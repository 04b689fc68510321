(ns peloton.demo-test
  "The demo application over real sockets: its pages, the blog on the embedded
  MongoDB (H2 file) across a restart, a taken port, the command line."
  (:require [clojure.java.io :as io]
            [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [peloton.examples.demo :as demo])
  (:import (java.net ServerSocket URI URLEncoder)
           (java.net.http HttpClient HttpClient$Redirect HttpRequest HttpRequest$BodyPublishers
                          HttpResponse HttpResponse$BodyHandlers)
           (java.nio.charset StandardCharsets)
           (java.nio.file Files)
           (java.nio.file.attribute FileAttribute)
           (java.time Duration)))

(set! *warn-on-reflection* true)

(def ^HttpClient client
  (-> (HttpClient/newBuilder)
      (.followRedirects HttpClient$Redirect/NEVER)
      (.connectTimeout (Duration/ofSeconds 5))
      (.build)))

(defn- http
  "Sends a request to the demo; `form` (a map) is sent urlencoded."
  ([sys path] (http sys "GET" path nil nil))
  ([sys method path form] (http sys method path form nil))
  ([sys method path form headers]
   (let [body (when form
                (str/join "&" (for [[k v] form]
                                (str (name k) "=" (URLEncoder/encode (str v) StandardCharsets/UTF_8)))))
         b (-> (HttpRequest/newBuilder (URI/create (str (:url sys) (subs path 1))))
               (.timeout (Duration/ofSeconds 10))
               (.method method (if body
                                 (HttpRequest$BodyPublishers/ofString body)
                                 (HttpRequest$BodyPublishers/noBody))))
         _ (when body (.header b "Content-Type" "application/x-www-form-urlencoded"))
         _ (doseq [[k v] headers] (.header b k v))
         ^HttpResponse resp (.send client (.build b) (HttpResponse$BodyHandlers/ofString))]
     {:status (.statusCode resp)
      :body (str (.body resp))
      :headers (into {} (map (fn [[k v]] [k (first v)])) (.map (.headers resp)))})))

(defn- temp-dir ^java.io.File []
  (.toFile (Files/createTempDirectory "peloton-demo" (make-array FileAttribute 0))))

(defn- delete-tree [^java.io.File f]
  (doseq [^java.io.File x (reverse (file-seq f))] (.delete x)))

(defmacro with-demo [[sym opts] & body]
  `(let [~sym (demo/start! ~opts)]
     (try ~@body (finally (demo/stop! ~sym 1)))))

(defn- titles
  "The post titles on a blog page, in page order (as HTML text)."
  [html]
  (map second (re-seq #"<h2>(.*?)</h2>" html)))

(deftest pages-files-and-the-counter
  (let [dir (temp-dir)]
    (try
      (with-demo [sys {:port 0 :data-dir (str dir)}]
        (let [r (http sys "/")]
          (is (= 200 (:status r)))
          (is (str/includes? (:body r) "<h1>Hello from Peloton</h1>"))
          (is (str/starts-with? (get-in r [:headers "content-type"]) "text/html")))
        (testing "static files, a Range, and a path that leaves the directory"
          (let [r (http sys "GET" "/files/hello.txt" nil {"Range" "bytes=0-4"})]
            (is (= 206 (:status r)))
            (is (= "Hello" (:body r)))
            (is (= "bytes 0-4/" (subs (get-in r [:headers "content-range"]) 0 10))))
          (is (str/includes? (:body (http sys "/files/")) "Static files"))
          (is (= 200 (:status (http sys "/files/style.css"))))
          (is (= 303 (:status (http sys "/files"))))
          ;; A dot segment behind an encoded slash never reaches the file handler: the server
          ;; refuses the target itself (400), as it does a plain /../ that climbs above the root.
          (is (= 400 (:status (http sys "/files/..%2f..%2fpom.xml"))))
          (is (= 400 (:status (http sys "/files/../../pom.xml")))))
        (testing "the counter page has the demo's frame, starts at 1 and ticks to 2"
          (let [req (-> (HttpRequest/newBuilder (URI/create (str (:url sys) "chunked"))) (.build))
                ^HttpResponse resp (.send client req (HttpResponse$BodyHandlers/ofInputStream))]
            (with-open [in ^java.io.InputStream (.body resp)]
              (is (= 200 (.statusCode resp)))
              (let [sb (StringBuilder.)
                    tick "<script>x++;"]
                ;; read up to the first tick (about a second in), or give up after 64 KiB
                (while (and (not (str/includes? (str sb) tick)) (< (.length sb) 65536))
                  (let [b (.read in)]
                    (if (neg? b) (throw (java.io.IOException. "closed early")) (.append sb (char b)))))
                (let [start (str sb)]
                  (is (str/starts-with? start (demo/page-start "Counter")) "title, style and navigation")
                  (is (str/includes? start "<script>x=1;</script><p class=\"counter\" id=foo>1</p>")
                      "shows 1 with x=1, so the first x++ shows 2, not 1 again")
                  (is (str/includes? start tick)))))))
        (is (= 404 (:status (http sys "/nope")))))
      (finally (delete-tree dir)))))

(deftest blog-posts-are-escaped-ordered-deleted-and-kept-across-a-restart
  (let [dir (temp-dir)
        evil "<script>alert('x')</script> & \"quotes\""]
    (try
      (with-demo [sys {:port 0 :data-dir (str dir)}]
        (is (str/includes? (:body (http sys "/blog")) "No posts yet."))
        (let [r (http sys "POST" "/blog" {:title "first" :body "one\ntwo"})]
          (is (= 303 (:status r)))
          (is (= "/blog" (get-in r [:headers "location"]))))
        (is (= 303 (:status (http sys "POST" "/blog" {:title evil :body "<b>bold?</b>"}))))
        (let [html (:body (http sys "/blog"))]
          (is (= ["&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;" "first"]
                 (titles html))
              "newest first, escaped")
          (is (str/includes? html "&lt;b&gt;bold?&lt;/b&gt;"))
          (is (not (str/includes? html "<script>alert")))
          (is (str/includes? html "one\ntwo")))
        (testing "a post without a title is refused, and nothing is stored"
          (let [r (http sys "POST" "/blog" {:title "   " :body "x"})]
            (is (= 400 (:status r)))
            (is (str/includes? (:body r) "A post needs a title."))
            (is (= 2 (count (titles (:body r)))))))
        (testing "delete through the form's action"
          (let [html (:body (http sys "/blog"))
                first-id (last (map second (re-seq #"action=\"/blog/([0-9a-f]{24})/delete\"" html)))
                r (http sys "POST" (str "/blog/" first-id "/delete") {})]
            (is (= 303 (:status r)))
            (is (= [(demo/esc evil)] (titles (:body (http sys "/blog"))))))))
      (testing "the post is still there after a restart on the same data directory"
        (with-demo [sys {:port 0 :data-dir (str dir)}]
          (is (= [(demo/esc evil)] (titles (:body (http sys "/blog")))))))
      (is (.exists (io/file dir "mongo.mv.db")))
      (finally (delete-tree dir)))))

(deftest a-taken-port-is-an-error-and-leaves-nothing-running
  (let [dir (temp-dir)]
    (try
      (with-open [taken (ServerSocket. 0 50 (java.net.InetAddress/getByName "127.0.0.1"))]
        (let [e (try (demo/start! {:port (.getLocalPort taken) :data-dir (str dir)})
                     nil
                     (catch java.io.IOException e e))]
          (is (some? e))
          (is (str/starts-with? (ex-message e) (str "cannot listen on 127.0.0.1:" (.getLocalPort taken))))))
      (testing "a second demo on a port a first demo holds"
        (with-demo [a {:port 0 :data-dir (str dir)}]
          (is (thrown-with-msg? java.io.IOException #"cannot listen on"
                                (demo/start! {:port (:port a) :data-dir (str dir "-other")})))
          (is (= 200 (:status (http a "/"))))))
      (finally (delete-tree dir) (delete-tree (io/file (str dir "-other")))))))

(deftest with-a-mongo-uri-the-posts-go-to-that-server
  (let [backend (de.bwaldvogel.mongo.backend.memory.MemoryBackend.)
        server (doto (de.bwaldvogel.mongo.MongoServer. backend) (.bind "127.0.0.1" (int 0)))
        uri (str "mongodb://127.0.0.1:" (.getPort ^java.net.InetSocketAddress (.getLocalAddress server)))
        dir (io/file (temp-dir) "unused")]
    (try
      (with-demo [sys {:port 0 :data-dir (str dir) :mongo-uri uri}]
        (is (nil? (:embedded sys)))
        (is (= uri (:mongo-uri sys)))
        (is (= 303 (:status (http sys "POST" "/blog" {:title "elsewhere" :body "b"}))))
        (with-open [official (com.mongodb.client.MongoClients/create ^String uri)]
          (let [docs (-> official (.getDatabase "peloton_demo") (.getCollection "posts")
                         (.find) (.into (java.util.ArrayList.)))]
            (is (= ["elsewhere"] (map #(.getString ^org.bson.Document % "title") docs)))
            (is (instance? java.util.Date (.get ^org.bson.Document (first docs) "created"))))))
      (is (not (.exists dir)) "no embedded MongoDB, no data directory")
      (finally (.shutdownNow server) (delete-tree (.getParentFile dir))))))

(deftest the-demo-classpath-has-an-slf4j-binding
  ;; The library ships none; the demo (test scope) brings slf4j-simple, so its
  ;; warnings and errors are printed instead of vanishing into the no-op logger.
  (is (= "org.slf4j.simple.SimpleLoggerFactory"
         (.getName (class (org.slf4j.LoggerFactory/getILoggerFactory))))))

(deftest nrepl-connect-hints-that-work-here
  (let [[own & more] (demo/connect-hints 7888)]
    (is (str/includes? own "-m nrepl.cmdline --connect --port 7888"))
    (is (= (.isDirectory (io/file (System/getProperty "user.home") ".m2/repository/reply/reply"))
           (boolean (some #(= "lein repl :connect 7888" %) more))))))

(deftest command-line-options
  (is (= {:port 9090 :data-dir "d" :mongo-uri "mongodb://h:1/x" :nrepl-port 7888 :host "0.0.0.0"}
         (demo/parse-args ["--port" "9090" "--data-dir" "d" "--mongo-uri" "mongodb://h:1/x"
                           "--nrepl-port" "7888" "--host" "0.0.0.0"])))
  (is (= {} (demo/parse-args [])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"unknown option --nope" (demo/parse-args ["--nope"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--port needs a number" (demo/parse-args ["--port" "x"])))
  (is (thrown-with-msg? clojure.lang.ExceptionInfo #"--port needs a value" (demo/parse-args ["--port"])))
  (is (= "mongodb://u:***@h1,h2/db" (demo/redact-uri "mongodb://u:secret@h1,h2/db")))
  (is (= "mongodb://h/db" (demo/redact-uri "mongodb://h/db"))))
