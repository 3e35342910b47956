// SPDX-License-Identifier: MIT
// core/decoding_solver.hpp: aᵀB_F = target by complete orthogonal decomposition; the residual tells
// decodable (≈ 0) from not decodable (O(1)) patterns, and the amplification bounds rounding.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gradcode/core/decoding_solver.hpp>

#include "test_support.hpp"

using gradcode::Index;
using gradcode::matrix;
using gradcode::solve_decoding_coefficients;
using gradcode::vector;

namespace {
using gradcode::test::test_seed;

matrix<double> rows_of(std::initializer_list<std::initializer_list<double>> r) {
  matrix<double> m(static_cast<Index>(r.size()), static_cast<Index>(r.begin()->size()));
  Index i = 0;
  for (const auto& row : r) {
    Index j = 0;
    for (double v : row) m(i, j++) = v;
    ++i;
  }
  return m;
}

}  // namespace

TEST_CASE("decoding solver: the identity rows decode with a = 1, zero residual, amplification 1", "[decoding_solver][kat]") {
  const auto sol = solve_decoding_coefficients(matrix<double>::Identity(4, 4));
  REQUIRE(sol.coefficients.size() == 4);
  for (Index j = 0; j < 4; ++j) CHECK(sol.coefficients[j] == Approx(1.0).epsilon(1e-14));
  CHECK(sol.residual <= 1e-15);
  CHECK(sol.amplification == Approx(1.0).epsilon(1e-14));  // Σ|a_j|‖b_j‖₁ / ‖1‖₁ = 4 / 4
  CHECK(sol.ok(1e-9, 1e8));
}

TEST_CASE("decoding solver: a decodable pattern has a tiny residual, a non-decodable one an O(1) residual", "[decoding_solver]") {
  SECTION("fractional repetition n = 4, s = 1: one node per group decodes") {
    // Rows: groups {0,1} send g0 + g1, {2,3} send g2 + g3.
    const auto B = rows_of({{1, 1, 0, 0}, {1, 1, 0, 0}, {0, 0, 1, 1}, {0, 0, 1, 1}});
    const matrix<double> one_per_group = B(std::vector<Index>{1, 2}, Eigen::all);
    const auto good = solve_decoding_coefficients(one_per_group);
    CHECK(good.residual <= 1e-15);
    CHECK(good.coefficients[0] == Approx(1.0));
    CHECK(good.coefficients[1] == Approx(1.0));
    const matrix<double> one_group = B(std::vector<Index>{0, 1}, Eigen::all);
    const auto bad = solve_decoding_coefficients(one_group);
    CHECK(bad.residual == Approx(1.0));  // g2 + g3 are simply missing
    CHECK_FALSE(bad.ok(1e-9, 1e8));
  }
  SECTION("rank-deficient but consistent rows take the minimum-norm coefficients") {
    // a₀(1, 1) + a₁(2, 2) = (1, 1): min ‖a‖ is a = (1, 2)/5.
    const auto sol = solve_decoding_coefficients(rows_of({{1, 1}, {2, 2}}));
    CHECK(sol.residual <= 1e-15);
    CHECK(sol.coefficients[0] == Approx(0.2).epsilon(1e-14));
    CHECK(sol.coefficients[1] == Approx(0.4).epsilon(1e-14));
  }
  SECTION("rank-deficient rows whose span misses 1") {
    const auto sol = solve_decoding_coefficients(rows_of({{1, 2}, {2, 4}}));
    CHECK(sol.residual > 0.1);
    CHECK_FALSE(sol.ok(1e-9, 1e8));
  }
  SECTION("no rows at all") {
    const auto sol = solve_decoding_coefficients(matrix<double>(0, 3));
    CHECK(sol.coefficients.size() == 0);
    CHECK(sol.residual == 1.0);
    CHECK_FALSE(sol.ok(1e-9, 1e8));
  }
}

TEST_CASE("decoding solver: random full-rank rows (f ≥ K) decode, random rows with f < K do not", "[decoding_solver]") {
  const std::uint64_t seed = test_seed(41);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  double worst_good = 0, best_bad = std::numeric_limits<double>::infinity();
  for (int trial = 0; trial < 300; ++trial) {
    const Index K = std::uniform_int_distribution<Index>(1, 20)(rng);
    const Index extra = std::uniform_int_distribution<Index>(0, 5)(rng);
    matrix<double> rows(K + extra, K);
    for (Index i = 0; i < rows.size(); ++i) rows.data()[i] = normal(rng);
    const auto good = solve_decoding_coefficients(rows);
    worst_good = std::max(worst_good, good.residual);
    CHECK((rows.transpose() * good.coefficients - vector<double>::Ones(K)).cwiseAbs().maxCoeff() ==
          Approx(good.residual).margin(1e-12));
    if (K >= 2) {
      const Index f = std::uniform_int_distribution<Index>(1, K - 1)(rng);
      const auto bad = solve_decoding_coefficients(rows.topRows(f));
      best_bad = std::min(best_bad, bad.residual);
    }
  }
  std::printf("[gradcode solver] random rows: worst residual when decodable %.2e, smallest when not %.2e\n", worst_good,
              best_bad);
  CHECK(worst_good <= 1e-10);
  CHECK(best_bad > 1e-6);  // far above the 1e-9 acceptance tolerance
}

TEST_CASE("decoding solver: a custom target is reached, and float rows are solved in double", "[decoding_solver]") {
  const vector<double> target = (vector<double>(3) << 2, 3, -1).finished();
  const auto sol = solve_decoding_coefficients(matrix<double>::Identity(3, 3), target);
  CHECK(sol.coefficients[0] == Approx(2));
  CHECK(sol.coefficients[1] == Approx(3));
  CHECK(sol.coefficients[2] == Approx(-1));
  CHECK(sol.residual <= 1e-15);
  CHECK(sol.amplification == Approx(1.0));  // Σ|a_j|‖b_j‖₁ / ‖target‖₁ = 6 / 6
  const Eigen::MatrixXf rows = (Eigen::MatrixXf(2, 2) << 1.f, 0.5f, 0.f, 0.5f).finished();
  const auto f = solve_decoding_coefficients(rows);
  CHECK(f.coefficients[0] == Approx(1.0).epsilon(1e-14));  // (1, 0.5)·1 + (0, 0.5)·1 = (1, 1)
  CHECK(f.coefficients[1] == Approx(1.0).epsilon(1e-14));
}

TEST_CASE("decoding solver: ok() requires residual and amplification within bounds and a finite amplification",
          "[decoding_solver]") {
  gradcode::decoding_solution s;
  s.residual = 1e-12;
  s.amplification = 10;
  CHECK(s.ok(1e-9, 1e8));
  CHECK_FALSE(s.ok(1e-13, 1e8));
  CHECK_FALSE(s.ok(1e-9, 5));
  s.amplification = std::numeric_limits<double>::infinity();
  CHECK_FALSE(s.ok(1e-9, std::numeric_limits<double>::infinity()));
  s.amplification = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(s.ok(1e-9, 1e8));
  s.amplification = 1;
  s.residual = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(s.ok(1e-9, 1e8));
}

TEST_CASE("decoding solver: an ill-conditioned but exact system reports a large amplification", "[decoding_solver]") {
  // Rows (1, 0) and (1, ε): 1 is in their span, but only through coefficients of size 1/ε.
  const double eps = 1e-9;
  const auto sol = solve_decoding_coefficients(rows_of({{1, 0}, {1, eps}}), (vector<double>(2) << 1, 1).finished());
  // a₀ + a₁ = 1, ε a₁ = 1  →  a₁ = 1/ε, a₀ = 1 − 1/ε.
  CHECK(sol.residual <= 1e-6);
  CHECK(sol.amplification > 1e8);
  CHECK_FALSE(sol.ok(1e-6, 1e8));
}

// Regression (issue 13): a target whose length is not K reached Eigen's size assertion, which is
// compiled out in Release (NDEBUG): an out-of-bounds read instead of an error.
TEST_CASE("decoding solver: a target whose length is not K throws invalid_input", "[decoding_solver][errors]") {
  const matrix<double> rows = matrix<double>::Identity(3, 4);
  const vector<double> short_target = vector<double>::Ones(3);
  CHECK_THROWS_AS(solve_decoding_coefficients(rows, short_target), gradcode::invalid_input);
  CHECK_THROWS_WITH(solve_decoding_coefficients(rows, short_target),
                    Catch::Matchers::Contains("target has length 3") && Catch::Matchers::Contains("K = 4 columns"));
  const vector<double> empty(0);
  CHECK_THROWS_AS(solve_decoding_coefficients(matrix<double>(0, 2), empty), gradcode::invalid_input);
}
