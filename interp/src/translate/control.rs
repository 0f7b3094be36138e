//! Structured control flow: blocks, loops, ifs and branches become jumps
//! with static targets; values a branch carries are copied into the slots
//! the target expects.

use crate::code::{Instr, Pc, Slot};

use super::Translator;
use super::stack::{Operand, const_instr, copy_instr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
pub struct Control {
    pub kind: ControlKind,
    /// Stack height below the block's parameters.
    pub height: usize,
    pub params: u32,
    pub results: u32,
    /// Which parameters and results are two-slot `v128`s.
    pub param_wide: Box<[bool]>,
    pub result_wide: Box<[bool]>,
    /// Whether code at the current point of this block can run.
    pub reachable: bool,
    /// Whether the block was entered on a reachable path.
    pub entered: bool,
    /// A loop's start.
    pub loop_pc: Pc,
    /// Jumps to this block's end, patched when it is reached.
    pub fixups: Vec<usize>,
    /// An `if`'s jump to its `else` (or end).
    pub else_fixup: Option<usize>,
}

impl Control {
    pub fn new(kind: ControlKind, height: usize, ty: BlockSig, reachable: bool) -> Self {
        Control {
            kind,
            height,
            params: ty.params.len() as u32,
            results: ty.results.len() as u32,
            param_wide: ty.params,
            result_wide: ty.results,
            reachable,
            entered: reachable,
            loop_pc: 0,
            fixups: Vec::new(),
            else_fixup: None,
        }
    }

    /// Values a branch to this label carries.
    pub fn branch_arity(&self) -> u32 {
        match self.kind {
            ControlKind::Loop => self.params,
            _ => self.results,
        }
    }
}

/// A block's parameters and results: whether each is a two-slot `v128`.
#[derive(Debug, Default)]
pub struct BlockSig {
    pub params: Box<[bool]>,
    pub results: Box<[bool]>,
}

/// Points a jump instruction at `target`.
pub fn patch(instr: &mut Instr, target: Pc) {
    match instr.target_mut() {
        Some(t) => *t = target,
        None => unreachable!("not a jump: {instr:?}"),
    }
}

/// An i32 comparison a fused branch can test.
#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
    /// `a & b != 0`.
    AndNez,
    /// `a & b == 0`.
    AndEqz,
}

impl Cmp {
    fn negate(self) -> Cmp {
        use Cmp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            LtU => GeU,
            GtS => LeS,
            GtU => LeU,
            LeS => GtS,
            LeU => GtU,
            GeS => LtS,
            GeU => LtU,
            AndNez => AndEqz,
            AndEqz => AndNez,
        }
    }

    fn branch(self, a: Slot, b: Slot) -> Instr {
        use Instr::*;
        let target = 0;
        match self {
            Cmp::Eq => BrIfI32Eq { a, b, target },
            Cmp::Ne => BrIfI32Ne { a, b, target },
            Cmp::LtS => BrIfI32LtS { a, b, target },
            Cmp::LtU => BrIfI32LtU { a, b, target },
            Cmp::GtS => BrIfI32GtS { a, b, target },
            Cmp::GtU => BrIfI32GtU { a, b, target },
            Cmp::LeS => BrIfI32LeS { a, b, target },
            Cmp::LeU => BrIfI32LeU { a, b, target },
            Cmp::GeS => BrIfI32GeS { a, b, target },
            Cmp::GeU => BrIfI32GeU { a, b, target },
            Cmp::AndNez => BrIfI32AndNez { a, b, target },
            Cmp::AndEqz => BrIfI32AndEqz { a, b, target },
        }
    }

    fn branch_imm(self, a: Slot, imm: i32) -> Instr {
        use Instr::*;
        let target = 0;
        match self {
            Cmp::Eq => BrIfI32EqImm { a, imm, target },
            Cmp::Ne => BrIfI32NeImm { a, imm, target },
            Cmp::LtS => BrIfI32LtSImm { a, imm, target },
            Cmp::LtU => BrIfI32LtUImm { a, imm, target },
            Cmp::GtS => BrIfI32GtSImm { a, imm, target },
            Cmp::GtU => BrIfI32GtUImm { a, imm, target },
            Cmp::LeS => BrIfI32LeSImm { a, imm, target },
            Cmp::LeU => BrIfI32LeUImm { a, imm, target },
            Cmp::GeS => BrIfI32GeSImm { a, imm, target },
            Cmp::GeU => BrIfI32GeUImm { a, imm, target },
            Cmp::AndNez => BrIfI32AndImmNez { a, imm, target },
            Cmp::AndEqz => BrIfI32AndImmEqz { a, imm, target },
        }
    }
}

/// The fused branch for "branch if `cmp` holds" (or, with `negate`, if it
/// does not), when `cmp` is an i32 comparison or another i32 op whose
/// non-zero test a branch can do itself.
fn fused_branch(cmp: &Instr, negate: bool) -> Option<Instr> {
    use Instr::*;
    let pick = |c: Cmp| if negate { c.negate() } else { c };
    Some(match *cmp {
        I32Eq { a, b, .. } => pick(Cmp::Eq).branch(a, b),
        I32Ne { a, b, .. } => pick(Cmp::Ne).branch(a, b),
        I32LtS { a, b, .. } => pick(Cmp::LtS).branch(a, b),
        I32LtU { a, b, .. } => pick(Cmp::LtU).branch(a, b),
        I32GtS { a, b, .. } => pick(Cmp::GtS).branch(a, b),
        I32GtU { a, b, .. } => pick(Cmp::GtU).branch(a, b),
        I32LeS { a, b, .. } => pick(Cmp::LeS).branch(a, b),
        I32LeU { a, b, .. } => pick(Cmp::LeU).branch(a, b),
        I32GeS { a, b, .. } => pick(Cmp::GeS).branch(a, b),
        I32GeU { a, b, .. } => pick(Cmp::GeU).branch(a, b),
        I32EqImm { a, imm, .. } => pick(Cmp::Eq).branch_imm(a, imm),
        I32NeImm { a, imm, .. } => pick(Cmp::Ne).branch_imm(a, imm),
        I32LtSImm { a, imm, .. } => pick(Cmp::LtS).branch_imm(a, imm),
        I32LtUImm { a, imm, .. } => pick(Cmp::LtU).branch_imm(a, imm),
        I32GtSImm { a, imm, .. } => pick(Cmp::GtS).branch_imm(a, imm),
        I32GtUImm { a, imm, .. } => pick(Cmp::GtU).branch_imm(a, imm),
        I32LeSImm { a, imm, .. } => pick(Cmp::LeS).branch_imm(a, imm),
        I32LeUImm { a, imm, .. } => pick(Cmp::LeU).branch_imm(a, imm),
        I32GeSImm { a, imm, .. } => pick(Cmp::GeS).branch_imm(a, imm),
        I32GeUImm { a, imm, .. } => pick(Cmp::GeU).branch_imm(a, imm),
        // A value tested for non-zero: `x ^ y` and `x - y` are non-zero
        // exactly when `x != y`, `x & y` when some bit is in both.
        I32Xor { a, b, .. } | I32Sub { a, b, .. } => pick(Cmp::Ne).branch(a, b),
        I32XorImm { a, imm, .. } => pick(Cmp::Ne).branch_imm(a, imm),
        I32And { a, b, .. } => pick(Cmp::AndNez).branch(a, b),
        I32AndImm { a, imm, .. } => pick(Cmp::AndNez).branch_imm(a, imm),
        I32AddImm { dst, a, imm } => step_branch(dst, a, imm, negate),
        I32Eqz { a, .. } if negate => BrIfNez { cond: a, target: 0 },
        I32Eqz { a, .. } => BrIfEqz { cond: a, target: 0 },
        _ => return None,
    })
}

/// "`dst = a + imm`, then branch if `dst` is non-zero" (zero with `negate`).
fn step_branch(dst: Slot, a: Slot, imm: i32, negate: bool) -> Instr {
    let target = 0;
    if negate {
        Instr::BrIfI32AddImmEqz {
            dst,
            a,
            imm,
            target,
        }
    } else {
        Instr::BrIfI32AddImmNez {
            dst,
            a,
            imm,
            target,
        }
    }
}

impl Translator<'_> {
    /// Binds a label at the current pc: nothing may be fused across it.
    fn bind_label(&mut self) {
        self.last_result = None;
        self.label_pc = self.pc();
    }

    pub(super) fn block(&mut self, kind: ControlKind, ty: BlockSig) {
        let reachable = self.reachable();
        if !reachable {
            // Dead code: track nesting only.
            let height = self.stack.height();
            self.control.push(Control::new(kind, height, ty, false));
            return;
        }
        self.materialize_all();
        let height = self.stack.height() - ty.params.len();
        let mut c = Control::new(kind, height, ty, reachable);
        if kind == ControlKind::Loop {
            c.loop_pc = self.pc();
            self.bind_label();
        }
        self.control.push(c);
    }

    pub(super) fn if_(&mut self, ty: BlockSig) {
        if !self.reachable() {
            self.block(ControlKind::If, ty);
            return;
        }
        // Jump to the else arm when the condition is false. Both arms start
        // from the same stack, so materialise it before the jump.
        let jump = self.branch_on_top(true, true);
        self.block(ControlKind::If, ty);
        self.control.last_mut().unwrap().else_fixup = Some(jump);
    }

    /// Pops the condition and emits a conditional jump (target patched
    /// later): taken when the condition is non-zero, or zero if `negate`.
    /// Fuses a preceding comparison into the jump. With `materialize`, the
    /// deferred stack entries are given their slots before the jump.
    fn branch_on_top(&mut self, negate: bool, materialize: bool) -> usize {
        if let Some(at) = self.result_on_top()
            && let Some(fused) = fused_branch(&self.code[at], negate)
        {
            self.stack.pop();
            // The comparison read its operands and wrote only the
            // condition slot, which is now dead: replace it.
            self.code[at] = fused;
            self.last_result = None;
            if materialize {
                self.materialize_all();
            }
            if self.code.len() - 1 == at {
                return at;
            }
            // Materialisation emitted copies after the fused jump: they
            // must run on both paths, so move the jump after them.
            let jump = self.code.remove(at);
            self.code.push(jump);
            return self.code.len() - 1;
        }
        let cond = self.pop_slot();
        if materialize {
            self.materialize_all();
        }
        // A loop counter stepped by the last instruction (`local.tee`
        // leaves the condition in the local, not on top), when no label
        // lets a jump in between the step and the branch.
        let last = self.code.len().wrapping_sub(1);
        if let Some(&Instr::I32AddImm { dst, a, imm }) = self.code.get(last)
            && dst == cond
            && last as Pc >= self.label_pc
        {
            self.code[last] = step_branch(dst, a, imm, negate);
            self.last_result = None;
            return last;
        }
        // A copy just before (a loop's variables moved on before its
        // back-edge) runs on both paths: the jump can do it.
        if let Some(&Instr::Copy { dst, src }) = self.code.get(last)
            && last as Pc >= self.label_pc
        {
            let target = 0;
            self.code[last] = if negate {
                Instr::CopyBrIfEqz {
                    dst,
                    src,
                    cond,
                    target,
                }
            } else {
                Instr::CopyBrIfNez {
                    dst,
                    src,
                    cond,
                    target,
                }
            };
            self.last_result = None;
            return last;
        }
        self.emit(if negate {
            Instr::BrIfEqz { cond, target: 0 }
        } else {
            Instr::BrIfNez { cond, target: 0 }
        })
    }

    pub(super) fn else_(&mut self) {
        let c = self.control.last().unwrap();
        if c.reachable {
            let results = c.results as usize;
            self.materialize_top(results);
            let jump = self.emit(Instr::Br { target: 0 });
            self.control.last_mut().unwrap().fixups.push(jump);
        }
        let c = self.control.last_mut().unwrap();
        c.kind = ControlKind::Else;
        c.reachable = c.entered;
        let height = c.height;
        let params = c.param_wide.clone();
        if let Some(jump) = c.else_fixup.take() {
            let pc = self.pc();
            patch(&mut self.code[jump], pc);
        }
        self.bind_label();
        self.stack.truncate(height);
        for wide in params {
            self.stack.push_typed(Operand::Stack, wide);
        }
    }

    /// `end`: returns true at the end of the function body.
    pub(super) fn end(&mut self) -> bool {
        let c = self.control.last().unwrap();
        if c.kind == ControlKind::Func {
            if c.reachable {
                self.return_();
            }
            self.control.pop();
            return true;
        }
        if c.reachable {
            let results = c.results as usize;
            self.materialize_top(results);
        }
        let c = self.control.pop().unwrap();
        let pc = self.pc();
        let mut reachable = c.reachable || !c.fixups.is_empty();
        for jump in &c.fixups {
            patch(&mut self.code[*jump], pc);
        }
        if let Some(jump) = c.else_fixup {
            // An `if` without `else`: a false condition falls to the end.
            patch(&mut self.code[jump], pc);
            reachable = true;
        }
        self.bind_label();
        self.stack.truncate(c.height);
        for &wide in &c.result_wide {
            self.stack.push_typed(Operand::Stack, wide);
        }
        if let Some(parent) = self.control.last_mut() {
            parent.reachable = reachable;
        }
        false
    }

    /// Copies the top `count` values to the slots from `dst` (branch
    /// values), straight from where deferred values live.
    fn copy_branch_values(&mut self, dst: Slot, count: usize) {
        let top = self.stack.height() - count;
        let mut to = dst;
        for i in top..top + count {
            let from = self.stack.slot_of(i);
            let wide = self.stack.is_wide(i);
            match self.stack.get(i) {
                Operand::Stack if from == to => {}
                Operand::Stack => {
                    self.emit(copy_instr(to, from, wide));
                }
                Operand::Local(l) => {
                    self.emit(copy_instr(to, l, wide));
                }
                Operand::Const(bits) => {
                    self.emit(const_instr(to, bits));
                }
            }
            to += 1 + wide as Slot;
        }
    }

    /// Whether a branch to `depth` needs value copies.
    fn branch_needs_copies(&self, depth: u32) -> bool {
        let c = &self.control[self.control.len() - 1 - depth as usize];
        let n = c.branch_arity() as usize;
        if n == 0 {
            return false;
        }
        let top = self.stack.height() - n;
        top != c.height || (top..self.stack.height()).any(|i| self.stack.get(i) != Operand::Stack)
    }

    /// Jumps to label `depth` (the value copies are emitted first).
    pub(super) fn br(&mut self, depth: u32) {
        let index = self.control.len() - 1 - depth as usize;
        if self.control[index].kind == ControlKind::Func {
            self.return_();
            return;
        }
        let c = &self.control[index];
        let (n, dst) = (c.branch_arity() as usize, self.stack.slot_of(c.height));
        self.copy_branch_values(dst, n);
        self.jump_to(index);
        self.set_unreachable();
    }

    /// Emits `br` to control `index` (target now for loops, patched later otherwise).
    fn jump_to(&mut self, index: usize) {
        let jump = self.emit(Instr::Br { target: 0 });
        self.target(index, jump);
    }

    fn target(&mut self, index: usize, jump: usize) {
        let c = &mut self.control[index];
        if c.kind == ControlKind::Loop {
            let pc = c.loop_pc;
            patch(&mut self.code[jump], pc);
        } else {
            c.fixups.push(jump);
        }
    }

    pub(super) fn br_if(&mut self, depth: u32) {
        let index = self.control.len() - 1 - depth as usize;
        let is_return = self.control[index].kind == ControlKind::Func;
        if !is_return && !self.branch_needs_copies(depth) {
            let jump = self.branch_on_top(false, false);
            self.target(index, jump);
            return;
        }
        // Taken path: copy values, then jump (or return). Skip it otherwise.
        // Nothing here may change the translator's stack: the fall-through
        // path does not run these copies.
        let skip = self.branch_on_top(true, false);
        let saved = self.stack.height();
        if is_return {
            let n = self.control[0].results as usize;
            let src = self.stack.slot_of(self.stack.height() - n);
            let count = self.stack.slots_from(self.stack.height() - n);
            self.copy_branch_values(src, n);
            self.emit(Instr::Return { src, count });
        } else {
            let c = &self.control[index];
            let (n, dst) = (c.branch_arity() as usize, self.stack.slot_of(c.height));
            self.copy_branch_values(dst, n);
            self.jump_to(index);
        }
        debug_assert_eq!(saved, self.stack.height());
        let pc = self.pc();
        patch(&mut self.code[skip], pc);
        self.bind_label();
    }

    pub(super) fn br_table(
        &mut self,
        targets: &wasmparser::BrTable<'_>,
    ) -> Result<(), wamr_runtime::Error> {
        let index = self.pop_slot();
        let depths: Vec<u32> = targets
            .targets()
            .chain(std::iter::once(Ok(targets.default())))
            .collect::<Result<_, _>>()
            .map_err(super::malformed)?;
        let arity = self.control[self.control.len() - 1 - depths[0] as usize].branch_arity();
        let src = self.materialize_top(arity as usize);
        self.emit(Instr::BrTable {
            index,
            len: depths.len() as u32 - 1,
            count: self.stack.slots_from(self.stack.height() - arity as usize),
        });
        let mut returns = Vec::new();
        for &depth in &depths {
            let ci = self.control.len() - 1 - depth as usize;
            let c = &self.control[ci];
            if c.kind == ControlKind::Func {
                let at = self.emit(Instr::BrTableTarget {
                    target: 0,
                    dst: src,
                    src,
                });
                returns.push(at);
                continue;
            }
            let dst = self.stack.slot_of(c.height);
            let at = self.emit(Instr::BrTableTarget {
                target: 0,
                dst,
                src,
            });
            self.target(ci, at);
        }
        if !returns.is_empty() {
            let pc = self.pc();
            for at in returns {
                patch(&mut self.code[at], pc);
            }
            self.return_values();
        }
        self.set_unreachable();
        Ok(())
    }

    /// Emits the return of the function's results from the top of the stack.
    fn return_values(&mut self) {
        let n = self.control[0].results as usize;
        // One result in a local: returned from there, with no copy.
        if n == 1
            && let Some(Operand::Local(src)) = self.stack.top()
        {
            let count = self.stack.slots_from(self.stack.height() - 1);
            self.emit(Instr::Return { src, count });
            return;
        }
        let src = self.materialize_top(n);
        let count = self.stack.slots_from(self.stack.height() - n);
        self.emit(Instr::Return { src, count });
    }

    pub(super) fn return_(&mut self) {
        self.return_values();
        self.set_unreachable();
    }
}
