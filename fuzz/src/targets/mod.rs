//! The fuzz targets. Each makes its input from a seed and checks an input;
//! the driver, the CI tests and the libFuzzer entry points all go through
//! [`Target`].

pub mod aot_file;
pub mod compile;
pub mod diff;
pub mod malformed;
pub mod wasi;

use std::str::FromStr;

use crate::compare::CompareOptions;
use crate::outcome::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Diff,
    Malformed,
    Aot,
    Compile,
    Wasi,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Diff,
        Target::Malformed,
        Target::Aot,
        Target::Compile,
        Target::Wasi,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Diff => "diff",
            Target::Malformed => "malformed",
            Target::Aot => "aot",
            Target::Compile => "compile",
            Target::Wasi => "wasi",
        }
    }

    /// The file extension of the target's inputs.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Aot => "aot",
            _ => "wasm",
        }
    }

    /// The input of `seed`; `Err` when none can be made (counted as skipped).
    pub fn input(self, seed: u64) -> Result<Vec<u8>, String> {
        match self {
            Target::Diff => diff::input(seed),
            Target::Malformed => malformed::input(seed),
            Target::Aot => aot_file::input(seed),
            Target::Compile => compile::input(seed),
            Target::Wasi => wasi::input(seed),
        }
    }

    /// Checks `input` (made from `seed`, or shrunk from one). Panics of the
    /// code under test are failures; the case runs on a thread with room
    /// for the native stack wasm may use.
    pub fn check(self, input: &[u8], seed: u64) -> Outcome {
        crate::on_big_stack(|| {
            std::panic::catch_unwind(|| match self {
                Target::Diff => diff::check(input, seed, CompareOptions::default()),
                Target::Malformed => malformed::check(input, seed),
                Target::Aot => aot_file::check(input, seed),
                Target::Compile => compile::check(input, seed),
                Target::Wasi => wasi::check(input, seed),
            })
            .unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Outcome::fail("panic", format!("panicked: {msg}"))
            })
        })
    }

    /// Makes the input of `seed` and checks it.
    pub fn run(self, seed: u64) -> Outcome {
        match self.input(seed) {
            Ok(input) => self.check(&input, seed),
            Err(why) => Outcome::Skip(why),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown target `{s}` (diff, malformed, aot, compile, wasi)"))
    }
}
