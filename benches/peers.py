#!/usr/bin/env python3
"""wamr-rs against wasmtime on the Sightglass programs, side by side in one run.

Whole-process time of each program in ../shared/bench/sightglass/ (median of
--runs), for
  - precompiled code: a `wamr-rs aot --opt-level 3 --cpu native` file, and
    `wasmtime compile` output run with `--allow-precompiled`;
  - compiling as it runs: wamr-rs --tier auto, and `wasmtime run` of the
    .wasm (which compiles the module first);
(wasmtime's `bench.start`/`bench.end` imports are served by a preloaded
no-op module), and the ratios wamr-rs / wasmtime with their geometric
means (below 1.0: wamr-rs is faster). Needs `wasmtime` on PATH
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

import sightglass
from sightglass import seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAMR = os.path.join(ROOT, "target", "release", "wamr-rs")

BENCH_STUB = '(module (func (export "start")) (func (export "end")))'


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
    print(f"    {'program':24} {'.aot':>7} {'.cwasm':>7}  ratio   {'auto':>7} {'wt run':>7}  ratio")
    pre_ratios, run_ratios = [], []
    for name, work, wasm in sightglass.programs(tmp):
        aot_file, cwasm = wasm[:-5] + ".aot", wasm[:-5] + ".cwasm"
        subprocess.run([WAMR, "aot", "--opt-level", "3", "--cpu", "native", "-o", aot_file,
                        wasm], cwd=work, check=True, stderr=subprocess.DEVNULL)
        subprocess.run([args.wasmtime, "compile", "-o", cwasm, wasm], cwd=work, check=True)

        def med(cmd):
            return statistics.median(seconds(cmd, work) for _ in range(args.runs))

        wamr = [WAMR, "run", "--bench-markers", "--dir", "."]
        wt = [args.wasmtime, "run", "--dir", ".", "--preload", f"bench={stub}"]
        aot = med(wamr + [aot_file])
        wt_pre = med(wt[:2] + ["--allow-precompiled"] + wt[2:] + [cwasm])
        auto = med(wamr[:2] + ["--tier", "auto"] + wamr[2:] + [wasm])
        wt_run = med(wt + [wasm])
        pre_ratios.append(aot / wt_pre)
        run_ratios.append(auto / wt_run)
        print(f"    {name:24} {aot:7.3f} {wt_pre:7.3f} {aot / wt_pre:6.2f}   {auto:7.3f}"
              f" {wt_run:7.3f} {auto / wt_run:6.2f}")
    print(f"    geometric mean wamr-rs / wasmtime: precompiled "
          f"{statistics.geometric_mean(pre_ratios):.2f}, compiling as it runs "
          f"{statistics.geometric_mean(run_ratios):.2f}")


if __name__ == "__main__":
    main()
