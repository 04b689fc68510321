(ns peloton.options-use-test
  "Every public options map of the HTTP server and client refuses what it does
  not understand, naming the option (and the closest known one) or what a
  value should be; valid maps still serve over real sockets."
  (:require [clojure.string :as str]
            [clojure.test :refer [deftest is testing]]
            [peloton.fut :as f]
            [peloton.http :as http]
            [peloton.httpd :as httpd])
  (:import (java.net URI)
           (peloton.fut Fut)
           (java.net.http HttpClient HttpRequest HttpResponse HttpResponse$BodyHandlers)
           (java.time Duration)))

(set! *warn-on-reflection* true)

(defn- refusal
  "The message of the IllegalArgumentException that calling `f` throws, or
  :no-error (and the server it started is stopped)."
  [f]
  (try
    (let [srv (f)]
      (when (:servers srv) (httpd/stop-server! srv 0))
      :no-error)
    (catch IllegalArgumentException e (.getMessage e))))

(defn- hello [conn] (httpd/send-html! conn "hi"))

(defn- get-status [port path]
  (let [req (-> (HttpRequest/newBuilder (URI/create (str "http://127.0.0.1:" port path)))
                (.timeout (Duration/ofSeconds 10)) (.build))]
    (.statusCode ^HttpResponse (.send (HttpClient/newHttpClient) req (HttpResponse$BodyHandlers/discarding)))))

(deftest serve!-refuses-unknown-keys-naming-the-closest
  (let [m (refusal #(httpd/serve! {:prot 8093} [:GET #"^/$" hello]))]
    (is (str/starts-with? m "serve!: unknown option :prot (did you mean :port?)") m))
  (let [m (refusal #(httpd/serve! {:port 0 :idle-timout 5} [:GET #"^/$" hello]))]
    (is (str/includes? m "unknown option :idle-timout (did you mean :idle-timeout?)") m))
  (let [m (refusal #(httpd/start-server! {:port 0 :max-bdy 10} hello))]
    (is (str/starts-with? m "start-server!: unknown option :max-bdy (did you mean :max-body?)") m))
  (let [m (refusal #(httpd/serve-ring! {:port 0 :asnyc? true} (fn [_] {:status 200})))]
    (is (str/starts-with? m "serve-ring!: unknown option :asnyc? (did you mean :async?") m)))

(deftest serve!-refuses-values-of-the-wrong-type-saying-what-it-expects
  (is (= "serve!: option :port expects a port number 0-65535 (0 picks a free one), got \"8094\" (java.lang.String)"
         (refusal #(httpd/serve! {:port "8094"} [:GET #"^/$" hello]))))
  (is (str/starts-with? (refusal #(httpd/serve! {:ports 8080} [:GET #"^/$" hello]))
                        "serve!: option :ports expects a non-empty vector of port numbers 0-65535, got 8080"))
  (is (str/includes? (refusal #(httpd/serve! {:ports []} [:GET #"^/$" hello])) ":ports expects"))
  (is (str/includes? (refusal #(httpd/start-server! {:port 0 :idle-timeout "60"} hello))
                     ":idle-timeout expects a positive number of seconds"))
  (is (str/includes? (refusal #(httpd/start-server! {:port 0 :executor 4} hello))
                     ":executor expects a java.util.concurrent.Executor"))
  (is (str/includes? (refusal #(httpd/serve-ring! {:port 0 :async? "yes"} (fn [_] {:status 200})))
                     ":async? expects true or false"))
  (is (str/includes? (refusal #(httpd/serve! {:port 0 :ports [0]} [:GET #"^/$" hello]))
                     "give :port or :ports, not both"))
  (is (str/includes? (refusal #(httpd/serve! [:port 0] [:GET #"^/$" hello]))
                     "options must be a map")))

(deftest route-methods-must-be-real
  (let [m (refusal #(httpd/serve! {:port 0} [:FETCH #"^/$" hello]))]
    (is (str/includes? m "unknown method :FETCH") m)
    (is (str/includes? m "valid: :any or one of :CONNECT :DELETE :GET :HEAD :OPTIONS :PATCH :POST :PUT :TRACE") m))
  (is (str/includes? (refusal #(httpd/serve! {:port 0} [:GTE #"^/$" hello])) "(did you mean :GET?)"))
  (is (str/includes? (refusal #(httpd/serve! {:port 0} [nil #"^/$" hello])) "unknown method nil"))
  (is (str/includes? (refusal #(httpd/serve! {:port 0} [:GET "^/$" hello])) "route needs a regex"))
  (is (str/includes? (refusal #(httpd/serve! {:port 0} [:GET #"^/$"])) "a route is [method regex handler"))
  (is (str/includes? (refusal #(httpd/serve! {:port 0} [:GET #"^/$" "not a fn"])) "needs a handler function")))

(deftest valid-options-and-methods-in-any-case-serve
  (let [srv (httpd/serve! {:ports [0] :reactors 1 :idle-timeout 0.5 :max-body 1024}
                          [:get #"^/a$" hello]
                          ["PATCH" #"^/b$" hello]
                          [:any #"^/c$" hello])]
    (try
      (is (= 200 (get-status (httpd/port srv) "/a")))
      (is (= 200 (get-status (httpd/port srv) "/c")))
      (finally (httpd/stop-server! srv 0))))
  (let [srv (httpd/serve-ring! {:port 0 :async? false :host "127.0.0.1" :header-timeout nil}
                               (fn [_] {:status 204}))]
    (try
      (is (= 204 (get-status (httpd/port srv) "/")))
      (finally (httpd/stop-server! srv 0)))))

(deftest http-client-options-are-checked
  (let [m (refusal #(http/client {:max-connection 2}))]
    (is (str/starts-with? m "client: unknown option :max-connection (did you mean :max-connections?)") m))
  (is (str/includes? (refusal #(http/client {:timeout "5"})) "client: option :timeout expects a positive number of seconds"))
  (let [srv (httpd/serve! {:port 0 :reactors 1} [:GET #"^/$" hello])
        url (str "http://127.0.0.1:" (httpd/port srv) "/")
        error-of (fn [f]
                   (let [^Fut x (f)]
                     (deref (f/recover x (fn [_] nil)) 10000 nil)
                     (some-> (.error x) .getMessage)))]
    (try
      (testing "request! fails its fut, naming the option"
        (let [msg (error-of #(http/request! url :timout 5))]
          (is (str/starts-with? (str msg) "request!: unknown option :timout (did you mean :timeout?)") msg))
        (is (str/includes? (error-of #(http/get! url :follow-redirects true))
                           "unknown option :follow-redirects (did you mean :follow-redirects?"))
        (is (str/includes? (error-of #(http/post! url {:as :json}))
                           "request!: option :as expects one of :string :bytes :stream, got :json"))
        (is (str/includes? (error-of #(http/get! url :timeout "5"))
                           "option :timeout expects a positive number of seconds")))
      (testing "valid options still work"
        (is (= 200 (:status (deref (http/get! url :timeout 5 :as :bytes :headers {"x-a" "1"}) 10000 nil)))))
      (finally (httpd/stop-server! srv 0)))))

(deftest file-handler-and-ring-handler-options-are-checked
  (is (str/starts-with? (refusal #(httpd/create-file-handler "." :index "x.html"))
                        "create-file-handler: unknown option :index (did you mean :index-file?)"))
  (is (str/includes? (refusal #(httpd/create-file-handler "." :serve-hidden? "no"))
                     "option :serve-hidden? expects true or false"))
  (is (str/includes? (refusal #(httpd/create-file-handler "." :classpath?))
                     "options must be key/value pairs"))
  (is (str/starts-with? (refusal #(httpd/ring-handler (fn [_] {:status 200}) {:asyn? true}))
                        "ring-handler: unknown option :asyn? (did you mean :async??)"))
  (testing "valid ones still serve"
    (let [srv (httpd/serve! {:port 0 :reactors 1}
                            [:GET #"^/f/(.*)$" (httpd/create-file-handler "examples/demo-files" :index-file nil
                                                                          :cache-control "no-cache")]
                            [:GET #"^/r$" (httpd/ring-handler (fn [_] {:status 202}) {:async? false})])]
      (try
        (is (= 200 (get-status (httpd/port srv) "/f/hello.txt")))
        (is (= 202 (get-status (httpd/port srv) "/r")))
        (finally (httpd/stop-server! srv 0))))))
