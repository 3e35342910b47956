// SPDX-License-Identifier: MIT
// The worker side of coded training with LibTorch (issue 15): the partial gradients g_k of the
// partitions a worker holds, which every gradcode encoder takes as the d × D columns of `held`
// (tang2024 §III worker computation; gholami2025 §III-A), and the single-backward alternative.
#pragma once

#include <torch/torch.h>

#include <span>
#include <string>
#include <type_traits>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/torch/flat_parameters.hpp"

namespace gradcode::libtorch {

namespace detail {
/// Re-binds the flat grads to their own buffer when it goes out of scope (also on a throw).
template <class Scalar>
struct own_gradient_guard {
  flat_parameters<Scalar>& flat;
  ~own_gradient_guard() { flat.bind_own_gradient(); }
};

inline void check_loss(const at::Tensor& loss, Index partition) {
  if (!loss.defined() || loss.numel() != 1 || !loss.requires_grad())
    throw invalid_input("partition_gradients: the loss of partition " + std::to_string(partition) +
                        " is not a scalar that requires a gradient (did the forward run under NoGradGuard?)");
}
}  // namespace detail

/// Column t of `held` (d × |partitions|) = ∇_w loss(partitions[t]): one forward and one backward
/// per partition, with the module's grads pointed at column t so autograd accumulates straight
/// into it (no copy). `loss(k)` returns partition k's scalar loss at the module's current
/// parameters, summed (not averaged) over its samples so that Σ_k g_k is the batch's gradient.
///
/// This is what tree_runner's workers are asked for, and the only form every code can encode:
/// HGC's worker message is Σ_t b_t·g_t, but a polynomial code evaluates a different polynomial on
/// every coordinate block, which no weighting of the losses reproduces. Its cost is the FLOPs of
/// one backward over the union of the partitions' samples plus a per-call overhead per partition.
template <class Scalar, class Loss>
void partition_gradients(flat_parameters<Scalar>& flat, std::span<const Index> partitions,
                         std::type_identity_t<Eigen::Ref<matrix<Scalar>>> held, Loss&& loss) {
  if (held.rows() != flat.size() || held.cols() != static_cast<Index>(partitions.size()))
    throw invalid_input("partition_gradients: held is " + std::to_string(held.rows()) + " x " + std::to_string(held.cols()) +
                        ", expected " + std::to_string(flat.size()) + " x " + std::to_string(partitions.size()) +
                        " (d x partitions held)");
  flat.require_flat();
  detail::own_gradient_guard<Scalar> restore{flat};
  for (std::size_t t = 0; t < partitions.size(); ++t) {
    auto column = held.col(static_cast<Index>(t));
    column.setZero();
    flat.bind_gradient(column.data());
    at::Tensor l = loss(partitions[t]);
    detail::check_loss(l, partitions[t]);
    l.backward();
  }
}

/// flat.gradient() = Σ_t weights[t]·∇_w loss(partitions[t]) with ONE backward of the weighted loss:
/// a worker of a code whose message is a scalar combination of its partials (a linear code's row
/// b_i, or HGC's worker encode) can send this directly. Same FLOPs as partition_gradients; what it
/// saves is the per-partition backward overhead and the d × D block.
template <class Scalar, class Loss>
void combined_gradient(flat_parameters<Scalar>& flat, std::span<const Index> partitions,
                       std::type_identity_t<std::span<const Scalar>> weights, Loss&& loss) {
  if (weights.size() != partitions.size())
    throw invalid_input("combined_gradient: " + std::to_string(weights.size()) + " weights for " +
                        std::to_string(partitions.size()) + " partitions");
  flat.zero_gradient();
  if (partitions.empty()) return;
  at::Tensor total;
  for (std::size_t t = 0; t < partitions.size(); ++t) {
    at::Tensor l = loss(partitions[t]);
    detail::check_loss(l, partitions[t]);
    l = l * static_cast<double>(weights[t]);
    total = total.defined() ? total + l : l;
  }
  total.backward();
}

}  // namespace gradcode::libtorch
