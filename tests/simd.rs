//! SIMD under the AOT tier through the embedding API: v128 values cross
//! every boundary in two 64-bit slots (arguments, results, results in
//! memory, host calls, globals), and the relaxed operations compute the
//! deterministic results the tiers share, at the host's CPU level and at
//! the SSE2 baseline alike.
#![cfg(feature = "llvm")]

use wamr_rs::{
    CompileOptions, Config, Extern, Features, FuncType, Linker, Runtime, Store, Tier, Val, ValType,
};

/// Runtimes compiling for the host's best level and for the SSE2 baseline.
fn runtimes() -> Vec<Runtime> {
    let features = Features {
        simd: true,
        relaxed_simd: true,
        ..Features::default()
    };
    let config = Config::default().with_features(features);
    let baseline = CompileOptions {
        cpu: "x86-64".into(),
        ..CompileOptions::host(3)
    };
    let mut runtimes = vec![Runtime::with_config(config.clone())];
    if cfg!(target_arch = "x86_64") {
        runtimes.push(Runtime::with_config(config).with_compile_options(baseline));
    }
    runtimes
        .into_iter()
        .map(|r| r.with_tier(Tier::Aot).expect("the aot tier"))
        .collect()
}

fn v128(v: &Val) -> u128 {
    match v {
        Val::V128(x) => *x,
        other => panic!("not a v128: {other:?}"),
    }
}

fn from_i32x4(lanes: [i32; 4]) -> u128 {
    lanes
        .iter()
        .rev()
        .fold(0, |acc, &l| acc << 32 | u128::from(l as u32))
}

fn from_f32x4(lanes: [f32; 4]) -> u128 {
    from_i32x4(lanes.map(|f| f.to_bits() as i32))
}

fn from_f64x2(lanes: [f64; 2]) -> u128 {
    u128::from(lanes[0].to_bits()) | u128::from(lanes[1].to_bits()) << 64
}

fn i16x8(v: u128) -> [i16; 8] {
    std::array::from_fn(|i| (v >> (16 * i)) as u16 as i16)
}

fn i32x4(v: u128) -> [i32; 4] {
    std::array::from_fn(|i| (v >> (32 * i)) as u32 as i32)
}

fn from_i8x16(lanes: [i8; 16]) -> u128 {
    lanes
        .iter()
        .rev()
        .fold(0, |acc, &l| acc << 8 | u128::from(l as u8))
}

/// Instantiates `wat` (with `linker`'s imports) and calls export `name`.
fn call(runtime: &Runtime, wat: &str, name: &str, args: &[Val]) -> Vec<Val> {
    let mut store = runtime.new_store();
    let linker = Linker::new();
    run(runtime, &mut store, &linker, wat, name, args)
}

fn run(
    runtime: &Runtime,
    store: &mut Store,
    linker: &Linker,
    wat: &str,
    name: &str,
    args: &[Val],
) -> Vec<Val> {
    let module = runtime.load(&wat::parse_str(wat).unwrap()).expect("valid");
    let instance = linker.instantiate(store, &module).expect("instantiate");
    instance.call(store, name, args).expect("call")
}

#[test]
fn v128_arguments_and_results_cross_the_embedding_api() {
    let wat = r#"(module
        (func (export "f") (param v128 i32 v128 f64) (result v128)
            (i32x4.add (local.get 0) (i32x4.splat (local.get 1)))
            (v128.xor (local.get 2))
            (f64x2.replace_lane 1 (local.get 3))))"#;
    let a = from_i32x4([1, -2, 3, i32::MAX]);
    let b = 0xffff_0000_0000_0000_ffff_0000_0000_ffff_u128;
    for rt in runtimes() {
        let r = call(
            &rt,
            wat,
            "f",
            &[
                Val::V128(a),
                Val::I32(10),
                Val::V128(b),
                Val::F64(2.5f64.to_bits()),
            ],
        );
        let sum = from_i32x4([11, 8, 13, i32::MAX.wrapping_add(10)]) ^ b;
        let want = (sum & u128::from(u64::MAX)) | u128::from(2.5f64.to_bits()) << 64;
        assert_eq!(v128(&r[0]), want);
    }
}

#[test]
fn several_results_with_v128_return_in_memory() {
    // `inner` returns four values (in memory, slot-encoded), called
    // directly, through a table and through a host function in between.
    let wat = r#"(module
        (import "host" "swap" (func $swap (param v128 i32) (result i32 v128)))
        (type $t (func (param v128 i32) (result v128 i32 v128 f32)))
        (table funcref (elem $inner))
        (func $inner (type $t)
            (local.get 0)
            (local.get 1)
            (i8x16.add (local.get 0) (local.get 0))
            (f32.convert_i32_s (local.get 1)))
        (func (export "direct") (param v128 i32) (result v128 i32 v128 f32)
            (call $inner (local.get 0) (local.get 1)))
        (func (export "indirect") (param v128 i32) (result v128 i32 v128 f32)
            (call_indirect (type $t) (local.get 0) (local.get 1) (i32.const 0)))
        (func (export "host") (param v128 i32) (result i32 v128)
            (call $swap (local.get 0) (local.get 1))))"#;
    let x = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10_u128;
    let doubled = 0x0204_0608_0a0c_0e10_1214_1618_1a1c_1e20_u128;
    for rt in runtimes() {
        let mut store = rt.new_store();
        let mut linker = Linker::new();
        let ty = FuncType::new([ValType::V128, ValType::I32], [ValType::I32, ValType::V128]);
        linker.func(&mut store, "host", "swap", ty, |_, args, results| {
            results[0] = args[1];
            results[1] = Val::V128(!v128(&args[0]));
            Ok(())
        });
        for name in ["direct", "indirect"] {
            let r = run(
                &rt,
                &mut store,
                &linker,
                wat,
                name,
                &[Val::V128(x), Val::I32(-7)],
            );
            assert_eq!(
                r,
                [
                    Val::V128(x),
                    Val::I32(-7),
                    Val::V128(doubled),
                    Val::F32((-7.0f32).to_bits())
                ],
                "{name}"
            );
        }
        let r = run(
            &rt,
            &mut store,
            &linker,
            wat,
            "host",
            &[Val::V128(x), Val::I32(3)],
        );
        assert_eq!(r, [Val::I32(3), Val::V128(!x)]);
    }
}

#[test]
fn v128_globals_hold_sixteen_bytes() {
    let wat = r#"(module
        (global $g (export "g") (mut v128) (v128.const i64x2 1 2))
        (func (export "bump") (result v128)
            (global.set $g (i64x2.add (global.get $g) (v128.const i64x2 -1 10)))
            (global.get $g)))"#;
    for rt in runtimes() {
        let mut store = rt.new_store();
        let module = rt.load(&wat::parse_str(wat).unwrap()).unwrap();
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        let r = instance.call(&mut store, "bump", &[]).unwrap();
        let want = 12u128 << 64;
        assert_eq!(r, [Val::V128(want)]);
        let Some(Extern::Global(g)) = instance.export(&store, "g") else {
            panic!("no global");
        };
        assert_eq!(store.global(g).get(), Val::V128(want));
    }
}

#[test]
fn lane_loads_and_stores_trap_at_the_memory_end() {
    let wat = r#"(module
        (memory 1)
        (func (export "copy") (param i32 i32) (result v128)
            (v128.store64_lane 1 (local.get 1) (v128.load32_splat (local.get 0)))
            (v128.load (local.get 1))))"#;
    for rt in runtimes() {
        let r = call(&rt, wat, "copy", &[Val::I32(0), Val::I32(16)]);
        assert_eq!(r, [Val::V128(0)]);
        let mut store = rt.new_store();
        let module = rt.load(&wat::parse_str(wat).unwrap()).unwrap();
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        // The splat's 4-byte load, the lane's 8-byte store, the 16-byte load.
        for (src, dst) in [(65533, 0), (0, 65529), (0, 65521)] {
            let err = instance
                .call(&mut store, "copy", &[Val::I32(src), Val::I32(dst)])
                .expect_err("out of bounds");
            assert!(err.to_string().contains("out of bounds"), "{err}");
        }
        let r = instance.call(&mut store, "copy", &[Val::I32(65532), Val::I32(65520)]);
        assert_eq!(r.unwrap(), [Val::V128(0)]);
    }
}

#[test]
fn relaxed_madd_is_fused() {
    let wat = r#"(module
        (func (export "f32") (param v128 v128 v128) (result v128)
            (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
        (func (export "f32n") (param v128 v128 v128) (result v128)
            (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
        (func (export "f64") (param v128 v128 v128) (result v128)
            (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))"#;
    let e = f32::EPSILON;
    // Lane 0: unfused gives 0. Lane 1: 1 + 2^-23 + 2^-24 - 2^-54, which
    // rounds to a tie in f64 first, and then to 1 + 2^-22 (double
    // rounding) instead of 1 + 2^-23. Lane 2: a subnormal result.
    let a = [
        1.0 + e,
        2f32.powi(-24) * (1.0 + 2f32.powi(-15)),
        1.5 * 2f32.powi(-70),
        3.0,
    ];
    let b = [1.0 - e, 1.0 - 2f32.powi(-15), 2f32.powi(-70), 0.5];
    let c = [-1.0, 1.0 + e, 2f32.powi(-148), -0.25];
    let fused = |neg: bool| -> [f32; 4] {
        std::array::from_fn(|i| {
            let a = if neg { -a[i] } else { a[i] };
            a.mul_add(b[i], c[i])
        })
    };
    assert_eq!(fused(false)[..2], [-(e * e), 1.0 + e]);
    let de = f64::EPSILON;
    let (a64, b64, c64) = ([1.0 + de, 2.0], [1.0 - de, 3.0], [-1.0, 1.0]);
    for rt in runtimes() {
        let args = [a, b, c].map(|v| Val::V128(from_f32x4(v)));
        let r = call(&rt, wat, "f32", &args);
        assert_eq!(v128(&r[0]), from_f32x4(fused(false)));
        let r = call(&rt, wat, "f32n", &args);
        assert_eq!(v128(&r[0]), from_f32x4(fused(true)));
        let args = [a64, b64, c64].map(|v| Val::V128(from_f64x2(v)));
        let r = call(&rt, wat, "f64", &args);
        let want = [a64[0].mul_add(b64[0], c64[0]), 7.0];
        assert_eq!(want[0], -(2f64.powi(-104)));
        assert_eq!(v128(&r[0]), from_f64x2(want));
    }
}

#[test]
fn relaxed_operations_have_the_shared_deterministic_results() {
    let wat = r#"(module
        (func (export "dot") (param v128 v128) (result v128)
            (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
        (func (export "dot_add") (param v128 v128 v128) (result v128)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
        (func (export "swizzle") (param v128 v128) (result v128)
            (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
        (func (export "trunc") (param v128) (result v128)
            (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
        (func (export "laneselect") (param v128 v128 v128) (result v128)
            (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
        (func (export "min") (param v128 v128) (result v128)
            (f32x4.relaxed_min (local.get 0) (local.get 1)))
        (func (export "q15") (param v128 v128) (result v128)
            (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1))))"#;
    let a: [i8; 16] = std::array::from_fn(|i| if i < 4 { -128 } else { i as i8 * 7 - 50 });
    let b: [i8; 16] = std::array::from_fn(|i| if i < 4 { -128 } else { 100 - i as i8 * 9 });
    let products: [i32; 16] = std::array::from_fn(|i| i32::from(a[i]) * i32::from(b[i]));
    let dot: [i16; 8] = std::array::from_fn(|i| (products[2 * i] + products[2 * i + 1]) as i16);
    assert_eq!(dot[0], i16::MIN, "(-128 * -128) * 2 wraps");
    let acc = [i32::MAX, -5, 0, 1000];
    let dot_add: [i32; 4] = std::array::from_fn(|i| {
        acc[i].wrapping_add(products[4 * i..4 * i + 4].iter().sum::<i32>())
    });
    let table = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100_u128 * 3;
    let idx: [i8; 16] = [0, 15, 16, -1, 127, -128, 5, 31, 1, 2, 3, 4, 17, 8, 9, 10];
    let swizzled: [i8; 16] = std::array::from_fn(|i| match idx[i] {
        j @ 0..=15 => (table >> (8 * j)) as u8 as i8,
        _ => 0,
    });
    for rt in runtimes() {
        let r = call(
            &rt,
            wat,
            "dot",
            &[Val::V128(from_i8x16(a)), Val::V128(from_i8x16(b))],
        );
        assert_eq!(i16x8(v128(&r[0])), dot);
        let args = [from_i8x16(a), from_i8x16(b), from_i32x4(acc)].map(Val::V128);
        let r = call(&rt, wat, "dot_add", &args);
        assert_eq!(i32x4(v128(&r[0])), dot_add);
        let r = call(
            &rt,
            wat,
            "swizzle",
            &[Val::V128(table), Val::V128(from_i8x16(idx))],
        );
        assert_eq!(v128(&r[0]), from_i8x16(swizzled));
        let floats = [f32::NAN, -3.5, 5e9, 7.9];
        let r = call(&rt, wat, "trunc", &[Val::V128(from_f32x4(floats))]);
        assert_eq!(i32x4(v128(&r[0])), [0, 0, -1, 7]);
        let mask = 0xffff_0000_ffff_ffff_0000_0000_0f0f_0f0f_u128;
        let (x, y) = (u128::MAX / 3, u128::MAX / 5);
        let r = call(
            &rt,
            wat,
            "laneselect",
            &[Val::V128(x), Val::V128(y), Val::V128(mask)],
        );
        assert_eq!(v128(&r[0]), (x & mask) | (y & !mask));
        let l = from_f32x4([0.0, f32::NAN, 1.0, -0.0]);
        let rr = from_f32x4([-0.0, 1.0, f32::NAN, 0.0]);
        let r = call(&rt, wat, "min", &[Val::V128(l), Val::V128(rr)]);
        let lanes = i32x4(v128(&r[0]));
        assert_eq!(lanes[0] as u32, (-0.0f32).to_bits());
        assert!(f32::from_bits(lanes[1] as u32).is_nan());
        assert!(f32::from_bits(lanes[2] as u32).is_nan());
        assert_eq!(lanes[3] as u32, (-0.0f32).to_bits());
        let q = from_i32x4([i32::from_le_bytes([0, 0x80, 0, 0x40]), 0, 0, 0]);
        let r = call(&rt, wat, "q15", &[Val::V128(q), Val::V128(q)]);
        // -1 * -1 saturates to 0x7fff; 0.5 * 0.5 = 0.25.
        assert_eq!(i16x8(v128(&r[0]))[..2], [i16::MAX, 0x2000]);
    }
}

/// `V128` as a typed parameter and result, in every tier.
#[test]
fn typed_v128_parameters_and_results() {
    let wasm = wat::parse_str(
        r#"(module (func (export "add") (param v128 i32) (result v128 i32)
              (i32x4.add (local.get 0) (i32x4.splat (local.get 1))) (local.get 1)))"#,
    )
    .unwrap();
    for tier in [
        wamr_rs::Tier::Interp,
        wamr_rs::Tier::Aot,
        wamr_rs::Tier::Auto,
    ] {
        let runtime = wamr_rs::Runtime::new().with_tier(tier).unwrap();
        let module = runtime.load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let instance = wamr_rs::Linker::new()
            .instantiate(&mut store, &module)
            .unwrap();
        let add = instance
            .get_typed_func::<(wamr_rs::V128, i32), (wamr_rs::V128, i32)>(&store, "add")
            .unwrap();
        let lanes = |l: [u32; 4]| {
            let mut b = [0u8; 16];
            for (chunk, v) in b.chunks_exact_mut(4).zip(l) {
                chunk.copy_from_slice(&v.to_le_bytes());
            }
            wamr_rs::V128::from_bytes(b)
        };
        let out = add
            .call(&mut store, (lanes([1, 2, 3, u32::MAX]), 5))
            .unwrap();
        assert_eq!(out, (lanes([6, 7, 8, 4]), 5), "{tier:?}");
    }
}
