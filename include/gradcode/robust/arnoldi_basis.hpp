// SPDX-License-Identifier: MIT
// Orthonormal polynomial bases on arbitrary real or complex point sets ("Vandermonde with
// Arnoldi", Brubeck, Nakatsukasa & Trefethen, SIAM Review 63(2), 2021): the stable stand-in for
// the monomial Vandermonde matrix behind every interpolation, least-squares fit and parity check
// of the polynomial codes (gholami2025 §V-B steps 2 and 4; robust/reed_solomon.hpp).
//
// Algorithm (points x_1..x_f, basis size n ≤ f):
//   q_0 = 1/√f;  for k = 1..n−1:  v = x ∘ q_{k−1};
//                  h_{i,k−1} = q_i^* v, v −= h_{i,k−1} q_i  for i < k  (classical Gram–Schmidt,
//                  run twice: "twice is enough", Giraud et al. 2005);
//                  h_{k,k−1} = ‖v‖;  q_k = v / h_{k,k−1}.
//   Q = [q_0 … q_{n−1}] is f × n with orthonormal columns and Q(j,k) = φ_k(x_j) for polynomials
//   φ_k of degree exactly k; φ_k(y) at other points y follows from the same recurrence with the
//   stored Hessenberg entries h (evaluate()). Nothing here forms x^k, so the conditioning is
//   that of the point set, not of the monomial basis. Points of any finite magnitude: when
//   max|x| is outside [2^-400, 2^400] the recurrence runs on x/σ (σ a power of two, so exact;
//   Q is unchanged, since it spans the same polynomials), keeping ‖v‖² inside the double range.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// Orthonormal basis φ_0..φ_{n−1} (deg φ_k = k) of the polynomials of degree < n, orthonormal
/// on the given points. Immutable after construction.
class arnoldi_basis {
 public:
  using complex = std::complex<double>;

  /// Builds the basis of size `size` (1 ≤ size ≤ points.size()). Throws invalid_parameters on an
  /// out-of-range size, a non-finite point, or repeated points (the Krylov space then collapses:
  /// detected as h_{k,k−1} ≤ 1e-13·max|x/σ|).
  arnoldi_basis(std::span<const complex> points, Index size) : m_points(points.begin(), points.end()), m_size(size) {
    const auto f = static_cast<Index>(points.size());
    if (size < 1 || size > f)
      throw invalid_parameters("Arnoldi basis of size " + std::to_string(size) + " on " + std::to_string(f) +
                               " points; need 1 <= size <= points");
    double largest = 0;  // max over the points of max(|Re x|, |Im x|): finite where |x| may not be
    for (const auto& x : m_points) {
      if (!std::isfinite(x.real()) || !std::isfinite(x.imag())) throw invalid_parameters("Arnoldi basis: a point is not finite");
      largest = std::max({largest, std::abs(x.real()), std::abs(x.imag())});
    }
    if (largest > 0x1p400 || (largest > 0 && largest < 0x1p-400)) {
      int e = 0;
      std::frexp(largest, &e);
      m_scale = std::ldexp(1.0, e);
    }
    std::vector<complex> scaled(m_points);
    for (auto& x : scaled) x /= m_scale;
    double scale = 0;
    for (const auto& x : scaled) scale = std::max(scale, std::abs(x));
    m_q.resize(f, size);
    m_h = matrix<complex>::Zero(size, std::max<Index>(size - 1, 1));
    m_q.col(0).setConstant(complex(1.0 / std::sqrt(static_cast<double>(f)), 0.0));
    Eigen::Map<const vector<complex>> x(scaled.data(), f);
    vector<complex> v(f);
    for (Index k = 1; k < size; ++k) {
      v = x.cwiseProduct(m_q.col(k - 1));
      for (int pass = 0; pass < 2; ++pass) {
        const vector<complex> h = m_q.leftCols(k).adjoint() * v;
        v.noalias() -= m_q.leftCols(k) * h;
        m_h.col(k - 1).head(k) += h;
      }
      const double norm = v.norm();
      if (!(norm > 1e-13 * std::max(scale, 1.0)))
        throw invalid_parameters("Arnoldi basis: the points span only " + std::to_string(k) +
                                 " polynomial degrees (repeated points?)");
      m_h(k, k - 1) = norm;
      m_q.col(k) = v / norm;
    }
  }

  /// n, the number of basis polynomials.
  Index size() const noexcept { return m_size; }
  /// The points the basis is orthonormal on.
  const std::vector<complex>& points() const noexcept { return m_points; }
  /// Q (f × n): Q(j, k) = φ_k(x_j); QᴴQ = I.
  const matrix<complex>& values() const noexcept { return m_q; }
  /// Upper Hessenberg recurrence coefficients h (n × (n−1)) of the points x/σ.
  const matrix<complex>& hessenberg() const noexcept { return m_h; }
  /// σ: the power of two the points are divided by in the recurrence (1 unless max|x| is outside
  /// [2^-400, 2^400]).
  double scale() const noexcept { return m_scale; }

  /// Φ (|y| × count): Φ(i, k) = φ_k(y_i) for the first `count` ≤ n basis polynomials.
  matrix<complex> evaluate(std::span<const complex> y, Index count) const {
    if (count < 1 || count > m_size)
      throw invalid_input("Arnoldi evaluate: " + std::to_string(count) + " of " + std::to_string(m_size) + " basis polynomials");
    const auto r = static_cast<Index>(y.size());
    vector<complex> yy(r);
    for (Index i = 0; i < r; ++i) yy[i] = y[static_cast<std::size_t>(i)] / m_scale;
    matrix<complex> w(r, count);
    w.col(0).setConstant(complex(1.0 / std::sqrt(static_cast<double>(m_q.rows())), 0.0));
    for (Index k = 1; k < count; ++k) {
      vector<complex> v = yy.cwiseProduct(w.col(k - 1));
      v.noalias() -= w.leftCols(k) * m_h.col(k - 1).head(k);
      w.col(k) = v / m_h(k, k - 1);
    }
    return w;
  }

 private:
  std::vector<complex> m_points;
  Index m_size;
  double m_scale = 1;
  matrix<complex> m_q;
  matrix<complex> m_h;
};

/// D (|targets| × f) such that D·(p(x_1), …, p(x_f))ᵀ = (p(β_1), …, p(β_m))ᵀ for every polynomial
/// p of degree < `dimension`: interpolation when f = dimension, the least-squares fit otherwise
/// (D = Φ_β Qᴴ with Q, Φ from the first `dimension` Arnoldi polynomials). `basis` may be larger
/// than `dimension`. Throws invalid_input when basis.size() < dimension.
inline matrix<std::complex<double>> evaluation_matrix(const arnoldi_basis& basis, Index dimension,
                                                      std::span<const std::complex<double>> targets) {
  if (dimension < 1 || dimension > basis.size())
    throw invalid_input("evaluation matrix of dimension " + std::to_string(dimension) + " from a basis of size " +
                        std::to_string(basis.size()));
  return basis.evaluate(targets, dimension) * basis.values().leftCols(dimension).adjoint();
}

}  // namespace gradcode
