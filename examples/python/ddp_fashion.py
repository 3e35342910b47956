#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Straggler-tolerant data parallelism: a LeNet on Fashion-MNIST with one slowed rank, plain DDP
(allreduce) against gradcode.torch's coded DDP hook (cyclic repetition code, s = 1).

    PYTHONPATH=<build>/python /usr/bin/python3 examples/python/ddp_fashion.py
    ... --procs 4 --slow-rank 2 --slow-ms 200 --steps 200 --scheme both

Both schemes see the same global batches (gradcode.torch.PartitionSampler: K = n partitions of
--partition-size samples; plain DDP rank i trains on partition i, a coded rank on its s + 1
partitions weighted by its row of B) and, without rounding, make the same updates — so they need
the same number of iterations to reach an accuracy and the time-to-accuracy ratio is the ratio
of the iteration times. The slow rank sleeps --slow-ms in every iteration it computes (between
forward and backward). Times are rank 0's training clock; accuracy is measured afterwards on
snapshots of rank 0's parameters taken every --eval-every iterations (evaluating during
training would slow rank 0 down). Results on stdout, progress on stderr.
"""

import argparse
import gzip
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(data_dir, seed):
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    paths = [os.path.join(data_dir, n) for n in names]
    if all(os.path.exists(p) for p in paths):
        xtr, ytr, xte, yte = (read_idx(p) for p in paths)
        to_x = lambda a: ((torch.from_numpy(a.astype(np.float32)) / 255.0 - 0.2860) / 0.3530).unsqueeze(1)
        to_y = lambda a: torch.from_numpy(a.astype(np.int64))
        return to_x(xtr), to_y(ytr), to_x(xte), to_y(yte), "fashion-mnist"
    print(f"note: Fashion-MNIST not found in {data_dir} (Debian package dataset-fashion-mnist); "
          "using synthetic 28x28 data (10 noisy class templates)")
    g = torch.Generator().manual_seed(seed)
    templates = torch.randn(10, 1, 28, 28, generator=g)

    def make(n):
        y = torch.randint(0, 10, (n,), generator=g)
        return templates[y] + 1.5 * torch.randn(n, 1, 28, 28, generator=g), y

    xtr, ytr = make(20000)
    xte, yte = make(2000)
    return xtr, ytr, xte, yte, "synthetic"


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank, args, scheme, port, xtr, ytr, queue):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.procs)
    import gradcode
    import gradcode.torch as gt

    n = args.procs
    torch.manual_seed(args.seed)
    model = nn.parallel.DistributedDataParallel(LeNet(), broadcast_buffers=False)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    sampler = gt.PartitionSampler(len(xtr), partitions=n, partition_size=args.partition_size, seed=args.seed)
    slow = rank == args.slow_rank
    snapshots, steps = [], args.steps

    def snapshot(it, elapsed):
        if rank == 0 and (it % args.eval_every == 0 or it == steps):
            snapshots.append((it, elapsed, [p.detach().clone() for p in model.module.parameters()]))
            if it % (5 * args.eval_every) == 0 or it == steps:
                log(f"[{scheme}] iteration {it}/{steps}  {elapsed:6.2f} s")

    helper = None
    if scheme == "coded":
        code = gradcode.cyclic_repetition_code(n, n, args.tolerance, dtype=np.float32)
        helper = gt.CodedDataParallel(model, code, sampler, deadline=args.deadline, run_ahead=args.run_ahead)

    def coded_closure(it, batch):
        out = model(xtr[batch.indices])
        loss = batch.loss(F.cross_entropy(out, ytr[batch.indices], reduction="none"))
        if slow:
            time.sleep(args.slow_ms / 1000.0)
        return loss

    dist.barrier()
    t0 = time.monotonic()
    snapshot(0, 0.0)
    computed = skipped = 0
    if scheme == "ddp":
        for it in range(steps):
            idx = sampler.split(it)[rank]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            if slow:
                time.sleep(args.slow_ms / 1000.0)
            loss.backward()
            opt.step()
            computed += 1
            snapshot(it + 1, time.monotonic() - t0)
    else:
        while helper.iteration < steps:
            info = helper.step(opt, coded_closure, stop=steps)
            computed += int(info.computed)
            skipped += len(info.skipped)
            snapshot(helper.iteration, time.monotonic() - t0)
    train_time = time.monotonic() - t0
    if helper is not None:
        helper.close()
    queue.put((rank, {"train_time": train_time, "computed": computed, "skipped": skipped,
                      "snapshots": [(it, el, [p.numpy() for p in ps]) for it, el, ps in snapshots]}))
    dist.barrier()
    dist.destroy_process_group()


def evaluate(snapshots, xte, yte):
    model = LeNet()
    out = []
    with torch.no_grad():
        for it, elapsed, params in snapshots:
            for p, v in zip(model.parameters(), params):
                p.copy_(torch.from_numpy(v))
            correct = sum(int((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum())
                          for i in range(0, len(xte), 1000))
            out.append((it, elapsed, correct / len(xte)))
    return out


def run_scheme(scheme, args, xtr, ytr, xte, yte):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=rank_main, args=(r, args, scheme, port, xtr, ytr, queue)) for r in range(args.procs)]
    for p in procs:
        p.start()
    results = {}
    while len(results) < args.procs:
        rank, res = queue.get(timeout=args.deadline * 4 + args.steps * (args.slow_ms / 1000.0 + 1))
        results[rank] = res
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"{scheme}: a rank exited with code {p.exitcode}")
    curve = evaluate(results[0]["snapshots"], xte, yte)
    for it, elapsed, acc in curve:
        log(f"[{scheme}] iteration {it:4d}  {elapsed:6.2f} s  test accuracy {acc:.4f}")
    hit = next(((it, el) for it, el, acc in curve if acc >= args.target_acc), None)
    slow = results.get(args.slow_rank)
    return {"iter_time": results[0]["train_time"] / args.steps, "train_time": results[0]["train_time"],
            "final_acc": curve[-1][2], "tta": hit[1] if hit else None, "tta_iter": hit[0] if hit else None,
            "slow_computed": slow["computed"] if slow else None, "slow_skipped": slow["skipped"] if slow else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", type=int, default=4, help="ranks (gloo on 127.0.0.1); default 4")
    ap.add_argument("--scheme", choices=["ddp", "coded", "both"], default="both")
    ap.add_argument("--tolerance", type=int, default=1, help="stragglers the coded scheme tolerates, s (default 1)")
    ap.add_argument("--slow-rank", type=int, default=2, help="rank that sleeps every iteration (-1: none)")
    ap.add_argument("--slow-ms", type=float, default=200.0)
    ap.add_argument("--steps", type=int, default=200, help="iterations (global batch = procs x partition size)")
    ap.add_argument("--partition-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--target-acc", type=float, default=0.75, help="accuracy for the time-to-accuracy figure")
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--eval-samples", type=int, default=2000, help="test images evaluated per snapshot")
    ap.add_argument("--run-ahead", type=int, default=4, help="coded: run-ahead limit R in iterations")
    ap.add_argument("--deadline", type=float, default=60.0, help="coded: seconds before StragglerTimeout")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=DATA_DIR)
    args = ap.parse_args()
    if args.procs < 2 or args.tolerance >= args.procs:
        ap.error("need --procs >= 2 and --tolerance < --procs")

    torch.set_num_threads(1)
    xtr, ytr, xte, yte, source = load_data(args.data_dir, args.seed)
    xte, yte = xte[:args.eval_samples], yte[:args.eval_samples]
    xtr.share_memory_(), ytr.share_memory_()
    print(f"data: {source}, {len(xtr)} training / {len(xte)} test images; {args.procs} ranks, global batch "
          f"{args.procs * args.partition_size}, {args.steps} iterations; rank {args.slow_rank} slowed by "
          f"{args.slow_ms:g} ms/iteration")

    schemes = ["ddp", "coded"] if args.scheme == "both" else [args.scheme]
    res = {}
    for scheme in schemes:
        log(f"== {scheme}")
        res[scheme] = r = run_scheme(scheme, args, xtr, ytr, xte, yte)
        tta = f"{r['tta']:.2f} s (iteration {r['tta_iter']})" if r["tta"] is not None else "not reached"
        extra = ""
        if scheme == "coded" and r["slow_computed"] is not None:
            extra = f", slow rank computed {r['slow_computed']} / skipped {r['slow_skipped']} iterations"
        print(f"{scheme:5s}: mean iteration {1000 * r['iter_time']:7.1f} ms, time to {args.target_acc:.0%} "
              f"accuracy {tta}, final accuracy {r['final_acc']:.4f}{extra}")
    if len(res) == 2:
        a, b = res["coded"], res["ddp"]
        if a["tta"] is not None and b["tta"] is not None:
            print(f"time-to-accuracy ratio coded/ddp: {a['tta'] / b['tta']:.3f}  "
                  f"(mean iteration time ratio {a['iter_time'] / b['iter_time']:.3f})")
        else:
            print(f"time-to-accuracy ratio coded/ddp: n/a (target {args.target_acc:.0%} not reached by both; "
                  f"mean iteration time ratio {a['iter_time'] / b['iter_time']:.3f})")


if __name__ == "__main__":
    main()
