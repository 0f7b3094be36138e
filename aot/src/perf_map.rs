//! Names for compiled code in Linux `perf` profiles: with `WAMR_PERF_MAP=1`
//! in the environment, every mapped module appends one line per code
//! symbol to `/tmp/perf-<pid>.map`, the file `perf report` reads for code it
//! cannot find in an ELF file.
//!
//! A line is `ADDR SIZE NAME` (hex, hex, text). Sizes run from one entry to
//! the next one in the blob, so the code between functions that LLVM laid
//! out there (trap blocks, constants) counts toward the function before it.

use std::io::Write;

use wamr_runtime::Module;

use crate::container::FunctionEntry;

/// Whether the environment asks for a perf map (read once per process).
fn enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("WAMR_PERF_MAP").is_some_and(|v| v != "0"))
}

/// Appends the symbols of `entries` (for `module`'s defined functions, code
/// mapped at `code`) to this process's perf map, when enabled. A map that
/// cannot be written costs the profile its names, nothing else.
pub fn record(module: &Module, code: &[u8], entries: &[FunctionEntry]) {
    if !enabled() {
        return;
    }
    let text = lines(module, code.as_ptr() as usize, code.len(), entries);
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        tracing::warn!("cannot write the perf map {path}: {e}");
    }
}

/// The perf-map lines of one blob of `len` bytes at `base`.
fn lines(module: &Module, base: usize, len: usize, entries: &[FunctionEntry]) -> String {
    let imported = module.num_imported_funcs();
    let mut symbols: Vec<(u32, String)> = Vec::with_capacity(entries.len() * 2);
    for (defined, entry) in entries.iter().enumerate() {
        let name = module.func_name(imported + defined as u32);
        symbols.push((entry.native, format!("wasm {name}")));
        symbols.push((entry.array_call, format!("wasm {name} (array call)")));
        if let Some(osr) = entry.osr {
            symbols.push((osr, format!("wasm {name} (osr)")));
        }
    }
    symbols.sort_by_key(|&(offset, _)| offset);
    let mut out = String::new();
    for (i, (offset, name)) in symbols.iter().enumerate() {
        let end = symbols.get(i + 1).map_or(len, |&(next, _)| next as usize);
        let size = end.saturating_sub(*offset as usize);
        out.push_str(&format!("{:x} {size:x} {name}\n", base + *offset as usize));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_sorted_and_sized_up_to_the_next() {
        let wasm =
            wat::parse_str(r#"(module (import "m" "f" (func)) (func $first) (func $second))"#)
                .unwrap();
        let module = Module::new(&wamr_runtime::Config::default(), &wasm).unwrap();
        let entries = [
            FunctionEntry {
                native: 0x40,
                array_call: 0x10,
                osr: None,
            },
            FunctionEntry {
                native: 0x80,
                array_call: 0x60,
                osr: Some(0x90),
            },
        ];
        assert_eq!(
            lines(&module, 0x1000, 0xa0, &entries),
            "1010 30 wasm first (array call)\n\
             1040 20 wasm first\n\
             1060 20 wasm second (array call)\n\
             1080 10 wasm second\n\
             1090 10 wasm second (osr)\n"
        );
    }
}
