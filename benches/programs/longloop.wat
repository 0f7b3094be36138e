;; One call, one long loop: `run(n)` sums i*i over 0..n and stores as it
;; goes. Entered once, it never calls anything, so only on-stack
;; replacement can move it to native code (benches/tiers.py, part d).
(module
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_u (i32.mul (local.get $i) (local.get $i)))))
      (i32.store (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfffc))
        (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $acc) (i64.load (i32.const 40))))
)
