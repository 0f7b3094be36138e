//! Instructions that go through the store: memories other than the cached
//! memory 0, `memory.grow`, bulk memory, and table operations. All act on
//! the running instance.

use wamr_runtime::{MemoryId, Trap, TrapKind};

use super::Machine;
use super::handlers::{ext_load, ext_store};
use super::regs::Mem;

impl Machine<'_> {
    fn memory_id(&self, memory: u32) -> MemoryId {
        self.store.instance(self.ctxs[self.ctx].id).memories()[memory as usize]
    }

    fn memory_view(&self, memory: u32) -> Mem {
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

    fn instance(&self) -> wamr_runtime::InstanceId {
        self.ctxs[self.ctx].id
    }

    pub(super) fn memory_grow(&mut self, memory: u32, delta: u64) -> u64 {
        let inst = self.instance();
        self.store.memory_grow_at(inst, memory, delta)
    }

    pub(super) fn memory_fill(
        &mut self,
        memory: u32,
        dst: u64,
        value: u8,
        len: u64,
    ) -> Result<(), Trap> {
        let inst = self.instance();
        self.store.memory_fill_at(inst, memory, dst, value, len)
    }

    pub(super) fn memory_copy(
        &mut self,
        dst_memory: u32,
        src_memory: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let inst = self.instance();
        self.store
            .memory_copy_at(inst, dst_memory, src_memory, dst, src, len)
    }

    pub(super) fn memory_init(
        &mut self,
        memory: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let inst = self.instance();
        self.store
            .memory_init_at(inst, memory, segment, dst, src, len)
    }

    pub(super) fn data_drop(&mut self, segment: u32) {
        let inst = self.instance();
        self.store.instance_mut(inst).drop_data_segment(segment);
    }

    pub(super) fn table_get(&self, table: u32, index: u64) -> Result<u64, Trap> {
        self.store.table_get_at(self.instance(), table, index)
    }

    pub(super) fn table_set(&mut self, table: u32, index: u64, value: u64) -> Result<(), Trap> {
        let inst = self.instance();
        self.store.table_set_at(inst, table, index, value)
    }

    pub(super) fn table_size(&self, table: u32) -> u64 {
        self.store.table_size_at(self.instance(), table)
    }

    pub(super) fn table_grow(&mut self, table: u32, init: u64, delta: u64) -> u64 {
        let inst = self.instance();
        self.store.table_grow_at(inst, table, init, delta)
    }

    pub(super) fn table_fill(
        &mut self,
        table: u32,
        index: u64,
        value: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let inst = self.instance();
        self.store.table_fill_at(inst, table, index, value, len)
    }

    pub(super) fn table_copy(
        &mut self,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let inst = self.instance();
        self.store
            .table_copy_at(inst, dst_table, src_table, dst, src, len)
    }

    pub(super) fn table_init(
        &mut self,
        table: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let inst = self.instance();
        self.store
            .table_init_at(inst, table, segment, dst, src, len)
    }

    pub(super) fn elem_drop(&mut self, segment: u32) {
        let inst = self.instance();
        self.store.instance_mut(inst).drop_element_segment(segment);
    }
}
