//! The AOT tier end to end: compile for the host, map, run through the store.

use std::sync::Arc;

use wamr_aot::{AotExecutor, CompileOptions};
use wamr_llvm_aot::LlvmCompiler;
use wamr_runtime::{Config, Extern, FuncType, InstanceId, Module, Store, TrapKind, Val, ValType};

fn instantiate(
    config: Config,
    wat: &str,
    imports: impl FnOnce(&mut Store) -> Vec<Extern>,
) -> (Store, InstanceId) {
    let module = Module::new(&config, &wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(config);
    store.set_executor(Arc::new(AotExecutor::new(
        Arc::new(LlvmCompiler),
        CompileOptions::host(2),
    )));
    let imports = imports(&mut store);
    let inst = store.instantiate(&module, &imports).unwrap();
    (store, inst)
}

fn call(
    store: &mut Store,
    inst: InstanceId,
    name: &str,
    args: &[Val],
) -> wamr_runtime::Result<Vec<Val>> {
    let Some(Extern::Func(f)) = store.export(inst, name) else {
        panic!("no export {name}");
    };
    store.call(f, args)
}

#[test]
fn fib_runs_natively() {
    let (mut s, i) = instantiate(
        Config::default(),
        r#"(module (func $fib (export "fib") (param i32) (result i64)
            (if (result i64) (i32.lt_u (local.get 0) (i32.const 2))
              (then (i64.extend_i32_u (local.get 0)))
              (else (i64.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#,
        |_| vec![],
    );
    assert_eq!(
        call(&mut s, i, "fib", &[Val::I32(30)]).unwrap(),
        [Val::I64(832040)]
    );
}

#[test]
fn memory_loads_stores_and_bounds() {
    let (mut s, i) = instantiate(
        Config::default(),
        r#"(module (memory 1)
            (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $acc i32)
              (block (loop
                (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
                (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
                (local.set $acc (i32.add (local.get $acc) (i32.load (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br 0)))
              (local.get $acc))
            (func (export "peek") (param i32) (result i32) (i32.load8_u offset=1 (local.get 0))))"#,
        |_| vec![],
    );
    assert_eq!(
        call(&mut s, i, "sum", &[Val::I32(100)]).unwrap(),
        [Val::I32(4950)]
    );
    let err = call(&mut s, i, "peek", &[Val::I32(65535)]).unwrap_err();
    assert_eq!(err.as_trap().unwrap().kind(), TrapKind::MemoryOutOfBounds);
    assert_eq!(
        call(&mut s, i, "peek", &[Val::I32(65534)]).unwrap(),
        [Val::I32(0)]
    );
}

#[test]
fn traps_and_checked_conversions() {
    let (mut s, i) = instantiate(
        Config::default(),
        r#"(module
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
            (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
            (func (export "sat") (param f64) (result i32) (i32.trunc_sat_f64_u (local.get 0)))
            (func $deep (export "deep") (call $deep)))"#,
        |_| vec![],
    );
    let kind = |r: wamr_runtime::Result<Vec<Val>>| r.unwrap_err().as_trap().unwrap().kind();
    assert_eq!(
        kind(call(&mut s, i, "div", &[Val::I32(1), Val::I32(0)])),
        TrapKind::IntegerDivideByZero
    );
    assert_eq!(
        kind(call(&mut s, i, "div", &[Val::I32(i32::MIN), Val::I32(-1)])),
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        call(&mut s, i, "div", &[Val::I32(-7), Val::I32(2)]).unwrap(),
        [Val::I32(-3)]
    );
    let f = |x: f64| Val::F64(x.to_bits());
    assert_eq!(
        kind(call(&mut s, i, "trunc", &[f(f64::NAN)])),
        TrapKind::InvalidConversionToInteger
    );
    assert_eq!(
        kind(call(&mut s, i, "trunc", &[f(2147483648.0)])),
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        call(&mut s, i, "trunc", &[f(-2147483648.9)]).unwrap(),
        [Val::I32(i32::MIN)]
    );
    assert_eq!(call(&mut s, i, "sat", &[f(-5.0)]).unwrap(), [Val::I32(0)]);
    assert_eq!(call(&mut s, i, "sat", &[f(1e20)]).unwrap(), [Val::I32(-1)]);
    assert_eq!(kind(call(&mut s, i, "deep", &[])), TrapKind::StackOverflow);
    // The store is usable after a trap.
    assert_eq!(
        call(&mut s, i, "div", &[Val::I32(9), Val::I32(3)]).unwrap(),
        [Val::I32(3)]
    );
}

#[test]
fn imports_indirect_calls_and_globals() {
    let (mut s, i) = instantiate(
        Config::default(),
        r#"(module
            (import "env" "twice" (func $twice (param i32) (result i32)))
            (global $g (mut i32) (i32.const 5))
            (table 3 funcref)
            (elem (i32.const 0) $inc $twice)
            (type $t (func (param i32) (result i32)))
            (func $inc (type $t) (i32.add (local.get 0) (global.get $g)))
            (func (export "dispatch") (param i32 i32) (result i32)
              (global.set $g (i32.const 10))
              (call_indirect (type $t) (local.get 1) (local.get 0))))"#,
        |store| {
            let twice = store.add_host_func(
                FuncType::new([ValType::I32], [ValType::I32]),
                Arc::new(|_, args, results| {
                    let Val::I32(x) = args[0] else { unreachable!() };
                    results[0] = Val::I32(x * 2);
                    Ok(())
                }),
            );
            vec![Extern::Func(twice)]
        },
    );
    assert_eq!(
        call(&mut s, i, "dispatch", &[Val::I32(0), Val::I32(1)]).unwrap(),
        [Val::I32(11)]
    );
    assert_eq!(
        call(&mut s, i, "dispatch", &[Val::I32(1), Val::I32(21)]).unwrap(),
        [Val::I32(42)]
    );
    let kind = |r: wamr_runtime::Result<Vec<Val>>| r.unwrap_err().as_trap().unwrap().kind();
    assert_eq!(
        kind(call(&mut s, i, "dispatch", &[Val::I32(2), Val::I32(0)])),
        TrapKind::UninitializedElement
    );
    assert_eq!(
        kind(call(&mut s, i, "dispatch", &[Val::I32(3), Val::I32(0)])),
        TrapKind::UndefinedElement
    );
}

#[test]
fn memory_grow_honours_page_limit() {
    let (mut s, i) = instantiate(
        Config::default().with_memory_page_limit(3),
        r#"(module (memory 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "size") (result i32) (memory.size)))"#,
        |_| vec![],
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::I32(2)]).unwrap(),
        [Val::I32(1)]
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::I32(1)]).unwrap(),
        [Val::I32(-1)]
    );
    assert_eq!(call(&mut s, i, "size", &[]).unwrap(), [Val::I32(3)]);
}

#[test]
fn address_computed_from_memory_size_wraps_like_i32() {
    let (mut s, i) = instantiate(
        Config::default(),
        r#"(module (memory 1)
            (func $limit (result i32) (i32.mul (memory.size) (i32.const 0x10000)))
            (func (export "store") (param $i i32) (param $v i32)
              (i32.store (i32.add (call $limit) (local.get $i)) (local.get $v)))
            (func (export "load") (param $i i32) (result i32)
              (i32.load (i32.add (call $limit) (local.get $i)))))"#,
        |_| vec![],
    );
    call(&mut s, i, "store", &[Val::I32(-4), Val::I32(42)]).unwrap();
    assert_eq!(
        call(&mut s, i, "load", &[Val::I32(-4)]).unwrap(),
        [Val::I32(42)]
    );
    let err = call(&mut s, i, "load", &[Val::I32(-3)]).unwrap_err();
    assert_eq!(err.as_trap().unwrap().kind(), TrapKind::MemoryOutOfBounds);
}

#[test]
fn bulk_memory_and_table_operations() {
    let (mut s, i) = instantiate(
        Config::default(),
        r#"(module (memory 1) (table 2 funcref)
            (data $d "abcdef")
            (elem $e func $f)
            (func $f (result i32) (i32.const 7))
            (func (export "mem") (result i32)
              (memory.fill (i32.const 0) (i32.const 0x41) (i32.const 4))
              (memory.copy (i32.const 2) (i32.const 0) (i32.const 2))
              (memory.init $d (i32.const 4) (i32.const 1) (i32.const 3))
              (data.drop $d)
              (i32.load8_u (i32.const 6)))
            (func (export "table") (result i32)
              (drop (table.grow (ref.null func) (i32.const 3)))
              (table.init $e (i32.const 4) (i32.const 0) (i32.const 1))
              (elem.drop $e)
              (table.fill (i32.const 0) (table.get (i32.const 4)) (i32.const 2))
              (i32.add (table.size) (call_indirect (result i32) (i32.const 1))))
            (func (export "oob") (memory.fill (i32.const 65535) (i32.const 0) (i32.const 2))))"#,
        |_| vec![],
    );
    // "AAAA" then copy "AA" to 2, then "bcd" at 4: byte 6 is 'd'.
    assert_eq!(
        call(&mut s, i, "mem", &[]).unwrap(),
        [Val::I32(b'd' as i32)]
    );
    assert_eq!(call(&mut s, i, "table", &[]).unwrap(), [Val::I32(5 + 7)]);
    let err = call(&mut s, i, "oob", &[]).unwrap_err();
    assert_eq!(err.as_trap().unwrap().kind(), TrapKind::MemoryOutOfBounds);
}
