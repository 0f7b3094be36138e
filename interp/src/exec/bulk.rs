//! Instructions that go through the store: memories other than the cached
//! memory 0, `memory.grow`, bulk memory, and table operations.

use wamr_runtime::{IndexType, MemoryId, RawRef, TableId, Trap, TrapKind};

use super::Machine;
use super::run::Mem;

impl Machine<'_> {
    fn memory_id(&self, ctx: usize, memory: u32) -> MemoryId {
        self.store.instance(self.ctxs[ctx].id).memories()[memory as usize]
    }

    fn table_id(&self, ctx: usize, table: u32) -> TableId {
        self.store.instance(self.ctxs[ctx].id).tables()[table as usize]
    }

    pub(super) fn memory_view(&self, ctx: usize, memory: u32) -> Mem {
        let m = self.store.memory(self.memory_id(ctx, memory));
        Mem::new(m.data().as_ptr() as *mut u8, m.len())
    }

    /// `memory.grow`: the old size in pages, or -1 in the index type's width.
    pub(super) fn memory_grow(&mut self, ctx: usize, memory: u32, delta: u64) -> u64 {
        let id = self.memory_id(ctx, memory);
        let m = self.store.memory_mut(id);
        let failed = match m.index_type() {
            IndexType::I32 => u32::MAX as u64,
            IndexType::I64 => u64::MAX,
        };
        m.grow(delta).unwrap_or(failed)
    }

    pub(super) fn memory_fill(
        &mut self,
        ctx: usize,
        memory: u32,
        dst: u64,
        value: u8,
        len: u64,
    ) -> Result<(), TrapKind> {
        let id = self.memory_id(ctx, memory);
        let m = self.store.memory_mut(id);
        let r = m.range(dst, len).ok_or(TrapKind::MemoryOutOfBounds)?;
        m.data_mut()[r].fill(value);
        Ok(())
    }

    pub(super) fn memory_copy(
        &mut self,
        ctx: usize,
        dst_memory: u32,
        src_memory: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let (d_id, s_id) = (
            self.memory_id(ctx, dst_memory),
            self.memory_id(ctx, src_memory),
        );
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
        ctx: usize,
        memory: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let (inst, mem) = (self.ctxs[ctx].id, self.memory_id(ctx, memory));
        self.store.memory_init(inst, mem, segment, dst, src, len)
    }

    pub(super) fn table_get(&self, ctx: usize, table: u32, index: u64) -> Result<u64, TrapKind> {
        let t = self.store.table(self.table_id(ctx, table));
        t.get(index).map(|r| r.0).ok_or(TrapKind::TableOutOfBounds)
    }

    pub(super) fn table_set(
        &mut self,
        ctx: usize,
        table: u32,
        index: u64,
        value: u64,
    ) -> Result<(), TrapKind> {
        let id = self.table_id(ctx, table);
        self.store
            .table_mut(id)
            .set(index, RawRef(value))
            .ok_or(TrapKind::TableOutOfBounds)
    }

    pub(super) fn table_size(&self, ctx: usize, table: u32) -> u64 {
        self.store.table(self.table_id(ctx, table)).size()
    }

    /// `table.grow`: the old size, or -1 in the index type's width.
    pub(super) fn table_grow(&mut self, ctx: usize, table: u32, init: u64, delta: u64) -> u64 {
        let id = self.table_id(ctx, table);
        let t = self.store.table_mut(id);
        let failed = match t.ty().index {
            IndexType::I32 => u32::MAX as u64,
            IndexType::I64 => u64::MAX,
        };
        t.grow(delta, RawRef(init)).unwrap_or(failed)
    }

    pub(super) fn table_fill(
        &mut self,
        ctx: usize,
        table: u32,
        index: u64,
        value: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let id = self.table_id(ctx, table);
        let t = self.store.table_mut(id);
        let end = index.checked_add(len).filter(|&e| e <= t.size());
        let end = end.ok_or(TrapKind::TableOutOfBounds)?;
        t.elements_mut()[index as usize..end as usize].fill(value);
        Ok(())
    }

    pub(super) fn table_copy(
        &mut self,
        ctx: usize,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let (d_id, s_id) = (self.table_id(ctx, dst_table), self.table_id(ctx, src_table));
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
        ctx: usize,
        table: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let (inst, t) = (self.ctxs[ctx].id, self.table_id(ctx, table));
        self.store.table_init(inst, t, segment, dst, src, len)
    }
}
