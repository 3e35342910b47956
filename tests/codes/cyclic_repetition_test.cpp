// SPDX-License-Identifier: MIT
// Cyclic repetition code (Tandon et al. 2017 §III-B): cyclic support; B from the spectral
// null-space construction (default) or Algorithm 2 with a random H (construction::tandon_random), or
// the cyclic-MDS code through construction::automatic / cyclic_mds; every
// straggler pattern up to s (exhaustive for n ≤ 12, random for n = 50–100) and one beyond, and
// the parameter checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Dense>

#include <gradcode/codes/construction.hpp>
#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>

#include "codes/code_properties.hpp"

using gradcode::construction;
using gradcode::cyclic_repetition_code;
using gradcode::Index;
using gradcode::test::what_contains;

namespace {

struct cr_case {
  Index n, K, s;
  std::uint64_t seed = 1;
  construction method = construction::null_space;  // tandon_random: Tandon et al.'s Algorithm 2 with a Gaussian H
  bool random_h() const { return method == construction::tandon_random; }
  std::string str() const {
    return "n=" + std::to_string(n) + " K=" + std::to_string(K) + " s=" + std::to_string(s) + " seed=" + std::to_string(seed) +
           " " + gradcode::construction_name(method);
  }
  gradcode::cyclic_repetition_params params() const {
    return {.nodes = n, .partitions = K, .tolerance = s, .seed = seed, .method = method};
  }
};

// s = 0, s = n − 1, K = n, K > n (and not a multiple of n), several seeds.
const std::vector<cr_case> cr_cases = {
    {1, 1, 0},   {5, 5, 0},   {5, 5, 1},   {7, 7, 3},    {8, 8, 7},   {10, 10, 2},    {10, 25, 4},
    {12, 12, 1}, {12, 12, 3}, {12, 12, 6}, {12, 12, 11}, {12, 40, 5}, {11, 11, 5, 7}, {12, 12, 4, 99},
};
// Algorithm 2 literally (random H); its conditioning is the paper's, so these are checked in double.
const std::vector<cr_case> tandon_cases = {
    {5, 5, 1, 1, construction::tandon_random},   {7, 7, 3, 1, construction::tandon_random},
    {10, 25, 4, 1, construction::tandon_random}, {12, 12, 6, 1, construction::tandon_random},
    {12, 40, 5, 1, construction::tandon_random}, {11, 11, 5, 7, construction::tandon_random},
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
      if (c.random_h()) CHECK(code.encoding_matrix().coeff(i, block_begin(i)) == Approx(1.0));
    }
    for (Index k = 0; k < c.K; ++k) CHECK(static_cast<Index>(support.holders_of(k).size()) == c.s + 1);
    CHECK(rank_of(code.encoding_matrix()) == c.n - c.s);
  }
}

TEST_CASE("cyclic repetition: with construction::tandon_random the same seed gives the same B, another seed another B",
          "[cyclic_repetition][structure]") {
  constexpr auto tandon = construction::tandon_random;
  const cyclic_repetition_code<double> a({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 5, .method = tandon});
  const cyclic_repetition_code<double> b({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 5, .method = tandon});
  const cyclic_repetition_code<double> c({.nodes = 8, .partitions = 8, .tolerance = 3, .seed = 6, .method = tandon});
  const gradcode::matrix<double> A(a.encoding_matrix()), B(b.encoding_matrix()), C(c.encoding_matrix());
  CHECK((A - B).cwiseAbs().maxCoeff() == 0.0);
  CHECK((A - C).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("cyclic repetition: the default construction is construction::null_space (the spectral B), unlike Algorithm 2's",
          "[cyclic_repetition][structure]") {
  CHECK(gradcode::cyclic_repetition_params{}.method == construction::null_space);
  for (const auto& c : cr_cases) {
    INFO(c.str());
    const cyclic_repetition_code<double> implicit({.nodes = c.n, .partitions = c.K, .tolerance = c.s, .seed = c.seed});
    const cyclic_repetition_code<double> spectral(c.params());
    CHECK(gradcode::matrix<double>(implicit.encoding_matrix() - spectral.encoding_matrix()).cwiseAbs().maxCoeff() == 0.0);
  }
  // Algorithm 2 fixes b_i(i) = 1; the spectral B normalises 1ᵀb_k = 1 instead, so they differ.
  const cyclic_repetition_code<double> spectral({.nodes = 7, .partitions = 7, .tolerance = 3});
  const cyclic_repetition_code<double> tandon(
      {.nodes = 7, .partitions = 7, .tolerance = 3, .method = construction::tandon_random});
  CHECK(gradcode::matrix<double>(spectral.encoding_matrix() - tandon.encoding_matrix()).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("cyclic repetition: construction::automatic takes the cyclic-MDS B where n − s is odd and the spectral B otherwise",
          "[cyclic_repetition][structure]") {
  const std::vector<cr_case> cases = {{7, 7, 2}, {7, 7, 3}, {10, 25, 3}, {10, 25, 4}, {12, 12, 5}, {12, 12, 6}};
  for (const auto& c : cases) {
    INFO(c.str());
    const cyclic_repetition_code<double> automatic(
        {.nodes = c.n, .partitions = c.K, .tolerance = c.s, .seed = c.seed, .method = construction::automatic});
    const gradcode::matrix<double> A(automatic.encoding_matrix());
    if ((c.n - c.s) % 2 == 1) {
      const gradcode::cyclic_mds_code<double> mds({.nodes = c.n, .partitions = c.K, .tolerance = c.s});
      const cyclic_repetition_code<double> forced(
          {.nodes = c.n, .partitions = c.K, .tolerance = c.s, .seed = c.seed, .method = construction::cyclic_mds});
      CHECK((A - gradcode::matrix<double>(mds.encoding_matrix())).cwiseAbs().maxCoeff() == 0.0);
      CHECK((A - gradcode::matrix<double>(forced.encoding_matrix())).cwiseAbs().maxCoeff() == 0.0);
    } else {
      const cyclic_repetition_code<double> spectral(c.params());
      CHECK((A - gradcode::matrix<double>(spectral.encoding_matrix())).cwiseAbs().maxCoeff() == 0.0);
    }
    gradcode::test::check_every_tolerated_pattern<double>(automatic, "cyclic_repetition", c.str());
  }
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
    if (c.random_h()) CHECK(st.refused == st.patterns);
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

TEST_CASE("cyclic repetition: invalid parameters throw invalid_parameters naming the constraint", "[cyclic_repetition][errors]") {
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
  // cyclic_mds forced where n − s is even: refused, named, with the constructions that fit.
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = 2, .method = construction::cyclic_mds}),
                       gradcode::invalid_parameters,
                       what_contains("cyclic repetition: cyclic MDS construction forced on n = 6, s = 2"));
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = 2, .method = static_cast<construction>(17)}),
                       gradcode::invalid_parameters, what_contains("cyclic repetition: construction(17) is not a construction"));
}
