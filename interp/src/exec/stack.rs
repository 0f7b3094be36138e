//! The value stack: address space for the whole limit, reserved at once,
//! whose pages the kernel commits only as deep as calls reach. (A `Vec` of
//! the limit asked the allocator for all of it: a limit of 100 GB aborted
//! the process.)

use std::ptr::NonNull;

/// A value stack of `len` zeroed slots.
pub(crate) struct ValueStack {
    base: NonNull<u64>,
    len: usize,
}

impl ValueStack {
    /// Reserves `len` slots, or `None` when the host has no room for them.
    pub(crate) fn new(len: usize) -> Option<Self> {
        let bytes = len.checked_mul(size_of::<u64>())?.max(1);
        // SAFETY: a fresh anonymous mapping aliases nothing. NORESERVE: only
        // the pages touched count against the host's memory.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                bytes,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
            )
            .ok()?
        };
        Some(ValueStack {
            base: NonNull::new(ptr.cast())?,
            len,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u64] {
        // SAFETY: the mapping holds `len` readable, writable, initialised
        // (zero-filled) slots, owned by `self`.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.len) }
    }
}

impl Drop for ValueStack {
    fn drop(&mut self) {
        let bytes = (self.len * size_of::<u64>()).max(1);
        // SAFETY: the mapping was made by `new` with this size and nothing
        // borrows it any more.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), bytes) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_stack_is_zeroed_and_writable_at_both_ends() {
        let mut stack = ValueStack::new(1 << 27).unwrap();
        let slots = stack.as_mut_slice();
        assert_eq!((slots[0], slots[slots.len() - 1]), (0, 0));
        slots[0] = 1;
        *slots.last_mut().unwrap() = 2;
        assert_eq!(stack.len(), 1 << 27);
    }
}
