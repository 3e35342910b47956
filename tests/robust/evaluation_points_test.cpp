// SPDX-License-Identifier: MIT
// Evaluation points (include/gradcode/robust/evaluation_points.hpp): every family gives N + m
// distinct points with the documented shape; the paper's family is gholami2025 §IV's.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <string>

#include <gradcode/core/errors.hpp>
#include <gradcode/robust/evaluation_points.hpp>

#include "test_support.hpp"

using gradcode::evaluation_points;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::make_evaluation_points;
using gradcode::point_family;
using gradcode::test::what_contains;

namespace {

double min_distance(const evaluation_points& p) {
  std::vector<std::complex<double>> all = p.nodes;
  all.insert(all.end(), p.targets.begin(), p.targets.end());
  double d = HUGE_VAL;
  for (std::size_t a = 0; a < all.size(); ++a)
    for (std::size_t b = a + 1; b < all.size(); ++b) d = std::min(d, std::abs(all[a] - all[b]));
  return d;
}

}  // namespace

TEST_CASE("evaluation points: every family gives N + m distinct points for all 1 <= m <= N <= 64", "[points][exhaustive]") {
  for (auto family : {point_family::unit_circle, point_family::chebyshev, point_family::paper})
    for (Index n = 1; n <= 64; ++n)
      for (Index m = 1; m <= n; ++m) {
        INFO(to_string(family) << " N = " << n << " m = " << m);
        const auto p = make_evaluation_points(family, n, m);
        REQUIRE(static_cast<Index>(p.nodes.size()) == n);
        REQUIRE(static_cast<Index>(p.targets.size()) == m);
        // Distinct by a margin that survives rounding: unit circle ≥ 2 sin(π/2N), Chebyshev ≥ ~π²/(8N²).
        CHECK(min_distance(p) > 0.2 / static_cast<double>(n * n));
        CHECK(p.real == (family != point_family::unit_circle));
      }
}

TEST_CASE("evaluation points: unit-circle nodes are the N-th roots of unity and targets sit midway between nodes", "[points]") {
  const Index n = 12, m = 5;
  const auto p = make_evaluation_points(point_family::unit_circle, n, m);
  for (const auto& a : p.nodes) {
    CHECK(std::abs(std::abs(a) - 1.0) < 1e-15);
    CHECK(std::abs(std::pow(a, static_cast<int>(n)) - 1.0) < 1e-13);
  }
  for (const auto& b : p.targets) {
    CHECK(std::abs(std::abs(b) - 1.0) < 1e-15);
    // midway: e^{2πi(g+½)/N}, so b^N = −1
    CHECK(std::abs(std::pow(b, static_cast<int>(n)) + 1.0) < 1e-13);
  }
}

TEST_CASE("evaluation points: the paper family is gholami2025 §IV's α = 1, 2, 3 and β = 0, −1", "[points][kat]") {
  const auto relays = make_evaluation_points(point_family::paper, 3, 2);
  CHECK(relays.nodes == std::vector<std::complex<double>>{1.0, 2.0, 3.0});
  CHECK(relays.targets == std::vector<std::complex<double>>{0.0, -1.0});
  const auto workers = make_evaluation_points(point_family::paper, 3, 1);
  CHECK(workers.targets == std::vector<std::complex<double>>{0.0});
  CHECK(relays.real);
}

TEST_CASE("evaluation points: N < 1 or m outside [1, N] throws invalid_parameters naming the range", "[points][errors]") {
  CHECK_THROWS_MATCHES(make_evaluation_points(point_family::unit_circle, 0, 1), invalid_parameters, what_contains("need N >= 1"));
  CHECK_THROWS_MATCHES(make_evaluation_points(point_family::paper, 3, 4), invalid_parameters, what_contains("need 1 <= m <= N"));
  CHECK_THROWS_MATCHES(make_evaluation_points(point_family::chebyshev, 3, 0), invalid_parameters, what_contains("m = 0"));
}

TEST_CASE("evaluation points: more than max_layer_nodes = 1024 nodes is invalid_parameters, not an allocation",
          "[points][errors]") {
  CHECK_THROWS_MATCHES(make_evaluation_points(point_family::unit_circle, 1025, 1), invalid_parameters,
                       what_contains("need N <= 1024"));
  CHECK_THROWS_MATCHES(make_evaluation_points(point_family::paper, std::numeric_limits<Index>::max(), 1), invalid_parameters,
                       what_contains("need N <= 1024"));
  CHECK(make_evaluation_points(point_family::unit_circle, 1024, 1024).nodes.size() == 1024);
}
