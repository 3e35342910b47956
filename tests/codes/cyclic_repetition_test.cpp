// SPDX-License-Identifier: MIT
// Cyclic repetition code (Tandon et al. 2017 §III-B, Algorithm 2): cyclic support, rows in the
// (n − s)-dimensional null space of a random H, every straggler pattern up to s (exhaustive for
// n ≤ 12, random for n = 50–100) and one beyond, and the parameter checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <gradcode/codes/cyclic_repetition.hpp>

#include "codes/code_properties.hpp"

using gradcode::cyclic_repetition_code;
using gradcode::Index;
using gradcode::test::what_contains;

namespace {

struct cr_case {
  Index n, K, s;
  std::uint64_t seed = 1;
  std::string str() const {
    return "n=" + std::to_string(n) + " K=" + std::to_string(K) + " s=" + std::to_string(s) + " seed=" + std::to_string(seed);
  }
  gradcode::cyclic_repetition_params params() const { return {.nodes = n, .partitions = K, .tolerance = s, .seed = seed}; }
};

// s = 0, s = n − 1, K = n, K > n (and not a multiple of n), several seeds.
const std::vector<cr_case> cases = {
    {1, 1, 0},   {5, 5, 0},    {5, 5, 1},      {7, 7, 3},      {8, 8, 7},       {10, 10, 2}, {10, 25, 4},
    {12, 12, 1}, {12, 12, 3},  {12, 12, 6},    {12, 12, 11},   {12, 40, 5},     {11, 11, 5, 7}, {12, 12, 4, 99},
};

Index rank_of(const gradcode::sparse_matrix<double>& B) {
  Eigen::ColPivHouseholderQR<gradcode::matrix<double>> qr{gradcode::matrix<double>(B)};
  qr.setThreshold(1e-10);
  return qr.rank();
}

}  // namespace

TEST_CASE("cyclic repetition: node i holds blocks i..i+s (mod n), B_i,i = 1, and B has rank n − s",
          "[cyclic_repetition][structure]") {
  for (const auto& c : cases) {
    INFO(c.str());
    const cyclic_repetition_code<double> code(c.params());
    const auto& support = code.support();
    const auto block_begin = [&](Index b) { return b * c.K / c.n; };
    for (Index i = 0; i < c.n; ++i) {
      std::vector<Index> expected;
      for (Index t = 0; t <= c.s; ++t)
        for (Index k = block_begin((i + t) % c.n); k < block_begin((i + t) % c.n + 1); ++k) expected.push_back(k);
      std::sort(expected.begin(), expected.end());
      const auto held = support.partitions_of(i);
      CHECK(std::vector<Index>(held.begin(), held.end()) == expected);
      // Algorithm 2 fixes b_i(i) = 1 on the node's own block.
      CHECK(code.encoding_matrix().coeff(i, block_begin(i)) == Approx(1.0));
    }
    for (Index k = 0; k < c.K; ++k) CHECK(static_cast<Index>(support.holders_of(k).size()) == c.s + 1);
    CHECK(rank_of(code.encoding_matrix()) == c.n - c.s);
  }
}

TEST_CASE("cyclic repetition: the same seed gives the same B, another seed another B", "[cyclic_repetition][structure]") {
  const cyclic_repetition_code<double> a({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 5});
  const cyclic_repetition_code<double> b({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 5});
  const cyclic_repetition_code<double> c({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 6});
  const gradcode::matrix<double> A(a.encoding_matrix()), B(b.encoding_matrix()), C(c.encoding_matrix());
  CHECK((A - B).cwiseAbs().maxCoeff() == 0.0);
  CHECK((A - C).cwiseAbs().maxCoeff() > 1e-3);
}

TEMPLATE_TEST_CASE("cyclic repetition: every pattern of at most s stragglers decodes the exact sum (n ≤ 12)",
                   "[cyclic_repetition][exhaustive]", float, double) {
  for (const auto& c : cases) {
    const cyclic_repetition_code<TestType> code(c.params());
    gradcode::test::check_every_tolerated_pattern<TestType>(code, "cyclic_repetition", c.str());
  }
}

TEST_CASE("cyclic repetition: with s + 1 stragglers it never returns a wrong sum and refuses every pattern",
          "[cyclic_repetition][exhaustive][errors]") {
  for (const auto& c : cases) {
    const cyclic_repetition_code<double> code(c.params());
    const auto st = gradcode::test::check_one_more_straggler<double>(code, "cyclic_repetition", c.str());
    INFO(c.str());
    // n − s − 1 rows span a hyperplane of null(H) (dimension n − s), which misses 1 for generic H.
    CHECK(st.refused == st.patterns);
    // The s + 1 holders of block b are the nodes b − s, …, b: n distinct sets, one when s + 1 = n.
    CHECK(st.uncovered == (c.s + 1 == c.n ? 1 : c.n));
  }
}

TEMPLATE_TEST_CASE("cyclic repetition: 1000 random patterns of s stragglers decode the exact sum (n = 50–100)",
                   "[cyclic_repetition][random]", float, double) {
  const std::vector<cr_case> large = {{50, 50, 1}, {64, 128, 2}, {100, 100, 3}, {100, 250, 2, 3}};
  for (const auto& c : large) {
    const cyclic_repetition_code<TestType> code(c.params());
    gradcode::test::check_random_patterns<TestType>(code, "cyclic_repetition", c.str(), 1000, true);
  }
}

TEST_CASE("cyclic repetition: invalid parameters throw invalid_parameters naming the constraint",
          "[cyclic_repetition][errors]") {
  using code = cyclic_repetition_code<double>;
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 5, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("K = 5 partitions for n = 6 nodes; the cyclic support needs K >= n"));
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = 6}), gradcode::invalid_parameters,
                       what_contains("s = 6 must be in [0, n = 6); s <= 5 would fit"));
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = -1}), gradcode::invalid_parameters,
                       what_contains("must be in [0, n = 6)"));
  CHECK_THROWS_MATCHES(code({.nodes = 0, .partitions = 0, .tolerance = 0}), gradcode::invalid_parameters,
                       what_contains("n = 0; need n >= 1"));
  CHECK_THROWS_WITH(code({.nodes = 6, .partitions = 5, .tolerance = 1}),
                    Catch::Matchers::StartsWith("gradcode::invalid_parameters: cyclic repetition"));
}
