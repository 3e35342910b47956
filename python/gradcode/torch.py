# SPDX-License-Identifier: MIT
"""gradcode.torch: straggler-tolerant data-parallel training with torch.distributed (gloo).

n ranks train one model on a global batch split into K partitions (K = n, or a multiple of n).
Rank i computes on the partitions ``code.partitions_of(i)`` and weights partition k's mean loss by
B[i, k] (B = ``code.encoding_matrix()``), so one backward pass yields its coded message
Σ_k B_ik ∇L_k. A DDP communication hook sends that message to every other rank and decodes the
exact Σ_k ∇L_k / K from the first n − s messages to arrive — the same update as plain DDP when
each partition is one rank's batch — so up to s late ranks cost nothing (a persistently slow
one skips iterations to keep up, within the run-ahead limit below).

Quick use (every rank)::

    code = gradcode.cyclic_repetition_code(nodes=n, partitions=n, tolerance=1, dtype=numpy.float32)
    ddp = DistributedDataParallel(model, broadcast_buffers=False)
    sampler = gradcode.torch.PartitionSampler(len(train_x), partitions=n, partition_size=32, seed=0)
    helper = gradcode.torch.CodedDataParallel(ddp, code, sampler, deadline=60, run_ahead=4)

    def closure(iteration, batch):                       # batch: this rank's CodedBatch
        out = ddp(train_x[batch.indices])
        return batch.loss(F.cross_entropy(out, train_y[batch.indices], reduction="none"))

    while helper.iteration < steps:
        helper.step(optimizer, closure, stop=steps)     # catch up / run-ahead wait / compute
    helper.close()

Decisions (the contract of this module):

* Coded loss. ``CodedBatch.loss(per_sample_loss)`` = Σ_{k ∈ partitions_of(i)} B_ik · mean_{x ∈ P_k}
  ℓ(x), computed as one weighted sum over the concatenated batch (sample weight B_ik / |P_k|), so
  the rank's partitions go through ONE forward/backward. Its gradient is exactly rank i's coded
  message (tests/python/test_ddp.py checks it against Σ_k B_ik ∇L_k computed partition by
  partition). Modules whose output for a sample depends on the other samples of the batch
  (BatchNorm in training mode) break this identity: use GroupNorm/LayerNorm.
* Sampler. ``PartitionSampler`` cuts each epoch's permutation (torch.Generator seeded from
  (seed, epoch)) into global batches of K · partition_size samples and each global batch into K
  consecutive partitions: every rank computes the same split for (seed, epoch, iteration) without
  communicating. Iterations are numbered globally (epoch = iteration // iterations_per_epoch).
  It is an index-level helper, not a DataLoader sampler: a rank that catches up skips iterations,
  which a prefetching DataLoader cannot know; fetch ``batch.indices`` from an in-memory dataset
  or your own loader keyed by iteration.
* Transport. A process group of its own (``dist.new_group`` over all ranks, created by the
  constructor — a collective: construct the helper on every rank in the same order), gloo
  isend/irecv. Tag = (iteration mod 2^22) · 256 + slot; slot 0 is the per-iteration header
  [iteration, status] (status 1: "my messages for this iteration follow", 0: "I skip it",
  2: "closed"), slot b + 1 carries DDP bucket b. At most 255 buckets.
* Completion. In torch 1.13 a gloo send/recv Work reports ``is_completed() == False`` until
  ``wait()`` was called, has no ``get_future()`` ("not implemented"), and a ``wait(timeout)`` that
  times out closes the pair ("Application timeout caused pair closure": the group is dead;
  checked on Debian's python3-torch 1.13.1). So each posted operation is waited for, without a
  timeout, by a daemon thread (one per peer and kind: headers, data, sends; operations of a kind
  complete in the order the peer sends them), which flags completion under a condition
  variable. The training thread never blocks inside gloo: it waits on the condition with its own
  deadline and raises ``StragglerTimeout`` naming the missing ranks. The group stays usable.
* Hook. isend/irecv inside a DDP comm hook work with gloo on CPU in torch 1.13 (checked). DDP
  hands the hook the bucket unscaled; the hook sends a copy of it (kept alive until the send
  completes), receives into buffers it owns, decodes from its own message plus the first
  n − s − 1 peers' messages to arrive (in arrival order; more if a prefix is not decodable),
  divides by K and returns an already-completed ``torch.futures.Future`` — so the hook blocks
  until its bucket decodes and a bucket's exchange does not overlap the rest of the backward
  pass (a model that fits one DDP bucket, ~25 MB, loses nothing). Data receives are
  posted only after the peer's header for that iteration said "data follows", so a skipped
  iteration leaves no receive posted; a straggler's late messages stay posted and are drained
  (and dropped) by later progress; ``close()`` drains everything.
* DDP constraints. ``broadcast_buffers=False`` (a per-forward broadcast would wait for the
  straggler) and ``find_unused_parameters=False`` (its per-iteration allreduce would too); both
  are checked. DDP rebuilds its buckets once, with a broadcast from rank 0 in the second forward:
  iteration 1 is therefore a synchronisation point of all ranks, and the bucket layout from
  iteration 1 on is final. The hook records it (``bucket.parameters()``); a rank can skip
  (catch up on) an iteration only once it knows that layout, i.e. after computing iteration 1.
* Run-ahead limit R (``run_ahead``, default 4). A rank starts (computes) iteration t only when it
  has, from every other rank and every iteration u ≤ t − R, either all of that rank's messages
  or its "skip" header. Fast ranks are therefore never more than R iterations ahead of the
  slowest rank's last announced iteration, which bounds the buffers kept for it. A persistently
  slow rank does not drag the others down as long as one of its iterations takes less than
  about R iterations of the fast ranks; beyond that they run at one of its iterations per R.
* Catch-up. ``behind()`` counts the consecutive iterations, from this rank's next one, that the
  other ranks' announced messages already decode (n − s of them, ``code.decodable``). A rank
  that is behind skips its own forward/backward for them: ``catch_up(optimizer)`` announces the
  skip, decodes each from the peers' messages, writes the result into ``p.grad`` through the
  recorded bucket layout and calls ``optimizer.step()``. ``step()`` does catch-up, the run-ahead
  wait, ``optimizer.zero_grad()``, the closure, ``backward()`` and ``optimizer.step()``; it may
  advance ``iteration`` by more than one (never beyond ``stop``). Every rank applies the same
  sequence of decoded gradients; ranks that decoded from different sets of messages differ by
  rounding only (≈ 1e-7 relative per step in float32).
* Shutdown. Call ``close()`` on every rank after the same number of iterations (a rank that is
  behind catches up to ``stop`` in ``step``): it sends "closed" headers for the posted window,
  waits (with the deadline) for every posted operation and stops the waiter threads. After an
  error (``StragglerTimeout``) operations stay posted; end the process.
"""

import collections
import threading
import time

import numpy as _np
import torch as _torch
import torch.distributed as _dist

__all__ = [
    "PartitionSampler", "CodedBatch", "CodedDataParallel", "StragglerTimeout", "StepInfo",
]

_MAX_BUCKETS = 255
_TAG_ITERATIONS = 1 << 22
_HEADER_DATA, _HEADER_SKIP, _HEADER_CLOSED = 1, 0, 2


class StragglerTimeout(RuntimeError):
    """Too few messages arrived by the deadline. ``missing`` lists the ranks waited for."""

    def __init__(self, message, iteration, missing):
        super().__init__(message)
        self.iteration = iteration
        self.missing = list(missing)


# ------------------------------------------------------------------------------------------
# sampler and loss weighting


class PartitionSampler:
    """The same split of every global batch into K partitions on every rank.

    ``split(iteration)`` → K LongTensors of ``partition_size`` sample indices each, a pure function
    of (seed, epoch, iteration in epoch) with epoch = iteration // iterations_per_epoch.
    """

    def __init__(self, num_samples, partitions, partition_size, seed=0, shuffle=True):
        if partitions < 1 or partition_size < 1:
            raise ValueError("PartitionSampler: partitions and partition_size must be >= 1")
        self.num_samples = int(num_samples)
        self.partitions = int(partitions)
        self.partition_size = int(partition_size)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.global_batch = self.partitions * self.partition_size
        self.iterations_per_epoch = self.num_samples // self.global_batch
        if self.iterations_per_epoch < 1:
            raise ValueError(f"PartitionSampler: {num_samples} samples do not fill one global batch of "
                             f"{partitions} x {partition_size}")
        self._perm_epoch, self._perm = None, None

    def _permutation(self, epoch):
        if self._perm_epoch != epoch:
            if self.shuffle:
                g = _torch.Generator()
                g.manual_seed((self.seed * 1000003 + epoch) % (1 << 63))
                self._perm = _torch.randperm(self.num_samples, generator=g)
            else:
                self._perm = _torch.arange(self.num_samples)
            self._perm_epoch = epoch
        return self._perm

    def split(self, iteration):
        epoch, t = divmod(int(iteration), self.iterations_per_epoch)
        batch = self._permutation(epoch)[t * self.global_batch:(t + 1) * self.global_batch]
        return list(batch.view(self.partitions, self.partition_size).unbind(0))

    def __len__(self):
        return self.iterations_per_epoch


class CodedBatch:
    """This rank's samples of one iteration: ``indices`` (its partitions, concatenated in
    ``partitions`` order), ``weights`` (per sample B_ik / |P_k|) and ``loss(per_sample_loss)``."""

    def __init__(self, iteration, partitions, split, row):
        self.iteration = iteration
        self.partitions = list(partitions)
        if not self.partitions:
            raise ValueError("CodedBatch: a rank without partitions")
        self.indices = _torch.cat([split[k] for k in self.partitions])
        self.sizes = [int(split[k].numel()) for k in self.partitions]
        self.weights = _torch.cat([_torch.full((split[k].numel(),), float(row[k]) / split[k].numel(),
                                               dtype=_torch.float64) for k in self.partitions])

    def loss(self, per_sample_loss):
        """Σ_k B_ik · mean over P_k of ``per_sample_loss`` (shape [len(indices)], this batch's order)."""
        if per_sample_loss.dim() != 1 or per_sample_loss.numel() != self.indices.numel():
            raise ValueError(f"CodedBatch.loss: expected per-sample losses of shape [{self.indices.numel()}] "
                             f"(reduction='none'), got {tuple(per_sample_loss.shape)}")
        w = self.weights.to(dtype=per_sample_loss.dtype, device=per_sample_loss.device)
        return (per_sample_loss * w).sum()


# ------------------------------------------------------------------------------------------
# transport: posted gloo operations, each waited for by a per-(peer, kind) daemon thread


class _Op:
    __slots__ = ("work", "tensor", "done", "error", "seq", "peer", "iteration", "slot")

    def __init__(self, work, tensor, peer, iteration, slot):
        self.work, self.tensor, self.peer, self.iteration, self.slot = work, tensor, peer, iteration, slot
        self.done, self.error, self.seq = False, None, None


class _Waiter:
    """A daemon thread that waits (no timeout) for operations in posting order."""

    def __init__(self, owner, name):
        self._owner = owner
        self._queue = collections.deque()
        self._cv = threading.Condition()
        self._stop = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def put(self, op):
        with self._cv:
            self._queue.append(op)
            self._cv.notify()

    def stop(self):
        with self._cv:
            self._stop = True
            self._cv.notify()

    def _run(self):
        while True:
            with self._cv:
                while not self._queue and not self._stop:
                    self._cv.wait()
                if not self._queue:
                    return
                op = self._queue.popleft()
            err = None
            try:
                op.work.wait()
            except Exception as e:  # a broken pair: reported by the training thread
                err = e
            self._owner._completed(op, err)


class StepInfo:
    """What one ``step()`` did: ``computed`` (this rank ran forward/backward for ``iteration``),
    ``skipped`` (iterations applied by catch-up), ``loss`` (the coded loss, None if not computed),
    ``reports`` [(iteration, bucket, decode_report)] of the decodes done in this step."""

    def __init__(self):
        self.iteration, self.computed, self.skipped, self.loss, self.reports = None, False, [], None, []

    def __repr__(self):
        return (f"StepInfo(iteration={self.iteration}, computed={self.computed}, skipped={self.skipped}, "
                f"loss={self.loss})")


class _Round:
    """Everything about one iteration."""

    def __init__(self, iteration):
        self.iteration = iteration
        self.header = {}        # peer -> status
        self.header_ops = {}    # peer -> _Op (posted header receive)
        self.data = {}          # (peer, bucket) -> _Op (posted receive)
        self.own = {}           # bucket -> own message (computed iterations)
        self.sizes = []         # bucket sizes this rank recorded while computing
        self.applied = False


class CodedDataParallel:
    """Straggler-tolerant data parallelism over a DistributedDataParallel model (see the module
    docstring for the protocol).

    ddp        torch.nn.parallel.DistributedDataParallel, broadcast_buffers=False
    code       a gradcode single-layer code with nodes() == world size, e.g.
               gradcode.cyclic_repetition_code(n, n, s, dtype=numpy.float32) (dtype = the
               gradients'; a float64 code on float32 gradients decodes through a float64 copy)
    sampler    PartitionSampler with sampler.partitions == code.partitions()
    deadline   seconds any single wait (a decode, the run-ahead wait, close) may take before
               StragglerTimeout
    run_ahead  R: iteration t starts only with every rank's messages (or skip) up to t − R
    catch_up   whether step() skips iterations this rank is behind on
    record_messages  keep this rank's own coded messages ({(iteration, bucket): tensor}, tests)
    """

    def __init__(self, ddp, code, sampler, deadline=60.0, run_ahead=4, catch_up=True,
                 record_messages=False, group=None):
        if not _dist.is_initialized():
            raise RuntimeError("CodedDataParallel: torch.distributed is not initialised")
        if getattr(ddp, "broadcast_buffers", False):
            raise ValueError("CodedDataParallel: construct DistributedDataParallel with broadcast_buffers=False "
                             "(its per-forward broadcast would wait for stragglers)")
        if getattr(ddp, "find_unused_parameters", False):
            raise ValueError("CodedDataParallel: find_unused_parameters=True is not supported (DDP then "
                             "allreduces a usage map every iteration, which waits for stragglers)")
        self.world = _dist.get_world_size()
        self.rank = _dist.get_rank()
        n = int(code.nodes())
        if n != self.world:
            raise ValueError(f"CodedDataParallel: the code has {n} nodes but the world has {self.world} ranks")
        self.K = int(code.partitions())
        self.s = int(code.tolerance())
        if sampler.partitions != self.K:
            raise ValueError(f"CodedDataParallel: the sampler splits into {sampler.partitions} partitions, "
                             f"the code has {self.K}")
        if run_ahead < 1:
            raise ValueError("CodedDataParallel: run_ahead must be >= 1")
        self.ddp, self.code, self.sampler = ddp, code, sampler
        self.deadline = float(deadline)
        self.run_ahead = int(run_ahead)
        self.catch_up_enabled = bool(catch_up)
        self.B = _np.asarray(code.encoding_matrix(), dtype=_np.float64)
        self.partitions = [int(k) for k in code.partitions_of(self.rank)]
        self._code_dtype = _np.dtype(getattr(code, "dtype", _np.float64))
        self.peers = [j for j in range(self.world) if j != self.rank]
        self.group = group if group is not None else _dist.new_group(list(range(self.world)))

        self.iteration = 0
        self._rounds = {}
        self._cv = threading.Condition()
        self._arrivals = 0
        self._errors = []
        self._sends = collections.deque()         # posted sends (buffers alive until done)
        self._header_posted = {j: -1 for j in self.peers}  # highest iteration with a posted header recv
        self._complete_upto = {j: -1 for j in self.peers}  # all of j's messages up to here have arrived
        self._layout = None                       # final bucket layout: [(numel, [params])]
        self._layout_rec = []                     # layout being recorded by the running backward
        self._computing = None                    # iteration of the running backward
        self._pending_reports = []
        self._closed = False
        self.messages = {} if record_messages else None  # {(iteration, bucket): (message, params)}
        self.last_timeout = None
        self.decode_log = []                      # [(iteration, bucket, used ids)] of every decode
        self._waiters = {}
        for j in self.peers:
            for kind in ("header", "data", "send"):
                self._waiters[(j, kind)] = _Waiter(self, f"gradcode-{kind}-{j}")
        with self._cv:
            self._post_headers()
        ddp.register_comm_hook(self, CodedDataParallel._hook)

    # ---- data --------------------------------------------------------------------------

    def batch(self, iteration=None):
        """This rank's CodedBatch of ``iteration`` (default: the next one)."""
        it = self.iteration if iteration is None else iteration
        return CodedBatch(it, self.partitions, self.sampler.split(it), self.B[self.rank])

    # ---- transport internals (called with self._cv held unless noted) -------------------

    @staticmethod
    def _tag(iteration, slot):
        return (iteration % _TAG_ITERATIONS) * (_MAX_BUCKETS + 1) + slot

    def _round(self, u):
        r = self._rounds.get(u)
        if r is None:
            r = self._rounds[u] = _Round(u)
        return r

    def _completed(self, op, err):  # waiter threads
        with self._cv:
            op.done, op.error = True, err
            self._arrivals += 1
            op.seq = self._arrivals
            if err is not None:
                self._errors.append((op, err))
            self._cv.notify_all()

    def _isend(self, tensor, peer, iteration, slot):
        work = _dist.isend(tensor, dst=peer, group=self.group, tag=self._tag(iteration, slot))
        op = _Op(work, tensor, peer, iteration, slot)
        self._sends.append(op)
        self._waiters[(peer, "send")].put(op)
        return op

    def _irecv(self, tensor, peer, iteration, slot, kind):
        work = _dist.irecv(tensor, src=peer, group=self.group, tag=self._tag(iteration, slot))
        op = _Op(work, tensor, peer, iteration, slot)
        self._waiters[(peer, kind)].put(op)
        return op

    def _post_headers(self, upto=None):
        """Header receives for every peer up to iteration + R (peers cannot announce beyond)."""
        end = self.iteration + self.run_ahead if upto is None else upto
        for j in self.peers:
            while self._header_posted[j] < end:
                u = self._header_posted[j] + 1
                op = self._irecv(_torch.full((2,), -1, dtype=_torch.int64), j, u, 0, "header")
                self._round(u).header_ops[j] = op
                self._header_posted[j] = u

    def _send_header(self, u, status):
        for j in self.peers:
            self._isend(_torch.tensor([u, status], dtype=_torch.int64), j, u, 0)

    def _sizes(self, u):
        """Bucket sizes of iteration u as far as this rank knows them."""
        if u >= 1 and self._layout is not None:
            return [numel for numel, _ in self._layout]
        r = self._rounds.get(u)
        return r.sizes if r is not None else []

    def _progress(self):
        """Digest completed operations: headers → post data receives; drop finished rounds."""
        for op, err in self._errors:
            raise RuntimeError(f"gradcode.torch: gloo operation with rank {op.peer} (iteration {op.iteration}, "
                               f"slot {op.slot}) failed: {err}")
        while self._sends and self._sends[0].done:
            self._sends.popleft()
        for u in sorted(self._rounds):
            r = self._rounds[u]
            for j in self.peers:
                if j not in r.header:
                    op = r.header_ops.get(j)
                    if op is not None and op.done:
                        hu, status = int(op.tensor[0]), int(op.tensor[1])
                        if hu != u:
                            raise RuntimeError(f"gradcode.torch: rank {j} sent header for iteration {hu} under the tag "
                                               f"of iteration {u} (ranks out of step: construct the helper on every "
                                               f"rank in the same order)")
                        r.header[j] = status
                if r.header.get(j) == _HEADER_DATA:
                    sizes = self._sizes(u)
                    for b, numel in enumerate(sizes):
                        if (j, b) not in r.data:
                            buf = _torch.empty(numel, dtype=self._grad_dtype)
                            r.data[(j, b)] = self._irecv(buf, j, u, b + 1, "data")
        for j in self.peers:
            u = self._complete_upto[j] + 1
            while u in self._rounds and self._peer_complete(self._rounds[u], j):
                self._complete_upto[j] = u
                u += 1
        for u in sorted(self._rounds):
            r = self._rounds[u]
            if r.applied and all(self._complete_upto[j] >= u for j in self.peers):
                del self._rounds[u]

    def _peer_complete(self, r, j):
        st = r.header.get(j)
        if st is None:
            return False
        if st != _HEADER_DATA:
            return True
        sizes = self._sizes(r.iteration)
        if r.iteration == self._computing or not sizes:
            return False  # layout of this iteration not known completely yet
        return all((j, b) in r.data and r.data[(j, b)].done for b in range(len(sizes)))

    _grad_dtype = _torch.float32

    def _wait(self, ready, what, iteration, missing):
        """Wait (progressing) until ready() is true; StragglerTimeout after self.deadline."""
        t_end = time.monotonic() + self.deadline
        while True:
            self._progress()
            if ready():
                return
            left = t_end - time.monotonic()
            if left <= 0:
                miss = missing()
                self.last_timeout = StragglerTimeout(
                    f"gradcode.torch: rank {self.rank} waited {self.deadline:g} s for {what} of iteration "
                    f"{iteration}; missing rank(s) {miss} (tolerance s = {self.s}: at most {self.s} may be late)",
                    iteration, miss)
                raise self.last_timeout
            self._cv.wait(min(left, 0.05))

    # ---- decoding ----------------------------------------------------------------------

    def _choose(self, r, b, with_own):
        """Ids of the first messages to arrive that decode (own first), or None."""
        arrived = sorted(((op.seq, j) for (j, bb), op in r.data.items() if bb == b and op.done))
        ids = [self.rank] if with_own else []
        need = self.world - self.s
        for _, j in arrived:
            ids.append(j)
            if len(ids) >= need and self.code.decodable(ids):
                return ids
        if len(ids) >= need and self.code.decodable(ids):
            return ids
        return None

    def _decode(self, r, b, ids, own):
        msgs = [own if j == self.rank else r.data[(j, b)].tensor for j in ids]
        m = _torch.stack(msgs)
        if m.dtype == _torch.float32 and self._code_dtype == _np.float32 or \
                m.dtype == _torch.float64 and self._code_dtype == _np.float64:
            out = _torch.empty(m.shape[1], dtype=m.dtype)
            _, report = self.code.decode(ids, m.numpy().T, out=out.numpy())
        else:
            out64 = _np.empty(m.shape[1], dtype=self._code_dtype)
            _, report = self.code.decode(ids, _np.asfortranarray(m.numpy().T, dtype=self._code_dtype), out=out64)
            out = _torch.from_numpy(out64).to(m.dtype)
        out.div_(self.K)
        used = [int(x) for x in getattr(report, "used", ids)]
        self.decode_log.append((r.iteration, b, used))
        self._pending_reports.append((r.iteration, b, report))
        return out

    def _missing(self, r, b):
        return [j for j in self.peers if not ((j, b) in r.data and r.data[(j, b)].done)]

    # ---- the DDP communication hook ------------------------------------------------------

    def _hook(self, bucket):
        u = self._computing
        if u is None:
            raise RuntimeError("gradcode.torch: backward() of the DDP model outside CodedDataParallel.step() "
                               "(call compute() / step(), or use ddp.no_sync() for local gradients)")
        b = bucket.index()
        if b >= _MAX_BUCKETS:
            raise RuntimeError(f"gradcode.torch: more than {_MAX_BUCKETS} DDP buckets; raise bucket_cap_mb")
        buf = bucket.buffer()
        own = buf.detach().clone()
        with self._cv:
            self._grad_dtype = own.dtype
            r = self._round(u)
            if b == 0:
                self._layout_rec = []
                r.sizes = []
                self._send_header(u, _HEADER_DATA)
            self._layout_rec.append((own.numel(), list(bucket.parameters())))
            if self._layout is None or u < 1:
                r.sizes.append(own.numel())
            elif self._layout[b][0] != own.numel():
                raise RuntimeError(f"gradcode.torch: DDP changed its bucket layout at iteration {u} (bucket {b}: "
                                   f"{own.numel()} elements, recorded {self._layout[b][0]})")
            r.own[b] = own
            if self.messages is not None:
                self.messages[(u, b)] = (own, list(bucket.parameters()))
            for j in self.peers:
                self._isend(own, j, u, b + 1)
            ids_box = []

            def ready():
                ids = self._choose(r, b, with_own=True)
                if ids is not None:
                    ids_box.append(ids)
                return ids is not None

            self._wait(ready, f"the messages of bucket {b}", u, lambda: self._missing(r, b))
            out = self._decode(r, b, ids_box[-1], own)
            if bucket.is_last():
                if u >= 1 and self._layout is None:
                    self._layout = self._layout_rec
                    r.sizes = [numel for numel, _ in self._layout]
        fut = _torch.futures.Future()
        fut.set_result(out)
        return fut

    # ---- run-ahead limit and catch-up --------------------------------------------------

    def wait_run_ahead(self, iteration=None):
        """Block until every other rank's messages (or skip) up to ``iteration`` − R have arrived."""
        t = self.iteration if iteration is None else iteration
        limit = t - self.run_ahead
        if limit < 0:
            return
        with self._cv:
            self._wait(lambda: all(self._complete_upto[j] >= limit for j in self.peers),
                       f"the run-ahead limit (R = {self.run_ahead}: messages up to iteration {limit})", t,
                       lambda: [j for j in self.peers if self._complete_upto[j] < limit])

    def behind(self):
        """How many consecutive iterations from ``iteration`` on the other ranks' announced
        messages already decode (0 before this rank knows DDP's final bucket layout)."""
        with self._cv:
            self._progress()
            return self._behind_locked()

    def _behind_locked(self, stop=None):
        if self._layout is None:
            return 0
        count, u = 0, self.iteration
        while (stop is None or u < stop) and u in self._rounds:
            announced = [j for j in self.peers if self._rounds[u].header.get(j) == _HEADER_DATA]
            if len(announced) < self.world - self.s or not self.code.decodable(announced):
                break
            count, u = count + 1, u + 1
        return count

    def catch_up(self, optimizer, stop=None, info=None):
        """Skip and apply every iteration this rank is behind on (decoded from the others'
        messages; ``optimizer.step()`` each); returns the iterations applied."""
        applied = []
        while True:
            with self._cv:
                self._progress()
                if self._behind_locked(stop) == 0:
                    break
                u = self.iteration
                r = self._round(u)
                self._send_header(u, _HEADER_SKIP)
                self.iteration += 1          # the header window moves on
                self._post_headers()
                grads = []
                for b, (numel, params) in enumerate(self._layout):
                    ids_box = []

                    def ready(b=b):
                        ids = self._choose(r, b, with_own=False)
                        if ids is not None:
                            ids_box.append(ids)
                        return ids is not None

                    self._wait(ready, f"the messages of bucket {b} (catching up)", u, lambda b=b: self._missing(r, b))
                    grads.append((self._decode(r, b, ids_box[-1], None), params))
                r.applied = True
            for flat, params in grads:
                offset = 0
                for p in params:
                    view = flat[offset:offset + p.numel()].view_as(p)
                    if p.grad is None:
                        p.grad = view.clone()
                    else:
                        p.grad.copy_(view)
                    offset += p.numel()
            optimizer.step()
            applied.append(u)
            if info is not None:
                info.skipped.append(u)
        return applied

    # ---- one training step -------------------------------------------------------------

    def compute(self, closure):
        """Run ``closure(iteration, batch)`` → coded loss, and backward through the coded hook, for
        ``self.iteration`` (after the run-ahead wait). Leaves the decoded gradient in p.grad; the
        caller steps the optimizer and then calls ``advance()``. Returns the loss."""
        u = self.iteration
        self.wait_run_ahead(u)
        loss = closure(u, self.batch(u))
        self._computing = u
        self.last_timeout = None
        try:
            loss.backward()
        except Exception:
            if self.last_timeout is not None:  # DDP's reducer re-wraps the hook's exception
                raise self.last_timeout from None
            raise
        finally:
            self._computing = None
        with self._cv:
            r = self._round(u)
            r.applied = True
        return loss

    def advance(self):
        with self._cv:
            self.iteration += 1
            self._post_headers()
            self._progress()

    def step(self, optimizer, closure, stop=None):
        """One step of this rank: catch up if behind (when enabled), then compute the next
        iteration (unless ``stop`` is reached) and apply it. Returns a StepInfo."""
        info = StepInfo()
        self._pending_reports = []
        if self.catch_up_enabled:
            self.catch_up(optimizer, stop=stop, info=info)
        if stop is None or self.iteration < stop:
            optimizer.zero_grad()
            info.iteration = self.iteration
            loss = self.compute(closure)
            optimizer.step()
            self.advance()
            info.computed, info.loss = True, float(loss.detach())
        info.reports = self._pending_reports
        self._pending_reports = []
        return info

    # ---- shutdown ----------------------------------------------------------------------

    def close(self):
        """Drain every posted message (all ranks at the same iteration) and stop the waiters."""
        if self._closed:
            return
        T, end = self.iteration, self.iteration + self.run_ahead
        with self._cv:
            for u in range(T, end + 1):
                self._send_header(u, _HEADER_CLOSED)
            self._post_headers(upto=end)
            for u in range(T, end + 1):
                self._round(u).applied = True

            def drained():
                return not self._sends and all(self._complete_upto[j] >= end for j in self.peers)

            self._wait(drained, "the remaining messages (close)", T,
                       lambda: sorted({op.peer for op in self._sends} |
                                      {j for j in self.peers if self._complete_upto[j] < end}))
        for w in self._waiters.values():
            w.stop()
        for w in self._waiters.values():
            w.thread.join(timeout=5)
        self._closed = True
