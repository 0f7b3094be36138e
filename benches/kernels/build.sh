#!/usr/bin/env bash
# Rebuilds the checked-in wasm kernels and the native results they must
# reproduce (tests/bench_programs.rs reads all three files):
#   simd.wasm             simd.c, hand-written SIMD, freestanding exports
#   kernels-simd128.wasm  kernels.c for WASI, auto-vectorised (-msimd128)
#   expected.txt          `name checksum` of the native builds, at the
#                         sizes the tests use (simd.c: 3 rounds; kernels.c:
#                         1 percent)
# Needs Debian's clang-19, lld-19, wasi-libc and libclang-rt-19-dev-wasm32.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# No FMA contraction natively: wasm has none, and the checksums must agree.
clang-19 --target=wasm32 -O3 -msimd128 -nostdlib -fuse-ld=lld -Wl,--no-entry -o simd.wasm simd.c
clang-19 --target=wasm32-wasi -O3 -msimd128 -o kernels-simd128.wasm kernels.c
clang-19 -O3 -march=native -ffp-contract=off -o "$work/simd" simd.c
clang-19 -O3 -march=native -ffp-contract=off -w -o "$work/kernels" kernels.c
{
  "$work/simd" 3 | awk '{ print "simd " $1 " " $3 }'
  "$work/kernels" all 1 | awk '{ print "kernels " $1 " " $3 }'
} > expected.txt
cat expected.txt
