(module
  (table 0 12 funcref)
  (memory 4 10)
  (memory 0 3)
  (global (mut i32) (i32.const 1000))
  (export "5" (func 1))
  (func (;0;) (param i32) (result i32)
    table.size 0
    v128.load32x2_u 1
    drop
    i32.const 7)
  (func (;1;) (param i64 i32) (result i64)
    block
      i32.const 511
      call 0
      br 0
    end
    unreachable))
