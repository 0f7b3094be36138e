//! The engines of the differential target: wamr-rs in each tier, and wasmi
//! as the independent reference.

pub mod wamr;
mod wasi_ref;
pub mod wasmi;
