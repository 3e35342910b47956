// SPDX-License-Identifier: MIT
// Helpers every test area shares: the accuracy bound of DESIGN.md, the seed of randomized tests,
// an exception-message matcher, subset enumeration, Gaussian partials (independent or correlated) and the error of a sum.
#pragma once

#include <catch2/catch.hpp>

#include <climits>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gradcode/core/errors.hpp>
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

/// d × K partial gradients with standard normal entries.
template <class Scalar>
matrix<Scalar> random_partials(Index d, Index k, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  matrix<Scalar> g(d, k);
  for (Index i = 0; i < g.size(); ++i) g.data()[i] = static_cast<Scalar>(normal(rng));
  return g;
}

/// w × m per-sample gradients: a common direction plus 0.7 × noise per sample, so the mean gradient
/// is large against the noise and the cross terms of li-skoglund's eq. (40) are positive (the
/// quantize tests: gc_dl against Lemma 2, the theory calculators' bounds not loose by orders of magnitude).
inline matrix<double> correlated_gradients(Index w, Index m, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  vector<double> common(w);
  for (Index k = 0; k < w; ++k) common[k] = normal(rng);
  matrix<double> G(w, m);
  for (Index i = 0; i < m; ++i)
    for (Index k = 0; k < w; ++k) G(k, i) = common[k] + 0.7 * normal(rng);
  return G;
}

/// ‖got − Σ_k g_k‖ / ‖Σ_k g_k‖, the sum taken in double from the very Scalar partials encoded.
template <class Scalar>
double relative_error(const vector<Scalar>& got, const matrix<Scalar>& partials) {
  const vector<double> exact = partials.template cast<double>().rowwise().sum();
  return (got.template cast<double>() - exact).norm() / exact.norm();
}

/// The node() of the invalid_input f throws (LLONG_MIN when it throws none).
template <class F>
long long thrown_node(F&& f) {
  try {
    f();
  } catch (const gradcode::invalid_input& e) {
    return e.node();
  }
  return LLONG_MIN;
}

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
