// SPDX-License-Identifier: MIT
// Decoding coefficients of a linear gradient code: given the rows B_F of the responders, find a
// with aᵀB_F = 1ᵀ (tang2024 Condition 1; Tandon et al. 2017 eq. (2)) by a complete orthogonal
// decomposition (dense B_F) or a regularised band QR (sparse B_F: memory linear in n·(s+1) for
// codes at 10^4 nodes), and check the residual so that a pattern outside the tolerance is
// reported, never decoded into a wrong sum.
// One header (~410 lines): the dense and the banded sparse solve return the same decoding_solution
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

/// B_Fᵀ in band form: A = the nonempty rows and columns of `bt` (K × f), columns in Cuthill–McKee
/// order and rows in staircase order (banded_ordering); A's row r is bt's row kept_rows[r], its
/// column c is bt's column kept_cols[c]; band = W + 1 for W the widest row span of A.
struct banded_system {
  staircase_matrix A;
  std::vector<Index> kept_rows, kept_cols;
  Index band = 0;
};

inline banded_system banded_form(const sparse_qr_matrix& bt) {
  const auto at = [](Index x) { return static_cast<std::size_t>(x); };
  banded_system out;
  std::vector<int> row_of, col_of;
  banded_ordering(bt, row_of, col_of, out.kept_rows, out.kept_cols);
  std::vector<Eigen::Triplet<double, int>> entries;
  entries.reserve(at(bt.nonZeros()));
  for (Index j = 0; j < bt.cols(); ++j)
    for (sparse_qr_matrix::InnerIterator it(bt, j); it; ++it)
      entries.emplace_back(row_of[at(it.row())], col_of[at(j)], it.value());
  out.A.resize(static_cast<Index>(out.kept_rows.size()), static_cast<Index>(out.kept_cols.size()));
  out.A.setFromTriplets(entries.begin(), entries.end());
  for (Index i = 0; i < out.A.rows(); ++i) {
    const int b = out.A.outerIndexPtr()[i], e = out.A.outerIndexPtr()[i + 1];
    if (e > b) out.band = std::max<Index>(out.band, out.A.innerIndexPtr()[e - 1] - out.A.innerIndexPtr()[b] + 1);
  }
  return out;
}

/// Doubles the band solve of an m × n banded system with band w holds: R (n·w) and the logged
/// rotations (at most m·w, three words each).
constexpr Index band_solve_entries(Index m, Index n, Index w) noexcept { return n * w + 3 * m * w; }

/// Row-wise Givens QR (George–Heath) of the damped matrix [λI; M] for M staircase (m × n, band
/// w = W + 1): R is upper triangular with R(i, j) = 0 for j > i + W, and the rotations are logged
/// so that argmin ‖Mx − b‖² + λ²‖x‖² can be solved for many b (iterative refinement). R starts as
/// λI and every row of M is rotated into R rows first(row), first + 1, … until it runs out of
/// support (≤ w rotations). With λ > 0 every pivot is ≥ λ: no rank decision is taken, so no
/// pivoting is needed to keep the basis well conditioned (the greedy column deletion this
/// replaced kept columns at distance 1e-11 and lost the target at n = 4000, s = 2). Time
/// O(m·w²), memory n·w + 3·m·w.
class damped_band_qr {
 public:
  damped_band_qr(const staircase_matrix& M, Index band, double lambda) : m_n(M.cols()), m_w(std::max<Index>(band, 1)) {
    const auto at = [](Index x) { return static_cast<std::size_t>(x); };
    m_r.assign(at(m_n * m_w), 0.0);
    for (Index j = 0; j < m_n; ++j) m_r[at(j * m_w)] = lambda;
    m_row_end.reserve(at(M.rows()));
    std::vector<double> row(at(m_w));
    for (Index i = 0; i < M.rows(); ++i) {
      const int begin = M.outerIndexPtr()[i], end = M.outerIndexPtr()[i + 1];
      if (begin < end) {
        Index pos = M.innerIndexPtr()[begin];
        std::fill(row.begin(), row.end(), 0.0);
        for (int p = begin; p < end; ++p) row[at(M.innerIndexPtr()[p] - pos)] = M.valuePtr()[p];
        Index last = M.innerIndexPtr()[end - 1] - pos;  // row[d] = 0 for d > last
        while (pos < m_n && last >= 0) {
          if (row[0] != 0) {  // rotate R row pos and the working row so that the latter's lead is 0
            double* rr = m_r.data() + pos * m_w;
            const double h = std::hypot(rr[0], row[0]);
            const double c = rr[0] / h, s = row[0] / h;
            for (Index d = 0; d < m_w; ++d) {
              const double x = rr[d], y = row[at(d)];
              rr[d] = c * x + s * y;
              row[at(d)] = c * y - s * x;
            }
            m_rotations.push_back({pos, c, s});
            last = m_w - 1;  // R row pos reaches column pos + W at most: so does the working row now
          }
          std::copy(row.begin() + 1, row.end(), row.begin());
          row[at(m_w - 1)] = 0;
          --last;
          ++pos;
          while (last >= 0 && row[at(last)] == 0) --last;
        }
      }
      m_row_end.push_back(m_rotations.size());
    }
  }

  /// argmin ‖Mx − b‖² + λ²‖x‖²: Qᵀ[0; b] by replaying the rotations, then R x = (Qᵀ[0; b])_{1..n}.
  vector<double> solve(const vector<double>& b) const {
    vector<double> qtb = vector<double>::Zero(m_n);
    std::size_t k = 0;
    for (std::size_t i = 0; i < m_row_end.size(); ++i) {
      double beta = b[static_cast<Index>(i)];
      for (; k < m_row_end[i]; ++k) {
        const auto& [pos, c, s] = m_rotations[k];
        const double x = qtb[pos];
        qtb[pos] = c * x + s * beta;
        beta = c * beta - s * x;
      }
    }
    for (Index i = m_n; i-- > 0;) {
      const double* rr = m_r.data() + i * m_w;
      double v = qtb[i];
      for (Index d = 1; d < m_w && i + d < m_n; ++d) v -= rr[d] * qtb[i + d];
      qtb[i] = v / rr[0];
    }
    return qtb;
  }

 private:
  struct rotation {
    Index pos;
    double c, s;
  };
  Index m_n, m_w;
  std::vector<double> m_r;  // m_r[i·w + d] = R(i, i + d)
  std::vector<rotation> m_rotations;
  std::vector<std::size_t> m_row_end;  // M's row i used m_rotations[m_row_end[i − 1], m_row_end[i])
};

/// Minimum-norm least-squares solution of M x ≈ b (M staircase with band `band`) by iterated
/// Tikhonov regularisation: x_{k+1} = x_k + argmin_d ‖M d − (b − M x_k)‖² + λ²‖d‖², x_0 = 0. Each
/// step keeps x in rowspan(M) (so the limit is the minimum-norm solution, as the dense COD's) and
/// shrinks the error along a singular direction σ by λ²/(σ² + λ²); directions with σ ≪ λ — the
/// numerically dependent ones — stay near 0. λ = 1e-4·‖M‖ first (rounding then puts at most
/// ε·‖M‖/λ ≈ 2e-12 relative into the null directions); while convergence stalls above the rounding
/// floor (a σ near λ that the target needs), λ drops to 1e-7, 1e-10 and 1e-13·‖M‖ — the last about
/// the dense COD's rank threshold (ε·n relative to the largest pivot), where the steps continue
/// while they shrink. The caller checks the residual: a target outside the span converges to the
/// least-squares solution and is refused. Measured: the codes of codes/ at s ≤ 2 converge at the
/// first λ (the heterogeneous code's nonzero spectrum at n = 2000, s = 2 ends at σ/σ_max = 8.7e-4,
/// then a gap to < 1e-15); ill-conditioned ones (cyclic repetition, n = 200, s = 20: dense
/// amplification up to 5e3) need the last λ and then reach the dense verdict on 99 of 100 patterns.
inline vector<double> minimum_norm_least_squares(const staircase_matrix& M, Index band, const vector<double>& b) {
  vector<double> x = vector<double>::Zero(M.cols());
  vector<double> column_sums = vector<double>::Zero(M.cols());
  double row_max = 0;  // ‖M‖∞; σ_max ≤ √(‖M‖₁‖M‖∞)
  for (Index i = 0; i < M.rows(); ++i) {
    double row_sum = 0;
    for (staircase_matrix::InnerIterator it(M, i); it; ++it) {
      row_sum += std::abs(it.value());
      column_sums[it.col()] += std::abs(it.value());
    }
    row_max = std::max(row_max, row_sum);
  }
  const double norm = std::sqrt(row_max * (M.cols() ? column_sums.maxCoeff() : 0.0));
  if (!(norm > 0) || !std::isfinite(norm)) return x;
  constexpr double levels[] = {1e-4, 1e-7, 1e-10, 1e-13};
  for (const double relative : levels) {
    const bool last = relative == levels[3];
    const damped_band_qr qr(M, band, relative * norm);
    double previous = std::numeric_limits<double>::infinity();
    for (int step = 0; step < (last ? 200 : 32); ++step) {
      const vector<double> d = qr.solve(b - M * x);
      x += d;
      const double size = d.cwiseAbs().maxCoeff(), reference = x.cwiseAbs().maxCoeff();
      if (!std::isfinite(size)) return x;
      if (size <= 1e-15 * reference) return x;     // converged
      if (size > (last ? 1.0 : 0.5) * previous) {  // stalled: at the rounding floor, or λ too large
        if (last || size <= 1e-10 * reference) return x;
        break;
      }
      previous = size;
    }
  }
  return x;
}
}  // namespace detail

/// Sparse counterpart of solve_decoding_coefficients: the same decoding_solution (a, residual and
/// amplification defined and computed as there) from a sparse `rows` = B_F (f × K, any scalar and
/// storage order), in time O(nnz·W²·steps) and memory O(nnz + (f + K)·W) for W the band width below
/// (W ≤ 2(s + max load) for the cyclic consecutive and cyclic supports of codes/), never a dense
/// f × K. Throws invalid_input when the target's length is not K, when f, K or nnz exceed int, or
/// when B_F has no band and neither its dense copy nor its band fits limits::max_dense_entries.
///
/// Algorithm. A = B_Fᵀ (K × f) without its empty rows (partitions no responder holds: their
/// residual |0 − target_k| does not depend on a) and empty columns (responders that send
/// nothing: a_j = 0 in the minimum-norm solution), columns in Cuthill–McKee order and rows in
/// staircase order (detail::banded_form): a band. The minimum-norm least-squares a by iterated
/// Tikhonov steps, each a band Givens QR solve of [λI; A] (detail::minimum_norm_least_squares).
///  - Rank deficiency is the common case, not an edge case: at n = K = 1000, s = 1 the
///    heterogeneous code's B_F for f = n − s responders has rank 833 (2000, s = 2: 1777 of 1998,
///    then a gap from σ/σ_max = 8.7e-4 to < 1e-15). The regularised steps take no rank decision,
///    so they need no pivoting: the earlier greedy basis (column deletion in band order, then a
///    minimum-norm correction) kept near-dependent columns and missed the target (residual up to
///    1e4) on 21 of 50 patterns at n = 4000, s = 2.
///  - Both paths give the same a up to rounding where the dense COD's rank decision matches
///    the spectral gap: tests/core/sparse_decoding_solver_test.cpp measures the difference.
///  - Why not Eigen's SparseQR (tried, measured): with COLAMD it took 4 s at n = 3000, s = 2;
///    its left-looking factorisation puts the c-th pivot at row c, which does not fit a tall or
///    rank-deficient B_Fᵀ (R had n²/8 nonzeros at n = 3000). The row-wise Givens QR has no such
///    coupling.
/// When the band would not be smaller than half the dense matrix (no band structure), this falls
/// back to solve_decoding_coefficients on a dense copy if that fits limits::max_dense_entries.
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
  const detail::banded_system sys = detail::banded_form(bt);
  out.coefficients = vector<double>::Zero(f);
  if (!sys.kept_cols.empty()) {
    const Index Kc = sys.A.rows(), fc = sys.A.cols();
    if (fc > 1 && sys.band * fc >= Kc * fc / 2) {  // no band structure
      if (detail::bounded_product(f, rows.cols(), limits::max_dense_entries) >= 0) {
        const matrix<double> dense(rows.derived().template cast<double>());
        return solve_decoding_coefficients(dense, target);
      }
      if (detail::band_solve_entries(Kc, fc, sys.band) > limits::max_dense_entries)
        throw invalid_input("decoding solve: B_F is " + std::to_string(f) + " × " + std::to_string(rows.cols()) +
                            " with a band of " + std::to_string(sys.band) +
                            " after reordering; neither its dense copy nor its band fits limits::max_dense_entries = " +
                            std::to_string(limits::max_dense_entries));
    }
    vector<double> t(Kc);
    for (Index r = 0; r < Kc; ++r) t[r] = target[sys.kept_rows[at(r)]];
    const vector<double> a = detail::minimum_norm_least_squares(sys.A, sys.band, t);
    for (Index c = 0; c < fc; ++c) out.coefficients[sys.kept_cols[at(c)]] = a[c];
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
  if (!out.coefficients.allFinite()) out.residual = std::numeric_limits<double>::infinity();
  return out;
}

template <class Derived>
decoding_solution solve_decoding_coefficients_sparse(const Eigen::SparseMatrixBase<Derived>& rows) {
  const vector<double> ones = vector<double>::Ones(rows.cols());
  return solve_decoding_coefficients_sparse(rows, ones);
}

}  // namespace gradcode
