(ns peloton.httpd-test
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [peloton.fut :as f]
            [peloton.httpd :as httpd]
            [peloton.stream :as s]
            [web-example])
  (:import (java.io BufferedReader InputStreamReader)
           (java.net Socket URI)
           (java.net.http HttpClient HttpRequest HttpRequest$BodyPublishers HttpResponse$BodyHandlers)
           (java.nio.charset StandardCharsets)))

(def ^HttpClient client (HttpClient/newHttpClient))

(defn- http
  ([port path] (http port "GET" path nil))
  ([port method path ^String body]
   (let [req (-> (HttpRequest/newBuilder (URI/create (str "http://127.0.0.1:" port path)))
                 (.method method (if body
                                   (HttpRequest$BodyPublishers/ofString body)
                                   (HttpRequest$BodyPublishers/noBody)))
                 (.header "Content-Type" "application/x-www-form-urlencoded")
                 (.build))
         resp (.send client req (HttpResponse$BodyHandlers/ofString))]
     {:status (.statusCode resp)
      :body (.body resp)
      :headers (into {} (map (fn [[k v]] [k (first v)])) (.map (.headers resp)))})))

(defmacro with-server [[sym expr] & body]
  `(let [~sym ~expr]
     (try ~@body (finally (httpd/stop-server! ~sym 1)))))

(deftest original-readme-example-runs-verbatim
  (testing "the example's -main binds 8080 as written"
    (with-server [srv (web-example/-main)]
      (is (= 8080 (httpd/port srv)))
      (let [r (http 8080 "/")]
        (is (= 200 (:status r)))
        (is (= "<h1>Hello from Peloton</h1>" (:body r)))
        (is (= "27" (get-in r [:headers "content-length"]))))
      (is (= 404 (:status (http 8080 "/nope"))))
      (testing "the chunked counter sends a new script each second"
        (with-open [sock (Socket. "127.0.0.1" 8080)]
          (.setSoTimeout sock 5000)
          (let [out (.getOutputStream sock)
                in (BufferedReader. (InputStreamReader. (.getInputStream sock) StandardCharsets/UTF_8))]
            (.write out (.getBytes "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n" StandardCharsets/US_ASCII))
            (.flush out)
            (is (= "HTTP/1.1 200 OK" (.readLine in)))
            (let [lines (take-while #(not (str/includes? % "x++")) (repeatedly #(.readLine in)))]
              (is (some #(= "Transfer-Encoding: chunked" %) lines))
              (is (some #(str/includes? % "<h1 id=foo>1</h1>") lines)))))))))

(deftest routes-groups-extra-args-methods-and-404
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                                  [:GET #"^/user/(\d+)/(\w+)$"
                                   (fn [conn prefix id action]
                                     (httpd/send-html! conn (str prefix ":" id ":" action)))
                                   "user"]
                                  [:POST #"^/form$"
                                   (fn [conn]
                                     (httpd/set-content-type-json! conn)
                                     (httpd/set-response-body! conn (pr-str (httpd/post-data-map conn)))
                                     (httpd/send-response! conn))]
                                  [:any #"^/q" (fn [conn]
                                                 (httpd/set-response-header! conn "X-Method" (name (httpd/request-method conn)))
                                                 (httpd/set-response-body! conn (pr-str (httpd/query-data conn)))
                                                 (httpd/send-response! conn))]
                                  [:GET #"^/see$" (fn [conn] (httpd/see-other! conn "/elsewhere"))]
                                  [:GET #"^/missing$" httpd/not-found!])]
    (let [port (httpd/port srv)]
      (is (= "user:42:edit" (:body (http port "/user/42/edit"))))
      (is (= 404 (:status (http port "/user/x/edit"))))
      (is (= 404 (:status (http port "GET" "/form" nil))) "method must match")
      (is (= {:a "1" :b ["x" "y z"]}
             (read-string (:body (http port "POST" "/form" "a=1&b=x&b=y+z")))))
      (let [r (http port "DELETE" "/q?k=v%20w" nil)]
        (is (= {"k" "v w"} (read-string (:body r))))
        (is (= "DELETE" (get-in r [:headers "x-method"]))))
      (let [r (http port "/see")]
        (is (= 303 (:status r)))
        (is (= "/elsewhere" (get-in r [:headers "location"]))))
      (is (= 404 (:status (http port "/missing")))))))

(deftest handlers-pick-up-var-redefinitions
  (let [v (intern *ns* 'redefinable (fn [conn] (httpd/send-html! conn "first")))]
    (with-server [srv (httpd/serve! {:port 0 :reactors 1} [:GET #"^/$" v])]
      (is (= "first" (:body (http (httpd/port srv) "/"))))
      (alter-var-root v (constantly (fn [conn] (httpd/send-html! conn "second"))))
      (is (= "second" (:body (http (httpd/port srv) "/")))))))

(deftest a-throwing-handler-gets-500
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                                  [:GET #"^/boom$" (fn [_] (throw (ex-info "boom (expected by the test)" {})))]
                                  [:GET #"^/$" (fn [conn] (httpd/send-html! conn "ok"))])]
    (is (= 500 (:status (http (httpd/port srv) "/boom"))))
    (is (= "ok" (:body (http (httpd/port srv) "/"))))))

(deftest ring-sync-handler-and-request-map
  (let [seen (promise)]
    (with-server [srv (httpd/serve-ring! {:port 0 :reactors 1}
                                         (fn [req]
                                           (deliver seen (dissoc req :peloton/conn :body))
                                           {:status 201
                                            :headers {"Content-Type" "text/plain" "X-Multi" ["a" "b"]}
                                            :body (str "body=" (slurp (:body req)))}))]
      (let [port (httpd/port srv)
            r (http port "POST" "/path/x?q=1" "hello")
            req (deref seen 1000 nil)]
        (is (= 201 (:status r)))
        (is (= "body=hello" (:body r)))
        (is (= :post (:request-method req)))
        (is (= "/path/x" (:uri req)))
        (is (= "q=1" (:query-string req)))
        (is (= port (:server-port req)))
        (is (= "127.0.0.1" (:server-name req)))
        (is (= "127.0.0.1" (:remote-addr req)))
        (is (= :http (:scheme req)))
        (is (= "HTTP/1.1" (:protocol req)))
        (is (= "5" (get-in req [:headers "content-length"])))))))

(deftest ring-body-types-fut-and-stream
  (let [tmp (doto (java.io.File/createTempFile "peloton" ".txt") (.deleteOnExit))]
    (spit tmp "from a file")
    (with-server [srv (httpd/serve-ring!
                       {:port 0 :reactors 1}
                       (fn [{:keys [uri]}]
                         (case uri
                           "/bytes" {:status 200 :body (.getBytes "bytes!" "UTF-8")}
                           "/input" {:status 200 :body (java.io.ByteArrayInputStream. (.getBytes "input!" "UTF-8"))}
                           "/file" {:status 200 :body tmp}
                           "/seq" {:status 200 :body (list "a" "b" "c")}
                           "/nil" {:status 204 :body nil}
                           "/fut" (let [r (f/fut)]
                                    (future (Thread/sleep 20) (r {:status 200 :body "later"}))
                                    r)
                           "/stream" (let [st (s/stream 2)]
                                       (future
                                         (doseq [i (range 100)] @(s/put! st (str i ",")))
                                         (s/close! st))
                                       {:status 200 :body st}))))]
      (let [port (httpd/port srv)]
        (is (= "bytes!" (:body (http port "/bytes"))))
        (is (= "input!" (:body (http port "/input"))))
        (is (= "from a file" (:body (http port "/file"))))
        (is (= "abc" (:body (http port "/seq"))))
        (is (= 204 (:status (http port "/nil"))))
        (is (= "later" (:body (http port "/fut"))))
        (is (= (apply str (map #(str % ",") (range 100))) (:body (http port "/stream"))))))))

(deftest ring-async-handler
  (with-server [srv (httpd/serve-ring! {:port 0 :reactors 1 :async? true}
                                       (fn [req respond raise]
                                         (if (= "/fail" (:uri req))
                                           (raise (ex-info "raised (expected by the test)" {}))
                                           (future (respond {:status 200 :body "async"})))))]
    (is (= "async" (:body (http (httpd/port srv) "/"))))
    (is (= 500 (:status (http (httpd/port srv) "/fail"))))))

(deftest executor-option-runs-blocking-handlers-off-the-reactor
  (let [pool (java.util.concurrent.Executors/newFixedThreadPool 2)]
    (try
      (with-server [srv (httpd/serve! {:port 0 :reactors 1 :executor pool}
                                      [:GET #"^/$" (fn [conn]
                                                     (Thread/sleep 10)
                                                     (httpd/send-html! conn (.getName (Thread/currentThread))))])]
        (is (not (str/starts-with? (:body (http (httpd/port srv) "/")) "peloton-http"))))
      (finally (.shutdown pool)))))

(deftest port-in-use-is-a-clear-error
  (with-server [srv (httpd/serve! {:port 0 :reactors 1} [:GET #"^/$" httpd/not-found!])]
    (is (thrown-with-msg? java.io.IOException #"cannot listen on"
                          (httpd/serve! {:port (httpd/port srv) :reactors 1})))))

(deftest get-routes-answer-head-without-a-body
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                                  [:GET #"^/$" (fn [conn] (httpd/send-html! conn "hello"))])]
    (let [r (http (httpd/port srv) "HEAD" "/" nil)]
      (is (= 200 (:status r)))
      (is (= "5" (get-in r [:headers "content-length"])))
      (is (= "" (:body r))))))

(deftest a-slow-reader-backs-up-the-producer
  (let [state (promise)
        chunk (apply str (repeat 65536 "x"))]
    (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                                    [:GET #"^/$" (fn [conn]
                                                   (httpd/start-chunked-response! conn)
                                                   (loop [i 0]
                                                     (if (or (httpd/backed-up? conn) (= i 1000))
                                                       (deliver state [i (httpd/backed-up? conn) (httpd/writable conn)])
                                                       (do (httpd/send-chunk! conn chunk)
                                                           (httpd/flush-output! conn)
                                                           (recur (inc i))))))])]
      (with-open [sock (Socket. "127.0.0.1" (int (httpd/port srv)))]
        (.write (.getOutputStream sock) (.getBytes "GET / HTTP/1.1\r\nHost: x\r\n\r\n" StandardCharsets/US_ASCII))
        (let [[n backed w] (deref state 10000 nil)]
          (is (true? backed) "a client that does not read backs the writer up")
          (is (< n 1000))
          (is (not (realized? w)))
          ;; The last bytes may be read before the reactor has delivered `w`: a blocking read
          ;; after them would wait for data that never comes, so read in short slices until `w`
          ;; is delivered or 10 s have passed.
          (.setSoTimeout sock 100)
          (let [in (.getInputStream sock)
                buf (byte-array 65536)
                deadline (+ (System/currentTimeMillis) 10000)]
            (loop []
              (when (and (not (realized? w)) (< (System/currentTimeMillis) deadline)
                         (try (not= -1 (.read in buf))
                              (catch java.net.SocketTimeoutException _ true)))
                (recur))))
          (is (true? (deref w 10000 :timeout)) "reading drains it"))))))

(defn- raw-exchange
  "Sends `request` on a fresh socket and answers everything the server sent
  until it closed (the request asks for Connection: close)."
  ^String [port ^String request]
  (with-open [sock (Socket. "127.0.0.1" (int port))]
    (.setSoTimeout sock 5000)
    (doto (.getOutputStream sock)
      (.write (.getBytes request StandardCharsets/ISO_8859_1))
      (.flush))
    (String. (.readAllBytes (.getInputStream sock)) StandardCharsets/ISO_8859_1)))

(deftest routes-and-ring-see-the-normalized-path-and-target-host
  (with-server [srv (httpd/serve! {:port 0 :reactors 1}
                                  [:GET #"^/admin" (fn [conn] (httpd/send-html! conn "ADMIN"))]
                                  [:GET #"^/(p)ublic$" (fn [conn g]
                                                         (httpd/send-html!
                                                          conn (str g " " (httpd/request-path conn)
                                                                    " " (httpd/request-uri conn))))])]
    (let [port (httpd/port srv)
          r (raw-exchange port "GET /admin/../public HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
      (is (str/ends-with? r "p /public /admin/../public") r)
      (is (str/includes? (raw-exchange port "GET /%61dmin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                         "ADMIN"))
      (is (str/starts-with? (raw-exchange port "GET /../x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                            "HTTP/1.1 400 "))))
  (let [seen (promise)]
    (with-server [srv (httpd/serve-ring! {:port 0 :reactors 1}
                                         (fn [req]
                                           (deliver seen (dissoc req :peloton/conn :body))
                                           {:status 200 :body "ok"}))]
      (let [r (raw-exchange (httpd/port srv)
                            (str "GET http://example.org:8443/a/./b/%7Ec?q=1 HTTP/1.1\r\n"
                                 "Host: other:81\r\nConnection: close\r\n\r\n"))
            req (deref seen 1000 nil)]
        (is (str/starts-with? r "HTTP/1.1 200 "))
        (is (= "example.org" (:server-name req)))
        (is (= 8443 (:server-port req)))
        (is (= "/a/b/~c" (:uri req)))
        (is (= "q=1" (:query-string req)))
        (is (= "http://example.org:8443/a/./b/%7Ec?q=1" (:peloton/raw-uri req)))))))
