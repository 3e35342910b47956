// SPDX-License-Identifier: MIT
// Locating corrupted evaluations of a polynomial over R or C (Reed–Solomon decoding over the
// reals, Berlekamp–Welch in a stable basis): which of f received evaluations p(x_j) of a
// polynomial of degree < K were altered (gholami2025 §II adversaries, §V-B steps 2 and 4).
//
// Adversaries corrupt whole message vectors, so the locator works on a few random projections
// z_p = Yᵀ r_p of the f received vectors (columns of Z, f × P); a corrupted node shows up in
// every projection with probability 1, with any corruption pattern (identical or proportional
// corruptions at several nodes included — the key equation needs no independence between them).
//
// Algorithm (peeling Berlekamp–Welch; Q = Arnoldi basis of the f active points, arnoldi_basis.hpp,
// z_p normalized to ‖z_p‖ = 1; every norm is taken after dividing the rows of the set in use by
// their largest component, so that projections anywhere in the finite double range — 1e300
// from an adversary next to honest 1e-3, or honest 1e-300 — neither overflow nor underflow):
//   1. rows with a non-finite entry are erasures: removed and reported.
//   2. consistent when  max_p ‖Q[:, K:]ᴴ z_p‖ ≤ τ  (the parity residual; τ = tolerance; a
//      residual that is not finite is never consistent).
//   3. else, for e = 1, 2, … up to the budget: find E (deg ≤ e) with  z_p ∘ E ∈ span Q[:, :K+e]
//      for every p (the key equation Q_p(x_j) = z_p(x_j) E(x_j) with the Q_p eliminated): the
//      smallest right singular vector c of  M = [Q[:, K+e:]ᴴ diag(z_p) Q[:, :e+1]]_p (stacked).
//      The e rows where |E(x_j)| = |(Q[:, :e+1] c)_j| is smallest are the candidates; the first e
//      whose candidates leave a consistent set (step 2) wins.
//   4. the first e whose candidates instead cut the raw parity residual ≥ 1000× (a huge corruption
//      masking a subtle one) is removed and the search restarts at 2 (peeling: the subtle one is
//      then located at its own scale); if neither happens, corrupted_result.
// At most ⌊(f − K)/2⌋ rows are removed in total (the unique-decoding radius; fewer when capped).
// Within that radius the result is exact up to τ; beyond it the locator either reports
// corrupted_result (whenever the remaining rows stay inconsistent — always the case for
// corruptions at up to f − K − (removed) nodes that do not mimic another codeword) or, for
// corruptions that mimic another codeword, cannot tell — the limit of any decoder.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/robust/arnoldi_basis.hpp"

namespace gradcode {

/// Outcome of locate_errors().
struct located_errors {
  std::vector<Index> rows{};  ///< rows of Z found corrupted (non-finite and located), ascending
  std::vector<Index> kept{};  ///< the other rows, ascending: a consistent set of ≥ K evaluations
  double residual = 0;        ///< max_p ‖Q[:, K:]ᴴ z_p‖ / max_p ‖z_p‖ over the kept rows (0 when |kept| = K)
};

namespace detail {

inline std::string id_list(std::span<const Index> ids, const std::vector<Index>& rows) {
  std::string s;
  for (std::size_t t = 0; t < rows.size(); ++t) {
    if (t) s += ", ";
    s += std::to_string(ids.empty() ? rows[t] : ids[static_cast<std::size_t>(rows[t])]);
  }
  return s;
}

inline std::vector<long long> id_vector(std::span<const Index> ids, const std::vector<Index>& rows) {
  std::vector<long long> out;
  for (Index r : rows) out.push_back(static_cast<long long>(ids.empty() ? r : ids[static_cast<std::size_t>(r)]));
  return out;
}

/// Largest real or imaginary part of m (finite for finite m, where |z| and ‖·‖² may overflow).
template <class Derived>
double largest_component(const Eigen::MatrixBase<Derived>& m) {
  double top = 0;
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i) top = std::max({top, std::abs(m(i, j).real()), std::abs(m(i, j).imag())});
  return top;
}

/// m ·= 2^e, exactly (a power of two), in steps that never overflow. Multiplication, not
/// division: Eigen divides a complex matrix by a real as by a complex number, through |d|²,
/// which overflows for |d| ≳ 1e154.
template <class M>
void scale_pow2(M&& m, int e) {
  for (; e > 1000; e -= 1000) m *= 0x1p1000;
  for (; e < -1000; e += 1000) m *= 0x1p-1000;
  m *= std::ldexp(1.0, e);
}

/// Exponent e with 2^(e−1) ≤ top < 2^e (0 for top = 0): multiplying by 2^-e brings top into [½, 1).
inline int exponent_of(double top) {
  int e = 0;
  if (top > 0) std::frexp(top, &e);
  return e;
}

}  // namespace detail

/// Finds the corrupted rows of Z (f × P: row j = P projections of the vector received from the
/// node evaluated at points[j]) for a polynomial of degree < `dimension` (K). `ids` (optional,
/// same length as points) only names nodes in messages and exceptions. `tolerance` is τ above
/// (relative parity residual of honest data, in [0, 1); see robust_options). `max_errors` < 0
/// means ⌊(f − K)/2⌋, else the number of located (non-erasure) rows is capped there.
/// Works for projections of any finite magnitude (see the Algorithm note).
/// Throws invalid_input (shapes, P < 1, τ outside [0, 1) or not finite, a point that is not
/// finite or repeated), not_decodable when f < K or the points of a row set are numerically
/// coincident, corrupted_result (suspects = ids found so far) when the rows cannot be made
/// consistent within the budget.
inline located_errors locate_errors(std::span<const std::complex<double>> points, std::span<const Index> ids, Index dimension,
                                    const matrix<std::complex<double>>& z, double tolerance, Index max_errors = -1) {
  using complex = std::complex<double>;
  const auto f = static_cast<Index>(points.size());
  if (z.rows() != f)
    throw invalid_input("locate_errors: " + std::to_string(z.rows()) + " projection rows for " + std::to_string(f) + " points");
  if (!ids.empty() && static_cast<Index>(ids.size()) != f)
    throw invalid_input("locate_errors: " + std::to_string(ids.size()) + " ids for " + std::to_string(f) + " points");
  if (dimension < 1) throw invalid_input("locate_errors: dimension K = " + std::to_string(dimension) + " < 1");
  // P = 0 would make every set "consistent" (no parity to check): nobody could be located.
  if (z.cols() < 1) throw invalid_input("locate_errors: no projections (P = 0); need P >= 1");
  // τ ≥ 1 (or inf/NaN) accepts any set, since the relative parity residual is ≤ 1 by construction.
  if (!(tolerance >= 0 && tolerance < 1))
    throw invalid_input("locate_errors: tolerance τ = " + detail::format_g(tolerance) + "; need 0 <= τ < 1 (e.g. 1e-9)");
  auto node_name = [&](Index row) { return std::to_string(ids.empty() ? row : ids[static_cast<std::size_t>(row)]); };
  auto node_id = [&](Index row) { return static_cast<long long>(ids.empty() ? row : ids[static_cast<std::size_t>(row)]); };
  for (Index j = 0; j < f; ++j) {
    const complex x = points[static_cast<std::size_t>(j)];
    if (!std::isfinite(x.real()) || !std::isfinite(x.imag()))
      throw invalid_input("locate_errors: the evaluation point of node " + node_name(j) + " is not finite", node_id(j));
  }
  {
    std::vector<Index> by_point(static_cast<std::size_t>(f));
    std::iota(by_point.begin(), by_point.end(), Index{0});
    auto key = [&](Index j) {
      const complex x = points[static_cast<std::size_t>(j)];
      return std::make_pair(x.real(), x.imag());
    };
    std::sort(by_point.begin(), by_point.end(), [&](Index a, Index b) { return key(a) < key(b); });
    for (std::size_t t = 1; t < by_point.size(); ++t)
      if (key(by_point[t - 1]) == key(by_point[t]))
        throw invalid_input("locate_errors: nodes " + node_name(by_point[t - 1]) + " and " + node_name(by_point[t]) +
                                " have the same evaluation point",
                            node_id(by_point[t]));
  }
  if (f < dimension)
    throw not_decodable(std::to_string(f) + " evaluations received, " + std::to_string(dimension) + " needed",
                        static_cast<std::size_t>(f), static_cast<std::size_t>(dimension));
  located_errors out;
  std::vector<Index> active;
  for (Index j = 0; j < f; ++j) {
    if (z.row(j).allFinite())
      active.push_back(j);
    else
      out.rows.push_back(j);
  }
  if (static_cast<Index>(active.size()) < dimension)
    throw corrupted_result("the messages of nodes " + detail::id_list(ids, out.rows) + " are not finite; the other " +
                               std::to_string(active.size()) + " are fewer than the " + std::to_string(dimension) + " needed",
                           detail::id_vector(ids, out.rows));
  Index budget = (static_cast<Index>(active.size()) - dimension) / 2;
  if (max_errors >= 0) budget = std::min(budget, max_errors);
  const Index P = z.cols();
  std::vector<Index> located;

  // Basis on a row set; distinct points that are numerically coincident on this subset make the
  // Arnoldi recurrence collapse: not decodable from these rows (not a bad argument).
  auto basis_of = [&](const std::vector<complex>& pts, Index size) {
    try {
      return arnoldi_basis(pts, size);
    } catch (const invalid_parameters& e) {
      throw not_decodable(
          std::to_string(pts.size()) + " evaluation points are numerically coincident (" + detail::untagged(e) + ")", pts.size(),
          static_cast<std::size_t>(dimension));
    }
  };
  // Parity residual of a row set: max_p ‖Q[:, K:]ᴴ z_p‖ and the scale max_p ‖z_p‖ it is compared
  // with (consistent when residual ≤ τ·scale), both in units of 2^e, e the exponent of the
  // largest real or imaginary part among the set's rows.
  struct parity {
    double residual = 0, scale = 0;
    int e = 0;
    bool consistent(double tol) const { return std::isfinite(residual) && std::isfinite(scale) && residual <= tol * scale; }
  };
  // Points and projections of a row set, the projections in units of 2^e.
  auto rows_of = [&](const std::vector<Index>& set, int& e) {
    std::vector<complex> pts(set.size());
    matrix<complex> zs(static_cast<Index>(set.size()), P);
    for (std::size_t t = 0; t < set.size(); ++t) {
      pts[t] = points[static_cast<std::size_t>(set[t])];
      zs.row(static_cast<Index>(t)) = z.row(set[t]);
    }
    e = detail::exponent_of(detail::largest_component(zs));
    detail::scale_pow2(zs, -e);
    return std::make_pair(std::move(pts), std::move(zs));
  };
  auto parity_of = [&](const std::vector<Index>& set) {
    parity r;
    const auto fs = static_cast<Index>(set.size());
    auto [pts, zs] = rows_of(set, r.e);
    for (Index p = 0; p < P; ++p) r.scale = std::max(r.scale, zs.col(p).norm());
    if (fs <= dimension) return r;
    const arnoldi_basis basis = basis_of(pts, fs);
    for (Index p = 0; p < P; ++p)
      r.residual = std::max(r.residual, (basis.values().rightCols(fs - dimension).adjoint() * zs.col(p)).norm());
    return r;
  };
  auto without = [](const std::vector<Index>& set, const std::vector<Index>& drop) {
    std::vector<Index> kept;
    for (Index j : set)
      if (std::find(drop.begin(), drop.end(), j) == drop.end()) kept.push_back(j);
    return kept;
  };

  for (;;) {
    const auto fa = static_cast<Index>(active.size());
    const parity now = parity_of(active);
    if (now.consistent(tolerance)) {
      out.residual = now.scale > 0 ? now.residual / now.scale : 0.0;
      break;
    }
    // Key equation on the normalized projections of the active rows.
    int ez = 0;
    auto [pts, za] = rows_of(active, ez);
    for (Index p = 0; p < P; ++p) {  // each column to norm 1: first to its own unit, then by ‖·‖ ∈ [½, √(2f)]
      detail::scale_pow2(za.col(p), -detail::exponent_of(detail::largest_component(za.col(p))));
      const double norm = za.col(p).norm();
      if (norm > 0) za.col(p) *= 1.0 / norm;
    }
    const arnoldi_basis basis = basis_of(pts, fa);
    const auto& q = basis.values();
    const Index room = std::min<Index>(budget - static_cast<Index>(located.size()), (fa - dimension) / 2);
    std::vector<Index> found, peel;
    for (Index e = 1; e <= room && found.empty() && peel.empty(); ++e) {
      const Index rows_per = fa - dimension - e;
      matrix<complex> m(P * rows_per, e + 1);
      for (Index p = 0; p < P; ++p)
        m.middleRows(p * rows_per, rows_per) = q.rightCols(rows_per).adjoint() * (za.col(p).asDiagonal() * q.leftCols(e + 1));
      Eigen::JacobiSVD<matrix<complex>> svd(m, Eigen::ComputeFullV);
      const vector<complex> locator = q.leftCols(e + 1) * svd.matrixV().col(e);
      std::vector<Index> order(static_cast<std::size_t>(fa));
      std::iota(order.begin(), order.end(), Index{0});
      std::partial_sort(order.begin(), order.begin() + e, order.end(),
                        [&](Index a, Index b) { return std::abs(locator[a]) < std::abs(locator[b]); });
      std::vector<Index> cand;
      for (Index t = 0; t < e; ++t) cand.push_back(active[static_cast<std::size_t>(order[static_cast<std::size_t>(t)])]);
      const parity after = parity_of(without(active, cand));
      // raw residuals compared in now's unit (after.e ≤ now.e: a subset of the rows)
      const double after_residual = after.residual * std::ldexp(1.0, std::max(after.e - now.e, -2000));
      if (after.consistent(tolerance))
        found = cand;  // the fewest corrupted rows that explain everything
      else if (std::isfinite(now.residual) && after_residual <= 1e-3 * now.residual)
        peel = cand;  // explains the dominant corruption, a smaller one remains (mixed scales): peel first
    }
    if (found.empty()) found = peel;
    if (found.empty()) {
      std::vector<Index> suspects = out.rows;
      suspects.insert(suspects.end(), located.begin(), located.end());
      std::sort(suspects.begin(), suspects.end());
      throw corrupted_result(std::to_string(fa) + " evaluations (after excluding " + std::to_string(suspects.size()) +
                                 ") are inconsistent with a polynomial of degree < " + std::to_string(dimension) +
                                 " (parity residual " + detail::format_g(now.residual / now.scale) + " > " +
                                 detail::format_g(tolerance) + ") and no set of at most " + std::to_string(room) +
                                 " more corrupted nodes explains them: more corrupted nodes than the " + std::to_string(budget) +
                                 " correctable" +
                                 (suspects.empty() ? "" : "; already excluded: " + detail::id_list(ids, suspects)),
                             detail::id_vector(ids, suspects));
    }
    located.insert(located.end(), found.begin(), found.end());
    active = without(active, found);
  }
  out.rows.insert(out.rows.end(), located.begin(), located.end());
  std::sort(out.rows.begin(), out.rows.end());
  out.kept = std::move(active);
  return out;
}

}  // namespace gradcode
