//! The diagnostics a run prints when no `--log`/`RUST_LOG` filter is given:
//! warnings and errors, one line each on stderr.
//!
//! `tracing_subscriber::fmt()` would do the same, but it builds a span
//! registry (a sharded slab) on start-up, which was 6% of the instructions
//! of a WASI hello world. This subscriber keeps no span state at all.

use std::fmt::{self, Write as _};
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// Installs [`Warnings`] writing to stderr as the global subscriber.
pub fn install() {
    let to_stderr = |line: &str| {
        // A diagnostic that cannot be written has nowhere else to go.
        let _ = std::io::stderr().write_all(line.as_bytes());
    };
    // Fails only if a subscriber is already set, which then stays in charge.
    let _ = tracing::subscriber::set_global_default(Warnings { sink: to_stderr });
}

/// Hands events at `WARN` and `ERROR` to `sink` as lines
/// `LEVEL target: message k=v ...\n`.
struct Warnings<S> {
    sink: S,
}

fn wanted(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= Level::WARN
}

impl<S: Fn(&str) + Send + Sync + 'static> Subscriber for Warnings<S> {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if wanted(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        wanted(metadata)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::WARN)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // No span is at WARN in this project, so none is ever enabled and
        // all may share an id.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut line = Line(format!("{} {}:", metadata.level(), metadata.target()));
        event.record(&mut line);
        line.0.push('\n');
        (self.sink)(&line.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Collects an event's fields into one line.
struct Line(String);

impl Line {
    /// `message` bare, other fields as ` name=value`.
    fn push(&mut self, field: &Field, value: &dyn fmt::Display) {
        let _ = match field.name() {
            "message" => write!(self.0, " {value}"),
            name => write!(self.0, " {name}={value}"),
        };
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, &value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, &format_args!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn warnings_and_errors_are_printed_one_line_each() {
        let lines = Arc::new(Mutex::new(String::new()));
        let sink = {
            let lines = Arc::clone(&lines);
            move |line: &str| lines.lock().unwrap().push_str(line)
        };
        tracing::subscriber::with_default(Warnings { sink }, || {
            tracing::info!(n = 1, "not this");
            tracing::debug!("nor this");
            tracing::warn!(signal = 11, "cannot install {}", "x");
            tracing::error!("failed");
        });
        assert_eq!(
            *lines.lock().unwrap(),
            "WARN wamr_rs::warnings::tests: cannot install x signal=11\n\
             ERROR wamr_rs::warnings::tests: failed\n"
        );
    }
}
