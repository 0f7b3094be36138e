//! Guest pointers out of bounds make WASI calls fail with EFAULT: never a
//! panic, never a write anywhere, and no side effect happens first (no
//! file created, no input consumed, no output written).

mod support;

use support::{Guest, PAGE};
use wamr_runtime::Val;
use wamr_runtime::wasi::{Errno, InputPipe, OutputPipe, WasiCtxBuilder};

const EFAULT: i32 = Errno::Fault as i32;
/// Straddles the end of the one-page memory.
const EDGE: u32 = PAGE - 2;
/// Far beyond it.
const FAR: u32 = 0xFFFF_FFF0;

struct Setup {
    guest: Guest,
    stdin: InputPipe,
    stdout: OutputPipe,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"contents").unwrap();
    std::os::unix::fs::symlink("file", dir.path().join("link")).unwrap();
    let stdin = InputPipe::new(b"input".to_vec());
    let stdout = OutputPipe::new();
    let ctx = WasiCtxBuilder::new()
        .args(["prog", "arg"])
        .env("KEY", "value")
        .stdin(stdin.clone())
        .stdout(stdout.clone())
        .preopened_dir(dir.path(), "/")
        .build()
        .unwrap();
    Setup {
        guest: Guest::new(ctx),
        stdin,
        stdout,
        dir,
    }
}

/// Asserts that `name(args)` fails with EFAULT and leaves memory as it was.
#[track_caller]
fn assert_efault(g: &mut Guest, name: &str, args: &[Val]) {
    let before = g.snapshot();
    assert_eq!(g.call_vals(name, args), EFAULT, "{name}{args:?}");
    assert!(
        g.snapshot() == before,
        "{name} wrote to memory before failing"
    );
}

fn i(v: u32) -> Val {
    Val::I32(v as i32)
}

fn l(v: u64) -> Val {
    Val::I64(v as i64)
}

#[test]
fn args_environ_clocks_and_random() {
    let mut s = setup();
    let g = &mut s.guest;
    for bad in [EDGE, FAR] {
        for name in ["args_sizes_get", "environ_sizes_get"] {
            assert_efault(g, name, &[i(bad), i(0)]);
            assert_efault(g, name, &[i(0), i(bad)]);
        }
        for name in ["args_get", "environ_get"] {
            // Neither the pointer array nor the strings are written when
            // either area is out of bounds.
            assert_efault(g, name, &[i(bad), i(0x100)]);
            assert_efault(g, name, &[i(0x100), i(bad)]);
        }
        assert_efault(g, "clock_res_get", &[i(0), i(bad)]);
        assert_efault(g, "clock_time_get", &[i(1), l(0), i(bad)]);
        assert_efault(g, "random_get", &[i(bad), i(4)]);
    }
    assert_efault(g, "random_get", &[i(0), i(PAGE + 1)]);
    assert_efault(g, "random_get", &[i(FAR), i(0x20)]);
    // A zero-length buffer at the very end is in bounds.
    assert_eq!(g.call("random_get", &[PAGE, 0]), 0);
}

#[test]
fn reads_and_writes_check_every_buffer_first() {
    let mut s = setup();
    let g = &mut s.guest;
    // iovec at 0x100: {buf 0x200, len 5}
    g.write(0x100, &[0x00, 0x02, 0, 0, 5, 0, 0, 0]);
    g.write(0x200, b"hello");
    for name in ["fd_read", "fd_write"] {
        let fd = if name == "fd_read" { 0 } else { 1 };
        assert_efault(g, name, &[i(fd), i(FAR), i(1), i(0x300)]);
        assert_efault(g, name, &[i(fd), i(EDGE), i(1), i(0x300)]);
        assert_efault(g, name, &[i(fd), i(0x100), i(1), i(FAR)]);
        assert_efault(g, name, &[i(fd), i(0x100), i(1), i(EDGE)]);
    }
    // An iovec whose buffer runs off the end.
    g.write(0x108, &[0xF0, 0xFF, 0, 0, 0x20, 0, 0, 0]);
    assert_efault(g, "fd_read", &[i(0), i(0x100), i(2), i(0x300)]);
    assert_efault(g, "fd_write", &[i(1), i(0x100), i(2), i(0x300)]);
    // Nothing was consumed or written by the failed calls.
    assert_eq!(s.stdin.available(), 5);
    assert!(s.stdout.contents().is_empty());
    // The same buffers work once the pointers are good.
    assert_eq!(g.call("fd_write", &[1, 0x100, 1, 0x300]), 0);
    assert_eq!(g.read_u32(0x300), 5);
    assert_eq!(s.stdout.contents(), b"hello");
    // More buffers than readv/writev take is EINVAL, not an allocation.
    assert_eq!(
        g.call("fd_write", &[1, 0x100, u32::MAX, 0x300]),
        Errno::Inval as i32
    );
}

#[test]
fn descriptor_queries() {
    let mut s = setup();
    let g = &mut s.guest;
    for bad in [EDGE, FAR] {
        assert_efault(g, "fd_fdstat_get", &[i(1), i(bad)]);
        assert_efault(g, "fd_filestat_get", &[i(3), i(bad)]);
        assert_efault(g, "fd_prestat_get", &[i(3), i(bad)]);
    }
    // The name ("/") is one byte: only a pointer with no byte left fails.
    for bad in [PAGE, FAR] {
        assert_efault(g, "fd_prestat_dir_name", &[i(3), i(bad), i(1)]);
    }
    for bad in [EDGE, FAR] {
        assert_efault(g, "fd_readdir", &[i(3), i(bad), i(64), l(0), i(0x100)]);
        assert_efault(g, "fd_readdir", &[i(3), i(0x100), i(64), l(0), i(bad)]);
    }
    // A 64-byte preview1 filestat does not fit 40 bytes before the end.
    assert_efault(g, "fd_filestat_get", &[i(3), i(PAGE - 40)]);
}

#[test]
fn seek_tell_and_positional_io() {
    let mut s = setup();
    let g = &mut s.guest;
    let (e, fd) = g.open(3, "file", 0, 1 << 1, 0);
    assert_eq!(e, 0);
    g.write(0x100, &[0x00, 0x02, 0, 0, 4, 0, 0, 0]);
    for bad in [EDGE, FAR] {
        assert_efault(g, "fd_seek", &[i(fd), l(0), i(0), i(bad)]);
        assert_efault(g, "fd_tell", &[i(fd), i(bad)]);
        assert_efault(g, "fd_pread", &[i(fd), i(0x100), i(1), l(0), i(bad)]);
        assert_efault(g, "fd_pread", &[i(fd), i(bad), i(1), l(0), i(0x300)]);
    }
    // The failed fd_seek did not move the file position.
    assert_eq!(g.call("fd_tell", &[fd, 0x300]), 0);
    assert_eq!(g.read_u64(0x300), 0);
}

#[test]
fn paths_and_results() {
    let mut s = setup();
    let g = &mut s.guest;
    g.write(0x100, b"created");
    let open = |path: u32, len: u32, out: u32| {
        [
            i(3),
            i(0),
            i(path),
            i(len),
            i(1), // CREAT
            l(u64::MAX),
            l(u64::MAX),
            i(0),
            i(out),
        ]
    };
    for bad in [EDGE, FAR] {
        assert_efault(g, "path_open", &open(bad, 7, 0x200));
        // The result pointer is checked before the file is created.
        assert_efault(g, "path_open", &open(0x100, 7, bad));
    }
    assert_efault(g, "path_open", &open(0x100, u32::MAX, 0x200));
    assert!(!s.dir.path().join("created").exists());

    g.write(0x100, b"file");
    g.write(0x180, b"link");
    for bad in [EDGE, FAR] {
        assert_efault(
            g,
            "path_filestat_get",
            &[i(3), i(0), i(0x100), i(4), i(bad)],
        );
        assert_efault(
            g,
            "path_filestat_get",
            &[i(3), i(0), i(bad), i(4), i(0x200)],
        );
        assert_efault(
            g,
            "path_readlink",
            &[i(3), i(0x180), i(4), i(bad), i(16), i(0x200)],
        );
        assert_efault(
            g,
            "path_readlink",
            &[i(3), i(0x180), i(4), i(0x200), i(16), i(bad)],
        );
        assert_efault(g, "path_create_directory", &[i(3), i(bad), i(3)]);
        assert_efault(g, "path_unlink_file", &[i(3), i(bad), i(4)]);
        assert_efault(g, "path_symlink", &[i(bad), i(4), i(3), i(0x100), i(4)]);
        assert_efault(
            g,
            "path_rename",
            &[i(3), i(0x100), i(4), i(3), i(bad), i(4)],
        );
        assert_efault(
            g,
            "path_link",
            &[i(3), i(0), i(0x100), i(4), i(3), i(bad), i(4)],
        );
    }
    assert!(s.dir.path().join("file").exists());
}

#[test]
fn poll_oneoff_checks_both_arrays() {
    let mut s = setup();
    let g = &mut s.guest;
    // One fd_write subscription on stdout at 0x100 (48 bytes).
    let mut sub = [0u8; 48];
    sub[0] = 7; // userdata
    sub[8] = 2; // FD_WRITE
    sub[16] = 1; // fd
    g.write(0x100, &sub);
    for bad in [EDGE, FAR] {
        assert_efault(g, "poll_oneoff", &[i(bad), i(0x200), i(1), i(0x300)]);
        assert_efault(g, "poll_oneoff", &[i(0x100), i(bad), i(1), i(0x300)]);
        assert_efault(g, "poll_oneoff", &[i(0x100), i(0x200), i(1), i(bad)]);
    }
    assert_efault(
        g,
        "poll_oneoff",
        &[i(0x100), i(0x200), i(u32::MAX), i(0x300)],
    );
    assert_eq!(g.call("poll_oneoff", &[0x100, 0x200, 1, 0x300]), 0);
    assert_eq!(g.read_u32(0x300), 1);
    assert_eq!(g.read_u64(0x200), 7, "userdata");
    assert_eq!(g.read(0x200 + 10, 1), [2], "an FD_WRITE event");
}
