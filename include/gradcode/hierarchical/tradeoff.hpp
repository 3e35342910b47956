// SPDX-License-Identifier: MIT
// Computation/communication trade-off calculators of tang2024: the Theorem 1 load bound
// (eq. 4), Corollary 1's conventional single-layer load D_con (eqs. 8–9), Corollary 2's L-layer
// bound (eq. 12), and the master's communication load per scheme of §V (Fig. 7).
#pragma once

#include <algorithm>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

namespace detail {
inline Index checked_total(std::span<const Index> workers, Index edge_tolerance, Index worker_tolerance) {
  if (workers.empty()) throw invalid_parameters("trade-off: no edges");
  Index total = 0, m_min = workers[0];
  for (Index m : workers) {
    if (m < 1) throw invalid_parameters("trade-off: an edge has m_i = " + std::to_string(m) + " < 1 workers");
    total += m;
    m_min = std::min(m_min, m);
  }
  const auto n = static_cast<Index>(workers.size());
  if (edge_tolerance < 0 || edge_tolerance >= n)
    throw invalid_parameters("trade-off: s_e = " + std::to_string(edge_tolerance) + " outside [0, n = " + std::to_string(n) + ")");
  if (worker_tolerance < 0 || worker_tolerance >= m_min)
    throw invalid_parameters("trade-off: s_w = " + std::to_string(worker_tolerance) + " outside [0, min m_i = " +
                             std::to_string(m_min) + ")");
  return total;
}
}  // namespace detail

/// Theorem 1 (eq. 4): the minimum computation load D (partitions per worker) of any scheme
/// tolerating s_e edge and s_w per-edge worker stragglers: K(s_e+1)(s_w+1)/Σm_i.
inline double hgc_load_bound(std::span<const Index> workers, Index partitions, Index edge_tolerance, Index worker_tolerance) {
  const Index total = detail::checked_total(workers, edge_tolerance, worker_tolerance);
  return static_cast<double>(partitions) * static_cast<double>((edge_tolerance + 1) * (worker_tolerance + 1)) /
         static_cast<double>(total);
}

/// Corollary 1 (eq. 8): stragglers a flat (worker ↔ master) code must tolerate to survive any s_e
/// edges and s_w workers per remaining edge: the s_e largest m_i plus (n − s_e)·s_w. With equal
/// m_i this is the Standard GC tolerance s = s_e·m + s_w(n − s_e) of §V.
inline Index standard_gc_tolerance(std::span<const Index> workers, Index edge_tolerance, Index worker_tolerance) {
  detail::checked_total(workers, edge_tolerance, worker_tolerance);
  std::vector<Index> sorted(workers.begin(), workers.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const auto n = static_cast<Index>(workers.size());
  return std::accumulate(sorted.begin(), sorted.begin() + edge_tolerance, Index{0}) + (n - edge_tolerance) * worker_tolerance;
}

/// Corollary 1 (eq. 9): the conventional single-layer load D_con = K(s_max + 1)/Σm_i. It is
/// ≥ the Theorem 1 bound, with equality possible (tang2024 prints ">" in eq. (11); it is "≥",
/// e.g. at s_e = s_w = 0).
inline double conventional_load(std::span<const Index> workers, Index partitions, Index edge_tolerance, Index worker_tolerance) {
  const Index total = detail::checked_total(workers, edge_tolerance, worker_tolerance);
  return static_cast<double>(partitions) * static_cast<double>(standard_gc_tolerance(workers, edge_tolerance, worker_tolerance) + 1) /
         static_cast<double>(total);
}

/// Corollary 2 (eq. 12): L-layer bound D ≥ K·Π_{l=1..L}(s_l + 1)/W for W workers at the bottom
/// layer and s_l stragglers tolerated among the children of every node of layer l − 1.
inline double layered_load_bound(std::span<const Index> tolerances, Index total_workers, Index partitions) {
  if (total_workers < 1) throw invalid_parameters("layered bound: W = " + std::to_string(total_workers) + " workers; need W >= 1");
  double product = 1;
  for (Index s : tolerances) {
    if (s < 0) throw invalid_parameters("layered bound: a tolerance s_l = " + std::to_string(s) + " is negative");
    product *= static_cast<double>(s + 1);
  }
  return static_cast<double>(partitions) * product / static_cast<double>(total_workers);
}

/// The seven schemes compared in tang2024 §V-A.
enum class scheme { uncoded, greedy, cgc_w, cgc_e, standard_gc, hgc, hgc_jncss };

inline const char* scheme_name(scheme s) noexcept {
  switch (s) {
    case scheme::uncoded: return "Uncoded";
    case scheme::greedy: return "Greedy";
    case scheme::cgc_w: return "CGC-W";
    case scheme::cgc_e: return "CGC-E";
    case scheme::standard_gc: return "Standard GC";
    case scheme::hgc: return "HGC";
    case scheme::hgc_jncss: return "HGC-JNCSS";
  }
  return "?";
}

/// The master's communication load (§V-B, Fig. 7): d-vectors it waits for per iteration, for a
/// scheme run with tolerances (s_e, s_w) (for HGC-JNCSS pass JNCSS's (ŝ_e, ŝ_w)). Uncoded and
/// CGC-W wait for all n edges; Greedy, CGC-E, HGC and HGC-JNCSS for n − s_e; Standard GC is
/// flat, so the master waits for Σm_i − s_max worker results (eq. 8).
inline Index master_communication_load(scheme which, std::span<const Index> workers, Index edge_tolerance,
                                       Index worker_tolerance) {
  const Index total = detail::checked_total(workers, edge_tolerance, worker_tolerance);
  const auto n = static_cast<Index>(workers.size());
  switch (which) {
    case scheme::uncoded:
    case scheme::cgc_w: return n;
    case scheme::greedy:
    case scheme::cgc_e:
    case scheme::hgc:
    case scheme::hgc_jncss: return n - edge_tolerance;
    case scheme::standard_gc: return total - standard_gc_tolerance(workers, edge_tolerance, worker_tolerance);
  }
  return n;
}

/// Per-worker computation load D (partitions) of each scheme at tolerances (s_e, s_w), as real
/// numbers before integer balancing: Uncoded and Greedy K/Σm; CGC-W K(s_w+1)/Σm; CGC-E
/// K(s_e+1)/Σm; Standard GC eq. (9); HGC and HGC-JNCSS the Theorem 1 load.
inline double worker_computation_load(scheme which, std::span<const Index> workers, Index partitions, Index edge_tolerance,
                                      Index worker_tolerance) {
  const Index total = detail::checked_total(workers, edge_tolerance, worker_tolerance);
  const double K = static_cast<double>(partitions), N = static_cast<double>(total);
  switch (which) {
    case scheme::uncoded:
    case scheme::greedy: return K / N;
    case scheme::cgc_w: return K * static_cast<double>(worker_tolerance + 1) / N;
    case scheme::cgc_e: return K * static_cast<double>(edge_tolerance + 1) / N;
    case scheme::standard_gc: return conventional_load(workers, partitions, edge_tolerance, worker_tolerance);
    case scheme::hgc:
    case scheme::hgc_jncss: return hgc_load_bound(workers, partitions, edge_tolerance, worker_tolerance);
  }
  return K / N;
}

}  // namespace gradcode
