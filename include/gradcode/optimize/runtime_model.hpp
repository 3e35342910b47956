// SPDX-License-Identifier: MIT
// Runtime model of hierarchical gradient coding (tang2024 §IV-A, eqs. (28)–(33)): per-worker
// shifted-exponential computation and geometric-retransmission links, per-edge links, and the
// nested order statistics that give one iteration's time for tolerances (s_e, s_w).
//
// Reading (see README "Notes on the papers"): the computation time is c·D + Exp(γ) — D enters
// only the deterministic shift; p is the per-attempt failure probability of a link, whose time is
// τ × Geometric(1 − p) attempts (mean τ/(1 − p)); the master→edge download T_com,d^i is one draw
// per edge shared by that edge's workers (eq. 31 indexes it by i only). Times in ms.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

namespace detail {
/// o_(i,j) = 1/γ + 2τ/(1 − p) + A_i (eq. 43) and A_i + o_(i,j) are finite: the model's mean
/// times cannot overflow (the same expression as jncss_worker_offset).
template <class Worker>
bool worker_offset_fits(const Worker& w, double upload) noexcept {
  const double offset = 1 / w.compute_rate + 2 * w.link_time / (1 - w.link_failure) + upload;
  return std::isfinite(offset) && std::isfinite(offset + upload);
}
}  // namespace detail

/// Worker (i, j) of the runtime model.
struct worker_timing {
  double compute_per_partition = 0;  ///< c_(i,j): deterministic computation time per partition (ms)
  double compute_rate = 1;           ///< γ_(i,j): rate of the exponential computation delay (1/ms), > 0
  double link_time = 0;              ///< τ_(i,j): one transmission attempt worker ↔ edge (ms)
  double link_failure = 0;           ///< p_(i,j) ∈ [0, 1): failure probability of one attempt
};

/// Edge i of the runtime model.
struct edge_timing {
  double link_time = 0;     ///< τ_i: one transmission attempt edge ↔ master (ms)
  double link_failure = 0;  ///< p_i ∈ [0, 1)
};

/// The whole system: n edges and, per edge, its m_i workers.
struct runtime_model {
  std::vector<edge_timing> edges;                   ///< n entries
  std::vector<std::vector<worker_timing>> workers;  ///< workers[i] has m_i entries

  Index edge_count() const noexcept { return static_cast<Index>(edges.size()); }
  /// m_i. Throws invalid_input when edge ∉ [0, n) (of `workers`).
  Index worker_count(Index edge) const {
    if (edge < 0 || edge >= static_cast<Index>(workers.size()))
      throw invalid_input(
          "runtime model: edge " + std::to_string(edge) + " is outside [0, " + std::to_string(workers.size()) + ")", edge);
    return static_cast<Index>(workers[static_cast<std::size_t>(edge)].size());
  }
  std::vector<Index> worker_counts() const {
    std::vector<Index> m;
    for (const auto& w : workers) m.push_back(static_cast<Index>(w.size()));
    return m;
  }
  Index total_workers() const noexcept {
    Index t = 0;
    for (const auto& w : workers) t += static_cast<Index>(w.size());
    return t;
  }

  /// Throws invalid_parameters naming the node when a parameter is out of range
  /// (c ≥ 0, γ > 0, τ ≥ 0, p ∈ [0, 1), all finite; n ≥ 1, m_i ≥ 1), or when a mean time derived
  /// from them overflows double: A_i = τ_i/(1 − p_i) and A_i + o_(i,j), o = 1/γ + 2τ/(1 − p) + A_i
  /// (eq. 43 without the load term) must be finite, so every time the model produces is.
  void validate() const {
    if (edges.empty()) throw invalid_parameters("runtime model: no edges");
    if (workers.size() != edges.size())
      throw invalid_parameters("runtime model: " + std::to_string(workers.size()) + " worker lists for " +
                               std::to_string(edges.size()) + " edges");
    // Messages are built only on failure: validate() runs on 10⁶-worker models in JNCSS.
    auto link = [](double tau, double p, auto&& who) {
      if (!(tau >= 0) || !std::isfinite(tau))
        throw invalid_parameters(who() + ": link time τ = " + std::to_string(tau) + " must be finite and >= 0");
      if (!(p >= 0 && p < 1))
        throw invalid_parameters(who() + ": link failure probability p = " + std::to_string(p) + " must be in [0, 1)");
    };
    for (std::size_t i = 0; i < edges.size(); ++i) {
      link(edges[i].link_time, edges[i].link_failure, [&] { return "edge " + std::to_string(i); });
      const double upload = edges[i].link_time / (1 - edges[i].link_failure);
      if (!std::isfinite(upload))
        throw invalid_parameters("edge " + std::to_string(i) + ": mean upload τ/(1 − p) = " + detail::format_g(upload) +
                                 " overflows double (τ = " + detail::format_g(edges[i].link_time) +
                                 ", p = " + detail::format_g(edges[i].link_failure) + ")");
      if (workers[i].empty()) throw invalid_parameters("runtime model: edge " + std::to_string(i) + " has no workers");
      for (std::size_t j = 0; j < workers[i].size(); ++j) {
        const auto& w = workers[i][j];
        auto who = [&] { return "worker (" + std::to_string(i) + "," + std::to_string(j) + ")"; };
        link(w.link_time, w.link_failure, who);
        if (!(w.compute_per_partition >= 0) || !std::isfinite(w.compute_per_partition))
          throw invalid_parameters(who() + ": computation time per partition c = " + std::to_string(w.compute_per_partition) +
                                   " must be finite and >= 0");
        if (!(w.compute_rate > 0) || !std::isfinite(w.compute_rate))
          throw invalid_parameters(who() + ": computation rate γ = " + std::to_string(w.compute_rate) +
                                   " must be finite and > 0");
        if (!detail::worker_offset_fits(w, upload))
          throw invalid_parameters(who() + ": its mean time 1/γ + 2τ/(1 − p) + τ_i/(1 − p_i) overflows double (γ = " +
                                   detail::format_g(w.compute_rate) + ", τ = " + detail::format_g(w.link_time) +
                                   ", p = " + detail::format_g(w.link_failure) + ")");
      }
    }
  }

  /// A_i = E[T_com,u^i] = τ_i/(1 − p_i) (eq. 43, Algorithm 2 line 7). Throws invalid_input when
  /// edge ∉ [0, n).
  double mean_edge_upload(Index edge) const {
    if (edge < 0 || edge >= edge_count())
      throw invalid_input("runtime model: edge " + std::to_string(edge) + " is outside [0, " + std::to_string(edge_count()) + ")",
                          edge);
    const auto& e = edges[static_cast<std::size_t>(edge)];
    return e.link_time / (1 - e.link_failure);
  }
  /// B_(i,j) = E[T_tol^(i,j)] = c·D + 1/γ + 2τ_(i,j)/(1 − p_(i,j)) + τ_i/(1 − p_i) (eq. 43, Alg. 2
  /// line 4) for computation load D (may be fractional). Throws invalid_input for a worker that
  /// does not exist, invalid_parameters for a load that is negative or not finite.
  double mean_worker_time(Index edge, Index worker, double load) const {
    const double upload = mean_edge_upload(edge);  // checks the edge
    if (worker < 0 || worker >= worker_count(edge))
      throw invalid_input("runtime model: worker (" + std::to_string(edge) + "," + std::to_string(worker) +
                              ") does not exist: edge " + std::to_string(edge) + " has " + std::to_string(worker_count(edge)) +
                              " workers",
                          worker);
    if (!(load >= 0) || !std::isfinite(load))
      throw invalid_parameters("runtime model: load D = " + detail::format_g(load) + " must be finite and >= 0");
    const auto& w = workers[static_cast<std::size_t>(edge)][static_cast<std::size_t>(worker)];
    return w.compute_per_partition * load + 1 / w.compute_rate + 2 * w.link_time / (1 - w.link_failure) + upload;
  }
};

/// One iteration's random times (eqs. 28–31) before any waiting rule is applied.
struct iteration_sample {
  std::vector<double> edge_download;                ///< T_com,d^i
  std::vector<double> edge_upload;                  ///< T_com,u^i
  std::vector<std::vector<double>> worker_arrival;  ///< T_tol^(i,j) (eq. 31): worker result at its edge
};

namespace detail {
/// Attempts until the first success, Geometric on {1, 2, …} with failure probability p.
template <class Rng>
double attempts(double p, Rng& rng) {
  if (p <= 0) return 1;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double x = 1 - u(rng);  // (0, 1]
  return 1 + std::floor(std::log(x) / std::log(p));
}
/// k-th smallest (1-based) of `values` (copied; selection, not sorting).
inline double kth_smallest(std::vector<double> values, Index k) {
  auto nth = values.begin() + (k - 1);
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}
}  // namespace detail

namespace detail {
/// The checks of runtime_model::validate() without building a message per node (it runs on
/// 10⁶-worker models); on any failure validate() itself throws, so the message names the node.
inline void check_runtime_model(const runtime_model& model) {
  bool ok = !model.edges.empty() && model.workers.size() == model.edges.size();
  const auto link_ok = [](double tau, double p) { return tau >= 0 && std::isfinite(tau) && p >= 0 && p < 1; };
  for (std::size_t i = 0; ok && i < model.edges.size(); ++i) {
    const auto& e = model.edges[i];
    ok = link_ok(e.link_time, e.link_failure) && !model.workers[i].empty();
    const double upload = e.link_time / (1 - e.link_failure);
    ok = ok && std::isfinite(upload);
    for (const auto& w : model.workers[i])
      ok = ok && link_ok(w.link_time, w.link_failure) && w.compute_per_partition >= 0 && std::isfinite(w.compute_per_partition) &&
           w.compute_rate > 0 && std::isfinite(w.compute_rate) && worker_offset_fits(w, upload);
  }
  if (!ok) {
    model.validate();
    throw invalid_parameters("runtime model: invalid parameters");  // not reached: validate() throws
  }
}

/// sample_iteration on a validated model (the loads are still checked as they are drawn).
template <class Rng, class Load>
iteration_sample sample_iteration_unchecked(const runtime_model& model, Load&& load, Rng& rng) {
  iteration_sample s;
  const auto n = static_cast<std::size_t>(model.edge_count());
  s.edge_download.resize(n);
  s.edge_upload.resize(n);
  s.worker_arrival.resize(n);
  std::exponential_distribution<double> unit_exp(1.0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& e = model.edges[i];
    s.edge_download[i] = e.link_time * detail::attempts(e.link_failure, rng);
    s.edge_upload[i] = e.link_time * detail::attempts(e.link_failure, rng);
    for (std::size_t j = 0; j < model.workers[i].size(); ++j) {
      const auto& w = model.workers[i][j];
      const double down = w.link_time * detail::attempts(w.link_failure, rng);
      const double D = load(static_cast<Index>(i), static_cast<Index>(j));
      if (!(D >= 0) || !std::isfinite(D))
        throw invalid_parameters("sample_iteration: worker (" + std::to_string(i) + "," + std::to_string(j) +
                                 ") has load D = " + format_g(D) + "; loads must be finite and >= 0");
      const double compute = w.compute_per_partition * D + unit_exp(rng) / w.compute_rate;
      const double up = w.link_time * detail::attempts(w.link_failure, rng);
      const double arrival = s.edge_download[i] + down + compute + up;
      if (!std::isfinite(arrival))
        throw invalid_parameters("sample_iteration: worker (" + std::to_string(i) + "," + std::to_string(j) +
                                 ")'s time overflows double (c·D = " + format_g(w.compute_per_partition * D) + ")");
      s.worker_arrival[i].push_back(arrival);
    }
  }
  return s;
}
}  // namespace detail

/// Draws one iteration of the model with per-worker computation loads `load(i, j)` (partitions).
/// Throws invalid_parameters when the model fails validate(), a load is negative or not finite,
/// or a time overflows double.
template <class Rng, class Load>
iteration_sample sample_iteration(const runtime_model& model, Load&& load, Rng& rng) {
  detail::check_runtime_model(model);
  return detail::sample_iteration_unchecked(model, std::forward<Load>(load), rng);
}

/// Same with one load D for every worker.
template <class Rng>
iteration_sample sample_iteration(const runtime_model& model, double load, Rng& rng) {
  return sample_iteration(
      model, [load](Index, Index) { return load; }, rng);
}

/// T_tol (eqs. 32–33) of a sample: edge i finishes at T_com,u^i + the (m_i − s_w)-th smallest
/// worker arrival; the master at the (n − s_e)-th smallest edge time. Throws invalid_parameters
/// unless s_e ∈ [0, n) and s_w ∈ [0, min m_i); invalid_input when the sample is malformed (no
/// edges, an edge without workers, upload times not one per edge) or holds a NaN or negative time.
inline double hierarchical_time(const iteration_sample& s, Index edge_tolerance, Index worker_tolerance) {
  const auto n = static_cast<Index>(s.worker_arrival.size());
  if (n == 0) throw invalid_input("hierarchical_time: the sample has no edges");
  if (s.edge_upload.size() != s.worker_arrival.size())
    throw invalid_input("hierarchical_time: " + std::to_string(s.edge_upload.size()) + " edge upload times for " +
                        std::to_string(n) + " edges");
  Index m_min = std::numeric_limits<Index>::max();
  const auto bad_time = [](double t) { return !(t >= 0); };  // NaN or negative (+inf: never arrives, allowed)
  for (Index i = 0; i < n; ++i) {
    const auto& arrivals = s.worker_arrival[static_cast<std::size_t>(i)];
    if (arrivals.empty()) throw invalid_input("hierarchical_time: edge " + std::to_string(i) + " has no workers", i);
    m_min = std::min(m_min, static_cast<Index>(arrivals.size()));
    if (bad_time(s.edge_upload[static_cast<std::size_t>(i)]))
      throw invalid_input("hierarchical_time: edge " + std::to_string(i) + " has upload time " +
                              detail::format_g(s.edge_upload[static_cast<std::size_t>(i)]) + "; times must be >= 0",
                          i);
    for (std::size_t j = 0; j < arrivals.size(); ++j)
      if (bad_time(arrivals[j]))
        throw invalid_input("hierarchical_time: worker (" + std::to_string(i) + "," + std::to_string(j) + ") has arrival time " +
                                detail::format_g(arrivals[j]) + "; times must be >= 0",
                            static_cast<long long>(j));
  }
  if (edge_tolerance < 0 || edge_tolerance >= n)
    throw invalid_parameters("hierarchical_time: s_e = " + std::to_string(edge_tolerance) +
                             " outside [0, n = " + std::to_string(n) + ")");
  if (worker_tolerance < 0 || worker_tolerance >= m_min)
    throw invalid_parameters("hierarchical_time: s_w = " + std::to_string(worker_tolerance) +
                             " outside [0, min m_i = " + std::to_string(m_min) + ")");
  std::vector<double> edge_times;
  for (std::size_t i = 0; i < s.worker_arrival.size(); ++i)
    edge_times.push_back(
        s.edge_upload[i] +
        detail::kth_smallest(s.worker_arrival[i], static_cast<Index>(s.worker_arrival[i].size()) - worker_tolerance));
  return detail::kth_smallest(std::move(edge_times), static_cast<Index>(s.worker_arrival.size()) - edge_tolerance);
}

}  // namespace gradcode
