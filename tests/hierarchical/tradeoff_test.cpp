// SPDX-License-Identifier: MIT
// Trade-off calculators of tang2024 (include/gradcode/hierarchical/tradeoff.hpp): the Theorem 1
// bound (eq. 4), Corollary 1's conventional load (eqs. 8-11), Corollary 2's L-layer bound
// (eq. 12), and the §V master communication loads (Fig. 7). Known answers from Example 1, §V and
// spec §3/§6; the identities are checked over whole parameter ranges against brute force.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/hierarchical/hgc.hpp>
#include <gradcode/hierarchical/tradeoff.hpp>

#include "codes/code_properties.hpp"

using gradcode::conventional_load;
using gradcode::hgc_load_bound;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::layered_load_bound;
using gradcode::master_communication_load;
using gradcode::scheme;
using gradcode::standard_gc_tolerance;
using gradcode::worker_computation_load;
using gradcode::test::what_contains;

namespace {

/// Eq. (8) by brute force: max over all s_e-subsets of edges of Σ m_i, plus (n − s_e)·s_w.
Index brute_force_s_max(const std::vector<Index>& m, Index se, Index sw) {
  const auto n = static_cast<Index>(m.size());
  Index best = 0;
  gradcode::test::for_each_subset(n, se, [&](const std::vector<Index>& subset) {
    Index sum = 0;
    for (Index i : subset) sum += m[static_cast<std::size_t>(i)];
    best = std::max(best, sum);
  });
  return best + (n - se) * sw;
}

Index total(const std::vector<Index>& m) { return std::accumulate(m.begin(), m.end(), Index{0}); }

const std::vector<std::vector<Index>>& systems() {
  static const std::vector<std::vector<Index>> s = {
      {3, 3, 3},    {10, 10, 10, 10},         {3, 4, 5}, {5, 3, 4, 2}, {1, 1, 10}, {2, 7, 1, 9, 4}, {6, 6},
      {1, 1, 1, 1}, {8, 8, 8, 8, 8, 8, 8, 8}, {20, 3, 3}};
  return s;
}

}  // namespace

TEST_CASE("tradeoff: Theorem 1 (eq. 4) — D ≥ K(s_e+1)(s_w+1)/Σm_i, Example 1 gives D = 4, §V gives (s_e+1)(s_w+1)",
          "[tradeoff][kat]") {
  const std::vector<Index> ex1 = {3, 3, 3};
  CHECK(hgc_load_bound(ex1, 9, 1, 1) == 4.0);  // tang2024 Example 1: "each worker 4 sub-datasets"
  const std::vector<Index> sec5 = {10, 10, 10, 10};
  for (Index se = 0; se < 4; ++se)
    for (Index sw = 0; sw < 10; ++sw) {
      INFO("tang2024 §V: n = 4, m = 10, K = 40, s_e = " << se << ", s_w = " << sw);
      CHECK(hgc_load_bound(sec5, 40, se, sw) == static_cast<double>((se + 1) * (sw + 1)));
    }
  const std::vector<Index> het = {3, 4, 5};
  CHECK(hgc_load_bound(het, 12, 1, 1) == 4.0);
  CHECK(hgc_load_bound(het, 10, 1, 2) == Approx(5.0));
  CHECK(hgc_load_bound(het, 11, 1, 1) == Approx(11.0 / 3.0));
  // n = 1 recovers the single-layer bound D/K ≥ (s_w+1)/m (eq. 3, Tandon et al.).
  const std::vector<Index> single = {7};
  CHECK(hgc_load_bound(single, 14, 0, 3) == 8.0);
  // The code's own load_bound() is this calculator.
  const gradcode::hgc_code<double> code(
      gradcode::hgc_params{.workers = het, .partitions = 10, .edge_tolerance = 1, .worker_tolerance = 2});
  CHECK(code.load_bound() == hgc_load_bound(het, 10, 1, 2));
}

TEST_CASE(
    "tradeoff: Corollary 1 (eqs. 8-9) — Example 1 has s_max = 5 and D_con = 6, §V Standard GC tolerates "
    "s_e·m + s_w(n−s_e)",
    "[tradeoff][kat]") {
  const std::vector<Index> ex1 = {3, 3, 3};
  // Spec §4 [derived]: D_con = 9·(3 + 2·1 + 1)/9 = 6, Standard GC s = 1·3 + 1·(3 − 1) = 5.
  CHECK(standard_gc_tolerance(ex1, 1, 1) == 5);
  CHECK(conventional_load(ex1, 9, 1, 1) == 6.0);
  const std::vector<Index> sec5 = {10, 10, 10, 10};
  for (Index se = 0; se < 4; ++se)
    for (Index sw = 0; sw < 10; ++sw) {
      INFO("tang2024 §V: s = s_e m + s_w (n − s_e), D_con = K(s+1)/(nm); s_e = " << se << ", s_w = " << sw);
      const Index s = se * 10 + sw * (4 - se);
      CHECK(standard_gc_tolerance(sec5, se, sw) == s);
      CHECK(conventional_load(sec5, 40, se, sw) == static_cast<double>(s + 1));
    }
}

TEST_CASE(
    "tradeoff: with heterogeneous m_i, s_max (eq. 8) takes the s_e largest edges — equal to brute force over all "
    "edge subsets",
    "[tradeoff][exhaustive]") {
  CHECK(standard_gc_tolerance(std::vector<Index>{3, 4, 5}, 1, 1) == 5 + 2 * 1);
  CHECK(standard_gc_tolerance(std::vector<Index>{5, 3, 4, 2}, 2, 1) == (5 + 4) + 2 * 1);
  CHECK(standard_gc_tolerance(std::vector<Index>{2, 7, 1, 9, 4}, 2, 0) == 16);
  CHECK(conventional_load(std::vector<Index>{3, 4, 5}, 12, 1, 1) == 8.0);  // 12·(7+1)/12
  Index checked = 0;
  for (const auto& m : systems()) {
    const auto n = static_cast<Index>(m.size());
    const Index m_min = *std::min_element(m.begin(), m.end());
    for (Index se = 0; se < n; ++se)
      for (Index sw = 0; sw < m_min; ++sw) {
        INFO("m = " << gradcode::test::to_string(m) << ", s_e = " << se << ", s_w = " << sw);
        CHECK(standard_gc_tolerance(m, se, sw) == brute_force_s_max(m, se, sw));
        ++checked;
      }
  }
  CHECK(checked > 50);
}

TEST_CASE(
    "tradeoff: D_con ≥ the Theorem 1 bound everywhere, equal at (s_e, s_w) = (0, 0) — eq. (11) prints '>' but "
    "it is '≥'",
    "[tradeoff][exhaustive]") {
  Index equal_cases = 0;
  for (const auto& m : systems()) {
    const auto n = static_cast<Index>(m.size());
    const Index m_min = *std::min_element(m.begin(), m.end()), N = total(m);
    const bool equal_m = std::all_of(m.begin(), m.end(), [&](Index x) { return x == m[0]; });
    for (Index K : {N, 2 * N + 1, Index{7}}) {
      for (Index se = 0; se < n; ++se)
        for (Index sw = 0; sw < m_min; ++sw) {
          INFO("m = " << gradcode::test::to_string(m) << ", K = " << K << ", s_e = " << se << ", s_w = " << sw);
          const double con = conventional_load(m, K, se, sw), bound = hgc_load_bound(m, K, se, sw);
          CHECK(con >= bound);
          // Eq. (10) lower bound on eq. (9), exact when the m_i are equal (the max is then s_e·m).
          const double eq10 =
              static_cast<double>(K) * static_cast<double>(se * m_min + n * sw - se * sw + 1) / static_cast<double>(N);
          CHECK(con >= eq10 * (1 - 1e-15));
          if (equal_m) CHECK(con == Approx(eq10).epsilon(1e-15));
          // Spec §3 [derived]: (10) − (4) = s_e(m_min − 1 − s_w) + s_w(n − 1 − s_e), in units of K/Σm.
          const double gap =
              static_cast<double>(se * (m_min - 1 - sw) + sw * (n - 1 - se)) * static_cast<double>(K) / static_cast<double>(N);
          CHECK(eq10 - bound == Approx(gap).margin(1e-12));
          if (con == bound) ++equal_cases;
        }
      CHECK(conventional_load(m, K, 0, 0) == hgc_load_bound(m, K, 0, 0));  // the '≥' case of eq. (11)
    }
  }
  // More equalities than (0, 0): m_min = 1 with s_w = 0, and s_e = n−1, s_w = m−1 with equal m_i.
  CHECK(conventional_load(std::vector<Index>{10, 10, 10, 10}, 40, 3, 9) ==
        hgc_load_bound(std::vector<Index>{10, 10, 10, 10}, 40, 3, 9));
  CHECK(conventional_load(std::vector<Index>{1, 1, 1, 1}, 8, 2, 0) == hgc_load_bound(std::vector<Index>{1, 1, 1, 1}, 8, 2, 0));
  std::printf("[gradcode tradeoff] D_con == Theorem 1 bound in %lld of the swept (m, K, s_e, s_w)\n",
              static_cast<long long>(equal_cases));
  CHECK(equal_cases > 0);
}

TEST_CASE("tradeoff: Corollary 2 (eq. 12) with L = 2 layers, s_1 = s_e, s_2 = s_w, W = Σm_i is Theorem 1",
          "[tradeoff][exhaustive]") {
  for (const auto& m : systems()) {
    const auto n = static_cast<Index>(m.size());
    const Index m_min = *std::min_element(m.begin(), m.end()), N = total(m);
    for (Index se = 0; se < n; ++se)
      for (Index sw = 0; sw < m_min; ++sw) {
        const std::vector<Index> s = {se, sw};
        INFO("m = " << gradcode::test::to_string(m) << ", s_e = " << se << ", s_w = " << sw);
        CHECK(layered_load_bound(s, N, 3 * N) == hgc_load_bound(m, 3 * N, se, sw));
      }
  }
  // L = 1 is the single-layer bound K(s+1)/W; L = 3 multiplies the three factors.
  CHECK(layered_load_bound(std::vector<Index>{2}, 12, 24) == 6.0);
  CHECK(layered_load_bound(std::vector<Index>{1, 2, 3}, 48, 48) == 24.0);
  CHECK(layered_load_bound(std::vector<Index>{}, 10, 20) == 2.0);
}

TEST_CASE(
    "tradeoff: §V master communication load (Fig. 7) — Standard GC receives (n−s_e)(m−s_w), e.g. 27 at (1,1), "
    "hierarchical schemes n or n − s_e",
    "[tradeoff][kat]") {
  const std::vector<Index> sec5 = {10, 10, 10, 10};
  // Spec §6: 27 at (1,1), 36 at (0,1), 30 at (1,0).
  CHECK(master_communication_load(scheme::standard_gc, sec5, 1, 1) == 27);
  CHECK(master_communication_load(scheme::standard_gc, sec5, 0, 1) == 36);
  CHECK(master_communication_load(scheme::standard_gc, sec5, 1, 0) == 30);
  for (Index se = 0; se < 4; ++se)
    for (Index sw = 0; sw < 10; ++sw) {
      INFO("tang2024 §V table (spec §6), s_e = " << se << ", s_w = " << sw);
      CHECK(master_communication_load(scheme::standard_gc, sec5, se, sw) == (4 - se) * (10 - sw));
      CHECK(master_communication_load(scheme::uncoded, sec5, se, sw) == 4);
      CHECK(master_communication_load(scheme::cgc_w, sec5, se, sw) == 4);
      CHECK(master_communication_load(scheme::greedy, sec5, se, sw) == 4 - se);
      CHECK(master_communication_load(scheme::cgc_e, sec5, se, sw) == 4 - se);
      CHECK(master_communication_load(scheme::hgc, sec5, se, sw) == 4 - se);
      CHECK(master_communication_load(scheme::hgc_jncss, sec5, se, sw) == 4 - se);
      // Worker loads of the same table: K = Σm = 40, so uncoded is one partition per worker.
      CHECK(worker_computation_load(scheme::uncoded, sec5, 40, se, sw) == 1.0);
      CHECK(worker_computation_load(scheme::greedy, sec5, 40, se, sw) == 1.0);
      CHECK(worker_computation_load(scheme::cgc_w, sec5, 40, se, sw) == static_cast<double>(sw + 1));
      CHECK(worker_computation_load(scheme::cgc_e, sec5, 40, se, sw) == static_cast<double>(se + 1));
      CHECK(worker_computation_load(scheme::hgc, sec5, 40, se, sw) == static_cast<double>((se + 1) * (sw + 1)));
      CHECK(worker_computation_load(scheme::standard_gc, sec5, 40, se, sw) == conventional_load(sec5, 40, se, sw));
    }
  // Spec §6 [derived]: JNCSS picks (1, 5) for MNIST and (1, 3) for CIFAR-10, master load 3.
  CHECK(master_communication_load(scheme::hgc_jncss, sec5, 1, 5) == 3);
  // Heterogeneous: Σm − s_max with the s_e largest edges lost.
  CHECK(master_communication_load(scheme::standard_gc, std::vector<Index>{3, 4, 5}, 1, 1) == 12 - 7);
  CHECK(std::string(gradcode::scheme_name(scheme::standard_gc)) == "Standard GC");
  CHECK(std::string(gradcode::scheme_name(scheme::hgc_jncss)) == "HGC-JNCSS");
}

TEST_CASE("tradeoff: out-of-range tolerances and empty systems throw invalid_parameters naming the constraint",
          "[tradeoff][errors]") {
  const std::vector<Index> m = {3, 4, 5};
  CHECK_THROWS_MATCHES(hgc_load_bound(std::vector<Index>{}, 9, 0, 0), invalid_parameters, what_contains("no edges"));
  CHECK_THROWS_MATCHES(hgc_load_bound(m, 12, 3, 0), invalid_parameters, what_contains("s_e = 3 outside [0, n = 3)"));
  CHECK_THROWS_MATCHES(hgc_load_bound(m, 12, -1, 0), invalid_parameters, what_contains("s_e = -1"));
  CHECK_THROWS_MATCHES(hgc_load_bound(m, 12, 0, 3), invalid_parameters, what_contains("s_w = 3 outside [0, min m_i = 3)"));
  CHECK_THROWS_MATCHES(conventional_load(std::vector<Index>{3, 0}, 12, 0, 0), invalid_parameters, what_contains("m_i = 0"));
  CHECK_THROWS_MATCHES(standard_gc_tolerance(m, 0, 5), invalid_parameters, what_contains("s_w = 5"));
  CHECK_THROWS_MATCHES(master_communication_load(scheme::hgc, m, 4, 0), invalid_parameters, what_contains("s_e = 4"));
  CHECK_THROWS_MATCHES(layered_load_bound(std::vector<Index>{1, 1}, 0, 10), invalid_parameters, what_contains("W = 0 workers"));
  CHECK_THROWS_MATCHES(layered_load_bound(std::vector<Index>{1, -2}, 10, 10), invalid_parameters,
                       what_contains("s_l = -2 is negative"));
}

// Regression (issue 13): Σm_i was summed in Index unchecked (m_i near INT64_MAX overflowed,
// signed overflow, and returned a negative load), s_l + 1 overflowed at s_l = INT64_MAX, a
// layered bound past the double range came back +inf, and K ≤ 0 gave zero or negative loads.
TEST_CASE("tradeoff: m_i near INT64_MAX, s_l = INT64_MAX, K < 1 or a bound past double throw invalid_parameters or stay exact",
          "[tradeoff][errors]") {
  const Index top = std::numeric_limits<Index>::max();
  const std::vector<Index> overflowing{top / 2 + 1, top / 2 + 1};
  CHECK_THROWS_MATCHES(hgc_load_bound(overflowing, 10, 0, 0), invalid_parameters, what_contains("Σm_i overflows"));
  CHECK_THROWS_AS(conventional_load(overflowing, 10, 1, 0), invalid_parameters);
  CHECK_THROWS_AS(standard_gc_tolerance(overflowing, 1, 0), invalid_parameters);
  CHECK_THROWS_AS(master_communication_load(scheme::standard_gc, overflowing, 0, 0), invalid_parameters);
  // Huge but summable m_i: exact answers, no overflow in (s_e+1)(s_w+1) or s_max.
  const std::vector<Index> big{Index{1} << 61, Index{1} << 61};
  CHECK(hgc_load_bound(big, Index{1} << 62, 1, (Index{1} << 61) - 1) == std::ldexp(1.0, 62));
  CHECK(standard_gc_tolerance(big, 1, 5) == (Index{1} << 61) + 5);
  CHECK(conventional_load(big, 4, 1, 0) > 0);
  CHECK(layered_load_bound(std::vector<Index>{top}, 1, 1) == std::ldexp(1.0, 63));
  CHECK_THROWS_MATCHES(layered_load_bound(std::vector<Index>(20, top), 1, 1), invalid_parameters,
                       what_contains("overflows double"));
  const std::vector<Index> m = {3, 4, 5};
  for (Index K : {Index{0}, Index{-5}}) {
    INFO("K = " << K);
    CHECK_THROWS_MATCHES(hgc_load_bound(m, K, 0, 0), invalid_parameters, what_contains("need K >= 1"));
    CHECK_THROWS_AS(conventional_load(m, K, 0, 0), invalid_parameters);
    CHECK_THROWS_AS(layered_load_bound(std::vector<Index>{1}, 12, K), invalid_parameters);
    CHECK_THROWS_AS(worker_computation_load(scheme::cgc_w, m, K, 0, 0), invalid_parameters);
  }
}
