// SPDX-License-Identifier: MIT
// A solved decoding step for one responder pattern: the coefficients a with aᵀB_F = 1ᵀ (checked)
// and the streaming apply ĝ = Σ_{j∈F} a_j · message_j. Plans are immutable and shared between
// threads through the per-pattern caches of the codes.
#pragma once

#include <span>
#include <string>
#include <utility>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/detail/weighted_sum.hpp"

namespace gradcode {

template <class Scalar>
class decoding_plan {
 public:
  /// `coefficients` is node-indexed (length = responders.nodes()), zero outside the responders.
  decoding_plan(pattern responders, vector<double> coefficients, double residual, double amplification)
      : m_responders(std::move(responders)),
        m_coefficients(std::move(coefficients)),
        m_cast(m_coefficients.template cast<Scalar>()),
        m_residual(residual),
        m_amplification(amplification) {}

  const pattern& responders() const noexcept { return m_responders; }
  /// a_i for node i (0 for non-responders), as solved in double.
  double coefficient(Index node) const { return m_coefficients[node]; }
  const vector<double>& coefficients() const noexcept { return m_coefficients; }
  /// ‖B_Fᵀa − 1‖_∞ of the solve.
  double residual() const noexcept { return m_residual; }
  /// Σ|a_j|‖b_j‖₁, the rounding amplification of this decode.
  double amplification() const noexcept { return m_amplification; }

  /// out = Σ_j a_{ids[j]} · messages.col(j). `ids` must be exactly the plan's responders (any
  /// order); messages is d × |ids|; out has length d. Throws invalid_input on mismatched sizes or
  /// ids, and on a NaN/Inf message (naming the node; `out` is then unspecified).
  void apply(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
             Eigen::Ref<vector<Scalar>> out) const {
    if (static_cast<Index>(ids.size()) != messages.cols())
      throw invalid_input(std::to_string(ids.size()) + " node ids for " + std::to_string(messages.cols()) + " messages");
    if (out.size() != messages.rows())
      throw invalid_input("output has length " + std::to_string(out.size()) + ", messages have length " +
                          std::to_string(messages.rows()));
    if (!(pattern::from_ids(m_responders.nodes(), ids) == m_responders))
      throw invalid_input("the ids passed to apply() are not the responders this plan was solved for");
    const Index d = messages.rows();
    const Index stride = messages.outerStride();
    const Scalar* base = messages.data();
    const Index bad = detail::weighted_sum<Scalar>(
        messages.cols(), d, [&](Index j) { return m_cast[ids[static_cast<std::size_t>(j)]]; },
        [&](Index j) { return base + j * stride; }, out.data());
    if (bad >= 0) report_non_finite(ids, messages, bad);
  }

 private:
  [[noreturn]] static void report_non_finite(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                             Index block) {
    const Index b = block * detail::weighted_sum_block;
    const Index len = std::min(detail::weighted_sum_block, messages.rows() - b);
    for (Index j = 0; j < messages.cols(); ++j)
      for (Index e = b; e < b + len; ++e)
        if (!std::isfinite(messages(e, j)))
          throw invalid_input("message of node " + std::to_string(ids[static_cast<std::size_t>(j)]) +
                                  " has a non-finite value at element " + std::to_string(e),
                              ids[static_cast<std::size_t>(j)]);
    throw invalid_input("the decoded sum overflows near element " + std::to_string(b) + " (messages are finite)");
  }

  pattern m_responders;
  vector<double> m_coefficients;
  vector<Scalar> m_cast;
  double m_residual, m_amplification;
};

}  // namespace gradcode
