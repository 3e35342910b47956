// SPDX-License-Identifier: MIT
// The cyclic support shared by cyclic repetition and cyclic MDS codes: K partitions grouped into
// n balanced blocks, node i holding blocks i, i+1, …, i+s (mod n); a code on blocks B̃ (n × n)
// expands to B (n × K) by B_ik = B̃_{i, block(k)}.
#pragma once

#include <string>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode::detail {

struct cyclic_support {
  Index nodes, partitions, tolerance;

  static cyclic_support checked(const char* code, Index n, Index K, Index s) {
    if (n < 1) throw invalid_parameters(std::string(code) + ": n = " + std::to_string(n) + "; need n >= 1");
    if (s < 0 || s >= n)
      throw invalid_parameters(std::string(code) + ": s = " + std::to_string(s) + " must be in [0, n = " + std::to_string(n) +
                               "); s <= " + std::to_string(n - 1) + " would fit");
    if (K < n)
      throw invalid_parameters(std::string(code) + ": K = " + std::to_string(K) + " partitions for n = " + std::to_string(n) +
                               " nodes; the cyclic support needs K >= n (K = n is the classic choice)");
    // Before anything is allocated: the code's decoding solves are dense f × K (f ≤ n), and
    // n ≤ K makes n·K the largest size here (the support has K(s+1) ≤ n·K entries).
    if (K > limits::max_partitions || bounded_product(n, K, limits::max_dense_entries) < 0)
      throw invalid_parameters(std::string(code) + ": n × K = " + std::to_string(n) + " × " + std::to_string(K) +
                               " exceeds limits::max_dense_entries = " + std::to_string(limits::max_dense_entries) +
                               " (decoding solves are dense f × K)");
    return {n, K, s};
  }
  /// Partitions [block_begin(b), block_begin(b+1)) form block b.
  Index block_begin(Index b) const noexcept { return b * partitions / nodes; }

  assignment support() const {
    std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(nodes));
    for (Index i = 0; i < nodes; ++i)
      for (Index t = 0; t <= tolerance; ++t) {
        const Index b = (i + t) % nodes;
        for (Index k = block_begin(b); k < block_begin(b + 1); ++k) holdings[static_cast<std::size_t>(i)].push_back(k);
      }
    return assignment(partitions, std::move(holdings));
  }

  /// B from a block code given as `value(i, t)` = B̃_{i, (i+t) mod n}, t = 0..s.
  template <class Value>
  sparse_matrix<double> expand(Value&& value) const {
    std::vector<Eigen::Triplet<double, Index>> triplets;
    for (Index i = 0; i < nodes; ++i)
      for (Index t = 0; t <= tolerance; ++t) {
        const Index b = (i + t) % nodes;
        const double v = value(i, t);
        for (Index k = block_begin(b); k < block_begin(b + 1); ++k) triplets.emplace_back(i, k, v);
      }
    sparse_matrix<double> B(nodes, partitions);
    B.setFromTriplets(triplets.begin(), triplets.end());
    B.makeCompressed();
    return B;
  }
};

}  // namespace gradcode::detail
