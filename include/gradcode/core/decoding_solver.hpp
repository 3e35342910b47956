// SPDX-License-Identifier: MIT
// Decoding coefficients of a linear gradient code: given the rows B_F of the responders, find a
// with aᵀB_F = 1ᵀ (tang2024 Condition 1; Tandon et al. 2017 eq. (2)) by a complete orthogonal
// decomposition (dense B_F) or a sparse QR (sparse B_F: linear memory for codes at 10^4 nodes),
// and check the residual so that a pattern outside the tolerance is reported, never decoded into
// a wrong sum.
// One header (~430 lines): the dense and the banded sparse solve return the same decoding_solution
// and share its residual and amplification checks; the band QR in detail exists only for them.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <Eigen/SparseCore>

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
    throw invalid_input("decoding solve: the target has length " + std::to_string(target.size()) +
                        ", the rows have K = " + std::to_string(rows.cols()) + " columns");
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

namespace detail {
/// Column-major sparse matrix with int indices (the ordering's input).
using sparse_qr_matrix = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
/// Row-major sparse matrix whose rows are in staircase order (first column nondecreasing).
using staircase_matrix = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;

/// Orders the nonempty columns of `bt` (K × f) by Cuthill–McKee on its column graph (columns
/// adjacent when they share a row) and its nonempty rows by their first column in that order
/// (staircase), so that a row-wise Givens QR works in a band: the support of cyclic consecutive
/// placement (holders of partition k near k·n/(K(s+1)) + j·n/(s+1)) becomes a band of width
/// ≤ 2(s + max load), and Cuthill–McKee unrolls the cyclic wrap-around (a ring becomes a band of
/// twice the width). Outputs: row_of[k] / col_of[j] = new position or −1 if empty; kept_rows /
/// kept_cols = the inverse maps.
inline void banded_ordering(const sparse_qr_matrix& bt, std::vector<int>& row_of, std::vector<int>& col_of,
                            std::vector<Index>& kept_rows, std::vector<Index>& kept_cols) {
  const Index K = bt.rows(), f = bt.cols();
  const Eigen::SparseMatrix<double, Eigen::RowMajor, int> by_row = bt;  // row k: the columns sharing it
  const auto size = [](Index x) { return static_cast<std::size_t>(x); };
  std::vector<Index> degree(size(f), 0);
  for (Index j = 0; j < f; ++j)
    for (sparse_qr_matrix::InnerIterator it(bt, j); it; ++it)
      degree[size(j)] += by_row.outerIndexPtr()[it.row() + 1] - by_row.outerIndexPtr()[it.row()] - 1;
  std::vector<Index> stamp(size(f), -1);  // BFS marks: stamp[j] = id of the sweep that reached j
  std::vector<Index> level(size(f), 0);
  Index sweep = 0;
  std::vector<Index> queue, fresh;
  queue.reserve(size(f));
  // Breadth-first sweep from root over unplaced columns; appends to `queue` from `begin`, in
  // Cuthill–McKee order (each node's new neighbours by increasing degree). Returns the end.
  const auto bfs = [&](Index root, std::size_t begin, const std::vector<int>& placed) {
    ++sweep;
    queue.resize(begin);
    queue.push_back(root);
    stamp[size(root)] = sweep;
    level[size(root)] = 0;
    for (std::size_t head = begin; head < queue.size(); ++head) {
      const Index u = queue[head];
      fresh.clear();
      for (sparse_qr_matrix::InnerIterator it(bt, u); it; ++it)
        for (decltype(by_row)::InnerIterator jt(by_row, it.row()); jt; ++jt) {
          const Index v = jt.col();
          if (stamp[size(v)] == sweep || placed[size(v)] >= 0) continue;
          stamp[size(v)] = sweep;
          level[size(v)] = level[size(u)] + 1;
          fresh.push_back(v);
        }
      std::sort(fresh.begin(), fresh.end(),
                [&](Index a, Index b) { return degree[size(a)] != degree[size(b)] ? degree[size(a)] < degree[size(b)] : a < b; });
      queue.insert(queue.end(), fresh.begin(), fresh.end());
    }
    return queue.size();
  };
  col_of.assign(size(f), -1);
  kept_cols.clear();
  for (Index j = 0; j < f; ++j) {
    if (col_of[size(j)] >= 0 || bt.outerIndexPtr()[j + 1] == bt.outerIndexPtr()[j]) continue;
    // Pseudo-peripheral root (George–Liu): restart from a least-degree node of the last level
    // while that makes the component deeper; two restarts suffice on bands and rings.
    Index root = j, depth = -1;
    const std::size_t begin = kept_cols.size();
    queue.assign(kept_cols.begin(), kept_cols.end());
    for (int restart = 0; restart < 3; ++restart) {
      const std::size_t end = bfs(root, begin, col_of);
      const Index deepest = level[size(queue[end - 1])];
      if (deepest <= depth) break;
      depth = deepest;
      Index next = queue[end - 1];
      for (std::size_t q = end; q-- > begin && level[size(queue[q])] == deepest;)
        if (degree[size(queue[q])] < degree[size(next)]) next = queue[q];
      root = next;
    }
    const std::size_t end = bfs(root, begin, col_of);
    for (std::size_t q = begin; q < end; ++q) {
      col_of[size(queue[q])] = static_cast<int>(q);
      kept_cols.push_back(queue[q]);
    }
  }
  std::vector<int> first(size(K), std::numeric_limits<int>::max());
  for (Index j = 0; j < f; ++j)
    for (sparse_qr_matrix::InnerIterator it(bt, j); it; ++it)
      first[size(it.row())] = std::min(first[size(it.row())], col_of[size(j)]);
  kept_rows.clear();
  for (Index k = 0; k < K; ++k)
    if (first[size(k)] != std::numeric_limits<int>::max()) kept_rows.push_back(k);
  std::stable_sort(kept_rows.begin(), kept_rows.end(), [&](Index a, Index b) { return first[size(a)] < first[size(b)]; });
  row_of.assign(size(K), -1);
  for (std::size_t r = 0; r < kept_rows.size(); ++r) row_of[size(kept_rows[r])] = static_cast<int>(r);
}

/// Row-wise Givens QR (George–Heath) of a staircase matrix M (m × n) with right-hand side b,
/// rank revealing by column deletion (Heath 1982): R is upper triangular with R(i, j) = 0 for
/// j > i + W, W = max row span of M; Qᵀb is rotated along, Q is not kept. Each row is rotated into
/// R rows first(row), first + 1, … until it reaches an empty R row (it becomes that row) or runs
/// out of support. Once every row starting at or before column j is in, R row j is final: if
/// |R_jj| ≤ τ·‖M_{:,j}‖₂ (τ = 20·(m + n)·ε, the SuiteSparseQR threshold taken per column, as B's
/// columns differ in scale by up to 1e4 for the null-space construction at s = 1), column j is
/// dependent on the kept columns before it: its diagonal is dropped and the rest of R row j is
/// re-inserted like a new row. So R_jj is always the distance of column j to the span of the kept
/// columns before it (without the deletion, a zero pivot would hide later columns' independent
/// parts in its row). With rows in staircase order no row travels more than W + 1 rows, so the
/// time is O((m + n)·W²) and the memory n·(W + 1).
struct band_qr {
  Index n = 0, w = 0;       // columns; stored entries per R row (W + 1)
  std::vector<double> r;    // r[i·w + d] = R(i, i + d)
  std::vector<double> qtb;  // (Qᵀb)_i for the R rows
  std::vector<char> filled, dependent;
  Index rank = 0;

  static Index band_of(const staircase_matrix& M) {
    Index width = 0;
    for (Index i = 0; i < M.rows(); ++i) {
      const int b = M.outerIndexPtr()[i], e = M.outerIndexPtr()[i + 1];
      if (e > b) width = std::max<Index>(width, M.innerIndexPtr()[e - 1] - M.innerIndexPtr()[b]);
    }
    return width + 1;
  }

  band_qr(const staircase_matrix& M, const vector<double>& b) : n(M.cols()), w(band_of(M)) {
    const auto at = [](Index x) { return static_cast<std::size_t>(x); };
    r.assign(at(n * w), 0.0);
    qtb.assign(at(n), 0.0);
    filled.assign(at(n), 0);
    dependent.assign(at(n), 0);
    vector<double> norms = vector<double>::Zero(n);
    for (Index i = 0; i < M.rows(); ++i)
      for (staircase_matrix::InnerIterator it(M, i); it; ++it) norms[it.col()] += it.value() * it.value();
    const double tau = 20 * static_cast<double>(M.rows() + n) * std::numeric_limits<double>::epsilon();
    std::vector<double> row(at(w));
    Index final_up_to = 0;  // R rows < final_up_to are final
    const auto finalise = [&](Index end) {
      for (; final_up_to < end; ++final_up_to) {
        const Index j = final_up_to;
        double* rr = r.data() + j * w;
        if (filled[at(j)] && std::abs(rr[0]) > tau * std::sqrt(norms[j])) {
          ++rank;
          continue;
        }
        dependent[at(j)] = 1;
        if (!filled[at(j)]) continue;
        filled[at(j)] = 0;
        std::copy(rr + 1, rr + w, row.begin());  // re-insert R row j without its diagonal
        row[at(w - 1)] = 0;
        std::fill(rr, rr + w, 0.0);
        const double beta = qtb[at(j)];
        qtb[at(j)] = 0;
        insert(row, j + 1, beta);
      }
    };
    for (Index i = 0; i < M.rows(); ++i) {
      const int begin = M.outerIndexPtr()[i], end = M.outerIndexPtr()[i + 1];
      if (begin == end) continue;
      const Index pos = M.innerIndexPtr()[begin];
      finalise(pos);
      std::fill(row.begin(), row.end(), 0.0);
      for (int p = begin; p < end; ++p) row[at(M.innerIndexPtr()[p] - pos)] = M.valuePtr()[p];
      insert(row, pos, b[i]);
    }
    finalise(n);
  }

  /// Rotates the working row (row[d] = entry of column pos + d, right-hand side beta) into R.
  void insert(std::vector<double>& row, Index pos, double beta) {
    const auto at = [](Index x) { return static_cast<std::size_t>(x); };
    Index last = w - 1;  // row[d] = 0 for d > last
    while (last >= 0 && row[at(last)] == 0) --last;
    while (pos < n && last >= 0) {
      double* rr = r.data() + pos * w;
      if (!filled[at(pos)] && !dependent[at(pos)]) {  // an empty R row: the working row becomes it
        std::copy(row.begin(), row.end(), rr);
        qtb[at(pos)] = beta;
        filled[at(pos)] = 1;
        return;
      }
      if (row[0] != 0 && !dependent[at(pos)]) {  // rotate so that the working row's lead is 0
        const double h = std::hypot(rr[0], row[0]);
        const double c = rr[0] / h, s = row[0] / h;
        for (Index d = 0; d < w; ++d) {
          const double x = rr[d], y = row[at(d)];
          rr[d] = c * x + s * y;
          row[at(d)] = c * y - s * x;
        }
        const double x = qtb[at(pos)];
        qtb[at(pos)] = c * x + s * beta;
        beta = c * beta - s * x;
        last = w - 1;  // R row pos reaches column pos + w − 1 at most: so does the working row now
        while (last > 0 && row[at(last)] == 0) --last;
      }
      // (a dependent column pos is deleted: the working row's entry there is dropped)
      std::copy(row.begin() + 1, row.end(), row.begin());
      row[at(w - 1)] = 0;
      --last;
      ++pos;
      while (last >= 0 && row[at(last)] == 0) --last;
    }
  }

  /// The basic solution: R x = Qᵀb on the kept columns, x_j = 0 at the dependent ones.
  vector<double> solve() const {
    vector<double> x = vector<double>::Zero(n);
    for (Index i = n; i-- > 0;) {
      if (dependent[static_cast<std::size_t>(i)]) continue;
      const double* rr = r.data() + i * w;
      double v = qtb[static_cast<std::size_t>(i)];
      for (Index d = 1; d < w && i + d < n; ++d) v -= rr[d] * x[i + d];
      x[i] = v / rr[0];
    }
    return x;
  }
};

/// Basic least-squares solution of M x ≈ b (M staircase, m × n) by band_qr; x_j = 0 at the
/// dependent columns. Returns false when the band would not be smaller than half the dense
/// matrix (the caller then takes the dense path).
inline bool staircase_least_squares(const staircase_matrix& M, const vector<double>& b, vector<double>& x, Index& rank) {
  const Index m = M.rows(), n = M.cols();
  if (n > 1 && band_qr::band_of(M) * n >= m * n / 2) return false;
  const band_qr qr(M, b);
  rank = qr.rank;
  x = qr.solve();
  return true;
}

/// Staircase form of Mᵀ for M given as (K × f, rows staircase, columns in band order): rows of
/// Mᵀ sorted by their first column. order[r] = the column of M that is row r of the result.
inline staircase_matrix staircase_transpose(const staircase_matrix& M, std::vector<Index>& order) {
  const Eigen::SparseMatrix<double, Eigen::RowMajor, int> t = M.transpose();  // f × K, row j = column j of M
  std::vector<int> first(static_cast<std::size_t>(t.rows()), std::numeric_limits<int>::max());
  for (Index j = 0; j < t.rows(); ++j)
    if (t.outerIndexPtr()[j + 1] > t.outerIndexPtr()[j])
      first[static_cast<std::size_t>(j)] = t.innerIndexPtr()[t.outerIndexPtr()[j]];
  order.resize(static_cast<std::size_t>(t.rows()));
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return first[static_cast<std::size_t>(a)] < first[static_cast<std::size_t>(b)]; });
  std::vector<Eigen::Triplet<double, int>> entries;
  entries.reserve(static_cast<std::size_t>(t.nonZeros()));
  for (std::size_t r = 0; r < order.size(); ++r)
    for (decltype(t)::InnerIterator it(t, order[r]); it; ++it)
      entries.emplace_back(static_cast<int>(r), static_cast<int>(it.col()), it.value());
  staircase_matrix out(t.rows(), t.cols());
  out.setFromTriplets(entries.begin(), entries.end());
  return out;
}
}  // namespace detail

/// Sparse counterpart of solve_decoding_coefficients: the same decoding_solution (a, residual and
/// amplification defined and computed as there) from a sparse `rows` = B_F (f × K, any scalar and
/// storage order), in time O(nnz·W²) and memory O(nnz + (f + K)·W) for W the band width below
/// (W ≤ 2(s + max load) for the cyclic consecutive and cyclic supports of codes/), never a dense
/// f × K. Throws invalid_input when the target's length is not K, or when f, K or nnz exceed int.
///
/// Algorithm. A = B_Fᵀ (K × f) without its empty rows (partitions no responder holds: their
/// residual |0 − target_k| does not depend on a) and empty columns (responders that send
/// nothing: a_j = 0 in the minimum-norm solution), columns in Cuthill–McKee order and rows in
/// staircase order (detail::banded_ordering): a band. Row-wise Givens QR in that band with
/// column deletion (detail::band_qr) gives the basic least-squares solution a_b (zero at the
/// dependent columns).
///  - rank = f: the least-squares solution is unique, so a_b is the dense path's a up to rounding.
///  - rank < f — common, not an edge case: at n = K = 1000, s = 1 the heterogeneous code's B_F for
///    f = n − s responders has rank 833 (3000: 1650 of 2998 at s = 2), and no straggler at all
///    adds s more. a_b decodes correctly but is not the minimum-norm solution the dense COD
///    returns, and its amplification differs. Decision: correct it to the minimum-norm one, not
///    fall back to the dense path (that is what costs 448 s at 10^4): a = Aᵀy with y a basic
///    least-squares solution of Aᵀy = a_b (the same band QR on the staircase form of Aᵀ = B_F),
///    i.e. the orthogonal projection of a_b onto rowspan(A) = null(A)^⊥, which has the same A·a
///    and is the least-norm such vector. So both paths give the same a whenever their numerical
///    rank decisions agree and the kept basis is well conditioned: measured ≤ 1.2e-10 (relative
///    to max(1, ‖a‖∞)) on all four code families at n ≤ 301 and 2.6e-13 for the heterogeneous code
///    at n = 3000, s = 1–2 (tests/core/sparse_decoding_solver_test.cpp, bench numbers in
///    bench/codes_bench.cpp). Known limit: the basis is chosen greedily in band order (no column
///    pivoting), and for the heterogeneous code at n ≥ 2000, s = 2 some patterns get a basis so
///    ill-conditioned (‖a_b‖∞ up to 1e11) that the corrected a misses the target (residual
///    1e-9 … 1e2 where the dense one has 1e-14). The residual and amplification reported are
///    always those of the returned a, so such a result is refused by the checks, never decoded;
///    linear_code then re-solves densely (slow, but the same verdict as before).
///  - Why not Eigen's SparseQR (tried, measured): with COLAMD it took 4 s at n = 3000, s = 2;
///    its left-looking factorisation puts the c-th pivot at row c, which does not fit a tall or
///    rank-deficient B_Fᵀ, and every dependent column lags the pivot row further (R had n²/8
///    nonzeros at n = 3000). The row-wise Givens QR has no such coupling.
/// When the band would not be smaller than half the dense matrix (no band structure), this falls
/// back to solve_decoding_coefficients on a dense copy.
template <class Derived>
decoding_solution solve_decoding_coefficients_sparse(const Eigen::SparseMatrixBase<Derived>& rows,
                                                     const Eigen::Ref<const vector<double>>& target) {
  if (target.size() != rows.cols())
    throw invalid_input("decoding solve: the target has length " + std::to_string(target.size()) +
                        ", the rows have K = " + std::to_string(rows.cols()) + " columns");
  constexpr Index int_max = std::numeric_limits<int>::max();
  if (rows.rows() > int_max || rows.cols() > int_max || rows.derived().nonZeros() > int_max)
    throw invalid_input("decoding solve: B_F is " + std::to_string(rows.rows()) + " × " + std::to_string(rows.cols()) + " with " +
                        std::to_string(rows.derived().nonZeros()) + " nonzeros, past the int indices of the sparse solve");
  const Index f = rows.rows();
  const auto at = [](Index x) { return static_cast<std::size_t>(x); };
  detail::sparse_qr_matrix bt = rows.derived().template cast<double>().transpose();  // A = B_Fᵀ, K × f
  bt.prune([](Index, Index, double v) { return v != 0; });                           // explicit zeros are no structure
  bt.makeCompressed();
  decoding_solution out;
  if (f == 0) {
    out.coefficients.resize(0);
    out.residual = target.size() ? 1.0 : 0.0;
    out.amplification = 0;
    return out;
  }
  std::vector<int> row_of, col_of;
  std::vector<Index> kept_rows, kept_cols;
  detail::banded_ordering(bt, row_of, col_of, kept_rows, kept_cols);
  out.coefficients = vector<double>::Zero(f);
  if (!kept_cols.empty()) {
    const auto Kc = static_cast<Index>(kept_rows.size()), fc = static_cast<Index>(kept_cols.size());
    std::vector<Eigen::Triplet<double, int>> entries;
    entries.reserve(at(bt.nonZeros()));
    for (Index j = 0; j < f; ++j)
      for (detail::sparse_qr_matrix::InnerIterator it(bt, j); it; ++it)
        entries.emplace_back(row_of[at(it.row())], col_of[at(j)], it.value());
    detail::staircase_matrix A(Kc, fc);
    A.setFromTriplets(entries.begin(), entries.end());
    vector<double> t(Kc);
    for (Index r = 0; r < Kc; ++r) t[r] = target[kept_rows[at(r)]];
    vector<double> a;
    Index rank = 0;
    bool banded = detail::staircase_least_squares(A, t, a, rank);
    if (banded && rank < fc) {  // minimum-norm correction: a ← Aᵀy, y = argmin ‖Aᵀy − a_b‖
      std::vector<Index> order;
      const detail::staircase_matrix At = detail::staircase_transpose(A, order);
      vector<double> rhs(fc);
      for (Index r = 0; r < fc; ++r) rhs[r] = a[order[at(r)]];
      vector<double> y;
      Index rank_t = 0;
      banded = detail::staircase_least_squares(At, rhs, y, rank_t);
      if (banded) a = A.transpose() * y;
    }
    if (!banded) {
      const matrix<double> dense(rows.derived().template cast<double>());
      return solve_decoding_coefficients(dense, target);
    }
    for (Index c = 0; c < fc; ++c) out.coefficients[kept_cols[at(c)]] = a[c];
  }
  const double scale = std::max(target.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  out.residual = (bt * out.coefficients - target).cwiseAbs().maxCoeff() / scale;
  out.amplification = 0;
  for (Index j = 0; j < f; ++j) {
    double norm1 = 0;
    for (detail::sparse_qr_matrix::InnerIterator it(bt, j); it; ++it) norm1 += std::abs(it.value());
    out.amplification += std::abs(out.coefficients[j]) * norm1;
  }
  out.amplification /= std::max(target.cwiseAbs().sum(), std::numeric_limits<double>::min());
  if (!std::isfinite(out.residual)) out.residual = std::numeric_limits<double>::infinity();
  return out;
}

template <class Derived>
decoding_solution solve_decoding_coefficients_sparse(const Eigen::SparseMatrixBase<Derived>& rows) {
  const vector<double> ones = vector<double>::Ones(rows.cols());
  return solve_decoding_coefficients_sparse(rows, ones);
}

}  // namespace gradcode
