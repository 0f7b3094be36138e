//! Embedding wamr-rs: a host function the guest calls, a typed call into
//! the guest, and reading the guest's memory.
//!
//! ```sh
//! cargo run --release --example embed
//! ```

use std::error::Error;

use wamr_rs::{Caller, Linker, Runtime, Trap};

/// The guest: `greet(n)` writes "hello #n" into its memory through the host
/// function `host.format`, logs it with `host.log`, and returns its length.
const GUEST: &str = r#"(module
    (import "host" "format" (func $format (param i32 i32) (result i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "greet") (param $n i32) (result i32)
        (local $len i32)
        (local.set $len (call $format (i32.const 64) (local.get $n)))
        (call $log (i32.const 64) (local.get $len))
        (local.get $len)))"#;

fn main() -> Result<(), Box<dyn Error>> {
    let runtime = Runtime::new();
    let module = runtime.load(&wat::parse_str(GUEST)?)?;
    let mut store = runtime.new_store();

    let mut linker = Linker::new();
    // Host functions are plain closures: their wasm types, here
    // (i32, i32) -> i32 and (i32, i32) -> (), come from the Rust types.
    linker
        .func_wrap(
            &mut store,
            "host",
            "format",
            |caller: &mut Caller<'_>, at: u32, n: i32| -> Result<i32, Trap> {
                let text = format!("hello #{n}");
                let memory = caller
                    .memory("memory")
                    .ok_or_else(|| Trap::host("no exported memory"))?;
                memory
                    .write(u64::from(at), text.as_bytes())
                    .ok_or_else(|| Trap::host("format: out of bounds"))?;
                Ok(text.len() as i32)
            },
        )
        .func_wrap(
            &mut store,
            "host",
            "log",
            |caller: &mut Caller<'_>, at: u32, len: u32| -> Result<(), Trap> {
                let mut bytes = vec![0; len as usize];
                caller
                    .memory("memory")
                    .and_then(|m| m.read(u64::from(at), &mut bytes))
                    .ok_or_else(|| Trap::host("log: out of bounds"))?;
                println!("guest says: {}", String::from_utf8_lossy(&bytes));
                Ok(())
            },
        );
    let instance = linker.instantiate(&mut store, &module)?;

    // Checked against the export's signature here, once; calls are then typed.
    let greet = instance.get_typed_func::<i32, i32>(&store, "greet")?;
    let len = greet.call(&mut store, 7)?;

    // Guest memory is addressed with u64, for memory32 and memory64 alike.
    let memory = instance
        .memory(&store, "memory")
        .ok_or("no exported memory")?;
    let mut text = vec![0; len as usize];
    store
        .memory(memory)
        .read(64, &mut text)
        .ok_or("out of bounds")?;
    println!("host reads back: {}", String::from_utf8_lossy(&text));
    Ok(())
}
