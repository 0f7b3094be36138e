#!/usr/bin/env bash
# Measures startup as a user sees it: the whole `wamr-rs run` process on a
# WASI hello world (examples/hello.wat assembled to .wasm once, so text
# parsing is not counted). Runs wasmi and wasmtime on the same file when
# they are on PATH and prints the ratios, and says whether the binary links
# libLLVM dynamically (which would cost every run ~15 ms before `main`).
#
# The commands take turns: ROUNDS rounds (default 30), each running every
# command BATCH times (default 10) in a row. A command's figure is the median
# of its batch means, so a burst of machine noise spoils one batch, not the
# ratio. Needs only Rust, bash and awk.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-30}
batch=${BATCH:-10}
cargo build --release --quiet -p wamr-cli
bin=target/release/wamr-rs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" wat2wasm examples/hello.wat -o "$work/hello.wasm"

if ldd "$bin" | grep -qi llvm; then
  echo "wamr-rs links libLLVM dynamically: $(ldd "$bin" | grep -i llvm | awk '{print $1}' | tr '\n' ' ')"
else
  echo "wamr-rs does not link libLLVM dynamically"
fi

# name|command, in the order printed.
cmds=(
  "process spawn (/bin/true)|/bin/true"
  "wamr-rs run --tier interp|$bin run --tier interp $work/hello.wasm"
  "wamr-rs run (hello.wat, text)|$bin run --tier interp examples/hello.wat"
)
for name in wasmi_cli wasmi; do
  if command -v "$name" >/dev/null; then
    cmds+=("wasmi|$name $work/hello.wasm")
    break
  fi
done
if command -v wasmtime >/dev/null; then
  cmds+=("wasmtime|wasmtime run $work/hello.wasm")
fi

# Every command but /bin/true must print "hello".
for entry in "${cmds[@]}"; do
  read -r -a cmd <<<"${entry#*|}"
  out=$("${cmd[@]}")
  if [[ "$out" != "hello" && "${cmd[0]}" != /bin/true ]]; then
    echo "startup.sh: \`${cmd[*]}\` printed \"$out\", expected \"hello\"" >&2
    exit 1
  fi
done

# Batch means in ms, one file per command.
for ((r = 0; r < rounds; r++)); do
  for i in "${!cmds[@]}"; do
    read -r -a cmd <<<"${cmds[$i]#*|}"
    start=$(date +%s%N)
    for ((k = 0; k < batch; k++)); do "${cmd[@]}" >/dev/null; done
    end=$(date +%s%N)
    awk -v ns=$((end - start)) -v n="$batch" 'BEGIN { printf "%.4f\n", ns / n / 1e6 }' >>"$work/$i"
  done
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "median of $rounds batch means ($batch runs each, commands taking turns), whole process (ms):"
ours=$(median "$work/1")
for i in "${!cmds[@]}"; do
  name=${cmds[$i]%%|*}
  ms=$(median "$work/$i")
  if ((i >= 3)); then
    ratio=$(awk -v a="$ours" -v b="$ms" 'BEGIN { printf "%.2f", a / b }')
    printf '  %-34s %8s   (wamr-rs / %s = %s)\n' "$name" "$ms" "$name" "$ratio"
  else
    printf '  %-34s %8s\n' "$name" "$ms"
  fi
done
if ((${#cmds[@]} == 3)); then
  echo "(no wasmi_cli, wasmi or wasmtime on PATH to compare with)"
fi
