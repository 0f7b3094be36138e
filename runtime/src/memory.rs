//! Linear memory: one object per memory, read by every tier through its
//! [`VMMemory`] (base, current length), with one set of limits (contract 2).
//!
//! The bytes live in an anonymous mapping that reserves address space up
//! front: for memory32 on hosts with guard regions the whole reach of a
//! memory32 address (`guard::MEMORY32_RESERVATION`), otherwise the
//! effective maximum, up to `MAX_RESERVATION`. Only the current length is
//! accessible, and growing within the reservation only changes page
//! protection: the base stays put and no page is touched, so the host
//! commits only what the guest writes. A memory64 allowed beyond the
//! reservation moves to a bigger one when it outgrows it (on Linux by
//! remapping its pages, without copying them), and the base changes,
//! which is why every tier re-reads the base after anything that may grow
//! memory.

use std::ptr::NonNull;

use crate::config::DEFAULT_MEMORY64_PAGE_LIMIT;
use crate::error::{Error, Result};
use crate::types::{IndexType, MemoryType};
use crate::vmctx::VMMemory;

pub const PAGE_SIZE: u64 = 65536;
/// memory32 can address 2^32 bytes.
pub const MAX_PAGES_32: u64 = 1 << 16;
/// memory64's page-count limit: 2^64 bytes / 64 KiB.
pub const MAX_PAGES_64: u64 = 1 << 48;
/// The most address space reserved for one memory up front: a memory64
/// within the default limit never moves. Reserving costs no memory.
const MAX_RESERVATION: u64 = DEFAULT_MEMORY64_PAGE_LIMIT * PAGE_SIZE;

/// A linear memory instance.
#[repr(C)]
#[derive(Debug)]
pub struct MemoryInstance {
    /// Must stay the first field: builtins receive `*mut VMMemory` from the
    /// VM context and recover the instance from it.
    vm: VMMemory,
    ty: MemoryType,
    /// Least of the declared max, the index type's max and the embedder's limit.
    max_pages: u64,
    reserved: usize,
}

// SAFETY: the mapping is owned exclusively by this instance; access is
// synchronised by the owner of the store.
unsafe impl Send for MemoryInstance {}

impl MemoryInstance {
    /// The embedder's cap for a memory of `index` type: `page_limit`
    /// (`Config::memory_page_limit`) when set, else none for memory32 and
    /// [`DEFAULT_MEMORY64_PAGE_LIMIT`] for memory64.
    pub fn embedder_limit(index: IndexType, page_limit: Option<u64>) -> Option<u64> {
        match index {
            IndexType::I32 => page_limit,
            IndexType::I64 => Some(page_limit.unwrap_or(DEFAULT_MEMORY64_PAGE_LIMIT)),
        }
    }

    /// The effective maximum of contract 2: the least of the declared
    /// maximum, the index type's and the embedder's (see [`Self::embedder_limit`]).
    pub fn effective_max_pages(ty: &MemoryType, page_limit: Option<u64>) -> u64 {
        let mut max = ty.index_max_pages();
        if let Some(declared) = ty.limits.max {
            max = max.min(declared);
        }
        if let Some(limit) = Self::embedder_limit(ty.index, page_limit) {
            max = max.min(limit);
        }
        max
    }

    /// Creates a memory of `ty.limits.min` zeroed pages. Fails, naming the
    /// limit, when the minimum exceeds the effective maximum.
    pub fn new(ty: MemoryType, page_limit: Option<u64>) -> Result<Self> {
        let max_pages = Self::effective_max_pages(&ty, page_limit);
        let min = ty.limits.min;
        if min > max_pages {
            let why = match Self::embedder_limit(ty.index, page_limit) {
                Some(limit) if limit < ty.index_max_pages() && limit == max_pages => {
                    if page_limit.is_some() {
                        format!("the memory page limit of {limit} pages")
                    } else {
                        format!(
                            "the default memory64 limit of {limit} pages (raise it with the memory page limit)"
                        )
                    }
                }
                _ => format!("the maximum of {max_pages} pages"),
            };
            return Err(Error::Instantiation(format!(
                "memory minimum of {min} pages exceeds {why}"
            )));
        }
        let max_bytes = max_pages.saturating_mul(PAGE_SIZE);
        let min_bytes = min * PAGE_SIZE;
        let reserve = if ty.index == IndexType::I32 && crate::guard::MEMORY32_GUARD {
            crate::guard::MEMORY32_RESERVATION
        } else {
            max_bytes.min(MAX_RESERVATION).max(min_bytes)
        };
        Self::with_reservation(ty, max_pages, reserve)
    }

    /// A memory of `ty.limits.min` pages in a fresh reservation of `reserve` bytes.
    fn with_reservation(ty: MemoryType, max_pages: u64, reserve: u64) -> Result<Self> {
        let min = ty.limits.min;
        let min_bytes = min * PAGE_SIZE;
        let reserve = usize::try_from(reserve).map_err(|_| too_big(min))?;
        let base = reserve_mapping(reserve).ok_or_else(|| too_big(min))?;
        let mut mem = MemoryInstance {
            vm: VMMemory {
                base: base.as_ptr(),
                length: 0,
            },
            ty,
            max_pages,
            reserved: reserve,
        };
        if !mem.commit(min_bytes as usize) {
            return Err(too_big(min));
        }
        mem.vm.length = min_bytes;
        Ok(mem)
    }

    pub fn ty(&self) -> MemoryType {
        self.ty
    }

    pub fn index_type(&self) -> IndexType {
        self.ty.index
    }

    pub fn max_pages(&self) -> u64 {
        self.max_pages
    }

    pub fn pages(&self) -> u64 {
        self.vm.length / PAGE_SIZE
    }

    pub fn len(&self) -> u64 {
        self.vm.length
    }

    pub fn is_empty(&self) -> bool {
        self.vm.length == 0
    }

    /// The VM-context view of this memory (stable address while the instance lives).
    pub fn vm(&mut self) -> *mut VMMemory {
        &mut self.vm
    }

    /// Grows by `delta` pages; returns the old page count, or `None` (wasm's
    /// -1) past the effective maximum or when the host is out of memory.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        let new_bytes = usize::try_from(new.checked_mul(PAGE_SIZE)?).ok()?;
        if new_bytes > self.reserved && !self.move_to_larger_mapping(new_bytes) {
            return None;
        }
        if !self.commit(new_bytes) {
            return None;
        }
        self.vm.length = new_bytes as u64;
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: [base, base + length) is mapped read/write and owned by self.
        unsafe { std::slice::from_raw_parts(self.vm.base, self.vm.length as usize) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.vm.base, self.vm.length as usize) }
    }

    /// The byte range `[addr, addr + len)`, or `None` when out of bounds.
    pub fn range(&self, addr: u64, len: u64) -> Option<std::ops::Range<usize>> {
        let end = addr.checked_add(len)?;
        (end <= self.vm.length).then_some(addr as usize..end as usize)
    }

    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Option<()> {
        let r = self.range(addr, buf.len() as u64)?;
        buf.copy_from_slice(&self.data()[r]);
        Some(())
    }

    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Option<()> {
        let r = self.range(addr, bytes.len() as u64)?;
        self.data_mut()[r].copy_from_slice(bytes);
        Some(())
    }

    /// Makes the first `bytes` of the reservation readable and writable.
    fn commit(&mut self, bytes: usize) -> bool {
        let from = self.vm.length as usize;
        if bytes <= from {
            return true;
        }
        // SAFETY: [base + from, base + bytes) lies inside our reservation.
        unsafe {
            rustix::mm::mprotect(
                self.vm.base.add(from).cast(),
                bytes - from,
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE,
            )
            .is_ok()
        }
    }

    /// Moves the memory to a reservation of at least `needed` bytes
    /// (doubling, up to the effective maximum), keeping its contents.
    fn move_to_larger_mapping(&mut self, needed: usize) -> bool {
        let want = needed.max(self.reserved.saturating_mul(2));
        let cap = usize::try_from(self.max_pages.saturating_mul(PAGE_SIZE)).unwrap_or(usize::MAX);
        let reserve = want.min(cap).max(needed);
        let Some(new_base) = reserve_mapping(reserve) else {
            return false;
        };
        let len = self.vm.length as usize;
        // SAFETY: the old mapping is ours with `reserved` bytes, of which
        // the first `len` are accessible; the new reservation is fresh and
        // at least `len` long. Nothing else refers to the old mapping once
        // `vm.base` is updated.
        if !unsafe { relocate(self.vm.base, self.reserved, len, new_base.as_ptr()) } {
            // SAFETY: the new reservation is ours and unused.
            unsafe { release(new_base.as_ptr(), reserve) };
            return false;
        }
        self.vm.base = new_base.as_ptr();
        self.reserved = reserve;
        true
    }
}

/// Moves the `len` accessible bytes of the mapping `old` (`old_reserved`
/// bytes) to the start of the fresh reservation `new`, and releases `old`.
/// On failure `old` is left as it was.
///
/// # Safety
/// `old`/`old_reserved` is a mapping from `reserve_mapping` whose first
/// `len` bytes are accessible; `new` is a reservation of at least `len`
/// bytes that nothing uses yet.
unsafe fn relocate(old: *mut u8, old_reserved: usize, len: usize, new: *mut u8) -> bool {
    #[cfg(target_os = "linux")]
    if len > 0 {
        // Remapping moves the pages themselves: nothing is copied, and pages
        // the guest never touched stay uncommitted. (It fails if the
        // accessible bytes are not one mapping; copying still works then.)
        // SAFETY: both ranges are ours (the caller's contract); the target
        // range of the new reservation is replaced by the moved pages.
        let moved = unsafe {
            rustix::mm::mremap_fixed(
                old.cast(),
                len,
                len,
                rustix::mm::MremapFlags::MAYMOVE,
                new.cast(),
            )
        };
        if moved.is_ok() {
            // SAFETY: the rest of the old reservation is still ours. (Not
            // the moved part: that address range may belong to someone else now.)
            unsafe { release(old.add(len), old_reserved - len) };
            return true;
        }
    }
    // SAFETY: the caller's contract: `new` has `len` bytes to make
    // accessible, `old` has `len` readable bytes.
    unsafe {
        if len > 0 {
            let rw = rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE;
            if rustix::mm::mprotect(new.cast(), len, rw).is_err() {
                return false;
            }
            std::ptr::copy_nonoverlapping(old, new, len);
        }
        release(old, old_reserved);
    }
    true
}

impl Drop for MemoryInstance {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `reserve_mapping` with this size.
        unsafe { release(self.vm.base, self.reserved) }
    }
}

fn too_big(pages: u64) -> Error {
    Error::Instantiation(format!(
        "could not allocate a memory of {pages} pages on this host"
    ))
}

/// Reserves `len` bytes of inaccessible address space (nothing for `len == 0`).
fn reserve_mapping(len: usize) -> Option<NonNull<u8>> {
    if len == 0 {
        return Some(NonNull::dangling());
    }
    // SAFETY: a fresh anonymous mapping aliases nothing.
    let ptr = unsafe {
        rustix::mm::mmap_anonymous(
            std::ptr::null_mut(),
            len,
            rustix::mm::ProtFlags::empty(),
            rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
        )
        .ok()?
    };
    NonNull::new(ptr.cast())
}

/// # Safety
/// `base`/`len` must describe a mapping from `reserve_mapping`, no longer used.
unsafe fn release(base: *mut u8, len: usize) {
    if len > 0 {
        // SAFETY: guaranteed by the caller.
        let _ = unsafe { rustix::mm::munmap(base.cast(), len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Limits;

    fn ty(index: IndexType, min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            index,
            limits: Limits { min, max },
            shared: false,
        }
    }

    #[test]
    fn minimum_over_page_limit_names_the_limit() {
        let err = MemoryInstance::new(ty(IndexType::I32, 100, None), Some(50)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("100 pages"), "{msg}");
        assert!(msg.contains("page limit of 50 pages"), "{msg}");
    }

    #[test]
    fn grow_stops_at_page_limit() {
        let mut m = MemoryInstance::new(ty(IndexType::I32, 1, None), Some(4)).unwrap();
        assert_eq!(m.grow(3), Some(1));
        assert_eq!(m.pages(), 4);
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 4);
        assert_eq!(m.grow(0), Some(4));
    }

    #[test]
    fn grow_honours_declared_max_and_index_max() {
        let mut m = MemoryInstance::new(ty(IndexType::I32, 0, Some(2)), None).unwrap();
        assert_eq!(m.grow(3), None);
        assert_eq!(m.grow(2), Some(0));
        let mut m = MemoryInstance::new(ty(IndexType::I32, 0, None), None).unwrap();
        assert_eq!(m.max_pages(), MAX_PAGES_32);
        assert_eq!(m.grow(MAX_PAGES_32 + 1), None);
    }

    #[test]
    fn memory64_limits_use_u64_without_overflow() {
        let mut m = MemoryInstance::new(ty(IndexType::I64, 1, None), Some(MAX_PAGES_64)).unwrap();
        assert_eq!(m.max_pages(), MAX_PAGES_64);
        assert_eq!(m.grow(u64::MAX), None);
        assert_eq!(m.grow(MAX_PAGES_64), None);
        assert_eq!(m.pages(), 1);
        let limited = MemoryInstance::new(ty(IndexType::I64, 0, Some(u64::MAX >> 16)), Some(7));
        assert_eq!(limited.unwrap().max_pages(), 7);
        assert!(m.range(u64::MAX, 2).is_none());
        assert!(m.range(PAGE_SIZE - 1, 1).is_some());
        assert!(m.range(PAGE_SIZE, 1).is_none());
    }

    #[test]
    fn memory64_has_a_default_limit_that_the_page_limit_overrides() {
        let m = MemoryInstance::new(ty(IndexType::I64, 1, None), None).unwrap();
        assert_eq!(m.max_pages(), DEFAULT_MEMORY64_PAGE_LIMIT);
        let raised = MemoryInstance::new(ty(IndexType::I64, 1, None), Some(1 << 20)).unwrap();
        assert_eq!(raised.max_pages(), 1 << 20);
        // memory32 keeps its index maximum.
        let m = MemoryInstance::new(ty(IndexType::I32, 1, None), None).unwrap();
        assert_eq!(m.max_pages(), MAX_PAGES_32);
        let over = DEFAULT_MEMORY64_PAGE_LIMIT + 1;
        let err = MemoryInstance::new(ty(IndexType::I64, over, None), None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("default memory64 limit"), "{msg}");
    }

    #[test]
    fn memory64_growth_past_reservation_keeps_contents() {
        // A memory64 allowed beyond its reservation moves and keeps its bytes.
        let ty = ty(IndexType::I64, 1, None);
        let mut m = MemoryInstance::with_reservation(ty, 64, PAGE_SIZE).unwrap();
        m.write(10, b"kept").unwrap();
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.reserved, 3 * PAGE_SIZE as usize);
        m.write(3 * PAGE_SIZE - 4, b"last").unwrap();
        assert_eq!(m.grow(5), Some(3));
        assert_eq!(m.reserved, 8 * PAGE_SIZE as usize);
        let mut buf = [0u8; 4];
        m.read(10, &mut buf).unwrap();
        assert_eq!(&buf, b"kept");
        m.read(3 * PAGE_SIZE - 4, &mut buf).unwrap();
        assert_eq!(&buf, b"last");
        assert_eq!(m.data()[8 * PAGE_SIZE as usize - 1], 0);
    }

    #[test]
    fn zero_page_memory_is_usable() {
        let mut m = MemoryInstance::new(ty(IndexType::I32, 0, Some(0)), None).unwrap();
        assert!(m.is_empty());
        assert_eq!(m.grow(1), None);
        assert!(m.read(0, &mut [0u8; 1]).is_none());
    }
}
