// SPDX-License-Identifier: MIT
// core/assignment.hpp: the node ↔ partition map, cyclic consecutive placement, proportional loads
// (largest remainder, water-filled at the cap), and the replication check.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gradcode/core/assignment.hpp>

#include "test_support.hpp"

using gradcode::assignment;
using gradcode::Index;
using gradcode::proportional_loads;

namespace {
using gradcode::test::test_seed;
using gradcode::test::thrown_node;
using gradcode::test::what_contains;

/// The exact water-filled shares the loads must round: nodes whose proportional share of what is
/// left exceeds the cap are fixed at the cap, the rest share the remainder in proportion.
std::vector<double> water_filled_shares(Index total, const std::vector<double>& w, Index cap) {
  std::vector<double> share(w.size(), 0);
  std::vector<bool> capped(w.size(), false);
  for (;;) {
    double left = static_cast<double>(total), wsum = 0;
    for (std::size_t i = 0; i < w.size(); ++i) capped[i] ? left -= static_cast<double>(cap) : wsum += w[i];
    bool changed = false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      share[i] = capped[i] ? static_cast<double>(cap) : left * w[i] / wsum;
      if (!capped[i] && share[i] > static_cast<double>(cap)) capped[i] = changed = true;
    }
    if (!changed) return share;
  }
}

Index sum(const std::vector<Index>& v) { return std::accumulate(v.begin(), v.end(), Index{0}); }

}  // namespace

TEST_CASE("assignment: holders_of is the transpose of partitions_of, both sorted", "[assignment]") {
  const assignment a(5, {{4, 0, 2}, {1}, {}, {3, 2, 1, 0}});
  CHECK(a.nodes() == 4);
  CHECK(a.partitions() == 5);
  const auto p0 = a.partitions_of(0);
  CHECK(std::vector<Index>(p0.begin(), p0.end()) == std::vector<Index>{0, 2, 4});
  const auto h2 = a.holders_of(2);
  CHECK(std::vector<Index>(h2.begin(), h2.end()) == std::vector<Index>{0, 3});
  const auto h4 = a.holders_of(4);
  CHECK(std::vector<Index>(h4.begin(), h4.end()) == std::vector<Index>{0});
  CHECK(a.load(0) == 3);
  CHECK(a.load(2) == 0);
  CHECK(a.max_load() == 4);
  CHECK(a.min_replication() == 1);
  for (Index i = 0; i < a.nodes(); ++i)
    for (Index k : a.partitions_of(i)) {
      const auto h = a.holders_of(k);
      CHECK(std::find(h.begin(), h.end(), i) != h.end());
    }
  Index copies = 0;
  for (Index k = 0; k < a.partitions(); ++k) copies += static_cast<Index>(a.holders_of(k).size());
  CHECK(copies == 3 + 1 + 0 + 4);
}

TEST_CASE("assignment: malformed holdings throw invalid_parameters naming the node and partition", "[assignment][errors]") {
  CHECK_THROWS_MATCHES(assignment(3, {{0}, {1, 3}}), gradcode::invalid_parameters,
                       what_contains("node 1 holds partition 3, outside [0, 3)"));
  CHECK_THROWS_MATCHES(assignment(3, {{0}, {-1}}), gradcode::invalid_parameters, what_contains("node 1 holds partition -1"));
  CHECK_THROWS_MATCHES(assignment(3, {{2, 0, 2}}), gradcode::invalid_parameters, what_contains("node 0 lists partition 2 twice"));
  CHECK_THROWS_MATCHES(assignment(0, {{}}), gradcode::invalid_parameters, what_contains("K = 0 partitions; need K >= 1"));
  CHECK_THROWS_MATCHES(assignment(2, {}), gradcode::invalid_parameters, what_contains("no nodes; need n >= 1"));
}

TEST_CASE("assignment: require_replication accepts s < min replication and names what would fit otherwise",
          "[assignment][errors]") {
  const assignment a(3, {{0, 1}, {1, 2}, {2, 0}, {0}});  // partition 0 on 3 nodes, 1 and 2 on 2
  CHECK(a.min_replication() == 2);
  CHECK_NOTHROW(a.require_replication(0));
  CHECK_NOTHROW(a.require_replication(1));
  CHECK_THROWS_MATCHES(
      a.require_replication(2), gradcode::invalid_parameters,
      what_contains(
          "partition 1 is held by 2 nodes; tolerating s = 2 stragglers needs every partition on >= 3 nodes (s <= 1 would fit)"));
  CHECK_THROWS_MATCHES(a.require_replication(4), gradcode::invalid_parameters,
                       what_contains("s = 4 needs s < n = 4 (at least one node must respond); s <= 3 would fit"));
  CHECK_THROWS_MATCHES(a.require_replication(-1), gradcode::invalid_parameters, what_contains("s = -1 is negative"));
}

TEST_CASE("assignment: cyclic_consecutive puts every partition on exactly c distinct nodes when Σ loads = c·K",
          "[assignment][cyclic]") {
  const std::uint64_t seed = test_seed(31);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 500; ++trial) {
    const Index K = std::uniform_int_distribution<Index>(1, 40)(rng);
    const Index n = std::uniform_int_distribution<Index>(1, 30)(rng);
    const Index c = std::uniform_int_distribution<Index>(1, n)(rng);
    // Random loads ≤ K summing to c·K: start from c·K copies spread at random under the cap.
    std::vector<Index> loads(static_cast<std::size_t>(n), 0);
    for (Index placed = 0; placed < c * K;) {
      auto& l = loads[static_cast<std::size_t>(std::uniform_int_distribution<Index>(0, n - 1)(rng))];
      if (l < K) ++l, ++placed;
    }
    INFO("trial " << trial << ": K = " << K << ", n = " << n << ", c = " << c);
    const auto a = assignment::cyclic_consecutive(K, loads);
    REQUIRE(a.nodes() == n);
    Index start = 0;
    for (Index i = 0; i < n; ++i) {
      CHECK(a.load(i) == loads[static_cast<std::size_t>(i)]);
      // A node's partitions are the cyclic run that starts where the previous node's ended.
      const auto held = a.partitions_of(i);
      std::set<Index> run;
      for (Index t = 0; t < a.load(i); ++t) run.insert((start + t) % K);
      CHECK(std::set<Index>(held.begin(), held.end()) == run);
      CHECK(static_cast<Index>(run.size()) == a.load(i));
      start += a.load(i);
    }
    for (Index k = 0; k < K; ++k) {
      const auto h = a.holders_of(k);
      CHECK(static_cast<Index>(h.size()) == c);
      CHECK(static_cast<Index>(std::set<Index>(h.begin(), h.end()).size()) == c);
    }
    CHECK(a.min_replication() == c);
  }
}

TEST_CASE("assignment: cyclic_consecutive cuts 0, 1, …, K−1, 0, 1, … into runs of the given loads", "[assignment][cyclic][kat]") {
  const std::vector<Index> loads{3, 1, 4, 2};  // Σ = 10 = 2·5
  const auto a = assignment::cyclic_consecutive(5, loads);
  const std::vector<std::vector<Index>> expected{{0, 1, 2}, {3}, {0, 1, 2, 4}, {3, 4}};  // node 2: 4, 0, 1, 2 sorted
  for (Index i = 0; i < 4; ++i) {
    const auto held = a.partitions_of(i);
    CHECK(std::vector<Index>(held.begin(), held.end()) == expected[static_cast<std::size_t>(i)]);
  }
  // Σ loads not a multiple of K: every partition on ⌊Σ/K⌋ or ⌈Σ/K⌉ nodes.
  const auto b = assignment::cyclic_consecutive(4, std::vector<Index>{3, 3, 3});
  for (Index k = 0; k < 4; ++k) CHECK((b.holders_of(k).size() == 2 || b.holders_of(k).size() == 3));
}

TEST_CASE("assignment: cyclic_consecutive rejects loads below 0 or above K, and K < 1", "[assignment][cyclic][errors]") {
  CHECK_THROWS_MATCHES(assignment::cyclic_consecutive(4, std::vector<Index>{2, 5}), gradcode::invalid_parameters,
                       what_contains("node 1 load 5 outside [0, K = 4]"));
  CHECK_THROWS_MATCHES(assignment::cyclic_consecutive(4, std::vector<Index>{-1, 2}), gradcode::invalid_parameters,
                       what_contains("node 0 load -1"));
  CHECK_THROWS_MATCHES(assignment::cyclic_consecutive(0, std::vector<Index>{1}), gradcode::invalid_parameters,
                       what_contains("K = 0; need K >= 1"));
}

TEST_CASE("proportional loads: known answers, including a cap that cascades", "[assignment][loads][kat]") {
  CHECK(proportional_loads(12, std::vector<double>{1, 2, 3}, 12) == std::vector<Index>{2, 4, 6});
  CHECK(proportional_loads(7, std::vector<double>{1, 1, 1}, 7) == std::vector<Index>{3, 2, 2});
  CHECK(proportional_loads(0, std::vector<double>{1, 5}, 3) == std::vector<Index>{0, 0});
  CHECK(proportional_loads(6, std::vector<double>{1, 5}, 3) == std::vector<Index>{3, 3});
  // Node 0's share 12·10/15 = 8 exceeds the cap 6; the other 6 copies go 1.2 each.
  CHECK(proportional_loads(12, std::vector<double>{10, 1, 1, 1, 1, 1}, 6) == std::vector<Index>{6, 2, 1, 1, 1, 1});
  // Capping node 0 pushes node 1 over the cap too: {6, 6}, then 8 copies over four equal nodes.
  CHECK(proportional_loads(20, std::vector<double>{100, 50, 1, 1, 1, 1}, 6) == std::vector<Index>{6, 6, 2, 2, 2, 2});
}

TEST_CASE("proportional loads: sum to the total, respect the cap, and are within 1 of the water-filled share",
          "[assignment][loads]") {
  const std::uint64_t seed = test_seed(32);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> weight(0.0, 1.5);  // wide spread: caps bind often
  Index capped_cases = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const Index n = std::uniform_int_distribution<Index>(1, 40)(rng);
    const Index cap = std::uniform_int_distribution<Index>(1, 60)(rng);
    const Index total = std::uniform_int_distribution<Index>(0, cap * n)(rng);
    std::vector<double> w(static_cast<std::size_t>(n));
    for (auto& v : w) v = weight(rng);
    INFO("trial " << trial << ": n = " << n << ", cap = " << cap << ", total = " << total);
    const auto loads = proportional_loads(total, w, cap);
    REQUIRE(loads.size() == w.size());
    CHECK(sum(loads) == total);
    const auto share = water_filled_shares(total, w, cap);
    bool any_capped = false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      INFO("node " << i << ": weight " << w[i] << ", load " << loads[i] << ", share " << share[i]);
      CHECK(loads[i] >= 0);
      CHECK(loads[i] <= cap);
      CHECK(std::abs(static_cast<double>(loads[i]) - share[i]) < 1 + 1e-9);
      // The cap binds when the plain proportional share would exceed it.
      any_capped |= static_cast<double>(total) * w[i] / std::accumulate(w.begin(), w.end(), 0.0) > static_cast<double>(cap);
    }
    capped_cases += any_capped;
    // Monotone in the weight: a heavier node never gets fewer copies than a lighter one minus 1.
    for (std::size_t i = 0; i < w.size(); ++i)
      for (std::size_t j = 0; j < w.size(); ++j)
        if (w[i] > w[j]) CHECK(loads[i] + 1 >= loads[j]);
  }
  CHECK(capped_cases > 100);  // the cap path was exercised
}

TEST_CASE("proportional loads: invalid weights or an over-full total throw invalid_parameters", "[assignment][loads][errors]") {
  CHECK_THROWS_MATCHES(proportional_loads(10, std::vector<double>{1, 1, 1}, 3), gradcode::invalid_parameters,
                       what_contains("cannot place 10 partition copies on 3 nodes holding at most 3 each (need total <= 9)"));
  CHECK_THROWS_MATCHES(proportional_loads(-1, std::vector<double>{1}, 3), gradcode::invalid_parameters,
                       what_contains("cannot place -1 partition copies"));
  CHECK_THROWS_MATCHES(proportional_loads(2, std::vector<double>{}, 3), gradcode::invalid_parameters, what_contains("no nodes"));
  CHECK_THROWS_MATCHES(proportional_loads(2, std::vector<double>{1, 0}, 3), gradcode::invalid_parameters,
                       what_contains("node 1 has capacity 0.000000; capacities must be positive and finite"));
  CHECK_THROWS_MATCHES(proportional_loads(2, std::vector<double>{-1, 1}, 3), gradcode::invalid_parameters,
                       what_contains("node 0 has capacity -1"));
  CHECK_THROWS_MATCHES(proportional_loads(2, std::vector<double>{1, std::numeric_limits<double>::infinity()}, 3),
                       gradcode::invalid_parameters, what_contains("node 1 has capacity inf"));
  CHECK_THROWS_MATCHES(proportional_loads(2, std::vector<double>{std::nan(""), 1}, 3), gradcode::invalid_parameters,
                       what_contains("must be positive and finite"));
}

namespace {}  // namespace

// Regression (issue 13): the accessors used vector::at, so a bad id threw std::out_of_range.
TEST_CASE("assignment: partitions_of, holders_of and load with an id out of range throw invalid_input naming it",
          "[assignment][errors]") {
  const assignment a(5, {{4, 0, 2}, {1}, {}, {3, 2, 1, 0}});
  CHECK_THROWS_MATCHES(a.holders_of(-1), gradcode::invalid_input, what_contains("partition -1 is outside [0, K = 5)"));
  CHECK_THROWS_MATCHES(a.holders_of(5), gradcode::invalid_input, what_contains("partition 5 is outside [0, K = 5)"));
  CHECK_THROWS_MATCHES(a.partitions_of(-1), gradcode::invalid_input, what_contains("node -1 is outside [0, 4)"));
  CHECK_THROWS_MATCHES(a.partitions_of(4), gradcode::invalid_input, what_contains("node 4 is outside [0, 4)"));
  CHECK_THROWS_AS(a.load(1LL << 40), gradcode::invalid_input);
  CHECK(thrown_node([&] { a.partitions_of(7); }) == 7);
  CHECK(thrown_node([&] { a.load(-3); }) == -3);
  const assignment empty;
  CHECK_THROWS_AS(empty.partitions_of(0), gradcode::invalid_input);
  CHECK_THROWS_AS(empty.holders_of(0), gradcode::invalid_input);
}

// Regression (issue 13): K = 1e9 allocated a holder list per partition (24 GB) before anything
// was checked — std::bad_alloc after a long attempt; the loads of cyclic_consecutive likewise.
TEST_CASE("assignment: K past limits::max_partitions or loads past limits::max_support_entries throw invalid_parameters at once",
          "[assignment][errors][limits]") {
  using gradcode::limits::max_partitions;
  using gradcode::limits::max_support_entries;
  CHECK_THROWS_MATCHES(assignment(1'000'000'000, {{0}}), gradcode::invalid_parameters,
                       what_contains("K = 1000000000 partitions exceeds limits::max_partitions"));
  CHECK_THROWS_MATCHES(assignment(std::numeric_limits<Index>::max(), {{0}}), gradcode::invalid_parameters,
                       what_contains("limits::max_partitions"));
  CHECK_THROWS_MATCHES(assignment::cyclic_consecutive(1'000'000'000, std::vector<Index>{1, 1}), gradcode::invalid_parameters,
                       what_contains("exceeds limits::max_partitions"));
  // 9 nodes of load K = 2^24 hold 9·2^24 > 2^26 copies: refused before a single one is placed.
  const std::vector<Index> full(9, max_partitions);
  CHECK_THROWS_MATCHES(assignment::cyclic_consecutive(max_partitions, full), gradcode::invalid_parameters,
                       what_contains("limits::max_support_entries"));
  CHECK(max_partitions * 4 <= max_support_entries);  // the limits are consistent: K(s+1) for s <= 3 at K max
}

// Regression (issue 13): capacities of 1e308 pass "positive and finite", but Σw and remaining·w
// overflowed: ∞/∞ shares were cast to Index (UB) and the loads came out equal, not proportional.
TEST_CASE("proportional loads: capacities up to DBL_MAX give the loads of their ratios", "[assignment][loads]") {
  const double big = std::numeric_limits<double>::max();
  CHECK(proportional_loads(6, std::vector<double>{1e308, 5e307, 5e307}, 6) ==
        proportional_loads(6, std::vector<double>{2, 1, 1}, 6));
  CHECK(proportional_loads(12, std::vector<double>{big, big, big / 2}, 12) == std::vector<Index>{5, 5, 2});
  CHECK(proportional_loads(12, std::vector<double>{1e308, 1e308, 1e308}, 4) == std::vector<Index>{4, 4, 4});
  // Tiny and huge together: the tiny node's share is ~0, and nothing is NaN.
  CHECK(proportional_loads(10, std::vector<double>{big, 1e-300}, 10) == std::vector<Index>{10, 0});
  CHECK(proportional_loads(7, std::vector<double>{std::numeric_limits<double>::denorm_min(), big}, 5) ==
        std::vector<Index>{2, 5});
}

// Regression (issue 13): cap·n overflowed Index (signed overflow, UB): with cap = INT64_MAX the
// product wrapped negative and a feasible request was rejected; totals past 2^53 were rounded.
TEST_CASE("proportional loads: a cap near INT64_MAX does not overflow, and totals past 2^53 throw invalid_parameters",
          "[assignment][loads][errors]") {
  const Index huge = std::numeric_limits<Index>::max();
  CHECK(proportional_loads(10, std::vector<double>{1, 1}, huge) == std::vector<Index>{5, 5});
  CHECK(proportional_loads(7, std::vector<double>{3, 4}, huge / 2 + 1) == std::vector<Index>{3, 4});
  CHECK(sum(proportional_loads(Index{1} << 53, std::vector<double>{1, 2, 3}, huge)) == Index{1} << 53);
  CHECK_THROWS_MATCHES(proportional_loads((Index{1} << 53) + 1, std::vector<double>{1, 1}, huge), gradcode::invalid_parameters,
                       what_contains("0 <= total <= 2^53"));
  CHECK_THROWS_MATCHES(proportional_loads(huge, std::vector<double>{1, 1}, huge), gradcode::invalid_parameters,
                       what_contains("2^53"));
  CHECK_THROWS_MATCHES(proportional_loads(0, std::vector<double>{1}, -1), gradcode::invalid_parameters,
                       what_contains("cap -1 is negative"));
}
