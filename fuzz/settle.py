#!/usr/bin/env python3
"""Settles a differential divergence with a third engine, wasmtime.

For each seed, replays the plan of `cargo run --example trace -- SEED
--json` (the module, its calls and arguments) in wasmtime through its
Python package, with the same host functions (`fuzz/src/host.rs`), and
compares every call's result and every scalar exported global with what
the wamr-rs interpreter and wasmi did. It prints, per seed, which of the
two wasmtime agrees with. WASI imports trap in wasmtime here, so where an
engine disagrees with wasmtime only from the first call that reached
WASI on, the seed is reported unsettled. v128 globals are not compared
(the Python API cannot read them).

Usage: fuzz/settle.py SEED...   (needs `pip install wasmtime`)
"""

import json
import os
import struct
import subprocess
import sys

from wasmtime import Config, Engine, Func, FuncType, Instance, Module, Store, Trap, Val, ValType

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def trace(seed):
    out = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "wamr-fuzz", "--example", "trace", "--", str(seed), "--json"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class Host:
    """The host functions of fuzz/src/host.rs: a shared call counter."""

    def __init__(self):
        self.tick = 0

    def bump(self, by):
        t = self.tick
        self.tick += by
        return t

    def mix(self, x):
        r = ((x * 0x9E3779B1) & 0xFFFFFFFF) ^ self.bump(1)
        return r - (1 << 32) if r >= 1 << 31 else r

    def mix64(self, x, y):
        x &= (1 << 64) - 1
        s = y & 63
        r = ((x << s) | (x >> (64 - s))) & ((1 << 64) - 1) if s else x
        r ^= self.bump(1)
        return r - (1 << 64) if r >= 1 << 63 else r

    def sink(self, a, b, _c, _d):
        self.bump(1 + ((a & 0xFFFFFFFF) ^ (b & 0xFFFFFFFF)) % 7)


def arg(kind, v):
    if kind == "i32":
        return Val.i32(v)
    if kind == "i64":
        return Val.i64(v)
    if kind == "f32":
        return Val.f32(struct.unpack("<f", struct.pack("<I", v))[0])
    if kind == "f64":
        return Val.f64(struct.unpack("<d", struct.pack("<Q", v))[0])
    raise ValueError(f"argument kind {kind}")


def scalar(kind_value):
    """A trace value as comparable bits, or None when not compared."""
    kind, *rest = kind_value
    return (kind, rest[0]) if kind in ("i32", "i64", "f32", "f64") else None


def replay(t):
    cfg = Config()
    cfg.wasm_simd = True
    cfg.wasm_reference_types = True
    cfg.wasm_multi_value = True
    cfg.wasm_bulk_memory = True
    cfg.wasm_tail_call = True
    cfg.wasm_multi_memory = True
    cfg.wasm_memory64 = True
    engine = Engine(cfg)
    store = Store(engine)
    module = Module(engine, bytes.fromhex(t["wasm"]))
    host = Host()
    wasi_hit = []
    imports = []
    for imp in module.imports:
        if imp.module == "host" and hasattr(host, imp.name):
            imports.append(Func(store, imp.type, getattr(host, imp.name)))
        else:
            def stub(*_args, name=imp.name):
                wasi_hit.append(name)
                raise Trap(f"{name} is not provided here")
            imports.append(Func(store, imp.type, stub))
    instance = Instance(store, module, imports)
    exports = instance.exports(store)
    rows = []
    for call in t["calls"]:
        before = len(wasi_hit)
        try:
            r = exports[call["export"]](store, *[arg(k, v) for k, v in call["args"]])
            result = ("ok", r if isinstance(r, list) else ([] if r is None else [r]))
        except Exception:
            result = ("trap", None)
        reached_wasi = len(wasi_hit) > before
        globals_ = []
        for name in t["globals"]:
            try:
                globals_.append(exports[name].value(store))
            except Exception:
                globals_.append(None)
        rows.append((result, globals_, reached_wasi))
    return rows


def first_difference(engine_calls, rows):
    """The index of the first call where an engine's trace differs from
    wasmtime's rows where comparable (integer results and globals, trap or
    not), or None."""
    if not isinstance(engine_calls, list):
        return 0
    for i, (call, (result, globals_, _)) in enumerate(zip(engine_calls, rows)):
        kind, values = result
        if ("ok" in call["result"]) != (kind == "ok"):
            return i
        pairs = list(zip(call["globals"], globals_))
        if kind == "ok":
            pairs += zip(call["result"]["ok"], values)
        for mine, theirs in pairs:
            if mine[0] in ("i32", "i64") and isinstance(theirs, int) and mine[1] != theirs:
                return i
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for seed in map(int, sys.argv[1:]):
        t = trace(seed)
        rows = replay(t)
        wasi = next((i for i, row in enumerate(rows) if row[2]), None)
        wamr, wasmi = first_difference(t["interp"], rows), first_difference(t["wasmi"], rows)
        if wamr is None and wasmi is None:
            verdict = "wamr-rs, wasmi and wasmtime agree where compared"
        elif wamr is None:
            verdict = f"wasmtime agrees with wamr-rs; wasmi differs at call {wasmi}: a wasmi bug"
        elif wasi is not None and wamr >= wasi:
            verdict = f"unsettled: wamr-rs differs from wasmtime at call {wamr}, after WASI"
        elif wasmi is None:
            verdict = f"wasmtime agrees with wasmi; wamr-rs differs at call {wamr}: a wamr-rs bug"
        else:
            verdict = f"wasmtime agrees with neither (wamr-rs differs at call {wamr}, wasmi at {wasmi})"
        print(f"seed {seed}: {verdict}")


if __name__ == "__main__":
    main()
