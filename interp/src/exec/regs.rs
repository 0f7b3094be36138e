//! Access to the current frame's slots and to linear memory 0.

use wamr_runtime::TrapKind;

use super::lanes::Lanes;
use crate::code::Slot;

/// The current frame's slots.
///
/// Invariant (what makes `get`/`set` sound): the translator only emits slot
/// indices below the function's `frame_size`, and a frame is entered only
/// after `push_frame` checked that `frame_size` slots from its base lie
/// within the value stack.
#[derive(Clone, Copy)]
pub struct Regs(pub *mut u64);

impl Regs {
    #[inline(always)]
    pub fn get(self, s: Slot) -> u64 {
        // SAFETY: see the type's invariant.
        unsafe { *self.0.add(s as usize) }
    }
    /// Writes `v` to `s` and returns it: results also go on in the
    /// accumulator (see [`Acc`]).
    #[inline(always)]
    pub fn set(self, s: Slot, v: u64) -> u64 {
        // SAFETY: see the type's invariant.
        unsafe { *self.0.add(s as usize) = v };
        v
    }
    #[inline(always)]
    pub fn i32(self, s: Slot) -> i32 {
        self.get(s) as u32 as i32
    }
    #[inline(always)]
    pub fn u32(self, s: Slot) -> u32 {
        self.get(s) as u32
    }
    #[inline(always)]
    pub fn i64(self, s: Slot) -> i64 {
        self.get(s) as i64
    }
    #[inline(always)]
    pub fn f32(self, s: Slot) -> f32 {
        f32::from_bits(self.get(s) as u32)
    }
    #[inline(always)]
    pub fn f64(self, s: Slot) -> f64 {
        f64::from_bits(self.get(s))
    }
    /// i32 results are stored zero-extended.
    #[inline(always)]
    pub fn set_u32(self, s: Slot, v: u32) -> u64 {
        self.set(s, v as u64)
    }
    #[inline(always)]
    pub fn set_i32(self, s: Slot, v: i32) -> u64 {
        self.set(s, v as u32 as u64)
    }
    #[inline(always)]
    pub fn set_bool(self, s: Slot, v: bool) -> u64 {
        self.set(s, v as u64)
    }
    #[inline(always)]
    pub fn set_f32(self, s: Slot, v: f32) -> u64 {
        self.set(s, v.to_bits() as u64)
    }
    #[inline(always)]
    pub fn set_f64(self, s: Slot, v: f64) -> u64 {
        self.set(s, v.to_bits())
    }
    /// A `v128` in slots `s` (low half) and `s + 1` (the slot contract).
    #[inline(always)]
    pub fn v128(self, s: Slot) -> u128 {
        self.get(s) as u128 | (self.get(s + 1) as u128) << 64
    }
    #[inline(always)]
    pub fn set_v128(self, s: Slot, v: u128) {
        self.set(s, v as u64);
        self.set(s + 1, (v >> 64) as u64);
    }
    /// The `v128` in slots `s` and `s + 1` as lanes. On a little-endian
    /// host the two slots hold the vector's bytes in lane order, so the
    /// lanes are read in place, in one vector load, rather than assembled
    /// from two integers (which LLVM turns into byte shifts).
    #[inline(always)]
    pub fn lanes<T: Lanes>(self, s: Slot) -> T {
        const { assert!(size_of::<T>() == 16) };
        if cfg!(target_endian = "little") {
            // SAFETY: slots `s` and `s + 1` lie in the frame (the type's
            // invariant), 16 bytes, and every bit pattern is a valid `T`
            // (arrays of integers or floats, or `u128`).
            unsafe { std::ptr::read_unaligned(self.0.add(s as usize).cast::<T>()) }
        } else {
            T::from_v128(self.v128(s))
        }
    }
    /// Writes lanes as the `v128` in slots `s` and `s + 1` (see [`Regs::lanes`]).
    #[inline(always)]
    pub fn set_lanes<T: Lanes>(self, s: Slot, v: T) {
        const { assert!(size_of::<T>() == 16) };
        if cfg!(target_endian = "little") {
            // SAFETY: as in `lanes`.
            unsafe { std::ptr::write_unaligned(self.0.add(s as usize).cast::<T>(), v) }
        } else {
            self.set_v128(s, v.to_v128())
        }
    }
}

/// The accumulator: the result of the op just executed, which handlers
/// pass to the next one in a register besides writing it to its slot. An
/// op that reads the previous op's result takes it from here (an `acc`
/// variant, chosen by `lower`), so a chain of dependent ops does not wait
/// for each value's round trip through memory. Readers mirror [`Regs`]'.
#[derive(Clone, Copy)]
pub struct Acc(pub u64);

impl Acc {
    #[inline(always)]
    pub fn get(self) -> u64 {
        self.0
    }
    #[inline(always)]
    pub fn i32(self) -> i32 {
        self.0 as u32 as i32
    }
    #[inline(always)]
    pub fn u32(self) -> u32 {
        self.0 as u32
    }
    #[inline(always)]
    pub fn i64(self) -> i64 {
        self.0 as i64
    }
    #[inline(always)]
    pub fn f32(self) -> f32 {
        f32::from_bits(self.0 as u32)
    }
    #[inline(always)]
    pub fn f64(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// A view of a linear memory: base and accessible length. Memory 0's view
/// travels with the dispatch and is refreshed wherever it may change (calls,
/// returns, `memory.grow`).
#[derive(Clone, Copy)]
pub struct Mem {
    pub base: *mut u8,
    pub len: u64,
}

impl Mem {
    pub const EMPTY: Mem = Mem {
        base: std::ptr::NonNull::dangling().as_ptr(),
        len: 0,
    };

    /// `ptr` for memory32: the address and offset are below 2^32, so their
    /// sum with the size cannot overflow u64.
    #[inline(always)]
    pub fn ptr32(self, addr: u64, offset: u32, size: u32) -> Option<*mut u8> {
        let ea = addr + offset as u64;
        if ea + size as u64 <= self.len {
            // SAFETY: [ea, ea + size) lies within the accessible memory.
            Some(unsafe { self.base.add(ea as usize) })
        } else {
            None
        }
    }

    /// The address of `size` bytes at `addr + offset` for the common case
    /// of a 32-bit offset. The sum is formed in u128, so no memory64
    /// address can wrap around.
    #[inline(always)]
    pub fn ptr(self, addr: u64, offset: u32, size: u32) -> Option<*mut u8> {
        let end = addr as u128 + offset as u128 + size as u128;
        if end <= self.len as u128 {
            // SAFETY: [addr + offset, end) lies within the accessible memory.
            Some(unsafe { self.base.add(addr as usize + offset as usize) })
        } else {
            None
        }
    }

    /// The address of `size` bytes at `addr + offset`, bounds-checked in
    /// u64 arithmetic (memory64 addresses may overflow).
    #[inline(always)]
    pub fn at(self, addr: u64, offset: u64, size: u64) -> Result<*mut u8, TrapKind> {
        match addr.checked_add(offset) {
            Some(ea) if self.len >= size && ea <= self.len - size => {
                // SAFETY: [ea, ea + size) lies within the accessible memory.
                Ok(unsafe { self.base.add(ea as usize) })
            }
            _ => Err(TrapKind::MemoryOutOfBounds),
        }
    }

    #[inline(always)]
    pub fn load<const N: usize>(self, addr: u64, offset: u64) -> Result<[u8; N], TrapKind> {
        let p = self.at(addr, offset, N as u64)?;
        // SAFETY: `at` checked the range; wasm accesses may be unaligned.
        Ok(unsafe { std::ptr::read_unaligned(p as *const [u8; N]) })
    }

    #[inline(always)]
    pub fn store<const N: usize>(
        self,
        addr: u64,
        offset: u64,
        bytes: [u8; N],
    ) -> Result<(), TrapKind> {
        let p = self.at(addr, offset, N as u64)?;
        // SAFETY: as in `load`.
        unsafe { std::ptr::write_unaligned(p as *mut [u8; N], bytes) };
        Ok(())
    }
}
