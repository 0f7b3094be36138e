//! What running one case of a target gives.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Not a verdict on wamr-rs (generation failed, a feature one engine
    /// lacks, inconclusive resource limits), with the reason.
    Skip(String),
    /// A bug: `signature` says which way it failed (a shrunk input must
    /// fail the same way), `detail` says everything.
    Fail {
        signature: String,
        detail: String,
    },
}

impl Outcome {
    pub fn fail(signature: impl Into<String>, detail: impl Into<String>) -> Outcome {
        Outcome::Fail {
            signature: signature.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Pass => f.write_str("pass"),
            Outcome::Skip(why) => write!(f, "skip: {why}"),
            Outcome::Fail { signature, .. } => write!(f, "fail: {signature}"),
        }
    }
}
