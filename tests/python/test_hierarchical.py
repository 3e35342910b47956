# SPDX-License-Identifier: MIT
"""Tests of gradcode's Python module on the hierarchical codes (python/src/bind_hierarchical.cpp):
tang2024's HGC and gholami2025's polynomial HGC round-trip through workers -> edges -> master for
every (or many) straggler patterns, with the reports passed from edges to master; adversaries are
located; typed exceptions; pickling; float32. Run by ctest (label python)."""

import itertools
import pickle
import random
import unittest

import numpy as np

import gradcode

TOL = {np.float64: 1e-9, np.float32: 1e-4}
DTYPES = (np.float64, np.float32)


def partials(d, K, dtype, seed=11):
    rng = np.random.default_rng(seed)
    return np.asfortranarray(rng.standard_normal((d, K)).astype(dtype))


def rel(a, b):
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - b) / np.linalg.norm(b))


class HgcTest(unittest.TestCase):
    """tang2024 HGC: the master recovers the sum for every pattern of s_e edge and s_w worker stragglers."""

    def test_every_pattern_of_edge_and_worker_stragglers(self):
        d = 500
        for dt in DTYPES:
            with self.subTest(dtype=dt.__name__):
                code = gradcode.hgc_code(workers=[3, 3, 3], partitions=9, edge_tolerance=1, worker_tolerance=1, dtype=dt)
                self.assertEqual((code.edges(), code.partitions(), code.edge_tolerance(), code.worker_tolerance()), (3, 9, 1, 1))
                self.assertEqual(code.max_load(), 4)  # tang2024 Example 1: D = 4
                self.assertAlmostEqual(code.load_bound(), 4.0)
                g = partials(d, 9, dt)
                total = g.astype(np.float64).sum(axis=1)
                msgs = {(i, j): code.encode((i, j), g) for i in range(3) for j in range(code.workers(i))}
                for (i, j), msg in msgs.items():
                    held = np.asfortranarray(g[:, code.worker_partitions((i, j))])
                    np.testing.assert_array_equal(code.encode_held(gradcode.worker_id(i, j), held), msg)
                # each edge: every decodable worker pattern -> its G_i and report
                edge_results = {}
                for i in range(3):
                    edge_results[i] = []
                    for f in range(code.edge_wait(i), code.workers(i) + 1):
                        for ids in itertools.combinations(range(code.workers(i)), f):
                            self.assertTrue(code.edge_decodable(i, list(ids)))
                            G, report = code.edge_decode(i, list(ids), np.stack([msgs[(i, j)] for j in ids]).T)
                            edge_results[i].append((G, report))
                    self.assertFalse(code.edge_decodable(i, [0]))
                worst, patterns = 0.0, 0
                for f in range(code.master_wait(), 4):
                    for edges in itertools.combinations(range(3), f):
                        self.assertTrue(code.master_decodable(list(edges)))
                        for choice in itertools.product(*[edge_results[e] for e in edges]):
                            results = np.stack([G for G, _ in choice]).T
                            reports = [r for _, r in choice]
                            out, report = code.master_decode(list(edges), results, reports)
                            self.assertEqual(report.used, list(edges))
                            self.assertLessEqual(report.estimated_error, TOL[dt])
                            worst = max(worst, rel(out, total))
                            patterns += 1
                print(f"\n  hgc [3,3,3] K=9 s_e=s_w=1 {dt.__name__}: worst relative error {worst:.3g} over {patterns} patterns", end="")
                self.assertLessEqual(worst, TOL[dt])
                sim = code.simulate_round(g, straggling_workers=[(0, 1), (2, 0)], straggling_edges=[1])
                self.assertLessEqual(rel(sim, total), TOL[dt])

    def test_master_decode_forms_and_layers(self):
        code = gradcode.hgc_code([3, 3, 3], 9, 1, 1)
        g = partials(64, 9, np.float64)
        G = []
        amps = []
        for i in (0, 2):
            ids = [0, 2]
            msgs = np.stack([code.encode((i, j), g) for j in ids]).T
            out = np.empty(64)
            G.append(code.edge_decode(i, ids, msgs, out=out)[0])
            amps.append(code.edge_amplification(i, ids))
        results = np.stack(G).T
        a, ra = code.master_decode([0, 2], results)
        b, rb = code.master_decode([0, 2], results, edge_amplification=max(amps))
        np.testing.assert_array_equal(a, b)
        self.assertGreaterEqual(rb.amplification, ra.amplification)
        np.testing.assert_allclose(a, g.sum(axis=1), rtol=1e-9)
        B = code.edge_encoding()
        self.assertEqual(B.shape, (3, 9))
        self.assertEqual(code.worker_encoding(0).shape[0], 3)
        self.assertEqual(code.worker_encoding_global(1).shape, (3, 9))
        self.assertIsInstance(code.edge_layer(), gradcode.linear_code)
        self.assertEqual(code.edge_layer().nodes(), 3)
        self.assertTrue(code.verify().satisfied)

    def test_errors(self):
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.hgc_code([3, 3, 3], 9, 3, 1)
        code = gradcode.hgc_code([3, 3, 3], 9, 1, 1)
        g = partials(16, 9, np.float64)
        with self.assertRaisesRegex(gradcode.NotDecodable, "edge 1") as ctx:
            code.edge_decode(1, [2], code.encode((1, 2), g))
        self.assertEqual(ctx.exception.needed, 2)
        with self.assertRaisesRegex(gradcode.NotDecodable, "master"):
            code.master_decode([0], np.asfortranarray(np.ones((16, 1))))
        with self.assertRaises(gradcode.InvalidInput):
            code.encode((3, 0), g)
        with self.assertRaises(gradcode.InvalidInput):
            code.master_decode([0, 1], np.asfortranarray(np.ones((16, 2))), [gradcode.decode_report()])

    def test_pickle(self):
        code = gradcode.hgc_code([3, 4, 3], 10, 1, 1, method=gradcode.construction.null_space, seed=5, dtype=np.float32)
        again = pickle.loads(pickle.dumps(code))
        self.assertIs(type(again), type(code))
        self.assertEqual(again.params, code.params)
        self.assertEqual(again.params.method, gradcode.construction.null_space)
        np.testing.assert_array_equal(again.edge_encoding(), code.edge_encoding())
        for i in range(3):
            np.testing.assert_array_equal(again.worker_encoding(i), code.worker_encoding(i))
        self.assertEqual(pickle.loads(pickle.dumps(code.params)), code.params)
        w = gradcode.worker_id(1, 2)
        self.assertEqual(pickle.loads(pickle.dumps(w)), w)
        self.assertEqual(tuple(w), (1, 2))


def polynomial(dt, d=1000, adversaries=0):
    """4 clusters of 4 workers, K = 4: r1 = 3 clusters and r2 = 3 workers per partition."""
    clusters = gradcode.place_partitions(gradcode.polynomial_placement(
        workers=[4, 4, 4, 4], partitions=4, relay_replication=3, worker_replication=[3]))
    if adversaries:
        return gradcode.polynomial_hgc(d, clusters, relay_stragglers=0, relay_adversaries=1,
                                       worker_stragglers=[0], worker_adversaries=[1], dtype=dt)
    return gradcode.polynomial_hgc(dimension=d, clusters=clusters, relay_stragglers=1, worker_stragglers=[1], dtype=dt)


class PolynomialTest(unittest.TestCase):
    """gholami2025 polynomial HGC: the server recovers the sum with a straggling relay and a straggling worker per relay."""

    def test_straggler_patterns(self):
        for dt in DTYPES:
            with self.subTest(dtype=dt.__name__):
                code = polynomial(dt)
                d, K = code.dimension(), code.partitions()
                self.assertEqual((code.relays(), code.relay_parts(), code.worker_parts(0)), (4, 2, 2))
                g = partials(d, K, dt)
                total = g.astype(np.float64).sum(axis=1)
                msgs = {}
                for i in range(4):
                    for j in range(4):
                        msgs[(i, j)] = code.encode((i, j), g)
                        self.assertEqual(msgs[(i, j)].shape, (code.worker_message_length(i),))
                rng = random.Random(3)
                cases = [(r, t) for r in [None, 0, 1, 2, 3] for t in [None, 0, 1, 2, 3]]
                cases += [(rng.choice([None, 0, 1, 2, 3]), "random") for _ in range(40)]
                worst = 0.0
                for slow_relay, slow_worker in cases:
                    relays = [i for i in range(4) if i != slow_relay]
                    results, reports = [], []
                    for i in relays:
                        t = rng.randrange(5) if slow_worker == "random" else slow_worker
                        ids = [j for j in range(4) if j != t]
                        self.assertTrue(code.edge_decodable(i, ids))
                        out, report = code.edge_decode(i, ids, np.stack([msgs[(i, j)] for j in ids]).T)
                        self.assertEqual(out.shape, (code.relay_message_length(),))
                        results.append(out)
                        reports.append(report)
                    out, report = code.master_decode(relays, np.stack(results).T, reports)
                    self.assertEqual(out.shape, (d,))
                    self.assertLessEqual(report.estimated_error, TOL[dt])
                    worst = max(worst, rel(out, total))
                print(f"\n  polynomial 4x4 K=4 s1=s2=1 {dt.__name__}: worst relative error {worst:.3g} over {len(cases)} patterns", end="")
                self.assertLessEqual(worst, TOL[dt])
                # the robust-report vocabulary gives the same result
                ids = [0, 1, 2]
                r_out, r_report = code.relay_decode(0, ids, np.stack([msgs[(0, j)] for j in ids]).T)
                self.assertIsInstance(r_report, gradcode.robust_report)
                self.assertEqual(r_report.used, ids)

    def test_adversaries_are_located_and_excluded(self):
        code = polynomial(np.float64, d=300, adversaries=1)
        g = partials(300, 4, np.float64)
        gradient, relays, server = code.simulate_round(g, adversarial_workers=[(1, 2)], adversarial_relays=[3])
        self.assertLessEqual(rel(gradient, g.sum(axis=1)), 1e-9)
        self.assertEqual(relays[1].corrupted, [2])
        self.assertEqual(server.corrupted, [3])

    def test_errors_and_pickle(self):
        clusters = gradcode.place_partitions(gradcode.polynomial_placement([3, 3], 2, relay_replication=1, worker_replication=[1]))
        with self.assertRaisesRegex(gradcode.InvalidParameters, "m1|r1"):
            gradcode.polynomial_hgc(100, clusters, relay_stragglers=1)
        code = polynomial(np.float32, d=100)
        with self.assertRaises(gradcode.NotDecodable):
            code.edge_decode(0, [0, 1], np.asfortranarray(np.ones((code.worker_message_length(0), 2), dtype=np.float32)))
        again = pickle.loads(pickle.dumps(code))
        self.assertIs(type(again), type(code))
        self.assertEqual(again.params.dimension, 100)
        self.assertEqual([c.holdings() for c in again.params.clusters], [c.holdings() for c in code.params.clusters])
        g = partials(100, 4, np.float32)
        np.testing.assert_array_equal(again.encode((2, 1), g), code.encode((2, 1), g))
        a = clusters[0]
        self.assertEqual(pickle.loads(pickle.dumps(a)), a)


class TradeoffTest(unittest.TestCase):
    """The load calculators of hierarchical/tradeoff.hpp (tang2024 Theorem 1, Corollaries 1-2)."""

    def test_known_values(self):
        self.assertAlmostEqual(gradcode.hgc_load_bound([3, 3, 3], 9, 1, 1), 4.0)
        self.assertEqual(gradcode.standard_gc_tolerance([3, 3, 3], 1, 1), 3 + 2)  # s_e m + s_w (n - s_e)
        self.assertAlmostEqual(gradcode.conventional_load([3, 3, 3], 9, 1, 1), 9 * 6 / 9)
        self.assertAlmostEqual(gradcode.layered_load_bound([1, 1], 9, 9), 4.0)
        self.assertEqual(gradcode.master_communication_load(gradcode.scheme.hgc, [3, 3, 3], 1, 1), 2)
        self.assertAlmostEqual(gradcode.worker_computation_load(gradcode.scheme.hgc, [3, 3, 3], 9, 1, 1), 4.0)
        self.assertEqual(gradcode.scheme_name(gradcode.scheme.standard_gc), "Standard GC")
        with self.assertRaises(gradcode.InvalidParameters):
            gradcode.hgc_load_bound([3, 3, 3], 9, 3, 1)


if __name__ == "__main__":
    unittest.main()
