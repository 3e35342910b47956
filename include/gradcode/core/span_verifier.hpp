// SPDX-License-Identifier: MIT
// Checks the span condition of a gradient code (tang2024 Conditions 1–2, Tandon et al. 2017
// Condition 1): for every set F of f responders, 1 lies in the row span of B_F. Exhaustive when
// C(n, f) is small, else over a stated number of random subsets.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "gradcode/core/decoding_solver.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

struct span_check_options {
  double max_exhaustive = 5000;      ///< enumerate all f-subsets when C(n, f) ≤ this
  Index random_subsets = 2000;       ///< otherwise check this many uniformly random f-subsets
  std::uint64_t seed = 0x5eed;       ///< seed of the random subsets
  double residual_tolerance = 1e-9;  ///< a subset fails when its residual exceeds this
};

struct span_report {
  bool satisfied = true;    ///< no checked subset failed
  bool exhaustive = false;  ///< all C(n, f) subsets were checked
  Index subsets_checked = 0;
  double worst_residual = 0;                ///< max over checked subsets of ‖B_Fᵀa − 1‖_∞
  double worst_amplification = 0;           ///< max Σ|a_j|‖b_j‖₁ (rounding amplification)
  std::vector<Index> worst_subset;          ///< subset with the worst residual
  std::vector<Index> first_failing_subset;  ///< empty when satisfied
};

namespace detail {
/// C(n, k) as a double (exact up to 2^53, +inf-free for the sizes used here).
inline double binomial(Index n, Index k) {
  if (k < 0 || k > n) return 0;
  k = std::min(k, n - k);
  double c = 1;
  for (Index i = 1; i <= k; ++i) c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::round(c);
}

/// Advance `idx` (a strictly increasing k-subset of [0, n)) to the next one in lexicographic
/// order; false after the last.
inline bool next_combination(std::vector<Index>& idx, Index n) {
  const auto k = static_cast<Index>(idx.size());
  for (Index i = k - 1; i >= 0; --i) {
    if (idx[static_cast<std::size_t>(i)] < n - k + i) {
      ++idx[static_cast<std::size_t>(i)];
      for (Index j = i + 1; j < k; ++j) idx[static_cast<std::size_t>(j)] = idx[static_cast<std::size_t>(j - 1)] + 1;
      return true;
    }
  }
  return false;
}
}  // namespace detail

/// Verifies that every f-subset of the rows of `code` (n × K) has `target` (default 1) in its row
/// span. Throws invalid_parameters when f is outside [1, n], n × K > limits::max_dense_entries
/// (the check works on a dense copy), or an option is NaN/out of range (residual_tolerance finite
/// and ≥ 0, random_subsets ≥ 1: a check of no subset must not report the condition satisfied).
template <class Scalar, int Options, class StorageIndex>
span_report verify_span_condition(const Eigen::SparseMatrix<Scalar, Options, StorageIndex>& code, Index responders,
                                  const span_check_options& options = {}) {
  const Index n = code.rows();
  if (responders < 1 || responders > n)
    throw invalid_parameters("span check: f = " + std::to_string(responders) +
                             " responders outside [1, n = " + std::to_string(n) + "]");
  if (detail::bounded_product(n, code.cols(), limits::max_dense_entries) < 0)
    throw invalid_parameters("span check: n × K = " + std::to_string(n) + " × " + std::to_string(code.cols()) +
                             " exceeds limits::max_dense_entries = " + std::to_string(limits::max_dense_entries));
  if (!(options.residual_tolerance >= 0) || !std::isfinite(options.residual_tolerance))
    throw invalid_parameters("span check: residual_tolerance = " + detail::format_g(options.residual_tolerance) +
                             " must be finite and >= 0 (e.g. 1e-9)");
  if (std::isnan(options.max_exhaustive)) throw invalid_parameters("span check: max_exhaustive is NaN (e.g. 5000)");
  if (options.random_subsets < 1)
    throw invalid_parameters("span check: random_subsets = " + std::to_string(options.random_subsets) +
                             "; need >= 1 (e.g. 2000)");
  const matrix<double> dense = matrix<double>(code.template cast<double>());
  const vector<double> ones = vector<double>::Ones(code.cols());
  span_report report;
  matrix<double> rows(responders, code.cols());
  auto check = [&](const std::vector<Index>& subset) {
    for (Index r = 0; r < responders; ++r) rows.row(r) = dense.row(subset[static_cast<std::size_t>(r)]);
    const auto sol = solve_decoding_coefficients(rows, ones);
    ++report.subsets_checked;
    if (sol.residual > report.worst_residual || report.worst_subset.empty()) {
      report.worst_residual = sol.residual;
      report.worst_subset = subset;
    }
    report.worst_amplification = std::max(report.worst_amplification, sol.amplification);
    if (!(sol.residual <= options.residual_tolerance) && report.satisfied) {
      report.satisfied = false;
      report.first_failing_subset = subset;
    }
  };
  std::vector<Index> subset(static_cast<std::size_t>(responders));
  if (detail::binomial(n, responders) <= options.max_exhaustive) {
    report.exhaustive = true;
    std::iota(subset.begin(), subset.end(), Index{0});
    do check(subset);
    while (detail::next_combination(subset, n));
  } else {
    std::mt19937_64 rng(options.seed);
    std::vector<Index> all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), Index{0});
    for (Index t = 0; t < options.random_subsets; ++t) {
      // Partial Fisher–Yates: the first f entries become a uniform random f-subset.
      for (Index i = 0; i < responders; ++i) {
        std::uniform_int_distribution<Index> pick(i, n - 1);
        std::swap(all[static_cast<std::size_t>(i)], all[static_cast<std::size_t>(pick(rng))]);
      }
      std::copy(all.begin(), all.begin() + responders, subset.begin());
      std::sort(subset.begin(), subset.end());
      check(subset);
    }
  }
  return report;
}

}  // namespace gradcode
