// SPDX-License-Identifier: MIT
// The generic construction of an encoding matrix B for ANY support in which every partition
// sits on ≥ s+1 nodes (DESIGN.md; the arbitrary-support construction of Wang et al. 2019 and,
// for the cyclic support, Tandon et al. 2017 Alg. 2 in column form). Reused by the hierarchical
// and two-stage codes.
//
// Algorithm. Draw H ∈ R^{s×n} (Gaussian, seeded). For each partition k with holders S_k, pick
// b_k (column k of B) in null(H) with support ⊆ S_k — null(H_{:,S_k}) has dimension ≥ 1 since
// |S_k| ≥ s+1 — and normalise 1ᵀb_k = 1. All columns lie in null(H) (dimension n − s), on which
// restriction to any n − s coordinates is generically injective; so for every F, |F| = n − s, the
// functional b ↦ 1ᵀb factors through b_F: there is a_F with a_Fᵀ B_F = (1ᵀb_k)_k = 1ᵀ.
//
// Numerically safe region (measured by tests/codes/codes_test.cpp "[random]" cases): n ≤ 100,
// s ≤ 5 decode with relative error ≤ 1e-9 in double; conditioning of Gaussian H degrades as s
// grows, which the decoder's amplification check reports as not_decodable, never a wrong sum.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// B (n × K, row i = node i) on `support` tolerating s = `tolerance` stragglers. Throws
/// invalid_parameters when a partition has fewer than s + 1 holders.
inline sparse_matrix<double> null_space_encoding(const assignment& support, Index tolerance, std::uint64_t seed = 1) {
  support.require_replication(tolerance);
  const Index n = support.nodes(), K = support.partitions(), s = tolerance;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<Eigen::Triplet<double, Index>> triplets;
  // A draw fails only on a measure-zero event (a null vector summing to ~0); retry with new H.
  for (int attempt = 0; attempt < 16; ++attempt) {
    triplets.clear();
    matrix<double> H(s, n);
    for (Index i = 0; i < H.size(); ++i) H.data()[i] = normal(rng);
    bool ok = true;
    for (Index k = 0; k < K && ok; ++k) {
      const auto holders = support.holders_of(k);
      const auto h = static_cast<Index>(holders.size());
      vector<double> b;
      if (s == 0) {
        b = vector<double>::NullaryExpr(h, [&] { return std::abs(normal(rng)) + 0.5; });
      } else {
        matrix<double> Hs(s, h);
        for (Index t = 0; t < h; ++t) Hs.col(t) = H.col(holders[static_cast<std::size_t>(t)]);
        Eigen::JacobiSVD<matrix<double>> svd(Hs, Eigen::ComputeFullV);
        // Null space = the last h − s right singular vectors (H generic: rank s).
        const matrix<double> N = svd.matrixV().rightCols(h - s);
        const vector<double> w = vector<double>::NullaryExpr(h - s, [&] { return normal(rng); });
        b = N * w;
      }
      const double sum = b.sum();
      if (!(std::abs(sum) > 1e-8 * b.cwiseAbs().sum())) {
        ok = false;
        break;
      }
      b /= sum;
      for (Index t = 0; t < h; ++t) triplets.emplace_back(holders[static_cast<std::size_t>(t)], k, b[t]);
    }
    if (ok) {
      sparse_matrix<double> B(n, K);
      B.setFromTriplets(triplets.begin(), triplets.end());
      B.makeCompressed();
      return B;
    }
  }
  throw invalid_parameters("null-space construction failed 16 times (degenerate support?)");
}

}  // namespace gradcode
