//! The interpreter's internal code: register-style instructions whose
//! operands are frame slots.
//!
//! A frame is an array of 64-bit slots: parameters, then locals, then the
//! operand stack. The translator knows the stack height at every point, so
//! each wasm stack value has a fixed slot, and each instruction names the
//! slots it reads and writes directly (no pushes or pops at run time).
//! Slots follow the runtime's slot contract: a `v128` takes two consecutive
//! slots, low half first, every other value one (`ValType::slots`); so do
//! the parameters and locals at the frame base.
//! Values are stored in slots as bits: an i32 (and an f32) always
//! zero-extended, which lets memory32 and memory64 share address handling.
//!
//! An instruction has at most four 32-bit operands (24 bytes, checked by a
//! test); operands that do not fit live in side tables of the
//! [`CompiledFunc`].

/// A frame slot index, relative to the frame base.
pub type Slot = u32;
/// An index into the function's code.
pub type Pc = u32;

pub mod simd;

use simd::SimdOp;

macro_rules! instrs {
    (
        special { $( $(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? } ),* $(,)? }
        binary { $($bin:ident),* $(,)? }
        unary { $($un:ident),* $(,)? }
        immediate { $($imm:ident),* $(,)? }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Instr {
            $( $(#[$doc])* $name { $($field: $ty),* }, )*
            $( $bin { dst: Slot, a: Slot, b: Slot }, )*
            $( $un { dst: Slot, a: Slot }, )*
            $( $imm { dst: Slot, a: Slot, imm: i32 }, )*
        }

        impl Instr {
            /// The result slot of a pure arithmetic instruction (one that
            /// reads its operands, then writes only `dst`).
            pub fn arith_dst(&mut self) -> Option<&mut Slot> {
                match self {
                    $( Instr::$bin { dst, .. } )|*
                    | $( Instr::$un { dst, .. } )|*
                    | $( Instr::$imm { dst, .. } )|* => Some(dst),
                    _ => None,
                }
            }
        }
    };
}

instrs! {
    special {
    /// Traps with the given kind.
    Trap { kind: wamr_runtime::TrapKind },
    Copy { dst: Slot, src: Slot },
    Const32 { dst: Slot, value: u32 },
    Const64 { dst: Slot, value: u64 },

    // Control.
    Br { target: Pc },
    BrIfNez { cond: Slot, target: Pc },
    BrIfEqz { cond: Slot, target: Pc },
    /// Followed by `len + 1` [`Instr::BrTableTarget`] entries (the last is the default).
    BrTable { index: Slot, len: u32, count: u32 },
    /// Copies the table's `count` values from `src` to `dst`, then jumps.
    BrTableTarget { target: Pc, dst: Slot, src: Slot },
    /// Returns `count` results found at `src` (copied to the frame base).
    Return { src: Slot, count: u32 },
    /// Calls function `func` of the current instance; arguments start at `base`,
    /// results are written from `base`.
    Call { func: u32, base: Slot },
    /// Calls through table `table`, checking the callee against module type
    /// `type_index`; the table index is in slot `index`, after the arguments.
    CallIndirect { type_index: u32, table: u32, base: Slot, index: Slot },
    ReturnCall { func: u32, base: Slot },
    ReturnCallIndirect { type_index: u32, table: u32, base: Slot, index: Slot },
    /// `select`: `dst = if cond != 0 { a } else { b }`.
    Select { dst: Slot, cond: Slot, a: Slot, b: Slot },
    /// `dst = (a >> shift) & mask` (unsigned: a bit-field extract).
    I32ShrUAndImm { dst: Slot, a: Slot, shift: u32, mask: u32 },
    /// `select` with a 32-bit constant first operand.
    SelectImmA { dst: Slot, cond: Slot, imm: u32, b: Slot },
    /// `select` with a 32-bit constant second operand.
    SelectImmB { dst: Slot, cond: Slot, a: Slot, imm: u32 },

    // Fused compare-and-branch (the hottest pair in loops).
    BrIfI32Eq { a: Slot, b: Slot, target: Pc },
    BrIfI32Ne { a: Slot, b: Slot, target: Pc },
    BrIfI32LtS { a: Slot, b: Slot, target: Pc },
    BrIfI32LtU { a: Slot, b: Slot, target: Pc },
    BrIfI32GtS { a: Slot, b: Slot, target: Pc },
    BrIfI32GtU { a: Slot, b: Slot, target: Pc },
    BrIfI32LeS { a: Slot, b: Slot, target: Pc },
    BrIfI32LeU { a: Slot, b: Slot, target: Pc },
    BrIfI32GeS { a: Slot, b: Slot, target: Pc },
    BrIfI32GeU { a: Slot, b: Slot, target: Pc },
    BrIfI32EqImm { a: Slot, imm: i32, target: Pc },
    BrIfI32NeImm { a: Slot, imm: i32, target: Pc },
    BrIfI32LtSImm { a: Slot, imm: i32, target: Pc },
    BrIfI32LtUImm { a: Slot, imm: i32, target: Pc },
    BrIfI32GtSImm { a: Slot, imm: i32, target: Pc },
    BrIfI32GtUImm { a: Slot, imm: i32, target: Pc },
    BrIfI32LeSImm { a: Slot, imm: i32, target: Pc },
    BrIfI32LeUImm { a: Slot, imm: i32, target: Pc },
    BrIfI32GeSImm { a: Slot, imm: i32, target: Pc },
    BrIfI32GeUImm { a: Slot, imm: i32, target: Pc },
    /// Jump if `a & b` is non-zero (a bit test).
    BrIfI32AndNez { a: Slot, b: Slot, target: Pc },
    BrIfI32AndEqz { a: Slot, b: Slot, target: Pc },
    BrIfI32AndImmNez { a: Slot, imm: i32, target: Pc },
    BrIfI32AndImmEqz { a: Slot, imm: i32, target: Pc },
    /// `dst = a + imm`, then jump if the sum is non-zero (a loop counter
    /// stepped and tested).
    BrIfI32AddImmNez { dst: Slot, a: Slot, imm: i32, target: Pc },
    /// `dst = a + imm`, then jump if the sum is zero.
    BrIfI32AddImmEqz { dst: Slot, a: Slot, imm: i32, target: Pc },
    /// `dst = src`, then jump if `cond` is non-zero (a loop's variables
    /// moved on before its back-edge).
    CopyBrIfNez { dst: Slot, src: Slot, cond: Slot, target: Pc },
    /// `dst = src`, then jump if `cond` is zero.
    CopyBrIfEqz { dst: Slot, src: Slot, cond: Slot, target: Pc },

    // Globals and references.
    GlobalGet { dst: Slot, global: u32 },
    GlobalSet { src: Slot, global: u32 },
    RefFunc { dst: Slot, func: u32 },

    // Memory 0 with a 32-bit offset (the common case).
    Load32 { dst: Slot, addr: Slot, offset: u32 },
    Load64 { dst: Slot, addr: Slot, offset: u32 },
    I32Load8S { dst: Slot, addr: Slot, offset: u32 },
    Load8U { dst: Slot, addr: Slot, offset: u32 },
    I32Load16S { dst: Slot, addr: Slot, offset: u32 },
    Load16U { dst: Slot, addr: Slot, offset: u32 },
    I64Load8S { dst: Slot, addr: Slot, offset: u32 },
    I64Load16S { dst: Slot, addr: Slot, offset: u32 },
    I64Load32S { dst: Slot, addr: Slot, offset: u32 },
    Store8 { addr: Slot, value: Slot, offset: u32 },
    Store16 { addr: Slot, value: Slot, offset: u32 },
    Store32 { addr: Slot, value: Slot, offset: u32 },
    Store64 { addr: Slot, value: Slot, offset: u32 },
    /// Any load on another memory or with a 64-bit offset; `ext` indexes
    /// [`CompiledFunc::mem_args`].
    LoadExt { dst: Slot, addr: Slot, ext: u32 },
    StoreExt { addr: Slot, value: Slot, ext: u32 },
    MemorySize { dst: Slot, memory: u32 },
    MemoryGrow { dst: Slot, delta: Slot, memory: u32 },
    /// Operands (destination, value, length) in the three slots from `base`.
    MemoryFill { base: Slot, memory: u32 },
    /// Operands (destination, source, length) from `base`.
    MemoryCopy { base: Slot, dst_memory: u32, src_memory: u32 },
    MemoryInit { base: Slot, memory: u32, segment: u32 },
    DataDrop { segment: u32 },

    // Tables.
    TableGet { dst: Slot, index: Slot, table: u32 },
    TableSet { index: Slot, value: Slot, table: u32 },
    TableSize { dst: Slot, table: u32 },
    /// Operands (init value, delta) from `base`; result to `base`.
    TableGrow { base: Slot, table: u32 },
    /// Operands (index, value, length) from `base`.
    TableFill { base: Slot, table: u32 },
    TableCopy { base: Slot, dst_table: u32, src_table: u32 },
    TableInit { base: Slot, table: u32, segment: u32 },
    ElemDrop { segment: u32 },

    // SIMD: `v128` values, each in two slots (see `simd`).
    Copy128 { dst: Slot, src: Slot },
    /// `dst = v128s[index]` (see [`CompiledFunc::v128s`]).
    V128Const { dst: Slot, index: u32 },
    Select128 { dst: Slot, cond: Slot, a: Slot, b: Slot },
    GlobalGet128 { dst: Slot, global: u32 },
    GlobalSet128 { src: Slot, global: u32 },
    /// `v128.load` / `v128.store` on memory 0 with a 32-bit offset.
    V128Load { dst: Slot, addr: Slot, offset: u32 },
    V128Store { addr: Slot, value: Slot, offset: u32 },
    /// A narrower load widened to a vector (extend, splat or zero; no lane
    /// load) on memory 0 with a 32-bit offset.
    V128LoadExt { dst: Slot, addr: Slot, offset: u32, op: simd::SimdMemOp },
    /// Any other SIMD load; `vec` is the vector a lane load updates; `ext`
    /// indexes [`CompiledFunc::simd_mem_args`].
    SimdLoad { dst: Slot, addr: Slot, vec: Slot, ext: u32 },
    SimdStore { addr: Slot, value: Slot, ext: u32 },
    /// Every other SIMD instruction: operands `a`, `b`, `c` as
    /// [`SimdOp::shape`] says.
    Simd { op: SimdOp, dst: Slot, a: Slot, b: Slot, c: u32 },

    }
    // `dst = a op b`.
    binary {
        I32Add, I32Sub, I32Mul, I32DivS, I32DivU, I32RemS, I32RemU, I32And, I32Or, I32Xor,
        I32Shl, I32ShrS, I32ShrU, I32Rotl, I32Rotr, I32Eq, I32Ne, I32LtS, I32LtU, I32GtS,
        I32GtU, I32LeS, I32LeU, I32GeS, I32GeU, I64Add, I64Sub, I64Mul, I64DivS, I64DivU,
        I64RemS, I64RemU, I64And, I64Or, I64Xor, I64Shl, I64ShrS, I64ShrU, I64Rotl, I64Rotr,
        I64Eq, I64Ne, I64LtS, I64LtU, I64GtS, I64GtU, I64LeS, I64LeU, I64GeS, I64GeU, F32Add,
        F32Sub, F32Mul, F32Div, F32Min, F32Max, F32Copysign, F32Eq, F32Ne, F32Lt, F32Gt, F32Le,
        F32Ge, F64Add, F64Sub, F64Mul, F64Div, F64Min, F64Max, F64Copysign, F64Eq, F64Ne, F64Lt,
        F64Gt, F64Le, F64Ge,
    }
    // `dst = op a` (conversions included; reinterpretations and
    // `i64.extend_i32_u` need no instruction: the slot bits are the same).
    unary {
        I32Clz, I32Ctz, I32Popcnt, I32Eqz, I64Clz, I64Ctz, I64Popcnt, I64Eqz, F32Abs, F32Neg,
        F32Ceil, F32Floor, F32Trunc, F32Nearest, F32Sqrt, F64Abs, F64Neg, F64Ceil, F64Floor,
        F64Trunc, F64Nearest, F64Sqrt, I32WrapI64, I32TruncF32S, I32TruncF32U, I32TruncF64S,
        I32TruncF64U, I64ExtendI32S, I64TruncF32S, I64TruncF32U, I64TruncF64S, I64TruncF64U,
        F32ConvertI32S, F32ConvertI32U, F32ConvertI64S, F32ConvertI64U, F32DemoteF64,
        F64ConvertI32S, F64ConvertI32U, F64ConvertI64S, F64ConvertI64U, F64PromoteF32,
        I32Extend8S, I32Extend16S, I64Extend8S, I64Extend16S, I64Extend32S, I32TruncSatF32S,
        I32TruncSatF32U, I32TruncSatF64S, I32TruncSatF64U, I64TruncSatF32S, I64TruncSatF32U,
        I64TruncSatF64S, I64TruncSatF64U,
    }
    // `dst = a op imm` (a constant right operand fused in).
    immediate {
        I32AddImm, I32MulImm, I32AndImm, I32OrImm, I32XorImm, I32ShlImm, I32ShrSImm, I32ShrUImm,
        I32EqImm, I32NeImm, I32LtSImm, I32LtUImm, I32GtSImm, I32GtUImm, I32LeSImm, I32LeUImm,
        I32GeSImm, I32GeUImm, I64AddImm, I64AndImm, I64ShlImm, I64ShrUImm,
    }
}

impl Instr {
    /// The target of a jump (see [`Instr::target_mut`]).
    pub fn target(&self) -> Option<Pc> {
        let mut instr = *self;
        instr.target_mut().copied()
    }

    /// The target of a jump (`None` for other instructions; the entries
    /// that follow a `br_table` count as jumps).
    pub fn target_mut(&mut self) -> Option<&mut Pc> {
        use Instr::*;
        match self {
            Br { target }
            | BrIfNez { target, .. }
            | BrIfEqz { target, .. }
            | BrTableTarget { target, .. }
            | BrIfI32Eq { target, .. }
            | BrIfI32Ne { target, .. }
            | BrIfI32LtS { target, .. }
            | BrIfI32LtU { target, .. }
            | BrIfI32GtS { target, .. }
            | BrIfI32GtU { target, .. }
            | BrIfI32LeS { target, .. }
            | BrIfI32LeU { target, .. }
            | BrIfI32GeS { target, .. }
            | BrIfI32GeU { target, .. }
            | BrIfI32EqImm { target, .. }
            | BrIfI32NeImm { target, .. }
            | BrIfI32LtSImm { target, .. }
            | BrIfI32LtUImm { target, .. }
            | BrIfI32GtSImm { target, .. }
            | BrIfI32GtUImm { target, .. }
            | BrIfI32LeSImm { target, .. }
            | BrIfI32LeUImm { target, .. }
            | BrIfI32GeSImm { target, .. }
            | BrIfI32GeUImm { target, .. }
            | BrIfI32AndNez { target, .. }
            | BrIfI32AndEqz { target, .. }
            | BrIfI32AndImmNez { target, .. }
            | BrIfI32AndImmEqz { target, .. }
            | BrIfI32AddImmNez { target, .. }
            | BrIfI32AddImmEqz { target, .. }
            | CopyBrIfNez { target, .. }
            | CopyBrIfEqz { target, .. } => Some(target),
            _ => None,
        }
    }
}

/// How a [`Instr::LoadExt`] / [`Instr::StoreExt`] accesses memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemOp {
    Load32,
    Load64,
    I32Load8S,
    Load8U,
    I32Load16S,
    Load16U,
    I64Load8S,
    I64Load16S,
    I64Load32S,
    Store8,
    Store16,
    Store32,
    Store64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemArg {
    pub op: MemOp,
    pub memory: u32,
    pub offset: u64,
}

/// A translated function.
#[derive(Debug)]
pub struct CompiledFunc {
    pub code: Box<[Instr]>,
    /// Slots the parameters take.
    pub num_params: u32,
    /// Slots of the locals after the parameters, zeroed on entry.
    pub num_locals: u32,
    /// Slots the frame needs (parameters, locals and the deepest stack).
    pub frame_size: u32,
    pub mem_args: Box<[MemArg]>,
    /// `v128` immediates: constants and shuffle masks.
    pub v128s: Box<[u128]>,
    pub simd_mem_args: Box<[simd::SimdMemArg]>,
    /// Whether memory 0 is a memory64 (its accesses need wider bounds checks).
    pub memory0_is_64: bool,
    /// The module function index, for trap messages.
    pub func_index: u32,
    /// Loops where compiled code can take over (on-stack replacement):
    /// (pc of the loop header, the loop's ordinal among the function's
    /// `loop` operators). Reached with an empty operand stack and taking no
    /// parameters, so the locals in slots `0..num_params + num_locals` are
    /// the whole state.
    pub osr_points: Box<[(u32, u32)]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_are_24_bytes() {
        assert_eq!(std::mem::size_of::<Instr>(), 24);
    }
}
