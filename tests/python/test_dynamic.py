# SPDX-License-Identifier: MIT
"""Tests of gradcode's Python module on wang's two-stage code (TSDCFL, dynamic/two_stage.hpp via
python/src/bind_quantize_dynamic.cpp): the master recovers the sum from the finished stage-1
workers and every decodable subset of the stage-2 workers; nothing is coded when stage 1 covered
everything; typed exceptions; pickling; float32. Run by ctest (label python)."""

import itertools
import pickle
import unittest

import numpy as np

import gradcode

TOL = {np.float64: 1e-9, np.float32: 1e-4}


class TwoStageTest(unittest.TestCase):
    """TSDCFL: stage-1 blocks + a stage-2 code over the rest, any M - M_c - s stage-2 results suffice."""

    def test_every_pattern_of_stage_two_stragglers(self):
        d = 400
        for dt in (np.float64, np.float32):
            with self.subTest(dtype=dt.__name__):
                code = gradcode.two_stage_code([1, 1, 2, 2, 1, 1], 12, [0, 1, 2, 3], dtype=dt)
                self.assertEqual((code.workers(), code.partitions(), code.stage_one_workers()), (6, 12, [0, 1, 2, 3]))
                self.assertEqual(sum(code.stage_one_load(w) for w in range(6)), 12)
                g = np.asfortranarray(np.random.default_rng(3).standard_normal((d, 12)).astype(dt))
                total = g.astype(np.float64).sum(axis=1)
                stage2 = code.stage_two([2, 0], 1)
                self.assertTrue(stage2.coded())
                self.assertEqual(stage2.finished_workers(), [0, 2])
                self.assertEqual(stage2.stage_two_workers(), [1, 3, 4, 5])
                self.assertEqual(stage2.responders_needed(), 3)
                msgs = {w: stage2.encode(w, g) for w in range(6)}
                np.testing.assert_allclose(msgs[0], g[:, code.stage_one_first(0):code.stage_one_first(0) + code.stage_one_load(0)]
                                           .astype(np.float64).sum(axis=1), rtol=1e-5)
                worst = 0.0
                for f in (3, 4):
                    for subset in itertools.combinations([1, 3, 4, 5], f):
                        ids = [2, 0] + list(subset)
                        self.assertTrue(stage2.decodable(ids))
                        out, report = stage2.decode(ids, np.stack([msgs[w] for w in ids]).T)
                        self.assertEqual(report.used, sorted(ids))
                        worst = max(worst, np.linalg.norm(out - total) / np.linalg.norm(total))
                print(f"\n  two_stage M=6 K=12 s=1 {dt.__name__}: worst relative error {worst:.3g}", end="")
                self.assertLessEqual(worst, TOL[dt])
                self.assertFalse(stage2.decodable([0, 1, 3, 4]))  # finished worker 2's block is missing
                with self.assertRaises(gradcode.NotDecodable):
                    stage2.decode([0, 2, 1, 3], np.stack([msgs[w] for w in (0, 2, 1, 3)]).T)
                self.assertIsInstance(stage2.code(), gradcode.linear_code)

    def test_nothing_is_coded_when_stage_one_covers_everything(self):
        code = gradcode.two_stage_code([1, 1, 1], 6, [0, 1, 2])
        stage2 = code.stage_two([0, 1, 2], 0)
        self.assertFalse(stage2.coded())
        g = np.asfortranarray(np.random.default_rng(1).standard_normal((50, 6)))
        ids = [0, 1, 2]
        out, _ = stage2.decode(ids, np.stack([code.encode_stage_one(w, g) for w in ids]).T)
        np.testing.assert_allclose(out, g.sum(axis=1), rtol=1e-12)

    def test_errors_and_pickle(self):
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.two_stage_code([1, -1], 4, [0])
        code = gradcode.two_stage_code([1, 1, 2, 2, 1, 1], 12, [0, 1, 2, 3], seed=9)
        with self.assertRaises(gradcode.InvalidInput):
            code.stage_two([4], 1)  # not a stage-1 worker
        again = pickle.loads(pickle.dumps(code))
        self.assertEqual(again.params, code.params)
        self.assertEqual(again.seed(), 9)
        a = again.stage_two([0, 2], 1).code().encoding_matrix()
        np.testing.assert_array_equal(a, code.stage_two([0, 2], 1).code().encoding_matrix())


if __name__ == "__main__":
    unittest.main()
