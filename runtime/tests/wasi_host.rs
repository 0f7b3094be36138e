//! WASI host functions called directly: exit, memory64 refusal, the
//! `wasi_unstable` ABI differences, the builder, readdir paging and polling.

mod support;

use std::time::{Duration, Instant};

use support::Guest;
use wamr_runtime::wasi::{self, Errno, InputPipe, OutputPipe, WasiCtxBuilder, WasiError};
use wamr_runtime::{Config, Error, Module, Val};

fn ctx() -> wasi::WasiCtx {
    WasiCtxBuilder::new().build().unwrap()
}

#[test]
fn proc_exit_unwinds_with_the_code() {
    let mut g = Guest::new(ctx());
    let trap = g
        .try_call_in(wasi::PREVIEW1, "proc_exit", &[Val::I32(42)])
        .unwrap_err();
    assert_eq!(trap.exit_code(), Some(42));
    let trap = g
        .try_call_in(wasi::UNSTABLE, "proc_exit", &[Val::I32(0)])
        .unwrap_err();
    assert_eq!(trap.exit_code(), Some(0));
}

#[test]
fn memory64_modules_cannot_use_wasi() {
    let config = Config::default();
    let load = |wat: &str| Module::new(&config, &wat::parse_str(wat).unwrap()).unwrap();
    let m64 = load(
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                   (memory (export "memory") i64 1))"#,
    );
    let err = wasi::check_module(&m64).unwrap_err();
    assert!(matches!(err, WasiError::Memory64 { .. }));
    let err = Error::from(err);
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("wasm64"), "{err}");
    assert!(err.to_string().contains("proc_exit"), "{err}");

    // The legacy module name is WASI too.
    let unstable = load(
        r#"(module (import "wasi_unstable" "sched_yield" (func (result i32)))
                   (memory i64 1))"#,
    );
    assert!(wasi::check_module(&unstable).is_err());

    // No WASI import, or a 32-bit memory: nothing to refuse.
    assert!(wasi::check_module(&load("(module (memory i64 1))")).is_ok());
    let m32 = load(
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                   (memory (export "memory") 1))"#,
    );
    assert!(wasi::check_module(&m32).is_ok());
}

#[test]
fn host_functions_trap_rather_than_misuse_a_64_bit_memory() {
    let mut g = Guest::with_module(ctx(), r#"(module (memory (export "memory") i64 1))"#);
    let trap = g
        .try_call_in(wasi::PREVIEW1, "random_get", &[Val::I32(0), Val::I32(8)])
        .unwrap_err();
    assert!(trap.to_string().contains("64-bit"), "{trap}");
}

#[test]
fn wrongly_typed_direct_calls_trap() {
    let mut g = Guest::new(ctx());
    for args in [&[][..], &[Val::I64(0), Val::I32(0)], &[Val::I32(0)]] {
        let trap = g
            .try_call_in(wasi::PREVIEW1, "random_get", args)
            .unwrap_err();
        assert!(trap.to_string().contains("random_get"), "{trap}");
    }
}

#[test]
fn a_module_without_memory_gets_a_trap() {
    let mut g = Guest::with_module(ctx(), "(module)");
    let trap = g
        .try_call_in(
            wasi::PREVIEW1,
            "args_sizes_get",
            &[Val::I32(0), Val::I32(4)],
        )
        .unwrap_err();
    assert!(trap.to_string().contains("memory"), "{trap}");
    // Functions that need no memory still work.
    let e = g.try_call_in(wasi::PREVIEW1, "sched_yield", &[]).unwrap();
    assert_eq!(e, 0);
}

#[test]
fn unstable_abi_differences() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"0123456789").unwrap();
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(dir.path(), ".")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    let (e, fd) = g.open(3, "f", 0, 1 << 1, 0);
    assert_eq!(e, 0);
    let seek = |g: &mut Guest, module: &str, offset: i64, whence: i32| {
        let args = [
            Val::I32(fd as i32),
            Val::I64(offset),
            Val::I32(whence),
            Val::I32(0x100),
        ];
        assert_eq!(g.try_call_in(module, "fd_seek", &args).unwrap(), 0);
        g.read_u64(0x100)
    };
    // preview1: SET=0, CUR=1, END=2; unstable: CUR=0, END=1, SET=2.
    assert_eq!(seek(&mut g, wasi::PREVIEW1, 3, 0), 3);
    assert_eq!(seek(&mut g, wasi::PREVIEW1, 1, 1), 4);
    assert_eq!(seek(&mut g, wasi::PREVIEW1, -1, 2), 9);
    assert_eq!(seek(&mut g, wasi::UNSTABLE, 3, 2), 3);
    assert_eq!(seek(&mut g, wasi::UNSTABLE, 1, 0), 4);
    assert_eq!(seek(&mut g, wasi::UNSTABLE, -1, 1), 9);

    // filestat: nlink is u64 at 24 in preview1, u32 at 20 in unstable, so
    // size moves from 32 to 24.
    let args = [Val::I32(fd as i32), Val::I32(0x200)];
    assert_eq!(
        g.try_call_in(wasi::PREVIEW1, "fd_filestat_get", &args),
        Ok(0)
    );
    assert_eq!(g.read_u64(0x200 + 24), 1);
    assert_eq!(g.read_u64(0x200 + 32), 10);
    assert_eq!(
        g.try_call_in(wasi::UNSTABLE, "fd_filestat_get", &args),
        Ok(0)
    );
    assert_eq!(g.read_u32(0x200 + 20), 1);
    assert_eq!(g.read_u64(0x200 + 24), 10);
}

#[test]
fn builder_checks_its_input() {
    let err = WasiCtxBuilder::new().arg("a\0b").build().unwrap_err();
    assert!(matches!(err, WasiError::InvalidString { .. }), "{err}");
    let err = WasiCtxBuilder::new().env("A=B", "c").build().unwrap_err();
    assert!(matches!(err, WasiError::InvalidString { .. }), "{err}");
    let missing = std::env::temp_dir().join("wamr-rs-no-such-dir-for-wasi-tests");
    let err = WasiCtxBuilder::new()
        .preopened_dir(&missing, "/")
        .build()
        .unwrap_err();
    assert!(matches!(err, WasiError::Preopen { .. }), "{err}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn args_and_environment_reach_the_guest() {
    let ctx = WasiCtxBuilder::new()
        .args(["prog", "x y"])
        .envs([("A", "1"), ("B", "two")])
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    assert_eq!(g.call("args_sizes_get", &[0, 4]), 0);
    assert_eq!((g.read_u32(0), g.read_u32(4)), (2, 9));
    assert_eq!(g.call("args_get", &[0x100, 0x200]), 0);
    assert_eq!(g.read_u32(0x100), 0x200);
    assert_eq!(g.read_u32(0x104), 0x205);
    assert_eq!(g.read(0x200, 9), b"prog\0x y\0");
    assert_eq!(g.call("environ_sizes_get", &[0, 4]), 0);
    assert_eq!((g.read_u32(0), g.read_u32(4)), (2, 10));
    assert_eq!(g.call("environ_get", &[0x100, 0x200]), 0);
    assert_eq!(g.read(0x200, 10), b"A=1\0B=two\0");
}

#[test]
fn stdio_pipes() {
    let stdin = InputPipe::new(b"abc".to_vec());
    let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
    let ctx = WasiCtxBuilder::new()
        .stdin(stdin.clone())
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    // iovec {0x200, 8}
    g.write(0x100, &[0x00, 0x02, 0, 0, 8, 0, 0, 0]);
    assert_eq!(g.call("fd_read", &[0, 0x100, 1, 0x300]), 0);
    assert_eq!(g.read_u32(0x300), 3);
    assert_eq!(g.call("fd_read", &[0, 0x100, 1, 0x300]), 0);
    assert_eq!(g.read_u32(0x300), 0, "end of input");
    g.write(0x200, b"out\n");
    g.write(0x104, &[4, 0, 0, 0]);
    assert_eq!(g.call("fd_write", &[1, 0x100, 1, 0x300]), 0);
    assert_eq!(g.call("fd_write", &[2, 0x100, 1, 0x300]), 0);
    assert_eq!(stdout.contents(), b"out\n");
    assert_eq!(stderr.take(), b"out\n");
    assert!(stderr.contents().is_empty());
    // Wrong direction.
    assert_eq!(
        g.call("fd_write", &[0, 0x100, 1, 0x300]),
        Errno::Badf as i32
    );
    assert_eq!(g.call("fd_read", &[1, 0x100, 1, 0x300]), Errno::Badf as i32);
    // Streams do not seek.
    let args = [Val::I32(1), Val::I64(0), Val::I32(0), Val::I32(0x300)];
    assert_eq!(g.call_vals("fd_seek", &args), Errno::Spipe as i32);
}

#[test]
fn readdir_pages_by_cookie() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..20 {
        std::fs::write(dir.path().join(format!("file-{n:02}")), b"").unwrap();
    }
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(dir.path(), "/")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    let mut names = Vec::new();
    let mut cookie = 0u64;
    loop {
        // 64 bytes: at most two 31-byte entries, then a cut one.
        let args = [
            Val::I32(3),
            Val::I32(0x1000),
            Val::I32(64),
            Val::I64(cookie as i64),
            Val::I32(0x100),
        ];
        assert_eq!(g.call_vals("fd_readdir", &args), 0);
        let used = g.read_u32(0x100) as usize;
        let buf = g.read(0x1000, used);
        let mut at = 0;
        while at + 24 <= used {
            let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
            let len = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
            if at + 24 + len > used {
                break; // cut short: fetch it again from its cookie
            }
            names.push(String::from_utf8(buf[at + 24..at + 24 + len].to_vec()).unwrap());
            cookie = next;
            at += 24 + len;
        }
        if used < 64 {
            break;
        }
    }
    names.sort();
    let mut expected: Vec<String> = (0..20).map(|n| format!("file-{n:02}")).collect();
    expected.extend([".".to_string(), "..".to_string()]);
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn poll_oneoff_sleeps_for_clocks() {
    let mut g = Guest::new(ctx());
    // A relative 20 ms monotonic clock subscription.
    let mut sub = [0u8; 48];
    sub[0] = 9; // userdata
    sub[8] = 0; // CLOCK
    sub[16] = 1; // MONOTONIC
    sub[24..32].copy_from_slice(&20_000_000u64.to_le_bytes());
    g.write(0x100, &sub);
    let start = Instant::now();
    assert_eq!(g.call("poll_oneoff", &[0x100, 0x200, 1, 0x300]), 0);
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(g.read_u32(0x300), 1);
    assert_eq!(g.read_u64(0x200), 9);
    assert_eq!(g.read(0x208, 3), [0, 0, 0], "no error, a CLOCK event");

    // An absolute deadline in the past fires at once.
    sub[40] = 1; // ABSTIME
    sub[24..32].copy_from_slice(&1u64.to_le_bytes());
    g.write(0x100, &sub);
    assert_eq!(g.call("poll_oneoff", &[0x100, 0x200, 1, 0x300]), 0);
    assert_eq!(g.read_u32(0x300), 1);
    assert_eq!(
        g.call("poll_oneoff", &[0x100, 0x200, 0, 0x300]),
        Errno::Inval as i32
    );
}

#[test]
fn descriptor_table() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(dir.path(), "/sandbox")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    assert_eq!(g.call("fd_prestat_get", &[3, 0x100]), 0);
    assert_eq!((g.read(0x100, 1)[0], g.read_u32(0x104)), (0, 8));
    assert_eq!(g.call("fd_prestat_dir_name", &[3, 0x200, 8]), 0);
    assert_eq!(g.read(0x200, 8), b"/sandbox");
    assert_eq!(
        g.call("fd_prestat_dir_name", &[3, 0x200, 7]),
        Errno::NameTooLong as i32
    );
    assert_eq!(g.call("fd_prestat_get", &[4, 0x100]), Errno::Badf as i32);
    let (e, fd) = g.open(3, "new", 1, 1 << 6, 0);
    assert_eq!((e, fd), (0, 4));
    assert_eq!(g.call("fd_renumber", &[fd, 1]), 0, "over stdout");
    assert_eq!(g.call("fd_fdstat_get", &[fd, 0x100]), Errno::Badf as i32);
    assert_eq!(g.call("fd_fdstat_get", &[1, 0x100]), 0);
    assert_eq!(g.read(0x100, 1)[0], 4, "stdout is now the regular file");
    assert_eq!(g.call("fd_close", &[3]), 0, "preopens can be closed");
    assert_eq!(g.call("fd_close", &[3]), Errno::Badf as i32);
    assert_eq!(g.call("sock_shutdown", &[1, 0]), Errno::NotSock as i32);
    assert_eq!(g.call("sock_shutdown", &[99, 0]), Errno::Badf as i32);
    assert_eq!(g.call("proc_raise", &[9]), Errno::NoSys as i32);
}
