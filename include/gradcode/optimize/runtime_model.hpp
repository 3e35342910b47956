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
#include <random>
#include <span>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

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
  std::vector<edge_timing> edges;                  ///< n entries
  std::vector<std::vector<worker_timing>> workers; ///< workers[i] has m_i entries

  Index edge_count() const noexcept { return static_cast<Index>(edges.size()); }
  Index worker_count(Index edge) const { return static_cast<Index>(workers.at(static_cast<std::size_t>(edge)).size()); }
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
  /// (c ≥ 0, γ > 0, τ ≥ 0, p ∈ [0, 1), all finite; n ≥ 1, m_i ≥ 1).
  void validate() const {
    if (edges.empty()) throw invalid_parameters("runtime model: no edges");
    if (workers.size() != edges.size())
      throw invalid_parameters("runtime model: " + std::to_string(workers.size()) + " worker lists for " +
                               std::to_string(edges.size()) + " edges");
    // Messages are built only on failure: validate() runs on 10⁶-worker models in JNCSS.
    auto link = [](double tau, double p, auto&& who) {
      if (!(tau >= 0) || !std::isfinite(tau)) throw invalid_parameters(who() + ": link time τ = " + std::to_string(tau) + " must be finite and >= 0");
      if (!(p >= 0 && p < 1)) throw invalid_parameters(who() + ": link failure probability p = " + std::to_string(p) + " must be in [0, 1)");
    };
    for (std::size_t i = 0; i < edges.size(); ++i) {
      link(edges[i].link_time, edges[i].link_failure, [&] { return "edge " + std::to_string(i); });
      if (workers[i].empty()) throw invalid_parameters("runtime model: edge " + std::to_string(i) + " has no workers");
      for (std::size_t j = 0; j < workers[i].size(); ++j) {
        const auto& w = workers[i][j];
        auto who = [&] { return "worker (" + std::to_string(i) + "," + std::to_string(j) + ")"; };
        link(w.link_time, w.link_failure, who);
        if (!(w.compute_per_partition >= 0) || !std::isfinite(w.compute_per_partition))
          throw invalid_parameters(who() + ": computation time per partition c = " + std::to_string(w.compute_per_partition) +
                                   " must be finite and >= 0");
        if (!(w.compute_rate > 0) || !std::isfinite(w.compute_rate))
          throw invalid_parameters(who() + ": computation rate γ = " + std::to_string(w.compute_rate) + " must be finite and > 0");
      }
    }
  }

  /// A_i = E[T_com,u^i] = τ_i/(1 − p_i) (eq. 43, Algorithm 2 line 7).
  double mean_edge_upload(Index edge) const {
    const auto& e = edges.at(static_cast<std::size_t>(edge));
    return e.link_time / (1 - e.link_failure);
  }
  /// B_(i,j) = E[T_tol^(i,j)] = c·D + 1/γ + 2τ_(i,j)/(1 − p_(i,j)) + τ_i/(1 − p_i) (eq. 43, Alg. 2
  /// line 4) for computation load D (may be fractional).
  double mean_worker_time(Index edge, Index worker, double load) const {
    const auto& w = workers.at(static_cast<std::size_t>(edge)).at(static_cast<std::size_t>(worker));
    return w.compute_per_partition * load + 1 / w.compute_rate + 2 * w.link_time / (1 - w.link_failure) +
           mean_edge_upload(edge);
  }
};

/// One iteration's random times (eqs. 28–31) before any waiting rule is applied.
struct iteration_sample {
  std::vector<double> edge_download;               ///< T_com,d^i
  std::vector<double> edge_upload;                 ///< T_com,u^i
  std::vector<std::vector<double>> worker_arrival; ///< T_tol^(i,j) (eq. 31): worker result at its edge
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

/// Draws one iteration of the model with per-worker computation loads `load(i, j)` (partitions).
template <class Rng, class Load>
iteration_sample sample_iteration(const runtime_model& model, Load&& load, Rng& rng) {
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
      const double compute = w.compute_per_partition * load(static_cast<Index>(i), static_cast<Index>(j)) +
                             unit_exp(rng) / w.compute_rate;
      const double up = w.link_time * detail::attempts(w.link_failure, rng);
      s.worker_arrival[i].push_back(s.edge_download[i] + down + compute + up);
    }
  }
  return s;
}

/// Same with one load D for every worker.
template <class Rng>
iteration_sample sample_iteration(const runtime_model& model, double load, Rng& rng) {
  return sample_iteration(model, [load](Index, Index) { return load; }, rng);
}

/// T_tol (eqs. 32–33) of a sample: edge i finishes at T_com,u^i + the (m_i − s_w)-th smallest
/// worker arrival; the master at the (n − s_e)-th smallest edge time.
inline double hierarchical_time(const iteration_sample& s, Index edge_tolerance, Index worker_tolerance) {
  std::vector<double> edge_times;
  for (std::size_t i = 0; i < s.worker_arrival.size(); ++i)
    edge_times.push_back(s.edge_upload[i] +
                         detail::kth_smallest(s.worker_arrival[i], static_cast<Index>(s.worker_arrival[i].size()) - worker_tolerance));
  return detail::kth_smallest(std::move(edge_times), static_cast<Index>(s.worker_arrival.size()) - edge_tolerance);
}

}  // namespace gradcode
