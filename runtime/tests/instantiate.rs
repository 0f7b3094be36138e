//! Tier-independent instantiation: limits, import matching, segments.

use wamr_runtime::{
    Config, Error, Extern, GlobalType, IndexType, Limits, MemoryType, Module, RawRef, Store, Val,
    ValType,
};

fn module(config: &Config, wat: &str) -> Module {
    Module::new(config, &wat::parse_str(wat).unwrap()).unwrap()
}

#[test]
fn memory_minimum_over_page_limit_fails_naming_the_limit() {
    let config = Config::default().with_memory_page_limit(50);
    let m = module(&config, "(module (memory 100))");
    let mut store = Store::new(config);
    let err = store.instantiate(&m, &[]).unwrap_err();
    assert!(matches!(err, Error::Instantiation(_)), "{err}");
    assert!(err.to_string().contains("page limit of 50 pages"), "{err}");
}

#[test]
fn memory64_minimum_over_page_limit_fails_too() {
    let config = Config::default().with_memory_page_limit(3);
    let m = module(&config, "(module (memory i64 4))");
    let err = Store::new(config).instantiate(&m, &[]).unwrap_err();
    assert!(err.to_string().contains("page limit of 3 pages"), "{err}");
}

#[test]
fn page_limit_caps_module_maximum() {
    let config = Config::default().with_memory_page_limit(2);
    let m = module(&config, r#"(module (memory (export "m") 1 10))"#);
    let mut store = Store::new(config);
    let inst = store.instantiate(&m, &[]).unwrap();
    let Some(Extern::Memory(mem)) = store.export(inst, "m") else {
        panic!("memory export");
    };
    assert_eq!(store.memory(mem).max_pages(), 2);
    assert_eq!(store.memory_mut(mem).grow(1), Some(1));
    assert_eq!(store.memory_mut(mem).grow(1), None);
}

#[test]
fn data_and_element_segments_are_applied_in_order() {
    let config = Config::default();
    let m = module(
        &config,
        r#"(module
            (memory (export "m") 1)
            (table (export "t") 3 funcref)
            (func $f)
            (elem (i32.const 1) $f $f)
            (data (i32.const 16) "abc")
            (data (i32.const 17) "X"))"#,
    );
    let mut store = Store::new(config);
    let inst = store.instantiate(&m, &[]).unwrap();
    let Some(Extern::Memory(mem)) = store.export(inst, "m") else {
        panic!()
    };
    assert_eq!(&store.memory(mem).data()[16..19], b"aXc");
    let Some(Extern::Table(t)) = store.export(inst, "t") else {
        panic!()
    };
    let table = store.table(t);
    assert!(table.get(0).unwrap().is_null());
    let f = store.func_of_ref(table.get(1).unwrap()).unwrap();
    assert_eq!(store.func_of_ref(table.get(2).unwrap()), Some(f));
    assert_eq!(store.instance(inst).funcs()[0], f);
}

#[test]
fn out_of_bounds_segment_traps_but_keeps_earlier_writes() {
    let config = Config::default();
    let mut store = Store::new(config.clone());
    let mem = store
        .add_memory(MemoryType {
            index: IndexType::I32,
            limits: Limits { min: 1, max: None },
            shared: false,
        })
        .unwrap();
    let m = module(
        &config,
        r#"(module (memory (import "env" "m") 1)
            (data (i32.const 0) "ok")
            (data (i32.const 65535) "too long"))"#,
    );
    let err = store.instantiate(&m, &[Extern::Memory(mem)]).unwrap_err();
    assert_eq!(
        err.as_trap().map(|t| t.to_string()).as_deref(),
        Some("out of bounds memory access")
    );
    assert_eq!(&store.memory(mem).data()[..2], b"ok");
}

#[test]
fn import_type_mismatch_is_a_link_error_naming_both_types() {
    let config = Config::default();
    let mut store = Store::new(config.clone());
    let g = store
        .add_global(
            GlobalType {
                content: ValType::I64,
                mutable: false,
            },
            Val::I64(1),
        )
        .unwrap();
    let m = module(&config, r#"(module (import "env" "g" (global i32)))"#);
    let err = store.instantiate(&m, &[Extern::Global(g)]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Link(_)), "{msg}");
    assert!(
        msg.contains("env.g") && msg.contains("global i32") && msg.contains("global i64"),
        "{msg}"
    );
}

#[test]
fn imported_memory_must_satisfy_limits_and_index_type() {
    let config = Config::default();
    let mut store = Store::new(config.clone());
    let mem = store
        .add_memory(MemoryType {
            index: IndexType::I32,
            limits: Limits {
                min: 1,
                max: Some(4),
            },
            shared: false,
        })
        .unwrap();
    let want_two = module(&config, r#"(module (import "env" "m" (memory 2)))"#);
    assert!(
        store
            .instantiate(&want_two, &[Extern::Memory(mem)])
            .is_err()
    );
    let want_64 = module(&config, r#"(module (import "env" "m" (memory i64 1)))"#);
    assert!(store.instantiate(&want_64, &[Extern::Memory(mem)]).is_err());
    let fits = module(&config, r#"(module (import "env" "m" (memory 1 8)))"#);
    assert!(store.instantiate(&fits, &[Extern::Memory(mem)]).is_ok());
}

#[test]
fn extended_const_globals_and_ref_func() {
    let config = Config::default();
    let m = module(
        &config,
        r#"(module
            (import "env" "a" (global $a i64))
            (global (export "b") i64 (i64.add (global.get $a) (i64.mul (i64.const 1) (i64.const 2))))
            (global (export "f") funcref (ref.func $f))
            (func $f))"#,
    );
    let mut store = Store::new(config);
    let a = store
        .add_global(
            GlobalType {
                content: ValType::I64,
                mutable: false,
            },
            Val::I64(40),
        )
        .unwrap();
    let inst = store.instantiate(&m, &[Extern::Global(a)]).unwrap();
    let Some(Extern::Global(b)) = store.export(inst, "b") else {
        panic!()
    };
    assert_eq!(store.global(b).get(), Val::I64(42));
    let Some(Extern::Global(f)) = store.export(inst, "f") else {
        panic!()
    };
    let Val::Ref(r) = store.global(f).get() else {
        panic!()
    };
    assert_ne!(r, RawRef::NULL);
    assert_eq!(store.func_of_ref(r), Some(store.instance(inst).funcs()[0]));
}

#[test]
fn start_function_without_a_tier_is_a_clear_error() {
    let config = Config::default();
    let m = module(&config, "(module (func $s) (start $s))");
    let err = Store::new(config).instantiate(&m, &[]).unwrap_err();
    assert!(err.to_string().contains("no execution tier"), "{err}");
}
