//! SIMD and relaxed SIMD in the interpreter: `v128` values through every
//! place a value can be (the slot contract), memory accesses and their
//! bounds, and results checked against values computed here.

use std::sync::Arc;

use wamr_interp::Interpreter;
use wamr_runtime::{
    Config, Extern, Features, FuncType, InstanceId, Module, Store, TrapKind, Val, ValType,
};

fn config() -> Config {
    Config::default().with_features(Features {
        simd: true,
        relaxed_simd: true,
        ..Features::default()
    })
}

fn instantiate(store: &mut Store, wat: &str, imports: &[Extern]) -> InstanceId {
    let module = Module::new(store.config(), &wat::parse_str(wat).unwrap()).unwrap();
    store.instantiate(&module, imports).unwrap()
}

fn setup(wat: &str) -> (Store, InstanceId) {
    let mut store = Store::new(config());
    store.set_executor(Arc::new(Interpreter::new()));
    let inst = instantiate(&mut store, wat, &[]);
    (store, inst)
}

fn call(
    s: &mut Store,
    inst: InstanceId,
    name: &str,
    args: &[Val],
) -> wamr_runtime::Result<Vec<Val>> {
    let Some(Extern::Func(f)) = s.export(inst, name) else {
        panic!("no export {name}");
    };
    s.call(f, args)
}

/// A v128 from four i32 lanes, lane 0 first.
fn i32x4(lanes: [u32; 4]) -> u128 {
    lanes
        .iter()
        .enumerate()
        .fold(0, |v, (i, &l)| v | (l as u128) << (32 * i))
}

fn lanes_i32(v: &Val) -> [u32; 4] {
    let Val::V128(v) = *v else {
        panic!("not a v128: {v:?}")
    };
    std::array::from_fn(|i| (v >> (32 * i)) as u32)
}

fn lanes_f32(v: &Val) -> [f32; 4] {
    lanes_i32(v).map(f32::from_bits)
}

fn lanes_i16(v: &Val) -> [i16; 8] {
    let Val::V128(v) = *v else {
        panic!("not a v128: {v:?}")
    };
    std::array::from_fn(|i| (v >> (16 * i)) as u16 as i16)
}

const A: u128 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
const B: u128 = 0xfedc_ba98_7654_3210_0123_4567_89ab_cdef;

#[test]
fn v128_values_cross_calls_locals_blocks_and_branches() {
    // Scalars after v128s must land in the right slots everywhere.
    let (mut s, i) = setup(
        r#"(module
            (func $swap (param v128 i32 v128) (result v128 i32 v128)
              (local.get 2) (local.get 1) (local.get 0))
            (func (export "run") (param i32 v128 f64 v128) (result i32 v128 f64 v128)
              (local i64 v128 i32)
              (local.set 5 (v128.xor (local.get 1) (local.get 3)))
              (local.set 6 (i32.add (local.get 0) (i32.const 1)))
              (local.get 6)
              (block (param i32) (result v128 i32 v128)
                (drop)
                (call $swap (local.get 1) (local.get 6) (local.get 3))
                (br_table 0 0 (local.get 0)))
              (local.set 3)
              (local.set 6)
              (local.set 1)
              (local.get 6)
              (local.get 5)
              (local.get 2)
              (select (local.get 1) (local.get 3) (local.get 0))))"#,
    );
    for (arg, picked) in [(0, A), (1, B)] {
        let args = [
            Val::I32(arg),
            Val::V128(A),
            Val::F64(2.5f64.to_bits()),
            Val::V128(B),
        ];
        let r = call(&mut s, i, "run", &args).unwrap();
        let expected = [
            Val::I32(arg + 1),
            Val::V128(A ^ B),
            Val::F64(2.5f64.to_bits()),
            Val::V128(picked),
        ];
        assert_eq!(r, expected, "argument {arg}");
    }
}

#[test]
fn v128_blocks_loops_and_br_if_carry_both_halves() {
    let (mut s, i) = setup(
        r#"(module (func (export "sum") (param i32) (result v128)
            (local v128)
            (loop $l
              (local.set 1 (i32x4.add (local.get 1) (i32x4.splat (local.get 0))))
              (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (block (result v128)
              (br_if 0 (local.get 1) (i32.const 1))
              (drop)
              (v128.const i32x4 0 0 0 0))))"#,
    );
    let r = call(&mut s, i, "sum", &[Val::I32(10)]).unwrap();
    assert_eq!(lanes_i32(&r[0]), [55; 4]);
}

#[test]
fn host_functions_take_and_return_v128() {
    let mut store = Store::new(config());
    store.set_executor(Arc::new(Interpreter::new()));
    let host = store.add_host_func(
        FuncType::new(
            [ValType::I32, ValType::V128, ValType::I64],
            [ValType::V128, ValType::I64],
        ),
        Arc::new(|_, args, results| {
            let (Val::I32(a), Val::V128(v), Val::I64(b)) = (args[0], args[1], args[2]) else {
                panic!("bad arguments {args:?}")
            };
            results[0] = Val::V128(v.rotate_left(8) ^ a as u128);
            results[1] = Val::I64(b * 2);
            Ok(())
        }),
    );
    let inst = instantiate(
        &mut store,
        r#"(module (import "env" "h" (func $h (param i32 v128 i64) (result v128 i64)))
            (func (export "run") (param v128) (result v128 i64)
              (call $h (i32.const 7) (local.get 0) (i64.const 21))))"#,
        &[Extern::Func(host)],
    );
    let r = call(&mut store, inst, "run", &[Val::V128(A)]).unwrap();
    assert_eq!(r, [Val::V128(A.rotate_left(8) ^ 7), Val::I64(42)]);
}

#[test]
fn call_indirect_and_globals_hold_whole_v128s() {
    let (mut s, i) = setup(
        r#"(module
            (type $t (func (param v128 i32) (result v128)))
            (table funcref (elem $shl $neg))
            (global $g (mut v128) (v128.const i64x2 1 2))
            (func $shl (param v128 i32) (result v128) (i64x2.shl (local.get 0) (local.get 1)))
            (func $neg (param v128 i32) (result v128) (i64x2.neg (local.get 0)))
            (func (export "run") (param i32) (result v128)
              (global.set $g
                (call_indirect (type $t) (global.get $g) (i32.const 4) (local.get 0)))
              (global.get $g)))"#,
    );
    let r = call(&mut s, i, "run", &[Val::I32(0)]).unwrap();
    assert_eq!(r, [Val::V128(16 | 32 << 64)]);
    let r = call(&mut s, i, "run", &[Val::I32(1)]).unwrap();
    let neg = (-16i64 as u64 as u128) | (-32i64 as u64 as u128) << 64;
    assert_eq!(r, [Val::V128(neg)]);
    let err = call(&mut s, i, "run", &[Val::I32(2)]).unwrap_err();
    assert_eq!(err.as_trap().unwrap().kind(), TrapKind::UndefinedElement);
}

#[test]
fn memory_accesses_check_bounds_on_memory32_and_memory64() {
    for index in ["i32", "i64"] {
        let wat = format!(
            r#"(module
                (memory {index} 1)
                (func (export "load") (param {index}) (result v128) (v128.load (local.get 0)))
                (func (export "store") (param {index} v128) (v128.store (local.get 0) (local.get 1)))
                (func (export "lane") (param {index} v128) (result v128)
                  (v128.load32_lane offset=4 2 (local.get 0) (local.get 1)))
                (func (export "store_lane") (param {index} v128)
                  (v128.store16_lane 7 (local.get 0) (local.get 1)))
                (func (export "splat") (param {index}) (result v128) (v128.load16_splat (local.get 0)))
                (func (export "widen") (param {index}) (result v128) (v128.load8x8_s (local.get 0)))
                (func (export "zero") (param {index}) (result v128) (v128.load32_zero (local.get 0))))"#
        );
        let (mut s, i) = setup(&wat);
        let addr = |a: u64| {
            if index == "i32" {
                Val::I32(a as i32)
            } else {
                Val::I64(a as i64)
            }
        };
        let oob = |r: wamr_runtime::Result<Vec<Val>>| {
            let kind = r.unwrap_err().as_trap().unwrap().kind();
            assert_eq!(kind, TrapKind::MemoryOutOfBounds, "{index}");
        };
        call(&mut s, i, "store", &[addr(65536 - 16), Val::V128(B)]).unwrap();
        let r = call(&mut s, i, "load", &[addr(65536 - 16)]).unwrap();
        assert_eq!(r, [Val::V128(B)], "{index}");
        oob(call(&mut s, i, "load", &[addr(65536 - 15)]));
        oob(call(&mut s, i, "store", &[addr(65536 - 15), Val::V128(0)]));
        oob(call(&mut s, i, "load", &[addr(u32::MAX as u64)]));
        if index == "i64" {
            oob(call(&mut s, i, "load", &[addr(u64::MAX - 8)]));
        }

        call(&mut s, i, "store", &[addr(0), Val::V128(A)]).unwrap();
        let r = call(&mut s, i, "lane", &[addr(0), Val::V128(0)]).unwrap();
        assert_eq!(lanes_i32(&r[0]), [0, 0, 0x0706_0504, 0], "{index}");
        oob(call(&mut s, i, "lane", &[addr(65536 - 7), Val::V128(0)]));
        call(&mut s, i, "store_lane", &[addr(100), Val::V128(B)]).unwrap();
        let r = call(&mut s, i, "load", &[addr(100)]).unwrap();
        assert_eq!(lanes_i16(&r[0])[0], (B >> 112) as u16 as i16, "{index}");
        let r = call(&mut s, i, "splat", &[addr(2)]).unwrap();
        assert_eq!(lanes_i16(&r[0]), [0x0302; 8], "{index}");
        call(&mut s, i, "store", &[addr(200), Val::V128(B)]).unwrap();
        let r = call(&mut s, i, "widen", &[addr(200)]).unwrap();
        let bytes = B.to_le_bytes();
        assert_eq!(
            lanes_i16(&r[0]),
            std::array::from_fn(|k| bytes[k] as i8 as i16)
        );
        let r = call(&mut s, i, "zero", &[addr(200)]).unwrap();
        assert_eq!(r, [Val::V128(B as u32 as u128)], "{index}");
    }
}

#[test]
fn a_memory64_offset_beyond_32_bits_traps_instead_of_wrapping() {
    let (mut s, i) = setup(
        r#"(module (memory i64 1)
            (func (export "f") (param i64) (result v128)
              (v128.load offset=0x100000000 (local.get 0))))"#,
    );
    let err = call(&mut s, i, "f", &[Val::I64(-0x1_0000_0000)]).unwrap_err();
    assert_eq!(err.as_trap().unwrap().kind(), TrapKind::MemoryOutOfBounds);
}

#[test]
fn lane_operations_match_rust() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "q15") (param v128 v128) (result v128) (i16x8.q15mulr_sat_s (local.get 0) (local.get 1)))
            (func (export "dot") (param v128 v128) (result v128) (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
            (func (export "min") (param v128 v128) (result v128) (f32x4.min (local.get 0) (local.get 1)))
            (func (export "pmin") (param v128 v128) (result v128) (f32x4.pmin (local.get 0) (local.get 1)))
            (func (export "bitmask") (param v128) (result i32) (i8x16.bitmask (local.get 0)))
            (func (export "narrow") (param v128 v128) (result v128) (i8x16.narrow_i16x8_u (local.get 0) (local.get 1)))
            (func (export "shuffle") (param v128 v128) (result v128)
              (i8x16.shuffle 31 0 30 1 29 2 28 3 27 4 26 5 25 6 24 7 (local.get 0) (local.get 1)))
            (func (export "swizzle") (param v128 v128) (result v128) (i8x16.swizzle (local.get 0) (local.get 1)))
            (func (export "extract") (param v128) (result i32) (i8x16.extract_lane_s 15 (local.get 0)))
            (func (export "replace") (param v128 f64) (result v128) (f64x2.replace_lane 1 (local.get 0) (local.get 1)))
            (func (export "shr") (param v128 i32) (result v128) (i32x4.shr_s (local.get 0) (local.get 1))))"#,
    );
    let mut run = |name: &str, args: &[Val]| call(&mut s, i, name, args).unwrap().remove(0);

    let x = [i16::MIN, i16::MIN, 0x4000, -3, 12345, 1, -1, 300];
    let y = [i16::MIN, 1, 0x4000, 7, -23456, 1, -1, -300];
    let v16 = |l: [i16; 8]| {
        l.iter()
            .enumerate()
            .fold(0u128, |v, (k, &x)| v | (x as u16 as u128) << (16 * k))
    };
    let q15 = |a: i16, b: i16| ((a as i32 * b as i32 + 0x4000) >> 15).clamp(-32768, 32767) as i16;
    let r = run("q15", &[Val::V128(v16(x)), Val::V128(v16(y))]);
    assert_eq!(lanes_i16(&r), std::array::from_fn(|k| q15(x[k], y[k])));
    assert_eq!(lanes_i16(&r)[0], i16::MAX);

    let r = run("dot", &[Val::V128(v16(x)), Val::V128(v16(y))]);
    let dot = |k: usize| {
        (x[2 * k] as i32 * y[2 * k] as i32).wrapping_add(x[2 * k + 1] as i32 * y[2 * k + 1] as i32)
    };
    assert_eq!(lanes_i32(&r), std::array::from_fn(|k| dot(k) as u32));

    let f = |l: [f32; 4]| i32x4(l.map(f32::to_bits));
    let (a, b) = ([f32::NAN, -0.0, 1.0, 5.0], [1.0, 0.0, f32::NAN, -5.0]);
    let r = lanes_f32(&run("min", &[Val::V128(f(a)), Val::V128(f(b))]));
    assert!(r[0].is_nan() && r[2].is_nan(), "{r:?}");
    assert_eq!((r[1].to_bits(), r[3]), ((-0.0f32).to_bits(), -5.0));
    // pmin is `b < a ? b : a`: NaN comparisons keep `a`.
    let r = lanes_f32(&run("pmin", &[Val::V128(f(a)), Val::V128(f(b))]));
    assert!(r[0].is_nan(), "{r:?}");
    assert_eq!(
        (r[1].to_bits(), r[2], r[3]),
        ((-0.0f32).to_bits(), 1.0, -5.0)
    );

    let signs = B
        .to_le_bytes()
        .iter()
        .rev()
        .fold(0, |m, &b| m << 1 | (b >> 7) as i32);
    assert_eq!(signs, 0xf00f);
    assert_eq!(run("bitmask", &[Val::V128(B)]), Val::I32(signs));

    let r = run("narrow", &[Val::V128(v16(x)), Val::V128(v16(y))]);
    let Val::V128(r) = r else { unreachable!() };
    let expected: [u8; 16] = std::array::from_fn(|k| {
        let v = if k < 8 { x[k] } else { y[k - 8] };
        v.clamp(0, 255) as u8
    });
    assert_eq!(r.to_le_bytes(), expected);

    let (ab, bb) = (A.to_le_bytes(), B.to_le_bytes());
    let Val::V128(r) = run("shuffle", &[Val::V128(A), Val::V128(B)]) else {
        unreachable!()
    };
    let expected: [u8; 16] = std::array::from_fn(|k| {
        if k % 2 == 0 {
            bb[15 - k / 2]
        } else {
            ab[k / 2]
        }
    });
    assert_eq!(r.to_le_bytes(), expected);

    let Val::V128(r) = run("swizzle", &[Val::V128(B), Val::V128(A | 0xf0 << 8)]) else {
        unreachable!()
    };
    let idx = (A | 0xf0 << 8).to_le_bytes();
    let expected: [u8; 16] = std::array::from_fn(|k| bb.get(idx[k] as usize).copied().unwrap_or(0));
    assert_eq!(r.to_le_bytes(), expected);

    assert_eq!(
        run("extract", &[Val::V128(B)]),
        Val::I32(0xfe_u8 as i8 as i32)
    );
    let r = run("replace", &[Val::V128(A), Val::F64((-1.5f64).to_bits())]);
    assert_eq!(
        r,
        Val::V128(A & u64::MAX as u128 | ((-1.5f64).to_bits() as u128) << 64)
    );
    let r = run(
        "shr",
        &[
            Val::V128(i32x4([0x8000_0000, 16, 0xffff_fff0, 7])),
            Val::I32(33),
        ],
    );
    assert_eq!(lanes_i32(&r), [0xc000_0000, 8, 0xffff_fff8, 3]);
}

#[test]
fn relaxed_simd_has_the_documented_deterministic_semantics() {
    let (mut s, i) = setup(
        r#"(module
            (func (export "madd") (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
            (func (export "nmadd") (param v128 v128 v128) (result v128) (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
            (func (export "dot") (param v128 v128) (result v128) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
            (func (export "dot_add") (param v128 v128 v128) (result v128) (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
            (func (export "trunc") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
            (func (export "swizzle") (param v128 v128) (result v128) (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
            (func (export "laneselect") (param v128 v128 v128) (result v128) (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
            (func (export "min") (param v128 v128) (result v128) (f32x4.relaxed_min (local.get 0) (local.get 1)))
            (func (export "q15") (param v128 v128) (result v128) (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1))))"#,
    );
    let mut run = |name: &str, args: &[u128]| {
        let args: Vec<Val> = args.iter().map(|&v| Val::V128(v)).collect();
        call(&mut s, i, name, &args).unwrap().remove(0)
    };
    let f = |l: [f32; 4]| i32x4(l.map(f32::to_bits));

    // (1 + e)(1 - e) - 1 is -e^2 when fused, 0 when rounded first.
    let e = f32::EPSILON;
    let (a, b, c) = ([1.0 + e; 4], [1.0 - e; 4], [-1.0; 4]);
    let r = lanes_f32(&run("madd", &[f(a), f(b), f(c)]));
    assert_eq!(r, [-(e * e); 4]);
    let r = lanes_f32(&run("nmadd", &[f(a), f(b), f([1.0; 4])]));
    assert_eq!(r, [e * e; 4]);

    // Signed bytes on both sides; i16 sums wrap.
    let bytes = |v: [i8; 16]| u128::from_le_bytes(v.map(|b| b as u8));
    let x: [i8; 16] = std::array::from_fn(|k| if k < 2 { -128 } else { k as i8 * 9 - 70 });
    let y: [i8; 16] = std::array::from_fn(|k| if k < 2 { -128 } else { 60 - k as i8 * 7 });
    let r = lanes_i16(&run("dot", &[bytes(x), bytes(y)]));
    let pair = |k: usize| {
        (x[2 * k] as i16 * y[2 * k] as i16).wrapping_add(x[2 * k + 1] as i16 * y[2 * k + 1] as i16)
    };
    assert_eq!(r, std::array::from_fn(pair));
    assert_eq!(r[0], i16::MIN);
    let acc = [1, -1, i32::MAX, 7u32 as i32];
    let r = lanes_i32(&run(
        "dot_add",
        &[bytes(x), bytes(y), i32x4(acc.map(|v| v as u32))],
    ));
    let quad = |k: usize| {
        (4 * k..4 * k + 4).fold(acc[k], |s, j| s.wrapping_add(x[j] as i32 * y[j] as i32))
    };
    assert_eq!(r, std::array::from_fn(|k| quad(k) as u32));

    let r = lanes_i32(&run("trunc", &[f([f32::NAN, 3e9, -3e9, -2.7])]));
    assert_eq!(r, [0, i32::MAX as u32, i32::MIN as u32, -2i32 as u32]);

    let Val::V128(r) = run("swizzle", &[A, 0x80_20_10_0f]) else {
        unreachable!()
    };
    assert_eq!(r, 0x0f);

    let mask = i32x4([u32::MAX, 0, 0xffff_0000, 0x8000_0000]);
    let r = run("laneselect", &[A, B, mask]);
    assert_eq!(r, Val::V128((A & mask) | (B & !mask)));

    let r = lanes_f32(&run(
        "min",
        &[f([f32::NAN, -0.0, 2.0, 1.0]), f([0.0, 0.0, 1.0, f32::NAN])],
    ));
    assert!(r[0].is_nan() && r[3].is_nan(), "{r:?}");
    assert_eq!((r[1].to_bits(), r[2]), ((-0.0f32).to_bits(), 1.0));

    let r = lanes_i16(&run("q15", &[0x8000, 0x8000]));
    assert_eq!(r[0], i16::MAX);
}

#[test]
fn a_host_function_tail_called_with_more_results_than_arguments() {
    let mut store = Store::new(config());
    store.set_executor(Arc::new(Interpreter::new()));
    let host = store.add_host_func(
        FuncType::new([], [ValType::V128, ValType::V128, ValType::I32]),
        Arc::new(|_, _, results| {
            results[0] = Val::V128(A);
            results[1] = Val::V128(B);
            results[2] = Val::I32(-1);
            Ok(())
        }),
    );
    let inst = instantiate(
        &mut store,
        r#"(module (import "env" "h" (func $h (result v128 v128 i32)))
            (func (export "run") (result v128 v128 i32) (return_call $h)))"#,
        &[Extern::Func(host)],
    );
    let r = call(&mut store, inst, "run", &[]).unwrap();
    assert_eq!(r, [Val::V128(A), Val::V128(B), Val::I32(-1)]);
}
