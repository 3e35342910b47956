// SPDX-License-Identifier: MIT
// Algorithm 2 of tang2024 (§IV-C, JNCSS) transcribed line by line with its errata fixed: the slow
// reference that jncss() (optimize/jncss.hpp) is tested against, value, pair and selection.
#pragma once

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "gradcode/core/types.hpp"
#include "gradcode/optimize/jncss_problem.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// Algorithm 2 transcribed line by line, with the errata of spec §3.2 fixed (loop over [0, n) ×
/// [0, min m_i), arg min, ŝ_w in line 17, exact-count selection) — the reference that jncss()
/// is tested against. O(nm · N log m): every pair recomputes D and B and sorts every edge.
/// Same contract and result as jncss().
inline jncss_result jncss_literal(const runtime_model& model, Index partitions, const jncss_options& options = {}) {
  const auto p = detail::jncss_prepare(model, partitions, options);  // validation; K, m, which s_e exist
  const Index n = model.edge_count(), m = p.min_workers, N = model.total_workers();
  jncss_result r;
  r.time = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> B(static_cast<std::size_t>(n));
  std::vector<double> b(static_cast<std::size_t>(n)), A(static_cast<std::size_t>(n)), edge_time(static_cast<std::size_t>(n));
  const auto edge_times = [&](double D, Index sw) {  // lines 2–7 at load D
    for (Index i = 0; i < n; ++i) {
      const auto si = static_cast<std::size_t>(i);
      A[si] = model.mean_edge_upload(i);  // line 7: A_i = τ_i/(1 − p_i)
      B[si].clear();
      for (const auto& w : model.workers[si])  // lines 2–5: B_(i,j)
        B[si].push_back(detail::jncss_worker_mean(w.compute_per_partition, D, detail::jncss_worker_offset(w, A[si])));
      auto sorted = B[si];
      std::sort(sorted.begin(), sorted.end());
      b[si] = sorted[static_cast<std::size_t>(model.worker_count(i) - sw - 1)];  // line 6: (m_i − s_w)-th min
      edge_time[si] = A[si] + b[si];
    }
  };
  for (Index se = 0; se < n; ++se) {                              // line 1: s_e ∈ [0, n)
    if (se >= p.edge_tolerances) break;                           // no HGC code exists
    for (Index sw = 0; sw < m; ++sw) {                            // line 1: s_w ∈ [0, m)
      edge_times(detail::jncss_load(partitions, se, sw, N), sw);  // (44)
      auto sorted = edge_time;
      std::sort(sorted.begin(), sorted.end());
      const double t = sorted[static_cast<std::size_t>(n - se - 1)];  // line 9: (n − s_e)-th min
      if (t < r.time) {                                               // lines 11–12: min, arg MIN
        r.time = t;
        r.edge_tolerance = se;
        r.worker_tolerance = sw;
      }
    }
  }
  // Lines 13–22 at (ŝ_e, ŝ_w), recomputing D, B, b_i, with exact counts.
  const Index se = r.edge_tolerance, sw = r.worker_tolerance;
  const double D = detail::jncss_load(partitions, se, sw, N);
  r.load = D;
  edge_times(D, sw);
  std::vector<Index> edge_order(static_cast<std::size_t>(n));
  std::iota(edge_order.begin(), edge_order.end(), Index{0});
  std::stable_sort(edge_order.begin(), edge_order.end(), [&](Index x, Index y) {
    return edge_time[static_cast<std::size_t>(x)] < edge_time[static_cast<std::size_t>(y)];
  });
  r.edge_selected.assign(static_cast<std::size_t>(n), false);
  r.worker_selected.assign(static_cast<std::size_t>(n), {});
  for (Index i = 0; i < n; ++i)
    r.worker_selected[static_cast<std::size_t>(i)].assign(static_cast<std::size_t>(model.worker_count(i)), false);
  for (Index rank = 0; rank < n - se; ++rank) {  // line 14: e_i = 1
    const auto si = static_cast<std::size_t>(edge_order[static_cast<std::size_t>(rank)]);
    r.edge_selected[si] = true;
    std::vector<Index> worker_order(B[si].size());
    std::iota(worker_order.begin(), worker_order.end(), Index{0});
    std::stable_sort(worker_order.begin(), worker_order.end(),
                     [&](Index x, Index y) { return B[si][static_cast<std::size_t>(x)] < B[si][static_cast<std::size_t>(y)]; });
    for (Index j = 0; j < static_cast<Index>(B[si].size()) - sw; ++j)  // line 17: w_(i,j) = 1 (ŝ_w)
      r.worker_selected[si][static_cast<std::size_t>(worker_order[static_cast<std::size_t>(j)])] = true;
  }
  r.searched_edge_tolerances = p.edge_tolerances;
  r.skipped_pairs = p.skipped_pairs;
  return r;
}

}  // namespace gradcode
