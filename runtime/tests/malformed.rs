//! Malformed input never panics: truncated and bit-flipped copies of real
//! modules must produce errors (or, rarely, still-valid modules), nothing else.

use std::path::{Path, PathBuf};

use wamr_runtime::{Config, Module};

fn bench_modules() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench");
    let mut found = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "wasm") {
                found.push(path);
            }
        }
    }
    found.sort();
    assert!(!found.is_empty(), "no .wasm files under {}", root.display());
    found
}

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn truncated_and_bit_flipped_modules_give_errors_not_panics() {
    let config = Config::default();
    let mut rng = Lcg(0x5eed);
    for path in bench_modules() {
        let bytes = std::fs::read(&path).unwrap();
        Module::new(&config, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A cut inside the 8-byte header is always an error.
        for cut in 0..8 {
            assert!(Module::new(&config, &bytes[..cut]).is_err());
        }
        // Cuts through the sections: an error unless the cut happens to fall
        // on a section boundary; either way it must return.
        for i in 1..48 {
            let cut = 8 + (bytes.len() - 8) * i / 48;
            if let Ok(m) = Module::new(&config, &bytes[..cut]) {
                assert!(m.bodies().len() <= Module::new(&config, &bytes).unwrap().bodies().len());
            }
        }
        for _ in 0..24 {
            let mut copy = bytes.clone();
            let at = rng.next() as usize % copy.len();
            copy[at] ^= 1 << (rng.next() % 8);
            // Either outcome is fine; what matters is that it returns.
            let _ = Module::new(&config, &copy);
        }
    }
}
