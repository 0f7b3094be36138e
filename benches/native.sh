#!/usr/bin/env bash
# Compiled wasm against native code on the project's own kernels
# (benches/kernels/kernels.c), side by side in one run (not a test).
#
# Builds the kernels natively (clang-19 -O3 -march=native) and for
# wasm32-wasi (clang-19 -O3), compiles the wasm with `wamr-rs aot
# --opt-level 3 --cpu native`, runs both RUNS times (default 3) and prints
# each kernel's best time and native / wamr-rs (1.0: as fast as native).
# Needs Debian's clang-19, wasi-libc and libclang-rt-19-dev-wasm32.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
for tool in clang-19; do
  command -v "$tool" >/dev/null || { echo "native.sh: needs $tool (apt-get install clang-19 wasi-libc libclang-rt-19-dev-wasm32)" >&2; exit 1; }
done
cargo build --release --quiet -p wamr-cli
bin=target/release/wamr-rs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=benches/kernels/kernels.c
# No FMA contraction: wasm has no fused multiply-add, and the checksums
# must agree.
clang-19 -O3 -march=native -ffp-contract=off -w "$src" -o "$work/native"
clang-19 --target=wasm32-wasi -O3 "$src" -o "$work/kernels.wasm"
"$bin" aot --opt-level 3 --cpu native -o "$work/kernels.aot" "$work/kernels.wasm" 2>/dev/null

for ((i = 0; i < runs; i++)); do
  "$work/native" | sed 's/^/native /'
  "$bin" run "$work/kernels.aot" | sed 's/^/wamr /'
done > "$work/times"

awk '
  { key = $2; t = $3 + 0; sum[$1 "," key] = $4
    if (!(($1 "," key) in best) || t < best[$1 "," key]) best[$1 "," key] = t
    if (!(key in seen)) { seen[key] = 1; order[n++] = key } }
  END {
    printf "%-10s %10s %10s %8s\n", "kernel", "native s", "wamr-rs s", "ratio"
    logsum = 0
    for (i = 0; i < n; i++) {
      k = order[i]
      if (sum["native," k] != sum["wamr," k]) { printf "checksum mismatch in %s\n", k; exit 1 }
      r = best["native," k] / best["wamr," k]; logsum += log(r)
      printf "%-10s %10.4f %10.4f %8.2f\n", k, best["native," k], best["wamr," k], r
    }
    printf "geometric mean native / wamr-rs: %.2f\n", exp(logsum / n)
  }' "$work/times"
