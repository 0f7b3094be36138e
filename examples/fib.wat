;; A small example module: recursive Fibonacci, plus a memory with a greeting.
(module $example
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from wamr-rs\n")
  (func $fib (export "fib") (param $n i32) (result i64)
    (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
      (then (i64.extend_i32_u (local.get $n)))
      (else
        (i64.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2))))))))
