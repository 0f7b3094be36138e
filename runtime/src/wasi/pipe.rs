//! In-memory stdio: the embedder keeps a clone of a pipe and feeds or reads
//! it before and after the guest runs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave a byte buffer inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes the guest reads as its stdin. Reads past the end see end of file.
#[derive(Debug, Clone, Default)]
pub struct InputPipe(Arc<Mutex<VecDeque<u8>>>);

impl InputPipe {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        InputPipe(Arc::new(Mutex::new(bytes.into().into())))
    }

    /// Appends more input.
    pub fn push(&self, bytes: &[u8]) {
        lock(&self.0).extend(bytes);
    }

    /// Bytes not yet read.
    pub fn available(&self) -> usize {
        lock(&self.0).len()
    }

    pub(crate) fn read(&self, buf: &mut [u8]) -> usize {
        let mut q = lock(&self.0);
        let n = buf.len().min(q.len());
        for (dst, src) in buf.iter_mut().zip(q.drain(..n)) {
            *dst = src;
        }
        n
    }
}

/// Collects what the guest writes to stdout or stderr.
#[derive(Debug, Clone, Default)]
pub struct OutputPipe(Arc<Mutex<Vec<u8>>>);

impl OutputPipe {
    pub fn new() -> Self {
        OutputPipe::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.0).clone()
    }

    /// Everything written so far, leaving the pipe empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *lock(&self.0))
    }

    pub(crate) fn write(&self, bufs: &[&[u8]]) -> usize {
        let mut out = lock(&self.0);
        bufs.iter()
            .map(|b| {
                out.extend_from_slice(b);
                b.len()
            })
            .sum()
    }
}
