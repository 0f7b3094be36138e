//! Linear memory: one object per memory, read by every tier through its
//! [`VMMemory`] (base, current length), with one set of limits (contract 2).
//!
//! The bytes live in an anonymous mapping reserved up front for the effective
//! maximum (at most 4 GiB), or for memory32 on hosts with guard regions
//! the whole reach of a memory32 address (`guard::MEMORY32_RESERVATION`);
//! growing within the reservation only changes page protection, so the
//! base stays put. Beyond the reservation (large memory64
//! memories) growth moves to a bigger mapping and the base changes, which is
//! why every tier re-reads the base after anything that may grow memory.

use std::ptr::NonNull;

use crate::error::{Error, Result};
use crate::types::{IndexType, MemoryType};
use crate::vmctx::VMMemory;

pub const PAGE_SIZE: u64 = 65536;
/// memory32 can address 2^32 bytes.
pub const MAX_PAGES_32: u64 = 1 << 16;
/// memory64's page-count limit: 2^64 bytes / 64 KiB.
pub const MAX_PAGES_64: u64 = 1 << 48;
/// The most address space reserved for one memory up front.
const MAX_RESERVATION: u64 = 4 << 30;

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
    /// The effective maximum of contract 2.
    pub fn effective_max_pages(ty: &MemoryType, page_limit: Option<u64>) -> u64 {
        let mut max = ty.index_max_pages();
        if let Some(declared) = ty.limits.max {
            max = max.min(declared);
        }
        if let Some(limit) = page_limit {
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
            let why = match page_limit {
                Some(limit) if limit < ty.index_max_pages() && limit == max_pages => {
                    format!("the memory page limit of {limit} pages")
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

    fn move_to_larger_mapping(&mut self, needed: usize) -> bool {
        let want = needed.max(self.reserved.saturating_mul(2));
        let cap = usize::try_from(self.max_pages.saturating_mul(PAGE_SIZE)).unwrap_or(usize::MAX);
        let reserve = want.min(cap).max(needed);
        let Some(new_base) = reserve_mapping(reserve) else {
            return false;
        };
        let len = self.vm.length as usize;
        // SAFETY: the new reservation is ours; make its first `len` bytes
        // accessible, copy, then release the old mapping, which nothing else
        // refers to once `vm.base` is updated.
        unsafe {
            if len > 0 {
                if rustix::mm::mprotect(
                    new_base.as_ptr().cast(),
                    len,
                    rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE,
                )
                .is_err()
                {
                    release(new_base.as_ptr(), reserve);
                    return false;
                }
                std::ptr::copy_nonoverlapping(self.vm.base, new_base.as_ptr(), len);
            }
            release(self.vm.base, self.reserved);
        }
        self.vm.base = new_base.as_ptr();
        self.reserved = reserve;
        true
    }
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
        let mut m = MemoryInstance::new(ty(IndexType::I64, 1, None), None).unwrap();
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
    fn memory64_growth_past_reservation_keeps_contents() {
        // A memory64 allowed to exceed the 4 GiB reservation must move and keep its bytes.
        let mut m = MemoryInstance::new(ty(IndexType::I64, 1, None), None).unwrap();
        m.write(10, b"kept").unwrap();
        m.reserved = PAGE_SIZE as usize; // pretend the reservation is full
        assert_eq!(m.grow(2), Some(1));
        let mut buf = [0u8; 4];
        m.read(10, &mut buf).unwrap();
        assert_eq!(&buf, b"kept");
        assert_eq!(m.data()[3 * PAGE_SIZE as usize - 1], 0);
    }

    #[test]
    fn zero_page_memory_is_usable() {
        let mut m = MemoryInstance::new(ty(IndexType::I32, 0, Some(0)), None).unwrap();
        assert!(m.is_empty());
        assert_eq!(m.grow(1), None);
        assert!(m.read(0, &mut [0u8; 1]).is_none());
    }
}
