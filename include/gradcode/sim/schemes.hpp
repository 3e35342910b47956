// SPDX-License-Identifier: MIT
// The seven schemes of tang2024 §V-A (Uncoded, Greedy, CGC-W, CGC-E, Standard GC, HGC,
// HGC-JNCSS) as runnable objects: each owns its real code, draws one iteration of the runtime
// model (eqs. 28–33) with its own waiting rule and per-worker loads, and aggregates the master's
// gradient through its real encode/decode path from exactly the results that arrived in time.
//
// Reading (README "Notes on the papers"): CGC-W = HGC(0, s_w), CGC-E = HGC(s_e, 0), Uncoded =
// HGC(0, 0) waiting for everyone, Greedy = the uncoded assignment waiting for the fastest
// m_i − s_w workers and n − s_e edges and rescaling the partial sum by K/(partitions received);
// Standard GC is a flat code over all Σm_i workers tolerating s = s_max (eq. 8) whose results
// are relayed by the edges (one shared edge upload per edge and iteration).
#pragma once

#include <algorithm>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "gradcode/codes/heterogeneous.hpp"
#include "gradcode/hierarchical/hgc.hpp"
#include "gradcode/hierarchical/tradeoff.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// Who delivered in one simulated iteration, and when the master could decode.
struct round_outcome {
  double time = 0;                          ///< T_tol of the scheme (ms)
  std::vector<Index> edges;                 ///< edges whose result the master used (hierarchical schemes)
  std::vector<std::vector<Index>> workers;  ///< per edge: workers whose result the edge used
  std::vector<Index> flat_workers;          ///< Standard GC: global worker ids the master used
};

template <class Scalar>
class scheme_runner {
 public:
  /// `edge_tolerance`, `worker_tolerance` are the scheme's (s_e, s_w) (for HGC-JNCSS pass
  /// JNCSS's (ŝ_e, ŝ_w)); schemes that fix one of them ignore it (Uncoded both, CGC-W s_e,
  /// CGC-E s_w). Throws invalid_parameters when the scheme's code cannot be built.
  scheme_runner(scheme which, runtime_model model, Index partitions, Index edge_tolerance, Index worker_tolerance,
                std::uint64_t seed = 1)
      : m_which(which), m_model(std::move(model)), m_partitions(partitions) {
    m_model.validate();
    const auto m = m_model.worker_counts();
    switch (which) {
      case scheme::uncoded:
        m_se = 0;
        m_sw = 0;
        break;
      case scheme::cgc_w:
        m_se = 0;
        m_sw = worker_tolerance;
        break;
      case scheme::cgc_e:
        m_se = edge_tolerance;
        m_sw = 0;
        break;
      default:
        m_se = edge_tolerance;
        m_sw = worker_tolerance;
        break;
    }
    if (which == scheme::standard_gc) {
      m_flat_tolerance = standard_gc_tolerance(m, m_se, m_sw);
      const std::vector<double> equal(static_cast<std::size_t>(m_model.total_workers()), 1.0);
      // A flat code tolerating s_max = s_e·m + s_w(n − s_e) of Σm workers (e.g. 16 of 40 at (1,2))
      // is a high-rate real MDS-type code: its worst decodes lose ~7 digits (residual ~1e-8),
      // inherent to real Vandermonde-type systems — part of why the paper's hierarchy helps. The
      // simulator accepts those decodes up to a 1e-6 relative error (float: the usual 1e-4) and
      // training reports the measured gradient error.
      decode_options flat_options;
      flat_options.residual_tolerance = 1e-7;
      flat_options.max_relative_error = sizeof(Scalar) >= sizeof(double) ? 1e-6 : 1e-4;
      m_flat.emplace(
          heterogeneous_params{.capacities = equal, .partitions = partitions, .tolerance = m_flat_tolerance, .seed = seed},
          flat_options);
    } else {
      const bool coded = which != scheme::greedy;
      m_hgc.emplace(hgc_params{.workers = m,
                               .partitions = partitions,
                               .edge_tolerance = coded ? m_se : 0,
                               .worker_tolerance = coded ? m_sw : 0,
                               .seed = seed});
    }
  }

  scheme which() const noexcept { return m_which; }
  const char* name() const noexcept { return scheme_name(m_which); }
  /// True when the master's result is the exact full gradient (all but Greedy).
  bool exact() const noexcept { return m_which != scheme::greedy; }
  Index edge_tolerance() const noexcept { return m_se; }
  Index worker_tolerance() const noexcept { return m_sw; }
  /// Computation load of worker (i, j) in partitions (the code's integer load).
  Index load(Index edge, Index worker) const {
    if (m_flat) return m_flat->load(global_worker(edge, worker));
    return m_hgc->load({edge, worker});
  }
  /// d-vectors the master receives per iteration (Fig. 7).
  Index master_load() const noexcept {
    if (m_flat) return m_model.total_workers() - m_flat_tolerance;
    return m_model.edge_count() - m_se;
  }

  /// Draws one iteration: times from the runtime model with this scheme's loads, then the
  /// waiting rule (which results arrive in time).
  template <class Rng>
  round_outcome sample_round(Rng& rng) const {
    const auto s = sample_iteration(
        m_model, [&](Index i, Index j) { return static_cast<double>(load(i, j)); }, rng);
    round_outcome out;
    const Index n = m_model.edge_count();
    if (m_flat) {  // flat: results relayed through the edges, master waits for N − s of them
      std::vector<std::pair<double, Index>> arrivals;
      Index g = 0;
      for (Index i = 0; i < n; ++i)
        for (double t : s.worker_arrival[static_cast<std::size_t>(i)])
          arrivals.emplace_back(t + s.edge_upload[static_cast<std::size_t>(i)], g++);
      const Index need = m_model.total_workers() - m_flat_tolerance;
      std::nth_element(arrivals.begin(), arrivals.begin() + (need - 1), arrivals.end());
      out.time = arrivals[static_cast<std::size_t>(need - 1)].first;
      for (Index t = 0; t < need; ++t) out.flat_workers.push_back(arrivals[static_cast<std::size_t>(t)].second);
      std::sort(out.flat_workers.begin(), out.flat_workers.end());
      return out;
    }
    // Hierarchical: edge i waits for its m_i − s_w fastest workers, the master for n − s_e edges.
    out.workers.resize(static_cast<std::size_t>(n));
    std::vector<std::pair<double, Index>> edge_times;
    for (Index i = 0; i < n; ++i) {
      const auto& arr = s.worker_arrival[static_cast<std::size_t>(i)];
      std::vector<std::pair<double, Index>> w;
      for (std::size_t j = 0; j < arr.size(); ++j) w.emplace_back(arr[j], static_cast<Index>(j));
      const Index need = static_cast<Index>(arr.size()) - m_sw;
      std::nth_element(w.begin(), w.begin() + (need - 1), w.end());
      for (Index t = 0; t < need; ++t) out.workers[static_cast<std::size_t>(i)].push_back(w[static_cast<std::size_t>(t)].second);
      std::sort(out.workers[static_cast<std::size_t>(i)].begin(), out.workers[static_cast<std::size_t>(i)].end());
      edge_times.emplace_back(s.edge_upload[static_cast<std::size_t>(i)] + w[static_cast<std::size_t>(need - 1)].first, i);
    }
    const Index need = n - m_se;
    std::nth_element(edge_times.begin(), edge_times.begin() + (need - 1), edge_times.end());
    out.time = edge_times[static_cast<std::size_t>(need - 1)].first;
    for (Index t = 0; t < need; ++t) out.edges.push_back(edge_times[static_cast<std::size_t>(t)].second);
    std::sort(out.edges.begin(), out.edges.end());
    return out;
  }

  /// The master's gradient for `round` from the partial gradients (d × K): every responding
  /// worker really encodes its message, edges and master really decode (Greedy: sums what
  /// arrived, rescaled by K / partitions received). Exact schemes return Σ_k g_k.
  void aggregate(const round_outcome& round, const Eigen::Ref<const matrix<Scalar>>& partials,
                 Eigen::Ref<vector<Scalar>> out) const {
    const Index d = partials.rows();
    if (m_flat) {
      matrix<Scalar> messages(d, static_cast<Index>(round.flat_workers.size()));
      for (std::size_t j = 0; j < round.flat_workers.size(); ++j)
        m_flat->encode(round.flat_workers[j], partials, messages.col(static_cast<Index>(j)));
      m_flat->decode(round.flat_workers, messages, out);
      return;
    }
    matrix<Scalar> edge_results(d, static_cast<Index>(round.edges.size()));
    Index received = 0;
    for (std::size_t e = 0; e < round.edges.size(); ++e) {
      const Index i = round.edges[e];
      const auto& ids = round.workers[static_cast<std::size_t>(i)];
      matrix<Scalar> messages(d, static_cast<Index>(ids.size()));
      for (std::size_t j = 0; j < ids.size(); ++j) {
        m_hgc->encode({i, ids[j]}, partials, messages.col(static_cast<Index>(j)));
        received += m_hgc->load({i, ids[j]});
      }
      if (m_which == scheme::greedy)
        edge_results.col(static_cast<Index>(e)) = messages.rowwise().sum();
      else
        m_hgc->edge_decode(i, ids, messages, edge_results.col(static_cast<Index>(e)));
    }
    if (m_which == scheme::greedy) {
      out = edge_results.rowwise().sum();
      if (received > 0) out *= static_cast<Scalar>(static_cast<double>(m_partitions) / static_cast<double>(received));
      return;
    }
    m_hgc->master_decode(round.edges, edge_results, out);
  }

 private:
  Index global_worker(Index edge, Index worker) const {
    Index g = 0;
    for (Index i = 0; i < edge; ++i) g += m_model.worker_count(i);
    return g + worker;
  }

  scheme m_which;
  runtime_model m_model;
  Index m_partitions;
  Index m_se = 0, m_sw = 0, m_flat_tolerance = 0;
  std::optional<hgc_code<Scalar>> m_hgc;
  std::optional<heterogeneous_code<Scalar>> m_flat;
};

}  // namespace gradcode
