//! Instructions that go through the store: memories other than the cached
//! memory 0, `memory.grow`, bulk memory, and table operations. All act on
//! the running instance.

use wamr_runtime::bulk::BulkRequest;
use wamr_runtime::{MemoryId, TrapKind};

use super::Machine;
use super::handlers::{ext_load, ext_store};
use super::regs::Mem;

impl Machine<'_> {
    fn memory_id(&self, memory: u32) -> MemoryId {
        self.store.instance(self.ctxs[self.ctx].id).memories()[memory as usize]
    }

    pub(super) fn memory_view(&self, memory: u32) -> Mem {
        let m = self.store.memory(self.memory_id(memory));
        Mem {
            base: m.data().as_ptr() as *mut u8,
            len: m.len(),
        }
    }

    /// A load on any memory, with a 64-bit offset (`ext` indexes the
    /// running function's side table).
    pub(super) fn load_ext(&self, ext: u32, addr: u64) -> Result<u64, TrapKind> {
        // SAFETY: the running function is live.
        let arg = unsafe { (&(*self.func).mem_args)[ext as usize] };
        ext_load(self.memory_view(arg.memory), arg.op, addr, arg.offset)
    }

    pub(super) fn store_ext(&self, ext: u32, addr: u64, value: u64) -> Result<(), TrapKind> {
        // SAFETY: as in `load_ext`.
        let arg = unsafe { (&(*self.func).mem_args)[ext as usize] };
        ext_store(
            self.memory_view(arg.memory),
            arg.op,
            addr,
            arg.offset,
            value,
        )
    }

    pub(super) fn memory_pages(&self, memory: u32) -> u64 {
        self.memory_view(memory).len / wamr_runtime::PAGE_SIZE
    }

    /// A bulk memory or table operation of the running instance (shared
    /// with compiled code: `Store::run_bulk_op_in`).
    ///
    /// Scalars in and out (a trap is recorded here; `None` means trapped),
    /// never inlined: a handler that passed or received anything through
    /// its own stack frame would keep that frame, and its tail call would
    /// stop being a jump (the native stack would grow per instruction).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bulk(&mut self, op: u32, x: u32, y: u32, a: u64, b: u64, c: u64) -> Option<u64> {
        let inst = self.ctxs[self.ctx].id;
        let req = BulkRequest {
            op,
            x,
            y,
            operands: [a, b, c],
        };
        match self.store.run_bulk_op_in(inst, req) {
            Ok(v) => Some(v),
            Err(trap) => {
                self.trap = Some(trap);
                None
            }
        }
    }

    pub(super) fn memory_grow(&mut self, memory: u32, delta: u64) -> u64 {
        let inst = self.ctxs[self.ctx].id;
        self.store.memory_grow_at(inst, memory, delta)
    }
}
