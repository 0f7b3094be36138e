//! Behaviour of the interpreter tier through the runtime's store.

use std::sync::Arc;

use wamr_interp::Interpreter;
use wamr_runtime::{Config, Extern, FuncType, InstanceId, Module, Store, TrapKind, Val, ValType};

fn setup(config: Config, wat: &str) -> (Store, InstanceId) {
    let module = Module::new(&config, &wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(config);
    store.set_executor(Arc::new(Interpreter::new()));
    let inst = store.instantiate(&module, &[]).unwrap();
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
fn recursive_fib() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#,
    );
    assert_eq!(
        call(&mut s, i, "fib", &[Val::I32(20)]).unwrap(),
        [Val::I32(6765)]
    );
}

#[test]
fn deferred_local_read_survives_overwrite() {
    // The first local.get must observe the value before the local.set.
    let (mut s, i) = setup(
        Config::default(),
        r#"(module (func (export "f") (param i32) (result i32)
            local.get 0
            (local.set 0 (i32.const 100))
            local.get 0
            i32.sub))"#,
    );
    assert_eq!(
        call(&mut s, i, "f", &[Val::I32(7)]).unwrap(),
        [Val::I32(7 - 100)]
    );
}

#[test]
fn tee_and_redirected_results() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module (func (export "f") (param i32 i32) (result i32) (local i32)
            (local.set 2 (i32.mul (local.get 0) (local.get 1)))
            (local.tee 0 (i32.add (local.get 2) (local.get 0)))
            local.get 2
            i32.add))"#,
    );
    // l2 = 3*4 = 12; l0 = 12+3 = 15; 15 + 12 = 27
    assert_eq!(
        call(&mut s, i, "f", &[Val::I32(3), Val::I32(4)]).unwrap(),
        [Val::I32(27)]
    );
}

#[test]
fn comparison_dropped_before_br_if_is_not_fused() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module (func (export "f") (param i32) (result i32)
            (block (result i32)
              (i32.const 11)
              (local.get 0)
              (i32.eqz (local.get 0))
              drop
              br_if 0
              drop
              (i32.const 22))))"#,
    );
    // The branch tests local 0 itself, not the dropped comparison.
    assert_eq!(
        call(&mut s, i, "f", &[Val::I32(1)]).unwrap(),
        [Val::I32(11)]
    );
    assert_eq!(
        call(&mut s, i, "f", &[Val::I32(0)]).unwrap(),
        [Val::I32(22)]
    );
}

#[test]
fn bit_field_extracts_and_copies_moved_into_back_edges() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module
          (func (export "field") (param i32 i32) (result i32)
            (i32.and (i32.shr_u (local.get 0) (local.get 1)) (i32.const 0xf)))
          (func (export "field_const") (param i32) (result i32)
            ;; Shift counts are taken modulo 32: 35 shifts by 3.
            (i32.add (i32.and (i32.shr_u (local.get 0) (i32.const 28)) (i32.const 0xf))
                     (i32.and (i32.shr_u (local.get 0) (i32.const 35)) (i32.const 0xff))))
          (func (export "fib") (param $n i32) (result i32) (local $a i32) (local $b i32) (local $t i32)
            (local.set $b (i32.const 1))
            (loop $l
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (local.set $t (i32.add (local.get $a) (local.get $b)))
              (local.set $a (local.get $b))
              (local.set $b (local.get $t))
              (br_if $l (local.get $n)))
            (local.get $a)))"#,
    );
    let x = 0xdead_beef_u32;
    let field = |s: &mut Store, sh: i32| call(s, i, "field", &[Val::I32(x as i32), Val::I32(sh)]);
    assert_eq!(field(&mut s, 28).unwrap(), [Val::I32(0xd)]);
    let expected = (x >> 28) + ((x >> 3) & 0xff);
    assert_eq!(
        call(&mut s, i, "field_const", &[Val::I32(x as i32)]).unwrap(),
        [Val::I32(expected as i32)]
    );
    assert_eq!(
        call(&mut s, i, "fib", &[Val::I32(20)]).unwrap(),
        [Val::I32(6765)]
    );
}

#[test]
fn loop_with_fused_compare_branch() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module (func (export "sum") (param i32) (result i64) (local i32 i64)
            (block (loop
              (br_if 1 (i32.ge_s (local.get 1) (local.get 0)))
              (local.set 2 (i64.add (local.get 2) (i64.extend_i32_s (local.get 1))))
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br 0)))
            (local.get 2)))"#,
    );
    assert_eq!(
        call(&mut s, i, "sum", &[Val::I32(1000)]).unwrap(),
        [Val::I64(499_500)]
    );
}

#[test]
fn infinite_recursion_is_a_stack_overflow_trap_and_store_stays_usable() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module
            (func $f (export "f") (call $f))
            (func (export "ok") (result i32) (i32.const 1)))"#,
    );
    let err = call(&mut s, i, "f", &[]).unwrap_err();
    assert_eq!(err.as_trap().unwrap().kind(), TrapKind::StackOverflow);
    assert!(err.to_string().contains("call stack exhausted"), "{err}");
    assert_eq!(call(&mut s, i, "ok", &[]).unwrap(), [Val::I32(1)]);
}

#[test]
fn memory_grow_honours_page_limit() {
    let (mut s, i) = setup(
        Config::default().with_memory_page_limit(3),
        r#"(module (memory 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "size") (result i32) (memory.size)))"#,
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
fn memory64_grow_and_out_of_range_addresses() {
    let (mut s, i) = setup(
        Config::default().with_memory_page_limit(2),
        r#"(module (memory i64 1)
            (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
            (func (export "load") (param i64) (result i32) (i32.load offset=4 (local.get 0))))"#,
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::I64(5)]).unwrap(),
        [Val::I64(-1)]
    );
    assert_eq!(
        call(&mut s, i, "grow", &[Val::I64(1)]).unwrap(),
        [Val::I64(1)]
    );
    assert_eq!(
        call(&mut s, i, "load", &[Val::I64(0)]).unwrap(),
        [Val::I32(0)]
    );
    for addr in [-1i64, -4, 2 * 65536 - 7] {
        let err = call(&mut s, i, "load", &[Val::I64(addr)]).unwrap_err();
        assert_eq!(
            err.as_trap().unwrap().kind(),
            TrapKind::MemoryOutOfBounds,
            "{addr}"
        );
    }
}

#[test]
fn host_functions_are_called_with_the_caller_instance() {
    let config = Config::default();
    let module = Module::new(
        &config,
        &wat::parse_str(
            r#"(module (import "env" "peek" (func $peek (param i32) (result i32)))
                (memory (export "memory") 1)
                (data (i32.const 16) "\2a")
                (func (export "run") (result i32) (call $peek (i32.const 16))))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let mut store = Store::new(config);
    store.set_executor(Arc::new(Interpreter::new()));
    let peek = store.add_host_func(
        FuncType::new([ValType::I32], [ValType::I32]),
        Arc::new(|caller, args, results| {
            let Val::I32(addr) = args[0] else {
                unreachable!()
            };
            let mem = caller.memory("memory").expect("caller memory");
            results[0] = Val::I32(mem.data()[addr as usize] as i32);
            Ok(())
        }),
    );
    let inst = store.instantiate(&module, &[Extern::Func(peek)]).unwrap();
    assert_eq!(call(&mut store, inst, "run", &[]).unwrap(), [Val::I32(42)]);
}

#[test]
fn traps_name_the_function() {
    let (mut s, i) = setup(
        Config::default(),
        r#"(module (func $divide (export "div") (param i32 i32) (result i32)
            (i32.div_u (local.get 0) (local.get 1))))"#,
    );
    let err = call(&mut s, i, "div", &[Val::I32(1), Val::I32(0)]).unwrap_err();
    let trap = err.as_trap().unwrap();
    assert_eq!(trap.kind(), TrapKind::IntegerDivideByZero);
    assert_eq!(trap.function(), Some("divide"));
}

#[test]
fn long_running_code_uses_constant_native_stack() {
    // Optimised builds dispatch by tail calls between handlers. Were one of
    // them not compiled to a jump, each instruction would take native stack:
    // millions of them on a 256 KiB thread stack would overflow and abort.
    let wat = r#"(module
        (memory 1)
        (global $g (mut i64) (i64.const 0))
        (table 2 funcref)
        (elem (i32.const 0) $inc $dec)
        (type $t (func (param i64) (result i64)))
        (func $inc (type $t) (i64.add (local.get 0) (i64.const 1)))
        (func $dec (type $t) (i64.sub (local.get 0) (i64.const 1)))
        (func (export "run") (param $n i32) (result i64) (local $i i32) (local $f f64)
          (loop $top
            (i64.store offset=8192 (i32.and (local.get $i) (i32.const 0xff8)) (global.get $g))
            (i32.store8 offset=3 (i32.and (local.get $i) (i32.const 0xfff)) (local.get $i))
            (i32.store16 (i32.const 100) (i32.load8_u (i32.const 3)))
            (local.set $f (f64.add (local.get $f) (f64.convert_i32_s (local.get $i))))
            (global.set $g
              (call_indirect (type $t)
                (i64.load offset=8192 (i32.and (local.get $i) (i32.const 0xff8)))
                (select (i32.const 0) (i32.const 1) (i32.and (local.get $i) (i32.const 1)))))
            (global.set $g (call $inc (global.get $g)))
            (memory.fill (i32.const 200) (local.get $i) (i32.const 8))
            (memory.copy (i32.const 300) (i32.const 200) (i32.const 8))
            (table.set (i32.const 1) (table.get (i32.const 1)))
            (drop (table.size))
            (block $b (block $a
              (br_table $a $b (i32.and (local.get $i) (i32.const 1))))
              (global.set $g (i64.add (global.get $g) (i64.trunc_f64_s (f64.const 1)))))
            (br_if $top (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
          (global.get $g)))"#;
    let result = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let (mut s, i) = setup(Config::default(), wat);
            call(&mut s, i, "run", &[Val::I32(200_000)]).unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    // Even i: dec, inc, +1 (br_table to $a); odd i: inc, inc (br_table skips).
    assert_eq!(result, [Val::I64(200_000 + 100_000)]);
}

#[test]
fn deep_host_reentry_is_a_trap_not_a_crash() {
    // wasm -> host -> wasm -> host ... without end: each level uses native
    // stack, so it must end in "call stack exhausted" well before the thread's
    // stack runs out.
    let config = Config::default();
    let module = Module::new(
        &config,
        &wat::parse_str(
            r#"(module (import "env" "again" (func $again))
                (func (export "enter") (call $again)))"#,
        )
        .unwrap(),
    )
    .unwrap();
    let outcome = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut store = Store::new(config);
            store.set_executor(Arc::new(Interpreter::new()));
            let again = store.add_host_func(
                FuncType::new([], []),
                Arc::new(|caller, _, _| {
                    let Some(Extern::Func(enter)) = caller.export("enter") else {
                        panic!("enter export");
                    };
                    caller
                        .store
                        .call(enter, &[])
                        .map(|_| ())
                        .map_err(|e| match e {
                            wamr_runtime::Error::Trap(t) => t,
                            other => wamr_runtime::Trap::host(other.to_string()),
                        })
                }),
            );
            let inst = store.instantiate(&module, &[Extern::Func(again)]).unwrap();
            call(&mut store, inst, "enter", &[]).unwrap_err()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        outcome.as_trap().unwrap().kind(),
        TrapKind::StackOverflow,
        "{outcome}"
    );
}

/// Runs export `name` of `wat` on each input and compares with `expect`.
fn check_i32(wat: &str, name: &str, inputs: &[i32], expect: impl Fn(i32) -> i32) {
    let (mut s, i) = setup(Config::default(), wat);
    for &x in inputs {
        let got = call(&mut s, i, name, &[Val::I32(x)]).unwrap();
        assert_eq!(got, [Val::I32(expect(x))], "{name}({x})");
    }
}

const EDGES: &[i32] = &[
    0,
    1,
    2,
    7,
    9,
    10,
    11,
    -1,
    -5,
    -10,
    i32::MIN,
    i32::MAX,
    0x55aa,
];

#[test]
fn select_with_constant_operands() {
    let wat = r#"(module
        (func (export "imm_a") (param i32) (result i32) (local i32)
          (local.set 1 (select (i32.const 7) (local.get 0) (i32.and (local.get 0) (i32.const 1))))
          (local.get 1))
        (func (export "imm_b") (param i32) (result i32)
          (select (local.get 0) (i32.const -3) (i32.gt_s (local.get 0) (i32.const 9))))
        (func (export "both") (param i32) (result i32)
          (select (i32.const 5) (i32.const 6) (local.get 0)))
        (func (export "f32") (param i32) (result i32)
          (i32.reinterpret_f32 (select (f32.const 1.5) (f32.const -0.0) (local.get 0)))))"#;
    check_i32(wat, "imm_a", EDGES, |x| if x & 1 != 0 { 7 } else { x });
    check_i32(wat, "imm_b", EDGES, |x| if x > 9 { x } else { -3 });
    check_i32(wat, "both", EDGES, |x| if x != 0 { 5 } else { 6 });
    check_i32(wat, "f32", EDGES, |x| {
        (if x != 0 { 1.5f32 } else { -0.0f32 }).to_bits() as i32
    });
}

#[test]
fn constants_on_the_left_of_comparisons() {
    // `c op x` becomes the mirrored comparison with an immediate; fused
    // into a branch or kept as a value.
    let wat = r#"(module
        (func (export "lt_u") (param i32) (result i32)
          (block (br_if 0 (i32.lt_u (i32.const 10) (local.get 0))) (return (i32.const 0)))
          (i32.const 1))
        (func (export "ge_s") (param i32) (result i32)
          (i32.ge_s (i32.const -1) (local.get 0)))
        (func (export "le_u") (param i32) (result i32)
          (i32.le_u (local.get 0) (i32.const 9)))
        (func (export "sub") (param i32) (result i32)
          (i32.sub (i32.const 100) (local.get 0))))"#;
    check_i32(wat, "lt_u", EDGES, |x| (10 < x as u32) as i32);
    check_i32(wat, "ge_s", EDGES, |x| (-1 >= x) as i32);
    check_i32(wat, "le_u", EDGES, |x| (x as u32 <= 9) as i32);
    check_i32(wat, "sub", EDGES, |x| 100i32.wrapping_sub(x));
}

#[test]
fn branches_on_bit_tests_differences_and_counters() {
    let wat = r#"(module
        (func (export "and") (param i32) (result i32)
          (block (br_if 0 (i32.and (local.get 0) (i32.const 0x50))) (return (i32.const 0)))
          (i32.const 1))
        (func (export "and_eqz") (param i32) (result i32)
          (if (result i32) (i32.and (local.get 0) (i32.shr_u (local.get 0) (i32.const 1)))
            (then (i32.const 1)) (else (i32.const 0))))
        (func (export "xor") (param i32) (result i32)
          (block (br_if 0 (i32.xor (local.get 0) (i32.const 7))) (return (i32.const 0)))
          (i32.const 1))
        (func (export "sub") (param i32) (result i32)
          (block (br_if 0 (i32.eqz (i32.sub (local.get 0) (i32.const 11)))) (return (i32.const 0)))
          (i32.const 1))
        ;; Counts down from x & 255 with the counter stepped by `local.tee`.
        (func (export "count") (param i32) (result i32) (local i32)
          (local.set 0 (i32.and (local.get 0) (i32.const 255)))
          (if (i32.eqz (local.get 0)) (then (return (i32.const 0))))
          (loop
            (local.set 1 (i32.add (local.get 1) (i32.const 3)))
            (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
          (local.get 1))
        ;; A label between the step and the branch: for x = -5 a jump skips
        ;; the step and lands on the branch (fused, it would step: 0).
        (func (export "label") (param i32) (result i32)
          (block
            (br_if 0 (i32.eq (local.get 0) (i32.const -5)))
            (local.set 0 (i32.add (local.get 0) (i32.const 5))))
          (block (br_if 0 (local.get 0)) (return (i32.const 0)))
          (i32.const 1)))"#;
    check_i32(wat, "and", EDGES, |x| (x & 0x50 != 0) as i32);
    check_i32(wat, "and_eqz", EDGES, |x| {
        (x & ((x as u32) >> 1) as i32 != 0) as i32
    });
    check_i32(wat, "xor", EDGES, |x| (x != 7) as i32);
    check_i32(wat, "sub", EDGES, |x| (x == 11) as i32);
    check_i32(wat, "count", EDGES, |x| (x & 255) * 3);
    check_i32(wat, "label", &[-5, 0, 5], |_| 1);
}

#[test]
fn local_overwritten_while_its_old_value_is_on_the_stack() {
    // The old value of local 0 is read after the product is written to it.
    let wat = r#"(module
        (func (export "f") (param i32) (result i32)
          (local.get 0)
          (local.set 0 (i32.mul (local.get 0) (i32.const 3)))
          (i32.sub (local.get 0))))"#;
    check_i32(wat, "f", EDGES, |x| x.wrapping_sub(x.wrapping_mul(3)));
}

#[test]
fn results_passed_in_the_accumulator_feed_every_operand_position() {
    // Each op here reads the result of the op just before it, as first or
    // second operand, address, stored value, condition or copy source.
    let wat = r#"(module
        (memory 1)
        (func (export "sub_b") (param i32) (result i32)
          (i32.sub (i32.const 1000) (i32.mul (local.get 0) (i32.const 3))))
        (func (export "shifts") (param i32) (result i32)
          (i32.shr_s (i32.const -4096) (i32.and (local.get 0) (i32.const 7))))
        (func (export "lt") (param i32) (result i32)
          (i32.lt_s (i32.const 5) (i32.xor (local.get 0) (i32.const 1))))
        (func (export "div") (param i32) (result i32)
          (i32.div_u (i32.const 100000) (i32.or (local.get 0) (i32.const 1))))
        (func (export "memory") (param i32) (result i32)
          (i32.store (i32.and (local.get 0) (i32.const 0xfc)) (i32.add (local.get 0) (i32.const 9)))
          (i32.store8 (i32.const 512) (i32.shr_u (local.get 0) (i32.const 2)))
          (i32.add
            (i32.load (i32.and (local.get 0) (i32.const 0xfc)))
            (i32.load8_u (i32.add (i32.const 500) (i32.const 12)))))
        (func (export "select") (param i32) (result i32)
          (select (i32.const 11) (local.get 0) (i32.and (local.get 0) (i32.const 4))))
        (func (export "branch") (param i32) (result i32)
          (block (br_if 0 (i32.and (local.get 0) (i32.const 2))) (return (i32.const 0)))
          (i32.const 1))
        (func (export "compare_branch") (param i32) (result i32)
          (block (br_if 0 (i32.gt_u (i32.const 9) (i32.shr_u (local.get 0) (i32.const 28))))
                 (return (i32.const 0)))
          (i32.const 1))
        (func (export "copy") (param i32) (result i32) (local i32 i32)
          (local.set 1 (i32.add (local.get 0) (i32.const 1)))
          (local.set 2 (local.get 1))
          (i32.mul (local.get 2) (local.get 1)))
        (func (export "f64") (param i32) (result i32)
          (i32.trunc_sat_f64_s
            (f64.sub (f64.const 0.5) (f64.mul (f64.convert_i32_s (local.get 0)) (f64.const 2.0))))))"#;
    check_i32(wat, "sub_b", EDGES, |x| {
        1000i32.wrapping_sub(x.wrapping_mul(3))
    });
    check_i32(wat, "shifts", EDGES, |x| -4096 >> (x & 7));
    check_i32(wat, "lt", EDGES, |x| (5 < (x ^ 1)) as i32);
    check_i32(wat, "div", EDGES, |x| (100000u32 / (x as u32 | 1)) as i32);
    check_i32(wat, "memory", EDGES, |x| {
        x.wrapping_add(9)
            .wrapping_add(((x as u32) >> 2) as u8 as i32)
    });
    check_i32(wat, "select", EDGES, |x| if x & 4 != 0 { 11 } else { x });
    check_i32(wat, "branch", EDGES, |x| (x & 2 != 0) as i32);
    check_i32(wat, "compare_branch", EDGES, |x| {
        (9 > (x as u32) >> 28) as i32
    });
    check_i32(wat, "copy", EDGES, |x| {
        x.wrapping_add(1).wrapping_mul(x.wrapping_add(1))
    });
    check_i32(wat, "f64", EDGES, |x| (0.5 - x as f64 * 2.0) as i32);
}

#[test]
fn a_value_reached_by_a_jump_is_read_from_its_slot_not_the_accumulator() {
    // The add after `end` follows `local.set 1 (7)` in the code, but a
    // taken branch arrives there with the decremented counter as the last
    // result: the add must read local 1 (100), not that.
    let wat = r#"(module
        (func (export "f") (param i32) (result i32) (local i32)
          (local.set 1 (i32.const 100))
          (block
            (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1))))
            (local.set 1 (i32.const 7)))
          (i32.add (local.get 1) (i32.const 1)))
        ;; The same for a loop header reached by its back edge.
        (func (export "loop") (param i32) (result i32) (local i32)
          (local.set 1 (i32.const 0))
          (local.set 0 (i32.or (i32.and (local.get 0) (i32.const 14)) (i32.const 1)))
          (loop
            (local.set 1 (i32.add (local.get 1) (i32.const 2)))
            (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
          (local.get 1))
        ;; A copy-and-branch whose condition is the copy's own target.
        (func (export "copy_cond") (param i32) (result i32) (local i32 i32)
          (local.set 2 (i32.const 3))
          (local.set 1 (i32.and (local.get 0) (i32.const 1)))
          (block
            (local.set 1 (local.get 2))
            (br_if 0 (local.get 1))
            (return (i32.const -1)))
          (local.get 1)))"#;
    check_i32(wat, "f", &[5, 1, 2, 0x7fff], |x| {
        if x - 1 != 0 { 101 } else { 8 }
    });
    check_i32(wat, "loop", EDGES, |x| 2 * (x & 14 | 1));
    check_i32(wat, "copy_cond", EDGES, |_| 3);
}
