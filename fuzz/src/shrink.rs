//! Shrinking a failing input while it still fails the same way. Modules
//! shrink structurally (each kept valid: exports dropped, function bodies
//! replaced by `unreachable`); other inputs by deleting byte ranges.

use std::time::{Duration, Instant};

use wasm_encoder::reencode::{Error, Reencode, RoundtripReencoder, utils};
use wasm_encoder::{CodeSection, ExportSection, Function, Instruction};

/// Shrinks `input` within `budget`; `still_fails` runs a candidate (the
/// driver runs it in a child process).
pub fn shrink(
    input: Vec<u8>,
    structural: bool,
    budget: Duration,
    mut still_fails: impl FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let deadline = Instant::now() + budget;
    let mut best = input;
    let mut accept = |candidate: Vec<u8>, best: &mut Vec<u8>| {
        if Instant::now() < deadline && candidate.len() <= best.len() && still_fails(&candidate) {
            *best = candidate;
            true
        } else {
            false
        }
    };
    if structural {
        for kind in [Cut::Export, Cut::Body] {
            // From the last, so earlier indices stay put.
            let mut i = count(&best, kind);
            while i > 0 && Instant::now() < deadline {
                i -= 1;
                if let Some(candidate) = cut(&best, kind, i) {
                    accept(candidate, &mut best);
                }
            }
        }
        return best;
    }
    let mut chunk = best.len() / 2;
    while chunk > 0 && Instant::now() < deadline {
        let mut at = 0;
        while at < best.len() && Instant::now() < deadline {
            let mut candidate = best.clone();
            candidate.drain(at..(at + chunk).min(best.len()));
            if !accept(candidate, &mut best) {
                at += chunk;
            }
        }
        chunk /= 2;
    }
    best
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Export,
    Body,
}

/// How many exports or function bodies `wasm` has.
fn count(wasm: &[u8], kind: Cut) -> usize {
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match (kind, payload) {
            (Cut::Export, Ok(wasmparser::Payload::ExportSection(r))) => n += r.count() as usize,
            (Cut::Body, Ok(wasmparser::Payload::CodeSectionEntry(_))) => n += 1,
            _ => {}
        }
    }
    n
}

/// `wasm` without export `index` (or with body `index` stubbed).
fn cut(wasm: &[u8], kind: Cut, index: usize) -> Option<Vec<u8>> {
    let mut cutter = Cutter {
        kind,
        index,
        seen: 0,
    };
    let mut module = wasm_encoder::Module::new();
    cutter
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .ok()?;
    Some(module.finish())
}

struct Cutter {
    kind: Cut,
    index: usize,
    seen: usize,
}

impl Cutter {
    /// Whether the next item of `kind` is the one to cut.
    fn hit(&mut self, kind: Cut) -> bool {
        if kind != self.kind {
            return false;
        }
        self.seen += 1;
        self.seen - 1 == self.index
    }
}

impl Reencode for Cutter {
    type Error = std::convert::Infallible;

    fn parse_export(
        &mut self,
        exports: &mut ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), Error<Self::Error>> {
        if self.hit(Cut::Export) {
            return Ok(());
        }
        utils::parse_export(self, exports, export)
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), Error<Self::Error>> {
        if self.hit(Cut::Body) {
            let mut stub = Function::new([]);
            stub.instruction(&Instruction::Unreachable);
            stub.instruction(&Instruction::End);
            code.function(&stub);
            return Ok(());
        }
        RoundtripReencoder.parse_function_body(code, func)
    }
}

/// The text of a module, for reports; `None` if it does not print.
pub fn to_wat(wasm: &[u8]) -> Option<String> {
    wasmprinter::print_bytes(wasm).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_a_module_to_what_fails() {
        let wasm = wat::parse_str(
            r#"(module
                (func (export "a") (result i32) i32.const 1)
                (func (export "b") (result i32) i32.const 2 i32.const 3 i32.add)
                (func (export "c") (result i32) i32.const 4))"#,
        )
        .unwrap();
        // "Fails" while export `b` is there with its body intact.
        let fails = |w: &[u8]| {
            let text = to_wat(w).unwrap_or_default();
            text.contains("export \"b\"") && text.contains("i32.add")
        };
        let small = shrink(wasm.clone(), true, Duration::from_secs(10), fails);
        let text = to_wat(&small).unwrap();
        assert!(small.len() < wasm.len());
        assert!(
            !text.contains("export \"a\"") && !text.contains("export \"c\""),
            "{text}"
        );
        assert!(text.contains("i32.add"), "{text}");
    }

    #[test]
    fn shrinks_bytes() {
        let input = b"xxxxxxBUGxxxxxxxxxx".to_vec();
        let small = shrink(input, false, Duration::from_secs(10), |b| {
            b.windows(3).any(|w| w == b"BUG")
        });
        assert_eq!(small, b"BUG");
    }
}
