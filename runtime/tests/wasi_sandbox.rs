//! A preopened directory is the whole world: `..` walks, absolute paths,
//! symlinks pointing out, and renames or links out of it all fail with
//! ENOTCAPABLE, and nothing outside it is touched.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::Guest;
use wamr_runtime::wasi::{Errno, WasiCtxBuilder};

const NOTCAPABLE: i32 = Errno::NotCapable as i32;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_DIRECTORY: u32 = 2;
const FD_READ: u64 = 1 << 1;
const FD_WRITE: u64 = 1 << 6;
/// The first preopen's fd.
const PREOPEN: u32 = 3;

/// `<tmp>/sandbox` (preopened) next to `<tmp>/outside/secret`.
struct Fixture {
    _tmp: tempfile::TempDir,
    sandbox: PathBuf,
    outside: PathBuf,
    before: Vec<(PathBuf, Vec<u8>, std::time::SystemTime)>,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let sandbox = tmp.path().join("sandbox");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(sandbox.join("sub")).unwrap();
        fs::create_dir_all(outside.join("dir")).unwrap();
        fs::write(outside.join("secret"), b"top secret").unwrap();
        fs::write(sandbox.join("inside"), b"mine").unwrap();
        // A symlink planted by the host, pointing out by absolute path.
        std::os::unix::fs::symlink(&outside, sandbox.join("abs_link")).unwrap();
        let before = snapshot(&outside);
        Fixture {
            _tmp: tmp,
            sandbox,
            outside,
            before,
        }
    }

    fn guest(&self) -> Guest {
        let ctx = WasiCtxBuilder::new()
            .preopened_dir(&self.sandbox, "/")
            .build()
            .unwrap();
        Guest::new(ctx)
    }

    /// Asserts the outside folder is exactly as it was: same entries, same
    /// contents, same modification times.
    fn assert_outside_untouched(&self) {
        assert_eq!(snapshot(&self.outside), self.before, "outside was modified");
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let meta = fs::symlink_metadata(&d).unwrap();
        out.push((d.clone(), Vec::new(), meta.modified().unwrap()));
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.clone(),
                    fs::read(&path).unwrap(),
                    meta.modified().unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn dot_dot_walks_cannot_leave_the_preopen() {
    let fx = Fixture::new();
    let mut g = fx.guest();
    for path in [
        "../outside/secret",
        "sub/../../outside/secret",
        "sub/../sub/../../outside/secret",
        "..",
        "./../outside",
    ] {
        let (e, _) = g.open(PREOPEN, path, 0, FD_READ, 0);
        assert_eq!(e, NOTCAPABLE, "open {path}");
    }
    let (e, _) = g.open(PREOPEN, "../outside/new", OFLAGS_CREAT, FD_WRITE, 0);
    assert_eq!(e, NOTCAPABLE);
    assert_eq!(
        g.path_call("path_create_directory", PREOPEN, "../outside/made"),
        NOTCAPABLE
    );
    assert_eq!(
        g.path_call("path_unlink_file", PREOPEN, "../outside/secret"),
        NOTCAPABLE
    );
    assert_eq!(
        g.path_call("path_remove_directory", PREOPEN, "../outside/dir"),
        NOTCAPABLE
    );
    // Inside walks still work.
    let (e, _) = g.open(PREOPEN, "sub/../inside", 0, FD_READ, 0);
    assert_eq!(e, 0);
    fx.assert_outside_untouched();
}

#[test]
fn absolute_paths_are_refused() {
    let fx = Fixture::new();
    let mut g = fx.guest();
    let secret = fx.outside.join("secret");
    for path in [secret.to_str().unwrap(), "/etc/passwd", "/", "/inside"] {
        let (e, _) = g.open(PREOPEN, path, 0, FD_READ, 0);
        assert_eq!(e, NOTCAPABLE, "open {path}");
    }
    let target = fx.outside.join("abs_created");
    let (e, _) = g.open(PREOPEN, target.to_str().unwrap(), OFLAGS_CREAT, FD_WRITE, 0);
    assert_eq!(e, NOTCAPABLE);
    // A symlink whose target is absolute cannot be made.
    g.write(0x1100, secret.to_str().unwrap().as_bytes());
    g.write(0x1000, b"made_link");
    let e = g.call(
        "path_symlink",
        &[
            0x1100,
            secret.to_str().unwrap().len() as u32,
            PREOPEN,
            0x1000,
            9,
        ],
    );
    assert_eq!(e, NOTCAPABLE);
    assert!(!fx.sandbox.join("made_link").exists());
    fx.assert_outside_untouched();
}

#[test]
fn symlinks_cannot_lead_out() {
    let fx = Fixture::new();
    let mut g = fx.guest();
    // The host-made absolute link.
    let (e, _) = g.open(PREOPEN, "abs_link/secret", 0, FD_READ, 0);
    assert_eq!(e, NOTCAPABLE);
    let (e, _) = g.open(PREOPEN, "abs_link", OFLAGS_DIRECTORY, 0, 0);
    assert_eq!(e, NOTCAPABLE);
    let (e, _) = g.open(PREOPEN, "abs_link/planted", OFLAGS_CREAT, FD_WRITE, 0);
    assert_eq!(e, NOTCAPABLE);

    // A relative link the guest makes itself: allowed to exist, not to be followed.
    g.write(0x1100, b"../outside");
    g.write(0x1000, b"up");
    assert_eq!(g.call("path_symlink", &[0x1100, 10, PREOPEN, 0x1000, 2]), 0);
    let (e, _) = g.open(PREOPEN, "up/secret", 0, FD_READ, 0);
    assert_eq!(e, NOTCAPABLE);
    let (e, _) = g.open(PREOPEN, "up/planted", OFLAGS_CREAT, FD_WRITE, 0);
    assert_eq!(e, NOTCAPABLE);
    assert_eq!(
        g.path_call("path_create_directory", PREOPEN, "up/made"),
        NOTCAPABLE
    );
    // Following it for stat fails; the link itself can be inspected.
    g.write(0x1000, b"up/secret");
    assert_eq!(
        g.call("path_filestat_get", &[PREOPEN, 1, 0x1000, 9, 0x3000]),
        NOTCAPABLE
    );
    g.write(0x1000, b"up");
    assert_eq!(
        g.call("path_filestat_get", &[PREOPEN, 0, 0x1000, 2, 0x3000]),
        0
    );
    assert_eq!(g.read(0x3000 + 16, 1), [7], "a symbolic link");
    // Reading the link's text is fine: it is data inside the sandbox.
    assert_eq!(
        g.call("path_readlink", &[PREOPEN, 0x1000, 2, 0x4000, 64, 0x2000]),
        0
    );
    assert_eq!(g.read(0x4000, g.read_u32(0x2000) as usize), b"../outside");
    fx.assert_outside_untouched();
}

#[test]
fn renames_and_links_stay_inside() {
    let fx = Fixture::new();
    let mut g = fx.guest();
    for name in ["path_rename", "path_link"] {
        // Out of the sandbox...
        assert_eq!(
            g.two_path_call(name, PREOPEN, "inside", PREOPEN, "../outside/moved"),
            NOTCAPABLE,
            "{name} out"
        );
        assert_eq!(
            g.two_path_call(name, PREOPEN, "inside", PREOPEN, "abs_link/moved"),
            NOTCAPABLE,
            "{name} through a symlink"
        );
        // ...and from outside in.
        assert_eq!(
            g.two_path_call(name, PREOPEN, "../outside/secret", PREOPEN, "stolen"),
            NOTCAPABLE,
            "{name} in"
        );
        assert_eq!(
            g.two_path_call(name, PREOPEN, "abs_link/secret", PREOPEN, "stolen"),
            NOTCAPABLE,
            "{name} in through a symlink"
        );
    }
    assert_eq!(fs::read(fx.sandbox.join("inside")).unwrap(), b"mine");
    assert!(!fx.sandbox.join("stolen").exists());
    // Within the sandbox both work.
    assert_eq!(
        g.two_path_call("path_link", PREOPEN, "inside", PREOPEN, "sub/hard"),
        0
    );
    assert_eq!(
        g.two_path_call("path_rename", PREOPEN, "sub/hard", PREOPEN, "moved"),
        0
    );
    assert_eq!(fs::read(fx.sandbox.join("moved")).unwrap(), b"mine");
    fx.assert_outside_untouched();
}

#[test]
fn moves_between_preopens_stay_within_them() {
    let fx = Fixture::new();
    let other = fx.sandbox.parent().unwrap().join("other");
    fs::create_dir(&other).unwrap();
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(&fx.sandbox, "/a")
        .preopened_dir(&other, "/b")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    let (a, b) = (3, 4);
    assert_eq!(g.two_path_call("path_rename", a, "inside", b, "arrived"), 0);
    assert_eq!(fs::read(other.join("arrived")).unwrap(), b"mine");
    assert_eq!(g.two_path_call("path_link", b, "arrived", a, "back"), 0);
    assert_eq!(fs::read(fx.sandbox.join("back")).unwrap(), b"mine");
    // A second preopen is no door to the rest of the host.
    assert_eq!(
        g.two_path_call("path_rename", a, "back", b, "../outside/gone"),
        NOTCAPABLE
    );
    assert_eq!(
        g.two_path_call("path_link", b, "../outside/secret", a, "got"),
        NOTCAPABLE
    );
    assert_eq!(
        g.two_path_call("path_rename", b, "../sandbox/back", a, "x"),
        NOTCAPABLE,
        "walking from one preopen into another by path"
    );
    fx.assert_outside_untouched();
}

#[test]
fn a_directory_fd_is_its_own_root() {
    let fx = Fixture::new();
    let mut g = fx.guest();
    let (e, sub) = g.open(PREOPEN, "sub", OFLAGS_DIRECTORY, 0, 0);
    assert_eq!(e, 0);
    // Even a walk that would stay inside the preopen leaves `sub`'s handle.
    let (e, _) = g.open(sub, "../inside", 0, FD_READ, 0);
    assert_eq!(e, NOTCAPABLE);
    let (e, _) = g.open(sub, "../../outside/secret", 0, FD_READ, 0);
    assert_eq!(e, NOTCAPABLE);
    fx.assert_outside_untouched();
}

#[test]
fn timestamps_outside_cannot_be_set() {
    let fx = Fixture::new();
    let mut g = fx.guest();
    g.write(0x1000, b"../outside/secret");
    let args = [
        wamr_runtime::Val::I32(PREOPEN as i32),
        wamr_runtime::Val::I32(1),
        wamr_runtime::Val::I32(0x1000),
        wamr_runtime::Val::I32(17),
        wamr_runtime::Val::I64(0),
        wamr_runtime::Val::I64(0),
        wamr_runtime::Val::I32(0b0101), // ATIM | MTIM: set both to the epoch
    ];
    assert_eq!(g.call_vals("path_filestat_set_times", &args), NOTCAPABLE);
    fx.assert_outside_untouched();
}
