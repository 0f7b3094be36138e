#!/usr/bin/env bash
# CoreMark under the AOT tier against native code and the peers' AOT tiers.
#
# Compiles ../shared/bench/coremark/coremark.wasm with
# `wamr-rs aot --opt-level 3 --cpu native`, runs the .aot file RUNS times
# (default 3; each run takes about 10 s: CoreMark calibrates its iteration
# count) and prints the median score with its ratios to the CoreMark figures
# that ../shared/PEERS.md records for this kind of machine: native gcc -O3,
# WAMR's LLVM AOT and wasmtime (CoreMark's source is not in ../shared, and
# the wasmtime CLI never finishes coremark.wasm, lacking the process
# CPU-time clock, so these cannot be rerun here; benches/native.sh compares
# the project's own C kernels natively instead). Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
peers=../shared/PEERS.md
cargo build --release --quiet -p wamr-cli -p wamr-rs
bin=target/release/wamr-rs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" aot --opt-level 3 --cpu native -o "$work/coremark.aot" ../shared/bench/coremark/coremark.wasm
scores=()
for ((i = 0; i < runs; i++)); do
  s=$("$bin" run "$work/coremark.aot" | grep -o 'CoreMark 1.0 : [0-9.]*' | awk '{print $4}')
  echo "  run $((i + 1)): $s"
  scores+=("$s")
done
median=$(printf '%s\n' "${scores[@]}" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
printf 'wamr-rs --tier aot (-O3, native CPU): %.0f (median of %d)\n' "$median" "$runs"

# "| CoreMark, clang-19 build | native gcc -O3 35,413; ...; WAMR AOT 31,578; ...; wasmtime 28,631; ..."
row=$(grep -m1 '^| CoreMark, clang-19 build' "$peers" || true)
figure() { grep -o "$1 [0-9,]*" <<<"$row" | head -1 | awk '{gsub(",", "", $NF); print $NF}'; }
for peer in "native gcc -O3" "WAMR AOT" "wasmtime"; do
  theirs=$(figure "$peer")
  if [[ -z "$theirs" ]]; then
    echo "  ($peer: no figure in $peers)"
    continue
  fi
  awk -v a="$median" -v b="$theirs" -v p="$peer" 'BEGIN { printf "  against %-16s %6d: %.3fx\n", p, b, a / b }'
done
