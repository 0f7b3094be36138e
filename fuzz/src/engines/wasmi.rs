//! The reference engine: wasmi, run on the same plan as wamr-rs.

use wasmi::TrapCode;
use wasmi::{Caller, Engine, Linker, Module, Nullable, Store, Val};
use wasmparser::{RefType, ValType};

use crate::engines::wasi_ref::{self, WasiRef};
use crate::host::HostState;
use crate::plan::Plan;
use crate::rng::fnv1a;
use crate::trace::{CallRecord, Failure, STACK_OVERFLOW, Trace, Value};

/// The error of a call that ran out of fuel.
pub const OUT_OF_FUEL: &str = "out of fuel";

/// What the host functions of one instance share.
struct Data {
    host: HostState,
    wasi: WasiRef,
}

fn engine(fuel: bool) -> Engine {
    let mut config = wasmi::Config::default();
    config
        .consume_fuel(fuel)
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_simd(true)
        // Relaxed SIMD lets engines differ: wamr-rs's tiers are compared
        // with each other on it by the spec suite and tests/simd.rs.
        .wasm_relaxed_simd(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        // Generated modules recurse at most `generate::FUEL` deep.
        .set_max_recursion_depth(100_000);
    Engine::new(&config)
}

/// [`run`], or `None` when wasmi panics: its own bug (wasmi 2.0.0's
/// translator has reached `unreachable!` on valid modules), not a
/// divergence of ours, so callers skip the case.
pub fn run_unless_panic(wasm: &[u8], plan: &Plan, seed: u64, fuel: Option<u64>) -> Option<Trace> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(wasm, plan, seed, fuel))).ok()
}

/// Runs the plan; with `fuel`, each call may use that much (wasmi's
/// metering), and running out is the error [`OUT_OF_FUEL`].
pub fn run(wasm: &[u8], plan: &Plan, seed: u64, fuel: Option<u64>) -> Trace {
    let engine = engine(fuel.is_some());
    let module = match Module::new(&engine, wasm) {
        Ok(m) => m,
        Err(e) => return Trace::Rejected(e.to_string()),
    };
    let data = Data {
        host: HostState::default(),
        wasi: WasiRef::new(seed, plan.memory0.clone()),
    };
    let mut store = Store::new(&engine, data);
    let refuel = |store: &mut Store<Data>| {
        if let Some(fuel) = fuel {
            store.set_fuel(fuel).expect("fuel metering is on");
        }
    };
    refuel(&mut store);
    let mut linker = Linker::<Data>::new(&engine);
    define_imports(&mut linker).expect("host functions are distinct");
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        Err(e) => return Trace::NotInstantiated(failure(&e)),
    };
    let mut calls = Vec::new();
    for call in &plan.calls {
        let Some(func) = instance.get_func(&store, &call.export) else {
            continue;
        };
        let args: Vec<Val> = call
            .args
            .iter()
            .zip(&call.params)
            .map(|(v, t)| to_val(*v, *t))
            .collect();
        refuel(&mut store);
        let mut results: Vec<Val> = call.results.iter().map(|t| zero(*t)).collect();
        let result = func
            .call(&mut store, &args, &mut results)
            .map(|()| results.iter().map(from_val).collect())
            .map_err(|e| failure(&e));
        let globals = plan
            .globals
            .iter()
            .map(|name| {
                instance
                    .get_global(&store, name)
                    .map_or(Value::Missing, |g| from_val(&g.get(&store)))
            })
            .collect();
        let memories = plan
            .memories
            .iter()
            .map(|name| {
                instance.get_memory(&store, name).map_or((0, 0), |m| {
                    let data = m.data(&store);
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
        output: store.data().wasi.output.clone(),
    }
}

fn define_imports(linker: &mut Linker<Data>) -> Result<(), wasmi::Error> {
    linker
        .func_wrap("host", "mix", |c: Caller<'_, Data>, x: i32| {
            c.data().host.mix(x)
        })?
        .func_wrap("host", "mix64", |c: Caller<'_, Data>, x: i64, y: i32| {
            c.data().host.mix64(x, y)
        })?
        .func_wrap(
            "host",
            "sink",
            |c: Caller<'_, Data>, a: i32, b: i64, x: f32, y: f64| c.data().host.sink(a, b, x, y),
        )?
        .func_wrap(
            "wasi_snapshot_preview1",
            "fd_write",
            |mut c: Caller<'_, Data>, fd: i32, iovs: i32, n: i32, out: i32| {
                with_memory(&mut c, |mem, wasi| {
                    wasi.fd_write(mem, fd as u32, iovs as u32, n as u32, out as u32)
                })
            },
        )?
        .func_wrap(
            "wasi_snapshot_preview1",
            "random_get",
            |mut c: Caller<'_, Data>, buf: i32, len: i32| {
                with_memory(&mut c, |mem, wasi| {
                    wasi.random_get(mem, buf as u32, len as u32)
                })
            },
        )?;
    Ok(())
}

/// Runs a WASI function on the memory WASI uses (the export `memory`, else
/// memory 0), trapping as wamr-rs does when there is none.
fn with_memory(
    caller: &mut Caller<'_, Data>,
    f: impl FnOnce(&mut [u8], &mut WasiRef) -> u16,
) -> Result<i32, wasmi::Error> {
    let named = caller.data().wasi.memory0.clone();
    let memory = caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .or_else(|| named.and_then(|n| caller.get_export(&n)?.into_memory()));
    let Some(memory) = memory else {
        return Err(wasmi::Error::new(wasi_ref::NO_MEMORY));
    };
    let (mem, data) = memory.data_and_store_mut(caller);
    Ok(i32::from(f(mem, &mut data.wasi)))
}

const SEGMENT_TRAPS: [&str; 2] = ["out of bounds table access", "out of bounds memory access"];

/// wasmi's trap codes as the spec's messages, which wamr-rs uses
/// (runtime/src/trap.rs).
fn failure(e: &wasmi::Error) -> Failure {
    let Some(code) = e.as_trap_code() else {
        if let wasmi::errors::ErrorKind::Message(m) = e.kind() {
            return Failure::trap(m.to_string());
        }
        // Instantiation reports a segment out of bounds as an error that
        // starts with the trap's message (the spec says it traps).
        let shown = e.to_string();
        return match SEGMENT_TRAPS.iter().find(|m| shown.starts_with(*m)) {
            Some(m) => Failure::trap(*m),
            None => Failure::Error(shown),
        };
    };
    Failure::trap(match code {
        TrapCode::UnreachableCodeReached => "unreachable",
        TrapCode::MemoryOutOfBounds => "out of bounds memory access",
        TrapCode::TableOutOfBounds => "out of bounds table access",
        TrapCode::IndirectCallToNull => "uninitialized element",
        TrapCode::IntegerDivisionByZero => "integer divide by zero",
        TrapCode::IntegerOverflow => "integer overflow",
        TrapCode::BadConversionToInteger => "invalid conversion to integer",
        TrapCode::StackOverflow => STACK_OVERFLOW,
        TrapCode::BadSignature => "indirect call type mismatch",
        TrapCode::OutOfFuel => return Failure::Error(OUT_OF_FUEL.into()),
        other => return Failure::Error(format!("wasmi trap {other:?}")),
    })
}

fn zero(ty: ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0f32.into()),
        ValType::F64 => Val::F64(0f64.into()),
        ValType::V128 => Val::V128(0u128.into()),
        ValType::Ref(r) => null_ref(r),
    }
}

fn null_ref(r: RefType) -> Val {
    if r == RefType::EXTERNREF {
        Val::ExternRef(Nullable::Null)
    } else {
        Val::FuncRef(Nullable::Null)
    }
}

fn to_val(v: Value, ty: ValType) -> Val {
    match (v, ty) {
        (Value::I32(x), _) => Val::I32(x),
        (Value::I64(x), _) => Val::I64(x),
        (Value::F32(x), _) => Val::F32(wasmi::F32::from_bits(x)),
        (Value::F64(x), _) => Val::F64(wasmi::F64::from_bits(x)),
        (Value::V128(x), _) => Val::V128(x.into()),
        (_, ty) => zero(ty),
    }
}

fn from_val(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::f32(x.to_bits()),
        Val::F64(x) => Value::f64(x.to_bits()),
        Val::FuncRef(r) => Value::Ref { null: r.is_null() },
        Val::ExternRef(r) => Value::Ref { null: r.is_null() },
        Val::V128(v) => Value::V128(v.as_u128()),
    }
}
