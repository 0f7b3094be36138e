//! The state a WASI guest sees: arguments, environment and the descriptor
//! table (stdio, preopened directories, and whatever the guest opened).

use std::fmt;
use std::path::PathBuf;

use cap_std::fs::{Dir, File};

use super::WasiError;
use super::errno::Errno;
use super::pipe::{InputPipe, OutputPipe};

/// The state of one WASI program: build it with [`WasiCtxBuilder`].
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    /// `KEY=VALUE` strings.
    pub(crate) env: Vec<String>,
    pub(crate) fds: FdTable,
    /// Set by [`WasiCtxBuilder::deterministic`].
    pub(crate) deterministic: Option<Deterministic>,
}

/// Random bytes and clocks that repeat from run to run: a seeded generator
/// (splitmix64), and clocks that advance one millisecond per reading.
#[derive(Debug, Clone)]
pub(crate) struct Deterministic {
    state: u64,
    readings: u64,
}

impl Deterministic {
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }

    /// The next reading of any clock, in nanoseconds; the realtime clock
    /// starts at 2023-11-14 22:13:20 UTC.
    pub(crate) fn now(&mut self, realtime: bool) -> u64 {
        self.readings += 1;
        let base = if realtime {
            1_700_000_000_000_000_000
        } else {
            0
        };
        base + self.readings * 1_000_000
    }
}

impl WasiCtx {
    /// `stat` as the guest sees it: in deterministic mode without the
    /// host-specific device, inode and times.
    pub(crate) fn guest_filestat(&self, stat: super::abi::Filestat) -> super::abi::Filestat {
        if self.deterministic.is_none() {
            return stat;
        }
        super::abi::Filestat {
            dev: 0,
            ino: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
            ..stat
        }
    }
}

impl fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args)
            .field("env", &self.env)
            .field("open_fds", &self.fds.slots.iter().flatten().count())
            .finish()
    }
}

/// Configures a [`WasiCtx`]. By default the guest gets no arguments, an
/// empty environment, no directories, an empty stdin, and its stdout and
/// stderr are discarded.
#[derive(Debug, Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    preopens: Vec<(PathBuf, String)>,
    stdin: Stream,
    stdout: Stream,
    stderr: Stream,
    seed: Option<u64>,
}

impl WasiCtxBuilder {
    pub fn new() -> Self {
        WasiCtxBuilder {
            stdin: Stream::Input(InputPipe::default()),
            stdout: Stream::Sink,
            stderr: Stream::Sink,
            ..WasiCtxBuilder::default()
        }
    }

    /// Appends one argument (the first is conventionally the program name).
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn envs<K: Into<String>, V: Into<String>>(
        &mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> &mut Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Gives the guest the host directory `host` under the name `guest`
    /// (e.g. `/` or `.`). The guest cannot reach anything outside it.
    pub fn preopened_dir(
        &mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
    ) -> &mut Self {
        self.preopens.push((host.into(), guest.into()));
        self
    }

    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Stream::Stdin;
        self
    }

    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Stream::Stdout;
        self
    }

    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Stream::Stderr;
        self
    }

    /// The host process's stdin, stdout and stderr.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    pub fn stdin(&mut self, pipe: InputPipe) -> &mut Self {
        self.stdin = Stream::Input(pipe);
        self
    }

    pub fn stdout(&mut self, pipe: OutputPipe) -> &mut Self {
        self.stdout = Stream::Output(pipe);
        self
    }

    pub fn stderr(&mut self, pipe: OutputPipe) -> &mut Self {
        self.stderr = Stream::Output(pipe);
        self
    }

    /// Makes `random_get` a generator seeded with `seed`, every clock
    /// advance one millisecond per reading, and file status report no
    /// device, inode or times, so that a program runs the same way every
    /// time (differential testing across tiers).
    pub fn deterministic(&mut self, seed: u64) -> &mut Self {
        self.seed = Some(seed);
        self
    }

    /// Opens the preopened directories and builds the context. Stdio is
    /// fds 0-2 and the preopens follow from fd 3 in the order given.
    pub fn build(&mut self) -> Result<WasiCtx, WasiError> {
        for arg in &self.args {
            check_c_string("argument (contains a NUL byte)", arg)?;
        }
        for (key, value) in &self.env {
            check_c_string("environment variable (contains a NUL byte)", key)?;
            check_c_string("environment variable (contains a NUL byte)", value)?;
            if key.is_empty() || key.contains('=') {
                return Err(WasiError::InvalidString {
                    what: "environment variable name (empty or contains `=`)",
                    value: key.clone(),
                });
            }
        }
        let mut fds = FdTable::default();
        for stream in [&mut self.stdin, &mut self.stdout, &mut self.stderr] {
            fds.slots
                .push(Some(Descriptor::Stream(std::mem::take(stream))));
        }
        for (host, guest) in std::mem::take(&mut self.preopens) {
            let dir = Dir::open_ambient_dir(&host, cap_std::ambient_authority())
                .map_err(|source| WasiError::Preopen { host, source })?;
            fds.slots
                .push(Some(Descriptor::Dir(OpenDir::new(dir, Some(guest)))));
        }
        Ok(WasiCtx {
            args: std::mem::take(&mut self.args),
            env: std::mem::take(&mut self.env)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            fds,
            deterministic: self.seed.map(|state| Deterministic { state, readings: 0 }),
        })
    }
}

/// Arguments and environment strings reach the guest NUL-terminated, so
/// an inner NUL would cut them short.
fn check_c_string(what: &'static str, s: &str) -> Result<(), WasiError> {
    if s.contains('\0') {
        return Err(WasiError::InvalidString {
            what,
            value: s.to_string(),
        });
    }
    Ok(())
}

/// A stdio stream.
#[derive(Debug, Default)]
pub(crate) enum Stream {
    Stdin,
    Stdout,
    Stderr,
    Input(InputPipe),
    Output(OutputPipe),
    /// Accepts and discards writes.
    #[default]
    Sink,
}

impl Stream {
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            Stream::Stdout | Stream::Stderr | Stream::Output(_) | Stream::Sink
        )
    }

    /// Whether the stream is the host's terminal (guests ask through
    /// fdstat's file type, e.g. for `isatty`).
    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        match self {
            Stream::Stdin => std::io::stdin().is_terminal(),
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
            _ => false,
        }
    }
}

/// A regular file (or anything else that is not a directory) the guest opened.
#[derive(Debug)]
pub(crate) struct OpenFile {
    pub file: File,
    pub readable: bool,
    pub writable: bool,
    /// `$fdflags` currently in effect.
    pub flags: u16,
}

/// One `fd_readdir` entry.
#[derive(Debug, Clone)]
pub(crate) struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: u8,
}

#[derive(Debug)]
pub(crate) struct OpenDir {
    pub dir: Dir,
    /// The guest name of a preopened directory (for `fd_prestat_*`).
    pub preopen: Option<String>,
    /// The listing `fd_readdir` pages through by cookie (an index into it);
    /// read afresh whenever a guest starts over at cookie 0.
    pub listing: Option<Vec<DirEntry>>,
}

impl OpenDir {
    pub fn new(dir: Dir, preopen: Option<String>) -> Self {
        OpenDir {
            dir,
            preopen,
            listing: None,
        }
    }
}

#[derive(Debug)]
pub(crate) enum Descriptor {
    Stream(Stream),
    File(OpenFile),
    Dir(OpenDir),
}

/// Open descriptors by number; a new one takes the lowest free number.
#[derive(Debug, Default)]
pub(crate) struct FdTable {
    slots: Vec<Option<Descriptor>>,
}

impl FdTable {
    pub fn get(&self, fd: u32) -> Result<&Descriptor, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// The directory `fd` (ENOTDIR when `fd` is open but not a directory).
    pub fn dir(&self, fd: u32) -> Result<&Dir, Errno> {
        match self.get(fd)? {
            Descriptor::Dir(d) => Ok(&d.dir),
            _ => Err(Errno::NotDir),
        }
    }

    pub fn insert(&mut self, d: Descriptor) -> Result<u32, Errno> {
        let index = match self.slots.iter().position(Option::is_none) {
            Some(i) => {
                self.slots[i] = Some(d);
                i
            }
            None => {
                self.slots.push(Some(d));
                self.slots.len() - 1
            }
        };
        u32::try_from(index).map_err(|_| Errno::Mfile)
    }

    pub fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        let d = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(d)
    }

    /// Moves `from` to number `to`, closing what `to` held; both must be open.
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.get(from)?;
        self.get(to)?;
        if from != to {
            let d = self.remove(from)?;
            self.slots[to as usize] = Some(d);
        }
        Ok(())
    }
}
