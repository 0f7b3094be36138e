//! The translator's model of the operand stack.
//!
//! `local.get` and constants are not copied when pushed: the stack entry
//! remembers where the value already is ("deferred"), so the consuming
//! instruction reads the local or uses an immediate directly. A deferred
//! entry is copied to its own slot ("materialised") only when it must be:
//! before its local is overwritten, at control-flow joins, and where an
//! instruction needs its operands in consecutive slots (calls, bulk ops).

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

#[derive(Debug, Default)]
pub struct OperandStack {
    entries: Vec<Operand>,
    /// Slot of stack entry 0 (the first slot after the locals).
    base: Slot,
    max_height: u32,
    /// How many deferred entries refer to each local.
    local_refs: Vec<u32>,
    /// Deferred entries of any kind (locals and constants).
    deferred: usize,
}

impl OperandStack {
    pub fn new(num_locals: u32) -> Self {
        OperandStack {
            entries: Vec::new(),
            base: num_locals,
            max_height: 0,
            local_refs: vec![0; num_locals as usize],
            deferred: 0,
        }
    }

    pub fn height(&self) -> usize {
        self.entries.len()
    }

    pub fn max_height(&self) -> u32 {
        self.max_height
    }

    /// The slot that stack entry `index` owns.
    pub fn slot_of(&self, index: usize) -> Slot {
        self.base + index as Slot
    }

    pub fn top(&self) -> Option<Operand> {
        self.entries.last().copied()
    }

    pub fn get(&self, index: usize) -> Operand {
        self.entries[index]
    }

    pub fn push(&mut self, op: Operand) {
        match op {
            Operand::Local(l) => {
                self.local_refs[l as usize] += 1;
                self.deferred += 1;
            }
            Operand::Const(_) => self.deferred += 1,
            Operand::Stack => {}
        }
        self.entries.push(op);
        self.max_height = self.max_height.max(self.entries.len() as u32);
    }

    /// Pushes a value that an instruction writes into its own slot; returns the slot.
    pub fn push_stack(&mut self) -> Slot {
        self.push(Operand::Stack);
        self.slot_of(self.entries.len() - 1)
    }

    /// Pops the top entry; returns it and the slot it owned.
    pub fn pop(&mut self) -> (Operand, Slot) {
        let op = self
            .entries
            .pop()
            .expect("validated code never pops an empty stack");
        self.forget(op);
        (op, self.slot_of(self.entries.len()))
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
        let op = self.entries[index];
        let dst = self.slot_of(index);
        let instr = match op {
            Operand::Stack => return None,
            Operand::Local(src) => Instr::Copy { dst, src },
            Operand::Const(bits) => const_instr(dst, bits),
        };
        self.forget(op);
        self.entries[index] = Operand::Stack;
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
            if self.entries[i] == Operand::Local(local) {
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
