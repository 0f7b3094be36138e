//! The WASI functions generated modules may import, written from the
//! preview1 spec for the reference engine, with wamr-rs's documented
//! choices where the spec leaves one: the order of checks (every pointer
//! before any effect), the `IOV_MAX` cap and the deterministic generator
//! of `WasiCtxBuilder::deterministic`.

/// The trap of a WASI call from a module without memory.
pub const NO_MEMORY: &str = "WASI function called by a module without a memory";

const EBADF: u16 = 8;
const EFAULT: u16 = 21;
const EINVAL: u16 = 28;
const IOV_MAX: u32 = 1024;

#[derive(Debug)]
pub struct WasiRef {
    state: u64,
    /// The export name of memory 0 (see `Plan::memory0`).
    pub memory0: Option<String>,
    /// What was written to stdout and stderr.
    pub output: Vec<u8>,
}

impl WasiRef {
    pub fn new(seed: u64, memory0: Option<String>) -> Self {
        WasiRef {
            state: seed,
            memory0,
            output: Vec::new(),
        }
    }

    pub fn random_get(&mut self, mem: &mut [u8], buf: u32, len: u32) -> u16 {
        let Some(range) = range(mem, buf, len) else {
            return EFAULT;
        };
        for chunk in mem[range].chunks_mut(8) {
            self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        0
    }

    pub fn fd_write(&mut self, mem: &mut [u8], fd: u32, iovs: u32, count: u32, out: u32) -> u16 {
        if count > IOV_MAX {
            return EINVAL;
        }
        if range(mem, iovs, count * 8).is_none() {
            return EFAULT;
        }
        let mut bufs = Vec::new();
        for i in 0..count {
            let at = (iovs + i * 8) as usize;
            let buf = u32::from_le_bytes(mem[at..at + 4].try_into().expect("4 bytes"));
            let len = u32::from_le_bytes(mem[at + 4..at + 8].try_into().expect("4 bytes"));
            let Some(r) = range(mem, buf, len) else {
                return EFAULT;
            };
            bufs.push(r);
        }
        let Some(out) = range(mem, out, 4) else {
            return EFAULT;
        };
        if fd != 1 && fd != 2 {
            return EBADF;
        }
        let mut n: u32 = 0;
        for r in bufs {
            n += r.len() as u32;
            self.output.extend_from_slice(&mem[r]);
        }
        mem[out].copy_from_slice(&n.to_le_bytes());
        0
    }
}

fn range(mem: &[u8], ptr: u32, len: u32) -> Option<std::ops::Range<usize>> {
    let end = u64::from(ptr) + u64::from(len);
    (end <= mem.len() as u64).then_some(ptr as usize..end as usize)
}
