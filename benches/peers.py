#!/usr/bin/env python3
"""wamr-rs against wasmtime on the Sightglass programs, side by side in one run.

Whole-process time of each program in ../shared/bench/sightglass/ (median of
--runs), for
  - wamr-rs --tier aot (compiling the module first: what `wasmtime run` does),
  - wamr-rs --tier auto,
  - wasmtime run (its `bench.start`/`bench.end` imports are served by a
    preloaded no-op module),
and the ratios wamr-rs / wasmtime with their geometric means (below 1.0:
wamr-rs is faster). Needs `wasmtime` on PATH
(`cargo install wasmtime-cli --version 48.0.8 --locked`) and
`cargo build --release -p wamr-cli`.

Usage: benches/peers.py [--runs N] [--wasmtime PATH]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "..", "shared", "bench", "sightglass")
WAMR = os.path.join(ROOT, "target", "release", "wamr-rs")

BENCH_STUB = '(module (func (export "start")) (func (export "end")))'


def seconds(cmd, cwd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)} in {cwd}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wasmtime", default=shutil.which("wasmtime"))
    args = ap.parse_args()
    if not os.path.exists(WAMR):
        sys.exit("build first: cargo build --release -p wamr-cli")
    if not args.wasmtime:
        sys.exit("wasmtime is not on PATH: cargo install wasmtime-cli --version 48.0.8 --locked")
    tmp = tempfile.mkdtemp()
    stub = os.path.join(tmp, "bench.wasm")
    subprocess.run([WAMR, "wat2wasm", "/dev/stdin", "-o", stub], input=BENCH_STUB.encode(),
                   check=True)
    version = subprocess.run([args.wasmtime, "--version"], capture_output=True,
                             text=True).stdout.strip()
    print(f"whole process, median of {args.runs} (s); {version}")
    print(f"    {'program':24} {'aot':>7} {'auto':>7} {'wasmtime':>9}   aot/wt  auto/wt")
    aot_ratios, auto_ratios = [], []
    for folder in sorted(os.listdir(BENCH)):
        d = os.path.join(BENCH, folder)
        if not os.path.isdir(d):
            continue
        for wasm in sorted(f for f in os.listdir(d) if f.endswith(".wasm")):
            work = os.path.join(tmp, folder)
            os.makedirs(work, exist_ok=True)
            subprocess.run(["cp", "-r", d + "/.", work], check=True)
            runs = range(args.runs)
            wamr = [WAMR, "run", "--bench-markers", "--dir", "."]
            aot = statistics.median(seconds(wamr[:2] + ["--tier", "aot"] + wamr[2:] + [wasm],
                                            work) for _ in runs)
            auto = statistics.median(seconds(wamr[:2] + ["--tier", "auto"] + wamr[2:] + [wasm],
                                             work) for _ in runs)
            wt_cmd = [args.wasmtime, "run", "--dir", ".", "--preload", f"bench={stub}", wasm]
            wt = statistics.median(seconds(wt_cmd, work) for _ in runs)
            aot_ratios.append(aot / wt)
            auto_ratios.append(auto / wt)
            name = folder if wasm == "benchmark.wasm" else wasm[:-5]
            print(f"    {name:24} {aot:7.3f} {auto:7.3f} {wt:9.3f}   {aot / wt:6.2f}"
                  f"  {auto / wt:6.2f}")
    print(f"    geometric mean wamr-rs / wasmtime: aot {statistics.geometric_mean(aot_ratios):.2f}, "
          f"auto {statistics.geometric_mean(auto_ratios):.2f}")


if __name__ == "__main__":
    main()
