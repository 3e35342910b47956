// SPDX-License-Identifier: MIT
// A LibTorch module's parameters and gradients, each in one contiguous buffer (issue 15): every
// parameter and every p.grad() becomes a view into them, so autograd accumulates straight into
// the d-vector a gradcode codec reads, and a decoded gradient or a broadcast model is one copy.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/torch/tensor_map.hpp"

namespace gradcode::libtorch {

/// The parameters that require a gradient, packed in registration order: parameter i occupies
/// entries [offset(i), offset(i) + numel) of both buffers. Construction re-homes each parameter's
/// data (`set_data`, so the module and its optimiser keep the same tensors) and sets its grad.
///
/// Keep the grads flat: zero them with zero_gradient(), not `optimizer.zero_grad()` or
/// `module->zero_grad()` of a LibTorch that sets them to None (1.13's defaults zero in place, so
/// both are harmless there). Every reading call checks that the views are still in place and throws
/// invalid_input naming the parameter otherwise, rather than reading a stale buffer.
template <class Scalar = float>
class flat_parameters {
 public:
  /// `parameters` as from `module->parameters()`; those with requires_grad() false are left out.
  /// invalid_input when one is not a dense CPU tensor of Scalar, or none requires a gradient.
  explicit flat_parameters(const std::vector<at::Tensor>& parameters) {
    Index d = 0;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      const at::Tensor& p = parameters[i];
      if (!p.defined() || !p.requires_grad()) continue;
      if (!p.device().is_cpu() || p.scalar_type() != detail::dtype_of<Scalar> || p.layout() != c10::kStrided)
        throw invalid_input("flat_parameters: parameter " + std::to_string(i) + " is " +
                            std::string(c10::toString(p.scalar_type())) + " on " + p.device().str() + "; expected dense " +
                            detail::dtype_name<Scalar>() + " on the CPU");
      m_params.push_back(p);
      m_offsets.push_back(d);
      d += p.numel();
    }
    if (m_params.empty()) throw invalid_input("flat_parameters: no parameter requires a gradient");
    m_offsets.push_back(d);
    const auto options = ::torch::TensorOptions().dtype(detail::dtype_of<Scalar>);
    m_values = ::torch::empty({d}, options);
    m_gradient = ::torch::zeros({d}, options);
    ::torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < m_params.size(); ++i) {
      at::Tensor slot = slice(m_values, i);
      slot.copy_(m_params[i].detach());
      m_params[i].set_data(slot);
    }
    bind_own_gradient();
  }
  // Copies would alias the same buffers and re-bind each other's grads: move only.
  flat_parameters(const flat_parameters&) = delete;
  flat_parameters& operator=(const flat_parameters&) = delete;
  flat_parameters(flat_parameters&&) noexcept = default;
  flat_parameters& operator=(flat_parameters&&) noexcept = default;

  /// d, the number of scalars (the gradient length a codec is built for).
  Index size() const noexcept { return m_offsets.back(); }
  /// The packed parameters, in order.
  const std::vector<at::Tensor>& parameters() const noexcept { return m_params; }
  /// Where parameter i starts in the buffers.
  Index offset(std::size_t i) const { return m_offsets.at(i); }

  /// The parameters as one 1-D tensor / Eigen vector / span (the same memory as the module's).
  const at::Tensor& values() const noexcept { return m_values; }
  Eigen::Map<vector<Scalar>> parameter_vector() { return as_vector<Scalar>(m_values); }
  std::span<const Scalar> parameter_span() const {
    require_flat();
    return {m_values.data_ptr<Scalar>(), static_cast<std::size_t>(size())};
  }

  /// The gradient buffer autograd accumulates into, as a tensor / Eigen vector.
  const at::Tensor& gradient() const noexcept { return m_gradient; }
  Eigen::Map<vector<Scalar>> gradient_vector() {
    require_flat();
    if (m_bound != m_gradient.data_ptr<Scalar>())
      throw invalid_input(
          "flat_parameters: the grads are bound to an outside buffer (bind_gradient); call bind_own_gradient() first");
    return as_vector<Scalar>(m_gradient);
  }

  /// Overwrites the parameters with `values` (e.g. the model a worker received). invalid_input
  /// on a length other than d.
  void load_parameters(std::span<const Scalar> values) {
    check_length(values.size(), "load_parameters");
    require_flat();
    std::copy(values.begin(), values.end(), m_values.data_ptr<Scalar>());
  }

  /// Writes `scale`·g into the grads (a decoded gradient, before optimizer.step()).
  void set_gradient(Eigen::Ref<const vector<Scalar>> g, Scalar scale = Scalar(1)) {
    check_length(static_cast<std::size_t>(g.size()), "set_gradient");
    gradient_vector() = scale * g;
  }

  /// Zeroes the gradient in place (and re-binds grads that were replaced or set to None).
  void zero_gradient() {
    bind_own_gradient();
    m_gradient.zero_();
  }

  /// Points every p.grad() at `column`, d scalars owned by the caller (the next backward
  /// accumulates there). Used to write one partition's gradient straight into a column of the
  /// partials matrix; bind_own_gradient() undoes it.
  void bind_gradient(Scalar* column) {
    const at::Tensor buffer = ::torch::from_blob(column, {size()}, ::torch::TensorOptions().dtype(detail::dtype_of<Scalar>));
    for (std::size_t i = 0; i < m_params.size(); ++i) m_params[i].mutable_grad() = slice(buffer, i);
    m_bound = column;
  }
  void bind_own_gradient() {
    for (std::size_t i = 0; i < m_params.size(); ++i) m_params[i].mutable_grad() = slice(m_gradient, i);
    m_bound = m_gradient.data_ptr<Scalar>();
  }

  /// True when every parameter is still a view of values() and every grad a view of the buffer
  /// last bound (an optimiser or user code may have replaced either).
  bool is_flat() const noexcept { return first_unflat() < 0; }

  /// Throws invalid_input naming the first parameter whose data or grad is no longer a view.
  void require_flat() const {
    const auto i = first_unflat();
    if (i >= 0)
      throw invalid_input(
          "flat_parameters: parameter " + std::to_string(i) +
          " is no longer a view of the flat buffers (its data or grad was replaced, e.g. zero_grad(set_to_none)); "
          "call zero_gradient() to re-bind the grads");
  }

 private:
  at::Tensor slice(const at::Tensor& flat, std::size_t i) const {
    return flat.narrow(0, m_offsets[i], m_offsets[i + 1] - m_offsets[i]).view(m_params[i].sizes());
  }
  long long first_unflat() const noexcept {
    const Scalar* values = m_values.data_ptr<Scalar>();
    for (std::size_t i = 0; i < m_params.size(); ++i) {
      const at::Tensor& p = m_params[i];
      const at::Tensor& g = p.grad();
      if (p.data_ptr() != static_cast<const void*>(values + m_offsets[i])) return static_cast<long long>(i);
      if (!g.defined() || g.data_ptr() != static_cast<const void*>(m_bound + m_offsets[i]) || !g.is_contiguous())
        return static_cast<long long>(i);
    }
    return -1;
  }
  void check_length(std::size_t n, const char* what) const {
    if (n != static_cast<std::size_t>(size()))
      throw invalid_input(std::string("flat_parameters::") + what + ": " + std::to_string(n) + " values for " +
                          std::to_string(size()) + " parameters");
  }

  std::vector<at::Tensor> m_params;
  std::vector<Index> m_offsets;  // size + 1 entries
  at::Tensor m_values, m_gradient;
  const Scalar* m_bound = nullptr;  // the d scalars the grads currently view
};

}  // namespace gradcode::libtorch
