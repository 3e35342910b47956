#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Encode/decode throughput of gradcode's Python module against the same C++ benchmarks.

Times, from Python, the kernels bench/codes_bench.cpp, hierarchical_bench.cpp and
polynomial_bench.cpp time in C++, with the same topology, float32, d = 1e6 (--d), the same byte
convention (every d-vector read once + the output written once) and the plans cached:

  cyclic_repetition n = K = 9, s = 2   encode (most loaded node, 3 inputs), decode (7 messages)
  hgc 4 edges x 10 workers, K = 40, s_e = 1, s_w = 2
                                       encode_held of worker (1, 2) (6 columns), edge decode at
                                       edge 1 (8 messages), master decode (3 edge results)
  polynomial N1 = N2 = 4, K = 4, r = 4, s = a = 1 per layer
                                       worker (0, 0) encode, relay 0 decode, server decode
                                       (3 messages each, node 0 straggling)

Every call goes through the binding (array checks, Eigen::Map over the numpy buffers, GIL
released) into the C++ kernel, writing `out=` in place. With --cxx DIR it also runs the C++
binaries in DIR (gradcode_codes_bench, gradcode_hierarchical_bench, gradcode_polynomial_bench,
e.g. build/release/bench) on the same cases and prints Python / C++.

  PYTHONPATH=build/py-dev/python /usr/bin/python3 bench/python_bench.py --cxx build/release/bench
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import gradcode


def best_seconds(fn, min_time=0.5, repeats=5):
    """Best per-call (wall, CPU) seconds over `repeats` runs of at least `min_time` / repeats each.
    CPU time (time.process_time) is what Google Benchmark's bytes_per_second divides by; on a
    loaded machine wall time also counts the time other processes held the core."""
    fn()  # warm (page faults, plan caches)
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= 0.05:
            break
        calls *= 2
    calls = max(1, int(calls * (min_time / repeats) / elapsed))
    wall = cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        wall = min(wall, (time.perf_counter() - t0) / calls)
        cpu = min(cpu, (time.process_time() - c0) / calls)
    return wall, cpu


def cases(d, dtype):
    """(name, C++ benchmark name, bytes per call, fn) for every timed kernel."""
    item = np.dtype(dtype).itemsize
    rng = np.random.default_rng(1)
    out = []

    # --- cyclic repetition, n = K = 9, s = 2 (codes_bench.cpp) ------------------------------------
    code = gradcode.cyclic_repetition_code(9, 9, 2, dtype=dtype)
    g = np.asfortranarray(rng.uniform(-1, 1, (d, 9)).astype(dtype))
    node = max(range(9), key=code.load)
    buf = np.empty(d, dtype=dtype)
    load = code.load(node)
    out.append(("cyclic_repetition encode", f"BM_cyclic_repetition_encode<float>/d:{d}/n:9/K:9/s:2", (load + 1) * d * item,
                lambda: code.encode(node, g, out=buf)))
    ids = list(range(2, 9))
    msgs = np.asfortranarray(np.stack([code.encode(i, g) for i in ids]).T)
    total = np.empty(d, dtype=dtype)
    code.decode(ids, msgs, out=total)
    assert np.linalg.norm(total - g.sum(axis=1, dtype=np.float64)) / np.linalg.norm(g.sum(axis=1, dtype=np.float64)) < 1e-4
    out.append(("cyclic_repetition decode", f"BM_cyclic_repetition_decode<float>/d:{d}/n:9/K:9/s:2", (len(ids) + 1) * d * item,
                lambda: code.decode(ids, msgs, out=total)))

    # --- HGC, 4 x 10, K = 40, s_e = 1, s_w = 2 (hierarchical_bench.cpp) ----------------------------
    hgc = gradcode.hgc_code([10] * 4, 40, 1, 2, dtype=dtype)
    w = (1, 2)
    held = np.asfortranarray(rng.uniform(-1, 1, (d, hgc.load(w))).astype(dtype))
    hbuf = np.empty(d, dtype=dtype)
    out.append(("hgc encode_held", f"BM_hgc_encode<float>/d:{d}/K:40/s_e:1/s_w:2", (hgc.load(w) + 1) * d * item,
                lambda: hgc.encode_held(w, held, out=hbuf)))
    worker_ids = list(range(2, 10))
    wmsgs = np.asfortranarray(rng.uniform(-1, 1, (d, len(worker_ids))).astype(dtype))
    G = np.empty(d, dtype=dtype)
    out.append(("hgc edge_decode", f"BM_hgc_edge_decode<float>/d:{d}/K:40/s_e:1/s_w:2", (len(worker_ids) + 1) * d * item,
                lambda: hgc.edge_decode(1, worker_ids, wmsgs, out=G)))
    edge_ids = [1, 2, 3]
    emsgs = np.asfortranarray(rng.uniform(-1, 1, (d, 3)).astype(dtype))
    M = np.empty(d, dtype=dtype)
    out.append(("hgc master_decode", f"BM_hgc_master_decode<float>/d:{d}/K:40/s_e:1/s_w:2", 4 * d * item,
                lambda: hgc.master_decode(edge_ids, emsgs, out=M)))

    # --- polynomial HGC, N = 4, r = 4, s = a = 1 (polynomial_bench.cpp) ----------------------------
    clusters = gradcode.place_partitions(gradcode.polynomial_placement([4] * 4, 4, relay_replication=4, worker_replication=[4]))
    poly = gradcode.polynomial_hgc(d, clusters, relay_stragglers=1, relay_adversaries=1, worker_stragglers=[1],
                                   worker_adversaries=[1], dtype=dtype)
    pg = np.asfortranarray(rng.uniform(-1, 1, (d, 4)).astype(dtype))
    C1, C2 = poly.relay_message_length(), poly.worker_message_length(0)
    pw = np.empty(C2, dtype=dtype)
    held_cols = len(poly.worker_partitions((0, 0)))
    out.append(("polynomial worker encode", f"BM_polynomial_worker_encode<float>/d:{d}/N:4", (held_cols * d + C2) * item,
                lambda: poly.encode((0, 0), pg, out=pw)))
    live = [1, 2, 3]
    relay_msgs = {i: np.asfortranarray(np.stack([poly.encode((i, j), pg) for j in live]).T) for i in range(4)}
    r_out = np.empty(C1, dtype=dtype)
    out.append(("polynomial relay decode", f"BM_polynomial_relay_decode<float>/d:{d}/N:4/adv:0", (3 * C2 + C1) * item,
                lambda: poly.relay_decode(0, live, relay_msgs[0], out=r_out)))
    relay_results = np.asfortranarray(np.stack([poly.relay_decode(i, live, relay_msgs[i])[0] for i in live]).T)
    s_out = np.empty(d, dtype=dtype)
    poly.server_decode(live, relay_results, out=s_out)
    ref = pg.sum(axis=1, dtype=np.float64)
    assert np.linalg.norm(s_out - ref) / np.linalg.norm(ref) < 1e-4
    out.append(("polynomial server decode", f"BM_polynomial_server_decode<float>/d:{d}/N:4/adv:0", (3 * C1 + d) * item,
                lambda: poly.server_decode(live, relay_results, out=s_out)))
    return out


def cxx_results(directory, names):
    """bytes_per_second (best of 5 repetitions) of the named C++ benchmarks, run from `directory`."""
    binaries = {"BM_cyclic": "gradcode_codes_bench", "BM_hgc": "gradcode_hierarchical_bench",
                "BM_polynomial": "gradcode_polynomial_bench"}
    found = {}
    for prefix, binary in binaries.items():
        path = os.path.join(directory, binary)
        wanted = [n for n in names if n.startswith(prefix + "_")]
        if not os.path.exists(path) or not wanted:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            res = subprocess.run([path, "--benchmark_filter=" + "|".join("^" + _escape(n) + "$" for n in wanted),
                                  "--benchmark_out=" + report.name, "--benchmark_out_format=json",
                                  "--benchmark_min_time=0.5", "--benchmark_repetitions=5"],
                                 capture_output=True, text=True, check=False)
            if res.returncode != 0:
                print(f"  ({binary} failed: {res.stderr.strip()[:200]})", file=sys.stderr)
                continue
            results = json.load(open(report.name))
        for b in results["benchmarks"]:
            if b.get("run_type") == "iteration" and b["name"] in names:
                found[b["name"]] = max(found.get(b["name"], 0.0), b["bytes_per_second"])
    return found


def _escape(name):
    out = ""
    for ch in name:
        out += "\\" + ch if ch in ".+*?()[]{}|^$\\" else ch
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=1_000_000, help="gradient length (default 1e6)")
    ap.add_argument("--cxx", metavar="DIR", help="directory of the C++ benchmark binaries to compare with")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per timing run")
    args = ap.parse_args()
    timed = cases(args.d, np.float32)
    cxx = cxx_results(args.cxx, [c[1] for c in timed]) if args.cxx else {}
    print(f"gradcode {gradcode.__version__} Python module, float32, d = {args.d}, best of 5; GB/s = bench_common.hpp bytes "
          "per CPU second (as Google Benchmark's bytes_per_second), wall ms for reference")
    print(f"{'kernel':26} {'wall ms':>8} {'CPU ms':>8} {'GB/s':>7}" + (f" {'C++ GB/s':>9} {'Py/C++':>7}" if cxx else ""))
    for name, cxx_name, nbytes, fn in timed:
        wall, cpu = best_seconds(fn, args.min_time)
        gbs = nbytes / cpu / 1e9
        line = f"{name:26} {wall * 1e3:8.3f} {cpu * 1e3:8.3f} {gbs:7.2f}"
        if cxx:
            ref = cxx.get(cxx_name)
            line += f" {ref / 1e9:9.2f} {gbs / (ref / 1e9):7.2f}" if ref else f" {'-':>9} {'-':>7}"
        print(line)


if __name__ == "__main__":
    main()
