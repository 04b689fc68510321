(ns consumer.main
  "A separate application on Peloton: serves a page, fetches it with Peloton's
  own client, prints what came back, and stops."
  (:require [clojure.tools.logging :as log]
            [peloton.fut :refer [dofut]]
            [peloton.http :as http]
            [peloton.httpd :as httpd]))

(defn on-hello
  "GET /hello/<name>"
  [conn who]
  (httpd/send-html! conn (str "Hello, " who)))

(defn fetch-once
  "Starts a server on a free port, GETs /hello/consumer from it and answers
  the response's status and body as a string."
  []
  (let [server (httpd/serve! {:port 0} [:GET #"^/hello/(\w+)$" #'on-hello])]
    (try
      (log/info "serving on port" (httpd/port server))
      (deref (dofut [{:keys [status body]} (http/get! (str "http://127.0.0.1:" (httpd/port server)
                                                             "/hello/consumer")
                                                        :timeout 10)]
               (str status " " body))
             15000 "no answer within 15 s")
      (finally (httpd/stop-server! server 1)))))

(defn -main
  "Prints the result of `fetch-once`."
  [& _]
  (println "consumer:" (fetch-once))
  (shutdown-agents))
