// SPDX-License-Identifier: MIT
// quantize/theory.hpp: the li-skoglund §IV calculators — known values worked by hand from eqs. (13),
// (15), (21), (22), (24), (25); the limits the paper states (p = 0, D = n, monotonicity in D, p, T);
// the optimum of eqs. (17)–(19) against every other allocation; the conditions the theorems put on
// the rates; and Monte-Carlo runs of the real gc_dl measured against Lemma 2, Theorem 1 (eq. (15))
// and Theorems 2–3 (eqs. (22), (25)), printing measured/bound.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>
#include <gradcode/quantize/theory.hpp>

#include "test_support.hpp"

namespace theory_test {

using gradcode::gc_dl;
using gradcode::gc_dl_bound_params;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::matrix;
using gradcode::nonconvex_bound_params;
using gradcode::place_samples;
using gradcode::placement_kind;
using gradcode::vector;
using gradcode::test::correlated_gradients;
using gradcode::test::what_contains;

/// The system of the hand-worked values: n = 10, m = 5, w = 3, p = 0.5, C = 2, D = 2.
/// q = 1 − p = 0.5, a = w − q = 2.5; Cm² = 50; noise = a(m² − m)C/(nq) + (a/q)C·m/D = 2.5·20·2/5 +
/// 5·2·2.5 = 20 + 25 = 45; G = 95. Check by (44): (a/q)((m−1)/n + 1/D)Cm = 5·(0.4 + 0.5)·10 = 45.
gc_dl_bound_params<double> hand_system() {
  return {.workers = 10, .samples = 5, .dimension = 3, .straggler_probability = 0.5, .gradient_bound = 2, .replication = 2};
}

/// All f_j (w × n) of eq. (5) for gradients G.
matrix<double> all_updates(const gc_dl<double>& scheme, const matrix<double>& G) {
  return G * matrix<double>(scheme.encoding_matrix()).transpose();
}

struct moment_stats {
  double variance = 0, variance_sd = 0;  ///< mean of ‖ĝ − ∇L̂‖² and its standard error
  double second = 0, second_sd = 0;      ///< mean of ‖ĝ‖² and its standard error
};

/// ‖ĝ − ∇L̂‖² and ‖ĝ‖² over N iterations of scheme.step (random stragglers and Q) for fixed gradients.
moment_stats measure_moments(const gc_dl<double>& scheme, const matrix<double>& G, int N, std::uint64_t first_iteration) {
  const vector<double> g = G.rowwise().sum();
  vector<double> g_hat(G.rows());
  double s1 = 0, s2 = 0, q1 = 0, q2 = 0;
  for (int t = 0; t < N; ++t) {
    scheme.step(
        first_iteration + static_cast<std::uint64_t>(t), [&](Index j, Eigen::Ref<vector<double>> f) { scheme.encode(j, G, f); },
        g_hat);
    const double v = (g_hat - g).squaredNorm(), e = g_hat.squaredNorm();
    s1 += v;
    s2 += v * v;
    q1 += e;
    q2 += e * e;
  }
  moment_stats r;
  r.variance = s1 / N;
  r.variance_sd = std::sqrt(std::max(0.0, s2 / N - r.variance * r.variance) / N);
  r.second = q1 / N;
  r.second_sd = std::sqrt(std::max(0.0, q2 / N - r.second * r.second) / N);
  return r;
}

gradcode::assignment balanced_16_15_8() {
  return place_samples({.workers = 16, .samples = 15, .replication = 8, .kind = placement_kind::pairwise_balanced});
}

// ---------------------------------------------------------------------------------------------
// Known values

TEST_CASE("theory: eq. (13) and Theorem 1 eq. (15) give the hand-worked G = 95 and 4G/(λ²T) = 19 at λ = 2, T = 5",
          "[theory][kat]") {
  const auto s = hand_system();
  CHECK(gradcode::second_moment_bound(s) == Approx(95).epsilon(1e-15));
  CHECK(gradcode::update_variance_bound(s) == Approx(45).epsilon(1e-15));
  // Eq. (15): 4·95/(2²·5) = 380/20 = 19.
  CHECK(gradcode::strongly_convex_distance_bound(s, 2.0, 5) == Approx(19).epsilon(1e-15));
  // Theorem 1's rate γ_t = 1/(λt): 1/(2·4) = 0.125 at t = 4.
  CHECK(gradcode::strongly_convex_learning_rate(2.0, 4) == 0.125);
}

TEST_CASE("theory: eq. (13) with heterogeneous d_i = 1, 2, 4 on n = 8 gives the hand-worked 12.75", "[theory][kat]") {
  // m = 3, w = 2, p = 0.2, C = 1: q = 0.8, a = 1.2, a/q = 1.5; Cm² = 9; (m² − m)/n = 6/8 = 0.75;
  // Σ 1/d_i = 1 + 0.5 + 0.25 = 1.75; noise = 1.5·(0.75 + 1.75) = 3.75; G = 12.75.
  const gc_dl_bound_params<double> s{
      .workers = 8, .samples = 3, .dimension = 2, .straggler_probability = 0.2, .gradient_bound = 1, .replications = {1, 2, 4}};
  CHECK(gradcode::second_moment_bound(s) == Approx(12.75).epsilon(1e-15));
  CHECK(gradcode::update_variance_bound(s) == Approx(3.75).epsilon(1e-15));
  CHECK(gradcode::inverse_replication_sum(std::vector<Index>{1, 2, 4}) == 1.75);
}

TEST_CASE("theory: second_moment_bound(params) agrees with gc_dl.hpp's second_moment_bound and in float and long double",
          "[theory][kat]") {
  std::mt19937_64 rng(gradcode::test::test_seed(11));
  std::uniform_int_distribution<Index> n_dist(1, 64), m_dist(1, 200), w_dist(1, 1000);
  std::uniform_real_distribution<double> p_dist(0, 0.95), c_dist(0, 10);
  for (int trial = 0; trial < 200; ++trial) {
    gc_dl_bound_params<double> s{.workers = n_dist(rng),
                                 .samples = m_dist(rng),
                                 .dimension = w_dist(rng),
                                 .straggler_probability = p_dist(rng),
                                 .gradient_bound = c_dist(rng)};
    std::uniform_int_distribution<Index> d_dist(1, s.workers);
    for (Index i = 0; i < s.samples; ++i) s.replications.push_back(d_dist(rng));
    const double lib = gradcode::second_moment_bound(s.gradient_bound, s.workers, s.straggler_probability, s.dimension,
                                                     std::span<const Index>(s.replications));
    INFO("n = " << s.workers << ", m = " << s.samples << ", w = " << s.dimension << ", p = " << s.straggler_probability
                << ", C = " << s.gradient_bound);
    CHECK(gradcode::second_moment_bound(s) == Approx(lib).epsilon(1e-13));
    const gc_dl_bound_params<long double> sl{.workers = s.workers,
                                             .samples = s.samples,
                                             .dimension = s.dimension,
                                             .straggler_probability = s.straggler_probability,
                                             .gradient_bound = s.gradient_bound,
                                             .replications = s.replications};
    const gc_dl_bound_params<float> sf{.workers = s.workers,
                                       .samples = s.samples,
                                       .dimension = s.dimension,
                                       .straggler_probability = static_cast<float>(s.straggler_probability),
                                       .gradient_bound = static_cast<float>(s.gradient_bound),
                                       .replications = s.replications};
    CHECK(static_cast<double>(gradcode::second_moment_bound(sl)) == Approx(lib).epsilon(1e-13));
    CHECK(static_cast<double>(gradcode::second_moment_bound(sf)) == Approx(lib).epsilon(1e-4));
  }
}

TEST_CASE("theory: every calculator instantiates for float and long double and agrees with double", "[theory][kat]") {
  const auto s = hand_system();
  const gc_dl_bound_params<float> sf{
      .workers = 10, .samples = 5, .dimension = 3, .straggler_probability = 0.5f, .gradient_bound = 2, .replication = 2};
  const gc_dl_bound_params<long double> sl{
      .workers = 10, .samples = 5, .dimension = 3, .straggler_probability = 0.5L, .gradient_bound = 2, .replication = 2};
  const nonconvex_bound_params<double> P{.smoothness = 1.5, .initial_gap = 4, .iterations = 15};
  const nonconvex_bound_params<float> Pf{.smoothness = 1.5f, .initial_gap = 4, .iterations = 15};
  const nonconvex_bound_params<long double> Pl{.smoothness = 1.5L, .initial_gap = 4, .iterations = 15};
  CHECK(gradcode::strongly_convex_distance_bound(sf, 2, 5) == Approx(19).epsilon(1e-6));
  CHECK(static_cast<double>(gradcode::strongly_convex_distance_bound(sl, 2, 5)) == Approx(19).epsilon(1e-15));
  CHECK(gradcode::nonconvex_constant_rate_bound(sf, Pf) == Approx(gradcode::nonconvex_constant_rate_bound(s, P)).epsilon(1e-5));
  CHECK(static_cast<double>(gradcode::nonconvex_constant_rate_bound(sl, Pl)) == Approx(17).epsilon(1e-15));
  CHECK(gradcode::nonconvex_decaying_rate_bound(sf, Pf, 0.2f) ==
        Approx(gradcode::nonconvex_decaying_rate_bound(s, P, 0.2)).epsilon(1e-5));
  CHECK(gradcode::nonconvex_constant_learning_rate<float>(1.5f, 15) == Approx(1.0 / 6).epsilon(1e-6));
  CHECK(static_cast<double>(gradcode::nonconvex_decaying_learning_rate<long double>(1, 0.25L, 0)) == Approx(0.25).epsilon(1e-15));
  CHECK(gradcode::strongly_convex_learning_rate<float>(2, 4) == 0.125f);
  CHECK(gradcode::nonconvex_min_iterations<long double>(1.5L) == 10);
  CHECK(gradcode::inverse_replication_sum<float>(std::vector<Index>{1, 2, 4}) == 1.75f);
  // Real is never deduced from a scalar argument: a float literal with double params stays double.
  static_assert(std::is_same_v<decltype(gradcode::strongly_convex_distance_bound(s, 2.0f, 5)), double>);
  static_assert(std::is_same_v<decltype(gradcode::nonconvex_constant_learning_rate(1.5f, 15)), double>);
}

TEST_CASE("theory: bound_params_of reads n, m, w, p and every d_i from a gc_dl scheme", "[theory][kat]") {
  const std::vector<Index> d{4, 4, 4, 8, 8, 8, 8, 8, 8, 16, 16};
  const gc_dl<double> scheme(
      {.placement = place_samples({.workers = 16, .samples = 11, .replications = d, .kind = placement_kind::pairwise_balanced}),
       .dimension = 24,
       .straggler_probability = 0.25});
  const auto s = gradcode::bound_params_of(scheme, 3.0);
  CHECK(s.workers == 16);
  CHECK(s.samples == 11);
  CHECK(s.dimension == 24);
  CHECK(s.straggler_probability == 0.25);
  CHECK(s.gradient_bound == 3.0);
  CHECK(s.replications == d);
  CHECK(gradcode::second_moment_bound(s) == Approx(gradcode::second_moment_bound(3.0, 16, 0.25, 24, d)).epsilon(1e-14));
}

TEST_CASE("theory: Theorem 2 eq. (21) and (22) give the hand-worked γ = 1/6 and bound 17 at S = 1.5, T = 15", "[theory][kat]") {
  // T + 1 = 16: (T+1)^{3/4} = 8, (T+1)^{1/4} = 2; 4S/(T+1)^{3/4} = 6/8 = 0.75, √(1 − 0.75) = 0.5,
  // γ = (1 − 0.5)/(2·1.5) = 1/6; eq. (49): γ − γ²S = 1/6 − 1.5/36 = 1/8 = 1/(T+1)^{3/4}.
  CHECK(gradcode::nonconvex_constant_learning_rate(1.5, 15) == Approx(1.0 / 6).epsilon(1e-15));
  // Eq. (22) with the hand system (noise factor 45) and L⁰ − L* = 4:
  // 4/2 + 8·(1/6)²·45·1.5 = 2 + 540/36 = 2 + 15 = 17.
  CHECK(gradcode::nonconvex_constant_rate_bound(hand_system(), {.smoothness = 1.5, .initial_gap = 4, .iterations = 15}) ==
        Approx(17).epsilon(1e-14));
  // The first horizon: T > (4·1.5)^{4/3} − 1 = 6^{4/3} − 1 = 9.90, so T = 10 (4S/11^{3/4} = 0.993 < 1,
  // 4S/10^{3/4} = 1.067). S = 0.25: T > 0, so 1. S = 0: 0.
  CHECK(gradcode::nonconvex_min_iterations(1.5) == 10);
  CHECK(gradcode::nonconvex_min_iterations(0.25) == 1);
  CHECK(gradcode::nonconvex_min_iterations(0.0) == 0);
  CHECK_NOTHROW(gradcode::nonconvex_constant_learning_rate(1.5, 10));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_constant_learning_rate(1.5, 9), invalid_parameters,
                       what_contains("T > (4S)^(4/3) − 1 = 9.9"));
  // S = 0 (Definition 2 allows it): the root of −γ + 1/(T+1)^{3/4} = 0, 1/8 at T = 15.
  CHECK(gradcode::nonconvex_constant_learning_rate(0.0, 15) == 0.125);
}

TEST_CASE(
    "theory: Theorem 3 eq. (24) and (25) give γ_0 at t = 0 and the hand-worked bound 23 + 7.5 ln 4 at S = 1, γ_0 = 0.25, T = 3",
    "[theory][kat]") {
  // t = 0: 1 − 4S(γ_0 − γ_0²S) = 1 − 4·0.1875 = 0.25, √ = 0.5, γ = (1 − 0.5)/2 = 0.25 = γ_0.
  CHECK(gradcode::nonconvex_decaying_learning_rate(1.0, 0.25, 0) == Approx(0.25).epsilon(1e-15));
  // γ_0 − γ_0²S = 0.1875; √(T+1) = 2; denominator 0.375. First term 3/0.375 = 8. Second:
  // 0.0625·(2 + ln 4)/0.375·45·1 = (45/6)(2 + ln 4) = 15 + 7.5 ln 4. Total 23 + 7.5 ln 4 = 33.397.
  CHECK(gradcode::nonconvex_decaying_rate_bound(hand_system(), {.smoothness = 1, .initial_gap = 3, .iterations = 3}, 0.25) ==
        Approx(23 + 7.5 * std::log(4.0)).epsilon(1e-14));
}

TEST_CASE("theory: the rates of eqs. (21) and (24) equal the paper's printed (1 − √(1 − 4Sc))/(2S) to 1e-12", "[theory][kat]") {
  double worst = 0;
  for (double S : {0.01, 0.3, 1.0, 7.5})
    for (Index T : {Index{0}, Index{3}, Index{100}, Index{10000}, Index{1000000}}) {
      if (T < gradcode::nonconvex_min_iterations(S)) continue;
      // The printed form loses digits to cancellation when 4Sc is small: evaluate it in long double.
      const long double Sl = S, c = 1 / std::pow(T + 1.0L, 0.75L);
      const long double printed = (1 - std::sqrt(1 - 4 * Sl * c)) / (2 * Sl);  // eq. (21)
      worst = std::max(worst, static_cast<double>(std::abs(gradcode::nonconvex_constant_learning_rate(S, T) - printed) / c));
      const double g0 = 0.4 / S;  // < 1/(2S)
      for (Index t : {Index{0}, Index{1}, Index{10}, Index{1000}}) {
        const long double ct = (g0 - static_cast<long double>(g0) * g0 * Sl) / std::sqrt(t + 1.0L);
        const long double printed24 = (1 - std::sqrt(1 - 4 * Sl * ct)) / (2 * Sl);  // eq. (24)
        worst =
            std::max(worst, static_cast<double>(std::abs(gradcode::nonconvex_decaying_learning_rate(S, g0, t) - printed24) / ct));
      }
    }
  INFO("worst relative difference " << worst);
  CHECK(worst <= 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Limits the paper states

TEST_CASE("theory: p = 0 gives the no-straggler bound Cm² + (w − 1)C((m² − m)/n + Σ1/d_i), the limit p → 0 of eq. (13)",
          "[theory][limits]") {
  auto s = hand_system();
  s.straggler_probability = 0;
  // w − 1 = 2: 50 + 2·2·(20/10 + 5/2) = 50 + 4·4.5 = 68.
  CHECK(gradcode::second_moment_bound(s) == Approx(68).epsilon(1e-15));
  s.straggler_probability = 1e-12;
  CHECK(gradcode::second_moment_bound(s) == Approx(68).epsilon(1e-10));
  // w = 1, p = 0: Q of a scalar is its sign, no worker straggles — the update is exact, variance 0.
  s.straggler_probability = 0;
  s.dimension = 1;
  CHECK(gradcode::update_variance_bound(s) == 0);
  CHECK(gradcode::second_moment_bound(s) == 50);
}

TEST_CASE("theory: w = 1 and p = 0 — gc_dl's ĝ equals ∇L̂ in every iteration, as update_variance_bound = 0 says",
          "[theory][limits][statistical]") {
  const gc_dl<double> scheme({.placement = balanced_16_15_8(), .dimension = 1, .seed = gradcode::test::test_seed(3)});
  const matrix<double> G = correlated_gradients(1, 15, 4);
  const vector<double> g = G.rowwise().sum();
  const double scale = G.cwiseAbs().sum();  // rounding is relative to Σ_i |∇L_i|
  double worst = 0;
  vector<double> g_hat(1);
  for (std::uint64_t t = 0; t < 2000; ++t) {
    scheme.step(
        t, [&](Index j, Eigen::Ref<vector<double>> f) { scheme.encode(j, G, f); }, g_hat);
    worst = std::max(worst, std::abs(g_hat[0] - g[0]) / scale);
  }
  // (Q's fixed point gives the wrong sign with probability 2^-32 even for x/‖x‖ = ±1; no flip in
  // these 2000 iterations of this seed.)
  INFO("worst |ĝ − ∇L̂|/Σ|∇L_i| = " << worst);
  CHECK(worst <= 1e-13);
  CHECK(gradcode::update_variance_bound(gradcode::bound_params_of(scheme, G.colwise().squaredNorm().maxCoeff())) == 0);
}

TEST_CASE("theory: D = n gives variance bound (w − (1−p))Cm²/((1−p)n), attained by gc_dl when every ∇L_i is the same vector",
          "[theory][limits]") {
  // Every worker holds every sample: f_j = ∇L̂/(n(1−p)) for all j, and Appendix A gives
  // E‖ĝ − ∇L̂‖² = [w − (1−p)]‖∇L̂‖²/((1−p)n) — the bound when ‖∇L_i‖² = C for aligned ∇L_i.
  const Index n = 8, m = 6, w = 5;
  const double p = 0.3;
  const gc_dl<double> scheme(
      {.placement = place_samples({.workers = n, .samples = m, .replication = n}), .dimension = w, .straggler_probability = p});
  const vector<double> v = vector<double>::LinSpaced(w, -1, 2);
  const matrix<double> G = v.replicate(1, m);
  const auto s = gradcode::bound_params_of(scheme, v.squaredNorm());
  const double by_hand = (w - 0.7) * v.squaredNorm() * m * m / (0.7 * n);
  CHECK(gradcode::update_variance_bound(s) == Approx(by_hand).epsilon(1e-14));
  const double exact = scheme.expected_squared_norm(all_updates(scheme, G)) - G.rowwise().sum().squaredNorm();
  CHECK(exact == Approx(by_hand).epsilon(1e-12));
  // Monte Carlo: the measured variance sits on the bound (within 4 standard errors).
  const auto r = measure_moments(scheme, G, 20000, 0);
  std::printf("theory: D = n, aligned gradients: measured E‖ĝ − ∇L̂‖² / bound = %.4f\n", r.variance / by_hand);
  INFO("measured " << r.variance << " ± " << r.variance_sd << ", bound " << by_hand);
  CHECK(std::abs(r.variance - by_hand) <= 4 * r.variance_sd);
}

TEST_CASE("theory: the bounds of eqs. (13) and (15) decrease in D, n, λ and T, and increase in p, w and C", "[theory][limits]") {
  gc_dl_bound_params<double> s{
      .workers = 64, .samples = 100, .dimension = 50, .straggler_probability = 0.1, .gradient_bound = 1, .replication = 1};
  auto bound = [](const gc_dl_bound_params<double>& x) { return gradcode::strongly_convex_distance_bound(x, 0.5, 100); };
  double previous = std::numeric_limits<double>::infinity();
  for (Index D = 1; D <= 64; ++D) {  // Fig. 4: more redundancy, faster convergence
    s.replication = D;
    const double b = bound(s);
    INFO("D = " << D);
    CHECK(b < previous);
    CHECK(gradcode::update_variance_bound(s) < gradcode::second_moment_bound(s));
    previous = b;
  }
  s.replication = 8;
  previous = 0;
  for (double p : {0.0, 0.05, 0.1, 0.3, 0.5, 0.9, 0.999}) {  // Fig. 5: fewer stragglers, faster convergence
    s.straggler_probability = p;
    INFO("p = " << p);
    CHECK(bound(s) > previous);
    previous = bound(s);
  }
  s.straggler_probability = 0.1;
  const double base = bound(s);
  auto with = [&](auto change) {
    auto x = s;
    change(x);
    return bound(x);
  };
  CHECK(with([](auto& x) { x.dimension = 51; }) > base);
  CHECK(with([](auto& x) { x.gradient_bound = 1.5; }) > base);
  CHECK(with([](auto& x) { x.workers = 65; }) < base);
  CHECK(gradcode::strongly_convex_distance_bound(s, 0.6, 100) < base);
  CHECK(gradcode::strongly_convex_distance_bound(s, 0.5, 101) < base);
  CHECK(gradcode::strongly_convex_distance_bound(s, 0.5, 200) == Approx(base / 2).epsilon(1e-14));  // ∝ 1/T
}

TEST_CASE("theory: the bounds of eqs. (22) and (25) decrease in T towards 0, as eqs. (23) and (26) state", "[theory][limits]") {
  const auto s = hand_system();
  double prev22 = std::numeric_limits<double>::infinity(), prev25 = prev22;
  double b22 = 0, b25 = 0;
  for (Index T = 10; T <= Index{10000000000}; T *= 10) {
    b22 = gradcode::nonconvex_constant_rate_bound(s, {.smoothness = 1.5, .initial_gap = 4, .iterations = T});
    b25 = gradcode::nonconvex_decaying_rate_bound(s, {.smoothness = 1.5, .initial_gap = 4, .iterations = T}, 0.2);
    INFO("T = " << T << ": eq. (22) " << b22 << ", eq. (25) " << b25);
    CHECK(b22 < prev22);
    CHECK(b25 < prev25);
    prev22 = b22;
    prev25 = b25;
  }
  // At T = 1e10: (22) ≈ 4/(1e10)^{1/4} + 45·1.5/(1e10)^{3/4} ≈ 0.0127; (25) ≈ 4/(0.14·1e5) +
  // 0.04·(2 + ln 1e10)/(0.14·1e5)·45·1.5 ≈ 0.0003 + 0.0048.
  CHECK(b22 < 0.05);
  CHECK(b25 < 0.01);
}

// ---------------------------------------------------------------------------------------------
// The optimal allocation of eqs. (17)–(19)

TEST_CASE("theory: optimal_replications is d_i = D (eq. (19)) and the same placement as place_samples with .replication = D",
          "[theory][optimal]") {
  const auto d = gradcode::optimal_replications(1000, 100, 15);
  CHECK(d == std::vector<Index>(1000, 15));
  const auto by_list = place_samples({.workers = 100, .samples = 1000, .replications = d, .seed = 9});
  const auto by_d = place_samples({.workers = 100, .samples = 1000, .replication = 15, .seed = 9});
  for (Index i = 0; i < 1000; ++i) {
    const auto a = by_list.holders_of(i), b = by_d.holders_of(i);
    REQUIRE(std::vector<Index>(a.begin(), a.end()) == std::vector<Index>(b.begin(), b.end()));
  }
  // Fig. 3 (D = 15): settings 1, 2, 3 have Σ1/d_i/m = 1/15 = 0.0667, (1/10 + 1/20)/2 = 0.075,
  // (1/5 + 1/25)/2 = 0.12 — setting 1, the homogeneous one, minimises eq. (18).
  std::vector<Index> s2(1000, 10), s3(1000, 5);
  std::fill(s2.begin() + 500, s2.end(), 20);
  std::fill(s3.begin() + 500, s3.end(), 25);
  CHECK(gradcode::inverse_replication_sum(std::span<const Index>(d)) / 1000 == Approx(1.0 / 15));
  CHECK(gradcode::inverse_replication_sum(std::span<const Index>(s2)) / 1000 == Approx(0.075));
  CHECK(gradcode::inverse_replication_sum(std::span<const Index>(s3)) / 1000 == Approx(0.12));
  // A fractional D with whole copies: m = 4, D = 2.5 → 10 copies as 3, 3, 2, 2.
  CHECK(gradcode::optimal_replications(4, 6, 2.5) == std::vector<Index>{3, 3, 2, 2});
}

TEST_CASE("theory: optimal_replications minimises eq. (17)'s bound over every allocation of m = 4 samples on n = 6 workers",
          "[theory][optimal][exhaustive]") {
  const Index n = 6, m = 4;
  for (Index total = m; total <= m * n; ++total) {
    const auto opt = gradcode::optimal_replications(m, n, static_cast<double>(total) / m);
    gc_dl_bound_params<double> s{
        .workers = n, .samples = m, .dimension = 10, .straggler_probability = 0.2, .gradient_bound = 1, .replications = opt};
    const double best = gradcode::strongly_convex_distance_bound(s, 1.0, 10);
    double brute = std::numeric_limits<double>::infinity();
    std::vector<Index> d(4);
    for (d[0] = 1; d[0] <= n; ++d[0])
      for (d[1] = 1; d[1] <= n; ++d[1])
        for (d[2] = 1; d[2] <= n; ++d[2])
          for (d[3] = 1; d[3] <= n; ++d[3]) {
            if (d[0] + d[1] + d[2] + d[3] != total) continue;
            s.replications = d;
            brute = std::min(brute, gradcode::strongly_convex_distance_bound(s, 1.0, 10));
          }
    INFO("Σ d_i = " << total);
    CHECK(best == Approx(brute).epsilon(1e-15));
    CHECK(best <= brute * (1 + 1e-15));  // Σ1/d_i of a permutation may round differently
  }
}

TEST_CASE("theory: moving one copy between two samples of the homogeneous scheme raises Σ1/d_i and the eq. (15) bound",
          "[theory][optimal]") {
  const Index n = 16, m = 15, D = 8;
  const auto opt = gradcode::optimal_replications(m, n, D);
  gc_dl_bound_params<double> s{
      .workers = n, .samples = m, .dimension = 32, .straggler_probability = 0.2, .gradient_bound = 2, .replications = opt};
  const double best = gradcode::strongly_convex_distance_bound(s, 3.0, 50);
  for (Index from = 0; from < m; ++from)
    for (Index to = 0; to < m; ++to) {
      if (from == to) continue;
      auto d = opt;
      --d[static_cast<std::size_t>(from)];
      ++d[static_cast<std::size_t>(to)];
      s.replications = d;
      INFO("copy moved from sample " << from << " to " << to);
      CHECK(gradcode::inverse_replication_sum(std::span<const Index>(d)) >
            gradcode::inverse_replication_sum(std::span<const Index>(opt)));
      CHECK(gradcode::strongly_convex_distance_bound(s, 3.0, 50) > best);
    }
}

// ---------------------------------------------------------------------------------------------
// What the theorems need of the rates

TEST_CASE("theory: γ_t = 1/(λt) of Theorem 1 has Σγ_t diverging (≥ ln(N+1)/λ) and Σγ_t² converging (≤ π²/(6λ²))",
          "[theory][rates]") {
  const double lambda = 0.5;
  double sum = 0, sum2 = 0;
  for (Index t = 1; t <= 1000000; ++t) {
    const double g = gradcode::strongly_convex_learning_rate(lambda, t);
    sum += g;
    sum2 += g * g;
    if (t == 1000 || t == 1000000) {
      INFO("N = " << t);
      CHECK(sum >= std::log(static_cast<double>(t) + 1) / lambda);
      CHECK(sum2 <= 3.14159265358979323846 * 3.14159265358979323846 / 6 / (lambda * lambda));
    }
  }
}

TEST_CASE("theory: the constant rate of eq. (21) satisfies eq. (49), γ − γ²S = 1/(T+1)^{3/4} > 0, and the limit of eq. (51)",
          "[theory][rates]") {
  for (double S : {0.0, 0.01, 1.0, 20.0}) {
    double previous_limit = std::numeric_limits<double>::infinity();
    for (Index T = gradcode::nonconvex_min_iterations(S); T <= Index{1000000000}; T = T * 10 + 1) {
      const double g = gradcode::nonconvex_constant_learning_rate(S, T), c = 1 / std::pow(static_cast<double>(T) + 1, 0.75);
      INFO("S = " << S << ", T = " << T << ", γ = " << g);
      CHECK(g > 0);
      CHECK(g - g * g * S == Approx(c).epsilon(1e-12));
      CHECK(2 * S * g <= 1);  // the smaller root
      // Eq. (51): (T+1)^{3/4}γ² = γ²/(γ − γ²S) → 0, while the total step (T+1)γ grows.
      const double limit = std::pow(static_cast<double>(T) + 1, 0.75) * g * g;
      CHECK(limit < previous_limit);
      CHECK((static_cast<double>(T) + 1) * g >= std::pow(static_cast<double>(T) + 1, 0.25));
      previous_limit = limit;
    }
    CHECK(previous_limit < 1e-6);
  }
}

TEST_CASE("theory: the decaying rates of eq. (24) satisfy eq. (52), eq. (56) γ_t ≤ γ_0/√(t+1), and the sums behind eq. (25)",
          "[theory][rates]") {
  for (double S : {0.0, 0.5, 4.0}) {
    const double g0 = S > 0 ? 0.45 / S : 0.3;  // < 1/(2S)
    const double c0 = g0 - g0 * g0 * S;
    double previous = std::numeric_limits<double>::infinity(), sum = 0, sum2 = 0, ratio_1000 = 0;
    for (Index t = 0; t <= 100000; ++t) {
      const double g = gradcode::nonconvex_decaying_learning_rate(S, g0, t);
      sum += g;
      sum2 += g * g;
      if (t == 1000) ratio_1000 = sum2 / sum;
      if (t % 9973 == 0 || t == 100000) {
        INFO("S = " << S << ", γ_0 = " << g0 << ", t = " << t);
        CHECK(g - g * g * S == Approx(c0 / std::sqrt(static_cast<double>(t) + 1)).epsilon(1e-12));  // eq. (52)
        CHECK(g <= g0 / std::sqrt(static_cast<double>(t) + 1) * (1 + 1e-14));                       // eq. (56)
        CHECK(g <= previous);
        // Eq. (55) and (56): Σγ_t ≥ (γ_0 − γ_0²S)√(t+1), Σγ_t² ≤ γ_0²(2 + ln(t+1)); so
        // Σγ_t²/Σγ_t → 0, which is what Theorem 3 needs (Σγ_t² itself grows like ln t).
        CHECK(sum >= c0 * std::sqrt(static_cast<double>(t) + 1));
        CHECK(sum2 <= g0 * g0 * (2 + std::log(static_cast<double>(t) + 1)));
      }
      previous = g;
    }
    // Σγ_t²/Σγ_t ~ ln t/√t: 6× smaller at t = 1e5 than at 1e3.
    CHECK(sum2 / sum < ratio_1000 / 3);
  }
  // (55)'s Σ_{t=0}^T 1/(t+1) ≤ 2 + log(T+1) holds with ln; with log₁₀ it would fail at T = 11.
  double H = 0;
  for (int t = 0; t <= 11; ++t) H += 1.0 / (t + 1);
  CHECK(H <= 2 + std::log(12.0));
  CHECK(H > 2 + std::log10(12.0));
}

// ---------------------------------------------------------------------------------------------
// Monte Carlo against the real gc_dl

TEST_CASE("theory: Monte Carlo — gc_dl's measured E‖ĝ − ∇L̂‖² and E‖ĝ‖² stay below update_variance_bound and eq. (13)",
          "[theory][montecarlo][statistical]") {
  struct setting {
    const char* name;
    gradcode::assignment placement;
    Index w;
    double p;
  };
  const std::vector<setting> settings{
      {"pair-wise balanced n=16 m=15 d=8, w=32, p=0.2", balanced_16_15_8(), 32, 0.2},
      {"pair-wise balanced n=16 m=11 d=4..16, w=24, p=0.25",
       place_samples({.workers = 16,
                      .samples = 11,
                      .replications = {4, 4, 4, 8, 8, 8, 8, 8, 8, 16, 16},
                      .kind = placement_kind::pairwise_balanced}),
       24, 0.25},
      {"pair-wise balanced n=32 m=23 d=8,16, w=10, p=0.5",
       place_samples({.workers = 32,
                      .samples = 23,
                      .replications =
                          [] {
                            std::vector<Index> d(4, 8);
                            d.insert(d.end(), 19, 16);
                            return d;
                          }(),
                      .kind = placement_kind::pairwise_balanced}),
       10, 0.5},
  };
  const std::uint64_t seed = gradcode::test::test_seed(2026);
  for (const auto& s : settings) {
    REQUIRE(gradcode::check_pairwise_balance(s.placement).exact());
    const gc_dl<double> scheme({.placement = s.placement, .dimension = s.w, .straggler_probability = s.p, .seed = seed});
    const matrix<double> G = correlated_gradients(s.w, scheme.partitions(), seed + 1);
    const double C = G.colwise().squaredNorm().maxCoeff();  // eq. (12) for these gradients
    const auto params = gradcode::bound_params_of(scheme, C);
    const double variance_bound = gradcode::update_variance_bound(params), G_bound = gradcode::second_moment_bound(params);
    const double exact = scheme.expected_squared_norm(all_updates(scheme, G)) - G.rowwise().sum().squaredNorm();
    const auto r = measure_moments(scheme, G, 20000, 0);
    std::printf("theory: %s: E‖ĝ − ∇L̂‖² measured/bound = %.3f (exact/bound %.3f), E‖ĝ‖² measured/eq. (13) = %.3f\n", s.name,
                r.variance / variance_bound, exact / variance_bound, r.second / G_bound);
    INFO(s.name << " (seed " << seed << "): E‖ĝ − ∇L̂‖² measured " << r.variance << " ± " << r.variance_sd << ", Appendix A "
                << exact << ", bound " << variance_bound << "; E‖ĝ‖² " << r.second << " ± " << r.second_sd << ", eq. (13) "
                << G_bound);
    CHECK(std::abs(r.variance - exact) <= 4 * r.variance_sd);  // the measurement is of the right quantity
    CHECK(r.variance + 4 * r.variance_sd <= variance_bound);
    CHECK(r.second + 4 * r.second_sd <= G_bound);
  }
}

TEST_CASE("theory: Monte Carlo — over random placements (li-skoglund §V) the mean E‖ĝ − ∇L̂‖² stays below the bound",
          "[theory][montecarlo][statistical]") {
  // Eq. (13) presumes the counts of eq. (39); a uniformly random placement has them in expectation,
  // and E‖ĝ‖² is linear in them, so the bound holds on average over placements.
  const Index n = 16, m = 40, w = 16, d = 4;
  const double p = 0.1;
  const std::uint64_t seed = gradcode::test::test_seed(77);
  const matrix<double> G = correlated_gradients(w, m, seed);
  const double C = G.colwise().squaredNorm().maxCoeff();
  const double bound = gradcode::update_variance_bound<double>(
      {.workers = n, .samples = m, .dimension = w, .straggler_probability = p, .gradient_bound = C, .replication = d});
  const int placements = 400, steps = 25;
  double exact_sum = 0, measured = 0, measured2 = 0, worst_placement = 0;
  for (int r = 0; r < placements; ++r) {
    const gc_dl<double> scheme({.placement = place_samples({.workers = n, .samples = m, .replication = d, .seed = seed + r}),
                                .dimension = w,
                                .straggler_probability = p,
                                .seed = seed + r});
    const double exact = scheme.expected_squared_norm(all_updates(scheme, G)) - G.rowwise().sum().squaredNorm();
    exact_sum += exact;
    worst_placement = std::max(worst_placement, exact);
    const auto mom = measure_moments(scheme, G, steps, 0);
    measured += mom.variance;
    measured2 += mom.variance * mom.variance;
  }
  const double mean_exact = exact_sum / placements, mean = measured / placements;
  const double sd = std::sqrt((measured2 / placements - mean * mean) / placements);
  std::printf(
      "theory: random placement n=16 m=40 d=4: mean E‖ĝ − ∇L̂‖² measured/bound = %.3f (placement mean of exact %.3f, worst "
      "placement %.3f)\n",
      mean / bound, mean_exact / bound, worst_placement / bound);
  INFO("measured " << mean << " ± " << sd << ", mean exact " << mean_exact << ", worst placement " << worst_placement
                   << ", bound " << bound << " (seed " << seed << ")");
  CHECK(mean + 4 * sd <= bound);
  CHECK(mean_exact <= bound);
}

/// One run of Theorem 1's setting: L_i = (μ/2)‖β − c_i‖², λ = mμ, γ_t = 1/(λt), β_1 given; adds
/// ‖β_T − β*‖² for T = 1..T_max to `distance` and raises `C` to the largest ‖∇L_i(β_t)‖² seen.
struct strongly_convex_run {
  const gc_dl<double>& scheme;
  const matrix<double>& centres;  // c_i, w × m
  double mu;
  vector<double> bias;  // added to ĝ (zero: the real scheme; nonzero: the negative control)

  void operator()(const vector<double>& beta1, Index T_max, std::uint64_t first_iteration, std::vector<double>& distance,
                  double& C) const {
    const Index m = centres.cols();
    const double lambda = mu * static_cast<double>(m);
    const vector<double> beta_star = centres.rowwise().mean();
    vector<double> beta = beta1, g_hat(beta1.size());
    matrix<double> G(centres.rows(), m);
    distance[1] += (beta - beta_star).squaredNorm();
    for (Index t = 1; t < T_max; ++t) {
      G = mu * (beta.replicate(1, m) - centres);
      C = std::max(C, G.colwise().squaredNorm().maxCoeff());
      scheme.step(
          first_iteration + static_cast<std::uint64_t>(t), [&](Index j, Eigen::Ref<vector<double>> f) { scheme.encode(j, G, f); },
          g_hat);
      beta -= gradcode::strongly_convex_learning_rate(lambda, t) * (g_hat + bias);  // eq. (7)
      distance[static_cast<std::size_t>(t + 1)] += (beta - beta_star).squaredNorm();
    }
  }
};

/// Theorem 1's test problem, shared by the check and its negative control: n = 16, m = 15, D = 8
/// pair-wise balanced, w = 8, p = 0.2, μ = 1 (λ = mμ); centres c_i standard normal; β_1 at
/// distance 3 from β* along the first axis.
struct theorem1_problem {
  static constexpr Index w = 8, m = 15, T_max = 200;
  static constexpr double p = 0.2, mu = 1, lambda = mu * m;
  std::uint64_t seed = gradcode::test::test_seed(15);
  gc_dl<double> scheme{{.placement = balanced_16_15_8(), .dimension = w, .straggler_probability = p, .seed = seed}};
  matrix<double> centres = [this] {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    matrix<double> c(w, m);
    for (Index i = 0; i < c.size(); ++i) c.data()[i] = normal(rng);
    return c;
  }();
  vector<double> beta1 = [this] {
    vector<double> b = centres.rowwise().mean();
    b[0] += 3;
    return b;
  }();
};

TEST_CASE("theory: Monte Carlo — SGD with gc_dl and γ_t = 1/(λt) on a strongly convex problem stays below Theorem 1's eq. (15)",
          "[theory][montecarlo][statistical]") {
  const theorem1_problem problem;
  const std::uint64_t seed = problem.seed;
  const auto& beta1 = problem.beta1;
  const auto& scheme = problem.scheme;
  const auto& centres = problem.centres;
  constexpr Index w = theorem1_problem::w, T_max = theorem1_problem::T_max;
  constexpr double mu = theorem1_problem::mu, lambda = theorem1_problem::lambda;
  const int runs = 200;
  std::vector<double> distance(static_cast<std::size_t>(T_max + 1), 0.0), distance2 = distance;
  double C = 0;
  const strongly_convex_run run{scheme, centres, mu, vector<double>::Zero(w)};
  for (int r = 0; r < runs; ++r) {
    std::vector<double> one(distance.size(), 0.0);
    run(beta1, T_max, static_cast<std::uint64_t>(r) * static_cast<std::uint64_t>(T_max), one, C);
    for (std::size_t T = 1; T < one.size(); ++T) {
      distance[T] += one[T];
      distance2[T] += one[T] * one[T];
    }
  }
  // Eq. (12) holds with C = the largest ‖∇L_i‖² at any iterate of any run: Lemma 2's bound is
  // conditional on β_t, so G(C) bounds E(‖ĝ_t‖² | β_t) at every iterate the runs visited.
  const auto params = gradcode::bound_params_of(scheme, C);
  double worst = 0;
  Index worst_T = 0;
  for (Index T = 1; T <= T_max; ++T) {
    const double mean = distance[static_cast<std::size_t>(T)] / runs;
    const double sd = std::sqrt(std::max(0.0, distance2[static_cast<std::size_t>(T)] / runs - mean * mean) / runs);
    const double bound = gradcode::strongly_convex_distance_bound(params, lambda, T);
    if (mean / bound > worst) {
      worst = mean / bound;
      worst_T = T;
    }
    INFO("T = " << T << ": E‖β_T − β*‖² measured " << mean << " ± " << sd << ", eq. (15) " << bound << ", C = " << C << " (seed "
                << seed << ")");
    CHECK(mean + 4 * sd <= bound);
  }
  const double final_ratio = distance.back() / runs / gradcode::strongly_convex_distance_bound(params, lambda, T_max);
  std::printf(
      "theory: Theorem 1 (n=16 m=15 d=8 w=8 p=0.2, %d runs): E‖β_T − β*‖² measured/eq. (15) = %.4f at T = %ld, worst %.4f at T = "
      "%ld\n",
      runs, final_ratio, static_cast<long>(T_max), worst, static_cast<long>(worst_T));
}

TEST_CASE(
    "theory: the Theorem 1 check rejects a biased update (negative control: ĝ + b with ‖b‖² = G/10 exceeds eq. (15) at T = 200)",
    "[theory][montecarlo][statistical]") {
  const theorem1_problem problem;
  const std::uint64_t seed = problem.seed;
  const auto& beta1 = problem.beta1;
  const auto& scheme = problem.scheme;
  const auto& centres = problem.centres;
  constexpr Index w = theorem1_problem::w, T_max = theorem1_problem::T_max;
  constexpr double mu = theorem1_problem::mu, lambda = theorem1_problem::lambda;
  const int runs = 50;
  // Size the bias from the unbiased run's G: first one clean pass for C.
  std::vector<double> scratch(static_cast<std::size_t>(T_max + 1), 0.0);
  double C0 = 0;
  strongly_convex_run{scheme, centres, mu, vector<double>::Zero(w)}(beta1, T_max, 0, scratch, C0);
  vector<double> b = vector<double>::Ones(w);
  b *= std::sqrt(gradcode::second_moment_bound(gradcode::bound_params_of(scheme, C0)) / 10) / b.norm();
  std::vector<double> distance(static_cast<std::size_t>(T_max + 1), 0.0);
  double C = 0;
  const strongly_convex_run biased{scheme, centres, mu, b};
  for (int r = 0; r < runs; ++r)
    biased(beta1, T_max, static_cast<std::uint64_t>(r) * static_cast<std::uint64_t>(T_max), distance, C);
  const double mean = distance.back() / runs;
  const double bound = gradcode::strongly_convex_distance_bound(gradcode::bound_params_of(scheme, C), lambda, T_max);
  std::printf("theory: Theorem 1 negative control (ĝ + b): measured/eq. (15) = %.2f at T = %ld\n", mean / bound,
              static_cast<long>(T_max));
  INFO("biased run: E‖β_T − β*‖² " << mean << ", eq. (15) " << bound << " with C = " << C);
  CHECK(mean > bound);
}

/// Theorems 2–3's problem: L_i(β) = a Σ_k (1 − cos(β_k − c_ik)), non-convex, ∇L_i = a sin(β − c_i)
/// so ‖∇L_i‖² ≤ a²w = C for every β (eq. (12)); the Hessian of L̂ is diag(a Σ_i cos(β_k − c_ik)) with
/// |·| ≤ ma, so eq. (20) holds with S = ma/2; L* = a Σ_k (m − |Σ_i e^{i c_ik}|) exactly (separable).
struct cosine_problem {
  double a;
  matrix<double> c;  // w × m

  double loss(const vector<double>& beta) const { return a * (1 - (beta.replicate(1, c.cols()) - c).array().cos()).sum(); }
  void gradients(const vector<double>& beta, matrix<double>& G) const { G = a * (beta.replicate(1, c.cols()) - c).array().sin(); }
  double minimum() const {
    double L = 0;
    for (Index k = 0; k < c.rows(); ++k) {
      std::complex<double> z = 0;
      for (Index i = 0; i < c.cols(); ++i) z += std::polar(1.0, c(k, i));
      L += a * (static_cast<double>(c.cols()) - std::abs(z));
    }
    return L;
  }
  double smoothness() const { return a * static_cast<double>(c.cols()) / 2; }
  double gradient_bound() const { return a * a * static_cast<double>(c.rows()); }
};

cosine_problem make_cosine_problem(Index w, Index m, double a, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  cosine_problem P{a, matrix<double>(w, m)};
  for (Index k = 0; k < w; ++k) {
    const double phi = 3 * normal(rng);
    for (Index i = 0; i < m; ++i) P.c(k, i) = phi + 0.5 * normal(rng);
  }
  return P;
}

/// ‖∇L̂(β_t)‖² for t = 0..T, summed over `runs` runs of β_{t+1} = β_t − γ_t ĝ_t with gc_dl's ĝ.
template <class Rate>
std::vector<double> nonconvex_runs(const gc_dl<double>& scheme, const cosine_problem& P, const vector<double>& beta0, Index T,
                                   int runs, Rate&& rate) {
  std::vector<double> sq(static_cast<std::size_t>(T + 1), 0.0);
  matrix<double> G(P.c.rows(), P.c.cols());
  vector<double> g_hat(P.c.rows());
  for (int r = 0; r < runs; ++r) {
    vector<double> beta = beta0;
    for (Index t = 0; t <= T; ++t) {
      P.gradients(beta, G);
      sq[static_cast<std::size_t>(t)] += G.rowwise().sum().squaredNorm();
      if (t == T) break;
      scheme.step(
          static_cast<std::uint64_t>(r) * static_cast<std::uint64_t>(T + 1) + static_cast<std::uint64_t>(t),
          [&](Index j, Eigen::Ref<vector<double>> f) { scheme.encode(j, G, f); }, g_hat);
      beta -= rate(t) * g_hat;  // eq. (7)
    }
  }
  for (auto& v : sq) v /= runs;
  return sq;
}

TEST_CASE("theory: Monte Carlo — non-convex SGD with gc_dl stays below Theorem 2's eq. (22) and Theorem 3's eq. (25)",
          "[theory][montecarlo][statistical]") {
  const Index w = 8, m = 15, T = 200;
  const int runs = 200;
  const double p = 0.2;
  const std::uint64_t seed = gradcode::test::test_seed(22);
  const gc_dl<double> scheme({.placement = balanced_16_15_8(), .dimension = w, .straggler_probability = p, .seed = seed});
  const cosine_problem P = make_cosine_problem(w, m, 0.2, seed);
  vector<double> beta0 = P.c.rowwise().mean();
  beta0.array() += 1.5;  // away from the minimiser
  const double S = P.smoothness(), gap = P.loss(beta0) - P.minimum();
  REQUIRE(gap > 0);
  const auto params = gradcode::bound_params_of(scheme, P.gradient_bound());
  const nonconvex_bound_params<double> problem{.smoothness = S, .initial_gap = gap, .iterations = T};

  // Theorem 2: constant γ of eq. (21); the average of E‖∇L̂(β_t)‖² over t = 0..T against eq. (22).
  const double gamma = gradcode::nonconvex_constant_learning_rate(S, T);
  const auto sq2 = nonconvex_runs(scheme, P, beta0, T, runs, [&](Index) { return gamma; });
  double average = 0;
  for (double v : sq2) average += v;
  average /= static_cast<double>(T + 1);
  const double bound22 = gradcode::nonconvex_constant_rate_bound(params, problem);

  // Theorem 3: decaying γ_t of eq. (24); min_t E‖∇L̂(β_t)‖² against eq. (25).
  const double g0 = 0.8 / (2 * S);
  const auto sq3 =
      nonconvex_runs(scheme, P, beta0, T, runs, [&](Index t) { return gradcode::nonconvex_decaying_learning_rate(S, g0, t); });
  const double min3 = *std::min_element(sq3.begin(), sq3.end());
  const double bound25 = gradcode::nonconvex_decaying_rate_bound(params, problem, g0);

  std::printf(
      "theory: Theorem 2 (S=%.2f, L0-L*=%.2f, T=%ld, γ=%.4f): mean_t E‖∇L̂‖² measured/eq. (22) = %.3f; Theorem 3 (γ_0=%.3f): "
      "min_t E‖∇L̂‖² measured/eq. (25) = %.4f (at t = T: %.4f)\n",
      S, gap, static_cast<long>(T), gamma, average / bound22, g0, min3 / bound25, sq3.back() / bound25);
  INFO("S = " << S << ", L0 − L* = " << gap << ", C = " << P.gradient_bound() << " (seed " << seed << "): Theorem 2 " << average
              << " vs " << bound22 << "; Theorem 3 " << min3 << " vs " << bound25);
  CHECK(average <= bound22);
  CHECK(min3 <= bound25);
  // The runs do descend (the check is not passed by a run that never moved): the last iterate's
  // gradient is well below the first one's.
  CHECK(sq2.back() < 0.5 * sq2.front());
  CHECK(sq3.back() < 0.5 * sq3.front());
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_CASE("theory: every calculator throws invalid_parameters naming a bad parameter and its value, never returns NaN",
          "[theory][errors]") {
  using gradcode::second_moment_bound;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto with = [](auto change) {
    auto s = hand_system();
    change(s);
    return s;
  };
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.workers = 0; })), invalid_parameters,
                       what_contains("workers n = 0"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.samples = 0; })), invalid_parameters,
                       what_contains("samples m = 0"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.dimension = -1; })), invalid_parameters,
                       what_contains("dimension w = -1"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.straggler_probability = 1; })), invalid_parameters,
                       what_contains("straggler probability p = 1 must be in [0, 1)"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([&](auto& s) { s.straggler_probability = nan; })), invalid_parameters,
                       what_contains("p = nan"));
  CHECK_THROWS_MATCHES(gradcode::update_variance_bound(with([](auto& s) { s.gradient_bound = -1; })), invalid_parameters,
                       what_contains("gradient bound C = -1"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.gradient_bound = std::numeric_limits<double>::infinity(); })),
                       invalid_parameters, what_contains("C = inf"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.replication = 11; })), invalid_parameters,
                       what_contains("replication D = 11 must be in [1, n = 10]"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) {
                         s.replications = {2, 2};
                       })),
                       invalid_parameters, what_contains("2 replications d_i for m = 5 samples"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) {
                         s.replications = {2, 2, 0, 2, 2};
                       })),
                       invalid_parameters, what_contains("replications[2] = d_i = 0 is outside [1, n = 10]"));
  CHECK_THROWS_MATCHES(second_moment_bound(with([](auto& s) { s.gradient_bound = 1e307; })), invalid_parameters,
                       what_contains("exceeds the double range"));
  const gc_dl_bound_params<float> big{
      .workers = 10, .samples = 100000, .dimension = 3, .straggler_probability = 0.5f, .gradient_bound = 1e30f, .replication = 2};
  CHECK_THROWS_MATCHES(second_moment_bound(big), invalid_parameters, what_contains("exceeds the float range"));

  // Theorem 1.
  CHECK_THROWS_MATCHES(gradcode::strongly_convex_distance_bound(hand_system(), 0.0, 5), invalid_parameters,
                       what_contains("strong convexity λ = 0"));
  CHECK_THROWS_MATCHES(gradcode::strongly_convex_distance_bound(hand_system(), nan, 5), invalid_parameters,
                       what_contains("λ = nan"));
  CHECK_THROWS_MATCHES(gradcode::strongly_convex_distance_bound(hand_system(), 2.0, 0), invalid_parameters,
                       what_contains("iterations T = 0"));
  CHECK_THROWS_MATCHES(gradcode::strongly_convex_distance_bound(hand_system(), 1e-200, 1), invalid_parameters,
                       what_contains("exceeds the double range"));
  CHECK_THROWS_MATCHES(gradcode::strongly_convex_learning_rate(2.0, 0), invalid_parameters, what_contains("iteration t = 0"));
  CHECK_THROWS_MATCHES(gradcode::strongly_convex_learning_rate(-1.0, 3), invalid_parameters, what_contains("λ = -1"));

  // Eqs. (17)–(19).
  CHECK_THROWS_MATCHES(gradcode::optimal_replications(0, 4, 2), invalid_parameters, what_contains("samples m = 0"));
  CHECK_THROWS_MATCHES(gradcode::optimal_replications(4, 0, 1), invalid_parameters, what_contains("workers n = 0"));
  CHECK_THROWS_MATCHES(gradcode::optimal_replications(4, 6, 7), invalid_parameters,
                       what_contains("average replication D = 7 must be in [1, n = 6]"));
  CHECK_THROWS_MATCHES(gradcode::optimal_replications(4, 6, nan), invalid_parameters, what_contains("D = nan"));
  CHECK_THROWS_MATCHES(gradcode::optimal_replications(3, 6, 2.5), invalid_parameters,
                       what_contains("is not a whole number of copies"));
  CHECK_THROWS_MATCHES(gradcode::inverse_replication_sum(std::vector<Index>{}), invalid_parameters,
                       what_contains("no replications"));
  CHECK_THROWS_MATCHES(gradcode::inverse_replication_sum(std::vector<Index>{1, 0}), invalid_parameters,
                       what_contains("replications[1] = d_i = 0"));

  // Theorems 2–3.
  CHECK_THROWS_MATCHES(gradcode::nonconvex_constant_learning_rate(-0.5, 100), invalid_parameters,
                       what_contains("smoothness S = -0.5"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_constant_learning_rate(1.0, -1), invalid_parameters,
                       what_contains("iterations T = -1"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_min_iterations(nan), invalid_parameters, what_contains("S = nan"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_min_iterations(1e300), invalid_parameters, what_contains("more than 2^52 iterations"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_decaying_learning_rate(1.0, 0.5, 3), invalid_parameters,
                       what_contains("initial learning rate γ_0 = 0.5 must be in (0, 1/(2S)) = (0, 0.5)"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_decaying_learning_rate(1.0, 0.0, 3), invalid_parameters, what_contains("γ_0 = 0"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_decaying_learning_rate(1.0, 0.25, -1), invalid_parameters,
                       what_contains("iteration t = -1"));
  CHECK_THROWS_MATCHES(
      gradcode::nonconvex_constant_rate_bound(hand_system(), {.smoothness = 1.5, .initial_gap = -1, .iterations = 15}),
      invalid_parameters, what_contains("initial gap L0 − L* = -1"));
  CHECK_THROWS_MATCHES(
      gradcode::nonconvex_constant_rate_bound(hand_system(), {.smoothness = 1.5, .initial_gap = 4, .iterations = 5}),
      invalid_parameters, what_contains("iterations T = 5 with smoothness S = 1.5"));
  CHECK_THROWS_MATCHES(
      gradcode::nonconvex_decaying_rate_bound(hand_system(), {.smoothness = 1, .initial_gap = nan, .iterations = 3}, 0.25),
      invalid_parameters, what_contains("L0 − L* = nan"));
  CHECK_THROWS_MATCHES(
      gradcode::nonconvex_decaying_rate_bound(hand_system(), {.smoothness = 1, .initial_gap = 3, .iterations = -2}, 0.25),
      invalid_parameters, what_contains("iterations T = -2"));
  CHECK_THROWS_MATCHES(gradcode::nonconvex_decaying_rate_bound(with([](auto& s) { s.workers = 0; }),
                                                               {.smoothness = 1, .initial_gap = 3, .iterations = 3}, 0.25),
                       invalid_parameters, what_contains("nonconvex_decaying_rate_bound: workers n = 0"));
}

}  // namespace theory_test
