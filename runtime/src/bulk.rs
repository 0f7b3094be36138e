//! Bulk memory and table instructions, on an instance's own index spaces.
//! One implementation for every tier: the interpreter calls these directly,
//! compiled code through the `bulk` builtin.

use crate::store::{InstanceId, Store};
use crate::trap::{Trap, TrapKind};
use crate::types::IndexType;
use crate::value::RawRef;
use crate::vmctx::VMContext;

/// `len` elements from `start` lie within `0..size`.
fn in_bounds(start: u64, len: u64, size: u64) -> bool {
    start.checked_add(len).is_some_and(|end| end <= size)
}

/// -1 in an index type's width: what a failed `grow` returns.
fn failed_grow(index: IndexType) -> u64 {
    match index {
        IndexType::I32 => u32::MAX as u64,
        IndexType::I64 => u64::MAX,
    }
}

impl Store {
    /// `memory.grow`: the old size in pages, or -1 in the index type's width.
    pub fn memory_grow_at(&mut self, inst: InstanceId, memory: u32, delta: u64) -> u64 {
        let id = self.instance(inst).memories()[memory as usize];
        let m = self.memory_mut(id);
        let failed = failed_grow(m.index_type());
        m.grow(delta).unwrap_or(failed)
    }

    pub fn memory_fill_at(
        &mut self,
        inst: InstanceId,
        memory: u32,
        dst: u64,
        value: u8,
        len: u64,
    ) -> Result<(), Trap> {
        let id = self.instance(inst).memories()[memory as usize];
        let m = self.memory_mut(id);
        let r = m.range(dst, len).ok_or(TrapKind::MemoryOutOfBounds)?;
        m.data_mut()[r].fill(value);
        Ok(())
    }

    pub fn memory_copy_at(
        &mut self,
        inst: InstanceId,
        dst_memory: u32,
        src_memory: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let mems = self.instance(inst).memories();
        let (d_id, s_id) = (mems[dst_memory as usize], mems[src_memory as usize]);
        let s_range = self.memory(s_id).range(src, len);
        let d_range = self.memory(d_id).range(dst, len);
        let (Some(s), Some(d)) = (s_range, d_range) else {
            return Err(TrapKind::MemoryOutOfBounds.into());
        };
        if d_id == s_id {
            self.memory_mut(d_id).data_mut().copy_within(s, d.start);
        } else {
            let bytes = self.memory(s_id).data()[s].to_vec();
            self.memory_mut(d_id).data_mut()[d].copy_from_slice(&bytes);
        }
        Ok(())
    }

    pub fn memory_init_at(
        &mut self,
        inst: InstanceId,
        memory: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let id = self.instance(inst).memories()[memory as usize];
        self.memory_init(inst, id, segment, dst, src, len)
    }

    pub fn table_get_at(&self, inst: InstanceId, table: u32, index: u64) -> Result<u64, Trap> {
        let id = self.instance(inst).tables()[table as usize];
        let t = self.table(id);
        Ok(t.get(index)
            .map(|r| r.0)
            .ok_or(TrapKind::TableOutOfBounds)?)
    }

    pub fn table_set_at(
        &mut self,
        inst: InstanceId,
        table: u32,
        index: u64,
        value: u64,
    ) -> Result<(), Trap> {
        let id = self.instance(inst).tables()[table as usize];
        Ok(self
            .table_mut(id)
            .set(index, RawRef(value))
            .ok_or(TrapKind::TableOutOfBounds)?)
    }

    pub fn table_size_at(&self, inst: InstanceId, table: u32) -> u64 {
        let id = self.instance(inst).tables()[table as usize];
        self.table(id).size()
    }

    /// `table.grow`: the old size, or -1 in the index type's width.
    pub fn table_grow_at(&mut self, inst: InstanceId, table: u32, init: u64, delta: u64) -> u64 {
        let id = self.instance(inst).tables()[table as usize];
        let t = self.table_mut(id);
        let failed = failed_grow(t.ty().index);
        t.grow(delta, RawRef(init)).unwrap_or(failed)
    }

    pub fn table_fill_at(
        &mut self,
        inst: InstanceId,
        table: u32,
        index: u64,
        value: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let id = self.instance(inst).tables()[table as usize];
        let t = self.table_mut(id);
        if !in_bounds(index, len, t.size()) {
            return Err(TrapKind::TableOutOfBounds.into());
        }
        t.elements_mut()[index as usize..(index + len) as usize].fill(value);
        Ok(())
    }

    pub fn table_copy_at(
        &mut self,
        inst: InstanceId,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let tables = self.instance(inst).tables();
        let (d_id, s_id) = (tables[dst_table as usize], tables[src_table as usize]);
        if !in_bounds(src, len, self.table(s_id).size())
            || !in_bounds(dst, len, self.table(d_id).size())
        {
            return Err(TrapKind::TableOutOfBounds.into());
        }
        let (s, d, n) = (src as usize, dst as usize, len as usize);
        if d_id == s_id {
            self.table_mut(d_id).elements_mut().copy_within(s..s + n, d);
        } else {
            let items = self.table(s_id).elements()[s..s + n].to_vec();
            self.table_mut(d_id).elements_mut()[d..d + n].copy_from_slice(&items);
        }
        Ok(())
    }

    pub fn table_init_at(
        &mut self,
        inst: InstanceId,
        table: u32,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let id = self.instance(inst).tables()[table as usize];
        self.table_init(inst, id, segment, dst, src, len)
    }

    /// The instance whose VM context is `vmctx`.
    pub fn instance_of_vmctx(&self, vmctx: *const VMContext) -> Option<InstanceId> {
        (0..self.num_instances())
            .map(|i| InstanceId(i as u32))
            .find(|&id| std::ptr::eq(self.instance(id).vmctx(), vmctx))
    }
}

/// Operations of the `bulk` builtin (its `op` argument).
pub mod bulk_op {
    pub const MEMORY_FILL: u32 = 0;
    pub const MEMORY_COPY: u32 = 1;
    pub const MEMORY_INIT: u32 = 2;
    pub const DATA_DROP: u32 = 3;
    pub const TABLE_GET: u32 = 4;
    pub const TABLE_SET: u32 = 5;
    pub const TABLE_SIZE: u32 = 6;
    pub const TABLE_GROW: u32 = 7;
    pub const TABLE_FILL: u32 = 8;
    pub const TABLE_COPY: u32 = 9;
    pub const TABLE_INIT: u32 = 10;
    pub const ELEM_DROP: u32 = 11;
}

/// One request to the `bulk` builtin: operation, index immediates (memories,
/// tables, segments) and operands in wasm order.
#[derive(Debug, Clone, Copy)]
pub struct BulkRequest {
    pub op: u32,
    pub x: u32,
    pub y: u32,
    pub operands: [u64; 3],
}

impl Store {
    /// Runs a bulk operation for the instance of `vmctx`; returns the
    /// result, if the operation has one.
    pub fn run_bulk_op(&mut self, vmctx: *const VMContext, req: BulkRequest) -> Result<u64, Trap> {
        let inst = self
            .instance_of_vmctx(vmctx)
            .ok_or_else(|| Trap::host("bulk operation from an unknown instance"))?;
        self.run_bulk_op_in(inst, req)
    }

    /// Runs a bulk operation for instance `inst` (see [`Store::run_bulk_op`]).
    pub fn run_bulk_op_in(&mut self, inst: InstanceId, req: BulkRequest) -> Result<u64, Trap> {
        use bulk_op::*;
        let BulkRequest {
            op,
            x,
            y,
            operands: [a, b, c],
        } = req;
        match op {
            MEMORY_FILL => self.memory_fill_at(inst, x, a, b as u8, c).map(|_| 0),
            MEMORY_COPY => self.memory_copy_at(inst, x, y, a, b, c).map(|_| 0),
            MEMORY_INIT => self.memory_init_at(inst, x, y, a, b, c).map(|_| 0),
            DATA_DROP => {
                self.instance_mut(inst).drop_data_segment(x);
                Ok(0)
            }
            TABLE_GET => self.table_get_at(inst, x, a),
            TABLE_SET => self.table_set_at(inst, x, a, b).map(|_| 0),
            TABLE_SIZE => Ok(self.table_size_at(inst, x)),
            TABLE_GROW => Ok(self.table_grow_at(inst, x, a, b)),
            TABLE_FILL => self.table_fill_at(inst, x, a, b, c).map(|_| 0),
            TABLE_COPY => self.table_copy_at(inst, x, y, a, b, c).map(|_| 0),
            TABLE_INIT => self.table_init_at(inst, x, y, a, b, c).map(|_| 0),
            ELEM_DROP => {
                self.instance_mut(inst).drop_element_segment(x);
                Ok(0)
            }
            other => Err(Trap::host(format!("unknown bulk operation {other}"))),
        }
    }
}
