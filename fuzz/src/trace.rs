//! What an engine did with a module: the comparable record every engine
//! produces, and the normal form of its values and traps.

use std::fmt;

/// A value as compared across engines: NaNs canonical, references only
/// null or not (identities are per engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// Compared bit for bit: wasm-smith canonicalises the NaNs of vector
    /// float operations as of scalar ones.
    V128(u128),
    Ref {
        null: bool,
    },
    /// An export the engine did not find.
    Missing,
}

impl Value {
    pub fn f32(bits: u32) -> Value {
        let nan = bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0;
        Value::F32(if nan { 0x7fc0_0000 } else { bits })
    }

    pub fn f64(bits: u64) -> Value {
        let exp = 0x7ff0_0000_0000_0000;
        let nan = bits & exp == exp && bits & 0x000f_ffff_ffff_ffff != 0;
        Value::F64(if nan { 0x7ff8_0000_0000_0000 } else { bits })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(v) => write!(f, "f32:{:#x}({})", v, f32::from_bits(*v)),
            Value::F64(v) => write!(f, "f64:{:#x}({})", v, f64::from_bits(*v)),
            Value::V128(v) => write!(f, "v128:{v:#034x}"),
            Value::Ref { null } => f.write_str(if *null { "ref.null" } else { "ref" }),
            Value::Missing => f.write_str("missing"),
        }
    }
}

/// Why a call (or instantiation) did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A trap: the spec's message, and the wasm function named with it
    /// where the engine names one.
    Trap {
        message: String,
        function: Option<String>,
    },
    /// Any other error (an engine that could not call at all).
    Error(String),
}

impl Failure {
    pub fn trap(message: impl Into<String>) -> Failure {
        Failure::Trap {
            message: message.into(),
            function: None,
        }
    }

    pub fn is_stack_overflow(&self) -> bool {
        matches!(self, Failure::Trap { message, .. } if message == STACK_OVERFLOW)
    }
}

/// The spec's message for stack exhaustion (runtime/src/trap.rs).
pub const STACK_OVERFLOW: &str = "call stack exhausted";

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap {
                message,
                function: Some(func),
            } => write!(f, "trap: {message} (in wasm function {func})"),
            Failure::Trap { message, .. } => write!(f, "trap: {message}"),
            Failure::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// One exported function's call and the state it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub export: String,
    pub result: Result<Vec<Value>, Failure>,
    /// Every exported global, in plan order.
    pub globals: Vec<Value>,
    /// Length and hash of every exported memory, in plan order.
    pub memories: Vec<(u64, u64)>,
}

/// Everything one engine did with a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trace {
    /// The engine refused the module (decode, validation, compile).
    Rejected(String),
    /// Loaded; instantiation failed (link error, start trap, limits).
    NotInstantiated(Failure),
    Ran {
        calls: Vec<CallRecord>,
        /// What the module wrote to WASI stdout and stderr.
        output: Vec<u8>,
    },
}
