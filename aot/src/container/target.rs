//! Does this host run code compiled for a given triple, CPU and features?

use std::fmt;
use std::str::FromStr;

use target_lexicon::{Architecture, Triple};

/// The host as the loader sees it: a target triple and the LLVM names of
/// the CPU features it has (without `+`, e.g. `sse4.1`, `bmi`, `m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    pub triple: String,
    pub features: Vec<String>,
}

/// Why a file's target does not fit the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incompatible {
    /// Different architecture or operating system.
    Triple,
    /// A CPU name whose implied features this loader cannot check.
    UnknownCpu,
    /// Required features the host lacks.
    MissingFeatures(Vec<String>),
}

/// x86_64 features every x86_64 CPU has (`sahf` is missing only on the
/// earliest 64-bit parts, which no supported OS targets any more).
const X86_64_BASELINE: &[&str] = &[
    "64bit", "cmov", "cx8", "fxsr", "mmx", "sahf", "sse", "sse2", "x87",
];
const X86_64_V2: &[&str] = &["cx16", "popcnt", "sse3", "sse4.1", "sse4.2", "ssse3"];
const X86_64_V3: &[&str] = &[
    "avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave",
];
const X86_64_V4: &[&str] = &["avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl"];
const RISCV_BASELINE: &[&str] = &["i", "32bit", "64bit"];

impl HostTarget {
    /// Describes the machine this process runs on.
    pub fn detect() -> Self {
        let env = if cfg!(target_env = "musl") {
            "-musl"
        } else if cfg!(target_env = "gnu") {
            "-gnu"
        } else {
            ""
        };
        HostTarget {
            triple: format!(
                "{}-unknown-{}{env}",
                std::env::consts::ARCH,
                std::env::consts::OS
            ),
            features: detect_features().into_iter().map(str::to_string).collect(),
        }
    }

    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f == name)
    }

    /// What `--cpu native` means: the highest CPU level of this host's
    /// architecture that the host fully supports. A level, not the host's
    /// model name, so that a loader can verify the file on any machine;
    /// scalar wasm gains next to nothing from model-specific features.
    pub fn native_cpu(&self) -> &'static str {
        let has_all = |group: &[&str]| group.iter().all(|f| self.has_feature(f));
        match arch_os(&self.triple).map(|(arch, _)| arch).as_deref() {
            Some("x86_64") => {
                let levels = [
                    ("x86-64-v2", X86_64_V2),
                    ("x86-64-v3", X86_64_V3),
                    ("x86-64-v4", X86_64_V4),
                ];
                let mut best = "x86-64";
                for (name, group) in levels {
                    if !has_all(group) {
                        break;
                    }
                    best = name;
                }
                best
            }
            Some("riscv64") => "generic-rv64",
            Some("riscv32") => "generic-rv32",
            _ => "generic",
        }
    }

    /// Checks code compiled for `triple`, `cpu` and the LLVM feature
    /// string `features` (e.g. `+sse4.1,-avx`) against this host.
    pub(crate) fn check(
        &self,
        triple: &str,
        cpu: &str,
        features: &str,
    ) -> Result<(), Incompatible> {
        let (Some(file_arch), Some(host_arch)) = (arch_os(triple), arch_os(&self.triple)) else {
            return Err(Incompatible::Triple);
        };
        if file_arch != host_arch {
            return Err(Incompatible::Triple);
        }
        let implied = implied_by_cpu(&file_arch.0, cpu).ok_or(Incompatible::UnknownCpu)?;
        let baseline: &[&str] = if file_arch.0 == "x86_64" {
            X86_64_BASELINE
        } else {
            RISCV_BASELINE
        };
        // `-feature` only narrows what the code may use: nothing to check.
        let required = features
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty() && !f.starts_with('-'))
            .map(|f| f.trim_start_matches('+'))
            .chain(implied.iter().flat_map(|group| group.iter().copied()));
        let mut missing: Vec<String> = required
            .filter(|f| !baseline.contains(f) && !self.has_feature(f))
            .map(|f| format!("+{f}"))
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Incompatible::MissingFeatures(missing))
        }
    }
}

impl fmt::Display for HostTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.triple)?;
        if !self.features.is_empty() {
            let list: Vec<String> = self.features.iter().map(|f| format!("+{f}")).collect();
            write!(f, " with features `{}`", list.join(","))?;
        }
        Ok(())
    }
}

/// (normalised architecture, operating system) of a triple: what decides
/// the instruction set and calling convention. Vendor and libc do not
/// matter to code that calls nothing but the VM context's table.
fn arch_os(triple: &str) -> Option<(String, String)> {
    let parsed = Triple::from_str(triple).ok()?;
    let arch = match parsed.architecture {
        Architecture::X86_64 | Architecture::X86_64h => "x86_64".to_string(),
        Architecture::Riscv64(_) => "riscv64".to_string(),
        Architecture::Riscv32(_) => "riscv32".to_string(),
        other => other.to_string(),
    };
    Some((arch, parsed.operating_system.to_string()))
}

/// Features a CPU name implies (as groups), for the CPU names this loader
/// knows; other names would need LLVM's CPU tables to check.
fn implied_by_cpu(arch: &str, cpu: &str) -> Option<&'static [&'static [&'static str]]> {
    match (arch, cpu) {
        (_, "" | "generic") => Some(&[]),
        ("x86_64", "x86-64") => Some(&[]),
        ("x86_64", "x86-64-v2") => Some(&[X86_64_V2]),
        ("x86_64", "x86-64-v3") => Some(&[X86_64_V2, X86_64_V3]),
        ("x86_64", "x86-64-v4") => Some(&[X86_64_V2, X86_64_V3, X86_64_V4]),
        ("riscv64", "generic-rv64") | ("riscv32", "generic-rv32") => Some(&[]),
        _ => None,
    }
}

#[cfg(target_arch = "x86_64")]
fn detect_features() -> Vec<&'static str> {
    let mut found = Vec::new();
    macro_rules! detect {
        ($($std:tt => $llvm:literal),* $(,)?) => {
            $(if std::is_x86_feature_detected!($std) {
                found.push($llvm);
            })*
        };
    }
    detect!(
        "sse3" => "sse3",
        "ssse3" => "ssse3",
        "sse4.1" => "sse4.1",
        "sse4.2" => "sse4.2",
        "popcnt" => "popcnt",
        "cmpxchg16b" => "cx16",
        "avx" => "avx",
        "avx2" => "avx2",
        "bmi1" => "bmi",
        "bmi2" => "bmi2",
        "lzcnt" => "lzcnt",
        "fma" => "fma",
        "f16c" => "f16c",
        "movbe" => "movbe",
        "xsave" => "xsave",
        "avx512f" => "avx512f",
        "avx512bw" => "avx512bw",
        "avx512cd" => "avx512cd",
        "avx512dq" => "avx512dq",
        "avx512vl" => "avx512vl",
    );
    found
}

/// RISC-V has no stable run-time detection: report what this build was
/// compiled to assume, which the host necessarily has.
#[cfg(any(target_arch = "riscv64", target_arch = "riscv32"))]
fn detect_features() -> Vec<&'static str> {
    let mut found = Vec::new();
    macro_rules! detect {
        ($($name:literal),*) => {
            $(if cfg!(target_feature = $name) {
                found.push($name);
            })*
        };
    }
    detect!("m", "a", "f", "d", "c", "zba", "zbb", "zbs");
    if found.contains(&"m") {
        found.push("zmmul");
    }
    if found.contains(&"f") {
        found.push("zicsr");
    }
    found
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "riscv32"
)))]
fn detect_features() -> Vec<&'static str> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(triple: &str, features: &[&str]) -> HostTarget {
        HostTarget {
            triple: triple.into(),
            features: features.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn triples_compare_by_arch_and_os() {
        let h = host("x86_64-unknown-linux-gnu", &[]);
        assert_eq!(h.check("x86_64-pc-linux-gnu", "x86-64", ""), Ok(()));
        assert_eq!(h.check("x86_64-unknown-linux-musl", "", "+sse2"), Ok(()));
        assert_eq!(
            h.check("riscv64-unknown-linux-gnu", "generic-rv64", ""),
            Err(Incompatible::Triple)
        );
        assert_eq!(
            h.check("x86_64-pc-windows-msvc", "x86-64", ""),
            Err(Incompatible::Triple)
        );
        assert_eq!(h.check("not a triple", "", ""), Err(Incompatible::Triple));
        let rv = host("riscv64-unknown-linux-gnu", &["m", "a", "f", "d", "c"]);
        assert_eq!(
            rv.check(
                "riscv64gc-unknown-linux-gnu",
                "generic-rv64",
                "+m,+a,+f,+d,+c"
            ),
            Ok(())
        );
    }

    #[test]
    fn features_and_cpu_levels() {
        let h = host("x86_64-unknown-linux-gnu", &["sse4.1", "popcnt"]);
        assert_eq!(
            h.check("x86_64-unknown-linux-gnu", "x86-64", "+sse4.1,-avx"),
            Ok(())
        );
        assert_eq!(
            h.check("x86_64-unknown-linux-gnu", "x86-64", "+avx2,+sse4.1,+bmi"),
            Err(Incompatible::MissingFeatures(vec![
                "+avx2".into(),
                "+bmi".into()
            ]))
        );
        let Err(Incompatible::MissingFeatures(missing)) =
            h.check("x86_64-unknown-linux-gnu", "x86-64-v3", "")
        else {
            panic!("x86-64-v3 needs more than sse4.1 and popcnt");
        };
        assert!(missing.contains(&"+avx2".to_string()) && missing.contains(&"+ssse3".to_string()));
        assert_eq!(
            h.check("x86_64-unknown-linux-gnu", "skylake", ""),
            Err(Incompatible::UnknownCpu)
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn detects_this_host() {
        let h = HostTarget::detect();
        assert!(h.triple.starts_with("x86_64-unknown-linux"), "{h}");
        assert_eq!(h.check(&h.triple, "x86-64", "+sse2"), Ok(()));
        assert_eq!(
            h.has_feature("sse4.1"),
            std::is_x86_feature_detected!("sse4.1")
        );
    }

    #[test]
    fn native_cpu_is_the_highest_complete_level() {
        let v2: Vec<&str> = X86_64_V2.to_vec();
        let mut v3 = v2.clone();
        v3.extend(X86_64_V3);
        let linux = "x86_64-unknown-linux-gnu";
        assert_eq!(host(linux, &["sse4.1", "popcnt"]).native_cpu(), "x86-64");
        assert_eq!(host(linux, &v2).native_cpu(), "x86-64-v2");
        assert_eq!(host(linux, &v3).native_cpu(), "x86-64-v3");
        // v4 features without v3 do not make a v4 machine.
        let mut odd = v2.clone();
        odd.extend(X86_64_V4);
        assert_eq!(host(linux, &odd).native_cpu(), "x86-64-v2");
        assert_eq!(
            host("riscv64-unknown-linux-gnu", &[]).native_cpu(),
            "generic-rv64"
        );
        let h = HostTarget::detect();
        assert_eq!(h.check(&h.triple, h.native_cpu(), ""), Ok(()));
    }
}
