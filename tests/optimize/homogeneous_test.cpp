// SPDX-License-Identifier: MIT
// Homogeneous closed forms of tang2024 §IV-B (include/gradcode/optimize/homogeneous.hpp,
// eqs. 35–38): the spec §2.1/§2.2 known answers and corner rules, the exact random part of
// spec §2.3 against closed forms and Monte Carlo, and how far the paper's approximations are off.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>

#include <gradcode/core/errors.hpp>
#include <gradcode/optimize/homogeneous.hpp>
#include <gradcode/optimize/runtime_model.hpp>

#include "test_support.hpp"

using Catch::Matchers::Contains;
using gradcode::homogeneous_system;
using gradcode::Index;
using gradcode::invalid_parameters;

namespace {
using gradcode::test::test_seed;

/// spec §2.1 known answer: n = 4, m = 10, K = 40, c = 10, γ = 0.1, τ_1 = 50, τ_2 = 100, p = 0.
homogeneous_system case1() {
  return {.edges = 4, .workers_per_edge = 10, .partitions = 40, .worker = {10, 0.1, 50, 0}, .edge = {100, 0}};
}

double harmonic(Index n) {
  double h = 0;
  for (Index i = n; i >= 1; --i) h += 1.0 / static_cast<double>(i);
  return h;
}

struct estimate {
  double mean, standard_error;
};

/// Monte Carlo of E[T_tol] on the system's runtime model (eqs. 28–33) at (s_e, s_w).
estimate monte_carlo(const homogeneous_system& s, Index se, Index sw, Index samples, std::mt19937_64& rng) {
  const auto model = gradcode::to_runtime_model(s);
  const double load = static_cast<double>(s.partitions * (se + 1) * (sw + 1)) / static_cast<double>(s.edges * s.workers_per_edge);
  double sum = 0, square = 0;
  for (Index i = 0; i < samples; ++i) {
    const double t = gradcode::hierarchical_time(gradcode::sample_iteration(model, load, rng), se, sw);
    sum += t;
    square += t * t;
  }
  const double mean = sum / static_cast<double>(samples);
  return {mean, std::sqrt((square / static_cast<double>(samples) - mean * mean) / static_cast<double>(samples))};
}

}  // namespace

TEST_CASE("homogeneous: Case 1 (eq. 35) corners are 46.8888, 63.0259, 113.8629, 400 and the rule picks (0,0) with E ≈ 346.8888",
          "[homogeneous][kat]") {
  // spec §2.1 known answer; the corner values are (35) minus 2τ_1 + 2τ_2 = 300.
  const auto s = case1();
  CHECK(gradcode::computation_dominated_time(s, 0, 0) - 300 == Approx(46.8888).margin(5e-5));
  CHECK(gradcode::computation_dominated_time(s, 3, 0) - 300 == Approx(63.0259).margin(5e-5));
  CHECK(gradcode::computation_dominated_time(s, 0, 9) - 300 == Approx(113.8629).margin(5e-5));
  CHECK(gradcode::computation_dominated_time(s, 3, 9) - 300 == Approx(400).margin(1e-12));
  const auto c = gradcode::computation_dominated_choice(s);
  CHECK(c.edge_tolerance == 0);
  CHECK(c.worker_tolerance == 0);
  CHECK(c.expected_time == Approx(346.8888).margin(5e-5));
  // (35) is concave in each tolerance: its minimum over the whole box is at the chosen corner.
  for (Index se = 0; se < 4; ++se)
    for (Index sw = 0; sw < 10; ++sw) CHECK(gradcode::computation_dominated_time(s, se, sw) >= c.expected_time);
}

TEST_CASE(
    "homogeneous: Case 1's corner rule follows the paper's order — (n−1,0) before (0,m−1) on a tie, (n−1,m−1) when cK is "
    "smallest",
    "[homogeneous]") {
  // n = m = 2, cK = 2, γ = 1: corners 0.5 + ln 4, 1 + ln 2, 1 + ln 2, 2 → the 2nd rule wins the tie.
  homogeneous_system s{.edges = 2, .workers_per_edge = 2, .partitions = 2, .worker = {1, 1, 0, 0}, .edge = {0, 0}};
  auto c = gradcode::computation_dominated_choice(s);
  CHECK(c.edge_tolerance == 1);
  CHECK(c.worker_tolerance == 0);
  CHECK(c.expected_time == Approx(1 + std::log(2.0)));
  s.worker.compute_per_partition = 0.01;  // cK = 0.02 < everything else: (n−1, m−1), min E = cK
  c = gradcode::computation_dominated_choice(s);
  CHECK(c.edge_tolerance == 1);
  CHECK(c.worker_tolerance == 1);
  CHECK(c.expected_time == Approx(0.02));
}

TEST_CASE("homogeneous: Case 2 (eqs. 37–38) chooses s_e = n − 1 = 3, s_w = 0 for the spec §2.2 system, min E = cK/m + 2τ_1 + τ_2",
          "[homogeneous][kat]") {
  // spec §2.2: n = 4, m = 10, K = 40, c = 10, τ_2 = 100, p_2 = 0.1: cK/(nm) − 2τ_2 ln 4/ln 0.1 =
  // 130.412 > cK/m = 40, so s_e = 3 and min E = 40 + 2τ_1 + 100 (τ_1 = 50 here).
  const homogeneous_system s{
      .edges = 4, .workers_per_edge = 10, .partitions = 40, .worker = {10, 1e9, 50, 0}, .edge = {100, 0.1}};
  CHECK(gradcode::communication_dominated_time(s, 0, 0) - 100 - 100 == Approx(130.412).margin(5e-4));
  const auto c = gradcode::communication_dominated_choice(s);
  CHECK(c.edge_tolerance == 3);
  CHECK(c.worker_tolerance == 0);
  CHECK(c.expected_time == Approx(240));
  // Nearly loss-free edge links flip it: with p_2 = 1e-9 the log term is small and s_e = 0 wins.
  auto cheap = s;
  cheap.edge.link_failure = 1e-9;
  CHECK(gradcode::communication_dominated_choice(cheap).edge_tolerance == 0);
}

TEST_CASE("homogeneous: the exact random part matches spec §2.3 — H_40/γ at (0,0), H_4/(10γ) at (0,9), 1/(40γ) at (3,9)",
          "[homogeneous][kat]") {
  const auto s = case1();
  CHECK(gradcode::random_delay_mean(s, 0, 0) == Approx(harmonic(40) / 0.1).epsilon(1e-10));  // 42.785
  CHECK(gradcode::random_delay_mean(s, 0, 9) == Approx(harmonic(4) / 1.0).epsilon(1e-10));   // 2.0833
  CHECK(gradcode::random_delay_mean(s, 3, 9) == Approx(0.25).epsilon(1e-10));
  // spec §2.3 prints 20.78 and 18.31 (numerical integration ≈ MC); the integral gives 20.7737 and
  // 18.3084 (an independent 4e6-sample MC gave 20.772 ± 0.002 for (1,1)).
  CHECK(gradcode::random_delay_mean(s, 1, 1) == Approx(20.78).margin(0.01));
  CHECK(gradcode::random_delay_mean(s, 3, 0) == Approx(18.31).margin(0.01));
  CHECK(gradcode::computation_dominated_exact_time(s, 1, 1) == Approx(300 + 40 + gradcode::random_delay_mean(s, 1, 1)));
}

TEST_CASE("homogeneous: the exact random part stays exact at scale — n = m = 1000 gives H_{10^6}/γ to 1e-9", "[homogeneous]") {
  homogeneous_system s = case1();
  s.edges = s.workers_per_edge = 1000;
  const double n = 1e6, h = std::log(n) + 0.57721566490153286 + 1 / (2 * n) - 1 / (12 * n * n);  // H_N, error < 1e-25
  CHECK(gradcode::random_delay_mean(s, 0, 0) == Approx(h / 0.1).epsilon(1e-9));
  CHECK(gradcode::random_delay_mean(s, 999, 999) == Approx(1 / (n * 0.1)).epsilon(1e-9));
}

TEST_CASE("homogeneous: the exact Case 1 expectation equals Monte Carlo of the runtime model within 4 standard errors",
          "[homogeneous][statistical]") {
  const auto seed = test_seed(23);
  std::mt19937_64 rng(seed);
  const auto s = case1();
  for (const auto& [se, sw] : {std::pair<Index, Index>{0, 0}, {1, 1}, {3, 0}, {0, 9}, {2, 5}, {3, 9}}) {
    const auto mc = monte_carlo(s, se, sw, 20000, rng);
    const double exact = gradcode::computation_dominated_exact_time(s, se, sw);
    INFO("seed " << seed << ", (" << se << "," << sw << "): MC " << mc.mean << " ± " << mc.standard_error << ", exact " << exact);
    CHECK(std::abs(mc.mean - exact) <= 4 * mc.standard_error);
  }
}

TEST_CASE(
    "homogeneous: eq. (35) over-estimates E[T_tol] whenever a tolerance is used except at (n−1, m−1), and under-estimates at "
    "(0,0)",
    "[homogeneous][statistical]") {
  // spec §2.3: (35) models the max of (n−s_e)(m−s_w) iid Exp(γ) and drops γ_E/γ; the true statistic
  // is a nested order statistic, stochastically smaller.
  const auto s = case1();
  for (Index se = 0; se < 4; ++se)
    for (Index sw = 0; sw < 10; ++sw) {
      const double paper = gradcode::computation_dominated_time(s, se, sw),
                   exact = gradcode::computation_dominated_exact_time(s, se, sw);
      INFO("(" << se << "," << sw << "): (35) " << paper << ", exact " << exact);
      if ((se == 0 && sw == 0) || (se == 3 && sw == 9))
        CHECK(paper < exact);
      else
        CHECK(paper > exact);
    }
  // The over-estimate is large near s_w = m − 1: 13.86 against 2.08 at (0, 9).
  CHECK(gradcode::computation_dominated_time(s, 0, 9) - gradcode::computation_dominated_exact_time(s, 0, 9) ==
        Approx(13.8629 - 2.0833).margin(1e-3));
  // And Monte Carlo confirms the sign where the gap is smallest relative to the noise.
  const auto seed = test_seed(29);
  std::mt19937_64 rng(seed);
  const auto mc = monte_carlo(s, 1, 1, 20000, rng);
  INFO("seed " << seed << ": MC at (1,1) " << mc.mean << " ± " << mc.standard_error);
  CHECK(gradcode::computation_dominated_time(s, 1, 1) - mc.mean > 4 * mc.standard_error);
}

TEST_CASE(
    "homogeneous: the exact Case 2 expectation equals Monte Carlo within 4 standard errors, and eq. (37) under-counts the edge "
    "link at s_e = n − 1",
    "[homogeneous][statistical]") {
  const auto seed = test_seed(31);
  std::mt19937_64 rng(seed);
  for (const double p : {0.1, 0.5}) {
    // γ large (Case 2's γ → ∞; it adds ≤ H_40/γ ≈ 4e-9 to the mean) and p_1 = 0.
    const homogeneous_system s{
        .edges = 4, .workers_per_edge = 10, .partitions = 40, .worker = {10, 1e9, 50, 0}, .edge = {100, p}};
    for (const auto& [se, sw] : {std::pair<Index, Index>{0, 0}, {1, 3}, {3, 0}}) {
      const auto mc = monte_carlo(s, se, sw, 20000, rng);
      const double exact = gradcode::communication_dominated_exact_time(s, se, sw);
      INFO("seed " << seed << ", p_2 = " << p << ", (" << se << "," << sw << "): MC " << mc.mean << " ± " << mc.standard_error
                   << ", exact " << exact << ", (37) " << gradcode::communication_dominated_time(s, se, sw));
      CHECK(std::abs(mc.mean - exact) <= 4 * mc.standard_error + 1e-6);
    }
    // spec §2.3: (37) at s_e = n − 1 counts τ_2 once; the true value counts ≥ 2 attempts.
    const double shift = 10.0 * 40 * 4 / 40 + 100;  // cK(s_e+1)/(nm) + 2τ_1
    CHECK(gradcode::communication_dominated_time(s, 3, 0) == Approx(shift + 100));
    CHECK(gradcode::communication_dominated_exact_time(s, 3, 0) >= shift + 200);
  }
  // With p_2 = 0 every link succeeds at once: exactly 2τ_2.
  const homogeneous_system reliable{.edges = 3, .workers_per_edge = 2, .partitions = 6, .worker = {1, 1e9, 5, 0}, .edge = {7, 0}};
  CHECK(gradcode::communication_dominated_exact_time(reliable, 1, 1) == Approx(1.0 * 6 * 4 / 6 + 10 + 14));
}

TEST_CASE("homogeneous: invalid systems and tolerances throw invalid_parameters naming what is wrong", "[homogeneous][errors]") {
  auto s = case1();
  s.edges = 0;
  CHECK_THROWS_AS(gradcode::computation_dominated_choice(s), invalid_parameters);
  CHECK_THROWS_WITH(gradcode::computation_dominated_choice(s), Contains("n = 0"));
  s = case1();
  s.partitions = 0;
  CHECK_THROWS_WITH(gradcode::communication_dominated_choice(s), Contains("K = 0"));
  s = case1();
  CHECK_THROWS_WITH(gradcode::computation_dominated_time(s, 4, 0), Contains("s_e = 4"));
  CHECK_THROWS_WITH(gradcode::random_delay_mean(s, 0, 10), Contains("s_w = 10"));
  s.worker.compute_rate = 0;
  CHECK_THROWS_AS(gradcode::random_delay_mean(s, 0, 0), invalid_parameters);
  CHECK_THROWS_WITH(gradcode::random_delay_mean(s, 0, 0), Contains("worker (0,0)") && Contains("γ"));
  s = case1();
  s.edge.link_failure = 1;
  CHECK_THROWS_WITH(gradcode::communication_dominated_exact_time(s, 0, 0), Contains("edge 0"));
}

// Regression (issue 13): n and m were only checked ≥ 1: n·m overflowed Index in the closed
// forms, the exact forms allocated n + 1 doubles (std::bad_alloc at n = 2^40) and ran O(n) per
// integrand evaluation for hours; p_2 near 1 made the Case 2 series run for hours.
TEST_CASE("homogeneous: huge n or m, or p_2 too close to 1 for the exact sum, throw invalid_parameters at once",
          "[homogeneous][errors][limits]") {
  auto s = case1();
  s.edges = Index{1} << 40;
  s.workers_per_edge = Index{1} << 40;
  CHECK_THROWS_WITH(gradcode::computation_dominated_time(s, 0, 0), Contains("limits::max_nodes"));
  CHECK_THROWS_AS(gradcode::random_delay_mean(s, 0, 0), invalid_parameters);
  CHECK_THROWS_AS(gradcode::communication_dominated_choice(s), invalid_parameters);
  s = case1();
  s.edges = 20000;  // within max_nodes: the closed form answers, the exact integral refuses
  CHECK(std::isfinite(gradcode::computation_dominated_time(s, 0, 0)));
  CHECK_THROWS_WITH(gradcode::random_delay_mean(s, 0, 0), Contains("n, m <= 10000"));
  CHECK_THROWS_WITH(gradcode::communication_dominated_exact_time(s, 0, 0), Contains("n <= 10000"));
  s = case1();
  s.edge.link_failure = 1 - 1e-9;
  CHECK_THROWS_WITH(gradcode::communication_dominated_exact_time(s, 1, 0), Contains("too close to 1"));
  CHECK(std::isfinite(gradcode::communication_dominated_time(s, 1, 0)));
  s.edge.link_failure = 0.999;  // ~6·10⁴ terms of 5 binomials: fine
  CHECK(gradcode::communication_dominated_exact_time(s, 1, 0) > 0);
}
