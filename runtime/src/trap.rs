//! Traps: every kind the spec defines, each with the spec's message, shared by
//! every tier so that all report the same text.

use std::fmt;

/// Why execution trapped. `Display` gives the message the spec testsuite
/// expects (`assert_trap` compares it by prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum TrapKind {
    Unreachable = 1,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` with an index past the end of the table.
    UndefinedElement,
    /// `call_indirect` through a null table entry.
    UninitializedElement,
    IndirectCallTypeMismatch,
    IntegerOverflow,
    IntegerDivideByZero,
    InvalidConversionToInteger,
    StackOverflow,
    NullReference,
    /// A host function reported an error; the message is carried by [`Trap`].
    Host,
}

impl TrapKind {
    /// Every kind, in discriminant order.
    pub const ALL: [TrapKind; 12] = [
        TrapKind::Unreachable,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch,
        TrapKind::IntegerOverflow,
        TrapKind::IntegerDivideByZero,
        TrapKind::InvalidConversionToInteger,
        TrapKind::StackOverflow,
        TrapKind::NullReference,
        TrapKind::Host,
    ];

    /// The kind with discriminant `code`: how every tier encodes a trap kind
    /// in compiled or translated code (e.g.
    /// [`crate::vmctx::VMStoreState::trap`]).
    pub fn from_code(code: u32) -> Option<TrapKind> {
        TrapKind::ALL.into_iter().find(|k| *k as u32 == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::InvalidConversionToInteger => "invalid conversion to integer",
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::NullReference => "null reference",
            TrapKind::Host => "host function error",
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A trap raised while running wasm code, with an optional host message
/// and the name of the wasm function it happened in, where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    kind: TrapKind,
    host_message: Option<String>,
    function: Option<String>,
    /// Set when the trap is a WASI `proc_exit`, which unwinds like a trap.
    exit_code: Option<i32>,
}

impl Trap {
    pub fn new(kind: TrapKind) -> Self {
        Trap {
            kind,
            host_message: None,
            function: None,
            exit_code: None,
        }
    }

    /// A trap raised by a host function, carrying its own message.
    pub fn host(message: impl Into<String>) -> Self {
        Trap {
            host_message: Some(message.into()),
            ..Trap::new(TrapKind::Host)
        }
    }

    /// The unwinding used for a program's orderly exit (e.g. WASI `proc_exit`).
    pub fn exit(code: i32) -> Self {
        Trap {
            exit_code: Some(code),
            ..Trap::host(format!("exit with code {code}"))
        }
    }

    pub fn kind(&self) -> TrapKind {
        self.kind
    }

    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// The wasm function the trap happened in, where known.
    pub fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    /// Records the function a trap came from; the innermost one wins.
    pub fn in_function(mut self, name: impl FnOnce() -> String) -> Self {
        if self.function.is_none() {
            self.function = Some(name());
        }
        self
    }
}

impl From<TrapKind> for Trap {
    fn from(kind: TrapKind) -> Self {
        Trap::new(kind)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host_message {
            Some(msg) => f.write_str(msg)?,
            None => f.write_str(self.kind.message())?,
        }
        if let Some(func) = &self.function {
            write!(f, " (in wasm function {func})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}
