//! The executable form of translated code: each instruction is the address
//! of its handler followed by its operands (threaded code).

use super::Machine;
use crate::code::MemArg;
use crate::code::simd::SimdMemArg;

/// What every handler looks like: the current instruction, the frame, the
/// cached memory 0 (base and length) and the machine. Six arguments or
/// fewer, all in registers, so a handler's tail call to the next one
/// compiles to a jump.
pub type Handler = for<'m, 's> unsafe extern "C" fn(
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    len: u64,
    acc: u64,
    m: &'m mut Machine<'s>,
) -> Exit;

/// One instruction: a handler and up to four 32-bit operands (`c` and `d`
/// together hold 64-bit immediates).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Op {
    pub handler: Handler,
    pub a: u32,
    pub b: u32,
    pub c: u32,
    pub d: u32,
}

impl Op {
    pub fn new(handler: Handler, a: u32, b: u32, c: u32) -> Op {
        Op {
            handler,
            a,
            b,
            c,
            d: 0,
        }
    }

    pub fn wide(handler: Handler, a: u32, value: u64) -> Op {
        Op {
            handler,
            a,
            b: 0,
            c: value as u32,
            d: (value >> 32) as u32,
        }
    }

    #[inline(always)]
    pub fn imm64(&self) -> u64 {
        self.c as u64 | (self.d as u64) << 32
    }
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Op({}, {}, {}, {})", self.a, self.b, self.c, self.d)
    }
}

/// How a handler leaves the dispatch chain.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Loop dispatch only: continue from `Machine::resume`.
    #[cfg_attr(wamr_tail_dispatch, allow(dead_code))]
    Continue,
    /// The entry function returned.
    Done,
    /// A trap, recorded in the machine.
    Trap,
}

/// A function ready to run.
#[derive(Debug)]
pub struct Function {
    pub ops: Box<[Op]>,
    pub num_params: u32,
    pub num_locals: u32,
    pub frame_size: u32,
    pub mem_args: Box<[MemArg]>,
    /// `v128` constants and shuffle masks.
    pub v128s: Box<[u128]>,
    pub simd_mem_args: Box<[SimdMemArg]>,
    pub func_index: u32,
    /// (pc, loop ordinal) of the loops where native code may take over.
    pub osr_points: Box<[(u32, u32)]>,
}
