# SPDX-License-Identifier: MIT
"""Tests of gradcode's Python module on the JNCSS optimiser and the runtime model
(python/src/bind_optimize.cpp): jncss() equals the literal Algorithm 2, T-hat at its pair is its
optimum, the selection has the right counts, the homogeneous closed forms and the Monte-Carlo
model agree in order, pickling. Run by ctest (label python)."""

import pickle
import unittest

import gradcode


class JncssTest(unittest.TestCase):
    """tang2024 §IV-C: JNCSS on the paper's §V-A setting."""

    def test_jncss_equals_the_literal_algorithm_and_its_pair_time(self):
        for workload in (gradcode.tang2024_workload.mnist, gradcode.tang2024_workload.cifar10):
            with self.subTest(workload=str(workload)):
                model = gradcode.tang2024_setting(workload)
                self.assertEqual(model.edge_count(), 4)
                self.assertEqual(model.worker_counts(), [10, 10, 10, 10])
                r = gradcode.jncss(model, 40)
                lit = gradcode.jncss_literal(model, 40)
                self.assertEqual(r, lit)
                self.assertEqual(r.time, gradcode.jncss_pair_time(model, 40, r.edge_tolerance, r.worker_tolerance))
                self.assertAlmostEqual(r.load, gradcode.jncss_load(40, r.edge_tolerance, r.worker_tolerance, 40))
                self.assertEqual(sum(r.edge_selected), 4 - r.edge_tolerance)
                for i, sel in enumerate(r.worker_selected):
                    self.assertEqual(sum(sel), (10 - r.worker_tolerance) if r.edge_selected[i] else 0)
                for se in range(4):
                    for sw in range(10):
                        self.assertGreaterEqual(gradcode.jncss_pair_time(model, 40, se, sw), r.time)
                print(f"\n  jncss {workload}: s_e = {r.edge_tolerance}, s_w = {r.worker_tolerance}, T = {r.time:.1f} ms, "
                      f"D = {r.load:.2f}", end="")
                gap = gradcode.jncss_gap(model, r, samples=200, seed=3)
                self.assertGreaterEqual(gap.bound, 0)
                self.assertEqual(len(gap.worker_dispersion), 4)

    def test_model_sampling_and_errors(self):
        w = gradcode.worker_timing(compute_per_partition=10, compute_rate=0.1, link_time=50, link_failure=0.1)
        e = gradcode.edge_timing(link_time=100, link_failure=0.1)
        model = gradcode.homogeneous_setting(3, 4, w, e)
        self.assertEqual(model.total_workers(), 12)
        s = gradcode.sample_iteration(model, 2.0, seed=4)
        self.assertEqual(len(s.worker_arrival), 3)
        t00 = gradcode.hierarchical_time(s, 0, 0)
        t11 = gradcode.hierarchical_time(s, 1, 1)
        self.assertLessEqual(t11, t00)  # waiting for fewer results never takes longer on the same draw
        bad = gradcode.runtime_model([e], [[gradcode.worker_timing(compute_rate=0)]])
        with self.assertRaises(gradcode.InvalidParameters):
            bad.validate()
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.jncss(bad, 10)
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.jncss(model, 0)

    def test_homogeneous_closed_forms(self):
        system = gradcode.homogeneous_system(edges=4, workers_per_edge=5, partitions=20,
                                             worker=gradcode.worker_timing(10, 0.1, 1, 0.0),
                                             edge=gradcode.edge_timing(1, 0.0))
        choice = gradcode.computation_dominated_choice(system)
        self.assertIn(choice.edge_tolerance, range(4))
        self.assertIn(choice.worker_tolerance, range(5))
        self.assertGreater(gradcode.computation_dominated_time(system, 0, 0), 0)
        self.assertGreater(gradcode.computation_dominated_exact_time(system, 1, 1), 0)
        self.assertEqual(gradcode.to_runtime_model(system).total_workers(), 20)

    def test_pickle(self):
        model = gradcode.tang2024_setting()
        again = pickle.loads(pickle.dumps(model))
        self.assertEqual(again, model)
        r = gradcode.jncss(model, 40, gradcode.jncss_options(skip_nonexistent_codes=False))
        self.assertEqual(pickle.loads(pickle.dumps(r)), r)
        system = gradcode.homogeneous_system(2, 3, 6)
        self.assertEqual(pickle.loads(pickle.dumps(system)), system)


if __name__ == "__main__":
    unittest.main()
