// SPDX-License-Identifier: MIT
// Cyclic repetition code (Tandon et al. 2017 §III-B): cyclic support; B from the spectral
// null-space construction (default) or Algorithm 2 with a random H (tandon_random_h); every
// straggler pattern up to s (exhaustive for n ≤ 12, random for n = 50–100) and one beyond, and
// the parameter checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <type_traits>
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
  bool random_h = false;  // Tandon et al.'s Algorithm 2 with a Gaussian H
  std::string str() const {
    return "n=" + std::to_string(n) + " K=" + std::to_string(K) + " s=" + std::to_string(s) + " seed=" + std::to_string(seed) +
           (random_h ? " tandon_random_h" : " spectral");
  }
  gradcode::cyclic_repetition_params params() const {
    return {.nodes = n, .partitions = K, .tolerance = s, .seed = seed, .tandon_random_h = random_h};
  }
};

// s = 0, s = n − 1, K = n, K > n (and not a multiple of n), several seeds.
const std::vector<cr_case> cr_cases = {
    {1, 1, 0},   {5, 5, 0},    {5, 5, 1},      {7, 7, 3},      {8, 8, 7},       {10, 10, 2}, {10, 25, 4},
    {12, 12, 1}, {12, 12, 3},  {12, 12, 6},    {12, 12, 11},   {12, 40, 5},     {11, 11, 5, 7}, {12, 12, 4, 99},
};
// Algorithm 2 literally (random H); its conditioning is the paper's, so these are checked in double.
const std::vector<cr_case> tandon_cases = {
    {5, 5, 1, 1, true}, {7, 7, 3, 1, true}, {10, 25, 4, 1, true}, {12, 12, 6, 1, true}, {12, 40, 5, 1, true}, {11, 11, 5, 7, true},
};

Index rank_of(const gradcode::sparse_matrix<double>& B) {
  Eigen::ColPivHouseholderQR<gradcode::matrix<double>> qr{gradcode::matrix<double>(B)};
  qr.setThreshold(1e-10);
  return qr.rank();
}

}  // namespace

TEST_CASE("cyclic repetition: node i holds blocks i..i+s (mod n), B has rank n − s, Algorithm 2 sets B_i,i = 1",
          "[cyclic_repetition][structure]") {
  auto all = cr_cases;
  all.insert(all.end(), tandon_cases.begin(), tandon_cases.end());
  for (const auto& c : all) {
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
      if (c.random_h) CHECK(code.encoding_matrix().coeff(i, block_begin(i)) == Approx(1.0));
    }
    for (Index k = 0; k < c.K; ++k) CHECK(static_cast<Index>(support.holders_of(k).size()) == c.s + 1);
    CHECK(rank_of(code.encoding_matrix()) == c.n - c.s);
  }
}

TEST_CASE("cyclic repetition: with a random H the same seed gives the same B, another seed another B",
          "[cyclic_repetition][structure]") {
  const cyclic_repetition_code<double> a({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 5, .tandon_random_h = true});
  const cyclic_repetition_code<double> b({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 5, .tandon_random_h = true});
  const cyclic_repetition_code<double> c({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 6, .tandon_random_h = true});
  const gradcode::matrix<double> A(a.encoding_matrix()), B(b.encoding_matrix()), C(c.encoding_matrix());
  CHECK((A - B).cwiseAbs().maxCoeff() == 0.0);
  CHECK((A - C).cwiseAbs().maxCoeff() > 1e-3);
}

TEMPLATE_TEST_CASE("cyclic repetition: every pattern of at most s stragglers decodes the exact sum (n ≤ 12)",
                   "[cyclic_repetition][exhaustive]", float, double) {
  for (const auto& c : cr_cases) {
    const cyclic_repetition_code<TestType> code(c.params());
    gradcode::test::check_every_tolerated_pattern<TestType>(code, "cyclic_repetition", c.str());
  }
  if constexpr (std::is_same_v<TestType, double>)
    for (const auto& c : tandon_cases) {
      const cyclic_repetition_code<TestType> code(c.params());
      gradcode::test::check_every_tolerated_pattern<TestType>(code, "cyclic_repetition", c.str());
    }
}

TEST_CASE("cyclic repetition: with s + 1 stragglers it never returns a wrong sum (random H: refuses every pattern)",
          "[cyclic_repetition][exhaustive][errors]") {
  auto all = cr_cases;
  all.insert(all.end(), tandon_cases.begin(), tandon_cases.end());
  for (const auto& c : all) {
    const cyclic_repetition_code<double> code(c.params());
    const auto st = gradcode::test::check_one_more_straggler<double>(code, "cyclic_repetition", c.str());
    INFO(c.str());
    // With a random H, n − s − 1 rows span a hyperplane of null(H) that misses 1 (generic H);
    // the structured spectral code, like cyclic MDS, may still decode some such patterns —
    // exactly (check_one_more_straggler checks that no decoded sum is wrong).
    if (c.random_h) CHECK(st.refused == st.patterns);
    CHECK(st.refused + st.decoded == st.patterns);
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
