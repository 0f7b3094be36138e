//! Runs a planned module in one wamr-rs tier and records its trace.

use wamr_rs::{
    Config, Error, Linker, Module, OutputPipe, RawRef, Runtime, Tier, TierUpPolicy, Val,
    WasiCtxBuilder,
};

use crate::generate::MAX_PAGES;
use crate::host::HostState;
use crate::plan::Plan;
use crate::rng::fnv1a;
use crate::trace::{CallRecord, Failure, Trace, Value};

/// A wamr-rs configuration under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Interp,
    Aot,
    /// `Tier::Auto`, compiled synchronously when first entered.
    AutoForced,
    /// As `AutoForced`, with an on-stack-replacement entry in every
    /// function that has loops.
    AutoOsr,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Interp,
        Variant::Aot,
        Variant::AutoForced,
        Variant::AutoOsr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Interp => "interp",
            Variant::Aot => "aot",
            Variant::AutoForced => "auto(forced)",
            Variant::AutoOsr => "auto(osr-everywhere)",
        }
    }

    fn tier(self) -> Tier {
        match self {
            Variant::Interp => Tier::Interp,
            Variant::Aot => Tier::Aot,
            Variant::AutoForced | Variant::AutoOsr => Tier::Auto,
        }
    }
}

/// Native stack wasm may use; the thread running cases must have more
/// (see `crate::run_on_big_stack`).
pub const NATIVE_STACK: usize = 8 << 20;

pub fn config(variant: Variant) -> Config {
    Config {
        memory_page_limit: Some(MAX_PAGES),
        max_native_stack_bytes: NATIVE_STACK,
        tier_up: TierUpPolicy {
            osr_everywhere: variant == Variant::AutoOsr,
            ..TierUpPolicy::immediate()
        },
        ..Config::default()
    }
}

pub fn runtime(variant: Variant) -> Runtime {
    // In-process compiles: a crash is what the driver's child process is
    // for, and a worker process per compile would slow every case.
    Runtime::with_config(config(variant))
        .with_compiler(wamr_rs::plugin_compiler())
        .with_tier(variant.tier())
        .expect("every tier is built")
}

pub fn run(variant: Variant, wasm: &[u8], plan: &Plan, seed: u64) -> Trace {
    let runtime = runtime(variant);
    match runtime.load(wasm) {
        Ok(module) => run_module(&runtime, &module, plan, seed),
        Err(e) => Trace::Rejected(e.to_string()),
    }
}

/// Instantiates `module` with the host and WASI imports of generated
/// modules and makes the plan's calls.
pub fn run_module(runtime: &Runtime, module: &Module, plan: &Plan, seed: u64) -> Trace {
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    let host = HostState::default();
    let (h1, h2, h3) = (host.clone(), host.clone(), host);
    linker
        .func_wrap(&mut store, "host", "mix", move |x: i32| h1.mix(x))
        .func_wrap(&mut store, "host", "mix64", move |x: i64, y: i32| {
            h2.mix64(x, y)
        })
        .func_wrap(
            &mut store,
            "host",
            "sink",
            move |a: i32, b: i64, c: f32, d: f64| h3.sink(a, b, c, d),
        );
    let output = OutputPipe::new();
    let wasi = WasiCtxBuilder::new()
        .deterministic(seed)
        .stdout(output.clone())
        .stderr(output.clone())
        .build();
    match wasi {
        Ok(ctx) => {
            linker.define_wasi(ctx);
        }
        Err(e) => return Trace::NotInstantiated(Failure::Error(e.to_string())),
    }
    let instance = match linker.instantiate(&mut store, module) {
        Ok(i) => i,
        Err(e) => return Trace::NotInstantiated(failure(e)),
    };
    let mut calls = Vec::new();
    for call in &plan.calls {
        let args: Vec<Val> = call.args.iter().map(|v| to_val(*v)).collect();
        let result = instance
            .call(&mut store, &call.export, &args)
            .map(|vals| vals.into_iter().map(from_val).collect())
            .map_err(failure);
        let globals = plan
            .globals
            .iter()
            .map(|name| {
                instance
                    .global(&store, name)
                    .map_or(Value::Missing, |g| from_val(store.global(g).get()))
            })
            .collect();
        let memories = plan
            .memories
            .iter()
            .map(|name| {
                instance.memory(&store, name).map_or((0, 0), |m| {
                    let data = store.memory(m).data();
                    (data.len() as u64, fnv1a(data))
                })
            })
            .collect();
        calls.push(CallRecord {
            export: call.export.clone(),
            result,
            globals,
            memories,
        });
    }
    Trace::Ran {
        calls,
        output: output.contents(),
    }
}

fn failure(e: Error) -> Failure {
    match e {
        Error::Trap(t) => Failure::Trap {
            message: match t.kind() {
                wamr_rs::TrapKind::Host => {
                    // The host message, without the function suffix.
                    let shown = t.to_string();
                    match t.function() {
                        Some(f) => shown
                            .trim_end_matches(&format!(" (in wasm function {f})"))
                            .to_string(),
                        None => shown,
                    }
                }
                kind => kind.message().to_string(),
            },
            function: t.function().map(str::to_string),
        },
        other => Failure::Error(other.to_string()),
    }
}

fn to_val(v: Value) -> Val {
    match v {
        Value::I32(x) => Val::I32(x),
        Value::I64(x) => Val::I64(x),
        Value::F32(x) => Val::F32(x),
        Value::F64(x) => Val::F64(x),
        Value::V128(v) => Val::V128(v),
        Value::Ref { .. } | Value::Missing => Val::Ref(RawRef::NULL),
    }
}

fn from_val(v: Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(x),
        Val::I64(x) => Value::I64(x),
        Val::F32(x) => Value::f32(x),
        Val::F64(x) => Value::f64(x),
        Val::V128(v) => Value::V128(v),
        Val::Ref(r) => Value::Ref { null: r.is_null() },
    }
}
