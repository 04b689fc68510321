(ns peloton.files-test
  "create-file-handler as a route of serve!, over real sockets."
  (:require [clojure.java.io :as io]
            [clojure.test :refer [deftest is testing]]
            [peloton.httpd :as httpd])
  (:import (java.net URI)
           (java.net.http HttpClient HttpRequest HttpRequest$Builder HttpResponse
                          HttpResponse$BodyHandlers)
           (java.nio.file Files Path)
           (java.nio.file.attribute FileAttribute)
           (java.time Duration)))

(set! *warn-on-reflection* true)

(def ^:private ^HttpClient client
  (-> (HttpClient/newBuilder) (.connectTimeout (Duration/ofSeconds 5)) (.build)))

(defn- request
  "Sends a request; answers [status headers-fn body-bytes]."
  [^String method port ^String path & headers]
  (let [^HttpRequest$Builder b (-> (HttpRequest/newBuilder (URI/create (str "http://127.0.0.1:" port path)))
                                   (.timeout (Duration/ofSeconds 10))
                                   (.method method (java.net.http.HttpRequest$BodyPublishers/noBody)))]
    (doseq [[k v] (partition 2 headers)]
      (.header b ^String k ^String v))
    (let [^HttpResponse r (.send client (.build b) (HttpResponse$BodyHandlers/ofByteArray))]
      [(.statusCode r)
       (fn [^String h] (.orElse (.firstValue (.headers r) h) nil))
       ^bytes (.body r)])))

(defn- temp-dir ^Path []
  (Files/createTempDirectory "peloton-files" (make-array FileAttribute 0)))

(defn- delete-tree [^Path p]
  (doseq [^java.io.File f (reverse (file-seq (.toFile p)))]
    (.delete f)))

(deftest serves-a-directory-under-a-route-group
  (let [dir (temp-dir)
        data (byte-array (map unchecked-byte (range 200000)))]
    (io/copy data (.toFile (.resolve dir "data.bin")))
    (spit (str (.resolve dir "hello.txt")) "hello files")
    (.mkdirs (.toFile (.resolve dir "site")))
    (spit (str (.resolve dir "site/index.html")) "<h1>site</h1>")
    (spit (str (.getParent dir) "/" (.getFileName dir) "-secret.txt") "SECRET")
    (let [server (httpd/serve! {:port 0 :reactors 1}
                               [:any #"^/files/(.*)$" (httpd/create-file-handler (str dir))])
          port (httpd/port server)]
      (try
        (testing "a whole file, byte for byte, with its type"
          (let [[status h body] (request "GET" port "/files/data.bin")]
            (is (= 200 status))
            (is (= (seq data) (seq body)))
            (is (= "application/octet-stream" (h "content-type")))
            (is (= "bytes" (h "accept-ranges")))))
        (testing "text, and 304 on its ETag"
          (let [[status h body] (request "GET" port "/files/hello.txt")]
            (is (= 200 status))
            (is (= "hello files" (String. ^bytes body "UTF-8")))
            (is (= "text/plain; charset=utf-8" (h "content-type")))
            (is (= 304 (first (request "GET" port "/files/hello.txt" "If-None-Match" (h "etag")))))))
        (testing "a range"
          (let [[status h body] (request "GET" port "/files/data.bin" "Range" "bytes=10-19")]
            (is (= 206 status))
            (is (= "bytes 10-19/200000" (h "content-range")))
            (is (= (seq (java.util.Arrays/copyOfRange ^bytes data 10 20)) (seq body)))))
        (testing "HEAD through an :any route, index.html, 404 and 405"
          (let [[status h body] (request "HEAD" port "/files/hello.txt")]
            (is (= 200 status))
            (is (= "11" (h "content-length")))
            (is (zero? (alength ^bytes body))))
          (is (= "<h1>site</h1>" (String. ^bytes (nth (request "GET" port "/files/site/") 2) "UTF-8")))
          (is (= 404 (first (request "GET" port "/files/nope"))))
          (is (= 404 (first (request "GET" port (str "/files/%2e%2e/" (.getFileName dir) "-secret.txt")))))
          (let [[status h] (request "DELETE" port "/files/hello.txt")]
            (is (= 405 status))
            (is (= "GET, HEAD" (h "allow")))))
        (finally
          (httpd/stop-server! server 1)
          (delete-tree dir)
          (io/delete-file (str (.getParent dir) "/" (.getFileName dir) "-secret.txt") true))))))

(deftest serves-classpath-resources-with-options
  ;; clj-src is on the classpath: serve this library's own sources.
  (let [server (httpd/serve! {:port 0 :reactors 1}
                             [:GET #"^/src/(.*)$" (httpd/create-file-handler "classpath:peloton"
                                                                             :mime-types {:clj "text/x-clojure"}
                                                                             :cache-control "max-age=60")]
                             [:GET #"^/cp/(.*)$" (httpd/create-file-handler "peloton" :classpath? true)]
                             [:GET #"^/peloton/httpd\.clj$" (httpd/create-file-handler "classpath:")])
        port (httpd/port server)
        expected (slurp (io/resource "peloton/httpd.clj"))]
    (try
      (let [[status h body] (request "GET" port "/src/httpd.clj")]
        (is (= 200 status))
        (is (= expected (String. ^bytes body "UTF-8")))
        (is (= "text/x-clojure" (h "content-type")))
        (is (= "max-age=60" (h "cache-control"))))
      (let [[status h body] (request "GET" port "/cp/httpd.clj")]
        (is (= 200 status))
        (is (= "application/octet-stream" (h "content-type")))
        (is (= expected (String. ^bytes body "UTF-8"))))
      ;; Routes see the normalized path: this names /peloton/httpd.clj, outside the
      ;; /src/ group, and is served by the whole-root route below.
      (is (= expected (String. ^bytes (nth (request "GET" port "/src/%2e%2e/peloton/httpd.clj") 2) "UTF-8")))
      (is (= 400 (first (request "GET" port "/src/%2e%2e/%2e%2e/peloton/httpd.clj"))))
      (is (= 404 (first (request "GET" port "/src/missing.clj"))))
      ;; Without a group the whole request path is looked up from the root.
      (is (= expected (String. ^bytes (nth (request "GET" port "/peloton/httpd.clj") 2) "UTF-8")))
      (finally
        (httpd/stop-server! server 1)))))
