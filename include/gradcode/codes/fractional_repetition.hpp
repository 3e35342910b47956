// SPDX-License-Identifier: MIT
// Fractional repetition gradient code (Tandon et al. 2017 §III-A, reference [14] of tang2024):
// n nodes in n/(s+1) groups of s+1; the K partitions are split into one block per group; every
// node of a group sends the plain sum of its block, so any one responder per group suffices.
#pragma once

#include <string>
#include <vector>

#include "gradcode/codes/linear_code.hpp"

namespace gradcode {

struct fractional_repetition_params {
  Index nodes = 0;       ///< n, divisible by s + 1
  Index partitions = 0;  ///< K ≥ n/(s+1) (Tandon et al. use K = n)
  Index tolerance = 0;   ///< s
};

template <class Scalar>
class fractional_repetition_code : public linear_code<Scalar> {
 public:
  explicit fractional_repetition_code(const fractional_repetition_params& params, const decode_options& options = {})
      : linear_code<Scalar>(define(params), options), m_groups(params.nodes / (params.tolerance + 1)) {}

  /// n/(s+1) groups; node i belongs to group i/(s+1).
  Index groups() const noexcept { return m_groups; }

 private:
  static code_definition define(const fractional_repetition_params& p) {
    const Index n = p.nodes, K = p.partitions, s = p.tolerance;
    if (n < 1) throw invalid_parameters("fractional repetition: n = " + std::to_string(n) + "; need n >= 1");
    if (s < 0 || s >= n)
      throw invalid_parameters("fractional repetition: s = " + std::to_string(s) + " must be in [0, n = " + std::to_string(n) + ")");
    detail::check_code_size("fractional repetition", n, K);  // before the divisor list and the support
    if (n % (s + 1) != 0) {
      std::string fits;
      for (Index t = 0; t < n; ++t)
        if (n % (t + 1) == 0) fits += (fits.empty() ? "" : ", ") + std::to_string(t);
      throw invalid_parameters("fractional repetition needs (s + 1) | n; n = " + std::to_string(n) + ", s = " + std::to_string(s) +
                               " (s in {" + fits + "} would fit)");
    }
    const Index groups = n / (s + 1);
    if (K < groups)
      throw invalid_parameters("fractional repetition: K = " + std::to_string(K) + " partitions for " + std::to_string(groups) +
                               " groups; need K >= n/(s+1) = " + std::to_string(groups));
    std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
    std::vector<Eigen::Triplet<double, Index>> triplets;
    for (Index g = 0; g < groups; ++g) {
      // Balanced blocks: group g gets partitions [g·K/G, (g+1)·K/G).
      const Index lo = g * K / groups, hi = (g + 1) * K / groups;
      for (Index i = g * (s + 1); i < (g + 1) * (s + 1); ++i)
        for (Index k = lo; k < hi; ++k) {
          holdings[static_cast<std::size_t>(i)].push_back(k);
          triplets.emplace_back(i, k, 1.0);
        }
    }
    sparse_matrix<double> B(n, K);
    B.setFromTriplets(triplets.begin(), triplets.end());
    return {assignment(K, std::move(holdings)), std::move(B), s};
  }

  Index m_groups;
};

}  // namespace gradcode
