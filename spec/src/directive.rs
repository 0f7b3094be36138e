//! Runs the directives of one `.wast` file.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use wamr_rs::{Error, Extern, Instance, Linker, Module, Runtime, Store, TrapKind, Val};
use wast::core::{Module as WastModule, ModuleKind};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};

use crate::Summary;
use crate::values;

/// The outcome of one directive.
enum Outcome {
    Pass,
    Fail(String),
    /// Needs something this build lacks (e.g. an execution tier).
    Skip(&'static str),
}

struct Context<'r> {
    runtime: &'r Runtime,
    store: Store,
    linker: Linker,
    /// Named instances, and the most recent one.
    instances: HashMap<String, Instance>,
    current: Option<Instance>,
    /// Module definitions (`module definition`), by name.
    definitions: HashMap<String, Module>,
    /// Set when the current module could not be instantiated for lack of a tier;
    /// later directives on it are skipped rather than failed.
    current_unavailable: bool,
    /// Set once a directive was skipped for lack of a tier: the file's state
    /// may then differ from what later directives expect, so their failures
    /// are counted as skipped, not as failed.
    diverged: bool,
}

/// A parse buffer over a .wast file's text, which may use confusing
/// Unicode (in names, as the spec tests do).
pub fn parse_buffer(text: &str) -> wast::parser::Result<wast::parser::ParseBuffer<'_>> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    wast::parser::ParseBuffer::new_with_lexer(lexer)
}

/// Runs `text` (a .wast file called `label`) and counts its directives.
pub fn run_wast(runtime: &Runtime, label: &str, text: &str) -> Summary {
    let mut summary = Summary::default();
    let fail = |summary: &mut Summary, line: usize, msg: String| {
        summary.failed += 1;
        summary.failures.push(format!("FAIL {label}:{line}: {msg}"));
    };
    let buf = match parse_buffer(text) {
        Ok(b) => b,
        Err(e) => {
            fail(&mut summary, 0, format!("cannot lex: {e}"));
            return summary;
        }
    };
    let wast: Wast<'_> = match wast::parser::parse(&buf) {
        Ok(w) => w,
        Err(e) => {
            fail(&mut summary, 0, format!("cannot parse: {e}"));
            return summary;
        }
    };
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    if let Err(e) = crate::spectest::define(&mut linker, &mut store) {
        fail(&mut summary, 0, format!("cannot set up spectest: {e}"));
        return summary;
    }
    let mut cx = Context {
        runtime,
        store,
        linker,
        instances: HashMap::new(),
        current: None,
        definitions: HashMap::new(),
        current_unavailable: false,
        diverged: false,
    };
    for directive in wast.directives {
        let line = directive.span().linecol_in(text).0 + 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| cx.run(directive)))
            .unwrap_or_else(|p| Outcome::Fail(format!("panicked: {}", panic_message(&p))));
        let outcome = match outcome {
            Outcome::Skip(NO_TIER) => {
                cx.diverged = true;
                Outcome::Skip(NO_TIER)
            }
            Outcome::Fail(_) if cx.diverged => Outcome::Skip("state depends on skipped directives"),
            other => other,
        };
        match outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Skip(why) => {
                summary.skipped += 1;
                *summary.skip_reasons.entry(why).or_default() += 1;
            }
            Outcome::Fail(msg) => fail(&mut summary, line, msg),
        }
    }
    summary
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

const NO_TIER: &str = "needs an execution tier";

/// Whether a module can be instantiated without running any code.
fn needs_execution(module: &Module) -> bool {
    module.start().is_some()
}

fn is_binary(q: &QuoteWat<'_>) -> bool {
    matches!(
        q,
        QuoteWat::Wat(Wat::Module(WastModule {
            kind: ModuleKind::Binary(_),
            ..
        }))
    )
}

impl Context<'_> {
    fn run(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(mut q) => {
                let name = q.name().map(|i| i.name().to_string());
                let bytes = match q.encode() {
                    Ok(b) => b,
                    Err(e) => return Outcome::Fail(format!("cannot encode module: {e}")),
                };
                self.define_and_instantiate(name, &bytes)
            }
            WastDirective::ModuleDefinition(mut q) => {
                let name = q.name().map(|i| i.name().to_string());
                let bytes = match q.encode() {
                    Ok(b) => b,
                    Err(e) => return Outcome::Fail(format!("cannot encode module: {e}")),
                };
                match self.runtime.load(&bytes) {
                    Ok(m) => {
                        if let Some(name) = name {
                            self.definitions.insert(name, m);
                        }
                        Outcome::Pass
                    }
                    Err(e) => Outcome::Fail(format!("module rejected: {e}")),
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let Some(module) = module.and_then(|m| self.definitions.get(m.name())).cloned()
                else {
                    return Outcome::Fail("unknown module definition".into());
                };
                self.instantiate(instance.map(|i| i.name().to_string()), &module)
            }
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => {
                let binary = is_binary(&module);
                match module.encode() {
                    // Text that does not parse is malformed at the text level:
                    // only binary modules reach the decoder.
                    Err(_) if !binary => Outcome::Pass,
                    Err(e) => Outcome::Fail(format!("cannot encode module: {e}")),
                    Ok(bytes) => self.expect_rejected(&bytes, message),
                }
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => match module.encode() {
                Ok(bytes) => self.expect_rejected(&bytes, message),
                Err(e) => Outcome::Fail(format!("cannot encode module: {e}")),
            },
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Outcome::Skip("custom-section annotations")
            }
            WastDirective::Register { name, module, .. } => {
                let Some(instance) = self.instance(module.map(|m| m.name())) else {
                    return self.missing_instance();
                };
                self.linker
                    .define_instance(&self.store, name, instance.id());
                Outcome::Pass
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Err(o) => o,
                Ok(Ok(_)) => Outcome::Pass,
                Ok(Err(e)) => Outcome::Fail(format!("invoke {} failed: {e}", invoke.name)),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = match self.execute(exec) {
                    Err(o) => return o,
                    Ok(Ok(vals)) => vals,
                    Ok(Err(e)) => return Outcome::Fail(format!("expected a return, got: {e}")),
                };
                if actual.len() == results.len()
                    && results
                        .iter()
                        .zip(&actual)
                        .all(|(e, a)| values::matches(e, a))
                {
                    Outcome::Pass
                } else {
                    let got: Vec<_> = actual.iter().map(values::describe).collect();
                    Outcome::Fail(format!(
                        "wrong results: got [{}], expected {results:?}",
                        got.join(", ")
                    ))
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                Err(o) => o,
                Ok(Ok(vals)) => Outcome::Fail(format!(
                    "expected trap `{message}`, got {:?}",
                    vals.iter().map(values::describe).collect::<Vec<_>>()
                )),
                // The reference interpreter sometimes appends detail (e.g.
                // "uninitialized element 2"): the spec's message must prefix it.
                Ok(Err(Error::Trap(t)))
                    if t.to_string().contains(message)
                        || message.starts_with(t.kind().message()) =>
                {
                    Outcome::Pass
                }
                Ok(Err(e)) => Outcome::Fail(format!("expected trap `{message}`, got: {e}")),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Err(o) => o,
                Ok(Err(Error::Trap(t))) if t.kind() == TrapKind::StackOverflow => Outcome::Pass,
                Ok(Err(e)) => Outcome::Fail(format!("expected `{message}`, got: {e}")),
                Ok(Ok(_)) => Outcome::Fail(format!("expected `{message}`, got a return")),
            },
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(e) => return Outcome::Fail(format!("cannot encode module: {e}")),
                };
                let module = match self.runtime.load(&bytes) {
                    Ok(m) => m,
                    Err(e) => return Outcome::Fail(format!("module rejected: {e}")),
                };
                match self.linker.instantiate(&mut self.store, &module) {
                    Err(Error::Link(msg)) if msg.contains(message) => Outcome::Pass,
                    Err(e @ Error::Link(_)) => {
                        Outcome::Fail(format!("expected unlinkable `{message}`, got: {e}"))
                    }
                    Err(e) if !self.runtime.can_execute() && is_no_tier(&e) => {
                        Outcome::Skip(NO_TIER)
                    }
                    Err(e) => Outcome::Fail(format!("expected unlinkable `{message}`, got: {e}")),
                    Ok(_) => Outcome::Fail(format!("expected unlinkable `{message}`, linked")),
                }
            }
            WastDirective::AssertException { .. } => Outcome::Skip("exceptions"),
            WastDirective::AssertSuspension { .. } => Outcome::Skip("stack switching"),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Outcome::Skip("threads"),
        }
    }

    fn expect_rejected(&self, bytes: &[u8], message: &str) -> Outcome {
        match self.runtime.load(bytes) {
            Err(_) => Outcome::Pass,
            Ok(_) => Outcome::Fail(format!("module accepted, expected rejection `{message}`")),
        }
    }

    fn define_and_instantiate(&mut self, name: Option<String>, bytes: &[u8]) -> Outcome {
        let module = match self.runtime.load(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.current = None;
                // A test written for the GC proposal, in a suite run
                // without it (see `Features::gc`): skipped, with the reason
                // counted.
                if e.to_string().contains("gc feature") {
                    self.current_unavailable = true;
                    return Outcome::Skip("needs the GC proposal");
                }
                self.current_unavailable = false;
                return Outcome::Fail(format!("module rejected: {e}"));
            }
        };
        if let Some(name) = &name {
            self.definitions.insert(name.clone(), module.clone());
        }
        self.instantiate(name, &module)
    }

    fn instantiate(&mut self, name: Option<String>, module: &Module) -> Outcome {
        self.current = None;
        self.current_unavailable = false;
        if !self.runtime.can_execute() && needs_execution(module) {
            self.current_unavailable = true;
            return Outcome::Skip(NO_TIER);
        }
        match self.linker.instantiate(&mut self.store, module) {
            Ok(instance) => {
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
                Outcome::Pass
            }
            Err(e) => Outcome::Fail(format!("instantiation failed: {e}")),
        }
    }

    fn instance(&self, name: Option<&str>) -> Option<Instance> {
        match name {
            Some(n) => self.instances.get(n).copied(),
            None => self.current,
        }
    }

    fn missing_instance(&self) -> Outcome {
        if self.current_unavailable {
            Outcome::Skip("module unavailable (skipped above)")
        } else {
            Outcome::Fail("no such module instance".into())
        }
    }

    /// `Err(outcome)` when the call cannot be attempted here.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<wamr_rs::Result<Vec<Val>>, Outcome> {
        let Some(instance) = self.instance(invoke.module.map(|m| m.name())) else {
            return Err(self.missing_instance());
        };
        if !self.runtime.can_execute() {
            return Err(Outcome::Skip(NO_TIER));
        }
        let args = invoke
            .args
            .iter()
            .map(values::arg)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Outcome::Fail)?;
        Ok(instance.call(&mut self.store, invoke.name, &args))
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<wamr_rs::Result<Vec<Val>>, Outcome> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let Some(instance) = self.instance(module.map(|m| m.name())) else {
                    return Err(self.missing_instance());
                };
                match instance.export(&self.store, global) {
                    Some(Extern::Global(g)) => Ok(Ok(vec![self.store.global(g).get()])),
                    _ => Err(Outcome::Fail(format!("no exported global `{global}`"))),
                }
            }
            WastExecute::Wat(mut wat) => {
                let bytes = wat
                    .encode()
                    .map_err(|e| Outcome::Fail(format!("cannot encode module: {e}")))?;
                let module = self
                    .runtime
                    .load(&bytes)
                    .map_err(|e| Outcome::Fail(format!("module rejected: {e}")))?;
                if !self.runtime.can_execute() && needs_execution(&module) {
                    return Err(Outcome::Skip(NO_TIER));
                }
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &module)
                    .map(|_| Vec::new()))
            }
        }
    }
}

fn is_no_tier(e: &Error) -> bool {
    e.to_string().contains("no execution tier")
}
