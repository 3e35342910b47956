// SPDX-License-Identifier: MIT
// Theorem 3 of tang2024 (§IV-C, eqs. 48–49, Lemma 1 eq. 54): the bound on the gap between JNCSS's
// surrogate optimum T̂_tol and the runtime model's expected iteration time E[T_tol].
// The paper states the bound for E|T_tol − T̂_tol|; its proof gives |E[T_tol] − T̂_tol|, which is
// what this computes (spec §3.4, README "Notes on the papers"). Δ_w^i in closed form, Δ_e by
// Monte Carlo (49, m_i erratum).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/optimize/jncss_problem.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// f(n, r) of Lemma 1 (eq. 54): √((r−1)/(n(n−r+1))) + √((n−r)/(nr)) for r ∈ [1, n]; the
/// deviation of the r-th order statistic's mean from the r-th smallest mean is at most
/// f(n, r)·√(E Σ(X_i − X̄)²). Symmetric, f(n, r) = f(n, n+1−r). Throws invalid_parameters
/// unless 1 ≤ r ≤ n.
inline double order_statistic_factor(Index n, Index r) {
  if (n < 1 || r < 1 || r > n)
    throw invalid_parameters("Lemma 1: f(n = " + std::to_string(n) + ", r = " + std::to_string(r) + ") needs 1 <= r <= n");
  const auto nn = static_cast<double>(n), rr = static_cast<double>(r);
  return std::sqrt((rr - 1) / (nn * (nn - rr + 1))) + std::sqrt((nn - rr) / (nn * rr));
}

/// Δ_w^i of eq. (49), with m_i where the paper prints n (erratum), in closed form at load D:
/// the worker times T_tol^(i,j) = T_com,d^i + Y_ij share the edge's download, which cancels, so
///   (Δ_w^i)² = E Σ_j (T^(i,j) − T̄^(i,·))² = (1 − 1/m_i) Σ_j Var Y_ij + Σ_j (B_(i,j) − B̄_i)²,
///   Var Y_ij = 2τ_(i,j)² p_(i,j)/(1 − p_(i,j))² + 1/γ_(i,j)².
/// Reads `model` (validated); throws invalid_parameters for a bad model, edge or load.
inline double worker_dispersion(const runtime_model& model, Index edge, double load) {
  detail::jncss_validate(model);
  if (edge < 0 || edge >= model.edge_count())
    throw invalid_parameters("Theorem 3: edge " + std::to_string(edge) +
                             " outside [0, n = " + std::to_string(model.edge_count()) + ")");
  if (!(load >= 0) || !std::isfinite(load))
    throw invalid_parameters("Theorem 3: load D = " + std::to_string(load) + " must be finite and >= 0");
  const auto& ws = model.workers[static_cast<std::size_t>(edge)];
  const auto m = static_cast<double>(ws.size());
  double variance = 0, mean = 0, spread = 0;
  std::vector<double> b(ws.size());
  for (std::size_t j = 0; j < ws.size(); ++j) {
    const auto& w = ws[j];
    const double q = 1 - w.link_failure;
    variance += 2 * w.link_time * w.link_time * w.link_failure / (q * q) + 1 / (w.compute_rate * w.compute_rate);
    b[j] = model.mean_worker_time(edge, static_cast<Index>(j), load);
    mean += b[j] / m;
  }
  for (double x : b) spread += (x - mean) * (x - mean);  // Σ_j (B_(i,j) − B̄_i)²
  const double dispersion = std::sqrt((1 - 1 / m) * variance + spread);
  if (!std::isfinite(dispersion))
    throw invalid_parameters("Theorem 3: Δ_w of edge " + std::to_string(edge) + " overflows double at load D = " +
                             detail::format_g(load) + " (the model's times are too large to square)");
  return dispersion;
}

/// Δ_e of eq. (49) by Monte Carlo: the mean over `samples` iterations (sample_iteration at load
/// D) of Σ_i (T_tol^i − T̄)², T_tol^i = T_com,u^i + the (m_i − s_w)-th smallest worker arrival
/// (eq. 32) — an unbiased estimate of (Δ_e)², returned as its square root. Draws from `rng` only.
/// Throws invalid_parameters for a bad model, s_w ∉ [0, min m_i), load or samples < 1.
template <class Rng>
double edge_dispersion(const runtime_model& model, Index worker_tolerance, double load, Index samples, Rng& rng) {
  detail::jncss_validate(model);
  Index m_min = std::numeric_limits<Index>::max();
  for (const auto& ws : model.workers) m_min = std::min(m_min, static_cast<Index>(ws.size()));
  if (worker_tolerance < 0 || worker_tolerance >= m_min)
    throw invalid_parameters("Theorem 3: s_w = " + std::to_string(worker_tolerance) +
                             " outside [0, min m_i = " + std::to_string(m_min) + ")");
  if (!(load >= 0) || !std::isfinite(load))
    throw invalid_parameters("Theorem 3: load D = " + std::to_string(load) + " must be finite and >= 0");
  if (samples < 1) throw invalid_parameters("Theorem 3: " + std::to_string(samples) + " Monte-Carlo samples; need >= 1");
  const auto n = static_cast<std::size_t>(model.edge_count());
  std::vector<double> t(n);
  double total = 0;
  for (Index s = 0; s < samples; ++s) {
    const auto x = detail::sample_iteration_unchecked(
        model, [load](Index, Index) { return load; }, rng);  // model checked above
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) {
      t[i] = x.edge_upload[i] +
             detail::kth_smallest(x.worker_arrival[i], static_cast<Index>(x.worker_arrival[i].size()) - worker_tolerance);
      mean += t[i];
    }
    mean /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) total += (t[i] - mean) * (t[i] - mean);
  }
  const double dispersion = std::sqrt(total / static_cast<double>(samples));
  if (!std::isfinite(dispersion))
    throw invalid_parameters("Theorem 3: Δ_e overflows double (the model's times are too large to square)");
  return dispersion;
}

/// Theorem 3's bound (eq. 48) for a JNCSS result, with its parts.
struct jncss_gap_bound {
  double bound = 0;                       ///< f(n, n−ŝ_e)·Δ_e + max_i f(m_i, m_i−ŝ_w)·Δ_w^i ≥ |E[T_tol] − T̂_tol|
  double edge_factor = 0;                 ///< f(n, n − ŝ_e)
  double edge_dispersion = 0;             ///< Δ_e (Monte-Carlo estimate)
  double worker_term = 0;                 ///< max_i f(m_i, m_i − ŝ_w)·Δ_w^i
  std::vector<double> worker_dispersion;  ///< Δ_w^i, closed form
};

/// Theorem 3 (eqs. 48–49) at (ŝ_e, ŝ_w, D) of `result` (from jncss on `model`): bounds
/// |E[T_tol] − T̂_tol| — the form the paper's proof establishes (it states E|T_tol − T̂_tol|).
/// Δ_e is estimated with `samples` Monte-Carlo iterations drawn from `rng`. Throws as
/// edge_dispersion / worker_dispersion, or invalid_parameters if `result` does not fit `model`.
template <class Rng>
jncss_gap_bound jncss_gap(const runtime_model& model, const jncss_result& result, Index samples, Rng& rng) {
  detail::jncss_validate(model);
  const Index n = model.edge_count();
  if (result.edge_tolerance < 0 || result.edge_tolerance >= n)
    throw invalid_parameters("Theorem 3: ŝ_e = " + std::to_string(result.edge_tolerance) +
                             " outside [0, n = " + std::to_string(n) + ")");
  jncss_gap_bound g;
  g.edge_factor = order_statistic_factor(n, n - result.edge_tolerance);
  g.edge_dispersion = edge_dispersion(model, result.worker_tolerance, result.load, samples, rng);
  for (Index i = 0; i < n; ++i) {
    const Index m = model.worker_count(i);
    g.worker_dispersion.push_back(worker_dispersion(model, i, result.load));
    g.worker_term = std::max(g.worker_term, order_statistic_factor(m, m - result.worker_tolerance) * g.worker_dispersion.back());
  }
  g.bound = g.edge_factor * g.edge_dispersion + g.worker_term;
  if (!std::isfinite(g.bound)) throw invalid_parameters("Theorem 3: the bound overflows double");
  return g;
}

}  // namespace gradcode
