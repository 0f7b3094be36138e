#!/usr/bin/env bash
# Prints wamr-rs : peer ratios from one side-by-side run (not a test).
#
# 1. The criterion group in benches/benches/interp.rs runs each kernel in
#    wamr-rs's interpreter and in wasmi 2.0 in one process; this script
#    reads criterion's estimates and prints time(wasmi) / time(wamr-rs)
#    (above 1.0: wamr-rs is faster).
# 2. If `wamr-rs` can run WASI programs and peer CLIs (wasmi_cli, wasm3,
#    iwasm) are on PATH, CoreMark scores of bench/coremark/coremark.wasm are
#    printed side by side. The wasmi and wasmtime CLIs never finish that
#    program (no process CPU-time clock), so they are skipped for it.
#
# Usage: benches/compare.sh [criterion filter]   (default: all kernels)
set -euo pipefail
cd "$(dirname "$0")/.."

filter="${1:-}"
cargo bench -p wamr-benches --bench interp -- --warm-up-time 2 --measurement-time 10 $filter

python3 - <<'PY'
import json, pathlib
root = pathlib.Path("target/criterion")
def mean(group, name):
    for p in root.glob(f"{group}/{name}*/**/new/estimates.json"):
        return json.loads(p.read_text())["mean"]["point_estimate"]
    return None
print()
print(f"{'kernel':<14}{'wamr-rs':>14}{'wasmi':>14}{'ratio':>9}")
for group in ["coremark", "fib", "memory-loop"]:
    ours, theirs = mean(group, "wamr-interp"), mean(group, "wasmi")
    if ours and theirs:
        print(f"{group:<14}{ours/1e6:>12.2f}ms{theirs/1e6:>12.2f}ms{theirs/ours:>9.2f}")
PY

coremark=../shared/bench/coremark/coremark.wasm
bin=target/release/wamr-rs
cargo build --release -p wamr-cli >/dev/null 2>&1 || true
score() { grep -o 'CoreMark 1.0 : [0-9.]*' | awk '{print $4}'; }
if [ -x "$bin" ]; then
  echo
  echo "CoreMark (coremark.wasm, whole process):"
  ours=$("$bin" run --tier interp "$coremark" 2>/dev/null | score || true)
  echo "  wamr-rs --tier interp: ${ours:-did not run}"
  for peer in wasm3 iwasm; do
    if command -v "$peer" >/dev/null; then
      theirs=$("$peer" "$coremark" 2>/dev/null | score || true)
      echo "  $peer: ${theirs:-did not run}"
    fi
  done
fi
