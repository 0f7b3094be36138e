//! The parent side: runs the worker over the seeds, restarts it past a
//! seed that crashed or hung, and records and shrinks every failure.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wamr_fuzz::{Outcome, Target, shrink};

use crate::report::{self, Kind};
use crate::worker;

pub struct Campaign {
    /// This program, found once: children are started from it.
    pub exe: PathBuf,
    pub target: Target,
    pub seeds: Range<u64>,
    pub time: Option<Duration>,
    pub out: PathBuf,
    pub timeout: Duration,
    pub shrink: Duration,
}

#[derive(Debug, Default)]
pub struct Summary {
    target: &'static str,
    cases: u64,
    divergences: u64,
    crashes: u64,
    hangs: u64,
    skipped: u64,
    /// Seeds covered: from the first up to (not including) this one.
    seeds: Range<u64>,
    skip_reasons: BTreeMap<String, u64>,
}

impl Summary {
    pub fn failures(&self) -> u64 {
        self.divergences + self.crashes + self.hangs
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (reason, n) in &self.skip_reasons {
            writeln!(f, "  skipped {n:>5}: {reason}")?;
        }
        write!(
            f,
            "{}: {} cases, {} divergences, {} crashes, {} hangs, {} skipped (seeds {}..{})",
            self.target,
            self.cases,
            self.divergences,
            self.crashes,
            self.hangs,
            self.skipped,
            self.seeds.start,
            self.seeds.end
        )
    }
}

/// What ended one run of the worker.
enum Stop {
    /// It covered its seeds, or the campaign's time is up.
    Done,
    /// Restart it after this seed.
    After(u64),
}

pub fn run(c: &Campaign) -> Result<Summary> {
    std::fs::create_dir_all(&c.out).with_context(|| format!("creating {}", c.out.display()))?;
    let start = Instant::now();
    let deadline = c.time.map(|t| start + t);
    let mut summary = Summary {
        target: c.target.name(),
        seeds: c.seeds.start..c.seeds.start,
        ..Summary::default()
    };
    let mut next = c.seeds.start;
    let mut last_progress = Instant::now();
    while next < c.seeds.end && deadline.is_none_or(|d| Instant::now() < d) {
        let stop = run_worker(c, next, deadline, &mut summary, &mut last_progress, start)?;
        match stop {
            Stop::Done => break,
            Stop::After(seed) => next = seed + 1,
        }
    }
    Ok(summary)
}

fn run_worker(
    c: &Campaign,
    from: u64,
    deadline: Option<Instant>,
    summary: &mut Summary,
    last_progress: &mut Instant,
    start: Instant,
) -> Result<Stop> {
    let current = c.out.join(format!(
        ".current-{}.{}",
        std::process::id(),
        c.target.extension()
    ));
    let stderr = c.out.join(format!(".stderr-{}", std::process::id()));
    let mut child = Command::new(&c.exe)
        .arg(c.target.name())
        .arg("--seeds")
        .arg(format!("{from}..{}", c.seeds.end))
        .arg("--worker")
        .arg(&current)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr)?)
        .spawn()
        .context("starting the worker")?;
    let lines = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(lines).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut running: Option<(u64, Instant)> = None;
    loop {
        if last_progress.elapsed() >= Duration::from_secs(10) {
            *last_progress = Instant::now();
            eprintln!("[{:>5}s] {}", start.elapsed().as_secs(), summary.line());
        }
        let line = match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    kill(&mut child);
                    return Ok(Stop::Done);
                }
                if let Some((seed, since)) = running
                    && since.elapsed() >= c.timeout
                {
                    kill(&mut child);
                    let detail = format!("no result after {:?}", c.timeout);
                    failure(
                        c,
                        summary,
                        seed,
                        Kind::Hang,
                        "hang",
                        &detail,
                        &current,
                        &stderr,
                        None,
                    )?;
                    return Ok(Stop::After(seed));
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = child.wait()?;
                let Some((seed, _)) = running else {
                    return Ok(Stop::Done);
                };
                let detail = format!("the process died: {}", describe(status));
                let sig = status.signal();
                failure(
                    c,
                    summary,
                    seed,
                    Kind::Crash,
                    &detail,
                    &detail,
                    &current,
                    &stderr,
                    sig,
                )?;
                return Ok(Stop::After(seed));
            }
        };
        if let Some(seed) = line.strip_prefix("begin ") {
            running = Some((seed.parse()?, Instant::now()));
            continue;
        }
        let Some((seed, outcome)) = line
            .strip_prefix("end ")
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(s, o)| Some((s.parse::<u64>().ok()?, worker::decode(o)?)))
        else {
            continue;
        };
        running = None;
        summary.seeds.end = seed + 1;
        match outcome {
            Outcome::Pass => summary.cases += 1,
            Outcome::Skip(why) => {
                summary.cases += 1;
                summary.skipped += 1;
                *summary.skip_reasons.entry(reason_class(&why)).or_default() += 1;
            }
            Outcome::Fail { signature, detail } => {
                // Shrinking runs children of its own: stop this one first.
                kill(&mut child);
                let input = c.target.input(seed).ok();
                std::fs::write(&current, input.unwrap_or_default())?;
                failure(
                    c,
                    summary,
                    seed,
                    Kind::Divergence,
                    &signature,
                    &detail,
                    &current,
                    &stderr,
                    None,
                )?;
                return Ok(Stop::After(seed));
            }
        }
    }
}

impl Summary {
    fn line(&self) -> String {
        format!(
            "{} cases, {} divergences, {} crashes, {} hangs, {} skipped",
            self.cases, self.divergences, self.crashes, self.hangs, self.skipped
        )
    }
}

/// Skip reasons grouped by their first words (the rest names details).
fn reason_class(why: &str) -> String {
    why.split([':', '('])
        .next()
        .unwrap_or(why)
        .trim()
        .to_string()
}

fn describe(status: ExitStatus) -> String {
    match status.signal() {
        Some(sig) => format!("killed by signal {sig}"),
        None => format!("exited with {status}"),
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Counts a failure, shrinks its input and writes the report.
#[allow(clippy::too_many_arguments)]
fn failure(
    c: &Campaign,
    summary: &mut Summary,
    seed: u64,
    kind: Kind,
    signature: &str,
    detail: &str,
    input_file: &Path,
    stderr: &Path,
    signal: Option<i32>,
) -> Result<()> {
    summary.cases += 1;
    summary.seeds.end = seed + 1;
    match kind {
        Kind::Divergence => summary.divergences += 1,
        Kind::Crash => summary.crashes += 1,
        Kind::Hang => summary.hangs += 1,
    }
    eprintln!("seed {seed}: {kind}: {signature}");
    let input = std::fs::read(input_file).unwrap_or_default();
    let log = std::fs::read(stderr).unwrap_or_default();
    let log = String::from_utf8_lossy(&log[log.len().saturating_sub(4000)..]).into_owned();
    let shrunk = match kind {
        // A hang takes the whole timeout per try; a corrupt .aot has no
        // smaller form that passes its checksum.
        Kind::Hang => input.clone(),
        _ if c.target == Target::Aot => input.clone(),
        _ => {
            let structural = c.target != Target::Malformed;
            let probe = c.out.join(format!(
                ".probe-{}.{}",
                std::process::id(),
                c.target.extension()
            ));
            let shrunk = shrink::shrink(input.clone(), structural, c.shrink, |candidate| {
                same_failure(c, seed, candidate, &probe, kind, signature, signal)
            });
            let _ = std::fs::remove_file(&probe);
            shrunk
        }
    };
    let path = report::write(&report::Report {
        out: &c.out,
        target: c.target,
        seed,
        kind,
        signature,
        detail,
        log: &log,
        original: &input,
        shrunk: &shrunk,
    })?;
    eprintln!("  written to {}", path.display());
    Ok(())
}

/// Whether `candidate` still fails as the original did, checked in a child.
fn same_failure(
    c: &Campaign,
    seed: u64,
    candidate: &[u8],
    probe: &Path,
    kind: Kind,
    signature: &str,
    signal: Option<i32>,
) -> bool {
    if std::fs::write(probe, candidate).is_err() {
        return false;
    }
    let Ok(mut child) = Command::new(&c.exe)
        .arg(c.target.name())
        .arg("--check")
        .arg(probe)
        .arg("--seed")
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < c.timeout => {
                std::thread::sleep(Duration::from_millis(10))
            }
            _ => {
                kill(&mut child);
                return false;
            }
        }
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut out, &mut stdout);
    }
    match kind {
        Kind::Crash => signal.is_some() && status.signal() == signal,
        Kind::Divergence => matches!(
            worker::decode(stdout.trim()),
            Some(Outcome::Fail { signature: s, .. }) if s == signature
        ),
        Kind::Hang => false,
    }
}
