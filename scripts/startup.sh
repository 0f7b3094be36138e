#!/usr/bin/env bash
# Measures startup as a user sees it: the whole `wamr-rs run` process on a
# WASI hello world (examples/hello.wat assembled to .wasm once, so text
# parsing is not counted), averaged over RUNS runs (default 50). Runs wasmi
# and wasmtime on the same file when they are on PATH and prints the ratios,
# and says whether the binary links libLLVM dynamically (which would cost
# every run ~15 ms before `main`). Needs only Rust, bash and awk.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-50}
cargo build --release --quiet -p wamr-cli
bin=target/release/wamr-rs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" wat2wasm examples/hello.wat -o "$work/hello.wasm"

# Mean wall time of a command in ms, after one run that checks its output.
mean_ms() {
  local out
  out=$("$@")
  if [[ "$out" != "hello" && "$*" != "/bin/true" ]]; then
    echo "startup.sh: \`$*\` printed \"$out\", expected \"hello\"" >&2
    exit 1
  fi
  local start end
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$@" >/dev/null; done
  end=$(date +%s%N)
  awk -v ns=$((end - start)) -v n="$runs" 'BEGIN { printf "%.2f", ns / n / 1e6 }'
}

if ldd "$bin" | grep -qi llvm; then
  echo "wamr-rs links libLLVM dynamically: $(ldd "$bin" | grep -i llvm | awk '{print $1}' | tr '\n' ' ')"
else
  echo "wamr-rs does not link libLLVM dynamically"
fi

echo "mean of $runs runs, whole process (ms):"
base=$(mean_ms /bin/true)
printf '  %-34s %8s\n' "process spawn (/bin/true)" "$base"
ours=$(mean_ms "$bin" run --tier interp "$work/hello.wasm")
printf '  %-34s %8s\n' "wamr-rs run --tier interp" "$ours"
text=$(mean_ms "$bin" run --tier interp examples/hello.wat)
printf '  %-34s %8s\n' "wamr-rs run (hello.wat, text)" "$text"

# Peers, when installed: wasmi's CLI is `wasmi_cli` (or `wasmi`).
declare -A peers=()
for name in wasmi_cli wasmi; do
  if command -v "$name" >/dev/null; then
    peers[wasmi]="$name $work/hello.wasm"
    break
  fi
done
if command -v wasmtime >/dev/null; then
  peers[wasmtime]="wasmtime run $work/hello.wasm"
fi
for peer in "${!peers[@]}"; do
  read -r -a cmd <<<"${peers[$peer]}"
  theirs=$(mean_ms "${cmd[@]}")
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
  printf '  %-34s %8s   (wamr-rs / %s = %s)\n' "$peer" "$theirs" "$peer" "$ratio"
done
if ((${#peers[@]} == 0)); then
  echo "(no wasmi_cli, wasmi or wasmtime on PATH to compare with)"
fi
