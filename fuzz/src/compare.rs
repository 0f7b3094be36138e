//! Compares the traces of the engines of the differential target.

use crate::trace::{CallRecord, Failure, Trace};

/// What is compared beyond results, globals, memories and output.
#[derive(Debug, Clone, Copy)]
pub struct CompareOptions {
    /// Compare the wasm function a trap names between wamr-rs's tiers (on
    /// by default; wasmi names none, so never against the reference).
    pub trap_function: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            trap_function: true,
        }
    }
}

/// The result of comparing one module's traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Same,
    /// Not comparable (e.g. a feature one engine lacks); counted as skipped.
    Skip(String),
    /// Engines differ. `signature` names the engines and the aspect that
    /// differs, without values: a shrunk input must keep it.
    Diverge {
        signature: String,
        detail: String,
    },
}

/// An engine's name and trace.
pub type Named<'a> = (&'a str, &'a Trace);

/// Compares every wamr-rs trace with the first (the interpreter's), then
/// the reference's with the first.
pub fn compare(wamr: &[Named<'_>], reference: Option<Named<'_>>, opts: CompareOptions) -> Verdict {
    let (base_name, base) = wamr[0];
    for &(name, trace) in &wamr[1..] {
        let v = compare_pair((base_name, base), (name, trace), false, opts);
        if v != Verdict::Same {
            return v;
        }
    }
    let Some((ref_name, reference)) = reference else {
        return Verdict::Same;
    };
    // A module one engine refuses is a feature-support difference, not a bug.
    match (base, reference) {
        (Trace::Rejected(e), Trace::Rejected(_)) => Verdict::Skip(format!("both reject: {e}")),
        (Trace::Rejected(e), _) => Verdict::Skip(format!("wamr-rs rejects: {e}")),
        (_, Trace::Rejected(e)) => Verdict::Skip(format!("{ref_name} rejects: {e}")),
        _ => compare_pair((base_name, base), (ref_name, reference), true, opts),
    }
}

fn compare_pair(a: Named<'_>, b: Named<'_>, reference: bool, opts: CompareOptions) -> Verdict {
    let diverge = |aspect: &str, x: String, y: String| Verdict::Diverge {
        signature: format!("{} vs {}: {aspect}", a.0, b.0),
        detail: format!("{aspect}\n  {}: {x}\n  {}: {y}", a.0, b.0),
    };
    match (a.1, b.1) {
        (Trace::Rejected(x), Trace::Rejected(_)) => Verdict::Skip(format!("rejected: {x}")),
        (Trace::NotInstantiated(x), Trace::NotInstantiated(y)) => {
            if same_instantiation_failure(x, y, reference, opts) {
                Verdict::Same
            } else {
                diverge("instantiation", x.to_string(), y.to_string())
            }
        }
        (
            Trace::Ran {
                calls: ca,
                output: oa,
            },
            Trace::Ran {
                calls: cb,
                output: ob,
            },
        ) => {
            for (i, (x, y)) in ca.iter().zip(cb).enumerate() {
                let overflow =
                    |r: &CallRecord| r.result.as_ref().is_err_and(Failure::is_stack_overflow);
                if overflow(x) || overflow(y) {
                    return Verdict::Skip(format!(
                        "inconclusive: stack exhausted in call #{i} `{}`",
                        x.export
                    ));
                }
                let what = |aspect: &str| format!("call #{i} `{}`: {aspect}", x.export);
                if !same_result(&x.result, &y.result, reference, opts) {
                    return diverge(&what("result"), show(&x.result), show(&y.result));
                }
                if x.globals != y.globals {
                    return diverge(
                        &what("globals"),
                        format!("{:?}", x.globals),
                        format!("{:?}", y.globals),
                    );
                }
                if x.memories != y.memories {
                    return diverge(
                        &what("memories (len, hash)"),
                        format!("{:?}", x.memories),
                        format!("{:?}", y.memories),
                    );
                }
            }
            if oa != ob {
                return diverge(
                    "WASI output",
                    String::from_utf8_lossy(oa).into_owned(),
                    String::from_utf8_lossy(ob).into_owned(),
                );
            }
            Verdict::Same
        }
        (x, y) => diverge("load/instantiation", summary(x), summary(y)),
    }
}

fn summary(t: &Trace) -> String {
    match t {
        Trace::Rejected(e) => format!("rejected: {e}"),
        Trace::NotInstantiated(f) => format!("not instantiated: {f}"),
        Trace::Ran { calls, .. } => format!("instantiated, {} calls", calls.len()),
    }
}

fn show(r: &Result<Vec<crate::trace::Value>, Failure>) -> String {
    match r {
        Ok(vals) => format!(
            "[{}]",
            vals.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(f) => f.to_string(),
    }
}

fn same_result(
    x: &Result<Vec<crate::trace::Value>, Failure>,
    y: &Result<Vec<crate::trace::Value>, Failure>,
    reference: bool,
    opts: CompareOptions,
) -> bool {
    match (x, y) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => same_failure(a, b, reference, opts),
        _ => false,
    }
}

/// Instantiation errors other than traps differ in wording between
/// engines (limits, links); only their being errors is compared.
fn same_instantiation_failure(
    x: &Failure,
    y: &Failure,
    reference: bool,
    opts: CompareOptions,
) -> bool {
    match (x, y) {
        (Failure::Error(a), Failure::Error(b)) => reference || a == b,
        _ => same_failure(x, y, reference, opts),
    }
}

fn same_failure(x: &Failure, y: &Failure, reference: bool, opts: CompareOptions) -> bool {
    match (x, y) {
        (
            Failure::Trap {
                message: a,
                function: fa,
            },
            Failure::Trap {
                message: b,
                function: fb,
            },
        ) => {
            // wasmi reports an index past a table's end as a table access
            // out of bounds, even for `call_indirect` (spec: "undefined element").
            let table = |m: &str| m == "undefined element" || m == "out of bounds table access";
            let same_message = a == b || (reference && table(a) && table(b));
            same_message && (reference || !opts.trap_function || fa == fb)
        }
        (Failure::Error(a), Failure::Error(b)) => a == b,
        _ => false,
    }
}
