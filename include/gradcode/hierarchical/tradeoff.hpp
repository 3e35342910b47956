// SPDX-License-Identifier: MIT
// Computation/communication trade-off calculators of tang2024: the Theorem 1 load bound
// (eq. 4), Corollary 1's conventional single-layer load D_con (eqs. 8–9), Corollary 2's L-layer
// bound (eq. 12), and the master's (§V, Fig. 7) and an edge's communication load per scheme.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
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
    if (m > std::numeric_limits<Index>::max() - total)
      throw invalid_parameters("trade-off: Σm_i overflows a 64-bit count (an edge has m_i = " + std::to_string(m) + ")");
    total += m;
    m_min = std::min(m_min, m);
  }
  const auto n = static_cast<Index>(workers.size());
  if (edge_tolerance < 0 || edge_tolerance >= n)
    throw invalid_parameters("trade-off: s_e = " + std::to_string(edge_tolerance) + " outside [0, n = " + std::to_string(n) +
                             ")");
  if (worker_tolerance < 0 || worker_tolerance >= m_min)
    throw invalid_parameters("trade-off: s_w = " + std::to_string(worker_tolerance) +
                             " outside [0, min m_i = " + std::to_string(m_min) + ")");
  return total;
}
inline void check_partitions(const char* what, Index partitions) {
  if (partitions < 1)
    throw invalid_parameters(std::string(what) + ": K = " + std::to_string(partitions) + " partitions; need K >= 1");
}

/// Theorem 1 (eq. 4, = eq. 44 of JNCSS) unchecked: K(s_e+1)(s_w+1)/Σm_i for K ≥ 1, s_e, s_w ≥ 0,
/// Σm_i ≥ 1. The one place the load is computed (hgc_load_bound, hgc_code::load_bound, JNCSS,
/// the homogeneous closed forms). (s_e+1)(s_w+1) in double: exact below 2^53 and no Index
/// overflow for huge m_i; then one product and one division, each rounded once, so the result
/// is nondecreasing in (s_e+1)(s_w+1) (JNCSS's branch and bound relies on it).
inline double unchecked_load_bound(Index partitions, Index edge_tolerance, Index worker_tolerance, Index total_workers) noexcept {
  return static_cast<double>(partitions) *
         ((static_cast<double>(edge_tolerance) + 1) * (static_cast<double>(worker_tolerance) + 1)) /
         static_cast<double>(total_workers);
}
}  // namespace detail

/// Theorem 1 (eq. 4): the minimum computation load D (partitions per worker) of any scheme
/// tolerating s_e edge and s_w per-edge worker stragglers: K(s_e+1)(s_w+1)/Σm_i. Throws
/// invalid_parameters for K < 1, tolerances out of range, m_i < 1 or Σm_i past 2^63.
inline double hgc_load_bound(std::span<const Index> workers, Index partitions, Index edge_tolerance, Index worker_tolerance) {
  const Index total = detail::checked_total(workers, edge_tolerance, worker_tolerance);
  detail::check_partitions("Theorem 1", partitions);
  return detail::unchecked_load_bound(partitions, edge_tolerance, worker_tolerance, total);
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
  detail::check_partitions("Corollary 1", partitions);
  // s_max < Σm_i (each remaining edge keeps ≥ 1 worker), so s_max + 1 cannot overflow.
  return static_cast<double>(partitions) *
         static_cast<double>(standard_gc_tolerance(workers, edge_tolerance, worker_tolerance) + 1) / static_cast<double>(total);
}

/// Corollary 2 (eq. 12): L-layer bound D ≥ K·Π_{l=1..L}(s_l + 1)/W for W workers at the bottom
/// layer and s_l stragglers tolerated among the children of every node of layer l − 1.
/// Throws invalid_parameters for W < 1, K < 1, a negative s_l, or a bound past the double range.
inline double layered_load_bound(std::span<const Index> tolerances, Index total_workers, Index partitions) {
  if (total_workers < 1)
    throw invalid_parameters("layered bound: W = " + std::to_string(total_workers) + " workers; need W >= 1");
  detail::check_partitions("layered bound", partitions);
  double product = 1;
  for (Index s : tolerances) {
    if (s < 0) throw invalid_parameters("layered bound: a tolerance s_l = " + std::to_string(s) + " is negative");
    product *= static_cast<double>(s) + 1;  // in double: s + 1 in Index overflows at s = 2^63 − 1
  }
  const double bound = static_cast<double>(partitions) * product / static_cast<double>(total_workers);
  if (!std::isfinite(bound))
    throw invalid_parameters("layered bound: K·Π(s_l + 1)/W overflows double (" + std::to_string(tolerances.size()) + " layers)");
  return bound;
}

/// The seven schemes compared in tang2024 §V-A.
enum class scheme { uncoded, greedy, cgc_w, cgc_e, standard_gc, hgc, hgc_jncss };

inline const char* scheme_name(scheme s) noexcept {
  switch (s) {
    case scheme::uncoded:
      return "Uncoded";
    case scheme::greedy:
      return "Greedy";
    case scheme::cgc_w:
      return "CGC-W";
    case scheme::cgc_e:
      return "CGC-E";
    case scheme::standard_gc:
      return "Standard GC";
    case scheme::hgc:
      return "HGC";
    case scheme::hgc_jncss:
      return "HGC-JNCSS";
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
    case scheme::cgc_w:
      return n;
    case scheme::greedy:
    case scheme::cgc_e:
    case scheme::hgc:
    case scheme::hgc_jncss:
      return n - edge_tolerance;
    case scheme::standard_gc:
      return total - standard_gc_tolerance(workers, edge_tolerance, worker_tolerance);
  }
  return n;
}

/// What edge `edge` receives per iteration under HGC (tang2024 §III): it decodes G_i from any
/// m_i − s_w of its workers' d-vectors, so it waits for m_i − s_w of them. Throws
/// invalid_parameters for tolerances out of range or an edge outside [0, n).
inline Index edge_communication_load(std::span<const Index> workers, Index edge, Index edge_tolerance, Index worker_tolerance) {
  detail::checked_total(workers, edge_tolerance, worker_tolerance);
  const auto n = static_cast<Index>(workers.size());
  if (edge < 0 || edge >= n)
    throw invalid_parameters("trade-off: edge " + std::to_string(edge) + " outside [0, n = " + std::to_string(n) + ")");
  return workers[static_cast<std::size_t>(edge)] - worker_tolerance;
}

/// Per-worker computation load D (partitions) of each scheme at tolerances (s_e, s_w), as real
/// numbers before integer balancing: Uncoded and Greedy K/Σm; CGC-W K(s_w+1)/Σm; CGC-E
/// K(s_e+1)/Σm; Standard GC eq. (9); HGC and HGC-JNCSS the Theorem 1 load.
inline double worker_computation_load(scheme which, std::span<const Index> workers, Index partitions, Index edge_tolerance,
                                      Index worker_tolerance) {
  const Index total = detail::checked_total(workers, edge_tolerance, worker_tolerance);
  detail::check_partitions("computation load", partitions);
  const double K = static_cast<double>(partitions), N = static_cast<double>(total);
  switch (which) {
    case scheme::uncoded:
    case scheme::greedy:
      return K / N;
    case scheme::cgc_w:
      return K * (static_cast<double>(worker_tolerance) + 1) / N;
    case scheme::cgc_e:
      return K * (static_cast<double>(edge_tolerance) + 1) / N;
    case scheme::standard_gc:
      return conventional_load(workers, partitions, edge_tolerance, worker_tolerance);
    case scheme::hgc:
    case scheme::hgc_jncss:
      return hgc_load_bound(workers, partitions, edge_tolerance, worker_tolerance);
  }
  return K / N;
}

}  // namespace gradcode
