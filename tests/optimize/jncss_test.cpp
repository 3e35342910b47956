// SPDX-License-Identifier: MIT
// JNCSS (include/gradcode/optimize/jncss.hpp, tang2024 §IV-C, Algorithm 2, Theorems 2–3): the
// fast solver against brute force over every selection and against the literal transcription,
// the exact-count selection (eqs. 41–43), the §V known answers of spec §3.2, Theorem 3's pieces
// (spec §3.4) and the typed errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/optimize/jncss.hpp>
#include <gradcode/optimize/presets.hpp>
#include <gradcode/optimize/runtime_model.hpp>

#include "test_support.hpp"

using Catch::Matchers::Contains;
using gradcode::edge_timing;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::jncss;
using gradcode::jncss_literal;
using gradcode::jncss_result;
using gradcode::runtime_model;
using gradcode::tang2024_setting;
using gradcode::tang2024_workload;
using gradcode::worker_timing;

namespace {
using gradcode::test::test_seed;

/// A random heterogeneous model: n edges, m_i ∈ [m_lo, m_hi] workers. `integral` draws every
/// parameter from a small set of values whose means are exact binary fractions (c ∈ {0..3},
/// 1/γ ∈ {1, 2, 4}, τ ∈ {0..3}, p ∈ {0, 1/2}), so many B_(i,j) tie exactly.
runtime_model random_model(std::mt19937_64& rng, Index n, Index m_lo, Index m_hi, bool integral) {
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<Index> workers(m_lo, m_hi), small(0, 3), two(0, 1), three(0, 2);
  runtime_model model;
  for (Index i = 0; i < n; ++i) {
    if (integral)
      model.edges.push_back({static_cast<double>(small(rng)), 0.5 * static_cast<double>(two(rng))});
    else
      model.edges.push_back({10 + 490 * u(rng), 0.3 * u(rng)});
    std::vector<worker_timing> ws;
    for (Index j = workers(rng); j > 0; --j) {
      if (integral)
        ws.push_back({static_cast<double>(small(rng)), 1.0 / static_cast<double>(Index{1} << three(rng)),
                      static_cast<double>(small(rng)), 0.5 * static_cast<double>(two(rng))});
      else
        ws.push_back({50 * u(rng), 0.01 + 0.2 * u(rng), 10 + 190 * u(rng), 0.5 * u(rng)});
    }
    model.workers.push_back(ws);
  }
  return model;
}

/// tang2024 §V-like heterogeneous system scaled to n × m: edge and worker types drawn with the
/// §V proportions (25/50/25 % edges, 50/20/20/10 % workers), parameters jittered by ±20 %.
runtime_model sec5_like_model(std::mt19937_64& rng, Index n, Index m) {
  std::uniform_real_distribution<double> u(0, 1);
  auto jitter = [&] { return 0.8 + 0.4 * u(rng); };
  runtime_model model;
  for (Index i = 0; i < n; ++i) {
    const double x = u(rng);
    edge_timing e = x < 0.25 ? edge_timing{50, 0.1} : x < 0.75 ? edge_timing{100, 0.1} : edge_timing{500, 0.2};
    e.link_time *= jitter();
    model.edges.push_back(e);
    std::vector<worker_timing> ws;
    for (Index j = 0; j < m; ++j) {
      const double y = u(rng);
      worker_timing w = y < 0.5   ? worker_timing{10, 0.1, 50, 0.1}
                        : y < 0.7 ? worker_timing{10, 0.1, 100, 0.5}
                        : y < 0.9 ? worker_timing{50, 0.01, 50, 0.1}
                                  : worker_timing{50, 0.01, 100, 0.5};
      w.compute_per_partition *= jitter();
      w.compute_rate *= jitter();
      w.link_time *= jitter();
      ws.push_back(w);
    }
    model.workers.push_back(ws);
  }
  return model;
}

/// A_i + B_(i,j) at load D, through the same expressions as the library (bit-identical).
double node_time(const runtime_model& model, Index i, Index j, double load) {
  const double a = model.mean_edge_upload(i);
  const auto& w = model.workers[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  return a + gradcode::detail::jncss_worker_mean(w.compute_per_partition, load, gradcode::detail::jncss_worker_offset(w, a));
}

struct brute_answer {
  double time = std::numeric_limits<double>::infinity();
  Index se = -1, sw = -1;
};

/// P1 by brute force: every (s_e, s_w), every set of n − s_e edges and, jointly, every set of
/// m_i − s_w workers in each selected edge; T = max over the selection of A_i + B_(i,j) (43).
brute_answer brute_force(const runtime_model& model, Index partitions, bool skip_nonexistent) {
  const Index n = model.edge_count(), N = model.total_workers();
  Index m_min = std::numeric_limits<Index>::max(), m_max = 0;
  for (Index i = 0; i < n; ++i) {
    m_min = std::min(m_min, model.worker_count(i));
    m_max = std::max(m_max, model.worker_count(i));
  }
  brute_answer best;
  for (Index se = 0; se < n; ++se) {
    if (skip_nonexistent && (se + 1) * m_max > N) continue;
    for (Index sw = 0; sw < m_min; ++sw) {
      const double load = gradcode::detail::jncss_load(partitions, se, sw, N);
      double pair_best = std::numeric_limits<double>::infinity();
      std::vector<Index> edges;
      // Recursion over the selected edges (in order) and, for each, over its worker subsets.
      std::function<void(Index, double)> choose_workers;
      std::function<void(Index)> choose_edges = [&](Index next) {
        if (static_cast<Index>(edges.size()) == n - se) {
          choose_workers(0, -std::numeric_limits<double>::infinity());
          return;
        }
        for (Index i = next; i < n; ++i) {
          edges.push_back(i);
          choose_edges(i + 1);
          edges.pop_back();
        }
      };
      choose_workers = [&](Index position, double so_far) {
        if (position == static_cast<Index>(edges.size())) {
          pair_best = std::min(pair_best, so_far);
          return;
        }
        const Index i = edges[static_cast<std::size_t>(position)], m = model.worker_count(i);
        for (std::uint32_t mask = 0; mask < (1u << m); ++mask) {
          if (std::popcount(mask) != m - sw) continue;
          double t = so_far;
          for (Index j = 0; j < m; ++j)
            if (mask >> j & 1u) t = std::max(t, node_time(model, i, j, load));
          choose_workers(position + 1, t);
        }
      };
      choose_edges(0);
      if (pair_best < best.time) best = {pair_best, se, sw};
    }
  }
  return best;
}

/// (41), (42) exactly, and the selection attains T̂ (43): max over it of A_i + B_(i,j) = T̂.
void check_selection(const runtime_model& model, Index partitions, const jncss_result& r) {
  const Index n = model.edge_count();
  INFO("(ŝ_e, ŝ_w) = (" << r.edge_tolerance << ", " << r.worker_tolerance << "), T̂ = " << r.time);
  REQUIRE(static_cast<Index>(r.edge_selected.size()) == n);
  REQUIRE(static_cast<Index>(r.worker_selected.size()) == n);
  CHECK(r.load == gradcode::detail::jncss_load(partitions, r.edge_tolerance, r.worker_tolerance, model.total_workers()));
  CHECK(std::count(r.edge_selected.begin(), r.edge_selected.end(), true) == n - r.edge_tolerance);  // (41)
  double attained = -std::numeric_limits<double>::infinity();
  for (Index i = 0; i < n; ++i) {
    const auto& w = r.worker_selected[static_cast<std::size_t>(i)];
    REQUIRE(static_cast<Index>(w.size()) == model.worker_count(i));
    const Index expected = r.edge_selected[static_cast<std::size_t>(i)] ? model.worker_count(i) - r.worker_tolerance : 0;
    CHECK(std::count(w.begin(), w.end(), true) == expected);  // (42)
    for (Index j = 0; j < model.worker_count(i); ++j)
      if (w[static_cast<std::size_t>(j)]) {
        attained = std::max(attained, node_time(model, i, j, r.load));
        // The runtime model's own formula for B (eq. 43) agrees to rounding.
        CHECK(model.mean_edge_upload(i) + model.mean_worker_time(i, j, r.load) ==
              Approx(node_time(model, i, j, r.load)).epsilon(1e-12));
      }
  }
  CHECK(attained == r.time);
}

void check_same(const jncss_result& fast, const jncss_result& literal) {
  CHECK(fast.time == literal.time);  // bit-identical
  CHECK(fast.edge_tolerance == literal.edge_tolerance);
  CHECK(fast.worker_tolerance == literal.worker_tolerance);
  CHECK(fast.load == literal.load);
  CHECK(fast.edge_selected == literal.edge_selected);
  CHECK(fast.worker_selected == literal.worker_selected);
  CHECK(fast.searched_edge_tolerances == literal.searched_edge_tolerances);
  CHECK(fast.skipped_pairs == literal.skipped_pairs);
}

}  // namespace

TEST_CASE("jncss: equals brute force over every edge and worker selection on small heterogeneous systems (n ≤ 3, m_i ≤ 4)",
          "[jncss][exhaustive]") {
  const auto seed = test_seed(20240611);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<Index> edges(1, 3), partitions(1, 24);
  int instances = 0, with_ties = 0;
  for (int t = 0; t < 4000; ++t) {
    const bool integral = t % 2 == 1, skip = t % 3 != 0;
    const auto model = random_model(rng, edges(rng), 1, 4, integral);
    const Index K = partitions(rng);
    INFO("seed " << seed << ", instance " << t << ", K = " << K << (integral ? ", integral" : "") << (skip ? "" : ", no skip"));
    const auto brute = brute_force(model, K, skip);
    const auto fast = jncss(model, K, {.skip_nonexistent_codes = skip});
    REQUIRE(fast.time == brute.time);
    CHECK(fast.edge_tolerance == brute.se);
    CHECK(fast.worker_tolerance == brute.sw);
    check_selection(model, K, fast);
    ++instances;
    with_ties += integral;
  }
  CHECK(instances == 4000);
  CHECK(with_ties == 2000);
}

TEST_CASE(
    "jncss: the fast solver equals the literal Algorithm 2 in T̂ (bit for bit), pair and selection on random systems with ties",
    "[jncss][random]") {
  const auto seed = test_seed(7);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<Index> edges(1, 9), partitions(1, 200);
  for (int t = 0; t < 3000; ++t) {
    const bool integral = t % 2 == 0, skip = t % 4 != 3;
    const Index n = edges(rng), m_lo = t % 3 == 0 ? 6 : 1;
    const auto model = random_model(rng, n, m_lo, 10, integral);
    const Index K = partitions(rng);
    INFO("seed " << seed << ", instance " << t << ", n = " << n << ", K = " << K << (integral ? ", integral" : ""));
    const auto fast = jncss(model, K, {.skip_nonexistent_codes = skip});
    check_same(fast, jncss_literal(model, K, {.skip_nonexistent_codes = skip}));
    check_selection(model, K, fast);
  }
}

TEST_CASE("jncss: the fast solver equals the literal Algorithm 2 on §V-like 40 × 40 systems, K/Σm from 1e-3 to 10",
          "[jncss][random]") {
  const auto seed = test_seed(11);
  std::mt19937_64 rng(seed);
  for (const double ratio : {1e-3, 0.025, 0.3, 1.0, 10.0}) {
    const auto model = sec5_like_model(rng, 40, 40);
    const auto K = std::max<Index>(1, static_cast<Index>(ratio * 1600));
    INFO("seed " << seed << ", K = " << K);
    const auto fast = jncss(model, K);
    check_same(fast, jncss_literal(model, K));
    check_selection(model, K, fast);
  }
}

TEST_CASE(
    "jncss: the fast solver equals the literal Algorithm 2 on 60 × 60 systems where its threshold caches are built, ties "
    "included",
    "[jncss][random]") {
  const auto seed = test_seed(13);
  std::mt19937_64 rng(seed);
  std::int64_t caches = 0;
  for (int t = 0; t < 6; ++t) {
    const bool integral = t % 2 == 1;
    const auto model = integral ? random_model(rng, 60, 60, 60, true) : sec5_like_model(rng, 60, 60);
    const Index K = integral ? 40 + 300 * t : (t == 0 ? 40 : 400);
    INFO("seed " << seed << ", instance " << t << ", K = " << K << (integral ? ", integral" : ""));
    const auto fast = jncss(model, K);
    check_same(fast, jncss_literal(model, K));
    check_selection(model, K, fast);
    const auto p = gradcode::detail::jncss_prepare(model, K, {});
    gradcode::detail::jncss_solver solver(p);
    double time = 0;
    Index se = 0, sw = 0;
    solver.solve(time, se, sw);
    CHECK(time == fast.time);
    caches += solver.caches_built;
  }
  CHECK(caches > 0);  // the cache path was exercised
}

TEST_CASE("jncss: the fast solver equals the literal Algorithm 2 on 100 × 100 §V-like systems", "[jncss][random][.slow]") {
  const auto seed = test_seed(19);
  std::mt19937_64 rng(seed);
  for (const Index K : {40, 10'000}) {
    const auto model = sec5_like_model(rng, 100, 100);
    INFO("seed " << seed << ", K = " << K);
    check_same(jncss(model, K), jncss_literal(model, K));
  }
}

TEST_CASE("jncss: skips and counts the (s_e, s_w) whose HGC code cannot exist, (s_e+1)·max m_i > Σm_i", "[jncss]") {
  runtime_model model;
  model.edges.assign(3, {10, 0});
  for (Index m : {2, 3, 4}) model.workers.push_back(std::vector<worker_timing>(static_cast<std::size_t>(m), {1, 1, 1, 0}));
  const auto r = jncss(model, 9);  // Σm = 9, max m = 4: s_e ≤ 1 exist; s_e = 2 skipped for s_w ∈ {0, 1}
  CHECK(r.searched_edge_tolerances == 2);
  CHECK(r.skipped_pairs == 2);
  CHECK(r.edge_tolerance < 2);
  const auto all = jncss(model, 9, {.skip_nonexistent_codes = false});
  CHECK(all.searched_edge_tolerances == 3);
  CHECK(all.skipped_pairs == 0);
  check_same(all, jncss_literal(model, 9, {.skip_nonexistent_codes = false}));
  // Equal m_i: nothing is ever skipped.
  const auto sec5 = jncss(tang2024_setting(), 40);
  CHECK(sec5.searched_edge_tolerances == 4);
  CHECK(sec5.skipped_pairs == 0);
}

TEST_CASE("jncss: tang2024 §V MNIST, K = 40 gives (ŝ_e, ŝ_w) = (1, 5), T̂ = 1390/3, edges {0, 1, 2} with workers 0–4",
          "[jncss][kat]") {
  // spec §3.2 (exact arithmetic): D = 12, the 5th smallest B is a Type-I worker's, the edge values
  // are 352.22, 463.33, 463.33, 1491.11 and the 3rd smallest is 463.33 = 1390/3.
  const auto model = tang2024_setting(tang2024_workload::mnist);
  const auto r = jncss(model, 40);
  CHECK(r.edge_tolerance == 1);
  CHECK(r.worker_tolerance == 5);
  CHECK(r.time == Approx(1390.0 / 3).epsilon(1e-12));
  CHECK(r.load == 12);
  CHECK(r.edge_selected == std::vector<bool>{true, true, true, false});
  const std::vector<bool> type_one{true, true, true, true, true, false, false, false, false, false};
  for (Index i = 0; i < 3; ++i) CHECK(r.worker_selected[static_cast<std::size_t>(i)] == type_one);
  CHECK(r.worker_selected[3] == std::vector<bool>(10, false));
  check_same(r, jncss_literal(model, 40));
  check_selection(model, 40, r);
}

TEST_CASE("jncss: tang2024 §V MNIST, K = 40 — every T̂(s_e, s_w) of the spec §3.2 table", "[jncss][kat]") {
  // spec §3.2, rows s_e = 0..3, columns s_w = 0..9 (ms, printed to 2 decimals; x.11 = x + 1/9).
  const double table[4][10] = {{1800.00, 1680.00, 1690.00, 1661.11, 1710.00, 1431.11, 1441.11, 1451.11, 1461.11, 1471.11},
                               {822.22, 672.22, 733.33, 712.22, 732.22, 463.33, 483.33, 503.33, 523.33, 543.33},
                               {872.22, 733.33, 883.33, 752.22, 782.22, 523.33, 553.33, 583.33, 613.33, 643.33},
                               {811.11, 722.22, 922.22, 681.11, 721.11, 472.22, 512.22, 552.22, 592.22, 632.22}};
  const auto model = tang2024_setting(tang2024_workload::mnist);
  for (Index se = 0; se < 4; ++se)
    for (Index sw = 0; sw < 10; ++sw) {
      INFO("T̂(" << se << ", " << sw << "), spec §3.2 table");
      CHECK(gradcode::jncss_pair_time(model, 40, se, sw) == Approx(table[se][sw]).margin(0.006));
    }
}

TEST_CASE("jncss: tang2024 §V — MNIST stays at (1, 5) for K = 80..200, CIFAR-10 moves from (1, 3) to (0, 3) at K = 120",
          "[jncss][kat]") {
  const auto mnist = tang2024_setting(tang2024_workload::mnist);
  const double mnist_time[] = {583 + 1.0 / 3, 703 + 1.0 / 3, 823 + 1.0 / 3, 943 + 1.0 / 3};  // spec §3.2: 583.33, …
  for (int t = 0; t < 4; ++t) {
    const Index K = 80 + 40 * t;
    INFO("MNIST K = " << K);
    const auto r = jncss(mnist, K);
    CHECK(r.edge_tolerance == 1);
    CHECK(r.worker_tolerance == 5);
    CHECK(r.time == Approx(mnist_time[t]).epsilon(1e-12));
  }
  const auto cifar = tang2024_setting(tang2024_workload::cifar10);
  struct answer {
    Index K, se, sw;
    double time;
  };
  // spec §3.2: (1, 3) 1432.22 at K = 40 (D = 8, the 7th smallest B is a Type-II worker's), 2232.22 at
  // K = 80; (0, 3) 2860, 3260, 3660 at K = 120, 160, 200.
  for (const auto& a : {answer{40, 1, 3, 1432 + 2.0 / 9}, answer{80, 1, 3, 2232 + 2.0 / 9}, answer{120, 0, 3, 2860},
                        answer{160, 0, 3, 3260}, answer{200, 0, 3, 3660}}) {
    INFO("CIFAR-10 K = " << a.K);
    const auto r = jncss(cifar, a.K);
    CHECK(r.edge_tolerance == a.se);
    CHECK(r.worker_tolerance == a.sw);
    CHECK(r.time == Approx(a.time).epsilon(1e-12));
    check_same(r, jncss_literal(cifar, a.K));
  }
}

TEST_CASE(
    "jncss: ties select exact counts — §V MNIST at (1, 6) takes 4 of the 5 tied Type-I workers, at (2, 5) 2 of the tied edges",
    "[jncss][kat]") {
  // spec §3.2 "concrete tie cases": the printed "≤" of lines 14/17 would select 5 workers / 3 edges.
  const auto model = tang2024_setting(tang2024_workload::mnist);
  const auto p = gradcode::detail::jncss_prepare(model, 40, {});
  jncss_result r;
  r.edge_tolerance = 1;
  r.worker_tolerance = 6;
  gradcode::detail::jncss_select(p, r);
  CHECK(r.time == gradcode::jncss_pair_time(model, 40, 1, 6));
  const std::vector<bool> first_four{true, true, true, true, false, false, false, false, false, false};
  for (Index i = 0; i < 3; ++i) CHECK(r.worker_selected[static_cast<std::size_t>(i)] == first_four);
  r.edge_tolerance = 2;
  r.worker_tolerance = 5;
  gradcode::detail::jncss_select(p, r);
  CHECK(r.edge_selected == std::vector<bool>{true, true, false, false});  // edges 1 and 2 tie; the first is taken
  CHECK(r.time == gradcode::jncss_pair_time(model, 40, 2, 5));
}

TEST_CASE("jncss: Lemma 1's f(n, r) has the spec §3.4 values and is symmetric, f(n, r) = f(n, n+1−r)", "[jncss][theorem3][kat]") {
  using gradcode::order_statistic_factor;
  CHECK(order_statistic_factor(3, 2) == Approx(0.816497).margin(1e-6));
  CHECK(order_statistic_factor(4, 1) == Approx(0.866025).margin(1e-6));
  CHECK(order_statistic_factor(4, 4) == Approx(0.866025).margin(1e-6));
  CHECK(order_statistic_factor(4, 2) == Approx(0.788675).margin(1e-6));
  CHECK(order_statistic_factor(4, 3) == Approx(0.788675).margin(1e-6));
  CHECK(order_statistic_factor(10, 1) == Approx(0.948683).margin(1e-6));
  CHECK(order_statistic_factor(10, 4) == Approx(0.594318).margin(1e-6));
  CHECK(order_statistic_factor(10, 7) == Approx(0.594318).margin(1e-6));
  CHECK(order_statistic_factor(10, 5) == Approx(0.574427).margin(1e-6));
  CHECK(order_statistic_factor(10, 6) == Approx(0.574427).margin(1e-6));
  for (Index n = 1; n <= 30; ++n) {
    CHECK(order_statistic_factor(n, 1) == Approx(std::sqrt((static_cast<double>(n) - 1) / static_cast<double>(n))).margin(1e-15));
    for (Index r = 1; r <= n; ++r)
      CHECK(order_statistic_factor(n, r) == Approx(order_statistic_factor(n, n + 1 - r)).epsilon(1e-14));
  }
  CHECK_THROWS_AS(order_statistic_factor(4, 0), invalid_parameters);
  CHECK_THROWS_WITH(order_statistic_factor(4, 5), Contains("f(n = 4, r = 5)"));
}

TEST_CASE(
    "jncss: Theorem 3's Δ_w^i (eq. 49, m_i erratum) is 1014.89 for MNIST (1, 5) and 4820.32 for CIFAR-10 (1, 3) on every edge",
    "[jncss][theorem3][kat]") {
  // spec §3.4 (exact): D = 12 for MNIST (1, 5), D = 8 for CIFAR-10 (1, 3).
  const auto mnist = tang2024_setting(tang2024_workload::mnist), cifar = tang2024_setting(tang2024_workload::cifar10);
  for (Index i = 0; i < 4; ++i) {
    CHECK(gradcode::worker_dispersion(mnist, i, 12) == Approx(1014.89).margin(0.005));
    CHECK(gradcode::worker_dispersion(cifar, i, 8) == Approx(4820.32).margin(0.005));
  }
}

TEST_CASE("jncss: the closed-form Δ_w^i equals the Monte-Carlo E Σ_j (T^(i,j) − T̄)² within 4 standard errors",
          "[jncss][theorem3][statistical]") {
  const auto seed = test_seed(3);
  std::mt19937_64 rng(seed);
  const auto model = tang2024_setting(tang2024_workload::mnist);
  const Index edge = 3, samples = 40000;
  double sum = 0, square = 0;
  for (Index s = 0; s < samples; ++s) {
    const auto x = gradcode::sample_iteration(model, 12.0, rng);
    const auto& t = x.worker_arrival[edge];
    double mean = 0, ss = 0;
    for (double v : t) mean += v / static_cast<double>(t.size());
    for (double v : t) ss += (v - mean) * (v - mean);
    sum += ss;
    square += ss * ss;
  }
  const double mean = sum / samples, se = std::sqrt((square / samples - mean * mean) / samples);
  const double exact = std::pow(gradcode::worker_dispersion(model, edge, 12), 2);
  INFO("seed " << seed << ": MC " << mean << " ± " << se << ", closed form " << exact);
  CHECK(std::abs(mean - exact) <= 4 * se);
}

TEST_CASE("jncss: Theorem 3's bound for MNIST (1, 5) is ≈ 1364 (Δ_e ≈ 990.5) and covers |E[T_tol] − T̂| − 4 standard errors",
          "[jncss][theorem3][statistical]") {
  // spec §3.4 (MC, 1e5 reps): Δ_e ≈ 990.5, RHS ≈ 1364, E[T_tol] ≈ 528.0 against T̂ = 463.33.
  const auto seed = test_seed(5);
  std::mt19937_64 rng(seed);
  const auto model = tang2024_setting(tang2024_workload::mnist);
  const auto r = jncss(model, 40);
  const auto gap = gradcode::jncss_gap(model, r, 20000, rng);
  INFO("seed " << seed << ": Δ_e = " << gap.edge_dispersion << ", bound = " << gap.bound);
  CHECK(gap.edge_factor == Approx(gradcode::order_statistic_factor(4, 3)));
  CHECK(gap.edge_dispersion == Approx(990.5).epsilon(0.03));
  CHECK(gap.worker_term == Approx(gradcode::order_statistic_factor(10, 5) * 1014.89).epsilon(1e-5));
  CHECK(gap.bound == Approx(1364).epsilon(0.03));
  const Index samples = 20000;
  double sum = 0, square = 0;
  for (Index s = 0; s < samples; ++s) {
    const double t =
        gradcode::hierarchical_time(gradcode::sample_iteration(model, r.load, rng), r.edge_tolerance, r.worker_tolerance);
    sum += t;
    square += t * t;
  }
  const double mean = sum / samples, se = std::sqrt((square / samples - mean * mean) / samples);
  INFO("E[T_tol] ≈ " << mean << " ± " << se << " (spec ≈ 528.0), T̂ = " << r.time);
  CHECK(mean == Approx(528.0).epsilon(0.02));
  CHECK(gap.bound >= std::abs(mean - r.time) - 4 * se);
}

TEST_CASE("jncss: Theorem 3's bound for CIFAR-10 (1, 3) is ≈ 3698 and covers |E[T_tol] − T̂| − 4 standard errors",
          "[jncss][theorem3][statistical]") {
  const auto seed = test_seed(9);
  std::mt19937_64 rng(seed);
  const auto model = tang2024_setting(tang2024_workload::cifar10);
  const auto r = jncss(model, 40);
  REQUIRE(r.edge_tolerance == 1);
  REQUIRE(r.worker_tolerance == 3);
  const auto gap = gradcode::jncss_gap(model, r, 20000, rng);
  INFO("seed " << seed << ": Δ_e = " << gap.edge_dispersion << " (spec ≈ 1056), bound = " << gap.bound);
  CHECK(gap.bound == Approx(3698).epsilon(0.03));
  const Index samples = 20000;
  double sum = 0, square = 0;
  for (Index s = 0; s < samples; ++s) {
    const double t = gradcode::hierarchical_time(gradcode::sample_iteration(model, r.load, rng), 1, 3);
    sum += t;
    square += t * t;
  }
  const double mean = sum / samples, se = std::sqrt((square / samples - mean * mean) / samples);
  INFO("E[T_tol] ≈ " << mean << " ± " << se << " (spec ≈ 1691), T̂ = " << r.time);
  CHECK(gap.bound >= std::abs(mean - r.time) - 4 * se);
}

TEST_CASE("jncss: invalid inputs throw invalid_parameters naming the node or the constraint", "[jncss][errors]") {
  const auto good = tang2024_setting();
  auto model = good;
  model.workers[1][2].link_failure = 1;  // p = 1: never succeeds
  CHECK_THROWS_AS(jncss(model, 40), invalid_parameters);
  CHECK_THROWS_WITH(jncss(model, 40), Contains("worker (1,2)") && Contains("p = 1"));
  model = good;
  model.workers[0][3].compute_rate = 0;
  CHECK_THROWS_AS(jncss_literal(model, 40), invalid_parameters);
  CHECK_THROWS_WITH(jncss_literal(model, 40), Contains("worker (0,3)") && Contains("γ = 0"));
  model = good;
  model.edges[2].link_time = -1;
  CHECK_THROWS_AS(jncss(model, 40), invalid_parameters);
  CHECK_THROWS_WITH(jncss(model, 40), Contains("edge 2") && Contains("τ = -1"));
  model = good;
  model.workers[3][9].compute_per_partition = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(jncss(model, 40), Contains("worker (3,9)"));
  CHECK_THROWS_AS(jncss(good, 0), invalid_parameters);
  CHECK_THROWS_WITH(jncss(good, 0), Contains("K = 0"));
  CHECK_THROWS_WITH(jncss_literal(good, -3), Contains("K = -3"));
  CHECK_THROWS_AS(jncss(runtime_model{}, 40), invalid_parameters);
  CHECK_THROWS_WITH(jncss(runtime_model{}, 40), Contains("no edges"));
  model = good;
  model.workers[2].clear();
  CHECK_THROWS_WITH(jncss(model, 40), Contains("edge 2 has no workers"));
  CHECK_THROWS_WITH(gradcode::jncss_pair_time(good, 40, 4, 0), Contains("s_e = 4"));
  CHECK_THROWS_WITH(gradcode::jncss_pair_time(good, 40, 0, 10), Contains("s_w = 10"));
  std::mt19937_64 rng(1);
  CHECK_THROWS_WITH(gradcode::edge_dispersion(good, 0, 12, 0, rng), Contains("0 Monte-Carlo samples"));
  CHECK_THROWS_WITH(gradcode::worker_dispersion(good, 4, 12), Contains("edge 4"));
}

// Regression (issue 13): parameters that pass validate() could still push c·D + o past the
// double range (c = 1e300 with K = 2^62): the search then compared Inf and NaN times; Δ_w and
// Δ_e squared such times into NaN; a load past the double range reached the sampler.
TEST_CASE("jncss: times past the double range throw invalid_parameters instead of comparing Inf or NaN", "[jncss][errors]") {
  auto model = tang2024_setting();
  model.workers[2][7].compute_per_partition = 1e300;
  CHECK_THROWS_WITH(jncss(model, Index{1} << 62), Contains("worker (2,7)") && Contains("past the double range"));
  CHECK_THROWS_AS(jncss_literal(model, Index{1} << 62), invalid_parameters);
  CHECK_THROWS_AS(gradcode::jncss_pair_time(model, Index{1} << 62, 0, 0), invalid_parameters);
  CHECK_NOTHROW(jncss(model, 40));  // the same model at a sane K
  std::mt19937_64 rng(2);
  CHECK_THROWS_WITH(gradcode::worker_dispersion(model, 2, 1e10), Contains("overflows double"));
  CHECK_THROWS_AS(gradcode::edge_dispersion(model, 0, 1e10, 3, rng), invalid_parameters);
  auto slow = tang2024_setting();
  slow.workers[0][0].compute_rate = 1e-160;  // 1/γ = 1e160: finite, but its square is not
  CHECK_THROWS_WITH(gradcode::worker_dispersion(slow, 0, 1), Contains("overflows double"));
}

// Property: on extreme but valid models (c = 0 or tiny or huge, τ and 1/γ over 600 orders of
// magnitude, p near 1, K up to 2^62) the fast solver and the literal transcription agree on the
// pair and the time bit for bit, or both throw invalid_parameters.
TEST_CASE("jncss: on extreme valid models jncss equals jncss_literal or both throw invalid_parameters",
          "[jncss][errors][random]") {
  const std::uint64_t seed = test_seed(0xe7);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const double values[] = {0, 1e-300, 1e-10, 1, 3, 1e10, 1e150, 1e250, 1e300};
  const double rates[] = {1e-250, 1e-3, 1, 1e300};
  const double failures[] = {0, 0.5, 0.999999};
  const Index loads[] = {1, 40, Index{1} << 40, Index{1} << 62};
  auto pick = [&](const auto& a) { return a[std::uniform_int_distribution<std::size_t>(0, std::size(a) - 1)(rng)]; };
  Index agreed = 0, refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    runtime_model m;
    const Index n = std::uniform_int_distribution<Index>(1, 4)(rng);
    for (Index i = 0; i < n; ++i) {
      m.edges.push_back({pick(values), pick(failures)});
      m.workers.emplace_back();
      const Index mi = std::uniform_int_distribution<Index>(1, 5)(rng);
      for (Index j = 0; j < mi; ++j) m.workers.back().push_back({pick(values), pick(rates), pick(values), pick(failures)});
    }
    const Index K = pick(loads);
    INFO("trial " << trial << ", K = " << K);
    bool fast_threw = false, literal_threw = false;
    jncss_result fast, literal;
    try {
      fast = jncss(m, K);
    } catch (const invalid_parameters&) {
      fast_threw = true;
    }
    try {
      literal = jncss_literal(m, K);
    } catch (const invalid_parameters&) {
      literal_threw = true;
    }
    REQUIRE(fast_threw == literal_threw);
    if (fast_threw) {
      ++refused;
      continue;
    }
    ++agreed;
    CHECK(std::isfinite(fast.time));
    CHECK(fast.edge_tolerance == literal.edge_tolerance);
    CHECK(fast.worker_tolerance == literal.worker_tolerance);
    CHECK(fast.time == literal.time);
    CHECK(fast.edge_selected == literal.edge_selected);
    CHECK(fast.worker_selected == literal.worker_selected);
  }
  INFO(agreed << " agreed, " << refused << " refused");
  CHECK(agreed > 50);
  CHECK(refused > 10);
}
