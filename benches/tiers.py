#!/usr/bin/env python3
"""Tiered execution, measured whole-process and side by side in one run.

Prints, for the `wamr-rs` binary (built with `cargo build --release -p
wamr-cli`):

  (a) time to first output of a WASI program, --tier auto / --tier interp
  (b) CoreMark (coremark.wasm) whole process, --tier auto / a precompiled
      -O3 .aot
  (c) each Sightglass program, --tier auto / the better of --tier interp
      and --tier aot (whose time includes compiling)
  (d) one long loop inside a single call: interp, auto (on-stack
      replacement moves the running loop to native code) and aot

Usage: benches/tiers.py [--runs N] [--skip-coremark]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import sightglass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "..", "shared", "bench")
WAMR = os.path.join(ROOT, "target", "release", "wamr-rs")


def timed(cmd, cwd=None):
    """(seconds to first stdout byte, seconds to exit) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = proc.stdout.read(1)
    first_at = time.perf_counter() - start
    proc.stdout.read()
    proc.wait()
    end = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return (first_at if first else end), end


def median(cmd, runs, cwd=None, index=1):
    return medians([cmd], runs, cwd, index)[0]


def medians(cmds, runs, cwd=None, index=1):
    """Median over `runs` runs of each command. Commands whose first run
    takes under 0.5 s run in interleaved rounds after three untimed ones,
    at least 21 timed rounds: the first runs after another command (an
    LLVM compile, an idle pause) are up to 0.7 ms slower on these VMs, and
    host noise drifts by 5% over a few runs, a tenth of a 2 ms program."""
    first = [timed(cmd, cwd)[index] for cmd in cmds]
    if min(first) >= 0.5:
        rest = [[timed(cmd, cwd)[index] for _ in range(runs - 1)] for cmd in cmds]
        return [statistics.median([f] + r) for f, r in zip(first, rest)]
    rounds = []
    for n in range(3 + max(runs, 21)):
        times = [timed(cmd, cwd)[index] for cmd in cmds]
        if n >= 3:
            rounds.append(times)
    return [statistics.median(column) for column in zip(*rounds)]


def coremark_run(cmd):
    """(seconds to exit, iterations per second) of one CoreMark run."""
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    elapsed = time.perf_counter() - start
    for line in out.splitlines():
        if line.startswith("Iterations/Sec"):
            return elapsed, float(line.split(":")[1])
    sys.exit(f"no score from {' '.join(cmd)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-coremark", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(WAMR):
        sys.exit("build first: cargo build --release -p wamr-cli")
    tmp = tempfile.mkdtemp()

    hello = os.path.join(ROOT, "examples", "hello.wat")
    first_interp, first_auto = medians(
        [[WAMR, "run", "--no-cache", "--tier", tier, hello] for tier in ("interp", "auto")], 20, index=0)
    print(f"(a) first output, hello.wat: interp {first_interp * 1e3:.2f} ms, "
          f"auto {first_auto * 1e3:.2f} ms, ratio {first_auto / first_interp:.2f}")
    # A longer program: its first line comes before most of the work.
    ctype = os.path.join(BENCH, "sightglass", "shootout")
    cmd = ["run", "--no-cache", "--bench-markers", "--dir", ".", "shootout-ctype.wasm"]
    first_interp, first_auto = medians(
        [[WAMR] + cmd[:1] + ["--tier", tier] + cmd[1:] for tier in ("interp", "auto")],
        args.runs, ctype, 0)
    print(f"    first output, shootout-ctype: interp {first_interp * 1e3:.1f} ms, "
          f"auto {first_auto * 1e3:.1f} ms, ratio {first_auto / first_interp:.2f}")

    if not args.skip_coremark:
        coremark = os.path.join(BENCH, "coremark", "coremark.wasm")
        aot_file = os.path.join(tmp, "coremark.aot")
        subprocess.run([WAMR, "aot", "--opt-level", "3", "--cpu", "native", "-o", aot_file,
                        coremark], check=True, stderr=subprocess.DEVNULL)
        t_aot, score_aot = coremark_run([WAMR, "run", aot_file])
        t_auto, score_auto = coremark_run([WAMR, "run", "--no-cache", "--tier", "auto", coremark])
        print(f"(b) CoreMark score: precompiled .aot {score_aot:.0f}, auto {score_auto:.0f}, "
              f"ratio aot / auto {score_aot / score_auto:.3f}; whole process {t_aot:.2f} s and "
              f"{t_auto:.2f} s (CoreMark calibrates its iteration count while it runs, and "
              f"takes no count as an argument, so its total time depends on the tier it "
              f"started in)")

    print("(c) Sightglass, whole process (s): interp, aot (compile included), auto, "
          "auto / best")
    ratios = []
    for name, work, wasm in sightglass.programs(tmp):
        base = [WAMR, "run", "--no-cache", "--bench-markers", "--dir", "."]
        cmd = {tier: base[:2] + ["--tier", tier] + base[2:] + [wasm]
               for tier in ("interp", "auto", "aot")}
        # The compile-heavy aot tier runs apart, after the two it would slow.
        t = dict(zip(("interp", "auto"), medians([cmd["interp"], cmd["auto"]], args.runs, work)))
        t["aot"] = median(cmd["aot"], args.runs, work)
        best = min(t["interp"], t["aot"])
        ratios.append(t["auto"] / best)
        print(f"    {name:24} {t['interp']:7.3f} {t['aot']:7.3f} {t['auto']:7.3f}"
              f"   {t['auto'] / best:.2f}")
    print(f"    geometric mean of auto / best: {statistics.geometric_mean(ratios):.2f}, "
          f"worst {max(ratios):.2f}")

    loop = os.path.join(ROOT, "benches", "programs", "longloop.wat")
    n = "400000000"
    t = {tier: median([WAMR, "run", "--no-cache", "--tier", tier, "--invoke", "run", loop, n], args.runs)
         for tier in ("interp", "auto", "aot")}
    print(f"(d) one call looping {n} times: interp {t['interp']:.2f} s, auto {t['auto']:.2f} s "
          f"(the loop moves to native code while it runs), aot {t['aot']:.2f} s; "
          f"interp / auto {t['interp'] / t['auto']:.1f}x")


if __name__ == "__main__":
    main()
