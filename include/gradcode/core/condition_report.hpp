// SPDX-License-Identifier: MIT
// How well a linear code decodes in floating point (issue 16): enumerate or sample straggler
// patterns, solve each decode (core/decoding_solver.hpp) and report the distribution of its
// rounding amplification and the share of patterns float and double would refuse. Measures the
// codes of codes/ and each layer of HGC (tang2024 Conditions 1–2) at any n.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/decoding_solver.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/detail/splitmix.hpp"

namespace gradcode {

/// Which patterns condition_of examines; all defaulted.
struct condition_options {
  /// Stragglers per pattern; < 0 selects the code's tolerance s.
  Index stragglers = -1;
  /// Every pattern is examined when there are at most this many (C(n, stragglers)) ...
  std::uint64_t exhaustive_limit = 2000;
  /// ... else this many patterns drawn uniformly (seeded, reproducible).
  Index samples = 200;
  std::uint64_t seed = 1;
  /// A pattern spans when ‖B_Fᵀa − 1‖_∞ ≤ this (the codes' decode_options default).
  double residual_tolerance = 1e-9;
};

/// The result: amplification A = Σ_j |a_j|·‖b_j‖₁ / K of each decode (decoding_solution), whose
/// relative error is ≈ ε·A; a code accepts a pattern when 4·ε·A ≤ its max_relative_error.
struct condition_report {
  Index nodes = 0;
  Index stragglers = 0;
  Index patterns = 0;       ///< examined
  bool exhaustive = false;  ///< every pattern of `stragglers` stragglers was examined
  /// Patterns whose responders do not span 1 at all (a construction defect when stragglers ≤ s).
  Index not_spanning = 0;
  /// A over the spanning patterns: the largest and the 50/90/99 % quantiles (0 when none span).
  double worst = 0, median = 0, p90 = 0, p99 = 0;
  /// Patterns float / double would refuse at the default budgets (1e-4 and 1e-9 relative error,
  /// i.e. A above ~210 and ~1.1e6), not_spanning included.
  Index refused_float = 0, refused_double = 0;

  double share_refused_float() const noexcept { return patterns ? double(refused_float) / double(patterns) : 0; }
  double share_refused_double() const noexcept { return patterns ? double(refused_double) / double(patterns) : 0; }
};

namespace detail {

/// A accepted by Scalar at its default budget (decode_options::max_relative_error ≤ 0).
template <class Scalar>
constexpr double default_max_amplification() noexcept {
  return (sizeof(Scalar) >= sizeof(double) ? 1e-9 : 1e-4) / (4 * static_cast<double>(std::numeric_limits<Scalar>::epsilon()));
}

/// C(n, k), saturated at `cap` + 1 (so the caller can compare against a limit without overflow).
inline std::uint64_t binomial_capped(Index n, Index k, std::uint64_t cap) noexcept {
  k = std::min(k, n - k);
  long double c = 1;
  for (Index i = 1; i <= k; ++i) {
    c = c * static_cast<long double>(n - k + i) / static_cast<long double>(i);
    if (c > static_cast<long double>(cap)) return cap + 1;
  }
  return static_cast<std::uint64_t>(c + 0.5L);
}

/// Calls visit(stragglers) for every k-subset of [0, n) (ascending) or for `samples` uniform ones.
template <class Visit>
bool for_straggler_patterns(Index n, Index k, const condition_options& o, Visit&& visit) {
  const bool all = binomial_capped(n, k, o.exhaustive_limit) <= o.exhaustive_limit;
  std::vector<Index> s(static_cast<std::size_t>(k));
  if (all) {
    std::iota(s.begin(), s.end(), Index{0});
    while (true) {
      visit(std::as_const(s));
      Index i = k - 1;
      while (i >= 0 && s[static_cast<std::size_t>(i)] == n - k + i) --i;
      if (i < 0) break;
      ++s[static_cast<std::size_t>(i)];
      for (Index j = i + 1; j < k; ++j) s[static_cast<std::size_t>(j)] = s[static_cast<std::size_t>(j - 1)] + 1;
    }
    return true;
  }
  std::uint64_t state = o.seed;
  std::vector<Index> perm(static_cast<std::size_t>(n));
  for (Index t = 0; t < o.samples; ++t) {
    std::iota(perm.begin(), perm.end(), Index{0});
    for (Index i = 0; i < k; ++i) {  // partial Fisher–Yates: the first k of a uniform permutation
      const auto j = i + static_cast<Index>(splitmix64(state) % static_cast<std::uint64_t>(n - i));
      std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
    }
    std::copy(perm.begin(), perm.begin() + k, s.begin());
    std::sort(s.begin(), s.end());
    visit(std::as_const(s));
  }
  return false;
}

/// The q-quantile (nearest rank) of ascending `v`; 0 when empty.
inline double quantile_sorted(const std::vector<double>& v, double q) noexcept {
  if (v.empty()) return 0;
  const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, r == 0 ? 0 : r - 1)];
}

}  // namespace detail

/// Condition of the encoding matrix `encoding` (n × K, a row per node) when `stragglers` of its
/// rows are missing. Throws invalid_input when stragglers ∉ [0, n) or options are out of range.
inline condition_report condition_of_encoding(const sparse_matrix<double>& encoding, const condition_options& options = {}) {
  const Index n = encoding.rows(), K = encoding.cols();
  const Index k = options.stragglers;
  if (k < 0 || k >= n)
    throw invalid_input("condition_of: " + std::to_string(k) + " stragglers of n = " + std::to_string(n) +
                        " nodes; need 0 <= stragglers < n");
  if (options.samples < 1) throw invalid_input("condition_of: samples = " + std::to_string(options.samples) + " must be >= 1");
  if (!(options.residual_tolerance >= 0 && options.residual_tolerance < 1))
    throw invalid_input("condition_of: residual_tolerance must be in [0, 1)");
  condition_report r;
  r.nodes = n;
  r.stragglers = k;
  std::vector<double> amps;
  std::vector<char> missing(static_cast<std::size_t>(n));
  matrix<double> rows(n - k, K);
  r.exhaustive = detail::for_straggler_patterns(n, k, options, [&](const std::vector<Index>& gone) {
    std::fill(missing.begin(), missing.end(), char{0});
    for (Index g : gone) missing[static_cast<std::size_t>(g)] = 1;
    rows.setZero();
    Index row = 0;
    for (Index i = 0; i < n; ++i) {
      if (missing[static_cast<std::size_t>(i)]) continue;
      for (sparse_matrix<double>::InnerIterator it(encoding, i); it; ++it) rows(row, it.col()) = it.value();
      ++row;
    }
    const auto sol = solve_decoding_coefficients(rows);
    ++r.patterns;
    if (!(sol.residual <= options.residual_tolerance) || !std::isfinite(sol.amplification)) {
      ++r.not_spanning;
      return;
    }
    amps.push_back(sol.amplification);
  });
  std::sort(amps.begin(), amps.end());
  if (!amps.empty()) {
    r.worst = amps.back();
    r.median = detail::quantile_sorted(amps, 0.5);
    r.p90 = detail::quantile_sorted(amps, 0.9);
    r.p99 = detail::quantile_sorted(amps, 0.99);
  }
  const auto above = [&](double limit) {
    return static_cast<Index>(amps.end() - std::upper_bound(amps.begin(), amps.end(), limit));
  };
  r.refused_float = r.not_spanning + above(detail::default_max_amplification<float>());
  r.refused_double = r.not_spanning + above(detail::default_max_amplification<double>());
  return r;
}

/// condition_of_encoding of a single-layer code (anything with encoding_matrix() and tolerance():
/// the codes of codes/, stage_two_code's B2), at its tolerance unless options.stragglers ≥ 0.
template <class Code>
requires requires(const Code& c) {
  { c.encoding_matrix() } -> std::convertible_to<const sparse_matrix<double>&>;
  { c.tolerance() } -> std::convertible_to<Index>;
}
condition_report condition_of(const Code& code, condition_options options = {}) {
  if (options.stragglers < 0) options.stragglers = code.tolerance();
  return condition_of_encoding(code.encoding_matrix(), options);
}

/// Both layers of a workers → edges → master code (hgc_code): the master's decode over B at s_e
/// missing edges, each edge's over D̄^i at s_w missing workers, and their product, the compounded
/// figure master_decode checks (the worst master pattern behind the worst edge).
struct layered_condition {
  condition_report master;
  std::vector<condition_report> edges;
  double compounded_worst = 0;  ///< master.worst × max_i edges[i].worst
  bool float_accepts_worst = false, double_accepts_worst = false;
};

/// condition_of for each layer of `code`; options.stragglers is ignored (each layer at its own
/// tolerance), the other options apply to every layer.
template <class Hierarchical>
requires requires(const Hierarchical& c, Index i) {
  { c.edges() } -> std::convertible_to<Index>;
  c.edge_layer();
  c.worker_layer(i);
}
layered_condition condition_of_layers(const Hierarchical& code, condition_options options = {}) {
  options.stragglers = -1;
  layered_condition r;
  r.master = condition_of(code.edge_layer(), options);
  double edge_worst = 1;
  for (Index i = 0; i < code.edges(); ++i) {
    r.edges.push_back(condition_of(code.worker_layer(i), options));
    edge_worst = std::max(edge_worst, r.edges.back().worst);
  }
  r.compounded_worst = r.master.worst * edge_worst;
  r.float_accepts_worst = r.compounded_worst <= detail::default_max_amplification<float>();
  r.double_accepts_worst = r.compounded_worst <= detail::default_max_amplification<double>();
  return r;
}

}  // namespace gradcode
