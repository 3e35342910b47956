# SPDX-License-Identifier: MIT
"""Tests of gradcode's Python module on li-skoglund's 1-bit quantizer and GC-DL
(python/src/bind_quantize_dynamic.cpp): Q is unbiased (statistically), the wire form round-trips,
GC-DL's encode matches a numpy oracle of its weights and its decode the sum of dequantized
messages, SGC-DL, typed exceptions, pickling, float32. Run by ctest (label python)."""

import pickle
import unittest

import numpy as np

import gradcode

DTYPES = (np.float64, np.float32)


class OneBitTest(unittest.TestCase):
    """The 1-bit quantizer: unbiased, deterministic per stream, wire round trip."""

    def test_quantizer_is_unbiased(self):
        w, draws = 48, 4000
        for dt in DTYPES:
            with self.subTest(dtype=dt.__name__):
                q = gradcode.one_bit_quantizer(w, seed=5, dtype=dt)
                f = np.random.default_rng(1).standard_normal(w).astype(dt)
                acc = np.zeros(w, dtype=dt)
                for t in range(draws):
                    q.accumulate(q.quantize(f, worker=0, iteration=t), acc)
                mean = acc.astype(np.float64) / draws
                sigma = np.linalg.norm(f.astype(np.float64)) / np.sqrt(draws)  # per-coordinate std <= ||f||
                worst = float(np.max(np.abs(mean - f)) / sigma)
                print(f"\n  one_bit {dt.__name__}: worst |mean - f| = {worst:.2f} sigma over {draws} draws", end="")
                self.assertLess(worst, 5.0)

    def test_messages_dequantize_and_wire_round_trip(self):
        for dt in DTYPES:
            q = gradcode.one_bit_quantizer(length=100, seed=9, dtype=dt)
            self.assertEqual((q.length(), q.word_count(), q.bits_per_message()), (100, 2, 100 + 8 * np.dtype(dt).itemsize))
            f = np.linspace(-1, 1, 100).astype(dt)
            h = q.quantize(f, worker=3, iteration=7)
            self.assertAlmostEqual(float(h.scale), float(np.linalg.norm(f)), places=5)
            again = q.quantize(f, worker=3, iteration=7)
            np.testing.assert_array_equal(again.words, h.words)  # same stream, same bits
            signs = np.array([h.sign(k) for k in range(100)], dtype=dt)
            np.testing.assert_array_equal(q.dequantize(h), signs * h.scale)
            wire = q.to_wire(h)
            self.assertIsInstance(wire, bytes)
            self.assertEqual(len(wire), q.wire_bytes())
            back = q.from_wire(wire)
            np.testing.assert_array_equal(back.words, h.words)
            self.assertEqual(back.scale, h.scale)
            back2 = q.from_wire(np.frombuffer(wire, dtype=np.uint8))  # any bytes-like buffer
            np.testing.assert_array_equal(back2.words, h.words)
            words = np.zeros(q.word_count(), dtype=np.uint64)
            scale = q.quantize_into(f, words, worker=3, iteration=7)
            np.testing.assert_array_equal(words, h.words)
            self.assertEqual(scale, h.scale)
            self.assertEqual(pickle.loads(pickle.dumps(h)).words.tolist(), h.words.tolist())
            self.assertEqual(pickle.loads(pickle.dumps(q)).params, q.params)

    def test_errors(self):
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.one_bit_quantizer(0)
        q = gradcode.one_bit_quantizer(10)
        with self.assertRaises(gradcode.InvalidInput):
            q.quantize(np.ones(11))
        with self.assertRaisesRegex(gradcode.InvalidInput, "NaN|finite"):
            q.quantize(np.array([np.nan] + [1.0] * 9))
        with self.assertRaises(gradcode.InvalidInput):
            q.from_wire(b"\x00" * 3, node=4)


class GcDlTest(unittest.TestCase):
    """GC-DL: f_j = sum_{i in S_j} grad_i / (d_i (1 - p)); g-hat = sum_j ||f_j|| h_j over the arrived workers."""

    def setUp(self):
        self.placement = gradcode.place_samples(gradcode.placement_params(workers=6, samples=12, replication=2, seed=1))

    def test_encode_and_decode_match_numpy(self):
        w = 40
        for dt in DTYPES:
            with self.subTest(dtype=dt.__name__):
                code = gradcode.gc_dl(self.placement, w, 0.2, seed=3, dtype=dt)
                self.assertEqual((code.nodes(), code.partitions(), code.dimension()), (6, 12, w))
                grads = np.asfortranarray(np.random.default_rng(2).standard_normal((w, 12)).astype(dt))
                W = code.encoding_matrix()
                for i in range(12):
                    self.assertEqual(code.replication(i), 2)
                    self.assertAlmostEqual(code.sample_weight(i), 1 / (2 * 0.8))
                f = [code.encode(j, grads) for j in range(6)]
                for j in range(6):
                    np.testing.assert_allclose(f[j], grads.astype(np.float64) @ W[j], rtol=1e-5 if dt == np.float32 else 1e-12)
                ids = [4, 0, 3]
                msgs = [code.quantize(j, 11, f[j]) for j in ids]
                out, report = code.decode(ids, msgs)
                self.assertFalse(report.exact)
                self.assertEqual(report.used, [0, 3, 4])
                q = code.quantizer()
                ref = sum(q.dequantize(h).astype(np.float64) for h in msgs)
                np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)

    def test_step_is_unbiased(self):
        w, T = 6, 3000
        code = gradcode.gc_dl(self.placement, w, 0.25, seed=8)
        grads = np.asfortranarray(np.random.default_rng(4).standard_normal((w, 12)))
        acc = np.zeros(w)
        sent = 0
        for t in range(T):
            g_hat, (responders, bits) = code.step(t, lambda j, f: code.encode(j, grads, out=f))
            acc += g_hat
            sent += responders
            self.assertEqual(responders, len(code.responders(t)))
        mean = acc / T
        target = grads.sum(axis=1)
        spread = np.sqrt(code.expected_squared_norm(np.stack([code.encode(j, grads) for j in range(6)]).T) / T)
        print(f"\n  gc_dl step: |mean - sum| = {np.linalg.norm(mean - target):.3g}, sqrt(E||g||^2 / T) = {spread:.3g}, "
              f"{sent / T:.2f} responders per iteration", end="")
        self.assertLess(np.linalg.norm(mean - target), 5 * spread)

    def test_sgc_and_errors_and_pickle(self):
        code = gradcode.gc_dl(self.placement, 10, 0.0, method=gradcode.gc_dl_method.sgc)
        grads = np.asfortranarray(np.random.default_rng(5).standard_normal((10, 12)))
        f = np.stack([code.encode(j, grads) for j in range(6)]).T
        out, report = code.decode(list(range(6)), f)
        np.testing.assert_allclose(out, grads.sum(axis=1), rtol=1e-12)
        self.assertTrue(report.exact)
        with self.assertRaises(gradcode.InvalidInput):
            code.quantize(0, 0, f[:, 0].copy())
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.gc_dl(self.placement, 10, 1.0)
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.gc_dl(self.placement, 10, 0.1, method=gradcode.gc_dl_method.ignore_stragglers)
        again = pickle.loads(pickle.dumps(code))
        self.assertEqual(again.params.method, gradcode.gc_dl_method.sgc)
        self.assertEqual(again.placement(), code.placement())
        np.testing.assert_array_equal(again.encoding_matrix(), code.encoding_matrix())


if __name__ == "__main__":
    unittest.main()
