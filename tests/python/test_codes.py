# SPDX-License-Identifier: MIT
"""Tests of gradcode's Python module on the single-layer codes (python/src/bind_codes.cpp): every
code round-trips (encode every node, decode every straggler pattern, compare with the sum of the
partials and with a numpy oracle of the encoding matrix), zero copy by data pointer, typed
exceptions, pickling, the float32 path and CPU torch tensors. Run by ctest (label python)."""

import itertools
import pickle
import unittest

import numpy as np

import gradcode

try:
    import torch
except ImportError:  # python3-torch is optional
    torch = None

TOL = {np.float64: 1e-9, np.float32: 1e-4}
DTYPES = (np.float64, np.float32)


def partials(d, K, dtype, seed=7):
    """d x K column-major partial gradients (each column one partial gradient)."""
    rng = np.random.default_rng(seed)
    return np.asfortranarray(rng.standard_normal((d, K)).astype(dtype))


def families():
    """(label, factory(dtype)) of the single-layer codes under test."""
    return [
        ("fractional_repetition(6, 6, 2)", lambda dt: gradcode.fractional_repetition_code(6, 6, 2, dtype=dt)),
        ("cyclic_repetition(6, 6, 2)", lambda dt: gradcode.cyclic_repetition_code(nodes=6, partitions=6, tolerance=2, dtype=dt)),
        ("cyclic_repetition(7, 14, 3)", lambda dt: gradcode.cyclic_repetition_code(7, 14, 3, dtype=dt)),
        ("cyclic_mds(7, 7, 2)", lambda dt: gradcode.cyclic_mds_code(7, 7, 2, dtype=dt)),
        ("heterogeneous([1, 2, 1, 2, 1, 3], 12, 2)",
         lambda dt: gradcode.heterogeneous_code([1, 2, 1, 2, 1, 3], 12, 2, dtype=dt)),
    ]


class RoundTripTest(unittest.TestCase):
    """Every single-layer code decodes the exact sum from every pattern of s stragglers."""

    def test_every_pattern_of_s_stragglers_decodes_the_sum(self):
        d = 1000
        for label, make in families():
            for dt in DTYPES:
                with self.subTest(code=label, dtype=dt.__name__):
                    code = make(dt)
                    n, K, s = code.nodes(), code.partitions(), code.tolerance()
                    g = partials(d, K, dt)
                    B = code.encoding_matrix()
                    self.assertEqual(B.shape, (n, K))
                    self.assertEqual(B.dtype, np.float64)
                    msgs = [code.encode(i, g) for i in range(n)]
                    # encode against a numpy oracle of B (the message is sum_k B_ik g_k)
                    g64 = g.astype(np.float64)
                    for i in range(n):
                        ref = g64 @ B[i]
                        self.assertLessEqual(np.linalg.norm(msgs[i] - ref) / np.linalg.norm(ref), TOL[dt])
                        held = np.asfortranarray(g[:, code.partitions_of(i)])
                        np.testing.assert_array_equal(code.encode_held(i, held), msgs[i])
                    total = g64.sum(axis=1)
                    worst = 0.0
                    patterns = 0
                    for f in range(n - s, n + 1):  # exactly n - s responders and every superset size
                        for ids in itertools.combinations(range(n), f):
                            ids = list(ids)[::-1]  # any order
                            self.assertTrue(code.decodable(ids))
                            out, report = code.decode(ids, np.stack([msgs[i] for i in ids]).T)
                            self.assertEqual(out.dtype, dt)
                            self.assertEqual(report.used, sorted(ids))
                            self.assertTrue(report.exact)
                            self.assertLessEqual(report.estimated_error, TOL[dt])
                            worst = max(worst, np.linalg.norm(out - total) / np.linalg.norm(total))
                            patterns += 1
                    print(f"\n  {label} {dt.__name__}: worst relative error {worst:.3g} over {patterns} patterns", end="")
                    self.assertLessEqual(worst, TOL[dt])

    def test_plan_coefficients_solve_the_span_condition(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        B = code.encoding_matrix()
        plan = code.plan([5, 1, 2, 3])
        self.assertEqual(plan.responders(), [1, 2, 3, 5])
        a = plan.coefficients()
        self.assertEqual(a.shape, (6,))
        self.assertEqual(a[0], 0.0)
        np.testing.assert_allclose(a @ B, np.ones(6), atol=1e-12)
        self.assertLessEqual(plan.residual(), 1e-9)
        g = partials(100, 6, np.float64)
        ids = [1, 2, 3, 5]
        msgs = np.stack([code.encode(i, g) for i in ids]).T
        np.testing.assert_allclose(plan.apply(ids, msgs), code.decode(ids, msgs)[0], rtol=0, atol=0)

    def test_introspection(self):
        code = gradcode.cyclic_repetition_code(nodes=6, partitions=6, tolerance=2)
        self.assertEqual((code.nodes(), code.partitions(), code.tolerance(), code.responders_needed()), (6, 6, 2, 4))
        self.assertEqual(code.partitions_of(0), [0, 1, 2])
        self.assertEqual(code.partitions_of(5), [0, 1, 5])
        self.assertEqual(code.message_length(123), 123)
        self.assertEqual(code.support()[5], [0, 1, 5])
        rows, cols, vals = code.encoding_entries()
        B = np.zeros((6, 6))
        B[rows, cols] = vals
        np.testing.assert_array_equal(B, code.encoding_matrix())
        self.assertTrue(code.verify().satisfied)
        self.assertIsInstance(code, gradcode.cyclic_repetition_code)
        self.assertIsInstance(code, gradcode.linear_code)
        self.assertNotIsInstance(code, gradcode.fractional_repetition_code)
        self.assertEqual(gradcode.fractional_repetition_code(6, 6, 2).groups(), 2)

    def test_cyclic_repetition_constructions(self):
        g = partials(300, 6, np.float64)
        for method in (gradcode.construction.null_space, gradcode.construction.tandon_random):
            with self.subTest(method=str(method)):
                code = gradcode.cyclic_repetition_code(6, 6, 2, method=method, seed=3)
                self.assertEqual(code.params.method, method)
                msgs = [code.encode(i, g) for i in range(6)]
                for ids in itertools.combinations(range(6), 4):
                    out, _ = code.decode(list(ids), np.stack([msgs[i] for i in ids]).T)
                    np.testing.assert_allclose(out, g.sum(axis=1), rtol=1e-9)
        mds = gradcode.cyclic_repetition_code(7, 7, 2, method=gradcode.construction.cyclic_mds)
        np.testing.assert_allclose(mds.encoding_matrix(), gradcode.cyclic_mds_code(7, 7, 2).encoding_matrix(), atol=1e-15)
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.cyclic_repetition_code(6, 6, 2, method=gradcode.construction.cyclic_mds)  # n - s even
        with self.assertRaisesRegex(gradcode.InvalidParameters, "cyclic_repetition"):
            gradcode.hgc_code([3, 3, 3], 9, 1, 1, method=gradcode.construction.tandon_random)


class ConditionTest(unittest.TestCase):
    """code.condition() (core/condition_report.hpp) agrees with the float32 code's own refusals."""

    def test_refusals_equal_the_float_codes_own_on_every_pattern(self):
        import itertools
        n, s = 12, 6
        f64 = gradcode.cyclic_repetition_code(nodes=n, partitions=n, tolerance=s,
                                              method=gradcode.construction.tandon_random)
        f32 = gradcode.cyclic_repetition_code(nodes=n, partitions=n, tolerance=s,
                                              method=gradcode.construction.tandon_random, dtype=np.float32)
        r = f64.condition()
        self.assertTrue(r.exhaustive)
        self.assertEqual(r.patterns, 924)  # C(12, 6)
        refused = sum(not f32.decodable([i for i in range(n) if i not in gone])
                      for gone in itertools.combinations(range(n), s))
        self.assertGreater(refused, 0)  # Algorithm 2's random H: float refuses some (README)
        self.assertEqual(r.refused_float, refused)
        self.assertEqual(r.refused_double, 0)
        self.assertGreaterEqual(r.worst, r.p99)

    def test_fractional_repetition_amplifies_by_one_and_hgc_layers_compound(self):
        r = gradcode.fractional_repetition_code(nodes=12, partitions=12, tolerance=2).condition()
        self.assertEqual(r.patterns, 66)
        self.assertAlmostEqual(r.worst, 1.0, places=12)
        h = gradcode.hgc_code(workers=[3, 3, 3], partitions=9, edge_tolerance=1, worker_tolerance=1).condition_layers()
        self.assertEqual(len(h.edges), 3)
        self.assertAlmostEqual(h.compounded_worst, h.master.worst * max(e.worst for e in h.edges))
        self.assertTrue(h.float_accepts_worst)


class ZeroCopyTest(unittest.TestCase):
    """Inputs are mapped where they lie; out= is written in place; no silent copies."""

    def test_fortran_ordered_and_transposed_inputs_are_mapped_without_a_copy(self):
        f = partials(50, 6, np.float64)
        addr, rows, cols, stride = gradcode._gradcode._mapped_view(f)
        self.assertEqual((addr, rows, cols, stride), (f.ctypes.data, 50, 6, 50))
        c = np.ascontiguousarray(np.random.rand(6, 50))  # C-ordered (K, d): its .T is d x K column-major
        self.assertEqual(gradcode._gradcode._mapped_view(c.T)[0], c.ctypes.data)
        wide = partials(50, 10, np.float64)
        view = wide[:, 2:8]  # a column slice: column stride 50, no copy
        self.assertEqual(gradcode._gradcode._mapped_view(view), (view.ctypes.data, 50, 6, 50))
        ro = f.copy(order="F")
        ro.setflags(write=False)  # read-only input is fine (inputs are const)
        self.assertEqual(gradcode._gradcode._mapped_view(ro)[0], ro.ctypes.data)
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        np.testing.assert_array_equal(code.encode(0, ro), code.encode(0, f))
        stacked = np.stack([code.encode(i, f) for i in range(4)])
        self.assertEqual(gradcode._gradcode._mapped_view(stacked.T)[0], stacked.ctypes.data)

    def test_out_is_written_in_place(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        g = partials(200, 6, np.float64)
        out = np.full(200, np.nan)
        address = out.ctypes.data
        result = code.encode(3, g, out=out)
        self.assertIs(result, out)
        self.assertEqual(out.ctypes.data, address)
        np.testing.assert_allclose(out, g @ code.encoding_matrix()[3], rtol=1e-12)
        ids = [0, 1, 2, 3]
        msgs = np.stack([code.encode(i, g) for i in ids]).T
        total = np.empty(200)
        result, report = code.decode(ids, msgs, out=total)
        self.assertIs(result, total)
        np.testing.assert_allclose(total, g.sum(axis=1), rtol=1e-9)

    def test_refused_decode_leaves_out_untouched(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        g = partials(64, 6, np.float64)
        msgs = np.stack([code.encode(i, g) for i in range(3)]).T
        out = np.full(64, 42.0)
        with self.assertRaises(gradcode.NotDecodable):
            code.decode([0, 1, 2], msgs, out=out)
        np.testing.assert_array_equal(out, np.full(64, 42.0))

    def test_layouts_that_would_need_a_copy_raise_invalid_input_saying_what_to_pass(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        g = partials(100, 6, np.float64)
        with self.assertRaisesRegex(gradcode.InvalidInput, r"C-ordered.*x\.T.*asfortranarray"):
            code.encode(0, np.ascontiguousarray(g))
        with self.assertRaisesRegex(gradcode.InvalidInput, r"dtype float32.*float64"):
            code.encode(0, g.astype(np.float32))
        with self.assertRaisesRegex(gradcode.InvalidInput, "numpy array or a CPU torch tensor"):
            code.encode(0, g.tolist())
        with self.assertRaisesRegex(gradcode.InvalidInput, "strides"):
            code.encode(0, np.asfortranarray(np.random.rand(200, 6))[::2])
        with self.assertRaisesRegex(gradcode.InvalidInput, "read-only"):
            out = np.empty(100)
            out.setflags(write=False)
            code.encode(0, g, out=out)
        with self.assertRaisesRegex(gradcode.InvalidInput, "contiguous"):
            code.encode(0, g, out=np.empty(200)[::2])
        with self.assertRaisesRegex(gradcode.InvalidInput, "length 99"):
            code.encode(0, g, out=np.empty(99))
        with self.assertRaisesRegex(gradcode.InvalidInput, "float64"):
            code.encode(0, g, out=np.empty(100, dtype=np.float32))


class ErrorsTest(unittest.TestCase):
    """gradcode's C++ errors arrive as typed Python exceptions carrying the numbers."""

    def test_hierarchy(self):
        self.assertTrue(issubclass(gradcode.InvalidParameters, gradcode.GradcodeError))
        self.assertTrue(issubclass(gradcode.InvalidParameters, ValueError))
        self.assertTrue(issubclass(gradcode.InvalidInput, ValueError))
        self.assertTrue(issubclass(gradcode.NotDecodable, RuntimeError))
        self.assertTrue(issubclass(gradcode.CorruptedResult, RuntimeError))
        self.assertFalse(issubclass(gradcode.NotDecodable, ValueError))
        self.assertEqual(gradcode.NotDecodable.__module__, "gradcode")

    def test_infeasible_parameters(self):
        with self.assertRaisesRegex(gradcode.InvalidParameters, r"^gradcode::invalid_parameters: fractional repetition"):
            gradcode.fractional_repetition_code(6, 6, 6)
        with self.assertRaisesRegex(gradcode.InvalidParameters, "n − s odd"):
            gradcode.cyclic_mds_code(6, 6, 2)
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.cyclic_repetition_code(6, 6, 6)
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.cyclic_repetition_code(6, 6, 2, options=gradcode.decode_options(residual_tolerance=2))
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.cyclic_repetition_code(6, 6, 2, dtype=np.int32)

    def test_too_many_stragglers_raise_not_decodable_with_the_counts(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        g = partials(10, 6, np.float64)
        msgs = np.stack([code.encode(i, g) for i in range(3)]).T
        self.assertFalse(code.decodable([0, 1, 2]))
        with self.assertRaises(gradcode.NotDecodable) as ctx:
            code.decode([0, 1, 2], msgs)
        self.assertEqual((ctx.exception.received, ctx.exception.needed), (3, 4))
        self.assertIn("3 of 6 nodes responded, 4 needed", str(ctx.exception))

    def test_bad_ids_name_the_node(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        g = partials(10, 6, np.float64)
        msgs = np.stack([code.encode(i, g) for i in range(4)]).T
        with self.assertRaises(gradcode.InvalidInput) as ctx:
            code.decode([0, 1, 1, 2], msgs)
        self.assertEqual(ctx.exception.node, 1)
        with self.assertRaises(gradcode.InvalidInput) as ctx:
            code.encode(9, g)
        self.assertEqual(ctx.exception.node, 9)
        with self.assertRaises(gradcode.InvalidInput):
            code.decodable([0, 7])
        bad = msgs.copy(order="F")
        bad[3, 2] = np.nan
        with self.assertRaisesRegex(gradcode.InvalidInput, "node 2") as ctx:
            code.decode([0, 1, 2, 3], bad)
        self.assertEqual(ctx.exception.node, 2)


class PickleTest(unittest.TestCase):
    """Params, options and codes pickle; a code is rebuilt from its params to the same matrix."""

    def test_params_and_codes_round_trip(self):
        for label, make in families():
            for dt in DTYPES:
                with self.subTest(code=label, dtype=dt.__name__):
                    code = make(dt)
                    again = pickle.loads(pickle.dumps(code))
                    self.assertIs(type(again), type(code))
                    self.assertEqual(again.params, code.params)
                    self.assertEqual(again.options, code.options)
                    np.testing.assert_array_equal(again.encoding_matrix(), code.encoding_matrix())
                    self.assertEqual(pickle.loads(pickle.dumps(code.params)), code.params)
        opts = gradcode.decode_options(residual_tolerance=1e-8, max_relative_error=1e-6, plan_cache_size=7)
        self.assertEqual(pickle.loads(pickle.dumps(opts)), opts)
        code = gradcode.cyclic_repetition_code(6, 6, 2, options=opts)
        self.assertEqual(pickle.loads(pickle.dumps(code)).options.plan_cache_size, 7)
        random_h = gradcode.cyclic_repetition_code(6, 6, 2, method=gradcode.construction.tandon_random, seed=11)
        again = pickle.loads(pickle.dumps(random_h))
        self.assertEqual(again.params.method, gradcode.construction.tandon_random)
        np.testing.assert_array_equal(again.encoding_matrix(), random_h.encoding_matrix())
        p = gradcode.cyclic_repetition_params(nodes=6, partitions=12, tolerance=1)
        self.assertEqual(gradcode.cyclic_repetition_code(p).partitions(), 12)
        self.assertIn("partitions=12", repr(p))


class QuickStartTest(unittest.TestCase):
    """The quick start in gradcode's module docstring runs as printed."""

    def test_module_docstring_quick_start_runs(self):
        doc = gradcode.__doc__
        block = doc.split("Quick start::", 1)[1].split("\n\n", 2)[1]
        code = "\n".join(line[4:] for line in block.splitlines())
        self.assertIn("gradcode.cyclic_repetition_code", code)
        exec(compile(code, "gradcode.__doc__", "exec"), {})


@unittest.skipIf(torch is None, "python3-torch is not installed")
class TorchTest(unittest.TestCase):
    """CPU torch tensors pass without a copy: tensor.T of a (K, d) stack, out= a tensor."""

    def test_cpu_tensors_round_trip_without_a_copy(self):
        for dt, tdt in ((np.float64, torch.float64), (np.float32, torch.float32)):
            code = gradcode.cyclic_repetition_code(6, 6, 2, dtype=dt)
            g = torch.randn(6, 1000, dtype=tdt, requires_grad=True)  # row k = partial gradient k
            self.assertEqual(gradcode._gradcode._mapped_view(g.T, dt.__name__)[0], g.data_ptr())
            msgs = [torch.empty(1000, dtype=tdt) for _ in range(6)]
            for i in range(6):
                self.assertIs(code.encode(i, g.T, out=msgs[i]), msgs[i])
            ids = [1, 2, 4, 5]
            out = torch.empty(1000, dtype=tdt)
            stacked = torch.stack([msgs[i] for i in ids])
            self.assertEqual(gradcode._gradcode._mapped_view(stacked.T, dt.__name__)[0], stacked.data_ptr())
            result, report = code.decode(ids, stacked.T, out=out)
            self.assertIs(result, out)
            total = g.detach().sum(dim=0)
            self.assertLessEqual(float((out - total).norm() / total.norm()), TOL[dt])
            # the numpy path of the other helper: torch.stack(list).numpy().T
            result, _ = code.decode(ids, stacked.numpy().T)
            self.assertLessEqual(float(np.linalg.norm(result - total.numpy()) / total.norm()), TOL[dt])

    def test_layouts_that_would_need_a_copy_raise(self):
        code = gradcode.cyclic_repetition_code(6, 6, 2)
        g = torch.randn(1000, 6, dtype=torch.float64)  # C-ordered d x K
        with self.assertRaisesRegex(gradcode.InvalidInput, "C-ordered"):
            code.encode(0, g)
        with self.assertRaisesRegex(gradcode.InvalidInput, "dtype float32"):
            code.encode(0, g.float().T.contiguous().T)


if __name__ == "__main__":
    unittest.main()
