//! The compiler end to end: parallel compilation into several objects,
//! linked into one `.aot` image that maps and runs in place.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use wamr_aot::{
    AotExecutor, AotFile, AotImage, AotMeta, COMPILER_VERSION, CompileJob, CompileOptions,
    FunctionEntry, HostTarget, WasmFeatures,
};
use wamr_llvm_aot::LlvmCompiler;
use wamr_llvm_aot::compile::{CompileFailure, compile_aot};
use wamr_runtime::{Config, Extern, Store, Val};

fn meta() -> AotMeta {
    AotMeta {
        compiler_version: COMPILER_VERSION.to_string(),
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: "x86-64".into(),
        features: String::new(),
        abi: String::new(),
        opt_level: 2,
        wasm_features: WasmFeatures::from_runtime(&wamr_runtime::Features::default()),
        helpers: Vec::new(),
    }
}

/// Forty functions in a chain, each calling the next, plus an indirect
/// call: spread over several objects, every call crosses chunks.
fn chain_module() -> Vec<u8> {
    let mut funcs = String::new();
    for i in 0..40 {
        let body = if i == 39 {
            "(i32.add (local.get 0) (call_indirect (type $t) (local.get 0) (i32.const 0)))"
                .to_string()
        } else {
            format!(
                "(i32.add (i32.mul (local.get 0) (i32.const 3)) (call $f{} (i32.add (local.get 0) (i32.const 1))))",
                i + 1
            )
        };
        funcs.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (type $t) {body})\n"
        ));
    }
    wat::parse_str(format!(
        "(module (type $t (func (param i32) (result i32)))
           (table 1 funcref) (elem (i32.const 0) $double)
           (func $double (type $t) (i32.shl (local.get 0) (i32.const 1)))
           {funcs})"
    ))
    .unwrap()
}

/// What `f{i}(x)` returns, computed here.
fn chain_expected(i: i32, x: i32) -> i32 {
    if i == 39 {
        x.wrapping_add(x.wrapping_shl(1))
    } else {
        x.wrapping_mul(3).wrapping_add(chain_expected(i + 1, x + 1))
    }
}

fn call(store: &mut Store, inst: wamr_runtime::InstanceId, name: &str, x: i32) -> i32 {
    let Some(Extern::Func(f)) = store.export(inst, name) else {
        panic!("no export {name}");
    };
    match store.call(f, &[Val::I32(x)]).unwrap()[..] {
        [Val::I32(r)] => r,
        ref other => panic!("{other:?}"),
    }
}

/// Compiles the chain module on `threads` threads, checking progress.
fn compile_chain(threads: usize) -> Vec<u8> {
    let wasm = chain_module();
    let reported = AtomicU32::new(0);
    let progress = |done: u32, total: u32| {
        assert_eq!(total, 41);
        reported.fetch_max(done, Ordering::Relaxed);
    };
    let bytes = compile_aot(&CompileJob {
        wasm: &wasm,
        features: WasmFeatures::from_runtime(&Config::default().features),
        options: &CompileOptions::host(2),
        threads,
        progress: Some(&progress),
        osr: wamr_aot::OsrFuncs::NONE,
    })
    .unwrap();
    assert_eq!(reported.load(Ordering::Relaxed), 41);
    let image = AotImage::from_bytes(&bytes).unwrap();
    assert_eq!(image.functions.len(), 41);
    assert_eq!(image.wasm, &wasm[..]);
    image.check_target(&HostTarget::detect()).unwrap();
    bytes
}

/// Writes `bytes` to a file, loads it and calls a few chain functions.
fn run_from_file(bytes: &[u8]) -> Vec<i32> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.aot");
    std::fs::write(&path, bytes).unwrap();
    let config = Config::default();
    let module = wamr_aot::load_aot_file(&config, &path).unwrap();
    let mut store = Store::new(config);
    // A compiler that cannot work: the module must bring its own code.
    store.set_executor(Arc::new(AotExecutor::new(
        Arc::new(LlvmCompiler),
        CompileOptions {
            triple: "not-a-target".into(),
            ..CompileOptions::host(0)
        },
    )));
    let inst = store.instantiate(&module, &[]).unwrap();
    [(0, 5), (17, -3), (39, 1000), (38, 7)]
        .into_iter()
        .map(|(i, x)| {
            let got = call(&mut store, inst, &format!("f{i}"), x);
            assert_eq!(got, chain_expected(i, x), "f{i}({x})");
            got
        })
        .collect()
}

#[test]
fn parallel_chunks_link_into_one_image_that_runs_from_a_file() {
    let many = run_from_file(&compile_chain(3));
    let one = run_from_file(&compile_chain(1));
    assert_eq!(one, many);
}

/// Every kind of memory access, one per function: `(param $a i32)
/// (param $v v128)`, results dropped.
const ACCESSES: &[&str] = &[
    "(drop (i32.load (local.get 0)))",
    "(drop (i64.load offset=7 (local.get 0)))",
    "(drop (f32.load (local.get 0)))",
    "(drop (f64.load (local.get 0)))",
    "(drop (i32.load8_s (local.get 0)))",
    "(drop (i32.load16_u (local.get 0)))",
    "(drop (i64.load8_u (local.get 0)))",
    "(drop (i64.load16_s (local.get 0)))",
    "(drop (i64.load32_s (local.get 0)))",
    "(drop (i64.load32_u (local.get 0)))",
    "(i32.store (local.get 0) (i32.const 1))",
    "(i64.store (local.get 0) (i64.const 1))",
    "(f32.store (local.get 0) (f32.const 1))",
    "(f64.store (local.get 0) (f64.const 1))",
    "(i32.store8 (local.get 0) (i32.const 1))",
    "(i64.store16 (local.get 0) (i64.const 1))",
    "(i64.store32 (local.get 0) (i64.const 1))",
    "(i32.store (local.get 0) (i32.add (i32.load (local.get 0)) (i32.const 3)))",
    "(drop (v128.load (local.get 0)))",
    "(v128.store (local.get 0) (local.get 1))",
    "(drop (v128.load8x8_s (local.get 0)))",
    "(drop (v128.load16x4_u (local.get 0)))",
    "(drop (v128.load32x2_s (local.get 0)))",
    "(drop (v128.load8_splat (local.get 0)))",
    "(drop (v128.load16_splat (local.get 0)))",
    "(drop (v128.load32_splat (local.get 0)))",
    "(drop (v128.load64_splat (local.get 0)))",
    "(drop (v128.load32_zero (local.get 0)))",
    "(drop (v128.load64_zero (local.get 0)))",
    "(drop (v128.load8_lane 3 (local.get 0) (local.get 1)))",
    "(drop (v128.load16_lane 1 (local.get 0) (local.get 1)))",
    "(drop (v128.load32_lane 2 (local.get 0) (local.get 1)))",
    "(drop (v128.load64_lane 1 (local.get 0) (local.get 1)))",
    "(v128.store8_lane 5 (local.get 0) (local.get 1))",
    "(v128.store16_lane 2 (local.get 0) (local.get 1))",
    "(v128.store32_lane 3 (local.get 0) (local.get 1))",
    "(v128.store64_lane 1 (local.get 0) (local.get 1))",
];

fn x86_64_linux(cpu: &str, opt_level: u8) -> CompileOptions {
    CompileOptions {
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: cpu.into(),
        features: String::new(),
        abi: String::new(),
        opt_level,
    }
}

/// `wasm` (default features, no OSR entries) compiled for `options` on
/// `threads` threads.
fn compile_with(
    wasm: &[u8],
    options: &CompileOptions,
    threads: usize,
) -> Result<Vec<u8>, CompileFailure> {
    compile_aot(&CompileJob {
        wasm,
        features: WasmFeatures::from_runtime(&Config::default().features),
        options,
        threads,
        progress: None,
        osr: wamr_aot::OsrFuncs::NONE,
    })
}

fn image_for(wasm: &[u8], options: &CompileOptions) -> Vec<u8> {
    compile_with(wasm, options, 1).unwrap()
}

/// Where memory32 accesses are left to guard pages (x86_64 Linux), the
/// image lists every one, of every kind and at every CPU level, with its
/// function: LLVM keeps the tag through instruction selection, also
/// where it folds the load into another instruction. memory64 accesses
/// are checked in the code and not listed; a site naming a function the
/// module lacks is refused when the code is loaded.
#[test]
fn fault_sites_list_guarded_accesses_by_function() {
    let funcs: String = ACCESSES
        .iter()
        .map(|body| format!("(func (param i32 v128) {body})\n"))
        .collect();
    let wasm = wat::parse_str(format!("(module (memory 1) {funcs})")).unwrap();
    for (cpu, opt_level) in [
        ("x86-64", 3),
        ("x86-64-v2", 2),
        ("x86-64-v3", 3),
        ("x86-64", 0),
    ] {
        let bytes = image_for(&wasm, &x86_64_linux(cpu, opt_level));
        let image = AotImage::from_bytes(&bytes).unwrap();
        let mut entries: Vec<u32> = image
            .functions
            .iter()
            .flat_map(|f| [f.native, f.array_call])
            .collect();
        entries.sort();
        for (func, f) in (0u32..).zip(&image.functions) {
            // In the function's own code: from its entry to the next one.
            let end = entries
                .iter()
                .copied()
                .find(|&e| e > f.native)
                .unwrap_or(u32::MAX);
            assert!(
                image
                    .fault_sites
                    .iter()
                    .any(|s| s.func == func && (f.native..end).contains(&s.code_offset)),
                "{cpu} -O{opt_level}: no fault site for `{}`",
                ACCESSES[func as usize]
            );
        }
        assert!(
            image
                .fault_sites
                .iter()
                .all(|s| (s.func as usize) < ACCESSES.len())
        );
    }
    let memory64 = wat::parse_str(
        "(module (memory i64 1) (func (export \"f\") (param i64) (result i32) (i32.load (local.get 0))))",
    )
    .unwrap();
    let bytes = image_for(&memory64, &x86_64_linux("x86-64", 3));
    assert!(AotImage::from_bytes(&bytes).unwrap().fault_sites.is_empty());

    let wasm = wat::parse_str(
        r#"(module (memory 1)
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "store") (param i32) (i64.store8 (local.get 0) (i64.const 1)))
          (func (export "copy") (param i32)
            (v128.store (local.get 0) (v128.load offset=16 (local.get 0)))))"#,
    )
    .unwrap();
    let bytes = image_for(&wasm, &CompileOptions::host(0));
    let image = AotImage::from_bytes(&bytes).unwrap();
    let module = wamr_runtime::Module::new(&Config::default(), &wasm).unwrap();
    assert!(wamr_aot::CompiledModule::from_image(&module, &image).is_ok());
    let bad = image.clone().with_fault_sites(vec![wamr_aot::FaultSite {
        code_offset: 0,
        func: 3,
    }]);
    let err = wamr_aot::CompiledModule::from_image(&module, &bad).unwrap_err();
    assert!(
        matches!(
            err,
            wamr_aot::LoadError::FaultSiteFunction { func: 3, funcs: 3 }
        ),
        "{err}"
    );
}

#[test]
fn invalid_wasm_is_refused_by_the_one_validator() {
    // `wat` assembles it; validation rejects the type mismatch.
    let wasm = wat::parse_str("(module (func (result i32) (i64.const 1)))").unwrap();
    let err = compile_with(&wasm, &CompileOptions::host(0), 1).unwrap_err();
    assert!(err.to_string().contains("invalid module"), "{err}");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn linked_llvm_code_runs_from_an_aot_file() {
    use inkwell::OptimizationLevel;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;
    use inkwell::targets::FileType;

    let ir = r#"
        define internal i32 @twice(i32 %x) nounwind noinline {
          %r = shl i32 %x, 1
          ret i32 %r
        }
        define double @area(double %r) nounwind {
          %a = fmul double %r, %r
          %b = fmul double %a, 3.25
          ret double %b
        }
        define i32 @pick(i32 %x) nounwind {
        entry:
          switch i32 %x, label %d [ i32 0, label %a  i32 1, label %b
                                    i32 2, label %c  i32 3, label %e ]
        a: ret i32 7
        b: %t = call i32 @twice(i32 %x)
           ret i32 %t
        c: ret i32 9
        e: ret i32 10
        d: ret i32 0
        }
    "#;
    let machine = wamr_llvm_aot::target_machine(
        "x86_64-unknown-linux-gnu",
        "x86-64",
        "",
        "",
        OptimizationLevel::Default,
    )
    .unwrap();
    let context = Context::create();
    let buffer = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "t");
    let module = context.create_module_from_ir(buffer).unwrap();
    let object = machine
        .write_to_memory_buffer(&module, FileType::Object)
        .unwrap();
    let linked = wamr_llvm_aot::link(object.as_slice()).unwrap();
    let entries = vec![
        FunctionEntry {
            native: linked.symbols["area"],
            array_call: linked.symbols["area"],
            osr: None,
        },
        FunctionEntry {
            native: linked.symbols["pick"],
            array_call: linked.symbols["pick"],
            osr: None,
        },
    ];
    let m = meta();
    let wasm = b"\0asm\x01\0\0\0".to_vec();
    let bytes = AotImage::new(m, &wasm, &linked.blob, entries)
        .to_bytes()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("linked.aot");
    std::fs::write(&path, bytes).unwrap();

    let file = AotFile::open(&path).unwrap();
    file.check_target(&HostTarget::detect()).unwrap();
    let code = file.map_code().unwrap();
    let [area, pick] = [0, 1].map(|i| code.entry(file.functions()[i].native).unwrap());
    // SAFETY: the signatures are those declared in `ir`; `code` lives
    // across the calls.
    unsafe {
        let area = std::mem::transmute::<*const u8, extern "C" fn(f64) -> f64>(area);
        let pick = std::mem::transmute::<*const u8, extern "C" fn(i32) -> i32>(pick);
        assert_eq!(area(2.0), 13.0);
        assert_eq!([0, 1, 2, 3, 4].map(|x| pick(x)), [7, 2, 9, 10, 0]);
    }
}

/// At the SSE2 baseline LLVM would round floats through libcalls; the
/// translator builds them inline instead. Every edge case must match Rust's
/// (IEEE) rounding, NaNs aside, which come back as NaNs.
#[test]
fn rounding_without_sse41_is_inline_and_exact() {
    let wasm = wat::parse_str(
        r#"(module
          (func (export "f32") (param f32 i32) (result f32)
            (block $c (block $f (block $t (block $n
              (br_table $c $f $t $n (local.get 1)))
              (return (f32.nearest (local.get 0))))
              (return (f32.trunc (local.get 0))))
              (return (f32.floor (local.get 0))))
            (f32.ceil (local.get 0)))
          (func (export "f64") (param f64 i32) (result f64)
            (block $c (block $f (block $t (block $n
              (br_table $c $f $t $n (local.get 1)))
              (return (f64.nearest (local.get 0))))
              (return (f64.trunc (local.get 0))))
              (return (f64.floor (local.get 0))))
            (f64.ceil (local.get 0))))"#,
    )
    .unwrap();
    let options = CompileOptions {
        cpu: "x86-64".into(),
        features: String::new(),
        ..CompileOptions::host(2)
    };
    let bytes = compile_with(&wasm, &options, 1).expect("no libcalls left at the SSE2 baseline");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round.aot");
    std::fs::write(&path, &bytes).unwrap();
    let config = Config::default();
    let module = wamr_aot::load_aot_file(&config, &path).unwrap();
    let mut store = Store::new(config);
    store.set_executor(Arc::new(AotExecutor::new(Arc::new(LlvmCompiler), options)));
    let inst = store.instantiate(&module, &[]).unwrap();
    let Some(Extern::Func(f32s)) = store.export(inst, "f32") else {
        panic!()
    };
    let Some(Extern::Func(f64s)) = store.export(inst, "f64") else {
        panic!()
    };
    let ops32: [fn(f32) -> f32; 4] = [f32::ceil, f32::floor, f32::trunc, f32::round_ties_even];
    let ops64: [fn(f64) -> f64; 4] = [f64::ceil, f64::floor, f64::trunc, f64::round_ties_even];
    let inputs = [
        0.0,
        -0.0,
        0.3,
        -0.3,
        0.5,
        -0.5,
        0.7,
        1.5,
        -1.5,
        2.5,
        -2.5,
        3.7,
        -3.7,
        1e30,
        -1e30,
        8388607.5,
        -8388607.5,
        8388608.0,
        4503599627370495.5,
        -4503599627370495.5,
        0.49999997,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        123456.75,
    ];
    for (mode, (op32, op64)) in ops32.iter().zip(ops64).enumerate() {
        for &x in &inputs {
            let got = store.call(
                f32s,
                &[Val::F32((x as f32).to_bits()), Val::I32(mode as i32)],
            );
            let Ok(v) = got else { panic!("{got:?}") };
            let [Val::F32(bits)] = v[..] else {
                panic!("{v:?}")
            };
            let (got, want) = (f32::from_bits(bits), op32(x as f32));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "f32 mode {mode} of {x}: {got} != {want}"
            );
            let v = store
                .call(f64s, &[Val::F64(x.to_bits()), Val::I32(mode as i32)])
                .unwrap();
            let [Val::F64(bits)] = v[..] else {
                panic!("{v:?}")
            };
            let (got, want) = (f64::from_bits(bits), op64(x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "f64 mode {mode} of {x}: {got} != {want}"
            );
        }
    }
}

/// Every program in `shared/bench` compiles at -O3 for the SSE2 baseline,
/// with SSE4.1, and for x86-64-v3: the linker refuses any undefined symbol
/// (a libcall such as `ceilf` or `memcpy`) and any relocation that is not
/// PC-relative, so compiling is the check.
#[test]
fn bench_programs_compile_for_every_x86_64_level_without_libcalls() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench");
    let mut programs = vec![root.join("coremark/coremark.wasm")];
    for folder in std::fs::read_dir(root.join("sightglass")).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(folder).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "wasm") {
                programs.push(path);
            }
        }
    }
    programs.sort();
    assert!(programs.len() >= 25, "{programs:?}");
    let levels = [("x86-64", ""), ("x86-64", "+sse4.1"), ("x86-64-v3", "")];
    for path in &programs {
        let wasm = std::fs::read(path).unwrap();
        for (cpu, features) in levels {
            let options = CompileOptions {
                triple: "x86_64-unknown-linux-gnu".into(),
                cpu: cpu.into(),
                features: features.into(),
                abi: String::new(),
                opt_level: 3,
            };
            let bytes = compile_with(&wasm, &options, 0)
                .unwrap_or_else(|e| panic!("{} for {cpu} {features}: {e}", path.display()));
            let image = AotImage::from_bytes(&bytes).unwrap();
            assert!(!image.code.is_empty());
            assert!(image.meta.helpers.is_empty(), "x86_64 needs no helpers");
        }
    }
}

/// SIMD code on RISC-V without V: lanes that need a helper are split off
/// and rewritten as scalar code is (without F and D, float lanes; without
/// M, multiplies; a vector saturating conversion was once refused as "an
/// odd width"), so the compile links with no libcall. The helpers each
/// configuration records show which lanes took that path.
#[test]
fn simd_lanes_take_the_helpers_the_riscv_target_needs() {
    let wasm = wat::parse_str(
        r#"(module
          (func (export "f") (param v128 v128 v128) (result v128)
            (f32x4.add (local.get 0) (f32x4.sqrt (local.get 1))))
          (func (export "cmp") (param v128 v128) (result v128)
            (f64x2.lt (local.get 0) (local.get 1)))
          (func (export "mul") (param v128 v128) (result v128)
            (i64x2.mul (i16x8.mul (local.get 0) (local.get 1)) (local.get 1)))
          (func (export "trunc") (param v128) (result v128)
            (i32x4.trunc_sat_f64x2_s_zero (local.get 0)))
          (func (export "fma") (param v128 v128 v128) (result v128)
            (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))"#,
    )
    .unwrap();
    let helpers = |target: &str, features: &str, abi: &str| {
        let options =
            wamr_aot::target::compile_options(target, None, Some(features), Some(abi), 2).unwrap();
        let bytes =
            compile_with(&wasm, &options, 1).unwrap_or_else(|e| panic!("{target} {features}: {e}"));
        AotImage::from_bytes(&bytes).unwrap().meta.helpers
    };
    let gc = "+m,+a,+f,+d,+c";
    assert_eq!(helpers("riscv64", gc, "lp64d"), Vec::<String>::new());
    assert_eq!(helpers("riscv32", gc, "ilp32d"), Vec::<String>::new());
    let soft = helpers("riscv32", "+m,+a,+c", "ilp32");
    for helper in [
        "f32_add",
        "f32_sqrt",
        "f64_lt",
        "i32_trunc_sat_f64_s",
        "f64_fma",
    ] {
        assert!(soft.iter().any(|h| h == helper), "{helper}: {soft:?}");
    }
    assert!(
        !soft
            .iter()
            .any(|h| h.ends_with("_mul") && h.starts_with('i'))
    );
    let bare = helpers("riscv32", "", "ilp32");
    for helper in ["i32_mul", "i64_mul", "f32_add"] {
        assert!(bare.iter().any(|h| h == helper), "{helper}: {bare:?}");
    }
}
