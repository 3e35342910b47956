// SPDX-License-Identifier: MIT
// Cyclic repetition gradient code (Tandon et al. 2017 §III-B, reference [14] of tang2024): node
// i holds partitions i, …, i+s (mod n) (blocks of partitions when K > n).
//
// B on that support, chosen by `method` (codes/construction.hpp). Default construction::null_space:
// the null-space construction with the spectral (MDS) parity matrix — deterministic and well
// conditioned (null_space.hpp). construction::tandon_random: Tandon et al.'s Algorithm 2
// literally — a Gaussian H ∈ R^{s×n} with H·1 = 0, row b_i with b_i(i) = 1 and
// H_{:, {i+1..i+s}} x = −H_{:, i}; any n − s rows span null(H) ∋ 1. The random H is the paper's,
// but its worst patterns amplify rounding by 1e4–1e6 at n = 12, s = 6
// (tests/codes/cyclic_repetition_test.cpp), which float cannot carry; the decoder then reports
// not_decodable rather than a wrong sum. construction::automatic / cyclic_mds pick or force the
// real cyclic-MDS code on the same support as encoding_for does (n − s odd).
#pragma once

#include <cstdint>
#include <random>

#include <Eigen/Dense>

#include "gradcode/codes/construction.hpp"
#include "gradcode/codes/linear_code.hpp"
#include "gradcode/codes/null_space.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/detail/cyclic_support.hpp"

namespace gradcode {

struct cyclic_repetition_params {
  Index nodes = 0;         ///< n
  Index partitions = 0;    ///< K ≥ n (grouped into n blocks; K = n in Tandon et al.)
  Index tolerance = 0;     ///< s
  std::uint64_t seed = 1;  ///< seed of the random H (construction::tandon_random) or of the null-space fallback
  /// How B is built (header comment): null_space (the spectral construction, default),
  /// tandon_random (Algorithm 2 with a Gaussian H, the paper's), automatic or cyclic_mds.
  construction method = construction::null_space;
};

template <class Scalar>
class cyclic_repetition_code : public linear_code<Scalar> {
 public:
  explicit cyclic_repetition_code(const cyclic_repetition_params& params, const decode_options& options = {})
      : linear_code<Scalar>(define(params), options) {}

 private:
  static code_definition define(const cyclic_repetition_params& p) {
    const auto cyc = checked_support(p);
    switch (p.method) {
      case construction::null_space: {
        auto support = cyc.support();
        auto B = null_space_encoding(support, p.tolerance, p.seed);
        return {std::move(support), std::move(B), p.tolerance};
      }
      case construction::automatic:
      case construction::cyclic_mds: {
        auto support = cyc.support();
        auto B = detail::with_context("cyclic repetition", [&] { return encoding_for(support, p.tolerance, p.method, p.seed); });
        return {std::move(support), std::move(B), p.tolerance};
      }
      case construction::tandon_random:
        return tandon_definition(cyc, p);
    }
    throw invalid_parameters("cyclic repetition: " + construction_name(p.method) +
                             " is not a construction; use construction::null_space, tandon_random, automatic or cyclic_mds");
  }

  /// detail::cyclic_support::checked without its n × K ≤ limits::max_dense_entries: B on the
  /// cyclic support is banded (node i holds blocks i..i+s), so linear_code decodes it with the
  /// sparse solve at any n × K; what bounds the code is its support, K(s+1) partition copies.
  /// Parameters outside the support's shape get checked()'s messages.
  static detail::cyclic_support checked_support(const cyclic_repetition_params& p) {
    if (p.nodes < 1 || p.tolerance < 0 || p.tolerance >= p.nodes || p.partitions < p.nodes)
      return detail::cyclic_support::checked("cyclic repetition", p.nodes, p.partitions, p.tolerance);
    detail::check_sparse_code_size("cyclic repetition", p.nodes, p.partitions);
    detail::check_support_size("cyclic repetition", p.partitions, p.tolerance + 1, "K(s+1)");
    return {p.nodes, p.partitions, p.tolerance};
  }

  /// Tandon et al. 2017 Algorithm 2 with a Gaussian H (header comment).
  static code_definition tandon_definition(const detail::cyclic_support& cyc, const cyclic_repetition_params& p) {
    const Index n = p.nodes, s = p.tolerance;
    if (detail::bounded_product(s, n, limits::max_dense_entries) < 0)  // H is s × n
      throw invalid_parameters("cyclic repetition: construction::tandon_random draws H with s × n = " + std::to_string(s) +
                               " × " + std::to_string(n) +
                               " > limits::max_dense_entries = " + std::to_string(limits::max_dense_entries) + " entries");
    std::mt19937_64 rng(p.seed);
    std::normal_distribution<double> normal;
    matrix<double> rows = matrix<double>::Zero(n, s + 1);  // rows(i, t) = B̃_{i, i+t}
    for (int attempt = 0;; ++attempt) {
      matrix<double> H(s, n);
      for (Index i = 0; i < H.size(); ++i) H.data()[i] = normal(rng);
      if (s > 0) H.col(n - 1) = -H.leftCols(n - 1).rowwise().sum();  // H·1 = 0
      bool ok = true;
      for (Index i = 0; i < n && ok; ++i) {
        rows(i, 0) = 1;
        if (s == 0) continue;
        matrix<double> Hs(s, s);
        for (Index t = 1; t <= s; ++t) Hs.col(t - 1) = H.col((i + t) % n);
        Eigen::FullPivLU<matrix<double>> lu(Hs);
        if (!lu.isInvertible() || lu.rcond() < 1e-10) {
          ok = false;
          break;
        }
        rows.row(i).tail(s) = lu.solve(vector<double>(-H.col(i))).transpose();
      }
      if (ok) break;
      if (attempt == 15) throw invalid_parameters("cyclic repetition: no well-conditioned H found in 16 draws");
    }
    return {cyc.support(), cyc.expand([&](Index i, Index t) { return rows(i, t); }), s};
  }
};

}  // namespace gradcode
