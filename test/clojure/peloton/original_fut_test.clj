(ns peloton.original-fut-test
  "The original Peloton's fut tests (test/peloton/test/fut.clj), kept as
  regression tests. One deliberate change: the original's first fut delivered
  the list of `deliver!`'s arguments, so its tests destructured bindings as
  `[[v] a-fut]`; a Peloton fut holds one value, so they bind `v` directly."
  (:use peloton.fut)
  (:use clojure.test))

(deftest fut-test
  "test deliver/subscribe"
  (let [a-fut (fut)
        y (atom nil)]
    (is (nil? @y))
    (subscribe! a-fut (fn [x] (reset! y x)))
    (is (nil? @y))
    (deliver! a-fut "hello")
    (is (= @y "hello"))))

(deftest dofut-test
  (let [a-fut (fut)
        a-fut2 (fut)
        x (atom nil)
        y (atom nil)
        z (atom nil)]
    (is (nil? @y))
    (dofut
      [a-val0 a-fut
       a-val1 a-fut2
       quux 25]
      (reset! x quux)
      (reset! y a-val0)
      (reset! z a-val1))
    (is (nil? @x))
    (is (nil? @y))
    (is (nil? @z))
    (deliver! a-fut "hello there")
    (is (nil? @x))
    (is (nil? @y))
    (is (nil? @z))
    (deliver! a-fut2 "goodbye")
    (is (= 25 @x))
    (is (= "hello there" @y))
    (is (= "goodbye" @z))))

(deftest let-fut-test
  (let [a-fut (fut)
        a-fut2 (fut)
        x (atom nil)
        y (atom nil)
        z (atom nil)]
    (let-fut
      [a-val0 a-fut
       a-val1 a-fut2
       quux 25]
      (reset! x quux)
      (reset! y a-val0)
      (reset! z a-val1))
    (deliver! a-fut "hello there")
    (is (nil? @x))
    (deliver! a-fut2 "goodbye")
    (is (= 25 @x))
    (is (= "hello there" @y))
    (is (= "goodbye" @z))))

(deftest dofut-test2
  (let [f0 (fut)
        f1 (fut)
        c0 (atom nil)
        c1 (atom nil)]
    (dofut [v0 (f0)
            v1 (do
                 (reset! c0 :fired0)
                 f1)]
      (reset! c1 :fired1))
    (is (nil? @c0))
    (is (nil? @c1))
    (deliver! f0 "v0")
    (is (nil? @c1))
    (is (= @c0 :fired0))
    (deliver! f1 "v1")
    (is (= @c0 :fired0))
    (is (= @c1 :fired1))))

(deftest readme-example-shape
  "The README's program: (f 1) delivers, dofut adds the two loads."
  (let [load-a (fn [] (let [f (fut)] [f #(f 1)]))
        load-b (fn [] (let [f (fut)] [f #(f 2)]))
        [fa deliver-a] (load-a)
        [fb deliver-b] (load-b)
        out (dofut [a fa b fb] (+ a b))]
    (deliver-b)
    (is (not (realized? out)))
    (deliver-a)
    (is (= 3 @out))))
