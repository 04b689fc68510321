(ns peloton.examples.hello
  "A small program on the reactor: three timers, then stop."
  (:require [peloton.reactor :as reactor]))

(defn -main [& _args]
  (reactor/with-reactor
    (println "Peloton reactor started; counting down...")
    (doseq [i [3 2 1]]
      (reactor/later (* 0.25 (- 4 i)) (println i)))
    (reactor/later 1.0
      (println "liftoff")
      (reactor/stop)))
  (shutdown-agents))
