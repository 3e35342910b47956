// SPDX-License-Identifier: MIT
// Helpers every test area shares: the accuracy bound of DESIGN.md, the seed of randomized tests,
// an exception-message matcher and subset enumeration.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gradcode/core/types.hpp>

namespace gradcode::test {

/// DESIGN.md "Numerical accuracy": worst relative error allowed for a successful decode.
template <class Scalar>
constexpr double error_bound() {
  return std::is_same_v<Scalar, float> ? 1e-4 : 1e-9;
}

template <class Scalar>
constexpr const char* scalar_name() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

/// Exception matcher: what() contains `part` (Catch 2.13's Contains matches strings, not
/// exceptions; this applies it to what()). Use with CHECK_THROWS_MATCHES so type and message are
/// both checked.
class what_contains : public Catch::MatcherBase<std::exception> {
 public:
  explicit what_contains(std::string part) : m_part(std::move(part)) {}
  bool match(const std::exception& e) const override { return Catch::Matchers::Contains(m_part).match(e.what()); }
  std::string describe() const override { return "what() contains \"" + m_part + "\""; }

 private:
  std::string m_part;
};

/// Seed of the randomized tests: Catch's --rng-seed when given, else `fallback` (fixed).
inline std::uint64_t test_seed(std::uint64_t fallback) {
  const unsigned configured = Catch::rngSeed();
  return configured != 0 ? configured : fallback;
}

/// Calls visit(subset) for every f-subset of [0, n) in lexicographic order.
template <class Visit>
void for_each_subset(Index n, Index f, Visit&& visit) {
  if (f < 0 || f > n) return;
  std::vector<Index> idx(static_cast<std::size_t>(f));
  std::iota(idx.begin(), idx.end(), Index{0});
  for (;;) {
    visit(static_cast<const std::vector<Index>&>(idx));
    Index i = f - 1;
    while (i >= 0 && idx[static_cast<std::size_t>(i)] == n - f + i) --i;
    if (i < 0) return;
    ++idx[static_cast<std::size_t>(i)];
    for (Index j = i + 1; j < f; ++j) idx[static_cast<std::size_t>(j)] = idx[static_cast<std::size_t>(j - 1)] + 1;
  }
}

/// Calls fn(subset) for every subset of [0, n) of size ≤ max_size, depth first (∅, {0}, {0,1}, …).
inline void for_each_subset_up_to(Index n, Index max_size, const std::function<void(const std::vector<Index>&)>& fn) {
  std::vector<Index> s;
  std::function<void(Index)> rec = [&](Index start) {
    fn(s);
    if (static_cast<Index>(s.size()) == max_size) return;
    for (Index i = start; i < n; ++i) {
      s.push_back(i);
      rec(i + 1);
      s.pop_back();
    }
  };
  rec(0);
}

}  // namespace gradcode::test
