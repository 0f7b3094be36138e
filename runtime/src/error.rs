//! The runtime's error type: every failure short of a trap while running code.

use crate::config::ConfigError;
use crate::trap::Trap;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a well-formed wasm binary.
    #[error("malformed module: {0}")]
    Malformed(String),
    /// Well-formed, but rejected by validation.
    #[error("invalid module: {0}")]
    Invalid(String),
    /// Valid wasm that uses something no tier implements yet.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// An import could not be satisfied.
    #[error("unlinkable: {0}")]
    Link(String),
    /// Instantiation failed before any code ran (e.g. a memory over the limit).
    #[error("instantiation failed: {0}")]
    Instantiation(String),
    /// Code trapped (the start function, or an invoked function).
    // Not `#[from]`: that would also make the trap the error's `source`,
    // and reporters that print the chain would repeat its message.
    #[error("trap: {0}")]
    Trap(Trap),
    /// A `Config` limit out of range.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Self {
        Error::Trap(t)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
