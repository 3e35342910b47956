# SPDX-License-Identifier: MIT
"""gradcode.torch: the coded DDP helper against plain DDP, with and without a straggler.

Run: PYTHONPATH=<build>/python /usr/bin/python3 -m unittest -v test_ddp   (from tests/python)

Each distributed test spawns its ranks (gloo on 127.0.0.1, one thread each) and collects their
results through a queue with a hard timeout, so a hang fails the test instead of blocking ctest.
"""

import os
import socket
import time
import traceback
import unittest

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

import gradcode
import gradcode.torch as gt

# float32 parameter-equality tolerance after STEPS coded steps vs plain DDP (absolute, on
# parameters of magnitude <= ~0.5): measured max difference ~1e-7; a missing 1/K or a wrong
# weight gives differences of 1e-2 and more.
PARAM_TOL = 2e-6
STEPS = 5


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data(seed=0, samples=240, features=12, classes=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, features, generator=g)
    w = torch.randn(features, classes, generator=g)
    y = (x @ w).argmax(1)
    return x, y


def _model(seed=0, features=12, classes=4):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(features, 32), torch.nn.Tanh(), torch.nn.Linear(32, classes))


def _init(rank, world, port):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)


def _flat(params):
    return torch.cat([p.detach().reshape(-1) for p in params])


def _worker(target, rank, world, port, queue, args):
    try:
        _init(rank, world, port)
        result = target(rank, world, *args)
        queue.put((rank, "ok", result))
    except BaseException as e:  # reported to the parent, which fails the test
        queue.put((rank, "error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
    queue.close()
    queue.join_thread()  # flush the result, then skip interpreter teardown: a rank that gave up
    os._exit(0)          # (test c) still has gloo operations posted


def _run(target, world, args=(), timeout=60.0):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_worker, args=(target, r, world, port, queue, args), daemon=True)
             for r in range(world)]
    for p in procs:
        p.start()
    results, t_end = {}, time.monotonic() + timeout
    try:
        while len(results) < world:
            left = t_end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"ranks {sorted(set(range(world)) - set(results))} did not finish in {timeout} s")
            try:
                rank, status, payload = queue.get(timeout=left)
            except Exception:
                continue
            if status != "ok":
                raise AssertionError(f"rank {rank} failed: {payload}")
            results[rank] = payload
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
    return results


def _code(world, tolerance):
    return gradcode.cyclic_repetition_code(world, world, tolerance, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# rank bodies (module level: spawned processes import them by name)


def _equal_to_ddp(rank, world):
    """(a) + (d): STEPS coded steps vs STEPS plain-DDP steps from the same start; and rank's
    iteration-0 message vs Σ_k B_ik ∇L_k computed partition by partition."""
    x, y = _data()
    code = _code(world, 1)
    sampler = gt.PartitionSampler(len(x), partitions=world, partition_size=10, seed=3)

    # reference coded message of iteration 0: Σ_k B_ik ∇L_k, one partition at a time
    ref_model = _model()
    B = code.encoding_matrix()
    split = sampler.split(0)
    ref = {}
    for k in code.partitions_of(rank):
        ref_model.zero_grad()
        F.cross_entropy(ref_model(x[split[k]]), y[split[k]]).backward()
        for name, p in ref_model.named_parameters():
            ref[name] = ref.get(name, 0) + float(B[rank, k]) * p.grad.detach().clone()

    coded = torch.nn.parallel.DistributedDataParallel(_model(), broadcast_buffers=False)
    opt = torch.optim.SGD(coded.parameters(), lr=0.2, momentum=0.9)
    helper = gt.CodedDataParallel(coded, code, sampler, deadline=30, run_ahead=2, catch_up=False,
                                  record_messages=True)

    def closure(it, batch):
        return batch.loss(F.cross_entropy(coded(x[batch.indices]), y[batch.indices], reduction="none"))

    while helper.iteration < STEPS:
        helper.step(opt, closure, stop=STEPS)
    helper.close()

    msg, params = helper.messages[(0, 0)]
    names = {id(p): n for n, p in coded.module.named_parameters()}
    expected = torch.cat([ref[names[id(p)]].reshape(-1) for p in params])
    message_err = float((msg - expected).abs().max() / expected.abs().max())
    pidx = {id(p): i for i, p in enumerate(coded.module.parameters())}
    param_order_ok = sorted(pidx[id(p)] for p in params) == list(range(len(pidx)))  # one bucket holds all

    plain = torch.nn.parallel.DistributedDataParallel(_model(), broadcast_buffers=False)
    opt2 = torch.optim.SGD(plain.parameters(), lr=0.2, momentum=0.9)
    for it in range(STEPS):
        idx = sampler.split(it)[rank]  # plain DDP: partition i is rank i's batch
        opt2.zero_grad()
        F.cross_entropy(plain(x[idx]), y[idx]).backward()
        opt2.step()
    dist.barrier()
    diff = float((_flat(coded.parameters()) - _flat(plain.parameters())).abs().max())
    moved = float((_flat(plain.parameters()) - _flat(_model().parameters())).abs().max())
    return {"diff": diff, "moved": moved, "message_err": message_err, "one_bucket": param_order_ok,
            "decodes": helper.decode_log}


def _straggler(rank, world, slow_rank, slow_s, steps, run_ahead):
    """(b): rank slow_rank sleeps slow_s between forward and backward of every iteration it computes."""
    x, y = _data()
    code = _code(world, 1)
    sampler = gt.PartitionSampler(len(x), partitions=world, partition_size=10, seed=5)
    model = torch.nn.parallel.DistributedDataParallel(_model(), broadcast_buffers=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    helper = gt.CodedDataParallel(model, code, sampler, deadline=30, run_ahead=run_ahead)
    starts, steps_taken = {}, []  # iteration -> start time (monotonic: one clock for all ranks)

    def closure(it, batch):
        starts[it] = time.monotonic()
        loss = batch.loss(F.cross_entropy(model(x[batch.indices]), y[batch.indices], reduction="none"))
        if rank == slow_rank:
            time.sleep(slow_s)
        return loss

    computed, skipped = [], []
    t0 = time.monotonic()
    while helper.iteration < steps:
        first, t_step = helper.iteration, time.monotonic()
        info = helper.step(opt, closure, stop=steps)
        steps_taken.append((t_step, first, helper.iteration))
        skipped += info.skipped
        if info.computed:
            computed.append(info.iteration)
    elapsed = time.monotonic() - t0
    helper.close()
    return {"elapsed": elapsed, "computed": computed, "skipped": skipped, "decodes": helper.decode_log,
            "iteration": helper.iteration, "params": _flat(model.parameters()).numpy(), "starts": starts,
            "steps": steps_taken}


def _too_many_missing(rank, world, deadline):
    """(c): ranks other than 0 never step; rank 0 must fail by its deadline."""
    x, y = _data()
    code = _code(world, 1)
    sampler = gt.PartitionSampler(len(x), partitions=world, partition_size=10)
    model = torch.nn.parallel.DistributedDataParallel(_model(), broadcast_buffers=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    helper = gt.CodedDataParallel(model, code, sampler, deadline=deadline)
    if rank != 0:
        time.sleep(deadline + 1)  # absent for longer than rank 0's deadline
        return None
    t0 = time.monotonic()
    try:
        helper.step(opt, lambda it, b: b.loss(F.cross_entropy(model(x[b.indices]), y[b.indices], reduction="none")))
    except gt.StragglerTimeout as e:
        return {"elapsed": time.monotonic() - t0, "missing": e.missing, "message": str(e)}
    return {"elapsed": time.monotonic() - t0, "missing": None, "message": "no error"}


# ---------------------------------------------------------------------------------------------


class CodedLossWeightingTest(unittest.TestCase):
    """(d) in one process, float64: the coded loss's gradient is exactly Σ_k B_ik ∇L_k."""

    def test_gradient_is_the_coded_message(self):
        x, y = _data()
        x = x.double()
        cases = ((4, 4, 1, gradcode.cyclic_repetition_code), (4, 8, 1, gradcode.cyclic_repetition_code),
                 (4, 4, 1, gradcode.fractional_repetition_code), (3, 3, 2, gradcode.cyclic_repetition_code))
        for world, K, tol, make in cases:
            code = make(world, K, tol)
            B = code.encoding_matrix()
            sampler = gt.PartitionSampler(len(x), partitions=K, partition_size=7, seed=11)
            model = _model().double()
            for rank in range(world):
                batch = gt.CodedBatch(4, code.partitions_of(rank), sampler.split(4), B[rank])
                model.zero_grad()
                batch.loss(F.cross_entropy(model(x[batch.indices]), y[batch.indices], reduction="none")).backward()
                got = _flat(p.grad for p in model.parameters())
                want = torch.zeros_like(got)
                self.assertEqual(len(batch.partitions), (tol + 1) * K // world)
                for k in code.partitions_of(rank):
                    model.zero_grad()
                    idx = sampler.split(4)[k]
                    F.cross_entropy(model(x[idx]), y[idx]).backward()
                    want += float(B[rank, k]) * _flat(p.grad for p in model.parameters())
                err = float((got - want).abs().max())
                self.assertLess(err, 1e-13 * float(want.abs().max()), f"{make.__name__} rank {rank}: {err}")
                self.assertGreater(float(want.abs().max()), 1e-3)

    def test_sampler_is_deterministic_and_partitions_the_batch(self):
        a = gt.PartitionSampler(1000, partitions=4, partition_size=25, seed=7)
        b = gt.PartitionSampler(1000, partitions=4, partition_size=25, seed=7)
        for it in (0, 3, 9, 10, 25):  # 10 iterations per epoch: 10 and 25 are in epochs 1 and 2
            sa, sb = a.split(it), b.split(it)
            self.assertEqual(len(sa), 4)
            for pa, pb in zip(sa, sb):
                self.assertTrue(torch.equal(pa, pb))
            self.assertEqual(torch.cat(sa).unique().numel(), 100)  # disjoint partitions
        self.assertFalse(torch.equal(a.split(0)[0], a.split(10)[0]))  # a new epoch reshuffles
        self.assertFalse(torch.equal(a.split(0)[0], gt.PartitionSampler(1000, 4, 25, seed=8).split(0)[0]))
        epoch = torch.cat([torch.cat(a.split(it)) for it in range(10)])
        self.assertEqual(epoch.unique().numel(), 1000)  # one epoch visits every sample once


class CodedDDPEqualsPlainDDPTest(unittest.TestCase):
    """(a) no straggler, fixed seed: coded parameters == plain DDP's after STEPS steps; (d) the hook
    receives exactly rank i's coded message."""

    def test_parameters_equal_plain_ddp(self):
        res = _run(_equal_to_ddp, 3)
        for rank, r in sorted(res.items()):
            print(f"rank {rank}: max |coded - ddp| = {r['diff']:.3g} (parameters moved {r['moved']:.3g}), "
                  f"message rel. error {r['message_err']:.3g}")
            self.assertGreater(r["moved"], 1e-2)  # the runs trained
            self.assertLess(r["diff"], PARAM_TOL)
            self.assertTrue(r["one_bucket"])
            self.assertLess(r["message_err"], 1e-5)
            self.assertEqual(sorted({it for it, _, _ in r["decodes"]}), list(range(STEPS)))
            for it, b, used in r["decodes"]:
                self.assertIn(rank, used)          # a rank that computed decodes with its own message
                self.assertEqual(len(used), 2)     # the first n - s = 2 messages


class StragglerTest(unittest.TestCase):
    """(b) one slowed rank: the fast ranks finish without waiting for it each iteration, never
    decode with its (late) messages, and the slow rank catches up to identical parameters."""

    def test_fast_ranks_do_not_wait(self):
        world, slow, slow_s, steps, R = 3, 2, 0.4, 8, 3
        res = _run(_straggler, world, (slow, slow_s, steps, R))
        # when the slow rank began the step that sent (or skipped) each iteration
        began = {u: t for t, first, end in res[slow]["steps"] for u in range(first, end)}
        for rank, r in sorted(res.items()):
            print(f"rank {rank}: {r['elapsed']:.2f} s for {steps} iterations, computed {r['computed']}, "
                  f"skipped {r['skipped']}")
            self.assertEqual(r["iteration"], steps)
        for rank in (0, 1):
            r = res[rank]
            self.assertEqual(r["computed"], list(range(steps)))
            self.assertEqual(sorted({it for it, _, _ in r["decodes"]}), list(range(steps)))
            for it, b, used in r["decodes"]:
                self.assertNotIn(slow, used, f"rank {rank} iteration {it} decoded with the slow rank's message")
            # plain DDP would take >= steps * slow_s; the run-ahead limit lets the fast ranks wait
            # for the slow rank about once per R iterations
            self.assertLess(r["elapsed"], 0.6 * steps * slow_s)
            # ... but no more than R ahead: iteration t starts after the slow rank handled t - R
            for t in range(R, steps):
                self.assertGreater(r["starts"][t], began[t - R], f"rank {rank} started {t} too early")
        self.assertGreater(len(res[slow]["skipped"]), 0)  # the catch-up path ran
        self.assertEqual(sorted(res[slow]["computed"] + res[slow]["skipped"]), list(range(steps)))
        for rank in (1, 2):
            d = float(np.abs(res[rank]["params"] - res[0]["params"]).max())
            self.assertLess(d, PARAM_TOL, f"rank {rank} parameters differ from rank 0's by {d}")


class TooManyMissingTest(unittest.TestCase):
    """(c) more than s ranks absent: a StragglerTimeout naming them at the deadline, not a hang."""

    def test_clear_error_by_the_deadline(self):
        deadline = 2.0
        res = _run(_too_many_missing, 3, (deadline,))
        r = res[0]
        print(f"rank 0: {r['message']} after {r['elapsed']:.2f} s")
        self.assertEqual(r["missing"], [1, 2], r["message"])
        self.assertIn("missing rank(s) [1, 2]", r["message"])
        self.assertGreaterEqual(r["elapsed"], deadline - 0.1)
        self.assertLess(r["elapsed"], deadline + 2.0)


if __name__ == "__main__":
    unittest.main()
