#![no_main]

use libfuzzer_sys::fuzz_target;
use wamr_fuzz::{Outcome, Target};

fn check(target: Target, input: &[u8]) {
    if let Outcome::Fail { signature, detail } = target.check(input, 0) {
        panic!("{signature}\n{detail}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(wasm) = wamr_fuzz::generate::module_from_bytes(data) {
        check(Target::Compile, &wasm);
    }
});
