//! Compiling in a child process: [`ProcessCompiler`] hands each job to a
//! fresh worker process ([`serve`] on its side) over its stdin and stdout.
//!
//! Why: LLVM allocating and freeing beside a running program in the same
//! address space slows that program, even on another CPU (page faults and
//! TLB shootdowns of the shared memory map: 13% on a 45 ms Sightglass run),
//! while the same compile in another process costs it about 1%. A crash
//! inside LLVM also ends only the worker; the job then fails with a message
//! and the module stays in the interpreter.
//!
//! The exchange, little-endian throughout:
//! - request: [`MAGIC`], the wasm (u64 length, bytes), the wasm features
//!   (u32), triple, CPU, features and ABI (each a u32 length and UTF-8),
//!   the opt level (u8), threads (u32), the OSR functions and those of
//!   them with a shared body (`OsrFuncs`; each list a u32 count, then u32
//!   each);
//! - reply: 0 and the `.aot` image, or 1 and an error message (u64 length,
//!   bytes).

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::compiler::{
    COMPILER_VERSION, CompileError, CompileJob, CompileOptions, Compiler, OsrFuncs,
};
use crate::container::WasmFeatures;

/// The first bytes of a request: the protocol and its version.
const MAGIC: &[u8; 8] = b"WAMRCJ02";

/// A compiler that runs each job in a new process: `program args...`,
/// which must answer with [`serve`] (the `wamr-rs` binary does, as its
/// hidden `compile-worker` command).
#[derive(Debug, Clone)]
pub struct ProcessCompiler {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

impl ProcessCompiler {
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        ProcessCompiler {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    /// Sets environment variable `key` to `value` for the worker.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

impl Compiler for ProcessCompiler {
    fn version(&self) -> &str {
        COMPILER_VERSION
    }

    /// Progress reports do not cross the process boundary: `job.progress`
    /// is not called.
    fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            CompileError(format!(
                "compiler process {}: {what}: {e}",
                self.program.display()
            ))
        };
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| failed("cannot start", &e))?;
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        // The request may be larger than the pipe holds: write it while the
        // reply is read, so that neither side waits on the other.
        let reply = std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                let mut out = io::BufWriter::new(&mut stdin);
                write_request(&mut out, job)?;
                out.flush()
                // `stdin` is closed here: the worker sees the request end.
            });
            let reply = read_reply(&mut stdout);
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the request writer panicked")));
            reply.and_then(|r| written.map(|()| r))
        });
        let status = child.wait().map_err(|e| failed("lost", &e))?;
        match reply {
            Ok(Ok(image)) if status.success() => Ok(image),
            Ok(Err(message)) => Err(CompileError(message)),
            Ok(Ok(_)) | Err(_) => Err(failed("ended without a result", &status)),
        }
    }
}

/// The worker's side: reads one request from `input`, compiles it with
/// `compiler`, writes the reply to `output`. An I/O error means the parent
/// is gone or broke the protocol.
pub fn serve(
    input: &mut impl Read,
    output: &mut impl Write,
    compiler: &dyn Compiler,
) -> io::Result<()> {
    let request = read_request(input)?;
    let job = CompileJob {
        wasm: &request.wasm,
        features: request.features,
        options: &request.options,
        threads: request.threads,
        osr: OsrFuncs {
            entries: &request.osr,
            shared: &request.osr_shared,
        },
        progress: None,
    };
    match compiler.compile(&job) {
        Ok(image) => {
            output.write_all(&[0])?;
            write_bytes(output, &image)?;
        }
        Err(e) => {
            output.write_all(&[1])?;
            write_bytes(output, e.0.as_bytes())?;
        }
    }
    output.flush()
}

/// A worker process's whole life: one compile from stdin to stdout with
/// the LLVM plugin, for `parent`'s [`ProcessCompiler`]. The worker ends
/// with its parent (also when the parent is killed or leaves through
/// `_exit` mid-compile), and at once when the parent is gone already: a
/// short program can end before its worker gets here.
pub fn serve_parent(parent: Option<u32>) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Signal, getppid, set_parent_process_death_signal};
        set_parent_process_death_signal(Some(Signal::KILL))?;
        let ppid = getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32);
        if parent.is_some_and(|p| p != ppid) {
            return Ok(());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    serve(
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &*crate::plugin::shared(),
    )
}

/// A request as the worker reads it.
struct Request {
    wasm: Vec<u8>,
    features: WasmFeatures,
    options: CompileOptions,
    threads: usize,
    osr: Vec<u32>,
    osr_shared: Vec<u32>,
}

fn write_request(out: &mut impl Write, job: &CompileJob<'_>) -> io::Result<()> {
    out.write_all(MAGIC)?;
    write_bytes(out, job.wasm)?;
    out.write_all(&job.features.bits().to_le_bytes())?;
    let o = job.options;
    for text in [&o.triple, &o.cpu, &o.features, &o.abi] {
        write_short(out, text.as_bytes())?;
    }
    out.write_all(&[o.opt_level])?;
    out.write_all(&u32::try_from(job.threads).unwrap_or(u32::MAX).to_le_bytes())?;
    for list in [job.osr.entries, job.osr.shared] {
        out.write_all(&(list.len() as u32).to_le_bytes())?;
        for f in list {
            out.write_all(&f.to_le_bytes())?;
        }
    }
    Ok(())
}

fn read_request(input: &mut impl Read) -> io::Result<Request> {
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(invalid("not a compile request of this version"));
    }
    let wasm = read_bytes(input)?;
    let features = WasmFeatures::from_bits(read_u32(input)?)
        .map_err(|bits| invalid(&format!("unknown wasm feature bits {bits:#x}")))?;
    let mut text = || -> io::Result<String> {
        let len = read_u32(input)? as usize;
        let bytes = read_exactly(input, len)?;
        String::from_utf8(bytes).map_err(|_| invalid("a name is not UTF-8"))
    };
    let (triple, cpu, features_text, abi) = (text()?, text()?, text()?, text()?);
    let mut level = [0u8; 1];
    input.read_exact(&mut level)?;
    let threads = read_u32(input)? as usize;
    let mut list = || -> io::Result<Vec<u32>> {
        let count = read_u32(input)? as usize;
        (0..count).map(|_| read_u32(input)).collect()
    };
    let (osr, osr_shared) = (list()?, list()?);
    Ok(Request {
        wasm,
        features,
        options: CompileOptions {
            triple,
            cpu,
            features: features_text,
            abi,
            opt_level: level[0],
        },
        threads,
        osr,
        osr_shared,
    })
}

/// The reply: the image, or the compiler's error message.
fn read_reply(input: &mut impl Read) -> io::Result<Result<Vec<u8>, String>> {
    let mut status = [0u8; 1];
    input.read_exact(&mut status)?;
    let bytes = read_bytes(input)?;
    Ok(match status[0] {
        0 => Ok(bytes),
        _ => Err(String::from_utf8_lossy(&bytes).into_owned()),
    })
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(bytes)
}

fn write_short(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| invalid("a name is too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    input.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_bytes(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    let len = usize::try_from(u64::from_le_bytes(b)).map_err(|_| invalid("too long"))?;
    read_exactly(input, len)
}

/// `len` bytes, read without trusting `len` for the allocation up front.
fn read_exactly(input: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let got = input.take(len as u64).read_to_end(&mut bytes)?;
    if got != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
    }
    Ok(bytes)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Answers with a digest of what it was asked, or fails on request.
    #[derive(Debug, Default)]
    struct Echo {
        seen: Mutex<Option<String>>,
    }

    impl Compiler for Echo {
        fn version(&self) -> &str {
            COMPILER_VERSION
        }
        fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
            let o = job.options;
            let seen = format!(
                "{:?} {} {} {} {} {} {} {:?} {}",
                job.wasm,
                o.triple,
                o.cpu,
                o.features,
                o.abi,
                o.opt_level,
                job.threads,
                (job.osr.entries, job.osr.shared),
                job.features.bits()
            );
            *self.seen.lock().unwrap() = Some(seen);
            if job.wasm == b"fail" {
                return Err(CompileError("no luck".into()));
            }
            Ok(job.wasm.iter().rev().copied().collect())
        }
    }

    fn exchange(wasm: &[u8]) -> (Result<Vec<u8>, String>, Option<String>) {
        let options = CompileOptions {
            triple: "x86_64-unknown-linux-gnu".into(),
            cpu: "x86-64-v3".into(),
            features: "+sse4.1".into(),
            abi: String::new(),
            opt_level: 2,
        };
        let job = CompileJob {
            wasm,
            features: WasmFeatures::from_bits(0).unwrap(),
            options: &options,
            threads: 3,
            osr: OsrFuncs {
                entries: &[4, 9],
                shared: &[9],
            },
            progress: None,
        };
        let mut request = Vec::new();
        write_request(&mut request, &job).unwrap();
        let echo = Echo::default();
        let mut reply = Vec::new();
        serve(&mut request.as_slice(), &mut reply, &echo).unwrap();
        let seen = echo.seen.lock().unwrap().clone();
        (read_reply(&mut reply.as_slice()).unwrap(), seen)
    }

    #[test]
    fn a_request_reaches_the_worker_whole_and_the_image_comes_back() {
        let (reply, seen) = exchange(b"\0asm");
        assert_eq!(reply, Ok(b"msa\0".to_vec()));
        assert_eq!(
            seen.unwrap(),
            "[0, 97, 115, 109] x86_64-unknown-linux-gnu x86-64-v3 +sse4.1  2 3 ([4, 9], [9]) 0"
        );
    }

    #[test]
    fn a_compile_error_comes_back_as_its_message() {
        assert_eq!(exchange(b"fail").0, Err("no luck".to_string()));
    }

    #[test]
    fn a_truncated_or_foreign_request_is_an_error_not_a_compile() {
        let echo = Echo::default();
        let mut reply = Vec::new();
        assert!(serve(&mut &b"WAMRCJ01\x05\0"[..], &mut reply, &echo).is_err());
        assert!(serve(&mut &b"GET / HTTP/1.1\r\n"[..], &mut reply, &echo).is_err());
        // A length far beyond the input is not allocated up front.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(serve(&mut huge.as_slice(), &mut reply, &echo).is_err());
        assert!(echo.seen.lock().unwrap().is_none());
        assert!(reply.is_empty());
    }

    #[test]
    fn a_missing_worker_program_is_a_compile_error() {
        let compiler = ProcessCompiler::new("/nonexistent/wamr-worker", ["compile-worker"]);
        let options = CompileOptions::host(0);
        let job = CompileJob {
            wasm: b"\0asm\x01\0\0\0",
            features: WasmFeatures::from_bits(0).unwrap(),
            options: &options,
            threads: 1,
            osr: OsrFuncs::NONE,
            progress: None,
        };
        let e = compiler.compile(&job).unwrap_err();
        assert!(e.0.contains("cannot start"), "{e}");
    }
}
