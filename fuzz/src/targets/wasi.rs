//! The WASI target.
use crate::outcome::Outcome;
pub fn input(_seed: u64) -> Result<Vec<u8>, String> {
    Err("todo".into())
}
pub fn check(_: &[u8], _: u64) -> Outcome {
    Outcome::Pass
}
