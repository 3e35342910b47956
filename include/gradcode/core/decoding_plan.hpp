// SPDX-License-Identifier: MIT
// A solved decoding step for one responder pattern: the coefficients a with aᵀB_F = 1ᵀ (checked)
// and the streaming apply ĝ = Σ_{j∈F} a_j · message_j. Plans are immutable and shared between
// threads through the per-pattern caches of the codes.
//
// Accuracy near underflow. The code's acceptance test 4·ε·amplification ≤ max_relative_error
// assumes relative rounding. Below the normal range (|x| < 2^-126 in float, 2^-1022 in double)
// rounding is absolute: each product of the encode and of the decode may be off by up to half
// of denorm_min, whatever the size of the result. The plan counts those products (C = Σ_j |a_j|·
// nnz(b_j) + |F|) and apply() bounds their effect as denorm_min·C·√d / ‖ĝ‖₂; when that exceeds
// what is left of max_relative_error (at least half of it), apply() throws invalid_input instead
// of returning the inaccurate sum — the mirror of the overflow check. Remedy: scale the partial
// gradients up (by 2^k, as loss scaling does) before encoding, and the sum down after decoding.
// A sum that is exactly zero is accepted unless every message is tiny too. In practice this refuses only
// float gradients of norm below ~1e-35 (tests/core/decoding_plan_test.cpp,
// tests/codes/linear_code_test.cpp "[subnormal]").
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
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
  /// `absolute_amplification` is C = Σ_j |a_j|·(products in message j) + |F|, the number of
  /// roundings that can each add an absolute error near underflow (header comment); < 0 assumes
  /// one product per message, C = Σ_j |a_j| + |F|. `max_relative_error` is the accepted relative
  /// error of the code that solved the plan (≤ 0: 1e-9 for double, 1e-4 for float). Throws
  /// invalid_parameters when the coefficients do not have one entry per node or are not finite,
  /// or the amplification is negative or not finite.
  decoding_plan(pattern responders, vector<double> coefficients, double residual, double amplification,
                double absolute_amplification = -1, double max_relative_error = 0)
      : m_responders(std::move(responders)),
        m_coefficients(std::move(coefficients)),
        m_residual(residual),
        m_amplification(amplification) {
    if (m_coefficients.size() != m_responders.nodes())
      throw invalid_parameters("decoding plan: " + std::to_string(m_coefficients.size()) + " coefficients for a pattern over " +
                               std::to_string(m_responders.nodes()) + " nodes; need one per node");
    if (!m_coefficients.allFinite()) throw invalid_parameters("decoding plan: the coefficients are not all finite");
    if (!(amplification >= 0) || !std::isfinite(amplification))
      throw invalid_parameters("decoding plan: amplification " + detail::format_g(amplification) + " must be finite and >= 0");
    m_cast = m_coefficients.template cast<Scalar>();
    double a_sum = 0;
    for (Index i = 0; i < m_coefficients.size(); ++i)
      if (m_responders.contains(i)) a_sum += std::abs(m_coefficients[i]);
    const double products = absolute_amplification >= 0 && std::isfinite(absolute_amplification)
                                ? absolute_amplification
                                : a_sum + static_cast<double>(m_responders.count());
    m_budget = max_relative_error > 0 && std::isfinite(max_relative_error) ? max_relative_error
                                                                           : (sizeof(Scalar) >= sizeof(double) ? 1e-9 : 1e-4);
    m_relative_estimate = 4 * static_cast<double>(std::numeric_limits<Scalar>::epsilon()) * amplification;
    // What the underflow term may use: the rest of the budget, and at least half of it (a plan
    // built by hand may carry an amplification its code would have refused).
    const double allowance = m_budget - std::min(m_relative_estimate, m_budget / 2);
    m_floor_numerator = static_cast<double>(std::numeric_limits<Scalar>::denorm_min()) * products;
    m_floor = m_floor_numerator / allowance;
  }

  const pattern& responders() const noexcept { return m_responders; }
  /// a_i for node i (0 for non-responders), as solved in double. Throws invalid_input when
  /// node ∉ [0, n).
  double coefficient(Index node) const {
    if (node < 0 || node >= m_coefficients.size())
      throw invalid_input(
          "decoding plan: node id " + std::to_string(node) + " is outside [0, " + std::to_string(m_coefficients.size()) + ")",
          node);
    return m_coefficients[node];
  }
  const vector<double>& coefficients() const noexcept { return m_coefficients; }
  /// ‖B_Fᵀa − 1‖_∞ of the solve.
  double residual() const noexcept { return m_residual; }
  /// Σ|a_j|‖b_j‖₁, the rounding amplification of this decode.
  double amplification() const noexcept { return m_amplification; }

  /// out = Σ_j a_{ids[j]} · messages.col(j). `ids` must be exactly the plan's responders (any
  /// order); messages is d × |ids|; out has length d and must not overlap the messages. Throws
  /// invalid_input on mismatched sizes, ids or overlapping memory (before `out` is written), and
  /// on a NaN/Inf message (naming the node), a sum that overflows, or a sum so small that
  /// underflow makes it inaccurate (header comment) — `out` is then unspecified.
  void apply(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages, Eigen::Ref<vector<Scalar>> out) const {
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
    if (detail::overlaps(out.data(), d, base, messages.cols() > 0 ? (messages.cols() - 1) * stride + d : 0))
      throw invalid_input("apply: the output overlaps the messages (the kernel reads every message while writing out)");
    const Index bad = detail::weighted_sum<Scalar>(
        messages.cols(), d, [&](Index j) { return m_cast[ids[static_cast<std::size_t>(j)]]; },
        [&](Index j) { return base + j * stride; }, out.data());
    if (bad >= 0) report_non_finite(ids, messages, bad);
    check_underflow(messages, out);
  }

  /// Smallest ‖ĝ‖₂ that apply() accepts for d-element messages (header comment): below it the
  /// underflow of the products would exceed the error budget. 0 < this ≪ 1 for every plan a code
  /// accepted (float: ~1e-40·√d·C).
  double smallest_accurate_norm(Index d) const noexcept { return m_floor * std::sqrt(static_cast<double>(d)); }

 private:
  void check_underflow(const Eigen::Ref<const matrix<Scalar>>& messages, const Eigen::Ref<vector<Scalar>>& out) const {
    const Index d = out.size();
    const double threshold = smallest_accurate_norm(d);
    // ‖ĝ‖₂ ≥ |ĝ_e|: for any gradient of ordinary size the first element settles it.
    double largest = 0;
    for (Index e = 0; e < d; ++e) {
      const double x = std::abs(static_cast<double>(out[e]));
      if (x >= threshold) return;
      largest = std::max(largest, x);
    }
    double norm = 0;
    if (largest > 0) {  // scaled, so that squares of subnormals do not underflow to 0
      double sum = 0;
      for (Index e = 0; e < d; ++e) {
        const double x = static_cast<double>(out[e]) / largest;
        sum += x * x;
      }
      norm = largest * std::sqrt(sum);
      if (norm >= threshold) return;
    } else {
      // ĝ = 0 exactly: from exactly-zero messages (then exact), or from messages that cancel. If
      // they are above the floor, underflow played no part (cancellation is what the relative
      // estimate covers); only tiny messages leave the result in doubt.
      const double scale = messages.size() > 0 ? static_cast<double>(messages.cwiseAbs().maxCoeff()) : 0.0;
      if (scale == 0 || scale >= threshold) return;
    }
    const double estimate = m_relative_estimate + (norm > 0 ? m_floor_numerator * std::sqrt(static_cast<double>(d)) / norm
                                                            : std::numeric_limits<double>::infinity());
    throw invalid_input(
        "the decoded sum is too small to be accurate in " + std::string(sizeof(Scalar) >= sizeof(double) ? "double" : "float") +
        ": ‖ĝ‖₂ = " + detail::format_g(norm) + " over d = " + std::to_string(d) +
        " elements, where underflow (absolute rounding below the normal range) puts the estimated relative error at " +
        detail::format_g(estimate) + " > " + detail::format_g(m_budget) +
        "; scale the partial gradients up (e.g. by 2^k) before encoding and the sum down after decoding");
  }

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
  double m_budget = 0, m_relative_estimate = 0;  // max_relative_error, 4·ε·amplification
  double m_floor_numerator = 0, m_floor = 0;     // denorm_min·C, and that over the underflow allowance
};

}  // namespace gradcode
