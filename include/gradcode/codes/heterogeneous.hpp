// SPDX-License-Identifier: MIT
// Heterogeneity-aware gradient code (Wang et al. 2019, reference [17] of tang2024): per-node
// loads proportional to given capacities, each partition on s+1 distinct nodes by cyclic
// consecutive placement, B from the null-space construction. Also accepts any user support.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gradcode/codes/linear_code.hpp"
#include "gradcode/codes/null_space.hpp"
#include "gradcode/core/assignment.hpp"

namespace gradcode {

struct heterogeneous_params {
  std::vector<double> capacities;  ///< c_i > 0: relative throughput of node i; n = size
  Index partitions = 0;            ///< K
  Index tolerance = 0;             ///< s, stragglers tolerated
  std::uint64_t seed = 1;          ///< seed of the random null-space construction
};

template <class Scalar>
class heterogeneous_code : public linear_code<Scalar> {
 public:
  /// Loads ℓ_i ∝ c_i with Σℓ_i = K(s+1), ℓ_i ≤ K (largest remainder, water-filled at K).
  /// Throws invalid_parameters when s ≥ n, K < 1, a capacity is not positive and finite (any
  /// size up to DBL_MAX works: only ratios matter), n > limits::max_nodes, K > limits::max_partitions
  /// or K(s+1) > limits::max_support_entries. n × K may exceed limits::max_dense_entries: the cyclic
  /// consecutive support keeps B banded, so decodes run on the sparse solve (linear_code).
  explicit heterogeneous_code(const heterogeneous_params& params, const decode_options& options = {})
      : linear_code<Scalar>(define(params), options) {}

  /// Any support (every partition on ≥ s+1 nodes) with the null-space construction.
  heterogeneous_code(assignment support, Index tolerance, std::uint64_t seed = 1, const decode_options& options = {})
      : linear_code<Scalar>(define(std::move(support), tolerance, seed), options) {}

 private:
  static code_definition define(const heterogeneous_params& p) {
    const auto n = static_cast<Index>(p.capacities.size());
    if (n < 1) throw invalid_parameters("heterogeneous code: no nodes (capacities is empty)");
    if (p.partitions < 1) throw invalid_parameters("heterogeneous code: K = " + std::to_string(p.partitions) + "; need K >= 1");
    if (p.tolerance < 0 || p.tolerance >= n)
      throw invalid_parameters("heterogeneous code: s = " + std::to_string(p.tolerance) +
                               " must be in [0, n = " + std::to_string(n) + "); s <= " + std::to_string(n - 1) + " would fit");
    // Sizes before K(s+1) is formed or anything allocated (K, s < 2^24: K(s+1) cannot overflow).
    detail::check_sparse_code_size("heterogeneous code", n, p.partitions);
    detail::check_support_size("heterogeneous code", p.partitions, p.tolerance + 1, "K(s+1)");
    const auto loads = proportional_loads(p.partitions * (p.tolerance + 1), p.capacities, p.partitions);
    return define(assignment::cyclic_consecutive(p.partitions, loads), p.tolerance, p.seed);
  }
  static code_definition define(assignment support, Index tolerance, std::uint64_t seed) {
    auto B = null_space_encoding(support, tolerance, seed);
    return {std::move(support), std::move(B), tolerance};
  }
};

}  // namespace gradcode
