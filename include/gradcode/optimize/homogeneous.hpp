// SPDX-License-Identifier: MIT
// Homogeneous closed forms of tang2024 §IV-B (eqs. 34–38): the expected iteration time in the
// computation-dominated (Case 1) and communication-dominated (Case 2) regimes with the paper's
// recommended tolerances, and the exact expectations they approximate (spec §2.3).
//
// The paper's forms are kept verbatim as documented approximations:
//   (35) E T ≈ cK(s_e+1)(s_w+1)/(nm) + 2τ_1 + 2τ_2 + (1/γ) ln[(n−s_e)(m−s_w)]        (p_1 = p_2 = 0)
//   (37) E T ≈ cK(s_e+1)(s_w+1)/(nm) + 2τ_1 + τ_2 − (2τ_2/ln p_2) ln(n−s_e)           (p_1 = 0, γ → ∞)
// (τ_1, p_1: worker link; τ_2, p_2: edge link — here worker.link_* and edge.link_*.) (35) treats
// the random part as the max of (n−s_e)(m−s_w) iid Exp(γ) and drops Euler's γ_E/γ, while the true
// statistic is the (n−s_e)-th smallest over edges of the (m−s_w)-th smallest per edge. On the
// spec §2 system (n = 4, m = 10, γ = 0.1) (35) over-estimates at every pair with a tolerance
// except (n−1, m−1), most near s_w = m−1 (13.86 against 2.08 at (0, 9)), and under-estimates at
// (0,0) and (n−1, m−1) (tests/optimize/homogeneous_test.cpp, also against Monte Carlo).
// random_delay_mean is
// the exact value, by adaptive Gauss–Kronrod integration of the survival function:
//   F(t) = 1 − e^{−γt}, F_Y = P(Bin(m, F) ≥ m−s_w), F_T = P(Bin(n, F_Y) ≥ n−s_e),
//   E = ∫_0^∞ (1 − F_T) dt, integrated in x = γt over geometric panels [2^k, 2^(k+1)] (the mass
// sits between ~1/(nm) and ~ln(nm)); F = −expm1(−x) and 1 − F = e^{−x} are exact to rounding and
// both binomial tails are summed as positive terms, so there is no cancellation. Numerically safe
// for n, m up to thousands: relative error ≤ 1e-9 measured at n = m = 1000 against H_{nm}/γ and
// 1/(nmγ) (tests/optimize/homogeneous_test.cpp). The exact forms run for n, m ≤ 10⁴ (cost
// linear in n + m per evaluation, ~1 s there) and, for Case 2, p_2 not so close to 1 that the
// series needs more than ~5·10⁸ binomial terms; beyond, they throw invalid_parameters rather
// than run for hours. The closed forms (35), (37) take any n, m ≤ limits::max_nodes.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/tradeoff.hpp"  // Theorem 1's load
#include "gradcode/optimize/presets.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// The homogeneous system of §IV-B: n edges of m workers each, identical nodes.
struct homogeneous_system {
  Index edges = 0;             ///< n
  Index workers_per_edge = 0;  ///< m
  Index partitions = 0;        ///< K
  worker_timing worker;        ///< c, γ, τ_1 (worker ↔ edge link time), p_1
  edge_timing edge;            ///< τ_2 (edge ↔ master link time), p_2
};

/// A recommended pair of tolerances and the closed form's value there.
struct homogeneous_choice {
  Index edge_tolerance = 0;    ///< s_e
  Index worker_tolerance = 0;  ///< s_w
  double expected_time = 0;    ///< the paper's approximation of E[T_tol] at (s_e, s_w) (ms)
};

/// The runtime model of a homogeneous system (for Monte-Carlo checks of the closed forms).
inline runtime_model to_runtime_model(const homogeneous_system& s) {
  return homogeneous_setting(s.edges, s.workers_per_edge, s.worker, s.edge);
}

namespace detail {

/// Largest n (and m) for which the exact forms (random_delay_mean, communication_dominated_exact_time)
/// run: their cost is linear in n + m per evaluation (measured ~1 s at n + m = 10⁴).
inline constexpr Index exact_form_max_nodes = 10000;

inline void check_homogeneous(const homogeneous_system& s) {
  if (s.edges < 1 || s.workers_per_edge < 1)
    throw invalid_parameters("homogeneous system: n = " + std::to_string(s.edges) +
                             " edges of m = " + std::to_string(s.workers_per_edge) + " workers; need n, m >= 1");
  // n, m ≤ max_nodes keep every Index product below (n·m, (s_e+1)(s_w+1)) far from overflow.
  if (s.edges > limits::max_nodes || s.workers_per_edge > limits::max_nodes)
    throw invalid_parameters("homogeneous system: n = " + std::to_string(s.edges) +
                             ", m = " + std::to_string(s.workers_per_edge) +
                             "; each must be <= limits::max_nodes = " + std::to_string(limits::max_nodes));
  if (s.partitions < 1)
    throw invalid_parameters("homogeneous system: K = " + std::to_string(s.partitions) + " partitions; need K >= 1");
  homogeneous_setting(1, 1, s.worker, s.edge);  // validates c, γ, τ, p; the message names "worker (0,0)" / "edge 0"
}

inline void check_tolerances(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  check_homogeneous(s);
  if (edge_tolerance < 0 || edge_tolerance >= s.edges)
    throw invalid_parameters("homogeneous system: s_e = " + std::to_string(edge_tolerance) +
                             " outside [0, n = " + std::to_string(s.edges) + ")");
  if (worker_tolerance < 0 || worker_tolerance >= s.workers_per_edge)
    throw invalid_parameters("homogeneous system: s_w = " + std::to_string(worker_tolerance) +
                             " outside [0, m = " + std::to_string(s.workers_per_edge) + ")");
}

/// cK(s_e+1)(s_w+1)/(nm): the deterministic computation c·D (eq. 44), D the Theorem 1 load at Σm_i = nm.
inline double computation_shift(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  return s.worker.compute_per_partition *
         unchecked_load_bound(s.partitions, edge_tolerance, worker_tolerance, s.edges * s.workers_per_edge);
}

/// ln C(n, l) for l = 0..n.
inline std::vector<double> log_binomials(Index n) {
  std::vector<double> c(static_cast<std::size_t>(n) + 1);
  const double ln = std::lgamma(static_cast<double>(n) + 1);
  for (Index l = 0; l <= n; ++l)
    c[static_cast<std::size_t>(l)] = ln - std::lgamma(static_cast<double>(l) + 1) - std::lgamma(static_cast<double>(n - l) + 1);
  return c;
}

/// P(Bin(n, q) < k) and P(Bin(n, q) ≥ k) from ln q and ln(1 − q), each summed over its own terms.
inline void binomial_tails(const std::vector<double>& log_binomial, Index n, Index k, double log_q, double log_r, double& below,
                           double& at_least) {
  below = at_least = 0;
  for (Index l = 0; l <= n; ++l) {
    const double a = l == 0 ? 0 : static_cast<double>(l) * log_q;  // 0·ln 0 = 0
    const double b = l == n ? 0 : static_cast<double>(n - l) * log_r;
    const double term = std::exp(log_binomial[static_cast<std::size_t>(l)] + a + b);
    (l < k ? below : at_least) += term;
  }
}

/// Gauss–Kronrod (7, 15) on [a, b]: the Kronrod estimate and |Kronrod − Gauss|.
template <class F>
std::pair<double, double> gauss_kronrod(const F& f, double a, double b) {
  static constexpr double x[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                                  0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                                  0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                                  0.207784955007898467600689403773245, 0.0};
  static constexpr double wk[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                                   0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                                   0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                                   0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
  static constexpr double wg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                                   0.381830050505118944950369775488975, 0.417959183673469387755102040816327};
  const double half = (b - a) / 2, mid = (a + b) / 2;
  double kronrod = 0, gauss = 0;
  for (int i = 0; i < 8; ++i) {
    const double y = i == 7 ? f(mid) : f(mid - half * x[i]) + f(mid + half * x[i]);
    kronrod += wk[i] * y;
    if (i % 2 == 1) gauss += wg[i / 2] * y;
  }
  return {kronrod * half, std::abs(kronrod - gauss) * half};
}

/// Globally adaptive Gauss–Kronrod on [a, b] (QUADPACK QAG style): bisect the interval with the
/// largest error estimate until the summed estimate is ≤ relative_tolerance·|integral| or
/// `max_intervals` is reached.
template <class F>
double integrate(const F& f, double a, double b, double relative_tolerance, int max_intervals = 2000) {
  struct piece {
    double a, b, value, error;
    bool operator<(const piece& o) const { return error < o.error; }
  };
  std::vector<piece> heap;
  const auto [v0, e0] = gauss_kronrod(f, a, b);
  heap.push_back({a, b, v0, e0});
  double value = v0, error = e0;
  while (error > relative_tolerance * std::abs(value) && static_cast<int>(heap.size()) < max_intervals) {
    std::pop_heap(heap.begin(), heap.end());
    const piece worst = heap.back();
    heap.pop_back();
    const double mid = (worst.a + worst.b) / 2;
    const auto [vl, el] = gauss_kronrod(f, worst.a, mid);
    const auto [vr, er] = gauss_kronrod(f, mid, worst.b);
    heap.push_back({worst.a, mid, vl, el});
    std::push_heap(heap.begin(), heap.end());
    heap.push_back({mid, worst.b, vr, er});
    std::push_heap(heap.begin(), heap.end());
    value = error = 0;  // re-sum (no drift from repeated subtraction)
    for (const auto& p : heap) {
      value += p.value;
      error += p.error;
    }
  }
  return value;
}

}  // namespace detail

/// Eq. (35), Case 1 (computation-dominated: p_1 = p_2 = 0; the p's given are ignored):
/// cK(s_e+1)(s_w+1)/(nm) + 2τ_1 + 2τ_2 + (1/γ) ln[(n−s_e)(m−s_w)] — the paper's approximation of
/// E[T_tol] (see the header for its accuracy; random_delay_mean gives the exact random part).
/// Throws invalid_parameters for a bad system or tolerances outside [0, n) × [0, m).
inline double computation_dominated_time(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  detail::check_tolerances(s, edge_tolerance, worker_tolerance);
  return detail::computation_shift(s, edge_tolerance, worker_tolerance) + 2 * s.worker.link_time + 2 * s.edge.link_time +
         std::log(static_cast<double>((s.edges - edge_tolerance) * (s.workers_per_edge - worker_tolerance))) /
             s.worker.compute_rate;
}

/// Case 1's recommended endpoint (§IV-B): (35) is concave in each tolerance, so its minimum is
/// at a corner; with C_1 = min{cK/(nm) + ln(nm)/γ, cK/m + ln m/γ, cK/n + ln n/γ, cK} the paper
/// picks, in this order (also the tie-break), (0,0), (n−1,0), (0,m−1), (n−1,m−1), and the value
/// is (35) there. Throws invalid_parameters for a bad system.
inline homogeneous_choice computation_dominated_choice(const homogeneous_system& s) {
  detail::check_homogeneous(s);
  const double cK = s.worker.compute_per_partition * static_cast<double>(s.partitions), gamma = s.worker.compute_rate;
  const auto n = static_cast<double>(s.edges), m = static_cast<double>(s.workers_per_edge);
  const double corner[4] = {cK / (n * m) + std::log(n * m) / gamma, cK / m + std::log(m) / gamma, cK / n + std::log(n) / gamma,
                            cK};
  const Index se[4] = {0, s.edges - 1, 0, s.edges - 1}, sw[4] = {0, 0, s.workers_per_edge - 1, s.workers_per_edge - 1};
  const double c1 = *std::min_element(corner, corner + 4);
  int pick = 0;
  while (corner[pick] != c1) ++pick;
  return {se[pick], sw[pick], computation_dominated_time(s, se[pick], sw[pick])};
}

/// Eq. (37), Case 2 (communication-dominated: p_1 = 0, γ → ∞; γ and p_1 are ignored):
/// cK(s_e+1)(s_w+1)/(nm) + 2τ_1 + τ_2 − (2τ_2/ln p_2) ln(n−s_e), from E[max of k iid Geo(p)] ≈
/// 1/2 − ln k/ln p applied to the edge upload and download separately (p_2 = 0 gives its limit).
/// An approximation: at s_e = n−1 it gives τ_2 where the true value is ≥ 2τ_2
/// (communication_dominated_exact_time). Throws invalid_parameters as computation_dominated_time.
inline double communication_dominated_time(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  detail::check_tolerances(s, edge_tolerance, worker_tolerance);
  const double tail = s.edge.link_failure > 0 ? -2 * s.edge.link_time / std::log(s.edge.link_failure) *
                                                    std::log(static_cast<double>(s.edges - edge_tolerance))
                                              : 0.0;
  return detail::computation_shift(s, edge_tolerance, worker_tolerance) + 2 * s.worker.link_time + s.edge.link_time + tail;
}

/// Case 2's recommended choice (§IV-B, eq. 38): s_w = 0 (it only adds load), and (38) is concave in
/// s_e, so s_e = 0 if cK/m ≥ cK/(nm) − (2τ_2/ln p_2) ln n, else s_e = n−1; the value is (38).
/// Throws invalid_parameters for a bad system.
inline homogeneous_choice communication_dominated_choice(const homogeneous_system& s) {
  detail::check_homogeneous(s);
  const double first = communication_dominated_time(s, 0, 0), last = communication_dominated_time(s, s.edges - 1, 0);
  // cK/m ≥ cK/(nm) − (2τ_2/ln p_2) ln n  ⇔  (38) at s_e = n−1 ≥ (38) at s_e = 0.
  if (last >= first) return {0, 0, first};
  return {s.edges - 1, 0, last};
}

/// The exact mean of the random part of Case 1 (spec §2.3): E of the (n−s_e)-th smallest over
/// edges of the (m−s_w)-th smallest of m iid Exp(γ) computation delays — what (35) approximates
/// by (1/γ) ln[(n−s_e)(m−s_w)]. Adaptive Gauss–Kronrod integration (header); e.g. (0,0) gives
/// H_{nm}/γ and (n−1, m−1) gives 1/(nmγ). Throws invalid_parameters as computation_dominated_time.
inline double random_delay_mean(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  detail::check_tolerances(s, edge_tolerance, worker_tolerance);
  // Each integrand evaluation sums n + m binomial terms, and the integration takes up to ~10⁵ of
  // them: n + m = 10⁴ runs about a second (measured), so the cost stays bounded.
  if (s.edges > detail::exact_form_max_nodes || s.workers_per_edge > detail::exact_form_max_nodes)
    throw invalid_parameters("random_delay_mean: n = " + std::to_string(s.edges) + ", m = " + std::to_string(s.workers_per_edge) +
                             "; the exact integral is computed for n, m <= " + std::to_string(detail::exact_form_max_nodes) +
                             " (use computation_dominated_time, eq. (35), beyond)");
  const Index n = s.edges, m = s.workers_per_edge, k = m - worker_tolerance, ke = n - edge_tolerance;
  const auto worker_binomial = detail::log_binomials(m), edge_binomial = detail::log_binomials(n);
  const auto survival = [&](double x) {  // 1 − F_T at γt = x: F = 1 − e^{−x}, ln(1 − F) = −x exactly
    double below = 0, at_least = 0;
    detail::binomial_tails(worker_binomial, m, k, std::log(-std::expm1(-x)), -x, below, at_least);  // S_Y, F_Y
    double edge_below = 0, edge_at_least = 0;
    detail::binomial_tails(edge_binomial, n, ke, std::log(at_least), std::log(below), edge_below, edge_at_least);
    return edge_below;
  };
  // ∫_0^∞ (1 − F_T) d(γt) over geometric panels [0, 2^−40], [2^−40, 2^−39], …: the mass sits
  // anywhere from ~1/(nm) (a minimum) to ~ln(nm) (a maximum), and each panel resolves its own scale.
  double integral = detail::integrate(survival, 0, 0x1p-40, 1e-10);
  for (double lo = 0x1p-40; lo < 0x1p12; lo *= 2) {
    integral += detail::integrate(survival, lo, 2 * lo, 1e-10, 200);
    if (lo >= 1 && survival(2 * lo) <= 1e-17 * integral) break;
  }
  return integral / s.worker.compute_rate;
}

/// The exact E[T_tol] of Case 1 (p_1 = p_2 = 0; the p's given are ignored): the deterministic
/// cK(s_e+1)(s_w+1)/(nm) + 2τ_1 + 2τ_2 plus random_delay_mean. Throws as random_delay_mean.
inline double computation_dominated_exact_time(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  const double delay = random_delay_mean(s, edge_tolerance, worker_tolerance);
  return detail::computation_shift(s, edge_tolerance, worker_tolerance) + 2 * s.worker.link_time + 2 * s.edge.link_time + delay;
}

/// The exact E[T_tol] of Case 2 (p_1 = 0, γ → ∞; γ and p_1 are ignored): cK(s_e+1)(s_w+1)/(nm) +
/// 2τ_1 + τ_2·E[X_(n−s_e)], X_(r) the r-th smallest of n iid X = N^u + N^d (two geometric attempt
/// counts, P(X > x) = p^x + x(1−p)p^{x−1}), summed as E X_(r) = Σ_{x≥0} P(X_(r) > x) to 1e-15.
/// Throws as communication_dominated_time.
inline double communication_dominated_exact_time(const homogeneous_system& s, Index edge_tolerance, Index worker_tolerance) {
  detail::check_tolerances(s, edge_tolerance, worker_tolerance);
  const double p = s.edge.link_failure, q = 1 - p;
  const Index n = s.edges, ke = n - edge_tolerance;
  if (n > detail::exact_form_max_nodes)
    throw invalid_parameters("communication_dominated_exact_time: n = " + std::to_string(n) +
                             "; the exact sum is computed for n <= " + std::to_string(detail::exact_form_max_nodes) +
                             " (use communication_dominated_time, eq. (37), beyond)");
  // The series runs until P(X_(r) > x) ≈ n·x·p^x < 1e-16: about (ln n + 60)/(−ln p) terms of n
  // binomial terms each. p_2 near 1 would take hours (p_2 = 1 − 10⁻⁷: ~10⁹ terms); refuse beyond
  // ~5·10⁸ binomial terms (a few seconds).
  if (p > 0) {
    const double terms = (std::log(static_cast<double>(n)) + 60) / -std::log(p);
    if (!(terms * static_cast<double>(n + 1) <= 5e8))
      throw invalid_parameters("communication_dominated_exact_time: p_2 = " + detail::format_g(p) +
                               " is too close to 1 for the exact sum (~" + detail::format_g(terms) + " terms of " +
                               std::to_string(n + 1) + " binomials); use communication_dominated_time, eq. (37)");
  }
  const auto binomial = detail::log_binomials(n);
  double attempts = 0;
  for (Index x = 0;; ++x) {
    // P(X > x): 1 for x ≤ 1 (X ≥ 2), then p^x + x q p^{x−1}.
    const double above =
        x <= 1 ? 1.0 : std::pow(p, static_cast<double>(x)) + static_cast<double>(x) * q * std::pow(p, static_cast<double>(x - 1));
    double survival = 1;  // P(fewer than ke of the n are ≤ x)
    if (above < 1) {
      double below = 0, at_least = 0;
      detail::binomial_tails(binomial, n, ke, std::log1p(-above), std::log(above), below, at_least);
      survival = below;
    }
    attempts += survival;
    if (x > 1 && survival < 1e-16 * attempts) break;
  }
  return detail::computation_shift(s, edge_tolerance, worker_tolerance) + 2 * s.worker.link_time + s.edge.link_time * attempts;
}

}  // namespace gradcode
