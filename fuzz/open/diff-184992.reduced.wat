(module
  (type (;0;) (func (param i32) (result i32)))
  (type (;1;) (func (param i64 i32) (result i64)))
  (type (;2;) (func (param i32 i64 f32 f64)))
  (type (;3;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;4;) (func (param i32 i32) (result i32)))
  (type (;5;) (func))
  (type (;6;) (func))
  (import "host" "mix" (func (;0;) (type 0) (param i32) (result i32)))
  (import "host" "sink" (func (;1;) (type 2) (param i32 i64 f32 f64)))
  (import "wasi_snapshot_preview1" "fd_write" (func (;2;) (type 3) (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (;3;) (type 4) (param i32 i32) (result i32)))
  (table (;0;) 0 12 funcref)
  (memory (;0;) 4 10)
  (memory (;1;) 0 3)
  (global (;0;) (mut i32) i32.const 0)
  (global (;1;) (mut i64) i64.const 0)
  (global (;2;) (mut v128) v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  (global (;3;) (mut i32) i32.const 0)
  (global (;4;) (mut i64) i64.const 0)
  (global (;5;) (mut i32) i32.const 1000)
  (export "5" (func 5))
  (elem (;0;) declare func)
  (elem (;1;) func)
  (func (;4;) (type 0) (param i32) (result i32)
    (local v128 i64 v128 v128 f32 v128 v128 v128 v128 v128 v128 f32)
    global.get 5
    i32.eqz
    if ;; label = @1
    end
    table.size 0
    f64.convert_i32_s
    ref.null extern
    i64.const -2876069628024369405
    table.size 0
    v128.load32x2_u 1
    loop ;; label = @1
      global.get 5
      block ;; label = @2
        table.size 0
        f32.load offset=124799 align=1
        v128.const i32x4 0x749652ff 0x474d4445 0xe2f91f7f 0x6564acc1
        i32.const 1048575
        i64.load32_s offset=19045 align=2
        ref.null extern
        v128.const i32x4 0xa8424f0a 0x72894a87 0x5cd22778 0x85de9a42
        v128.const i32x4 0x00000000 0x7ff80000 0x00000000 0x7ff80000
        local.get 4
        v128.bitselect
        i32x4.extract_lane 0
        f32.const 0x1.ffffp-132 (;=0.000000000000000000000000000000000000000367339;)
        f32.const nan (;=NaN;)
        local.get 5
        local.get 5
        f32.eq
        select
        v128.const i32x4 0x639d93c3 0x07c29dc4 0xfd8c9914 0xcbc38268
        i16x8.bitmask
        v128.load offset=67410
        v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000
        local.get 6
        local.get 6
        f32x4.eq
        v128.bitselect
        ref.null extern
        loop ;; label = @3
          global.get 5
          global.set 5
          f32.const 0x1.fffffep-112 (;=0.00000000000000000000000000000000038518597;)
          i64.trunc_f32_s
          i64x2.splat
          loop ;; label = @4
            br 0 (;@4;)
            loop (type 5) ;; label = @5
              global.get 5
              v128.load16_splat 1 align=1
              loop (type 6) ;; label = @6
                global.get 5
                loop (type 5) ;; label = @7
                  global.get 5
                  if ;; label = @8
                  end
                  table.size 0
                  block (type 5) ;; label = @8
                    v128.const i32x4 0x04bbc69e 0x38ad26b6 0xb15144e1 0xd21dec8e
                    loop (type 6) ;; label = @9
                      global.get 5
                      if ;; label = @10
                      end
                      global.get 5
                      i32.const 1
                      i32.sub
                      global.set 5
                      memory.size
                      i16x8.splat
                      i32x4.extract_lane 3
                      i64.extend_i32_s
                      memory.size
                      call 5
                      i32.wrap_i64
                      block (type 0) (param i32) (result i32) ;; label = @10
                        i64.const -8193
                        f32.const 0x1p+1 (;=2;)
                        i32.const -1520918499
                        v128.load32x2_u offset=218921 align=1
                        v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000
                        local.get 10
                        v128.bitselect
                        i8x16.bitmask
                        i64.load32_u offset=234047 align=1
                        local.set 2
                        i64.trunc_sat_f32_u
                        i64x2.splat
                        i8x16.extract_lane_s 10
                        f32.reinterpret_i32
                        f32.const nan (;=NaN;)
                        local.get 12
                        local.get 12
                        f32.eq
                        select
                        f64.promote_f32
                        i32.trunc_sat_f64_s
                        v128.load16x4_u offset=246255 align=4
                        local.set 3
                        local.set 2
                        f64.const -0x1.aaaaaaaaaaaaap-341 (;=-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000037206620809969885;)
                        memory.size
                        i32x4.splat
                        i32x4.extract_lane 0
                        global.get 0
                        i32.xor
                        global.set 0
                        i64.reinterpret_f64
                        global.get 1
                        i64.xor
                        global.set 1
                        drop
                        i32.const -1024
                      end
                      global.get 0
                      i32.xor
                      global.set 0
                    end
                    global.get 2
                    v128.xor
                    global.set 2
                  end
                  global.get 0
                  i32.xor
                  global.set 0
                end
                global.get 0
                i32.xor
                global.set 0
              end
              global.get 2
              v128.xor
              global.set 2
            end
          end
          global.set 2
        end
        drop
        global.get 2
        v128.xor
        global.set 2
        i32.reinterpret_f32
        global.get 3
        i32.xor
        global.set 3
        global.set 0
        drop
        global.set 4
        global.get 2
        v128.xor
        global.set 2
        i32.reinterpret_f32
        global.get 3
        i32.xor
        global.set 3
      end
      global.get 0
      i32.xor
      global.set 0
    end
    global.get 2
    v128.xor
    global.set 2
    global.set 4
    drop
    i64.reinterpret_f64
    global.get 1
    i64.xor
    global.set 1
    i32.const 2124304966
  )
  (func (;5;) (type 1) (param i64 i32) (result i64)
    (local i64 f64 v128 v128 v128 f32 v128 f32 f64 f64 f64 f64 f64 f32 f32 f32)
    global.get 5
    i32.eqz
    if ;; label = @1
    end
    global.get 5
    i64.const -576460752303423489
    i32.wrap_i64
    block (type 6) ;; label = @1
      i32.const 511
      call 4
      br 0 (;@1;)
    end
    unreachable
  )
)