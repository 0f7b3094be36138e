//! The plain host functions modules may import (`host.*`), one definition
//! for every engine. Each keeps a call counter in its result, so a host
//! call that an engine skips or repeats changes what the module sees.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Host state shared by the functions of one instance.
#[derive(Debug, Clone, Default)]
pub struct HostState(Arc<AtomicU32>);

impl HostState {
    fn tick(&self, by: u32) -> u32 {
        self.0.fetch_add(by, Ordering::Relaxed)
    }

    pub fn mix(&self, x: i32) -> i32 {
        x.wrapping_mul(0x9e37_79b1_u32 as i32) ^ self.tick(1) as i32
    }

    pub fn mix64(&self, x: i64, y: i32) -> i64 {
        x.rotate_left(y as u32 & 63) ^ i64::from(self.tick(1))
    }

    /// Floats are ignored: their NaN payloads are not comparable.
    pub fn sink(&self, a: i32, b: i64, _: f32, _: f64) {
        self.tick(1 + (a as u32 ^ b as u32) % 7);
    }
}
