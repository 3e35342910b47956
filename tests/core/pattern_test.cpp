// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <gradcode/core/pattern.hpp>

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
