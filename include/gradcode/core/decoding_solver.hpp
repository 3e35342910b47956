// SPDX-License-Identifier: MIT
// Decoding coefficients of a linear gradient code: given the rows B_F of the responders, find a
// with aᵀB_F = 1ᵀ (tang2024 Condition 1; Tandon et al. 2017 eq. (2)) by a complete orthogonal
// decomposition, and check the residual so that a pattern outside the tolerance is reported,
// never decoded into a wrong sum.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include <Eigen/Dense>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// Result of one decoding-coefficient solve.
struct decoding_solution {
  vector<double> coefficients;  ///< a, one entry per row of B_F
  double residual = 0;          ///< ‖B_Fᵀa − target‖_∞ / ‖target‖_∞
  /// Σ_j |a_j|·‖b_j‖₁ / ‖target‖₁ (≥ 1; = 1 when no cancellation happens, e.g. fractional
  /// repetition): how much the decode amplifies the rounding of the messages. The relative
  /// error of the decoded sum is ≈ ε_Scalar × amplification; the tests measured up to 2.3× that
  /// (coefficient casts, long sums), so linear_code accepts a plan only when
  /// 4·ε_Scalar·amplification ≤ decode_options::max_relative_error.
  double amplification = 0;
  bool ok(double residual_tolerance, double max_amplification) const noexcept {
    return residual <= residual_tolerance && amplification <= max_amplification && std::isfinite(amplification);
  }
};

/// Least-squares, minimum-norm solution of B_Fᵀ a = target (target = 1 when omitted) by a
/// rank-revealing complete orthogonal decomposition. Never throws on rank deficiency: the
/// residual tells whether the target is in the row span. `rows` is f × K (dense, any scalar);
/// throws invalid_input when the target's length is not K.
template <class Derived>
decoding_solution solve_decoding_coefficients(const Eigen::MatrixBase<Derived>& rows,
                                              const Eigen::Ref<const vector<double>>& target) {
  if (target.size() != rows.cols())
    throw invalid_input("decoding solve: the target has length " + std::to_string(target.size()) + ", the rows have K = " +
                        std::to_string(rows.cols()) + " columns");
  const matrix<double> bt = rows.template cast<double>().transpose();  // K × f
  decoding_solution out;
  if (bt.cols() == 0) {
    out.coefficients.resize(0);
    out.residual = target.size() ? 1.0 : 0.0;
    out.amplification = 0;
    return out;
  }
  Eigen::CompleteOrthogonalDecomposition<matrix<double>> cod(bt);
  out.coefficients = cod.solve(target);
  const double scale = std::max(target.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  out.residual = (bt * out.coefficients - target).cwiseAbs().maxCoeff() / scale;
  out.amplification = 0;
  for (Index j = 0; j < bt.cols(); ++j) out.amplification += std::abs(out.coefficients[j]) * bt.col(j).cwiseAbs().sum();
  out.amplification /= std::max(target.cwiseAbs().sum(), std::numeric_limits<double>::min());
  if (!std::isfinite(out.residual)) out.residual = std::numeric_limits<double>::infinity();
  return out;
}

template <class Derived>
decoding_solution solve_decoding_coefficients(const Eigen::MatrixBase<Derived>& rows) {
  const vector<double> ones = vector<double>::Ones(rows.cols());
  return solve_decoding_coefficients(rows, ones);
}

}  // namespace gradcode
