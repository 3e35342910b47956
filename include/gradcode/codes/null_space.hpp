// SPDX-License-Identifier: MIT
// The generic construction of an encoding matrix B for ANY support in which every partition
// sits on ≥ s+1 nodes (DESIGN.md; the arbitrary-support construction of Wang et al. 2019).
// Reused by the hierarchical and two-stage codes.
//
// Algorithm. Take H ∈ R^{s×n} whose null space is an MDS code (detail::spectral_parity; a
// seeded Gaussian H if that degenerates on the support). For each partition k with holders S_k, pick b_k
// (column k of B) in null(H) with support ⊆ S_k — null(H_{:,S_k}) has dimension ≥ 1 since
// |S_k| ≥ s+1 — and normalise 1ᵀb_k = 1 (the same functional for every column). All columns lie
// in null(H) (dimension n − s), on which restriction to any n − s coordinates is injective; so
// for every F, |F| = n − s, the functional b ↦ 1ᵀb factors through b_F: there is a_F with
// a_Fᵀ B_F = (1ᵀb_k)_k = 1ᵀ.
//
// Numerically safe region (tests/codes/null_space_test.cpp, heterogeneous_test.cpp): n ≤ 100,
// s ≤ 6 keep the worst decode amplification ≤ ~3e2, so double decodes to ≤ 1e-12 and float to
// ≤ 1e-4; beyond, the decoder's amplification check reports not_decodable, never a wrong sum.
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
#include "gradcode/detail/spectral_parity.hpp"

namespace gradcode {

/// B (n × K, row i = node i) on `support` tolerating s = `tolerance` stragglers. Throws
/// invalid_parameters when a partition has fewer than s + 1 holders, or (before anything dense
/// is allocated) when s × n (H) or h² for a partition's h holders (its null-space SVD) exceeds
/// limits::max_dense_entries. Time and memory are linear in the support (plus s × n for H), so
/// n × K is not limited here; a code built on B checks its decoding solves (linear_code).
inline sparse_matrix<double> null_space_encoding(const assignment& support, Index tolerance, std::uint64_t seed = 1) {
  support.require_replication(tolerance);
  const Index n = support.nodes(), K = support.partitions(), s = tolerance;
  if (detail::bounded_product(s, n, limits::max_dense_entries) < 0)
    throw invalid_parameters(
        "null-space construction: n = " + std::to_string(n) + ", s = " + std::to_string(s) +
        ": H is s × n, and s × n must be <= limits::max_dense_entries = " + std::to_string(limits::max_dense_entries));
  for (Index k = 0; k < K; ++k) {
    const auto h = static_cast<Index>(support.holders_of(k).size());
    if (detail::bounded_product(h, h, limits::max_dense_entries) < 0)
      throw invalid_parameters("null-space construction: partition " + std::to_string(k) + " has " + std::to_string(h) +
                               " holders; its SVD needs h² <= limits::max_dense_entries (h <= 8192)");
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<Eigen::Triplet<double, Index>> triplets;
  // Attempt 0 uses the spectral H; a column whose null vector sums to ~0 (possible for special
  // supports, e.g. s = 1 with both holders at even positions) makes us fall back to seeded
  // Gaussian draws (generic, but worse conditioned: the decoder's check then refuses patterns
  // it cannot decode accurately).
  for (int attempt = 0; attempt < 16; ++attempt) {
    triplets.clear();
    matrix<double> H = attempt == 0 ? detail::spectral_parity(n, s) : matrix<double>(s, n);
    if (attempt > 0)
      for (Index i = 0; i < H.size(); ++i) H.data()[i] = normal(rng);
    bool ok = true;
    for (Index k = 0; k < K && ok; ++k) {
      const auto holders = support.holders_of(k);
      const auto h = static_cast<Index>(holders.size());
      vector<double> b;
      if (s == 0) {
        b = vector<double>::Ones(h);  // no parity: every holder sends the plain partition
      } else {
        matrix<double> Hs(s, h);
        for (Index t = 0; t < h; ++t) Hs.col(t) = H.col(holders[static_cast<std::size_t>(t)]);
        Eigen::JacobiSVD<matrix<double>> svd(Hs, Eigen::ComputeFullV);
        // Null space = the last h − s right singular vectors (rank s: any s columns independent).
        const matrix<double> N = svd.matrixV().rightCols(h - s);
        b = h - s == 1 ? vector<double>(N.col(0))
                       : vector<double>(N * vector<double>::NullaryExpr(h - s, [&] { return normal(rng); }));
      }
      const double sum = b.sum();
      if (!(std::abs(sum) > 1e-6 * b.cwiseAbs().sum())) {
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
