"""The Sightglass programs of ../shared/bench/sightglass/, and timing, for
the benchmark scripts beside this file."""

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGHTGLASS = os.path.join(ROOT, "..", "shared", "bench", "sightglass")


def programs(tmp):
    """(name, working directory, wasm file name) of every program, in order.
    Each runs in a copy of its folder under `tmp` (programs write files)."""
    for folder in sorted(os.listdir(SIGHTGLASS)):
        d = os.path.join(SIGHTGLASS, folder)
        if not os.path.isdir(d):
            continue
        for wasm in sorted(f for f in os.listdir(d) if f.endswith(".wasm")):
            work = os.path.join(tmp, folder)
            os.makedirs(work, exist_ok=True)
            subprocess.run(["cp", "-r", d + "/.", work], check=True)
            name = folder if wasm == "benchmark.wasm" else wasm[:-5]
            yield name, work, wasm


def seconds(cmd, cwd=None):
    """Whole-process wall time of `cmd` (output discarded); exits on failure."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)} in {cwd or '.'}")
    return elapsed
