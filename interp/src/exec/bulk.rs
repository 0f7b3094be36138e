//! Instructions that go through the store: memories other than the cached
//! memory 0, `memory.grow`, bulk memory, and table operations. All act on
//! the running instance.

use wamr_runtime::{IndexType, MemoryId, RawRef, TableId, Trap, TrapKind};

use super::Machine;
use super::handlers::{ext_load, ext_store};
use super::regs::Mem;

impl Machine<'_> {
    fn memory_id(&self, memory: u32) -> MemoryId {
        self.store.instance(self.ctxs[self.ctx].id).memories()[memory as usize]
    }

    fn table_id(&self, table: u32) -> TableId {
        self.store.instance(self.ctxs[self.ctx].id).tables()[table as usize]
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

    /// `memory.grow`: the old size in pages, or -1 in the index type's width.
    pub(super) fn memory_grow(&mut self, memory: u32, delta: u64) -> u64 {
        let id = self.memory_id(memory);
        let m = self.store.memory_mut(id);
        let failed = match m.index_type() {
            IndexType::I32 => u32::MAX as u64,
            IndexType::I64 => u64::MAX,
        };
        m.grow(delta).unwrap_or(failed)
    }

    pub(super) fn memory_fill(
        &mut self,
        memory: u32,
        dst: u64,
        value: u8,
        len: u64,
    ) -> Result<(), TrapKind> {
        let id = self.memory_id(memory);
        let m = self.store.memory_mut(id);
        let r = m.range(dst, len).ok_or(TrapKind::MemoryOutOfBounds)?;
        m.data_mut()[r].fill(value);
        Ok(())
    }

    pub(super) fn memory_copy(
        &mut self,
        dst_memory: u32,
        src_memory: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let (d_id, s_id) = (self.memory_id(dst_memory), self.memory_id(src_memory));
        let s_range = self.store.memory(s_id).range(src, len);
        let d_range = self.store.memory(d_id).range(dst, len);
        let (Some(s), Some(d)) = (s_range, d_range) else {
            return Err(TrapKind::MemoryOutOfBounds);
        };
        if d_id == s_id {
            self.store
                .memory_mut(d_id)
                .data_mut()
                .copy_within(s, d.start);
        } else {
            let bytes = self.store.memory(s_id).data()[s].to_vec();
            self.store.memory_mut(d_id).data_mut()[d].copy_from_slice(&bytes);
        }
        Ok(())
    }

    pub(super) fn memory_init(
        &mut self,
        memory: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let (inst, mem) = (self.ctxs[self.ctx].id, self.memory_id(memory));
        self.store.memory_init(inst, mem, segment, dst, src, len)
    }

    pub(super) fn data_drop(&mut self, segment: u32) {
        let id = self.ctxs[self.ctx].id;
        self.store.instance_mut(id).drop_data_segment(segment);
    }

    pub(super) fn table_get(&self, table: u32, index: u64) -> Result<u64, TrapKind> {
        let t = self.store.table(self.table_id(table));
        t.get(index).map(|r| r.0).ok_or(TrapKind::TableOutOfBounds)
    }

    pub(super) fn table_set(&mut self, table: u32, index: u64, value: u64) -> Result<(), TrapKind> {
        let id = self.table_id(table);
        self.store
            .table_mut(id)
            .set(index, RawRef(value))
            .ok_or(TrapKind::TableOutOfBounds)
    }

    pub(super) fn table_size(&self, table: u32) -> u64 {
        self.store.table(self.table_id(table)).size()
    }

    /// `table.grow`: the old size, or -1 in the index type's width.
    pub(super) fn table_grow(&mut self, table: u32, init: u64, delta: u64) -> u64 {
        let id = self.table_id(table);
        let t = self.store.table_mut(id);
        let failed = match t.ty().index {
            IndexType::I32 => u32::MAX as u64,
            IndexType::I64 => u64::MAX,
        };
        t.grow(delta, RawRef(init)).unwrap_or(failed)
    }

    pub(super) fn table_fill(
        &mut self,
        table: u32,
        index: u64,
        value: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let id = self.table_id(table);
        let t = self.store.table_mut(id);
        let end = index.checked_add(len).filter(|&e| e <= t.size());
        let end = end.ok_or(TrapKind::TableOutOfBounds)?;
        t.elements_mut()[index as usize..end as usize].fill(value);
        Ok(())
    }

    pub(super) fn table_copy(
        &mut self,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let (d_id, s_id) = (self.table_id(dst_table), self.table_id(src_table));
        let in_bounds = |start: u64, size: u64| start.checked_add(len).is_some_and(|e| e <= size);
        if !in_bounds(src, self.store.table(s_id).size())
            || !in_bounds(dst, self.store.table(d_id).size())
        {
            return Err(TrapKind::TableOutOfBounds);
        }
        let (s, d, n) = (src as usize, dst as usize, len as usize);
        if d_id == s_id {
            self.store
                .table_mut(d_id)
                .elements_mut()
                .copy_within(s..s + n, d);
        } else {
            let items = self.store.table(s_id).elements()[s..s + n].to_vec();
            self.store.table_mut(d_id).elements_mut()[d..d + n].copy_from_slice(&items);
        }
        Ok(())
    }

    pub(super) fn table_init(
        &mut self,
        table: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let (inst, t) = (self.ctxs[self.ctx].id, self.table_id(table));
        self.store.table_init(inst, t, segment, dst, src, len)
    }

    pub(super) fn elem_drop(&mut self, segment: u32) {
        let id = self.ctxs[self.ctx].id;
        self.store.instance_mut(id).drop_element_segment(segment);
    }
}
