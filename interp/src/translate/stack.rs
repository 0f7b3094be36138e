//! The translator's model of the operand stack.
//!
//! `local.get` and constants are not copied when pushed: the stack entry
//! remembers where the value already is ("deferred"), so the consuming
//! instruction reads the local or uses an immediate directly. A deferred
//! entry is copied to its own slot ("materialised") only when it must be:
//! before its local is overwritten, at control-flow joins, and where an
//! instruction needs its operands in consecutive slots (calls, bulk ops).
//!
//! Entries follow the slot contract: a `v128` takes two consecutive slots
//! (low half first), every other value one, so an entry's slot is the sum
//! of the widths below it.

use crate::code::{Instr, Slot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// The value is in its own stack slot.
    Stack,
    /// The value is whatever local `n` holds (not modified since the push).
    Local(Slot),
    /// A constant, as slot bits.
    Const(u64),
}

/// A stack entry: where its value is, the slot it owns, and whether it is
/// a two-slot `v128`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    op: Operand,
    slot: Slot,
    wide: bool,
}

#[derive(Debug, Default)]
pub struct OperandStack {
    entries: Vec<Entry>,
    /// Slot of stack entry 0 (the first slot after the locals).
    base: Slot,
    /// The most slots the stack ever took.
    max_height: u32,
    /// How many deferred entries refer to each local.
    local_refs: Vec<u32>,
    /// Deferred entries of any kind (locals and constants).
    deferred: usize,
}

impl OperandStack {
    /// A stack above `local_slots` slots of locals.
    pub fn new(local_slots: u32) -> Self {
        OperandStack {
            entries: Vec::new(),
            base: local_slots,
            max_height: 0,
            local_refs: vec![0; local_slots as usize],
            deferred: 0,
        }
    }

    pub fn height(&self) -> usize {
        self.entries.len()
    }

    /// The most slots the stack ever took.
    pub fn max_height(&self) -> u32 {
        self.max_height
    }

    /// The slot that stack entry `index` owns (for `index == height`, the
    /// first free slot).
    pub fn slot_of(&self, index: usize) -> Slot {
        match self.entries.get(index) {
            Some(e) => e.slot,
            None => self.next_slot(),
        }
    }

    /// The first slot above the stack.
    fn next_slot(&self) -> Slot {
        self.entries
            .last()
            .map_or(self.base, |e| e.slot + 1 + e.wide as Slot)
    }

    /// The slots entries `from..` take.
    pub fn slots_from(&self, from: usize) -> u32 {
        self.next_slot() - self.slot_of(from)
    }

    /// Whether entry `index` is a two-slot `v128`.
    pub fn is_wide(&self, index: usize) -> bool {
        self.entries[index].wide
    }

    pub fn top(&self) -> Option<Operand> {
        self.entries.last().map(|e| e.op)
    }

    pub fn get(&self, index: usize) -> Operand {
        self.entries[index].op
    }

    /// Pushes a one-slot value.
    pub fn push(&mut self, op: Operand) {
        self.push_typed(op, false);
    }

    /// Pushes a value taking two slots if `wide` (a `v128`), else one.
    pub fn push_typed(&mut self, op: Operand, wide: bool) {
        match op {
            Operand::Local(l) => {
                self.local_refs[l as usize] += 1;
                self.deferred += 1;
            }
            Operand::Const(_) => self.deferred += 1,
            Operand::Stack => {}
        }
        let slot = self.next_slot();
        self.entries.push(Entry { op, slot, wide });
        self.max_height = self.max_height.max(self.next_slot() - self.base);
    }

    /// Pushes a value that an instruction writes into its own slot; returns the slot.
    pub fn push_stack(&mut self) -> Slot {
        self.push_stack_typed(false)
    }

    /// `push_stack` for a value of either width (see `push_typed`).
    pub fn push_stack_typed(&mut self, wide: bool) -> Slot {
        self.push_typed(Operand::Stack, wide);
        self.slot_of(self.entries.len() - 1)
    }

    /// Pops the top entry; returns it and the slot it owned.
    pub fn pop(&mut self) -> (Operand, Slot) {
        let e = self
            .entries
            .pop()
            .expect("validated code never pops an empty stack");
        self.forget(e.op);
        (e.op, e.slot)
    }

    fn forget(&mut self, op: Operand) {
        match op {
            Operand::Local(l) => {
                self.local_refs[l as usize] -= 1;
                self.deferred -= 1;
            }
            Operand::Const(_) => self.deferred -= 1,
            Operand::Stack => {}
        }
    }

    /// Drops entries above `height`.
    pub fn truncate(&mut self, height: usize) {
        while self.entries.len() > height {
            self.pop();
        }
    }

    pub fn has_refs_to(&self, local: Slot) -> bool {
        self.local_refs[local as usize] > 0
    }

    /// The instruction that gives entry `index` its own slot, if it is deferred.
    fn materialize_at(&mut self, index: usize) -> Option<Instr> {
        let Entry {
            op,
            slot: dst,
            wide,
        } = self.entries[index];
        let instr = match op {
            Operand::Stack => return None,
            Operand::Local(src) => copy_instr(dst, src, wide),
            Operand::Const(bits) => const_instr(dst, bits),
        };
        self.forget(op);
        self.entries[index].op = Operand::Stack;
        Some(instr)
    }

    /// Materialises entries `from..` and returns the copies to emit, in order.
    pub fn materialize_from(&mut self, from: usize, out: &mut Vec<Instr>) {
        if self.deferred == 0 {
            return;
        }
        for i in from..self.entries.len() {
            out.extend(self.materialize_at(i));
        }
    }

    /// Materialises every entry that refers to `local` (before it is written).
    pub fn materialize_local(&mut self, local: Slot, out: &mut Vec<Instr>) {
        if !self.has_refs_to(local) {
            return;
        }
        for i in 0..self.entries.len() {
            if self.entries[i].op == Operand::Local(local) {
                out.extend(self.materialize_at(i));
            }
        }
    }
}

/// The instruction that stores constant `bits` into `dst`.
pub fn const_instr(dst: Slot, bits: u64) -> Instr {
    match u32::try_from(bits) {
        Ok(value) => Instr::Const32 { dst, value },
        Err(_) => Instr::Const64 { dst, value: bits },
    }
}

/// The instruction that copies a value of one slot, or two if `wide`.
pub fn copy_instr(dst: Slot, src: Slot, wide: bool) -> Instr {
    if wide {
        Instr::Copy128 { dst, src }
    } else {
        Instr::Copy { dst, src }
    }
}
