// SPDX-License-Identifier: MIT
// Heterogeneity-aware code (Wang et al. 2019) and the arbitrary-support constructor: loads from
// capacities (including a node capped at K), user supports, every straggler pattern up to s
// (exhaustive for n ≤ 12, random for n = 50–100) and one beyond, and the parameter checks.
#include <catch2/catch.hpp>

#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gradcode/codes/heterogeneous.hpp>

#include "codes/code_properties.hpp"

using gradcode::assignment;
using gradcode::heterogeneous_code;
using gradcode::Index;
using gradcode::test::what_contains;

namespace {

struct het_case {
  std::vector<double> capacities;
  Index K, s;
  std::uint64_t seed = 1;
  std::string str() const {
    std::string c = "c={";
    for (std::size_t i = 0; i < capacities.size(); ++i) {
      auto v = std::to_string(capacities[i]);
      v.erase(v.find_last_not_of('0') + 1);
      if (v.back() == '.') v.pop_back();
      c += (i ? "," : "") + v;
    }
    return c + "} K=" + std::to_string(K) + " s=" + std::to_string(s);
  }
  gradcode::heterogeneous_params params() const {
    return {.capacities = capacities, .partitions = K, .tolerance = s, .seed = seed};
  }
};

// Equal and unequal capacities; s = 0 and s = n − 1; K < n, K = n, K > n; a node capped at K
// ({10,1,1,1,1,1}: its share 12·10/15 = 8 exceeds K = 6); nodes with load 0 (K < n, s = 0).
const std::vector<het_case> het_cases = {
    {{1, 1, 1, 1}, 4, 1},
    {{1, 2, 3}, 6, 0},
    {{1, 2, 3, 4, 5}, 10, 2},
    {{10, 1, 1, 1, 1, 1}, 6, 1},
    {{50, 40, 1, 1, 1, 1, 1}, 7, 2},
    {{1, 1, 1, 1, 1, 1, 1, 1}, 3, 2},
    {{1, 1, 1, 1, 1, 1, 1, 1, 1}, 2, 0},
    {{3, 1, 4, 1, 5, 9, 2, 6, 5}, 20, 3},
    {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 24, 3},
    {{2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 12, 5},
    {{0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6}, 12, 11},
    {{7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 30, 4, 17},
};

/// The user-given support of the arbitrary-support tests: n = 7, K = 6, replication 3 or 4, s = 2.
assignment user_support() { return assignment(6, {{0, 1, 2}, {0, 3}, {1, 4, 5}, {2, 3, 4}, {0, 5}, {1, 2, 3, 4, 5}, {0, 1}}); }

/// Random support: every partition on s + 1 + (0..extra) random distinct nodes.
assignment random_support(Index n, Index K, Index s, Index extra, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
  std::vector<Index> nodes(static_cast<std::size_t>(n));
  std::iota(nodes.begin(), nodes.end(), Index{0});
  for (Index k = 0; k < K; ++k) {
    std::shuffle(nodes.begin(), nodes.end(), rng);
    const Index copies = s + 1 + std::uniform_int_distribution<Index>(0, extra)(rng);
    for (Index t = 0; t < copies; ++t) holdings[static_cast<std::size_t>(nodes[static_cast<std::size_t>(t)])].push_back(k);
  }
  return assignment(K, std::move(holdings));
}

}  // namespace

TEST_CASE("heterogeneous: loads follow the capacities, sum to K(s+1), stay ≤ K, and put each partition on s+1 nodes",
          "[heterogeneous][structure]") {
  for (const auto& c : het_cases) {
    INFO(c.str());
    const heterogeneous_code<double> code(c.params());
    const auto n = static_cast<Index>(c.capacities.size());
    const auto expected = gradcode::proportional_loads(c.K * (c.s + 1), c.capacities, c.K);
    Index total = 0;
    for (Index i = 0; i < n; ++i) {
      CHECK(code.load(i) == expected[static_cast<std::size_t>(i)]);
      CHECK(code.load(i) <= c.K);
      total += code.load(i);
    }
    CHECK(total == c.K * (c.s + 1));
    for (Index k = 0; k < c.K; ++k) CHECK(static_cast<Index>(code.support().holders_of(k).size()) == c.s + 1);
    // B lives on the support and every column sums to 1 (1ᵀb_k = 1).
    const gradcode::matrix<double> B(code.encoding_matrix());
    for (Index k = 0; k < c.K; ++k) CHECK(B.col(k).sum() == Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("heterogeneous: a node whose proportional share exceeds K is capped at all K partitions",
          "[heterogeneous][structure]") {
  const heterogeneous_code<double> code({.capacities = {10, 1, 1, 1, 1, 1}, .partitions = 6, .tolerance = 1});
  CHECK(code.load(0) == 6);  // share 12·10/15 = 8 > K = 6
  CHECK(code.load(1) + code.load(2) + code.load(3) + code.load(4) + code.load(5) == 6);
  const heterogeneous_code<double> fast_and_slow({.capacities = {1, 1000}, .partitions = 5, .tolerance = 1});
  CHECK(fast_and_slow.load(0) == 5);  // s = 1 on two nodes forces both to hold everything
  CHECK(fast_and_slow.load(1) == 5);
}

TEMPLATE_TEST_CASE("heterogeneous: every pattern of at most s stragglers decodes the exact sum (n ≤ 12)",
                   "[heterogeneous][exhaustive]", float, double) {
  for (const auto& c : het_cases) {
    const heterogeneous_code<TestType> code(c.params());
    gradcode::test::check_every_tolerated_pattern<TestType>(code, "heterogeneous", c.str());
  }
}

TEMPLATE_TEST_CASE("heterogeneous: a user-given arbitrary support decodes the exact sum for every pattern of s stragglers",
                   "[heterogeneous][exhaustive]", float, double) {
  const heterogeneous_code<TestType> code(user_support(), 2);
  const auto given = user_support();
  for (Index i = 0; i < given.nodes(); ++i) {
    const auto a = code.support().partitions_of(i), b = given.partitions_of(i);
    CHECK(std::vector<Index>(a.begin(), a.end()) == std::vector<Index>(b.begin(), b.end()));
    for (typename gradcode::sparse_matrix<double>::InnerIterator it(code.encoding_matrix(), i); it; ++it)
      CHECK(std::find(b.begin(), b.end(), it.col()) != b.end());
  }
  gradcode::test::check_every_tolerated_pattern<TestType>(code, "heterogeneous", "user support n=7 K=6 s=2");
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto support = random_support(11, 15, 3, 2, seed);
    const heterogeneous_code<TestType> random_code(support, 3, seed);
    gradcode::test::check_every_tolerated_pattern<TestType>(random_code, "heterogeneous",
                                                            "random support n=11 K=15 s=3 seed=" + std::to_string(seed));
  }
}

TEST_CASE("heterogeneous: with s + 1 stragglers it never returns a wrong sum, and refuses every pattern that loses a partition",
          "[heterogeneous][exhaustive][errors]") {
  for (const auto& c : het_cases) {
    const heterogeneous_code<double> code(c.params());
    const auto st = gradcode::test::check_one_more_straggler<double>(code, "heterogeneous", c.str());
    INFO(c.str());
    CHECK(st.uncovered > 0);  // every partition sits on exactly s + 1 nodes
  }
  const heterogeneous_code<double> user(user_support(), 2);
  const auto st = gradcode::test::check_one_more_straggler<double>(user, "heterogeneous", "user support n=7 K=6 s=2");
  CHECK(st.uncovered == 4);  // the holder triples of partitions 2, 3, 4, 5
}

TEMPLATE_TEST_CASE("heterogeneous: 1000 random patterns of s stragglers decode the exact sum (n = 50–100)",
                   "[heterogeneous][random]", float, double) {
  std::mt19937_64 rng(gradcode::test::test_seed(77));
  std::uniform_real_distribution<double> capacity(0.5, 4.0);
  const auto random_capacities = [&](Index n) {
    std::vector<double> c(static_cast<std::size_t>(n));
    for (auto& v : c) v = capacity(rng);
    return c;
  };
  std::vector<het_case> large = {
      {random_capacities(60), 120, 2},
      {random_capacities(100), 100, 3},
      {random_capacities(100), 200, 5},  // the edge of null_space.hpp's stated safe region (n ≤ 100, s ≤ 5)
      {random_capacities(80), 160, 1},
  };
  large.back().capacities[0] = 500;  // capped at K
  for (const auto& c : large) {
    const heterogeneous_code<TestType> code(c.params());
    const std::string params = "n=" + std::to_string(c.capacities.size()) + " K=" + std::to_string(c.K) +
                               " s=" + std::to_string(c.s) + " random capacities";
    if (c.capacities[0] == 500) CHECK(code.load(0) == c.K);
    gradcode::test::check_random_patterns<TestType>(code, "heterogeneous", params, 1000, true);
  }
  const heterogeneous_code<TestType> user(random_support(70, 140, 2, 3, 5), 2, 5);
  gradcode::test::check_random_patterns<TestType>(user, "heterogeneous", "random support n=70 K=140 s=2", 1000, true);
}

TEST_CASE("heterogeneous: invalid parameters throw invalid_parameters naming the constraint", "[heterogeneous][errors]") {
  using code = heterogeneous_code<double>;
  CHECK_THROWS_MATCHES(code({.capacities = {}, .partitions = 4, .tolerance = 0}), gradcode::invalid_parameters,
                       what_contains("no nodes (capacities is empty)"));
  CHECK_THROWS_MATCHES(code({.capacities = {1, 1}, .partitions = 0, .tolerance = 0}), gradcode::invalid_parameters,
                       what_contains("K = 0; need K >= 1"));
  CHECK_THROWS_MATCHES(code({.capacities = {1, 1, 1}, .partitions = 3, .tolerance = 3}), gradcode::invalid_parameters,
                       what_contains("s = 3 must be in [0, n = 3); s <= 2 would fit"));
  CHECK_THROWS_MATCHES(code({.capacities = {1, 0, 1}, .partitions = 3, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("node 1 has capacity 0.000000; capacities must be positive and finite"));
  CHECK_THROWS_MATCHES(code({.capacities = {1, std::nan(""), 1}, .partitions = 3, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("capacities must be positive and finite"));
  CHECK_THROWS_MATCHES(code({.capacities = {1, -2, 1}, .partitions = 3, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("node 1 has capacity -2"));
  // A support that cannot tolerate s: partition 2 sits on one node only.
  const assignment thin(3, {{0, 1}, {1, 2}, {0}});
  CHECK_THROWS_MATCHES(
      code(thin, 1), gradcode::invalid_parameters,
      what_contains(
          "partition 2 is held by 1 nodes; tolerating s = 1 stragglers needs every partition on >= 2 nodes (s <= 0 would fit)"));
  CHECK_THROWS_MATCHES(code(user_support(), 3), gradcode::invalid_parameters,
                       what_contains("needs every partition on >= 4 nodes (s <= 2 would fit)"));
  CHECK_THROWS_MATCHES(code(user_support(), 7), gradcode::invalid_parameters, what_contains("needs s < n = 7"));
}

// Regression (issue 13): capacities of 1e308 pass "positive and finite", but their sum and the
// shares overflowed: ∞/∞ was cast to Index (UB) and the loads ignored the ratios.
TEST_CASE("heterogeneous: capacities near DBL_MAX give the code of their ratios", "[heterogeneous][errors]") {
  const heterogeneous_code<double> huge({.capacities = {1e308, 5e307, 5e307, 1e308}, .partitions = 12, .tolerance = 1});
  const heterogeneous_code<double> ratio({.capacities = {2, 1, 1, 2}, .partitions = 12, .tolerance = 1});
  for (Index i = 0; i < 4; ++i) CHECK(huge.load(i) == ratio.load(i));
  CHECK(huge.load(0) == 8);
  CHECK(huge.load(1) == 4);
  CHECK(gradcode::matrix<double>(huge.encoding_matrix()) == gradcode::matrix<double>(ratio.encoding_matrix()));
  const double max = std::numeric_limits<double>::max();
  CHECK_NOTHROW(heterogeneous_code<float>({.capacities = {max, max, max}, .partitions = 3, .tolerance = 2}));
}

// Regression (issue 13): K = 2^62 overflowed K(s+1) (signed overflow) and K = 1e9 allocated the
// support (std::bad_alloc after a long attempt) before anything was checked.
TEST_CASE("heterogeneous: K near INT64_MAX or 1e9 throws invalid_parameters at once", "[heterogeneous][errors][limits]") {
  for (Index K : {Index{1} << 62, std::numeric_limits<Index>::max(), Index{1'000'000'000}}) {
    INFO("K = " << K);
    CHECK_THROWS_MATCHES(heterogeneous_code<double>({.capacities = {1, 2, 3}, .partitions = K, .tolerance = 1}),
                         gradcode::invalid_parameters, what_contains("exceeds limits::max_partitions"));
  }
}
