// SPDX-License-Identifier: MIT
// Calculators for the theory of li-skoglund §IV, to check a 1-bit GC-DL run against it: Lemma 2
// (eq. (13)) and the update variance of Appendix A (eq. (40)); Theorem 1 (eq. (15), γ_t = 1/(λt));
// the optimal d_i of eqs. (17)–(19); Theorems 2–3, their rates (21), (24) and bounds (22), (25).
//
// Readings of the paper where its text is garbled or ambiguous:
// - (22), (25): the printed factor "w − (1−p)((m−1)/n + 1/D)/(1−p)" drops a bracket. Read as
//   [w − (1−p)]/(1−p)·((m−1)/n + 1/D), as the proof writes it in (44)–(48), (50) and (54);
//   "C_m" is C·m, the Cm of (47) (Σ_i E‖∇L_i‖² ≤ Cm).
// - (25), (54)–(55): log is the natural logarithm. (55)'s Σ_{t=0}^T 1/(t+1) ≤ 2 + log(T+1) holds
//   for ln (the sum is ≤ 1 + ln(T+1)); with log₁₀ it fails from T = 11 on (H_12 = 3.103 >
//   2 + log₁₀ 12 = 3.079).
// - (19): d_i = D needs an integer D (d_i counts workers). For a fractional D with mD whole copies
//   the integer minimiser of (18) is d_i ∈ {⌊D⌋, ⌈D⌉} (optimal_replications).
// - (21), (24): γ = (1 − √(1 − 4Sc))/(2S) is the smaller root of Sγ² − γ + c = 0 (c = 1/(T+1)^{3/4}
//   resp. (γ_0 − γ_0²S)/√(t+1); (49), (52)). It is evaluated as 2c/(1 + √(1 − 4Sc)), the same
//   number without the cancellation for small Sc, and defined at S = 0 (γ = c), which Definition 2
//   allows (S ≥ 0).
// - Theorem 1 (Lemma 3 is Lemma 1 of Rakhlin et al. [35]): β_1 is the starting point, the rate is
//   γ_t = 1/(λt) for t = 1, …, T − 1, and the bound is on β_T for every T ≥ 1. (In Theorems 2–3
//   the iterations are t = 0, …, T.)
// - Theorems 2–3 assume the homogeneous scheme d_i = D. For heterogeneous d_i the proof's step
//   (44) gives the same bound with m(m−1)/n + m/D replaced by m(m−1)/n + Σ_i 1/d_i; the calculators
//   use that form, which is the paper's for d_i = D (an extension, not stated in the paper).
// - Every bound presumes a pair-wise balanced placement (eq. (39)); for the random placement of §V
//   it holds on average over placements (the counts of (39) hold in expectation).
//
// Relation to the rest of the library: second_moment_bound(params) is gc_dl.hpp's
// second_moment_bound (Lemma 2, double) from a params struct and in any floating-point type (the
// test asserts they agree); the homogeneous scheme of (19) is place_samples({.replication = D})
// (placement.hpp), which optimal_replications reproduces for an integer D.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/quantize/gc_dl.hpp"

namespace gradcode {

/// What the bounds of li-skoglund §IV are about: the system fixed before training. Required
/// fields, validated by every calculator (invalid_parameters naming the field and its value).
template <std::floating_point Real = double>
struct gc_dl_bound_params {
  Index workers = 0;               ///< n ≥ 1
  Index samples = 0;               ///< m ≥ 1
  Index dimension = 0;             ///< w ≥ 1, the length of β (and of every f_j, h_j, ĝ)
  Real straggler_probability = 0;  ///< p ∈ [0, 1), independent over workers and iterations (§II)
  Real gradient_bound = 0;         ///< C ≥ 0 (finite): ‖∇L(a_i, β)‖² ≤ C for every i and β (eq. (12))
  /// D ∈ [1, n]: every sample on D workers (the homogeneous scheme, eq. (19)); used when
  /// `replications` is empty.
  Index replication = 0;
  std::vector<Index> replications{};  ///< d_i ∈ [1, n], one per sample (m entries), heterogeneous placements
};

/// Non-convex problem of Theorems 2–3.
template <std::floating_point Real = double>
struct nonconvex_bound_params {
  /// S ≥ 0 of Definition 2, eq. (20): L̂(β) ≤ L̂(β') + ⟨∇L̂(β'), β − β'⟩ + S‖β − β'‖². Note the
  /// missing ½: S is half the Lipschitz constant of ∇L̂.
  Real smoothness = 0;
  Real initial_gap = 0;  ///< L⁰ − L* = L̂(A, β_0) − min_β L̂(A, β) ≥ 0 (finite)
  Index iterations = 0;  ///< T ≥ 0: the iterations are t = 0, …, T
};

namespace detail {

template <class Real>
const char* real_name() {
  if constexpr (std::is_same_v<Real, float>) return "float";
  if constexpr (std::is_same_v<Real, double>) return "double";
  return "long double";
}

template <class Real>
std::string format_real(Real v) {
  return format_g(static_cast<double>(v));
}

/// `value` when finite; else invalid_parameters: `what` exceeds the Real range (an intermediate
/// overflow, never a NaN returned).
template <class Real>
Real checked_result(Real value, const char* function, const std::string& what) {
  if (!std::isfinite(value))
    throw invalid_parameters(std::string(function) + ": " + what + " exceeds the " + real_name<Real>() + " range");
  return value;
}

/// The pieces of Lemma 2 / Appendix A (eqs. (13), (40)) for validated params: mean = Cm²,
/// noise = [w − (1−p)]/(1−p)·C·((m² − m)/n + Σ_i 1/d_i).
template <class Real>
struct lemma2_terms {
  Real mean = 0;   ///< Cm², the bound (41) puts on ‖∇L̂‖²
  Real noise = 0;  ///< the rest of (13): the bound on E‖ĝ − ∇L̂‖²
};

template <class Real>
lemma2_terms<Real> checked_lemma2(const gc_dl_bound_params<Real>& s, const char* function) {
  const std::string f = function;
  if (s.workers < 1) throw invalid_parameters(f + ": workers n = " + std::to_string(s.workers) + "; need n >= 1");
  if (s.samples < 1) throw invalid_parameters(f + ": samples m = " + std::to_string(s.samples) + "; need m >= 1");
  if (s.dimension < 1) throw invalid_parameters(f + ": dimension w = " + std::to_string(s.dimension) + "; need w >= 1");
  const Real p = s.straggler_probability, C = s.gradient_bound;
  if (!(p >= 0 && p < 1))
    throw invalid_parameters(f + ": straggler probability p = " + format_real(p) +
                             " must be in [0, 1) (eqs. (5), (13) divide by 1 − p)");
  if (!(C >= 0) || !std::isfinite(C))
    throw invalid_parameters(f + ": gradient bound C = " + format_real(C) + " must be finite and >= 0 (‖∇L_i‖² <= C, eq. (12))");
  Real inv_d = 0;  // Σ_i 1/d_i
  if (s.replications.empty()) {
    if (s.replication < 1 || s.replication > s.workers)
      throw invalid_parameters(f + ": replication D = " + std::to_string(s.replication) + " must be in [1, n = " +
                               std::to_string(s.workers) + "] (or give replications, one d_i per sample)");
    inv_d = static_cast<Real>(s.samples) / static_cast<Real>(s.replication);
  } else {
    if (static_cast<Index>(s.replications.size()) != s.samples)
      throw invalid_parameters(f + ": " + std::to_string(s.replications.size()) +
                               " replications d_i for m = " + std::to_string(s.samples) + " samples; need one per sample");
    for (std::size_t i = 0; i < s.replications.size(); ++i) {
      if (s.replications[i] < 1 || s.replications[i] > s.workers)
        throw invalid_parameters(f + ": replications[" + std::to_string(i) + "] = d_i = " + std::to_string(s.replications[i]) +
                                 " is outside [1, n = " + std::to_string(s.workers) + "]");
      inv_d += 1 / static_cast<Real>(s.replications[i]);
    }
  }
  const Real m = static_cast<Real>(s.samples), n = static_cast<Real>(s.workers), q = 1 - p;
  const Real a = static_cast<Real>(s.dimension) - q;  // w − (1 − p) > 0 as w >= 1 > 1 − p
  lemma2_terms<Real> t;
  // Eq. (13) term by term, in the order of gc_dl.hpp's second_moment_bound (same value in double).
  t.mean = checked_result<Real>(C * m * m, function, "Cm² for C = " + format_real(C) + ", m = " + std::to_string(s.samples));
  t.noise = checked_result<Real>(a * (m * m - m) / (n * q) * C + a / q * C * inv_d, function,
                                 "the noise term of eq. (13) for C = " + format_real(C) + ", w = " + std::to_string(s.dimension) +
                                     ", p = " + format_real(p));
  return t;
}

template <class Real>
void check_positive_finite(Real v, const char* function, const char* name) {
  if (!(v > 0) || !std::isfinite(v))
    throw invalid_parameters(std::string(function) + ": " + name + " = " + format_real(v) + " must be finite and > 0");
}

template <class Real>
void check_smoothness(Real S, const char* function) {
  if (!(S >= 0) || !std::isfinite(S))
    throw invalid_parameters(std::string(function) + ": smoothness S = " + format_real(S) +
                             " must be finite and >= 0 (Definition 2, eq. (20))");
}

/// The smaller root of Sγ² − γ + c = 0, (1 − √(1 − 4Sc))/(2S), as 2c/(1 + √(1 − 4Sc)) (equal,
/// no cancellation, = c at S = 0). Needs 4Sc ≤ 1 (checked by the callers).
template <class Real>
Real smaller_root(Real S, Real c) {
  using std::sqrt;
  const Real disc = 1 - 4 * S * c;
  return 2 * c / (1 + sqrt(disc > 0 ? disc : Real(0)));
}

/// T + 1 > (4S)^{4/3} ⇔ 4S/(T+1)^{3/4} < 1, the condition of Theorem 2 (eq. (22)).
template <class Real>
void check_constant_rate_iterations(Real S, Index T, const char* function) {
  check_smoothness(S, function);
  if (T < 0) throw invalid_parameters(std::string(function) + ": iterations T = " + std::to_string(T) + "; need T >= 0");
  using std::pow;
  const Real c = pow(static_cast<Real>(T) + 1, Real(-0.75));
  if (!(4 * S * c < 1))
    throw invalid_parameters(std::string(function) + ": iterations T = " + std::to_string(T) +
                             " with smoothness S = " + format_real(S) + "; Theorem 2 needs T > (4S)^(4/3) − 1 = " +
                             format_real(pow(4 * S, Real(4) / 3) - 1) + " (eq. (21) is not real otherwise)");
}

/// 0 < γ_0 < 1/(2S) (any γ_0 > 0 when S = 0), the condition of eq. (24).
template <class Real>
void check_initial_rate(Real S, Real gamma0, const char* function) {
  check_smoothness(S, function);
  if (!(gamma0 > 0) || !std::isfinite(gamma0) || !(2 * S * gamma0 < 1))
    throw invalid_parameters(std::string(function) + ": initial learning rate γ_0 = " + format_real(gamma0) +
                             " must be in (0, 1/(2S)) = (0, " + (S > 0 ? format_real(1 / (2 * S)) : std::string("inf")) +
                             ") for S = " + format_real(S) + " (eq. (24))");
}

}  // namespace detail

/// The params of `scheme` (n, m, w, p and every d_i read from it) with the gradient bound C of
/// eq. (12), for checking a run of that scheme against the bounds below. The bounds presume a
/// pair-wise balanced placement (check_pairwise_balance); for a random one they hold on average
/// over placements. Does not validate C (the calculators do).
template <class Scalar>
gc_dl_bound_params<double> bound_params_of(const gc_dl<Scalar>& scheme, double gradient_bound) {
  gc_dl_bound_params<double> s{.workers = scheme.nodes(),
                               .samples = scheme.partitions(),
                               .dimension = scheme.dimension(),
                               .straggler_probability = scheme.straggler_probability(),
                               .gradient_bound = gradient_bound};
  s.replications.reserve(static_cast<std::size_t>(scheme.partitions()));
  for (Index i = 0; i < scheme.partitions(); ++i) s.replications.push_back(scheme.replication(i));
  return s;
}

/// G of Lemma 2, eq. (13): E‖ĝ_t‖² ≤ Cm² + [w − (1−p)](m² − m)C/(n(1−p)) + [w − (1−p)]C Σ_i 1/d_i/(1−p)
/// (the same number as gc_dl.hpp's second_moment_bound, in Real). Throws invalid_parameters naming
/// the field when a param is out of range, or when the bound exceeds the Real range.
template <std::floating_point Real = double>
Real second_moment_bound(const gc_dl_bound_params<Real>& system) {
  const auto t = detail::checked_lemma2(system, "second_moment_bound");
  return detail::checked_result<Real>(t.mean + t.noise, "second_moment_bound", "the bound of eq. (13)");
}

/// Bound on the variance of the update, E‖ĝ_t − ∇L̂(A, β_t)‖² ≤ [w − (1−p)]/(1−p)·C·((m² − m)/n +
/// Σ_i 1/d_i): Appendix A, eq. (40), whose first term is exactly ‖∇L̂‖², minus that term (ĝ_t is
/// unbiased, Lemma 1). It is eq. (13) without its Cm², and for d_i = D the factor
/// [w − (1−p)]/(1−p)·((m−1)/n + 1/D)·Cm of eqs. (44)–(48). 0 exactly when w = 1 and p = 0 (Q of a
/// scalar is its sign, no stragglers). Throws as second_moment_bound.
template <std::floating_point Real = double>
Real update_variance_bound(const gc_dl_bound_params<Real>& system) {
  return detail::checked_lemma2(system, "update_variance_bound").noise;
}

/// γ_t = 1/(λt), the learning rate of Theorem 1 and Lemma 3, for t = 1, 2, … (β_{t+1} = β_t −
/// γ_t ĝ_t, eq. (7), from the starting point β_1). Throws invalid_parameters unless λ > 0 is finite
/// and t ≥ 1.
template <std::floating_point Real = double>
Real strongly_convex_learning_rate(std::type_identity_t<Real> strong_convexity, Index iteration) {
  detail::check_positive_finite<Real>(strong_convexity, "strongly_convex_learning_rate", "strong convexity λ");
  if (iteration < 1)
    throw invalid_parameters("strongly_convex_learning_rate: iteration t = " + std::to_string(iteration) +
                             "; γ_t = 1/(λt) starts at t = 1");
  return detail::checked_result<Real>(1 / (strong_convexity * static_cast<Real>(iteration)), "strongly_convex_learning_rate",
                                      "γ_t = 1/(λt)");
}

/// Theorem 1, eq. (15): for a λ-strongly convex L̂ (Definition 1, eq. (9)), gradients bounded as in
/// eq. (12) and γ_t = 1/(λt) (strongly_convex_learning_rate), E‖β_T − β*‖² ≤ 4G/(λ²T) with G the
/// second_moment_bound of eq. (13); T ≥ 1 counts the iterates β_1, …, β_T (T − 1 updates). Throws
/// invalid_parameters as second_moment_bound, unless λ > 0 is finite and T ≥ 1, or when the bound
/// exceeds the Real range.
template <std::floating_point Real = double>
Real strongly_convex_distance_bound(const gc_dl_bound_params<Real>& system, std::type_identity_t<Real> strong_convexity,
                                    Index iterations) {
  constexpr const char* f = "strongly_convex_distance_bound";
  const auto t = detail::checked_lemma2(system, f);
  detail::check_positive_finite<Real>(strong_convexity, f, "strong convexity λ");
  if (iterations < 1)
    throw invalid_parameters(std::string(f) + ": iterations T = " + std::to_string(iterations) + "; need T >= 1");
  const Real G = detail::checked_result<Real>(t.mean + t.noise, f, "G of eq. (13)");
  const Real lambda = strong_convexity;
  // Eq. (15), divided stepwise so that λ² alone cannot overflow.
  return detail::checked_result<Real>(4 * G / lambda / lambda / static_cast<Real>(iterations), f, "the bound of eq. (15)");
}

/// Σ_i 1/d_i, the objective of eq. (18) (the only part of eq. (17)'s bound that depends on the
/// allocation). Throws invalid_parameters when the list is empty or some d_i < 1.
template <std::floating_point Real = double>
Real inverse_replication_sum(std::span<const Index> replications) {
  if (replications.empty()) throw invalid_parameters("inverse_replication_sum: no replications d_i (need m >= 1)");
  Real sum = 0;
  for (std::size_t i = 0; i < replications.size(); ++i) {
    if (replications[i] < 1)
      throw invalid_parameters("inverse_replication_sum: replications[" + std::to_string(i) +
                               "] = d_i = " + std::to_string(replications[i]) + "; need d_i >= 1");
    sum += 1 / static_cast<Real>(replications[i]);
  }
  return sum;
}

/// The d_i minimising eq. (17)'s bound at a fixed average redundancy d̄ = D (eq. (16)), i.e.
/// Σ_i 1/d_i subject to Σ_i d_i = mD (eq. (18)): every d_i = D (eq. (19), the homogeneous scheme,
/// = place_samples({.replication = D})) when D is an integer; otherwise the integer minimiser, the
/// first mD − m⌊D⌋ samples on ⌈D⌉ workers and the rest on ⌊D⌋. Pass the result as
/// placement_params::replications. Throws invalid_parameters unless m ∈ [1, limits::max_partitions],
/// n ∈ [1, limits::max_nodes], D ∈ [1, n] and mD is a whole number of copies (to 1e-9 relative).
inline std::vector<Index> optimal_replications(Index samples, Index workers, double average_replication) {
  constexpr const char* f = "optimal_replications: ";
  if (samples < 1 || samples > limits::max_partitions)
    throw invalid_parameters(std::string(f) + "samples m = " + std::to_string(samples) + " must be in [1, " +
                             std::to_string(limits::max_partitions) + "]");
  if (workers < 1 || workers > limits::max_nodes)
    throw invalid_parameters(std::string(f) + "workers n = " + std::to_string(workers) + " must be in [1, " +
                             std::to_string(limits::max_nodes) + "]");
  const double D = average_replication;
  if (!(D >= 1 && D <= static_cast<double>(workers)))
    throw invalid_parameters(std::string(f) + "average replication D = " + detail::format_g(D) +
                             " must be in [1, n = " + std::to_string(workers) + "] (eq. (16))");
  const double copies = D * static_cast<double>(samples);  // ≤ 2^48: exact in double when whole
  const double whole = std::round(copies);
  if (std::abs(copies - whole) > 1e-9 * copies)
    throw invalid_parameters(std::string(f) + "m·D = " + std::to_string(samples) + "·" + detail::format_g(D) + " = " +
                             std::to_string(copies) + " is not a whole number of copies Σ_i d_i");
  const auto total = static_cast<Index>(whole);
  const Index low = total / samples, extra = total % samples;  // Σ d_i = total, d_i ∈ {low, low + 1}
  std::vector<Index> d(static_cast<std::size_t>(samples), low);
  for (Index i = 0; i < extra; ++i) ++d[static_cast<std::size_t>(i)];
  return d;
}

/// γ of eq. (21), Theorem 2's constant learning rate for t = 0, …, T: the smaller root of
/// γ − γ²S = 1/(T+1)^{3/4} (eq. (49)), (1 − √(1 − 4S/(T+1)^{3/4}))/(2S) (= 1/(T+1)^{3/4} at S = 0).
/// Throws invalid_parameters unless S ≥ 0 is finite, T ≥ 0 and T > (4S)^{4/3} − 1.
template <std::floating_point Real = double>
Real nonconvex_constant_learning_rate(std::type_identity_t<Real> smoothness, Index iterations) {
  detail::check_constant_rate_iterations<Real>(smoothness, iterations, "nonconvex_constant_learning_rate");
  using std::pow;
  return detail::smaller_root<Real>(smoothness, pow(static_cast<Real>(iterations) + 1, Real(-0.75)));
}

/// Smallest T with T > (4S)^{4/3} − 1, the first horizon Theorem 2 (eqs. (21), (22)) covers. Throws
/// invalid_parameters unless S ≥ 0 is finite and the answer fits an Index.
template <std::floating_point Real = double>
Index nonconvex_min_iterations(std::type_identity_t<Real> smoothness) {
  constexpr const char* f = "nonconvex_min_iterations";
  detail::check_smoothness<Real>(smoothness, f);
  using std::floor;
  using std::pow;
  const Real bound = pow(4 * smoothness, Real(4) / 3) - 1;  // T > bound ⇔ 4S/(T+1)^{3/4} < 1
  if (!(bound < Real(Index{1} << 52)))
    throw invalid_parameters(std::string(f) + ": smoothness S = " + detail::format_real<Real>(smoothness) +
                             " needs T > (4S)^(4/3) − 1 = " + detail::format_real(bound) + ", more than 2^52 iterations");
  const auto holds = [&](Index T) {
    return 4 * smoothness * pow(static_cast<Real>(T) + 1, Real(-0.75)) < 1;
  };  // the callers' test
  auto T = static_cast<Index>(bound < 0 ? Real(0) : floor(bound));
  while (!holds(T)) ++T;  // a step or two: floor(bound) is at most a rounding away
  while (T > 0 && holds(T - 1)) --T;
  return T;
}

/// γ_t of eq. (24), Theorem 3's decaying learning rate for t = 0, 1, …: the smaller root of
/// γ_t − γ_t²S = (γ_0 − γ_0²S)/√(t+1) (eq. (52)); γ_t at t = 0 is γ_0, and γ_t ≤ γ_0/√(t+1) (eq.
/// (56)). Throws invalid_parameters unless S ≥ 0 is finite, 0 < γ_0 < 1/(2S) and t ≥ 0. (A driver
/// that counts t from 1, as sim/gc_dl_training.hpp does, passes t − 1.)
template <std::floating_point Real = double>
Real nonconvex_decaying_learning_rate(std::type_identity_t<Real> smoothness, std::type_identity_t<Real> initial_rate,
                                      Index iteration) {
  constexpr const char* f = "nonconvex_decaying_learning_rate";
  detail::check_initial_rate<Real>(smoothness, initial_rate, f);
  if (iteration < 0) throw invalid_parameters(std::string(f) + ": iteration t = " + std::to_string(iteration) + "; need t >= 0");
  using std::sqrt;
  const Real S = smoothness, g0 = initial_rate;
  return detail::smaller_root<Real>(S, (g0 - g0 * g0 * S) / sqrt(static_cast<Real>(iteration) + 1));
}

/// Theorem 2, eq. (22): with the constant rate of eq. (21) for t = 0, …, T (T > (4S)^{4/3} − 1),
/// (1/(T+1)) Σ_{t=0}^T E‖∇L̂(A, β_t)‖² ≤ (L⁰ − L*)/(T+1)^{1/4}
///   + (T+1)^{3/4} γ² · [w − (1−p)]/(1−p)·((m−1)/n + 1/D)·Cm·S,
/// i.e. S times update_variance_bound in the second term (with Σ_i 1/d_i for m/D when the d_i
/// differ). Throws invalid_parameters as second_moment_bound, unless S ≥ 0 and L⁰ − L* ≥ 0 are
/// finite and T is in range, or when the bound exceeds the Real range.
template <std::floating_point Real = double>
Real nonconvex_constant_rate_bound(const gc_dl_bound_params<Real>& system, const nonconvex_bound_params<Real>& problem) {
  constexpr const char* f = "nonconvex_constant_rate_bound";
  const auto terms = detail::checked_lemma2(system, f);
  const Real S = problem.smoothness, gap = problem.initial_gap;
  const Index T = problem.iterations;
  detail::check_constant_rate_iterations<Real>(S, T, f);
  if (!(gap >= 0) || !std::isfinite(gap))
    throw invalid_parameters(std::string(f) + ": initial gap L0 − L* = " + detail::format_real(gap) + " must be finite and >= 0");
  using std::pow;
  const Real T1 = static_cast<Real>(T) + 1;
  const Real gamma = detail::smaller_root<Real>(S, pow(T1, Real(-0.75)));  // eq. (21)
  const Real first = gap / pow(T1, Real(0.25));
  const Real second = pow(T1, Real(0.75)) * gamma * gamma * terms.noise * S;
  return detail::checked_result<Real>(first + second, f, "the bound of eq. (22)");
}

/// Theorem 3, eq. (25): with the decaying rates of eq. (24) (0 < γ_0 < 1/(2S)),
/// min_{0≤t≤T} E‖∇L̂(A, β_t)‖² ≤ (L⁰ − L*)/((γ_0 − γ_0²S)√(T+1))
///   + γ_0²[2 + ln(T+1)]/((γ_0 − γ_0²S)√(T+1)) · [w − (1−p)]/(1−p)·((m−1)/n + 1/D)·Cm·S
/// (the same S·update_variance_bound factor as eq. (22)). Throws invalid_parameters as
/// second_moment_bound, unless S ≥ 0, L⁰ − L* ≥ 0 are finite, γ_0 ∈ (0, 1/(2S)) and T ≥ 0, or when
/// the bound exceeds the Real range.
template <std::floating_point Real = double>
Real nonconvex_decaying_rate_bound(const gc_dl_bound_params<Real>& system, const nonconvex_bound_params<Real>& problem,
                                   std::type_identity_t<Real> initial_rate) {
  constexpr const char* f = "nonconvex_decaying_rate_bound";
  const auto terms = detail::checked_lemma2(system, f);
  const Real S = problem.smoothness, gap = problem.initial_gap, g0 = initial_rate;
  const Index T = problem.iterations;
  detail::check_initial_rate<Real>(S, g0, f);
  if (T < 0) throw invalid_parameters(std::string(f) + ": iterations T = " + std::to_string(T) + "; need T >= 0");
  if (!(gap >= 0) || !std::isfinite(gap))
    throw invalid_parameters(std::string(f) + ": initial gap L0 − L* = " + detail::format_real(gap) + " must be finite and >= 0");
  using std::log;
  using std::sqrt;
  const Real T1 = static_cast<Real>(T) + 1, denom = (g0 - g0 * g0 * S) * sqrt(T1);
  const Real first = gap / denom;
  const Real second = g0 * g0 * (2 + log(T1)) / denom * terms.noise * S;
  return detail::checked_result<Real>(first + second, f, "the bound of eq. (25)");
}

}  // namespace gradcode
