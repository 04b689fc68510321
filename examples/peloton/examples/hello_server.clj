(ns peloton.examples.hello-server
  "The original README's web example on a port given on the command line
  (default 8080): the hello page at / and the live counter at /chunked. With a
  PEM certificate chain and key after the port it serves HTTPS.
  SIGTERM stops it gracefully. The system property `peloton.idle-timeout`
  (seconds) changes the keep-alive idle timeout, for the idle-connection
  memory benchmark; `peloton.reactors` the number of reactors (default: one
  per core), for comparing thread counts with nginx's `worker_processes`."
  (:require [peloton.httpd :as httpd]
            [web-example]))

(defn -main [& [port cert key]]
  (let [port (Integer/parseInt (or port "8080"))
        idle (some-> (System/getProperty "peloton.idle-timeout") Double/parseDouble)
        reactors (some-> (System/getProperty "peloton.reactors") Long/parseLong)
        server (httpd/serve! (cond-> {:ports [port] :listen-backlog 1024 :shutdown-grace 2}
                               idle (assoc :idle-timeout idle)
                               reactors (assoc :reactors reactors)
                               cert (assoc :tls {:cert cert :key key}))
                 [:GET #"^/chunked$" #'web-example/on-chunked]
                 [:GET #"^/$" #'web-example/on-index])]
    (println (str "Peloton serving " (if cert "https" "http") "://127.0.0.1:" (httpd/port server) "/ (Ctrl-C stops)"))))
