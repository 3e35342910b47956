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

}  // namespace gradcode
