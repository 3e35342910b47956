// SPDX-License-Identifier: MIT
// Cyclic-MDS gradient code over the reals (Raviv et al. 2018, reference [15] of tang2024): node i
// sends the coefficients of x^i·g(x) mod (x^n − 1), g of degree s with roots ω^t (ω = e^{2πi/n})
// for the s consecutive t centred on n/2. The rows span the cyclic [n, n−s] MDS code
// {v : v(ω^t) = 0}, which contains 1; any n − s rows are independent (their DFT minor on the
// consecutive non-roots is a Vandermonde matrix), so any n − s responders decode.
//
// Real coefficients need the root set closed under conjugation and free of t = 0, which with s
// consecutive roots happens exactly when n − s is odd; for even n − s the constructor throws
// invalid_parameters and names the alternatives (cyclic_repetition_code on the same support).
// Numerically safe region (tests/codes/cyclic_mds_test.cpp): every pattern of n ≤ 12 decodes to
// ≤ 1e-14 in double and ≤ 3e-6 in float; n ≈ 50 with s ≤ 4 stays ≤ 1e-12 in double.
#pragma once

#include <complex>
#include <numbers>
#include <optional>
#include <vector>

#include "gradcode/codes/linear_code.hpp"
#include "gradcode/detail/cyclic_support.hpp"

namespace gradcode {

struct cyclic_mds_params {
  Index nodes = 0;       ///< n
  Index partitions = 0;  ///< K ≥ n (grouped into n blocks; K = n in Raviv et al.)
  Index tolerance = 0;   ///< s, with n − s odd
};

/// Coefficients c_0..c_s of g(x) = Π_{t∈T} (x − ω^t), T = {(n−s+1)/2, …, (n+s−1)/2}, scaled
/// so that Σ c_j = 1. Throws invalid_parameters unless 1 ≤ n, n² ≤ limits::max_dense_entries
/// (the largest cyclic MDS code, K ≥ n), 0 ≤ s < n and n − s odd.
inline std::vector<double> cyclic_mds_generator(Index n, Index s) {
  if (n < 1 || detail::bounded_product(n, n, limits::max_dense_entries) < 0)
    throw invalid_parameters("cyclic MDS generator: n = " + std::to_string(n) +
                             " must be in [1, 2^13] (n² <= limits::max_dense_entries)");
  if (s < 0 || s >= n || (n - s) % 2 == 0)
    throw invalid_parameters("cyclic MDS generator: s = " + std::to_string(s) + " must be in [0, n = " + std::to_string(n) +
                             ") with n − s odd");
  std::vector<std::complex<double>> c{1.0};
  const Index first = (n - s + 1) / 2;
  for (Index t = first; t < first + s; ++t) {
    const auto root = std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(t) / static_cast<double>(n));
    std::vector<std::complex<double>> next(c.size() + 1, 0.0);
    for (std::size_t j = 0; j < c.size(); ++j) {
      next[j + 1] += c[j];
      next[j] -= root * c[j];
    }
    c = std::move(next);
  }
  std::vector<double> out(c.size());
  double sum = 0;
  for (std::size_t j = 0; j < c.size(); ++j) sum += out[j] = c[j].real();
  for (auto& v : out) v /= sum;
  return out;
}

/// B on the cyclic block support (n nodes, K ≥ n partitions, node i holding blocks i..i+s) from
/// the real cyclic MDS generator; returns an empty optional when n − s is even (no real code).
inline std::optional<code_definition> cyclic_mds_definition(Index n, Index K, Index s) {
  const auto cyc = detail::cyclic_support::checked("cyclic MDS", n, K, s);
  if ((n - s) % 2 == 0) return std::nullopt;
  const auto c = cyclic_mds_generator(n, s);
  return code_definition{cyc.support(), cyc.expand([&](Index, Index t) { return c[static_cast<std::size_t>(t)]; }), s};
}

template <class Scalar>
class cyclic_mds_code : public linear_code<Scalar> {
 public:
  explicit cyclic_mds_code(const cyclic_mds_params& params, const decode_options& options = {})
      : linear_code<Scalar>(define(params), options) {}

 private:
  static code_definition define(const cyclic_mds_params& p) {
    auto def = cyclic_mds_definition(p.nodes, p.partitions, p.tolerance);
    if (!def)
      throw invalid_parameters("cyclic MDS over the reals needs n − s odd (conjugation-closed consecutive roots); n = " +
                               std::to_string(p.nodes) + ", s = " + std::to_string(p.tolerance) +
                               ": use s = " + std::to_string(p.tolerance > 0 ? p.tolerance - 1 : p.tolerance + 1) +
                               ", or cyclic_repetition_code for the same support");
    return std::move(*def);
  }
};

}  // namespace gradcode
