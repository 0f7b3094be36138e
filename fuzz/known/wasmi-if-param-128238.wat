(module
  (type (;0;) (func (param i32) (result i32)))
  (type (;1;) (func (param i64 i32) (result i64)))
  (type (;2;) (func (param i32 i64 f32 f64)))
  (type (;3;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;4;) (func (param i32 i32) (result i32)))
  (import "host" "mix" (func (;0;) (type 0) (param i32) (result i32)))
  (import "host" "sink" (func (;1;) (type 2) (param i32 i64 f32 f64)))
  (import "wasi_snapshot_preview1" "fd_write" (func (;2;) (type 3) (param i32 i32 i32 i32) (result i32)))
  (global (;0;) (mut i64) i64.const 0)
  (global (;1;) (mut i64) i64.const 0)
  (global (;2;) (mut i32) i32.const 0)
  (global (;3;) (mut i32) i32.const 0)
  (global (;4;) (mut v128) v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  (global (;5;) (mut i32) i32.const 1000)
  (export "6" (func 6))
  (export "'" (global 3))
  (func (;3;) (type 0) (param i32) (result i32)
    unreachable
  )
  (func (;4;) (type 0) (param i32) (result i32)
    unreachable
  )
  (func (;5;) (type 4) (param i32 i32) (result i32)
    unreachable
  )
  (func (;6;) (type 1) (param i64 i32) (result i64)
    (local i64 f64 v128 f32 f32 v128 v128 v128 f64 f64 f64 f64)
    global.get 5
    if ;; label = @1
    end
    global.get 5
    i32.const 1
    i32.sub
    global.set 5
    block (result externref) ;; label = @1
      local.get 1
      i64.const 2147483648
      i32.const -268435457
      i16x8.splat
      i64.const 1443550087485450270
      i32.const 988
      i64.const 15192441341932207
      f64.convert_i64_s
      f64.const nan (;=NaN;)
      local.get 3
      local.get 3
      f64.eq
      select
      f64.const 0x1.fd58da8e91bd2p-314 (;=0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005961495509430931;)
      f64.lt
      if (type 0) (param i32) (result i32) ;; label = @2
        if ;; label = @3
          block (result externref) ;; label = @4
            loop (result v128) ;; label = @5
              global.get 5
              if ;; label = @6
              end
              f64.const -nan:0xfffffffffffef (;=NaN;)
              f64.const -nan:0xf7fffffffffff (;=NaN;)
              f64.gt
              if ;; label = @6
                loop (result i32) ;; label = @7
                  global.get 5
                  if ;; label = @8
                    unreachable
                    loop (type 0) (param i32) (result i32) ;; label = @9
                      loop (result v128) ;; label = @10
                        global.get 5
                        global.set 5
                        v128.const i32x4 0x32bb1a64 0x186b6eab 0x2240aa75 0xd7905504
                        v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000
                        local.get 9
                        v128.bitselect
                        i16x8.all_true
                        f32.convert_i32_s
                        ref.null extern
                        ref.null extern
                        i32.const 32
                        f64.convert_i32_s
                        i32.const 534215665
                        ref.null extern
                        ref.is_null
                        i32.ge_s
                        local.set 1
                        f32.const -0x1.4be34ap+10 (;=-1327.5514;)
                        i64.trunc_f32_u
                        f64.convert_i64_s
                        f64.const nan (;=NaN;)
                        local.get 12
                        local.get 12
                        f64.eq
                        select
                        f64.const nan (;=NaN;)
                        local.get 13
                        local.get 13
                        f64.eq
                        select
                        i64.reinterpret_f64
                        f64.const -nan:0xfffffffbfffff (;=NaN;)
                        ref.null func
                        f32.const -0x1p+121 (;=-2658456000000000000000000000000000000;)
                        local.get 0
                        loop ;; label = @11
                          global.get 5
                          if ;; label = @12
                          end
                          global.get 5
                          global.set 5
                          v128.const i32x4 0xe494ca85 0xfef54d70 0xf510772d 0xe5cb0d69
                          i64x2.extract_lane 0
                          f64.convert_i64_s
                          f64.const 0x1.d967d0c96db4cp+556 (;=436185224695683400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000;)
                          local.get 1
                          f32.reinterpret_i32
                          f64.const 0x1.fffffffffffffp+1023 (;=179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000;)
                          i64.reinterpret_f64
                          global.get 0
                          i64.xor
                          global.set 0
                          i32.reinterpret_f32
                          global.get 2
                          i32.xor
                          global.set 2
                          i64.reinterpret_f64
                          global.get 0
                          i64.xor
                          global.set 0
                          i64.reinterpret_f64
                          global.get 0
                          i64.xor
                          global.set 0
                        end
                        global.get 1
                        i64.xor
                        global.set 1
                        i32.reinterpret_f32
                        global.get 2
                        i32.xor
                        global.set 2
                        drop
                        i64.reinterpret_f64
                        i64.xor
                        global.set 1
                        i64.reinterpret_f64
                        global.get 0
                        i64.xor
                        global.set 0
                        drop
                        drop
                        i32.reinterpret_f32
                        global.get 2
                        i32.xor
                        global.set 2
                        v128.const i32x4 0xdf27abd9 0xb3cdda7c 0xa62320fa 0x485dbf56
                      end
                      global.set 4
                    end
                    global.set 3
                  end
                  i32.const 1073741823
                end
                global.get 3
                i32.xor
                global.set 3
              end
              v128.const i32x4 0xf65c0cc9 0x9427cc79 0x994446d5 0xabf09295
            end
            global.get 4
            v128.xor
            global.set 4
            ref.null extern
          end
          drop
        end
        i32.const -4
      end
      global.set 3
      global.get 1
      i64.xor
      global.set 1
      global.set 4
      global.get 1
      i64.xor
      global.set 1
      global.set 3
      ref.null extern
    end
    drop
    i64.const 64
  )
)