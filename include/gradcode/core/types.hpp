// SPDX-License-Identifier: MIT
// Scalar-templated Eigen aliases used at every gradcode API boundary (DESIGN.md "Data shapes"):
// partial gradients are d × K column-major, encoding matrices are sparse row-major.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace gradcode {

using Index = Eigen::Index;

/// Dense column-major matrix; partial gradients g_1..g_K are the K columns of a d × K matrix.
template <class Scalar>
using matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

/// Dense column vector (a gradient or a message).
template <class Scalar>
using vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// Sparse encoding matrix; row i is what node i sends (B, D^i, single-layer codes).
template <class Scalar>
using sparse_matrix = Eigen::SparseMatrix<Scalar, Eigen::RowMajor, Index>;

/// Largest sizes gradcode builds from parameters. Each is checked before anything is allocated
/// (invalid_parameters beyond, never std::bad_alloc or an overflowing Index), and each keeps what
/// it sizes to about 1 GiB.
namespace limits {
/// Nodes of a code or a pattern (n, m_i, Σm_i of a hierarchical code, workers of a system).
inline constexpr Index max_nodes = Index{1} << 24;
/// Data partitions K of a code (an assignment keeps a holder list per partition).
inline constexpr Index max_partitions = Index{1} << 24;
/// Σ_i |partitions of node i| of an assignment, e.g. K(s+1) or K(s_e+1)(s_w+1) (ids are stored in
/// both directions: 2 × 8 bytes each).
inline constexpr Index max_support_entries = Index{1} << 26;
/// Doubles one decoding solve may work on: the dense f × K rows of f ≤ n responders (about three
/// copies), or, for a linear code with n × K past this, the band of its sparse solve
/// (detail::band_solve_entries, linear in n·(s+1)); a code with neither is refused at construction.
inline constexpr Index max_dense_entries = Index{1} << 26;
}  // namespace limits

namespace detail {
/// a·b when both are ≥ 0 and the product is ≤ bound, else -1 (no overflow: the test divides).
constexpr Index bounded_product(Index a, Index b, Index bound) noexcept {
  if (a < 0 || b < 0) return -1;
  if (a != 0 && b > bound / a) return -1;
  return a * b;
}
}  // namespace detail

}  // namespace gradcode
