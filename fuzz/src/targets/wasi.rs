//! The WASI target: programs made from a template, each a random sequence
//! of WASI calls with hostile paths (`..`, absolute, symlinks out of the
//! preopen) and hostile pointers (out of bounds, crossing the end,
//! wrapping, overlapping). Every call must return an errno (no trap, no
//! panic); a call that must fail records so beside its errno, and the
//! directory next to the preopened one must be left untouched. Interp and
//! the compiled tier must agree on every errno.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use wamr_rs::{Linker, WasiCtxBuilder};

use crate::engines::wamr::{self, Variant};
use crate::outcome::Outcome;
use crate::rng::Rng;

/// Paths the program uses; those marked `true` leave the preopen by their
/// text. Paths through the planted symlinks depend on what earlier calls
/// did to them (an unlink and a mkdir make `link_out` a real directory),
/// so the untouched outside directory is what checks those.
const PATHS: [(&str, bool); 14] = [
    ("file.txt", false),
    ("sub", false),
    ("sub/inner.txt", false),
    (".", false),
    ("..", true),
    ("../outside/secret", true),
    ("sub/../../outside/new", true),
    ("/etc/passwd", true),
    ("/", true),
    ("link_out/secret", false),
    ("link_abs/secret", false),
    ("link_out", false),
    ("sub/../file.txt", false),
    ("../sandbox/file.txt", true),
];

/// Where paths, iovecs and results live in the program's memory.
const PATH_AT: u32 = 0x100;
const IOV_AT: u32 = 0x1000;
const RESULTS_AT: u32 = 0x2000;
/// Pointers that are not in the 1-page memory, or cross its end.
const BAD_PTRS: [u32; 5] = [0xffff_fff0, 65_534, 65_536, 0x7fff_ffff, u32::MAX];
const CALLS: usize = 24;

pub fn input(seed: u64) -> Result<Vec<u8>, String> {
    wat::parse_str(program(&mut Rng::new(seed))).map_err(|e| e.to_string())
}

fn program(rng: &mut Rng) -> String {
    let mut wat = String::from(
        r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)
"#,
    );
    for (i, (path, _)) in PATHS.iter().enumerate() {
        let _ = writeln!(
            wat,
            "  (data (i32.const {}) \"{path}\")",
            PATH_AT + 64 * i as u32
        );
    }
    // iovecs: fine, wrapping, crossing the end, and one over the iovecs.
    let _ = writeln!(
        wat,
        "  (data (i32.const {IOV_AT}) \"\\00\\01\\00\\00\\10\\00\\00\\00\\f0\\ff\\ff\\ff\\20\\00\\00\\00\\fa\\ff\\00\\00\\10\\00\\00\\00\\00\\10\\00\\00\\20\\00\\00\\00\")"
    );
    wat.push_str("  (func (export \"run\")\n");
    for k in 0..CALLS {
        let (call, must_fail) = call(rng);
        let at = RESULTS_AT + 8 * k as u32;
        let _ = writeln!(
            wat,
            "    (i32.store (i32.const {at}) {call})\n    (i32.store (i32.const {}) (i32.const {}))",
            at + 4,
            u32::from(must_fail)
        );
    }
    wat.push_str("  ))\n");
    wat
}

/// A path argument: (pointer, length, must the call fail).
fn path(rng: &mut Rng) -> (u32, u32, bool) {
    let i = rng.below(PATHS.len() as u64) as usize;
    let (text, escapes) = PATHS[i];
    let len = text.len() as u32;
    if rng.chance(5) {
        let ptr = BAD_PTRS[rng.below(BAD_PTRS.len() as u64) as usize];
        return (ptr, len.max(8), true);
    }
    (PATH_AT + 64 * i as u32, len, escapes)
}

/// One WASI call as a folded expression, and whether it must fail.
fn call(rng: &mut Rng) -> (String, bool) {
    let (p, n, bad) = path(rng);
    match rng.below(8) {
        0 | 1 => {
            let oflags = [0, 1, 9, 2][rng.below(4) as usize];
            let mut out = 0x3000;
            let mut bad = bad;
            if rng.chance(6) {
                out = BAD_PTRS[rng.below(BAD_PTRS.len() as u64) as usize];
                bad = true;
            }
            let call = format!(
                "(call $open (i32.const 3) (i32.const {}) (i32.const {p}) (i32.const {n}) (i32.const {oflags}) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const {out}))",
                rng.below(2)
            );
            (call, bad)
        }
        2 => (
            format!("(call $mkdir (i32.const 3) (i32.const {p}) (i32.const {n}))"),
            bad,
        ),
        3 => (
            format!("(call $unlink (i32.const 3) (i32.const {p}) (i32.const {n}))"),
            bad,
        ),
        4 => {
            let (q, m, bad2) = path(rng);
            let call = format!(
                "(call $rename (i32.const 3) (i32.const {p}) (i32.const {n}) (i32.const 3) (i32.const {q}) (i32.const {m}))"
            );
            (call, bad || bad2)
        }
        5 => {
            // The link's target text may point anywhere; its own path may not.
            let (q, m, bad2) = path(rng);
            let call = format!(
                "(call $symlink (i32.const {p}) (i32.const {n}) (i32.const 3) (i32.const {q}) (i32.const {m}))"
            );
            (call, bad2 || p >= BAD_PTRS[1])
        }
        6 => {
            let call = format!(
                "(call $stat (i32.const 3) (i32.const 1) (i32.const {p}) (i32.const {n}) (i32.const 0x3100))"
            );
            (call, bad)
        }
        _ => fd_io(rng),
    }
}

/// `fd_read`/`fd_write`/`random_get` on hostile buffers.
fn fd_io(rng: &mut Rng) -> (String, bool) {
    // (iovec pointer, count, must fail)
    let iovs = [
        (IOV_AT, 1, false),
        (IOV_AT + 8, 1, true),
        (IOV_AT + 16, 1, true),
        (IOV_AT + 24, 1, false),
        (IOV_AT, 2, true),
        (65_532, 1, true),
        (IOV_AT, 100_000, true),
    ];
    let (ptr, count, bad) = iovs[rng.below(iovs.len() as u64) as usize];
    let fd = [1, 4, 5, 3][rng.below(4) as usize];
    match rng.below(3) {
        0 => {
            let call = format!(
                "(call $write (i32.const {fd}) (i32.const {ptr}) (i32.const {count}) (i32.const 0x3200))"
            );
            (call, bad)
        }
        1 => {
            let call = format!(
                "(call $read (i32.const {fd}) (i32.const {ptr}) (i32.const {count}) (i32.const 0x3200))"
            );
            (call, bad)
        }
        _ => {
            let (buf, len, bad) = [
                (0x4000u32, 64, false),
                (0xffff_fff0, 0x20, true),
                (65_000, 1000, true),
            ][rng.below(3) as usize];
            (
                format!("(call $random (i32.const {buf}) (i32.const {len}))"),
                bad,
            )
        }
    }
}

/// `<tmp>/sandbox` (preopened, with symlinks pointing out) beside
/// `<tmp>/outside`, which no call may change.
struct World {
    tmp: tempfile::TempDir,
}

impl World {
    fn new() -> std::io::Result<World> {
        let tmp = tempfile::tempdir()?;
        let (sandbox, outside) = (tmp.path().join("sandbox"), tmp.path().join("outside"));
        std::fs::create_dir_all(sandbox.join("sub"))?;
        std::fs::create_dir_all(&outside)?;
        std::fs::write(outside.join("secret"), b"top secret")?;
        std::fs::write(sandbox.join("file.txt"), b"inside")?;
        std::os::unix::fs::symlink("../outside", sandbox.join("link_out"))?;
        std::os::unix::fs::symlink(&outside, sandbox.join("link_abs"))?;
        Ok(World { tmp })
    }

    fn sandbox(&self) -> PathBuf {
        self.tmp.path().join("sandbox")
    }

    /// Everything outside the sandbox: names and contents.
    fn outside(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        listing(self.tmp.path(), &self.sandbox(), &mut out);
        out.sort();
        out
    }
}

fn listing(dir: &Path, skip: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == skip {
            continue;
        }
        if path.is_dir() {
            listing(&path, skip, out);
        }
        out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
    }
}

/// The results area after running the program in `variant`.
fn run(variant: Variant, wasm: &[u8]) -> Result<Vec<u8>, Outcome> {
    let world = World::new().map_err(|e| Outcome::Skip(format!("fixture: {e}")))?;
    let before = world.outside();
    let runtime = wamr::runtime(variant);
    let module = runtime
        .load(wasm)
        .map_err(|e| Outcome::Skip(format!("refused: {e}")))?;
    let mut store = runtime.new_store();
    let ctx = WasiCtxBuilder::new()
        .deterministic(0)
        .preopened_dir(world.sandbox(), "/")
        .build()
        .map_err(|e| Outcome::Skip(format!("WASI context: {e}")))?;
    let mut linker = Linker::new();
    linker.define_wasi(ctx);
    let fail = |s: &str, d: String| Outcome::fail(format!("{}: {s}", variant.name()), d);
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| fail("instantiation", e.to_string()))?;
    instance
        .call(&mut store, "run", &[])
        .map_err(|e| fail("trap", e.to_string()))?;
    if world.outside() != before {
        return Err(fail(
            "sandbox escape",
            "files outside the preopen changed".into(),
        ));
    }
    let memory = instance.memory(&store, "memory").expect("exported");
    let mut results = vec![0u8; 8 * CALLS];
    store
        .memory(memory)
        .read(u64::from(RESULTS_AT), &mut results)
        .expect("in bounds");
    for (k, pair) in results.chunks(8).enumerate() {
        let errno = u32::from_le_bytes(pair[..4].try_into().expect("4 bytes"));
        let must_fail = pair[4] == 1;
        if must_fail && errno == 0 {
            return Err(fail(
                "call succeeded",
                format!("call #{k} must fail but returned 0"),
            ));
        }
        if errno > 76 {
            return Err(fail("not an errno", format!("call #{k} returned {errno}")));
        }
    }
    Ok(results)
}

pub fn check(wasm: &[u8], _seed: u64) -> Outcome {
    let interp = match run(Variant::Interp, wasm) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    match run(Variant::Aot, wasm) {
        Ok(aot) if aot == interp => Outcome::Pass,
        Ok(aot) => Outcome::fail(
            "errnos differ: interp vs aot",
            format!("interp: {interp:?}\naot: {aot:?}"),
        ),
        Err(outcome) => outcome,
    }
}
