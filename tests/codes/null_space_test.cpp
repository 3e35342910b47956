// SPDX-License-Identifier: MIT
// The generic null-space construction of B for any support (codes/null_space.hpp): B lives on the
// support, columns sum to 1, rank ≤ n − s, deterministic per seed, and any n − s rows span 1.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/codes/null_space.hpp>
#include <gradcode/core/span_verifier.hpp>

#include "codes/code_properties.hpp"

using gradcode::assignment;
using gradcode::Index;
using gradcode::null_space_encoding;
using gradcode::test::what_contains;

namespace {

assignment cyclic_support(Index n, Index s) {
  std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i)
    for (Index t = 0; t <= s; ++t) holdings[static_cast<std::size_t>(i)].push_back((i + t) % n);
  return assignment(n, std::move(holdings));
}

}  // namespace

TEST_CASE("null space: B is supported on the assignment, columns sum to 1, rank ≤ n − s, span condition holds",
          "[null_space][structure]") {
  struct entry {
    assignment support;
    Index s;
    std::string name;
  };
  const std::vector<entry> supports = {
      {cyclic_support(8, 2), 2, "cyclic n=8 s=2"},
      {cyclic_support(9, 0), 0, "cyclic n=9 s=0"},
      {cyclic_support(6, 5), 5, "cyclic n=6 s=5"},
      {assignment(6, {{0, 1, 2}, {0, 3}, {1, 4, 5}, {2, 3, 4}, {0, 5}, {1, 2, 3, 4, 5}, {0, 1}}), 2, "user n=7 K=6 s=2"},
      {assignment(2, {{0, 1}, {0, 1}, {0, 1}, {0, 1}}), 3, "n=4 K=2 s=3 (K < n − s)"},
  };
  for (const auto& [support, s, name] : supports) {
    INFO(name);
    const auto B = null_space_encoding(support, s, 3);
    REQUIRE(B.rows() == support.nodes());
    REQUIRE(B.cols() == support.partitions());
    const gradcode::matrix<double> D(B);
    for (Index i = 0; i < B.rows(); ++i)
      for (Index k = 0; k < B.cols(); ++k)
        if (D(i, k) != 0.0) {
          const auto held = support.partitions_of(i);
          CHECK(std::find(held.begin(), held.end(), k) != held.end());
        }
    for (Index k = 0; k < B.cols(); ++k) CHECK(D.col(k).sum() == Approx(1.0).epsilon(1e-12));
    Eigen::ColPivHouseholderQR<gradcode::matrix<double>> qr(D);
    qr.setThreshold(1e-10);
    CHECK(qr.rank() <= support.nodes() - s);
    const auto report = gradcode::verify_span_condition(B, support.nodes() - s);
    CHECK(report.satisfied);
    CHECK(report.exhaustive);
  }
}

TEST_CASE("null space: with s = 0 every column is positive (a weighted average of the holders)", "[null_space][structure]") {
  const auto B = null_space_encoding(cyclic_support(5, 1), 0, 9);
  for (Index k = 0; k < B.outerSize(); ++k)
    for (gradcode::sparse_matrix<double>::InnerIterator it(B, k); it; ++it) CHECK(it.value() > 0);
}

TEST_CASE("null space: the same seed gives the same B, another seed another B", "[null_space][structure]") {
  const auto support = cyclic_support(7, 3);
  const gradcode::matrix<double> a(null_space_encoding(support, 3, 11)), b(null_space_encoding(support, 3, 11)),
      c(null_space_encoding(support, 3, 12));
  CHECK((a - b).cwiseAbs().maxCoeff() == 0.0);
  CHECK((a - c).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("null space: a support with a partition on fewer than s + 1 nodes throws invalid_parameters", "[null_space][errors]") {
  CHECK_THROWS_MATCHES(null_space_encoding(cyclic_support(6, 1), 2), gradcode::invalid_parameters,
                       what_contains("is held by 2 nodes; tolerating s = 2 stragglers needs every partition on >= 3 nodes"));
  CHECK_THROWS_MATCHES(null_space_encoding(cyclic_support(6, 1), 6), gradcode::invalid_parameters,
                       what_contains("needs s < n = 6"));
  CHECK_THROWS_MATCHES(null_space_encoding(cyclic_support(6, 1), -1), gradcode::invalid_parameters,
                       what_contains("s = -1 is negative"));
}

// Regression (issue 13): the construction allocated H (s × n) and a full h × h SVD basis per
// partition before any size check: one partition on 2^14 nodes with s = 2^13 asked for a
// 1 GiB H and an SVD running for hours; 10⁴ holders of one partition a 0.8 GB basis.
TEST_CASE("null space: supports whose dense construction would not fit throw invalid_parameters before allocating",
          "[null_space][errors][limits]") {
  const auto all_hold_one = [](Index n) {
    return gradcode::assignment(1, std::vector<std::vector<Index>>(static_cast<std::size_t>(n), std::vector<Index>{0}));
  };
  CHECK_THROWS_MATCHES(gradcode::null_space_encoding(all_hold_one(Index{1} << 14), Index{1} << 13), gradcode::invalid_parameters,
                       gradcode::test::what_contains("s × n must be <= limits::max_dense_entries"));
  CHECK_THROWS_MATCHES(gradcode::null_space_encoding(all_hold_one(10000), 1), gradcode::invalid_parameters,
                       gradcode::test::what_contains("partition 0 has 10000 holders"));
  CHECK_THROWS_AS(gradcode::heterogeneous_code<double>(all_hold_one(10000), 1), gradcode::invalid_parameters);
  CHECK(gradcode::null_space_encoding(all_hold_one(50), 3).nonZeros() == 50);
}
