;; The same tiny application for Leiningen (see pom.xml beside this file): the README's
;; Leiningen snippet, checked by CI with `lein with-profile -base run` on a copy of this
;; directory outside the source tree.
(defproject example/peloton-consumer "1.0"
  :dependencies [[org.clojure/clojure "1.12.6"]
                 [peloton/peloton "0.1.0-SNAPSHOT"]
                 [org.slf4j/slf4j-simple "2.0.17"]]
  :source-paths ["src"]
  :main consumer.main)
