// SPDX-License-Identifier: MIT
// Reed–Solomon codes over R and C for vector messages: node i sends p(α_i), the values at α_i of
// a vector polynomial p of degree < K; the decoder returns p(β_1), …, p(β_m) from any f ≥ K
// messages, after locating and excluding corrupted ones (gholami2025 §V-B steps 2 and 4: relays
// recover f_intraC^(n), the server f_C2S; Theorem 1's a adversaries need f ≥ K + 2a).
//
// Algorithm of decode():
//   1. locate(): P random projections Z = Yᵀ R of the f received vectors in one streaming pass
//      (R real, uniform, drawn once per code from robust_options::projection_seed), then
//      error_locator.hpp on Z (Berlekamp–Welch over C in an Arnoldi basis).
//   2. interpolate(): D = Φ_β Qᴴ from the Arnoldi basis of the kept nodes (arnoldi_basis.hpp;
//      cached per kept set, never a monomial Vandermonde inverse), then the streaming product
//      [p(β_1) … p(β_m)] = Y_kept · Dᵀ (Eigen GEMM over the message columns, no copy).
// Complex points: a message of L reals is read as L/2 complex numbers (consecutive pairs), so a
// real gradient crosses the network as real numbers and the load is unchanged.
//
// Rounding check (as the linear codes' decode_options::max_relative_error; for a standalone code
// only when robust_options::max_relative_error is set): a decode is accepted only when its
// estimated relative error ε_Scalar·A is within the budget. A, the error amplification, is
//   A = √(mean_l Σ_j |D_lj|² w_j² max(1, a_j)²) / t  +  ‖D Φ_kept − Φ_β‖_F · ‖w_kept‖ / (√m · t · ε_Scalar).
// The first term is the growth of the messages' rounding in the accuracy metric ‖ĝ − g‖/‖g‖:
// root-sum-square over nodes and targets, since independent roundings add in quadrature (the
// worst-case max_l Σ_j |D_lj| w_j refused float rounds of the unit circle that decode to 1e-6).
// The second is the error of D itself, computed in double, measured as how far D is from
// reproducing the polynomials of degree < K (Φ: the Arnoldi basis re-evaluated by its
// recurrence); it dominates for ill-conditioned points, where D is wrong long before its size
// shows it (the paper's points at N = 12–13: error 8e2–5e4 at a Lebesgue constant of 8e6).
// w_j and t are the ℓ2 norms of the data coefficients in node j's message and in a target value
// (reed_solomon_params::node_scales, target_scale; 1 for a standalone code, which then measures
// relative to its messages); a_j, the error amplification a message already carries, compounds
// two layers (polynomial_hgc::server_decode with the relays' reports). Being an RMS estimate,
// ε·A has no factor 4 (the linear codes' worst-case sum has): measured errors stay below it,
// ≤ 0.72·ε·A for N ≤ 32 and ≤ 0.94·ε·A at N = 64 in float, the tightest case
// (tests/hierarchical/polynomial_test.cpp "… the estimated error bounds the measured error …").
// A refused decode throws not_decodable with the numbers and leaves `out` untouched.
//
// Threat model of the projections: adversaries that do not know R (the paper's nodes that "send
// incorrect computations") are located with probability 1. A corruption chosen in the orthogonal
// complement of the P columns of R would pass step 1 unseen; deployments facing adversaries
// that could learn R should keep projection_seed secret and rebuild codes with a fresh one.
// One header (~670 lines): one class over one state (points, bases, scales); error location is in error_locator.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/detail/plan_cache.hpp"
#include "gradcode/detail/splitmix.hpp"
#include "gradcode/robust/arnoldi_basis.hpp"
#include "gradcode/robust/error_locator.hpp"
#include "gradcode/robust/evaluation_points.hpp"

namespace gradcode {

/// How robust decoding runs; all defaulted.
struct robust_options {
  /// τ: relative parity residual above which a set of messages counts as inconsistent (someone
  /// corrupted). 0 = the scalar's default: 1e-11 for double, 2e-6 for float, ≥ 15× the honest
  /// rounding measured at N = 32 with unit-circle points (tests/robust/reed_solomon_test.cpp
  /// "honest rounding …"). A corruption below τ relative to the messages is indistinguishable
  /// from rounding and is not located; it moves the result by at most ~τ × the reported
  /// amplification (the same test file, "… below the tolerance …"), which the defaults keep
  /// under the 1e-9 (double) / 1e-4 (float) accuracy targets for amplification ≤ 50. The check
  /// sees a corruption at node j weighted by ‖h_j‖, the norm of its column of the parity-check
  /// matrix, which is small for a node between missing ones (0.02 measured at N = 32 with 3
  /// nodes missing nearby): there the smallest located corruption is τ/‖h_j‖. In float that
  /// lets a 1e-3 relative corruption next to stragglers pass and cost up to 3e-4 relative error.
  double corruption_tolerance = 0;
  /// P, random projections the locator works on (1..8; 2 suffice in theory, 3 add margin).
  Index projections = 3;
  /// Seed of the projection matrix R (message length × P, uniform in [−1, 1), drawn once per code).
  std::uint64_t projection_seed = 0x9e3779b97f4a7c15ull;
  /// false: trust every message (no projections, no check), decode from all f by least squares.
  bool locate_corrupted = true;
  /// Cap on located corrupted nodes per decode; < 0 = ⌊(f − K)/2⌋, all the redundancy allows.
  Index max_corrections = -1;
  /// A kept set whose interpolation has Lebesgue constant max_l Σ_j |D_lj| above this is
  /// reported as not_decodable (rounding would be amplified past ~1e-8 in double). > 0.
  double max_amplification = 1e8;
  /// Largest accepted estimated relative error of a decode, ε_Scalar·A (see
  /// robust_report::amplification; the linear codes' decode_options::max_relative_error): beyond
  /// it the decode throws not_decodable and leaves `out` untouched. 0 = the scalar's default,
  /// 1e-9 for double, 1e-4 for float (DESIGN.md accuracy targets), checked when the code knows
  /// its data (reed_solomon_params::node_scales, as polynomial_hgc's layers do); a standalone
  /// code measures rounding only relative to its messages and checks it only when this is set
  /// (> 0): its Lebesgue constant bounds the error for the worst data, not the data it gets
  /// (Chebyshev points at n = 10, K = 6 decode float to 3e-5 where ε·Λ = 3e-4). Finite, >= 0.
  double max_relative_error = 0;
  /// Interpolation plans kept (LRU) per code; 0 disables caching.
  std::size_t plan_cache_size = 4096;
};

/// What a robust decode found.
struct robust_report {
  std::vector<Index> corrupted{};  ///< node ids located as corrupted and excluded, ascending (incl. non-finite messages)
  std::vector<Index> used{};       ///< node ids the result was interpolated from, ascending
  double residual = 0;             ///< relative parity residual of `used` on the projections (0 when unchecked)
  double amplification = 0;        ///< Lebesgue constant max_l Σ_j |D_lj| of the interpolation
  /// A (header note): how much the decode amplifies the data's rounding, incl. the error of D
  /// and the input amplifications a_j; pass it on as a_j to a decode of this result.
  double error_amplification = 0;
  double estimated_error = 0;  ///< ε_Scalar·A, ≤ robust_options::max_relative_error when checked
  bool checked = false;        ///< the messages had redundancy and were checked for corruption
};

/// What the code is.
struct reed_solomon_params {
  std::vector<std::complex<double>> nodes{};    ///< α_1..α_n: node i's message is p(α_i)
  std::vector<std::complex<double>> targets{};  ///< β_1..β_m: the decoder returns p(β_1), …, p(β_m)
  Index dimension = 0;                          ///< K: p has degree < K (K coefficients)
  Index message_length = 0;                     ///< reals per message (even unless every point is real)
  /// Carry pairs of reals as complex units even when every point is real (a point family that
  /// is complex by design keeps its message layout whatever rounding does to its points).
  bool complex_units = false;
  /// w_j ≥ 0 per node (empty = all 1): node j's message is a combination of the underlying data
  /// whose coefficients have ℓ2 norm w_j, and each target value one with ℓ2 norm target_scale
  /// (t > 0). Only the error estimate reads them: rounding is then measured relative to the data,
  /// and given scales turn the check on (robust_options::max_relative_error).
  std::vector<double> node_scales{};
  double target_scale = 1;
};

namespace detail {

/// τ default per scalar (robust_options::corruption_tolerance = 0).
template <class Scalar>
constexpr double default_corruption_tolerance() {
  return std::is_same_v<Scalar, float> ? 2e-6 : 1e-11;
}

/// Error budget default per scalar (robust_options::max_relative_error = 0).
template <class Scalar>
constexpr double default_max_relative_error() {
  return sizeof(Scalar) >= sizeof(double) ? 1e-9 : 1e-4;
}

/// Longest message a Reed–Solomon code accepts, in reals (2^40: every length product stays far
/// inside Index).
inline constexpr Index rs_max_message_length = Index{1} << 40;

/// Throws invalid_parameters naming the first robust_options field outside its range.
inline void check_robust_options(const robust_options& o, Index max_projections) {
  if (o.projections < 1 || o.projections > max_projections)
    throw invalid_parameters("robust_options::projections = " + std::to_string(o.projections) +
                             "; need 1 <= P <= " + std::to_string(max_projections) + " (3 is the default)");
  // τ ≥ 1 would accept any set (the relative parity residual is ≤ 1): nobody would be located.
  if (!(o.corruption_tolerance >= 0 && std::isfinite(o.corruption_tolerance) &&
        (o.corruption_tolerance < 1 || !o.locate_corrupted)))
    throw invalid_parameters("robust_options::corruption_tolerance = " + format_g(o.corruption_tolerance) +
                             "; need 0 <= τ < 1 (0 = the scalar's default, e.g. 1e-9 fits); locate_corrupted = false "
                             "trusts every message instead (τ is then unused, any finite τ >= 0 passes)");
  if (!(o.max_amplification > 0) || !std::isfinite(o.max_amplification))
    throw invalid_parameters("robust_options::max_amplification = " + format_g(o.max_amplification) +
                             "; need a finite value > 0 (1e8 is the default)");
  if (!(o.max_relative_error >= 0) || !std::isfinite(o.max_relative_error))
    throw invalid_parameters("robust_options::max_relative_error = " + format_g(o.max_relative_error) +
                             "; need a finite value >= 0 (0 = the scalar's default: 1e-9 double, 1e-4 float)");
}

}  // namespace detail

template <class Scalar>
class reed_solomon_code {
 public:
  using scalar_type = Scalar;
  using complex = std::complex<double>;
  /// Upper bound of robust_options::projections.
  static constexpr Index max_projections = 8;

  /// Throws invalid_parameters on repeated or non-finite points, n or m outside
  /// [1, max_layer_nodes], K outside [1, n], a message length outside [1, 2^40] (or odd with
  /// complex points), node scales of the wrong count or not finite and >= 0, a target scale not
  /// finite and > 0, or a robust_options field out of range (naming it).
  explicit reed_solomon_code(reed_solomon_params params, const robust_options& options = {})
      : m_nodes(std::move(params.nodes)),
        m_targets(std::move(params.targets)),
        m_dimension(params.dimension),
        m_length(params.message_length),
        m_options(options),
        m_node_scales(std::move(params.node_scales)),
        m_target_scale(params.target_scale),
        m_cache(std::make_unique<detail::plan_cache<plan>>(options.plan_cache_size)) {
    const auto n = static_cast<Index>(m_nodes.size());
    if (n < 1) throw invalid_parameters("Reed–Solomon code: no nodes");
    if (n > max_layer_nodes)
      throw invalid_parameters("Reed–Solomon code: n = " + std::to_string(n) +
                               " nodes; need n <= " + std::to_string(max_layer_nodes));
    if (m_targets.empty()) throw invalid_parameters("Reed–Solomon code: no targets");
    if (static_cast<Index>(m_targets.size()) > max_layer_nodes)
      throw invalid_parameters("Reed–Solomon code: m = " + std::to_string(m_targets.size()) +
                               " targets; need m <= " + std::to_string(max_layer_nodes));
    if (m_dimension < 1 || m_dimension > n)
      throw invalid_parameters("Reed–Solomon code: K = " + std::to_string(m_dimension) +
                               " must be in [1, n = " + std::to_string(n) + "]");
    m_real = !params.complex_units;
    std::vector<complex> all = m_nodes;
    all.insert(all.end(), m_targets.begin(), m_targets.end());
    for (const auto& x : all) {
      if (!std::isfinite(x.real()) || !std::isfinite(x.imag()))
        throw invalid_parameters("Reed–Solomon code: a point is not finite");
      if (x.imag() != 0) m_real = false;
    }
    {  // distinct: sort by (Re, Im), compare neighbours (O((n + m) log(n + m)))
      std::vector<std::size_t> order(all.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      auto key = [&](std::size_t i) { return std::make_pair(all[i].real(), all[i].imag()); };
      std::sort(order.begin(), order.end(),
                [&](std::size_t a, std::size_t b) { return key(a) < key(b) || (key(a) == key(b) && a < b); });
      for (std::size_t t = 1; t < order.size(); ++t)
        if (all[order[t - 1]] == all[order[t]])
          throw invalid_parameters("Reed–Solomon code: evaluation points " + std::to_string(order[t - 1]) + " and " +
                                   std::to_string(order[t]) + " coincide; the n + m points must be distinct");
    }
    if (m_length < 1) throw invalid_parameters("Reed–Solomon code: message length " + std::to_string(m_length) + " < 1");
    if (m_length > detail::rs_max_message_length)
      throw invalid_parameters("Reed–Solomon code: message length " + std::to_string(m_length) + " > 2^40 reals");
    if (!m_real && m_length % 2 != 0)
      throw invalid_parameters("Reed–Solomon code: complex points carry pairs of reals, message length " +
                               std::to_string(m_length) + " must be even (" + std::to_string(m_length + 1) + " would fit)");
    detail::check_robust_options(m_options, max_projections);
    m_check_error = !m_node_scales.empty() || m_options.max_relative_error > 0;
    if (m_options.corruption_tolerance == 0) m_options.corruption_tolerance = detail::default_corruption_tolerance<Scalar>();
    if (m_options.max_relative_error == 0) m_options.max_relative_error = detail::default_max_relative_error<Scalar>();
    if (!m_node_scales.empty() && static_cast<Index>(m_node_scales.size()) != n)
      throw invalid_parameters("Reed–Solomon code: " + std::to_string(m_node_scales.size()) +
                               " node scales for n = " + std::to_string(n) + " nodes (give one per node, or none)");
    for (std::size_t j = 0; j < m_node_scales.size(); ++j)
      if (!(m_node_scales[j] >= 0) || !std::isfinite(m_node_scales[j]))
        throw invalid_parameters("Reed–Solomon code: node scale " + std::to_string(j) + " = " +
                                 detail::format_g(m_node_scales[j]) + "; need a finite value >= 0");
    if (!(m_target_scale > 0) || !std::isfinite(m_target_scale))
      throw invalid_parameters("Reed–Solomon code: target scale " + detail::format_g(m_target_scale) +
                               "; need a finite value > 0");
    // R (units × P), uniform in [−1, 1), drawn once per code; stored per real of a message (each
    // value twice for complex units) so that the projection streams the messages as reals.
    std::uint64_t seed = m_options.projection_seed;
    const Index w = m_real ? 1 : 2;
    try {
      m_projection.resize(m_length, m_options.projections);
    } catch (const std::bad_alloc&) {
      throw invalid_parameters("Reed–Solomon code: cannot allocate the projection matrix R of " + std::to_string(m_length) +
                               " × " + std::to_string(m_options.projections) +
                               " reals (message length × P); use shorter messages");
    }
    for (Index p = 0; p < m_projection.cols(); ++p)
      for (Index u = 0; u < m_length / w; ++u) {
        const auto r = static_cast<Scalar>(detail::splitmix_uniform(seed));
        for (Index c = 0; c < w; ++c) m_projection(w * u + c, p) = r;
      }
  }

  reed_solomon_code(const reed_solomon_code& o)
      : m_nodes(o.m_nodes),
        m_targets(o.m_targets),
        m_dimension(o.m_dimension),
        m_length(o.m_length),
        m_real(o.m_real),
        m_options(o.m_options),
        m_node_scales(o.m_node_scales),
        m_check_error(o.m_check_error),
        m_target_scale(o.m_target_scale),
        m_projection(o.m_projection),
        m_cache(std::make_unique<detail::plan_cache<plan>>(o.m_options.plan_cache_size)) {}
  reed_solomon_code(reed_solomon_code&&) noexcept = default;
  reed_solomon_code& operator=(reed_solomon_code o) noexcept {
    std::swap(m_nodes, o.m_nodes);
    std::swap(m_targets, o.m_targets);
    std::swap(m_dimension, o.m_dimension);
    std::swap(m_length, o.m_length);
    std::swap(m_real, o.m_real);
    std::swap(m_options, o.m_options);
    std::swap(m_node_scales, o.m_node_scales);
    std::swap(m_check_error, o.m_check_error);
    std::swap(m_target_scale, o.m_target_scale);
    std::swap(m_projection, o.m_projection);
    std::swap(m_cache, o.m_cache);
    return *this;
  }

  /// n, the number of nodes.
  Index nodes() const noexcept { return static_cast<Index>(m_nodes.size()); }
  /// K: any K messages determine p.
  Index dimension() const noexcept { return m_dimension; }
  /// m, the number of targets.
  Index targets() const noexcept { return static_cast<Index>(m_targets.size()); }
  /// Reals per message.
  Index message_length() const noexcept { return m_length; }
  /// m · message_length: the most decode() can write.
  Index output_length() const noexcept { return targets() * m_length; }
  /// True when every point is real (real arithmetic, one real per unit).
  bool real() const noexcept { return m_real; }
  const std::vector<complex>& node_points() const noexcept { return m_nodes; }
  const std::vector<complex>& target_points() const noexcept { return m_targets; }
  const robust_options& options() const noexcept { return m_options; }
  /// The accepted estimated relative error (robust_options::max_relative_error or its default).
  double max_relative_error() const noexcept { return m_options.max_relative_error; }
  /// True when decodes check ε·A ≤ max_relative_error() (node scales given, or
  /// max_relative_error set).
  bool checks_error() const noexcept { return m_check_error; }
  /// w_j of node j (1 when no node scales were given).
  double node_scale(Index node) const noexcept {
    return m_node_scales.empty() ? 1.0 : m_node_scales[static_cast<std::size_t>(node)];
  }
  /// t, the target scale.
  double target_scale() const noexcept { return m_target_scale; }
  /// Most corrupted messages a decode from `responders` messages locates: ⌊(f − K)/2⌋ (capped).
  Index max_corrections(Index responders) const noexcept {
    Index e = responders >= m_dimension ? (responders - m_dimension) / 2 : 0;
    return m_options.max_corrections >= 0 ? std::min(e, m_options.max_corrections) : e;
  }

  /// True when `p` holds at least K responders (and is over n nodes).
  bool decodable(const pattern& p) const noexcept { return p.nodes() == nodes() && p.count() >= m_dimension; }

  /// Step 1 alone: which of the messages (message_length × |ids|, column j from node ids[j]) are
  /// corrupted. Reads every message once. Throws invalid_input (ids, shapes), not_decodable
  /// (fewer than K), corrupted_result (beyond the budget; suspects = node ids).
  robust_report locate(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages) const {
    const pattern p = check_call(ids, messages);
    robust_report report;
    const auto f = static_cast<Index>(ids.size());
    if (!m_options.locate_corrupted || f == m_dimension) {
      report.used = p.ids();
      return report;
    }
    const matrix<complex> z = project(messages, static_cast<Index>(ids.size()));
    std::vector<complex> pts(static_cast<std::size_t>(f));
    for (Index j = 0; j < f; ++j)
      pts[static_cast<std::size_t>(j)] = m_nodes[static_cast<std::size_t>(ids[static_cast<std::size_t>(j)])];
    const auto found = locate_errors(pts, ids, m_dimension, z, m_options.corruption_tolerance, m_options.max_corrections);
    for (Index r : found.rows) report.corrupted.push_back(ids[static_cast<std::size_t>(r)]);
    for (Index r : found.kept) report.used.push_back(ids[static_cast<std::size_t>(r)]);
    std::sort(report.corrupted.begin(), report.corrupted.end());
    std::sort(report.used.begin(), report.used.end());
    report.residual = found.residual;
    report.checked = true;
    return report;
  }

  /// Step 2 alone: out = the first out.size() reals of [p(β_1); …; p(β_m)], interpolated from the
  /// messages of the nodes in `used` (a subset of ids of size ≥ K; the other columns are not
  /// read). `input_amplification` (empty, or one per column of `messages`, finite and >= 0):
  /// a_j, the error amplification each message already carries (the robust_report of the decode
  /// that produced it). Returns the error amplification A (robust_report). Throws
  /// invalid_input (ids, shapes, a non-finite used message, bad input amplification), or
  /// not_decodable (|used| < K, Lebesgue constant above max_amplification, or estimated error
  /// ε·A above max_relative_error); `out` is untouched by every refusal (but holds
  /// unspecified values when finite messages decode to values past the Scalar range,
  /// invalid_input).
  double interpolate(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages, std::span<const Index> used,
                     Eigen::Ref<vector<Scalar>> out, std::span<const double> input_amplification = {}) const {
    return interpolate_checked(ids, messages, used, out, input_amplification, false);
  }

  /// locate() then interpolate(): p(β_1..β_m) (first out.size() reals) from the messages of
  /// nodes `ids`, corrupted ones excluded. Returns what was found. Throws invalid_input (bad ids,
  /// shapes, a non-finite message when locate_corrupted is off), not_decodable (fewer than K
  /// messages, an ill-conditioned kept set, or an estimated error above max_relative_error),
  /// corrupted_result (corruption beyond the budget, or a non-finite message with no redundancy
  /// to exclude it). `input_amplification` as for interpolate(). `out` is untouched on refusal.
  robust_report decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                       Eigen::Ref<vector<Scalar>> out, std::span<const double> input_amplification = {}) const {
    check_input_amplification(ids, messages, input_amplification);
    robust_report report = locate(ids, messages);
    // after a check every kept message has finite projections, hence is finite
    report.error_amplification =
        interpolate_checked(ids, messages, report.used, out, input_amplification, report.checked, &report.amplification);
    report.estimated_error = estimated_error(report.error_amplification);
    return report;
  }

  /// ε_Scalar·A: the estimated relative error of a decode with error amplification A.
  static double estimated_error(double amplification) noexcept {
    return static_cast<double>(std::numeric_limits<Scalar>::epsilon()) * amplification;
  }

  /// Number of cached interpolation plans.
  std::size_t cached_plans() const { return m_cache ? m_cache->size() : 0; }

 private:
  struct plan {
    std::vector<Index> ids;  // kept nodes, ascending
    matrix<complex> d;       // m × |ids|
    double lebesgue = 0;     // max_l Σ_j |D_lj|
    double rounding = 0;     // √(mean_l Σ_j |D_lj|² w_j²) / t
    double solve = 0;        // √(mean_l ‖(D Φ_kept − Φ_β)_l‖²) · ‖w_kept‖ / t: D's own error (double)
    /// A (header note) with input amplifications a (per column of d, ≥ 1), or none.
    double error_amplification(const std::vector<double>* a) const {
      const double own = solve / static_cast<double>(std::numeric_limits<Scalar>::epsilon());
      if (!a) return rounding + own;
      double sq = 0;
      for (Index l = 0; l < d.rows(); ++l)
        for (Index t = 0; t < d.cols(); ++t)
          sq += std::norm(d(l, t)) * w2[static_cast<std::size_t>(t)] * (*a)[static_cast<std::size_t>(t)] *
                (*a)[static_cast<std::size_t>(t)];
      return std::sqrt(sq / static_cast<double>(d.rows())) / t_scale + own;
    }
    std::vector<double> w2;  // w_j² of the kept nodes
    double t_scale = 1;
  };

  void check_input_amplification(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                 std::span<const double> a) const {
    if (a.empty()) return;
    if (a.size() != ids.size() || static_cast<Index>(a.size()) != messages.cols())
      throw invalid_input("Reed–Solomon decode: " + std::to_string(a.size()) + " input amplifications for " +
                          std::to_string(ids.size()) + " node ids (give one per message, or none)");
    for (std::size_t j = 0; j < a.size(); ++j)
      if (!(a[j] >= 0) || !std::isfinite(a[j]))
        throw invalid_input("Reed–Solomon decode: the input amplification of node " + std::to_string(ids[j]) + " is " +
                                detail::format_g(a[j]) + "; need a finite value >= 0",
                            ids[j]);
  }

  double interpolate_checked(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                             std::span<const Index> used, Eigen::Ref<vector<Scalar>> out,
                             std::span<const double> input_amplification, bool known_finite, double* lebesgue = nullptr) const {
    check_call(ids, messages);
    check_input_amplification(ids, messages, input_amplification);
    if (static_cast<Index>(used.size()) < m_dimension)
      throw not_decodable(
          std::to_string(used.size()) + " messages to interpolate from, " + std::to_string(m_dimension) + " needed", used.size(),
          static_cast<std::size_t>(m_dimension));
    if (out.size() > output_length())
      throw invalid_input("Reed–Solomon decode: output of length " + std::to_string(out.size()) +
                          " > m · message length = " + std::to_string(output_length()));
    const pattern kept = pattern::from_ids(nodes(), used);
    // A moved-from code (null cache) stays usable, uncached.
    const auto pl = m_cache ? m_cache->get_or_make(kept, [&] { return make_plan(kept); }) : make_plan(kept);
    // W (f × m) in the call's column order; zero rows for columns not used.
    std::vector<Index> column(static_cast<std::size_t>(nodes()), -1);
    for (std::size_t t = 0; t < pl->ids.size(); ++t) column[static_cast<std::size_t>(pl->ids[t])] = static_cast<Index>(t);
    std::vector<bool> in_use(ids.size(), false);
    Index matched = 0;
    for (std::size_t j = 0; j < ids.size(); ++j)
      if (column[static_cast<std::size_t>(ids[j])] >= 0) in_use[j] = true, ++matched;
    if (matched != static_cast<Index>(pl->ids.size()))
      throw invalid_input("Reed–Solomon interpolate: `used` lists nodes whose messages were not passed");
    // The rounding check, before `out` is touched.
    double carried = 1, amplification = 0;
    if (!input_amplification.empty()) {
      std::vector<double> a(pl->ids.size(), 1.0);
      for (std::size_t j = 0; j < ids.size(); ++j)
        if (in_use[j]) {
          a[static_cast<std::size_t>(column[static_cast<std::size_t>(ids[j])])] = std::max(1.0, input_amplification[j]);
          carried = std::max(carried, input_amplification[j]);
        }
      amplification = pl->error_amplification(&a);
    } else {
      amplification = pl->error_amplification(nullptr);
    }
    if (lebesgue) *lebesgue = pl->lebesgue;
    const double estimate = estimated_error(amplification);
    if (m_check_error && !(estimate <= m_options.max_relative_error))
      throw not_decodable(
          "interpolating from these " + std::to_string(pl->ids.size()) + " nodes would give an estimated relative error " +
              detail::format_g(estimate) + " = ε·A > " + detail::format_g(m_options.max_relative_error) +
              " (error amplification A = " + detail::format_g(amplification) + ": rounding " + detail::format_g(pl->rounding) +
              ", error of the decoding matrix " + detail::format_g(pl->solve) +
              (input_amplification.empty() ? std::string()
                                           : ", the messages' own amplification up to " + detail::format_g(carried)) +
              "; Lebesgue constant " + detail::format_g(pl->lebesgue) + ": ill-conditioned evaluation points)",
          pl->ids.size(), static_cast<std::size_t>(m_dimension));
    if (!known_finite) {
      for (std::size_t j = 0; j < ids.size(); ++j)
        if (in_use[j] && !messages.col(static_cast<Index>(j)).allFinite()) report_non_finite(ids[j]);
    }
    if (m_real)
      apply<Scalar>(ids, messages, *pl, column, in_use, out);
    else
      apply<std::complex<Scalar>>(ids, messages, *pl, column, in_use, out);
    return amplification;
  }

  pattern check_call(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages) const {
    if (static_cast<Index>(ids.size()) != messages.cols())
      throw invalid_input("Reed–Solomon decode: " + std::to_string(ids.size()) + " node ids for " +
                          std::to_string(messages.cols()) + " messages");
    if (messages.rows() != m_length)
      throw invalid_input("Reed–Solomon decode: messages have length " + std::to_string(messages.rows()) + ", the code sends " +
                          std::to_string(m_length));
    pattern p = pattern::from_ids(nodes(), ids);
    if (p.count() < m_dimension)
      throw not_decodable(std::to_string(p.count()) + " of " + std::to_string(nodes()) + " messages received, " +
                              std::to_string(m_dimension) + " needed",
                          static_cast<std::size_t>(p.count()), static_cast<std::size_t>(m_dimension));
    return p;
  }

  std::shared_ptr<const plan> make_plan(const pattern& kept) const {
    auto pl = std::make_shared<plan>();
    pl->ids = kept.ids();
    std::vector<complex> pts;
    for (Index id : pl->ids) pts.push_back(m_nodes[static_cast<std::size_t>(id)]);
    matrix<complex> reproduced;  // D Φ_kept − Φ_β (m × K)
    try {
      const arnoldi_basis basis(pts, m_dimension);
      pl->d = evaluation_matrix(basis, m_dimension, m_targets);
      reproduced = pl->d * basis.evaluate(pts, m_dimension) - basis.evaluate(m_targets, m_dimension);
    } catch (const invalid_parameters& e) {  // distinct points, numerically coincident on this subset
      throw not_decodable("the points of these " + std::to_string(pl->ids.size()) + " nodes are numerically coincident (" +
                              detail::untagged(e) + ")",
                          pl->ids.size(), static_cast<std::size_t>(m_dimension));
    }
    pl->lebesgue = pl->d.cwiseAbs().rowwise().sum().maxCoeff();
    pl->t_scale = m_target_scale;
    double w_norm = 0;
    for (Index id : pl->ids) {
      pl->w2.push_back(node_scale(id) * node_scale(id));
      w_norm += pl->w2.back();
    }
    w_norm = std::sqrt(w_norm);
    double sq = 0;
    for (Index l = 0; l < pl->d.rows(); ++l)
      for (Index t = 0; t < pl->d.cols(); ++t) sq += std::norm(pl->d(l, t)) * pl->w2[static_cast<std::size_t>(t)];
    const auto rows = static_cast<double>(pl->d.rows());
    pl->rounding = std::sqrt(sq / rows) / m_target_scale;
    pl->solve = reproduced.norm() / std::sqrt(rows) * w_norm / m_target_scale;
    if (!(pl->lebesgue <= m_options.max_amplification) || !std::isfinite(pl->rounding) || !std::isfinite(pl->solve))
      throw not_decodable("interpolating from these " + std::to_string(pl->ids.size()) + " nodes would amplify rounding by " +
                              detail::format_g(pl->lebesgue) + " > " + detail::format_g(m_options.max_amplification) +
                              " (ill-conditioned evaluation points)",
                          pl->ids.size(), static_cast<std::size_t>(m_dimension));
    return pl;
  }

  /// Z (f × P) = Yᵀ R, R real: Yᵀr stays C-linear in the messages (projections of codewords
  /// are codewords). One pass over the messages as reals, in blocks of 1024 reals (the block of
  /// R stays in L1 across the f messages); 16 lanes per projection, even lanes the real parts
  /// and odd lanes the imaginary parts of complex units; blocks summed in double.
  matrix<complex> project(const Eigen::Ref<const matrix<Scalar>>& messages, Index f) const {
    constexpr Index lanes = 16, block = 1024;
    const Index n = m_length, P = m_projection.cols(), stride = messages.outerStride();
    const bool pairs = !m_real;
    matrix<complex> z = matrix<complex>::Zero(f, P);
    for (Index b = 0; b < n; b += block) {
      const Index len = std::min(block, n - b), full = len / lanes * lanes;
      for (Index j = 0; j < f; ++j) {
        const Scalar* __restrict y = messages.data() + j * stride + b;
        alignas(64) Scalar acc[max_projections][lanes] = {};
        for (Index p = 0; p < P; ++p) {
          const Scalar* __restrict r = m_projection.data() + p * n + b;
          Scalar* __restrict a = acc[p];
          for (Index s = 0; s < full; s += lanes)
            for (Index k = 0; k < lanes; ++k) a[k] += y[s + k] * r[s + k];
        }
        for (Index p = 0; p < P; ++p) {
          double re = 0, im = 0;
          for (Index k = 0; k < lanes; ++k) (pairs && k % 2 ? im : re) += static_cast<double>(acc[p][k]);
          const Scalar* r = m_projection.data() + p * n + b;
          for (Index t = full; t < len; ++t) (pairs && t % 2 ? im : re) += static_cast<double>(y[t]) * static_cast<double>(r[t]);
          if (!std::isfinite(re) || !std::isfinite(im)) {
            // The Scalar lanes overflowed (a huge finite message, e.g. an adversary's 1e38 in
            // float): redo the block in long double, which cannot overflow on finite input. A
            // non-finite message stays non-finite (an erasure for the locator).
            long double lre = 0, lim = 0;
            for (Index t = 0; t < len; ++t)
              (pairs && t % 2 ? lim : lre) += static_cast<long double>(y[t]) * static_cast<long double>(r[t]);
            re = static_cast<double>(lre);
            im = static_cast<double>(lim);
          }
          z(j, p) += complex(re, im);
        }
      }
    }
    return z;
  }

  /// Pointer/stride of the messages viewed as Units (copies only when the column stride is odd
  /// with complex units).
  template <class Unit>
  struct unit_view {
    const Unit* base = nullptr;
    Index stride = 0;  // in units
    matrix<Scalar> copy;
  };
  template <class Unit>
  unit_view<Unit> view(const Eigen::Ref<const matrix<Scalar>>& messages) const {
    constexpr Index w = sizeof(Unit) / sizeof(Scalar);
    unit_view<Unit> v;
    if (messages.outerStride() % w == 0) {
      v.base = reinterpret_cast<const Unit*>(messages.data());
      v.stride = messages.outerStride() / w;
    } else {
      v.copy = messages;
      v.base = reinterpret_cast<const Unit*>(v.copy.data());
      v.stride = v.copy.rows() / w;
    }
    return v;
  }

  template <class Unit>
  void apply(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages, const plan& pl,
             const std::vector<Index>& column, const std::vector<bool>& in_use, Eigen::Ref<vector<Scalar>> out) const {
    constexpr Index w = sizeof(Unit) / sizeof(Scalar);
    const Index L = m_length / w, m = targets(), f = static_cast<Index>(ids.size());
    matrix<Unit> wt = matrix<Unit>::Zero(f, m);
    for (Index j = 0; j < f; ++j) {
      if (!in_use[static_cast<std::size_t>(j)]) continue;
      const Index c = column[static_cast<std::size_t>(ids[static_cast<std::size_t>(j)])];
      for (Index l = 0; l < m; ++l) {
        if constexpr (w == 1)
          wt(j, l) = static_cast<Unit>(pl.d(l, c).real());
        else
          wt(j, l) = static_cast<Unit>(pl.d(l, c));
      }
    }
    const auto v = view<Unit>(messages);
    const Index out_len = out.size();
    const Index units = out_len / w, cols_full = units / L, rem = units % L;
    const bool half = out_len % w != 0;
    Unit* o = reinterpret_cast<Unit*>(out.data());
    Unit half_value(0);
    bool first = true;
    for (Index a = 0; a < f;) {
      if (!in_use[static_cast<std::size_t>(a)]) {
        ++a;
        continue;
      }
      Index b = a;
      while (b < f && in_use[static_cast<std::size_t>(b)]) ++b;
      Eigen::Map<const matrix<Unit>, Eigen::Unaligned, Eigen::OuterStride<>> y(v.base + a * v.stride, L, b - a,
                                                                               Eigen::OuterStride<>(v.stride));
      const auto wr = wt.middleRows(a, b - a);
      if (cols_full > 0) {
        Eigen::Map<matrix<Unit>> oc(o, L, cols_full);
        if (first)
          oc.noalias() = y * wr.leftCols(cols_full);
        else
          oc.noalias() += y * wr.leftCols(cols_full);
      }
      if (rem > 0) {
        Eigen::Map<vector<Unit>> ot(o + L * cols_full, rem);
        if (first)
          ot.noalias() = y.topRows(rem) * wr.col(cols_full);
        else
          ot.noalias() += y.topRows(rem) * wr.col(cols_full);
      }
      if (half) half_value += y.row(rem).transpose().cwiseProduct(wr.col(cols_full)).sum();
      first = false;
      a = b;
    }
    if constexpr (w == 2) {
      if (half) out[out_len - 1] = half_value.real();
    }
    const auto arr = out.array();
    if (!((arr - arr).sum() == Scalar(0)))  // every used message is finite (checked before)
      throw invalid_input("the decoded values overflow the " + std::string(std::is_same_v<Scalar, float> ? "float" : "double") +
                          " range (every message is finite)");
  }

  [[noreturn]] void report_non_finite(Index id) const {
    const std::string what = "the message of node " + std::to_string(id) + " is not finite";
    if (m_options.locate_corrupted)
      throw corrupted_result(what + " and there is no redundancy left to exclude it", {static_cast<long long>(id)});
    throw invalid_input(what, id);
  }

  std::vector<complex> m_nodes, m_targets;
  Index m_dimension = 0;
  Index m_length = 0;
  bool m_real = true;
  robust_options m_options;
  std::vector<double> m_node_scales;  // w_j (empty = all 1)
  bool m_check_error = false;         // node scales given or max_relative_error set
  double m_target_scale = 1;          // t
  matrix<Scalar> m_projection;        // R, message_length × P (each value twice for complex units)
  std::unique_ptr<detail::plan_cache<plan>> m_cache;
};

}  // namespace gradcode
