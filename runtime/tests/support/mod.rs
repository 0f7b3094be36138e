//! Calls WASI host functions directly, as a guest with one page of memory
//! would: no execution tier is needed.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::sync::Arc;

use wamr_runtime::wasi::{self, WasiCtx};
use wamr_runtime::{Caller, Config, HostFn, InstanceId, MemoryId, Module, Store, Trap, Val};

pub const PAGE: u32 = 65536;

pub struct Guest {
    pub store: Store,
    instance: InstanceId,
    /// The guest's memory (every test module but one has it).
    memory: Option<MemoryId>,
    funcs: Vec<wasi::WasiImport>,
}

impl Guest {
    pub fn new(ctx: WasiCtx) -> Self {
        Guest::with_module(ctx, r#"(module (memory (export "memory") 1))"#)
    }

    pub fn with_module(ctx: WasiCtx, wat: &str) -> Self {
        let config = Config::default();
        let module = Module::new(&config, &wat::parse_str(wat).unwrap()).unwrap();
        let mut store = Store::new(config);
        let instance = store.instantiate(&module, &[]).unwrap();
        let memory = store.instance(instance).memories().first().copied();
        Guest {
            store,
            instance,
            memory,
            funcs: wasi::imports(ctx),
        }
    }

    fn func(&self, module: &str, name: &str) -> Arc<HostFn> {
        self.funcs
            .iter()
            .find(|(m, n, _, _)| *m == module && *n == name)
            .unwrap_or_else(|| panic!("no WASI function {module}.{name}"))
            .3
            .clone()
    }

    /// Calls `module.name`; returns the errno, or the trap.
    pub fn try_call_in(&mut self, module: &str, name: &str, args: &[Val]) -> Result<i32, Trap> {
        let f = self.func(module, name);
        let mut results = [Val::I32(-1)];
        let mut caller = Caller {
            store: &mut self.store,
            instance: Some(self.instance),
        };
        f(&mut caller, args, &mut results)?;
        match results[0] {
            Val::I32(e) => Ok(e),
            other => panic!("errno is {other:?}"),
        }
    }

    /// Calls `wasi_snapshot_preview1.name` with i32 arguments.
    pub fn call(&mut self, name: &str, args: &[u32]) -> i32 {
        let args: Vec<Val> = args.iter().map(|&a| Val::I32(a as i32)).collect();
        self.call_vals(name, &args)
    }

    pub fn call_vals(&mut self, name: &str, args: &[Val]) -> i32 {
        self.try_call_in(wasi::PREVIEW1, name, args)
            .unwrap_or_else(|t| panic!("{name} trapped: {t}"))
    }

    pub fn write(&mut self, at: u32, bytes: &[u8]) {
        self.store
            .memory_mut(self.memory.unwrap())
            .write(u64::from(at), bytes)
            .unwrap();
    }

    pub fn read(&self, at: u32, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        self.store
            .memory(self.memory.unwrap())
            .read(u64::from(at), &mut buf)
            .unwrap();
        buf
    }

    pub fn read_u32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    pub fn read_u64(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.read(at, 8).try_into().unwrap())
    }

    /// All of memory, to check a failed call wrote nothing.
    pub fn snapshot(&self) -> Vec<u8> {
        self.store.memory(self.memory.unwrap()).data().to_vec()
    }

    /// Opens `path` under directory `dir` with the given flags; returns the
    /// errno and the new fd (valid when the errno is 0). Uses memory at
    /// 0x1000 for the path and 0x2000 for the fd.
    pub fn open(
        &mut self,
        dir: u32,
        path: &str,
        oflags: u32,
        rights: u64,
        fdflags: u32,
    ) -> (i32, u32) {
        self.write(0x1000, path.as_bytes());
        let args = [
            Val::I32(dir as i32),
            Val::I32(1), // follow symlinks
            Val::I32(0x1000),
            Val::I32(path.len() as i32),
            Val::I32(oflags as i32),
            Val::I64(rights as i64),
            Val::I64(rights as i64),
            Val::I32(fdflags as i32),
            Val::I32(0x2000),
        ];
        let e = self.call_vals("path_open", &args);
        (e, self.read_u32(0x2000))
    }

    /// Calls a `path_*` function whose arguments are `(fd, path, len)`.
    pub fn path_call(&mut self, name: &str, dir: u32, path: &str) -> i32 {
        self.write(0x1000, path.as_bytes());
        self.call(name, &[dir, 0x1000, path.len() as u32])
    }

    /// `path_rename` or `path_link` (with no lookup flags) from `old` under
    /// `old_dir` to `new` under `new_dir`.
    pub fn two_path_call(
        &mut self,
        name: &str,
        old_dir: u32,
        old: &str,
        new_dir: u32,
        new: &str,
    ) -> i32 {
        self.write(0x1000, old.as_bytes());
        self.write(0x1800, new.as_bytes());
        let (o, n) = (old.len() as u32, new.len() as u32);
        match name {
            "path_rename" => self.call(name, &[old_dir, 0x1000, o, new_dir, 0x1800, n]),
            "path_link" => self.call(name, &[old_dir, 0, 0x1000, o, new_dir, 0x1800, n]),
            _ => panic!("{name} takes one path"),
        }
    }
}
