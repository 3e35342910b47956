// SPDX-License-Identifier: MIT
// core/span_verifier.hpp: exhaustive over all C(n, f) responder sets when that is ≤ 5000, random
// otherwise, and the first failing subset of a deliberately broken encoding matrix.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gradcode/core/span_verifier.hpp>

#include "test_support.hpp"

using gradcode::Index;
using gradcode::matrix;
using gradcode::sparse_matrix;
using gradcode::verify_span_condition;

namespace {
using gradcode::test::what_contains;

/// B = G·M with G (n × (n−s)) Gaussian and M ((n−s) × K) Gaussian but for a first row of ones:
/// for any n − s rows, G_F is invertible (generically), so rowspan(B_F) = rowspan(M) ∋ 1 — an
/// MDS-like code tolerating any s stragglers.
sparse_matrix<double> generic_code(Index n, Index K, Index s, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  matrix<double> G(n, n - s), M(n - s, K);
  for (Index i = 0; i < G.size(); ++i) G.data()[i] = normal(rng);
  for (Index i = 0; i < M.size(); ++i) M.data()[i] = normal(rng);
  M.row(0).setOnes();
  return matrix<double>(G * M).sparseView();
}

sparse_matrix<double> with_zero_row(const sparse_matrix<double>& B, Index row) {
  matrix<double> D(B);
  D.row(row).setZero();
  return D.sparseView();
}

sparse_matrix<double> ones(Index n, Index K) { return matrix<double>::Ones(n, K).sparseView(); }

}  // namespace

TEST_CASE("span verifier: a code tolerating s passes on all C(n, n − s) responder sets", "[span_verifier][exhaustive]") {
  const auto B = generic_code(10, 12, 3, 1);
  const auto report = verify_span_condition(B, 7);
  CHECK(report.satisfied);
  CHECK(report.exhaustive);
  CHECK(report.subsets_checked == 120);  // C(10, 7)
  CHECK(report.worst_residual <= 1e-9);
  CHECK(report.worst_amplification >= 12 * (1 - 1e-9));  // Σ|a_j|‖b_j‖₁ ≥ ‖1‖₁ = K
  CHECK(report.worst_subset.size() == 7);
  CHECK(report.first_failing_subset.empty());
}

TEST_CASE("span verifier: exhaustive exactly when C(n, f) ≤ 5000 (subsets_checked = C(n, f)), else 2000 random sets",
          "[span_verifier]") {
  SECTION("C(16, 5) = 4368: exhaustive") {
    const auto report = verify_span_condition(ones(16, 3), 5);
    CHECK(report.exhaustive);
    CHECK(report.subsets_checked == 4368);
    CHECK(report.satisfied);
  }
  SECTION("C(17, 5) = 6188: random") {
    const auto report = verify_span_condition(ones(17, 3), 5);
    CHECK_FALSE(report.exhaustive);
    CHECK(report.subsets_checked == 2000);
    CHECK(report.satisfied);
  }
  SECTION("the thresholds are options") {
    const auto more = verify_span_condition(ones(17, 3), 5, {.max_exhaustive = 6188});
    CHECK(more.exhaustive);
    CHECK(more.subsets_checked == 6188);
    const auto fewer = verify_span_condition(ones(17, 3), 5, {.max_exhaustive = 100, .random_subsets = 300});
    CHECK_FALSE(fewer.exhaustive);
    CHECK(fewer.subsets_checked == 300);
  }
  SECTION("f = n: the single full set") {
    const auto report = verify_span_condition(generic_code(6, 6, 0, 2), 6);
    CHECK(report.exhaustive);
    CHECK(report.subsets_checked == 1);
    CHECK(report.satisfied);
  }
}

TEST_CASE("span verifier: a zeroed row that is needed fails, and the first failing subset is the first one containing it",
          "[span_verifier][exhaustive]") {
  const auto good = generic_code(9, 9, 2, 3);
  REQUIRE(verify_span_condition(good, 7).satisfied);
  SECTION("row 4: the very first 7-subset {0..6} contains it") {
    const auto report = verify_span_condition(with_zero_row(good, 4), 7);
    CHECK_FALSE(report.satisfied);
    CHECK(report.exhaustive);
    CHECK(report.subsets_checked == 36);  // C(9, 7): the check does not stop at the first failure
    CHECK(report.first_failing_subset == std::vector<Index>{0, 1, 2, 3, 4, 5, 6});
    CHECK(report.worst_residual > 1e-3);
    CHECK(std::count(report.worst_subset.begin(), report.worst_subset.end(), 4) == 1);
  }
  SECTION("row 8: the first subset containing it in lexicographic order is {0..5, 8}") {
    const auto report = verify_span_condition(with_zero_row(good, 8), 7);
    CHECK_FALSE(report.satisfied);
    CHECK(report.first_failing_subset == std::vector<Index>{0, 1, 2, 3, 4, 5, 8});
  }
  SECTION("with one responder more the zero row is not needed") {
    CHECK(verify_span_condition(with_zero_row(good, 4), 8).satisfied);
  }
  SECTION("a residual tolerance above the failure's residual accepts it") {
    CHECK(verify_span_condition(with_zero_row(good, 4), 7, {.residual_tolerance = 1e9}).satisfied);
  }
}

TEST_CASE("span verifier: fractional repetition with one responder too few fails where a whole group is missing",
          "[span_verifier]") {
  // n = 6, s = 1: groups {0,1}, {2,3}, {4,5}; group g sends the sum of partitions 2g, 2g+1.
  matrix<double> D = matrix<double>::Zero(6, 6);
  for (Index i = 0; i < 6; ++i) D.row(i).segment(2 * (i / 2), 2).setOnes();
  const sparse_matrix<double> B = D.sparseView();
  CHECK(verify_span_condition(B, 5).satisfied);
  const auto report = verify_span_condition(B, 4);
  CHECK_FALSE(report.satisfied);
  CHECK(report.first_failing_subset == std::vector<Index>{0, 1, 2, 3});  // group {4, 5} lost
  CHECK(report.worst_residual == Approx(1.0));
}

TEST_CASE("span verifier: in random mode a needed zero row is still found, reproducibly per seed", "[span_verifier][random]") {
  const auto broken = with_zero_row(generic_code(20, 20, 10, 4), 0);  // C(20, 10) = 184756 > 5000
  const auto a = verify_span_condition(broken, 10, {.seed = 7});
  CHECK_FALSE(a.exhaustive);
  CHECK(a.subsets_checked == 2000);
  CHECK_FALSE(a.satisfied);
  REQUIRE(a.first_failing_subset.size() == 10);
  CHECK(a.first_failing_subset.front() == 0);  // sorted, and it must contain the zero row
  CHECK(std::is_sorted(a.first_failing_subset.begin(), a.first_failing_subset.end()));
  CHECK(std::set<Index>(a.first_failing_subset.begin(), a.first_failing_subset.end()).size() == 10);
  const auto b = verify_span_condition(broken, 10, {.seed = 7});
  CHECK(b.first_failing_subset == a.first_failing_subset);
  CHECK(b.worst_subset == a.worst_subset);
  const auto c = verify_span_condition(broken, 10, {.seed = 8});
  CHECK(c.first_failing_subset != a.first_failing_subset);
}

TEST_CASE("span verifier: f below 1 or above n throws invalid_parameters", "[span_verifier][errors]") {
  CHECK_THROWS_MATCHES(verify_span_condition(ones(5, 2), 0), gradcode::invalid_parameters,
                       what_contains("f = 0 responders outside [1, n = 5]"));
  CHECK_THROWS_MATCHES(verify_span_condition(ones(5, 2), 6), gradcode::invalid_parameters,
                       what_contains("f = 6 responders outside [1, n = 5]"));
}

TEST_CASE("span verifier: binomial and next_combination enumerate C(n, k) subsets in lexicographic order", "[span_verifier]") {
  CHECK(gradcode::detail::binomial(10, 3) == 120);
  CHECK(gradcode::detail::binomial(5, 0) == 1);
  CHECK(gradcode::detail::binomial(5, 6) == 0);
  CHECK(gradcode::detail::binomial(50, 25) == Approx(126410606437752.0));
  for (Index n = 1; n <= 9; ++n)
    for (Index k = 1; k <= n; ++k) {
      std::vector<Index> idx(static_cast<std::size_t>(k));
      std::iota(idx.begin(), idx.end(), Index{0});
      std::set<std::vector<Index>> seen;
      std::vector<Index> previous;
      do {
        CHECK(std::is_sorted(idx.begin(), idx.end()));
        CHECK(idx.back() < n);
        if (!previous.empty()) CHECK(previous < idx);
        previous = idx;
        seen.insert(idx);
      } while (gradcode::detail::next_combination(idx, n));
      CHECK(static_cast<double>(seen.size()) == gradcode::detail::binomial(n, k));
    }
}

// Regression (issue 13): random_subsets = 0 checked nothing and reported the condition
// satisfied; a NaN tolerance failed every subset silently; a sparse n × K code with a huge dense
// size threw std::bad_alloc from the dense copy.
TEST_CASE("span verifier: NaN or out-of-range options and dense sizes past the limit throw invalid_parameters",
          "[span_verifier][errors]") {
  const sparse_matrix<double> bad = ones(17, 3);
  CHECK_THROWS_MATCHES(verify_span_condition(bad, 5, {.max_exhaustive = 100, .random_subsets = 0}), gradcode::invalid_parameters,
                       what_contains("random_subsets = 0; need >= 1"));
  CHECK_THROWS_MATCHES(verify_span_condition(bad, 5, {.residual_tolerance = std::nan("")}), gradcode::invalid_parameters,
                       what_contains("residual_tolerance = nan"));
  CHECK_THROWS_AS(verify_span_condition(bad, 5, {.residual_tolerance = -1}), gradcode::invalid_parameters);
  CHECK_THROWS_AS(verify_span_condition(bad, 5, {.residual_tolerance = std::numeric_limits<double>::infinity()}),
                  gradcode::invalid_parameters);
  CHECK_THROWS_AS(verify_span_condition(bad, 5, {.max_exhaustive = std::nan("")}), gradcode::invalid_parameters);
  const sparse_matrix<double> huge(Index{1} << 20, Index{1} << 20);  // 2^40 dense entries: 8 TiB
  CHECK_THROWS_MATCHES(verify_span_condition(huge, 1), gradcode::invalid_parameters,
                       what_contains("exceeds limits::max_dense_entries"));
}
