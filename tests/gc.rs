//! The slice of the GC proposal every tier runs: array types, `arrayref`,
//! `array.new_default` in constant expressions and `ref.eq`; everything
//! else of GC is refused with a clear error.
#![cfg(feature = "llvm")]

use wamr_rs::{Config, Features, Runtime, Tier, Val};

fn gc_runtime(tier: Tier) -> Runtime {
    let config = Config::default().with_features(Features {
        gc: true,
        ..Features::default()
    });
    Runtime::with_config(config).with_tier(tier).unwrap()
}

/// Calls export `name` of `wat` under `tier`.
fn call(tier: Tier, wat: &str, name: &str) -> Result<Vec<Val>, String> {
    let runtime = gc_runtime(tier);
    let module = runtime
        .load(&wat::parse_str(wat).unwrap())
        .map_err(|e| e.to_string())?;
    let mut store = runtime.new_store();
    let instance = wamr_rs::Linker::new()
        .instantiate(&mut store, &module)
        .map_err(|e| e.to_string())?;
    instance
        .call(&mut store, name, &[])
        .map_err(|e| e.to_string())
}

const ARRAYS: &str = r#"(module
  (type $bytes (array (mut i8)))
  (type $refs (array (mut arrayref)))
  (global $a arrayref (array.new_default $bytes (i32.const 3)))
  (global $b arrayref (array.new_default $bytes (i32.const 3)))
  (global $empty1 arrayref (array.new_default $refs (i32.const 0)))
  (global $empty2 arrayref (array.new_default $refs (i32.const 0)))
  (table $t 2 arrayref)
  (elem $e arrayref (item (array.new_default $refs (i32.const 1))))
  (func (export "same") (result i32) (ref.eq (global.get $a) (global.get $a)))
  (func (export "different") (result i32) (ref.eq (global.get $a) (global.get $b)))
  (func (export "empties") (result i32) (ref.eq (global.get $empty1) (global.get $empty2)))
  (func (export "null") (result i32) (ref.is_null (global.get $a)))
  (func (export "null_eq") (result i32) (ref.eq (ref.null array) (ref.null array)))
  (func (export "segment_once") (result i32)
    (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 1))
    (table.init $t $e (i32.const 1) (i32.const 0) (i32.const 1))
    (ref.eq (table.get $t (i32.const 0)) (table.get $t (i32.const 1)))))"#;

#[test]
fn arrays_are_distinct_objects_compared_by_ref_eq_in_every_tier() {
    for tier in Tier::ALL {
        let expect = [
            ("same", 1),
            ("different", 0),
            ("empties", 0),
            ("null", 0),
            ("null_eq", 1),
            ("segment_once", 1),
        ];
        for (name, want) in expect {
            assert_eq!(
                call(tier, ARRAYS, name),
                Ok(vec![Val::I32(want)]),
                "{name} under {tier:?}"
            );
        }
    }
}

#[test]
fn an_array_too_large_to_allocate_fails_instantiation() {
    let wat = r#"(module (type $a (array i8))
        (global arrayref (array.new_default $a (i32.const -1))))"#;
    let e = call(Tier::Interp, wat, "none").unwrap_err();
    assert!(e.contains("too large"), "{e}");
}

#[test]
fn other_gc_types_and_instructions_are_refused_as_unsupported() {
    let structs = r#"(module (type (struct (field i32))))"#;
    let e = call(Tier::Interp, structs, "none").unwrap_err();
    assert!(e.contains("GC struct types"), "{e}");
    let subtypes = r#"(module (type (sub (array i8))))"#;
    let e = call(Tier::Interp, subtypes, "none").unwrap_err();
    assert!(e.contains("GC subtypes"), "{e}");
    let rec = r#"(module (rec (type (array i8)) (type (func))))"#;
    let e = call(Tier::Interp, rec, "none").unwrap_err();
    assert!(e.contains("recursive type groups"), "{e}");
    // An instruction that reads an array: valid, but no tier runs it.
    let len = r#"(module (type $a (array i8))
        (global arrayref (array.new_default $a (i32.const 2)))
        (func (export "len") (result i32) (array.len (global.get 0))))"#;
    for tier in Tier::ALL {
        let e = call(tier, len, "len").unwrap_err();
        assert!(e.contains("not supported"), "{tier:?}: {e}");
    }
}

#[test]
fn without_the_gc_feature_array_types_are_invalid() {
    let runtime = Runtime::new();
    let e = runtime
        .load(&wat::parse_str("(module (type (array i8)))").unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("gc"), "{e}");
}
