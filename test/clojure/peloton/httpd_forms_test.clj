(ns peloton.httpd-forms-test
  "query-data, post-data and post-data-map as their docstrings promise: a
  repeated key's values as a vector, over real requests."
  (:require [clojure.test :refer [deftest is]]
            [peloton.httpd :as httpd])
  (:import (java.net URI)
           (java.net.http HttpClient HttpRequest HttpRequest$BodyPublishers HttpResponse
                          HttpResponse$BodyHandlers)
           (java.time Duration)))

(set! *warn-on-reflection* true)

(deftest repeated-keys-come-as-vectors
  (let [seen (atom {})
        srv (httpd/serve! {:port 0 :reactors 1}
                          [:any #"^/f$" (fn [conn]
                                          (reset! seen {:query (httpd/query-data conn)
                                                        :post (httpd/post-data conn)
                                                        :post-map (httpd/post-data-map conn)})
                                          (httpd/send-html! conn "ok"))])
        req (-> (HttpRequest/newBuilder (URI/create (str "http://127.0.0.1:" (httpd/port srv)
                                                         "/f?a=1&a=2&b=x%20y")))
                (.timeout (Duration/ofSeconds 10))
                (.header "Content-Type" "application/x-www-form-urlencoded")
                (.POST (HttpRequest$BodyPublishers/ofString "t=1&t=2&t=3&u=v"))
                (.build))]
    (try
      (is (= 200 (.statusCode ^HttpResponse (.send (HttpClient/newHttpClient) req
                                                   (HttpResponse$BodyHandlers/ofString)))))
      (let [{:keys [query post post-map]} @seen]
        (is (= {"a" ["1" "2"] "b" "x y"} query))
        (is (vector? (get query "a")))
        (is (= {"t" ["1" "2" "3"] "u" "v"} post))
        (is (vector? (get post "t")))
        (is (= {:t ["1" "2" "3"] :u "v"} post-map))
        (is (vector? (:t post-map))))
      (finally (httpd/stop-server! srv 0)))))
