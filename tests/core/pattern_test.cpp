// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <gradcode/core/pattern.hpp>

#include "test_support.hpp"

using gradcode::Index;
using gradcode::pattern;

TEST_CASE("pattern: from_ids keeps the set, counts it, and keys equal sets equally", "[pattern]") {
  const std::vector<Index> a{5, 1, 70}, b{70, 5, 1};
  const auto p = pattern::from_ids(100, a), q = pattern::from_ids(100, b);
  CHECK(p == q);
  CHECK(p.hash() == q.hash());
  CHECK(p.count() == 3);
  CHECK(p.ids() == std::vector<Index>{1, 5, 70});
  CHECK(p.contains(70));
  CHECK_FALSE(p.contains(2));
}

#include <climits>
#include <limits>
#include <unordered_set>

namespace {
using gradcode::test::thrown_node;
using gradcode::test::what_contains;

/// Exception matcher: what() contains `part` (Catch 2.13's Contains matches strings only).
}  // namespace

TEST_CASE("pattern: all_except is the complement of the stragglers", "[pattern]") {
  const std::vector<Index> stragglers{3, 0, 9};
  const auto p = pattern::all_except(10, stragglers);
  CHECK(p.count() == 7);
  CHECK(p.ids() == std::vector<Index>{1, 2, 4, 5, 6, 7, 8});
  CHECK(pattern::all_except(4, std::vector<Index>{}).count() == 4);
  CHECK(pattern::all_except(4, std::vector<Index>{0, 1, 2, 3}).count() == 0);
}

TEST_CASE("pattern: a repeated or out-of-range id throws invalid_input naming the node", "[pattern][errors]") {
  CHECK_THROWS_MATCHES(pattern::from_ids(8, std::vector<Index>{1, 4, 1}), gradcode::invalid_input,
                       what_contains("node 1 appears twice among the responders"));
  CHECK(thrown_node([] { pattern::from_ids(8, std::vector<Index>{1, 4, 4}); }) == 4);
  CHECK_THROWS_MATCHES(pattern::from_ids(8, std::vector<Index>{0, 8}), gradcode::invalid_input,
                       what_contains("node id 8 is outside [0, 8)"));
  CHECK(thrown_node([] { pattern::from_ids(8, std::vector<Index>{0, 8}); }) == 8);
  CHECK(thrown_node([] { pattern::from_ids(8, std::vector<Index>{-1}); }) == -1);
  CHECK(thrown_node([] { pattern::all_except(5, std::vector<Index>{2, 2}); }) == 2);
  CHECK(thrown_node([] { pattern::all_except(5, std::vector<Index>{5}); }) == 5);
  pattern p(3);
  CHECK(thrown_node([&] { p.insert(3); }) == 3);
  CHECK(thrown_node([&] { p.erase(-4); }) == -4);
  CHECK_THROWS_WITH(pattern::from_ids(2, std::vector<Index>{2}), Catch::Matchers::StartsWith("gradcode::invalid_input: "));
}

TEST_CASE("pattern: a negative node count throws invalid_parameters", "[pattern][errors]") {
  CHECK_THROWS_MATCHES(pattern(-1), gradcode::invalid_parameters, what_contains("node count -1 is negative"));
}

TEST_CASE("pattern: insert and erase toggle membership, and contains is false for ids outside the node range", "[pattern]") {
  pattern p(130);
  CHECK(p.count() == 0);
  CHECK(p.ids().empty());
  for (Index i : {0, 63, 64, 65, 127, 128, 129}) p.insert(i);
  CHECK(p.count() == 7);
  CHECK(p.ids() == std::vector<Index>{0, 63, 64, 65, 127, 128, 129});
  p.insert(64);  // idempotent
  CHECK(p.count() == 7);
  p.erase(64);
  p.erase(64);
  CHECK_FALSE(p.contains(64));
  CHECK(p.count() == 6);
  CHECK_FALSE(p.contains(-1));
  CHECK_FALSE(p.contains(130));
  CHECK_FALSE(p.contains(1000));
  STATIC_REQUIRE(noexcept(p.contains(0)));
  STATIC_REQUIRE(noexcept(p.count()));
}

TEST_CASE("pattern: equal sets over the same n are equal keys, and the node count is part of the key", "[pattern]") {
  const std::vector<Index> ids{2, 70, 140};
  const auto a = pattern::from_ids(200, ids);
  auto b = pattern(200);
  for (Index i : {140, 2, 70}) b.insert(i);
  CHECK(a == b);
  CHECK(std::hash<pattern>{}(a) == std::hash<pattern>{}(b));
  const auto wider = pattern::from_ids(201, ids);
  CHECK_FALSE(a == wider);
  CHECK_FALSE(pattern(3) == pattern(4));
  // Every subset of 10 nodes is a distinct key.
  std::unordered_set<pattern> keys;
  for (unsigned mask = 0; mask < 1024; ++mask) {
    pattern p(10);
    for (Index i = 0; i < 10; ++i)
      if ((mask >> i) & 1u) p.insert(i);
    keys.insert(p);
  }
  CHECK(keys.size() == 1024);
  CHECK(keys.count(pattern::from_ids(10, std::vector<Index>{1, 3})) == 1);
}

TEST_CASE("pattern: an empty pattern over zero nodes is valid", "[pattern]") {
  const pattern p;
  CHECK(p.nodes() == 0);
  CHECK(p.count() == 0);
  CHECK(p == pattern(0));
}

// Regression (issue 13): pattern(-200) computed the word count (−137/64 → a huge size_t) before
// the sign check and threw std::length_error; a huge count threw std::bad_alloc.
TEST_CASE("pattern: node counts below 0 or above limits::max_nodes throw invalid_parameters before allocating",
          "[pattern][errors]") {
  CHECK_THROWS_MATCHES(pattern(-200), gradcode::invalid_parameters, what_contains("node count -200 is negative"));
  CHECK_THROWS_MATCHES(pattern(std::numeric_limits<Index>::min()), gradcode::invalid_parameters, what_contains("is negative"));
  CHECK_THROWS_MATCHES(pattern(Index{1} << 62), gradcode::invalid_parameters, what_contains("exceeds limits::max_nodes"));
  CHECK_THROWS_MATCHES(pattern(gradcode::limits::max_nodes + 1), gradcode::invalid_parameters,
                       what_contains("limits::max_nodes"));
  CHECK_THROWS_AS(pattern::from_ids(-5, std::vector<Index>{}), gradcode::invalid_parameters);
  const pattern largest(gradcode::limits::max_nodes);  // the limit itself is accepted (2 MiB of bits)
  CHECK(largest.nodes() == gradcode::limits::max_nodes);
  CHECK(largest.count() == 0);
}
