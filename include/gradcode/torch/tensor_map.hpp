// SPDX-License-Identifier: MIT
// Zero-copy Eigen views of LibTorch tensors (issue 15): a contiguous 1-D CPU tensor is a gradient
// or a message (vector), a row-major {K, d} tensor is gradcode's d × K column-major partials
// matrix. Part of the optional gradcode::torch target; never included by gradcode.hpp.
#pragma once

#include <torch/torch.h>

#include <string>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

// Namespace libtorch, not torch: `using namespace gradcode;` must never make `torch::` ambiguous.
namespace gradcode::libtorch {

namespace detail {
template <class Scalar>
inline constexpr c10::ScalarType dtype_of = c10::CppTypeToScalarType<Scalar>::value;

template <class Scalar>
const char* dtype_name() noexcept {
  return std::is_same_v<Scalar, float> ? "float32" : "float64";
}

/// Throws invalid_input unless `t` is a defined, contiguous CPU tensor of Scalar with `dims` dims.
template <class Scalar>
void check_tensor(const at::Tensor& t, Index dims, const char* what) {
  const std::string w = what;
  if (!t.defined()) throw invalid_input(w + ": the tensor is undefined");
  if (!t.device().is_cpu())
    throw invalid_input(w + ": the tensor is on " + t.device().str() + "; gradcode maps CPU tensors only");
  if (t.scalar_type() != dtype_of<Scalar>)
    throw invalid_input(w + ": the tensor holds " + std::string(c10::toString(t.scalar_type())) + ", expected " +
                        dtype_name<Scalar>() + " (convert with .to(), which copies)");
  if (t.dim() != dims)
    throw invalid_input(w + ": the tensor has " + std::to_string(t.dim()) + " dimensions, expected " + std::to_string(dims));
  if (!t.is_contiguous()) throw invalid_input(w + ": the tensor is not contiguous (.contiguous() copies it)");
}
}  // namespace detail

/// A contiguous 1-D CPU tensor of Scalar as an Eigen vector over the same memory. Writes through
/// the map change the tensor. invalid_input on another device, dtype, rank or a strided tensor.
template <class Scalar>
Eigen::Map<vector<Scalar>> as_vector(const at::Tensor& t) {
  detail::check_tensor<Scalar>(t, 1, "as_vector");
  return {t.data_ptr<Scalar>(), t.size(0)};
}

/// A contiguous row-major {K, d} CPU tensor (row k = g_k) as the d × K column-major partials
/// matrix every gradcode encoder reads: the same bytes, no copy.
template <class Scalar>
Eigen::Map<matrix<Scalar>> as_partials(const at::Tensor& t) {
  detail::check_tensor<Scalar>(t, 2, "as_partials");
  return {t.data_ptr<Scalar>(), t.size(1), t.size(0)};
}

/// The inverse view: `d` × `K` column-major storage (e.g. a gradcode matrix, or the `held` block a
/// worker fills) as a {K, d} tensor. The tensor does not own the memory.
template <class Scalar>
at::Tensor partials_tensor(Scalar* data, Index d, Index K) {
  return torch::from_blob(data, {K, d}, torch::TensorOptions().dtype(detail::dtype_of<Scalar>));
}

}  // namespace gradcode::libtorch
