//! Translates one validated function body into [`CompiledFunc`] code in a
//! single linear pass over its operators.

mod control;
mod ops;
mod simd;
mod stack;

use wamr_runtime::{Error, Module, ValType};
use wasmparser::{BinaryReader, FunctionBody};

use crate::code::simd::SimdMemArg;
use crate::code::{CompiledFunc, Instr, MemArg, MemOp, Pc, Slot};
use control::{BlockSig, Control, ControlKind};
use stack::{Operand, OperandStack, const_instr, copy_instr};

/// Translates defined function `func_index` (module index space) of `module`.
pub fn translate(module: &Module, func_index: u32) -> Result<CompiledFunc, Error> {
    let body = module
        .func_body(func_index)
        .ok_or_else(|| Error::Other(format!("function {func_index} has no body")))?;
    let ty = module.func_type(func_index).clone();
    let bytes = &module.bytes()[body.range.clone()];
    let body = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));

    // Each local's slot and width, parameters first (the slot contract).
    let mut types: Vec<ValType> = ty.params().to_vec();
    for local in body.get_locals_reader().map_err(malformed)? {
        let (count, ty) = local.map_err(malformed)?;
        types.extend(std::iter::repeat_n(wasm_type(ty), count as usize));
    }
    let mut locals: Vec<(Slot, bool)> = Vec::with_capacity(types.len());
    let mut next: Slot = 0;
    for t in types {
        locals.push((next, t == ValType::V128));
        next += t.slots() as Slot;
    }
    let total_locals = next;
    let num_params = ty.param_slots() as u32;
    let num_locals = total_locals - num_params;
    let mut t = Translator {
        module,
        code: Vec::new(),
        mem_args: Vec::new(),
        v128s: Vec::new(),
        simd_mem_args: Vec::new(),
        locals,
        stack: OperandStack::new(total_locals),
        control: Vec::new(),
        last_result: None,
        pending: Vec::new(),
        label_pc: 0,
        loops_seen: 0,
        osr_points: Vec::new(),
    };
    let sig = BlockSig {
        params: Box::new([]),
        results: ty.results().iter().map(|&t| t == ValType::V128).collect(),
    };
    t.control
        .push(Control::new(ControlKind::Func, 0, sig, true));
    let mut reader = body.get_operators_reader().map_err(malformed)?;
    while !reader.eof() {
        let op = reader.read().map_err(malformed)?;
        t.operator(op)?;
    }
    // Every path already ends in a jump, return or trap; this sentinel keeps
    // a translator bug from running past the end.
    t.code.push(Instr::Trap {
        kind: wamr_runtime::TrapKind::Unreachable,
    });
    Ok(CompiledFunc {
        code: t.code.into(),
        num_params,
        num_locals,
        frame_size: total_locals + t.stack.max_height() + 1,
        mem_args: t.mem_args.into(),
        v128s: t.v128s.into(),
        simd_mem_args: t.simd_mem_args.into(),
        memory0_is_64: module
            .memories()
            .first()
            .is_some_and(|m| m.index == wamr_runtime::IndexType::I64),
        func_index,
        osr_points: t.osr_points.into(),
    })
}

fn malformed(e: wasmparser::BinaryReaderError) -> Error {
    Error::Malformed(e.message().to_string())
}

/// The runtime's type for a validated local or block type (references
/// need no more than "not a `v128`" here).
fn wasm_type(ty: wasmparser::ValType) -> ValType {
    match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(_) => ValType::FuncRef,
    }
}

struct Translator<'m> {
    module: &'m Module,
    code: Vec<Instr>,
    mem_args: Vec<MemArg>,
    v128s: Vec<u128>,
    simd_mem_args: Vec<SimdMemArg>,
    /// Each local's first slot, and whether it is a two-slot `v128`.
    locals: Vec<(Slot, bool)>,
    stack: OperandStack,
    control: Vec<Control>,
    /// The last instruction, if it wrote the current top-of-stack slot and no
    /// label was bound since: its result may be redirected (into a local, or
    /// fused with a following branch).
    last_result: Option<usize>,
    /// Scratch buffer for materialisation copies.
    pending: Vec<Instr>,
    /// Where the last label was bound: no instruction before it may be
    /// fused with one after it.
    label_pc: Pc,
    /// `loop` operators seen, reachable or not (their ordinals).
    loops_seen: u32,
    osr_points: Vec<(u32, u32)>,
}

impl Translator<'_> {
    fn pc(&self) -> Pc {
        self.code.len() as Pc
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.code.push(instr);
        self.last_result = None;
        self.code.len() - 1
    }

    /// Emits an instruction whose result is the new top-of-stack slot.
    fn emit_result(&mut self, instr: Instr) {
        let at = self.emit(instr);
        self.last_result = Some(at);
    }

    /// The last instruction, if its result is the value on top of the stack.
    fn result_on_top(&mut self) -> Option<usize> {
        let at = self.last_result?;
        let top = self.stack.height().checked_sub(1)?;
        if self.stack.get(top) != Operand::Stack {
            return None;
        }
        let top_slot = self.stack.slot_of(top);
        (self.code[at].arith_dst().copied() == Some(top_slot)).then_some(at)
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        for instr in &pending {
            self.emit(*instr);
        }
        self.pending = pending;
        self.pending.clear();
    }

    fn reachable(&self) -> bool {
        self.control.last().is_some_and(|c| c.reachable)
    }

    fn set_unreachable(&mut self) {
        let height = self.control.last().map_or(0, |c| c.height);
        self.stack.truncate(height);
        if let Some(c) = self.control.last_mut() {
            c.reachable = false;
        }
        self.last_result = None;
    }

    /// Pops an operand and returns a slot holding it (constants are stored
    /// into the popped entry's own slot first).
    fn pop_slot(&mut self) -> Slot {
        let (op, slot) = self.stack.pop();
        match op {
            Operand::Stack => slot,
            Operand::Local(l) => l,
            Operand::Const(bits) => {
                self.emit(const_instr(slot, bits));
                slot
            }
        }
    }

    /// Pops an operand for an instruction that can take it as a 32-bit
    /// immediate: `Err(bits)` for such a constant, else the slot holding
    /// it. Also returns the slot the entry owned.
    fn pop_slot_or_imm32(&mut self) -> (Result<Slot, u32>, Slot) {
        if let Some(Operand::Const(bits)) = self.stack.top()
            && let Ok(imm) = u32::try_from(bits)
        {
            let (_, slot) = self.stack.pop();
            return (Err(imm), slot);
        }
        let slot = self.stack.slot_of(self.stack.height() - 1);
        (Ok(self.pop_slot()), slot)
    }

    /// Materialises every deferred entry (at control-flow joins and splits).
    fn materialize_all(&mut self) {
        self.stack.materialize_from(0, &mut self.pending);
        self.flush_pending();
    }

    /// Materialises the top `n` entries; returns the slot of the lowest.
    fn materialize_top(&mut self, n: usize) -> Slot {
        let from = self.stack.height() - n;
        self.stack.materialize_from(from, &mut self.pending);
        self.flush_pending();
        self.stack.slot_of(from)
    }

    fn unop(&mut self, make: fn(Slot, Slot) -> Instr) {
        let a = self.pop_slot();
        let dst = self.stack.push_stack();
        self.emit_result(make(dst, a));
    }

    fn binop(&mut self, make: fn(Slot, Slot, Slot) -> Instr) {
        let b = self.pop_slot();
        let a = self.pop_slot();
        let dst = self.stack.push_stack();
        self.emit_result(make(dst, a, b));
    }

    /// An i32 binary op whose right operand, when constant, becomes an
    /// immediate (`negate`: the immediate form adds the negated constant);
    /// with `make_left`, a constant left operand does too (`c op x` as
    /// `make_left(x, c)`).
    fn binop_imm(
        &mut self,
        make: fn(Slot, Slot, Slot) -> Instr,
        make_imm: fn(Slot, Slot, i32) -> Instr,
        negate: bool,
        make_left: Option<fn(Slot, Slot, i32) -> Instr>,
    ) {
        if let Some(Operand::Const(bits)) = self.stack.top() {
            self.stack.pop();
            let a = self.pop_slot();
            let dst = self.stack.push_stack();
            let imm = bits as u32 as i32;
            // Wrapping negation is exact modulo 2^32, even for i32::MIN.
            let imm = if negate { imm.wrapping_neg() } else { imm };
            self.emit_result(make_imm(dst, a, imm));
            return;
        }
        let height = self.stack.height();
        if let Some(make_left) = make_left
            && let Operand::Const(bits) = self.stack.get(height - 2)
        {
            let b = self.pop_slot();
            self.stack.pop();
            let dst = self.stack.push_stack();
            self.emit_result(make_left(dst, b, bits as u32 as i32));
            return;
        }
        self.binop(make);
    }

    /// `i32.and`: with a constant mask of a value the last instruction
    /// shifted right by a constant, one bit-field extract.
    fn i32_and(&mut self) {
        let height = self.stack.height();
        if let Some(Operand::Const(bits)) = self.stack.top()
            && height >= 2
            && self.stack.get(height - 2) == Operand::Stack
            && let Some(at) = self.last_result
            && at + 1 == self.code.len()
            && let Instr::I32ShrUImm { dst, a, imm } = self.code[at]
            && dst == self.stack.slot_of(height - 2)
        {
            self.stack.pop();
            self.stack.pop();
            let dst = self.stack.push_stack();
            let (shift, mask) = (imm as u32, bits as u32);
            self.code[at] = Instr::I32ShrUAndImm {
                dst,
                a,
                shift,
                mask,
            };
            return;
        }
        self.binop_imm(
            |dst, a, b| Instr::I32And { dst, a, b },
            |dst, a, imm| Instr::I32AndImm { dst, a, imm },
            false,
            Some(|dst, a, imm| Instr::I32AndImm { dst, a, imm }),
        );
    }

    /// Like `binop_imm` for i64 ops: only constants whose i64 value is an
    /// i32 sign-extended qualify.
    fn binop_imm64(
        &mut self,
        make: fn(Slot, Slot, Slot) -> Instr,
        make_imm: fn(Slot, Slot, i32) -> Instr,
        negate: bool,
    ) {
        if let Some(Operand::Const(bits)) = self.stack.top() {
            let v = bits as i64;
            let v = if negate { v.wrapping_neg() } else { v };
            if v == v as i32 as i64 {
                self.stack.pop();
                let a = self.pop_slot();
                let dst = self.stack.push_stack();
                self.emit_result(make_imm(dst, a, v as i32));
                return;
            }
        }
        self.binop(make);
    }

    fn local_get(&mut self, index: u32) {
        let (local, wide) = self.locals[index as usize];
        self.stack.push_typed(Operand::Local(local), wide);
    }

    /// `local.set`: writes the top value into local `index`, redirecting
    /// the instruction that produced it when possible.
    fn local_set(&mut self, index: u32) {
        let (local, wide) = self.locals[index as usize];
        let top_slot = self.stack.slot_of(self.stack.height() - 1);
        if let (Some(at), Some(Operand::Stack)) = (self.last_result, self.stack.top()) {
            // `redirect` checks that the instruction wrote exactly `top_slot`.
            self.stack.pop();
            if redirect(&mut self.code[at], top_slot, local) {
                self.last_result = None;
                // Deferred reads of the local's old value get their copies
                // before the instruction that now overwrites it. They write
                // slots below `top_slot`, which it does not read.
                self.stack.materialize_local(local, &mut self.pending);
                if !self.pending.is_empty() {
                    debug_assert_eq!(at, self.code.len() - 1);
                    let instr = self.code.pop().expect("the redirected instruction");
                    self.flush_pending();
                    self.code.push(instr);
                }
                return;
            }
            self.stack.materialize_local(local, &mut self.pending);
            self.flush_pending();
            self.emit(copy_instr(local, top_slot, wide));
            return;
        }
        let (op, slot) = self.stack.pop();
        self.stack.materialize_local(local, &mut self.pending);
        self.flush_pending();
        match op {
            Operand::Stack => {
                self.emit(copy_instr(local, slot, wide));
            }
            Operand::Local(src) if src == local => {}
            Operand::Local(src) => {
                self.emit(copy_instr(local, src, wide));
            }
            Operand::Const(bits) => {
                self.emit(const_instr(local, bits));
            }
        }
    }

    fn mem_access(&mut self, op: MemOp, memarg: &wasmparser::MemArg) -> Option<u32> {
        // Validation (without GC) only admits linear-memory targets.
        let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
            unreachable!("array memory targets need the GC proposal");
        };
        if memory == 0 && memarg.offset <= u32::MAX as u64 {
            return None;
        }
        self.mem_args.push(MemArg {
            op,
            memory,
            offset: memarg.offset,
        });
        Some(self.mem_args.len() as u32 - 1)
    }

    fn load(&mut self, op: MemOp, memarg: &wasmparser::MemArg, make: fn(Slot, Slot, u32) -> Instr) {
        let ext = self.mem_access(op, memarg);
        let addr = self.pop_slot();
        let dst = self.stack.push_stack();
        let instr = match ext {
            None => make(dst, addr, memarg.offset as u32),
            Some(ext) => Instr::LoadExt { dst, addr, ext },
        };
        self.emit_result(instr);
    }

    fn store(
        &mut self,
        op: MemOp,
        memarg: &wasmparser::MemArg,
        make: fn(Slot, Slot, u32) -> Instr,
    ) {
        let ext = self.mem_access(op, memarg);
        let value = self.pop_slot();
        let addr = self.pop_slot();
        let instr = match ext {
            None => make(addr, value, memarg.offset as u32),
            Some(ext) => Instr::StoreExt { addr, value, ext },
        };
        self.emit(instr);
    }

    /// Pops `n` operands that the instruction reads from consecutive slots
    /// starting at the returned one.
    fn pop_consecutive(&mut self, n: usize) -> Slot {
        let base = self.materialize_top(n);
        for _ in 0..n {
            self.stack.pop();
        }
        base
    }

    fn block_type(&self, ty: wasmparser::BlockType) -> BlockSig {
        let wide = |t: &ValType| *t == ValType::V128;
        match ty {
            wasmparser::BlockType::Empty => BlockSig::default(),
            wasmparser::BlockType::Type(t) => BlockSig {
                params: Box::new([]),
                results: Box::new([t == wasmparser::ValType::V128]),
            },
            wasmparser::BlockType::FuncType(idx) => {
                let ft = &self.module.types()[idx as usize];
                BlockSig {
                    params: ft.params().iter().map(wide).collect(),
                    results: ft.results().iter().map(wide).collect(),
                }
            }
        }
    }
}

/// Makes `instr`, which writes its result to `from`, write to `to` instead.
/// Only single-result instructions that read all operands before writing
/// qualify.
fn redirect(instr: &mut Instr, from: Slot, to: Slot) -> bool {
    use Instr::*;
    let dst = match instr {
        Copy { dst, .. }
        | Select { dst, .. }
        | SelectImmA { dst, .. }
        | SelectImmB { dst, .. }
        | I32ShrUAndImm { dst, .. }
        | Const32 { dst, .. }
        | Const64 { dst, .. }
        | GlobalGet { dst, .. }
        | RefFunc { dst, .. }
        | Load32 { dst, .. }
        | Load64 { dst, .. }
        | I32Load8S { dst, .. }
        | Load8U { dst, .. }
        | I32Load16S { dst, .. }
        | Load16U { dst, .. }
        | I64Load8S { dst, .. }
        | I64Load16S { dst, .. }
        | I64Load32S { dst, .. }
        | LoadExt { dst, .. }
        | MemorySize { dst, .. }
        | TableGet { dst, .. }
        | TableSize { dst, .. }
        | Copy128 { dst, .. }
        | V128Const { dst, .. }
        | Select128 { dst, .. }
        | GlobalGet128 { dst, .. }
        | V128Load { dst, .. }
        | V128LoadExt { dst, .. }
        | SimdLoad { dst, .. }
        | Simd { dst, .. } => dst,
        other => match other.arith_dst() {
            Some(dst) => dst,
            None => return false,
        },
    };
    if *dst != from {
        return false;
    }
    *dst = to;
    true
}

/// Prints the translation of a module, for inspecting code quality:
/// `WAT=file.wat cargo test -p wamr-interp --lib dump -- --ignored --nocapture`.
#[cfg(test)]
mod dump {
    #[test]
    #[ignore = "a tool, run on demand"]
    fn dump_code() {
        let wat = std::env::var("WAT").unwrap();
        let config = wamr_runtime::Config::default();
        let m = wamr_runtime::Module::new(&config, &wat::parse_file(wat).unwrap()).unwrap();
        for f in m.num_imported_funcs()..m.num_funcs() {
            let c = super::translate(&m, f).unwrap();
            println!("func {f}: frame {}", c.frame_size);
            for (pc, i) in c.code.iter().enumerate() {
                println!("  {pc:3}: {i:?}");
            }
        }
    }
}

/// The shapes the translator's fusions give.
#[cfg(test)]
mod fusions {
    use crate::code::Instr::{self, *};

    /// The code of the module's first function.
    fn code(wat: &str) -> Vec<Instr> {
        let config = wamr_runtime::Config::default();
        let m = wamr_runtime::Module::new(&config, &wat::parse_str(wat).unwrap()).unwrap();
        super::translate(&m, 0).unwrap().code.into_vec()
    }

    #[test]
    fn select_of_a_constant_writes_the_local_itself() {
        let code = code(
            "(module (func (param i32 i32) (result i32) (local i32)
               (local.set 2 (select (i32.const 7) (local.get 0) (local.get 1)))
               (local.get 2)))",
        );
        let select = SelectImmA {
            dst: 2,
            cond: 1,
            imm: 7,
            b: 0,
        };
        assert_eq!(code[0], select, "{code:?}");
        // The local is returned from where it is.
        assert_eq!(code[1], Return { src: 2, count: 1 }, "{code:?}");
    }

    #[test]
    fn a_counter_stepped_by_tee_branches_in_one_instruction() {
        let code = code(
            "(module (func (param i32)
               (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))",
        );
        let step = BrIfI32AddImmNez {
            dst: 0,
            a: 0,
            imm: -1,
            target: 0,
        };
        assert_eq!(code[0], step, "{code:?}");
    }

    #[test]
    fn no_fusion_across_a_label() {
        let code = code(
            "(module (func (param i32)
               (block (br_if 0 (local.get 0))
                      (local.set 0 (i32.add (local.get 0) (i32.const 1))))
               (loop (br_if 0 (local.get 0)))))",
        );
        assert!(
            code.iter().any(|i| matches!(i, I32AddImm { .. })),
            "{code:?}"
        );
        assert!(
            code.iter().any(|i| matches!(i, BrIfNez { cond: 0, .. })),
            "{code:?}"
        );
    }

    #[test]
    fn a_constant_left_operand_becomes_the_mirrored_immediate() {
        let code = code(
            "(module (func (param i32)
               (loop (br_if 0 (i32.lt_u (i32.const 10) (local.get 0))))))",
        );
        let branch = BrIfI32GtUImm {
            a: 0,
            imm: 10,
            target: 0,
        };
        assert_eq!(code[0], branch, "{code:?}");
    }

    #[test]
    fn a_shift_then_a_mask_is_one_bit_field_extract() {
        let code = code(
            "(module (func (param i32) (result i32)
               (i32.and (i32.shr_u (local.get 0) (i32.const 3)) (i32.const 7))))",
        );
        assert!(
            matches!(
                code[0],
                I32ShrUAndImm {
                    a: 0,
                    shift: 3,
                    mask: 7,
                    ..
                }
            ),
            "{code:?}"
        );
        assert_eq!(code[1], Return { src: 1, count: 1 }, "{code:?}");
    }

    #[test]
    fn a_copy_before_a_back_edge_moves_with_the_jump() {
        let code = code(
            "(module (func (param i32 i32)
               (loop (local.set 1 (local.get 0)) (br_if 0 (local.get 0)))))",
        );
        let jump = CopyBrIfNez {
            dst: 1,
            src: 0,
            cond: 0,
            target: 0,
        };
        assert_eq!(code[0], jump, "{code:?}");
    }

    #[test]
    fn an_old_value_is_copied_before_the_local_is_overwritten() {
        let code = code(
            "(module (func (param i32 i32) (result i32)
               (local.get 0)
               (local.set 0 (i32.mul (local.get 0) (local.get 1)))
               (i32.add (local.get 0))))",
        );
        // The copy of the old value, then the product straight into local 0.
        assert_eq!(code[0], Copy { dst: 2, src: 0 }, "{code:?}");
        assert_eq!(code[1], I32Mul { dst: 0, a: 0, b: 1 }, "{code:?}");
    }
}

/// The frame layout follows the slot contract (native code and OSR entries
/// read interpreter frames).
#[cfg(test)]
mod slots {
    use crate::code::Instr::*;

    #[test]
    fn a_v128_takes_two_slots_in_locals_and_on_the_stack() {
        let features = wamr_runtime::Features {
            simd: true,
            ..Default::default()
        };
        let config = wamr_runtime::Config::default().with_features(features);
        let wat = "(module (func (param v128 i32) (result i32 v128) (local f32 v128 i64)
            (local.set 4 (i64.const 5))
            (local.set 3 (local.get 0))
            (local.get 1) (local.get 3)))";
        let m = wamr_runtime::Module::new(&config, &wat::parse_str(wat).unwrap()).unwrap();
        let f = super::translate(&m, 0).unwrap();
        // Parameters: v128 in slots 0-1, i32 in 2; locals: f32 in 3,
        // v128 in 4-5, i64 in 6; the stack from 7.
        assert_eq!((f.num_params, f.num_locals), (3, 4));
        let code = f.code.into_vec();
        assert_eq!(code[0], Const32 { dst: 6, value: 5 }, "{code:?}");
        assert_eq!(code[1], Copy128 { dst: 4, src: 0 }, "{code:?}");
        assert_eq!(code[2], Copy { dst: 7, src: 2 }, "{code:?}");
        assert_eq!(code[3], Copy128 { dst: 8, src: 4 }, "{code:?}");
        assert_eq!(code[4], Return { src: 7, count: 3 }, "{code:?}");
        assert_eq!(f.frame_size, 7 + 3 + 1);
    }
}
