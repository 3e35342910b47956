// SPDX-License-Identifier: MIT
// Communication-load calculators of gholami2025's polynomial hierarchical code: Theorem 1's optimal
// loads C1*, C2^(i)* (eq. 4) with what the server and each relay receive, Remark 1 (tang2024's HGC
// is the case r1 = s_e + 1, r2,i = s_w + 1 without adversaries: C1 = C2^(i) = d) and Remark 3 (the
// server load of a flat gradient code on the same workers against the hierarchical one).
//
// Formulas (gholami2025; [10] is Jahani-Nezhad & Maddah-Ali's flat heterogeneous GC):
//   eq. (4)     C1* = d/m1, C2^(i)* = d/(m1 m2^(i)), m1 = r1 − 2a1 − s1, m2^(i) = r2,i − 2a2^(i) − s2^(i)
//   eqs. (5)–(6) r1 = min_k |A_k|, r2,i = min_{k ∈ Γ_i} |A_k^(i)|  (replication_of)
//   server      waits for N1 − s1 relays: (N1 − s1)·C1*; all N1 relays send N1·C1*
//   relay i     waits for N2^(i) − s2^(i) workers: (N2^(i) − s2^(i))·C2^(i)*
//   Remark 1    r1 = s_e + 1, r2,i = s_w + 1, s1 = s_e, s2^(i) = s_w, a = 0  ⇒  m1 = m2^(i) = 1, C1 = C2 = d:
//               the loads of tang2024's HGC (tradeoff.hpp: master waits for n − s_e edge vectors,
//               edge i for m_i − s_w worker vectors, Theorem 1 computation K(s_e+1)(s_w+1)/Σm_i)
//   Remark 3    N1 clusters of N2 workers, s2 stragglers each, no relay stragglers/adversaries:
//               flat   (N1 N2 workers, N1 s2 stragglers, [10, Thm 1]): C = d/(r_T − N1 s2) per worker,
//                      N1 N2 d/(r_T − N1 s2) at the server
//               hier.  N1 d/r1 at the server (C1 = d/r1), and r_T ≤ r1 N2 ⇒ hierarchical ≤ flat
//
// Reading of the paper (README "Notes on the papers", gholami2025):
// - Remark 3 counts every sender (all N1 N2 workers, all N1 relays), not only the ones the server
//   waits for; flat_vs_hierarchical reports the remark's count and, beside it, the waited-for
//   loads ((N1 N2 − N1 s2)·C and N1·C1 here, as s1 = 0).
// - Remark 3 says "less than"; it is "≤": equality when s2 = 0 and r_T = r1 N2 (every worker of a
//   partition's clusters holds it). r_T is the fewest copies of a partition among all workers for
//   the SAME placement, so r1·r2 ≤ r_T ≤ r1·N2; by default r_T = r1·r2, the placement
//   place_partitions builds (every partition on exactly r1 clusters × r2 workers).
// - When r_T ≤ N1 s2 no flat code on that placement tolerates N1 s2 stragglers: the flat loads are
//   +∞ and flat_feasible is false (the hierarchical code still works: it needs r2 > s2 only).
// - The computation load (partitions per worker) is not in gholami2025's Theorem 1; we report the
//   real-valued load of place_partitions' placement with equal capacities, K·r1·r2,i/ΣN2 per
//   worker of cluster i — at Remark 1's parameters exactly tang2024's Theorem 1 bound.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/tradeoff.hpp"

namespace gradcode {

/// The parameters Theorem 1's loads depend on (gholami2025 §II–III).
struct polynomial_load_params {
  Index dimension = 0;                      ///< d, length of the gradient
  std::vector<Index> workers{};             ///< N2^(i), workers of cluster i; N1 = workers.size()
  Index relay_replication = 1;              ///< r1 = min_k |A_k| (eq. 5)
  std::vector<Index> worker_replication{};  ///< r2,i (eq. 6): one per cluster, or one for all
  Index relay_stragglers = 0;               ///< s1
  Index relay_adversaries = 0;              ///< a1
  std::vector<Index> worker_stragglers{};   ///< s2^(i): one per cluster, one for all, or empty (0)
  std::vector<Index> worker_adversaries{};  ///< a2^(i): one per cluster, one for all, or empty (0)
  Index partitions = 0;                     ///< K; 0 = do not report computation loads
};

/// Theorem 1's loads, in reals (units of one gradient entry).
struct polynomial_loads {
  Index relay_parts = 0;                   ///< m1 = r1 − 2a1 − s1
  std::vector<Index> worker_parts;         ///< m2^(i) = r2,i − 2a2^(i) − s2^(i)
  double relay_message = 0;                ///< C1* = d/m1 (eq. 4), one relay → server
  std::vector<double> worker_message;      ///< C2^(i)* = d/(m1 m2^(i)) (eq. 4), one worker → relay i
  double server_received = 0;              ///< (N1 − s1)·C1*: what the server waits for
  double server_sent = 0;                  ///< N1·C1*: what all relays send
  std::vector<double> relay_received;      ///< (N2^(i) − s2^(i))·C2^(i)*: what relay i waits for
  std::vector<double> worker_computation;  ///< K·r1·r2,i/ΣN2, partitions per worker of cluster i (empty when K = 0)
};

namespace detail {
inline Index load_count(const std::vector<Index>& v, std::size_t i, const char* name, std::size_t n1, bool empty_is_zero) {
  if (v.empty()) {
    if (empty_is_zero) return 0;
    throw invalid_parameters(std::string("polynomial loads: ") + name + " is empty; give one value or one per cluster");
  }
  if (v.size() == 1) return v[0];
  if (v.size() != n1)
    throw invalid_parameters(std::string("polynomial loads: ") + name + " has " + std::to_string(v.size()) +
                             " values for N1 = " + std::to_string(n1) + " clusters");
  return v[i];
}
/// Bounds every count so products like N1·N2 and m1·m2 stay far inside Index and exact in double.
inline constexpr Index max_load_count = Index{1} << 30;
inline void check_count(Index x, Index lo, const std::string& what) {
  if (x < lo || x > max_load_count)
    throw invalid_parameters("polynomial loads: " + what + " = " + std::to_string(x) + "; need " + std::to_string(lo) +
                             " <= " + what + " <= 2^30");
}
/// d in [1, 2^53]: every load d/(m1 m2) is then a correctly rounded double.
inline void check_dimension(Index d) {
  if (d < 1 || d > (Index{1} << 53))
    throw invalid_parameters("polynomial loads: d = " + std::to_string(d) + "; need 1 <= d <= 2^53");
}
}  // namespace detail

/// Theorem 1 (eq. 4) for `p`, with the server's and relays' received loads. Throws
/// invalid_parameters for d outside [1, 2^53], no clusters, N2^(i) < 1, r1 outside [1, N1], r2,i outside
/// [1, N2^(i)], negative tolerances, counts above 2^30, K < 0, mismatched per-cluster vectors, or
/// m1 < 1 / m2^(i) < 1 (naming the r that is too small, as polynomial_hgc does).
inline polynomial_loads polynomial_hgc_loads(const polynomial_load_params& p) {
  const std::size_t n1 = p.workers.size();
  detail::check_dimension(p.dimension);
  if (n1 == 0) throw invalid_parameters("polynomial loads: no clusters (N1 = 0)");
  detail::check_count(static_cast<Index>(n1), 1, "N1");
  detail::check_count(p.relay_replication, 1, "r1");
  if (p.relay_replication > static_cast<Index>(n1))
    throw invalid_parameters("polynomial loads: r1 = " + std::to_string(p.relay_replication) +
                             " clusters per partition; need r1 <= N1 = " + std::to_string(n1));
  detail::check_count(p.relay_stragglers, 0, "s1");
  detail::check_count(p.relay_adversaries, 0, "a1");
  if (p.partitions < 0 || p.partitions > detail::max_load_count)
    throw invalid_parameters("polynomial loads: K = " + std::to_string(p.partitions) +
                             "; need 0 <= K <= 2^30 (0: no computation loads)");
  polynomial_loads out;
  const Index r1 = p.relay_replication, s1 = p.relay_stragglers, a1 = p.relay_adversaries;
  out.relay_parts = r1 - 2 * a1 - s1;
  if (out.relay_parts < 1)
    throw invalid_parameters("polynomial loads: m1 = r1 − 2a1 − s1 = " + std::to_string(r1) + " − 2·" + std::to_string(a1) +
                             " − " + std::to_string(s1) + " = " + std::to_string(out.relay_parts) + " < 1; r1 >= " +
                             std::to_string(2 * a1 + s1 + 1) + " or s1 + 2a1 <= " + std::to_string(r1 - 1) + " would fit");
  const double d = static_cast<double>(p.dimension), m1 = static_cast<double>(out.relay_parts);
  out.relay_message = d / m1;
  out.server_received = static_cast<double>(static_cast<Index>(n1) - s1) * out.relay_message;
  out.server_sent = static_cast<double>(n1) * out.relay_message;
  Index total_workers = 0;
  std::vector<Index> r2s(n1);
  for (std::size_t i = 0; i < n1; ++i) {
    const Index n2 = p.workers[i];
    const std::string cluster = "cluster " + std::to_string(i);
    detail::check_count(n2, 1, "N2 of " + cluster);
    const Index r2 = detail::load_count(p.worker_replication, i, "worker_replication (r2)", n1, false);
    const Index s2 = detail::load_count(p.worker_stragglers, i, "worker_stragglers (s2)", n1, true);
    const Index a2 = detail::load_count(p.worker_adversaries, i, "worker_adversaries (a2)", n1, true);
    detail::check_count(r2, 1, "r2 of " + cluster);
    if (r2 > n2)
      throw invalid_parameters("polynomial loads: " + cluster + ": r2 = " + std::to_string(r2) +
                               " workers per partition; need r2 <= N2 = " + std::to_string(n2));
    detail::check_count(s2, 0, "s2 of " + cluster);
    detail::check_count(a2, 0, "a2 of " + cluster);
    const Index m2 = r2 - 2 * a2 - s2;
    if (m2 < 1)
      throw invalid_parameters("polynomial loads: " + cluster + ": m2 = r2 − 2a2 − s2 = " + std::to_string(r2) + " − 2·" +
                               std::to_string(a2) + " − " + std::to_string(s2) + " = " + std::to_string(m2) + " < 1; r2 >= " +
                               std::to_string(2 * a2 + s2 + 1) + " or s2 + 2a2 <= " + std::to_string(r2 - 1) + " would fit");
    out.worker_parts.push_back(m2);
    const double c2 = d / (m1 * static_cast<double>(m2));
    out.worker_message.push_back(c2);
    out.relay_received.push_back(static_cast<double>(n2 - s2) * c2);
    total_workers += n2;
    r2s[i] = r2;
  }
  if (p.partitions > 0)
    for (std::size_t i = 0; i < n1; ++i)
      out.worker_computation.push_back(static_cast<double>(p.partitions) * static_cast<double>(r1) * static_cast<double>(r2s[i]) /
                                       static_cast<double>(total_workers));
  return out;
}

/// Replication of a placement Γ_(i,j) (one assignment per cluster, all over the same K).
struct placement_replication {
  Index relay_replication = 0;            ///< r1 = min_k |A_k| (eq. 5)
  std::vector<Index> worker_replication;  ///< r2,i = min_{k ∈ Γ_i} |A_k^(i)| (eq. 6); N2^(i) for an empty cluster
  Index flat_replication = 0;             ///< r_T = min_k Σ_i |A_k^(i)| (Remark 3): copies among all workers
};

/// r1, r2,i and r_T of `clusters` (the eqs. (5)–(6) polynomial_hgc derives, and Remark 3's r_T).
/// Throws invalid_parameters when there are no clusters or their K differ.
inline placement_replication replication_of(std::span<const assignment> clusters) {
  if (clusters.empty()) throw invalid_parameters("replication: no clusters");
  const Index K = clusters[0].partitions();
  placement_replication out;
  out.relay_replication = static_cast<Index>(clusters.size());
  out.flat_replication = std::numeric_limits<Index>::max();
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    if (clusters[i].partitions() != K)
      throw invalid_parameters("replication: cluster " + std::to_string(i) + " is over K = " +
                               std::to_string(clusters[i].partitions()) + ", cluster 0 over K = " + std::to_string(K));
    Index r2 = clusters[i].nodes();
    for (Index k = 0; k < K; ++k) {
      const auto holders = static_cast<Index>(clusters[i].holders_of(k).size());
      if (holders > 0) r2 = std::min(r2, holders);
    }
    out.worker_replication.push_back(r2);
  }
  for (Index k = 0; k < K; ++k) {
    Index relays = 0, copies = 0;
    for (const auto& c : clusters) {
      const auto holders = static_cast<Index>(c.holders_of(k).size());
      relays += holders > 0 ? 1 : 0;
      copies += holders;
    }
    out.relay_replication = std::min(out.relay_replication, relays);
    out.flat_replication = std::min(out.flat_replication, copies);
  }
  return out;
}

// --- Remark 1 ------------------------------------------------------------------------------------

/// Remark 1: tang2024's HGC (n edges with m_i workers, K partitions, tolerances s_e, s_w) as
/// polynomial-code parameters — r1 = s_e + 1, r2,i = s_w + 1, s1 = s_e, s2^(i) = s_w, no
/// adversaries — so m1 = m2^(i) = 1 and C1 = C2^(i) = d. Throws invalid_parameters for the
/// tolerances tang2024 rejects (s_e ∉ [0, n), s_w ∉ [0, min m_i)), K < 1 or d < 1.
inline polynomial_load_params hgc_as_polynomial(std::span<const Index> workers, Index partitions, Index edge_tolerance,
                                                Index worker_tolerance, Index dimension) {
  detail::checked_total(workers, edge_tolerance, worker_tolerance);
  detail::check_partitions("Remark 1", partitions);
  detail::check_dimension(dimension);
  return {.dimension = dimension,
          .workers = std::vector<Index>(workers.begin(), workers.end()),
          .relay_replication = edge_tolerance + 1,
          .worker_replication = {worker_tolerance + 1},
          .relay_stragglers = edge_tolerance,
          .relay_adversaries = 0,
          .worker_stragglers = {worker_tolerance},
          .worker_adversaries = {},
          .partitions = partitions};
}

/// The same loads from tang2024's side (tradeoff.hpp), for Remark 1's comparison: every edge and
/// worker message is one d-vector, the master waits for master_communication_load(scheme::hgc)
/// = n − s_e of them, edge i for edge_communication_load = m_i − s_w, and each worker computes
/// the Theorem 1 load K(s_e+1)(s_w+1)/Σm_i. m1 = m2 = 1 (no splitting). Throws as
/// hgc_as_polynomial.
inline polynomial_loads tang2024_hgc_loads(std::span<const Index> workers, Index partitions, Index edge_tolerance,
                                           Index worker_tolerance, Index dimension) {
  detail::check_partitions("Remark 1", partitions);
  detail::check_dimension(dimension);
  const double d = static_cast<double>(dimension);
  const auto n = static_cast<Index>(workers.size());
  polynomial_loads out;
  out.relay_parts = 1;
  out.relay_message = d;
  out.server_received =
      static_cast<double>(master_communication_load(scheme::hgc, workers, edge_tolerance, worker_tolerance)) * d;
  out.server_sent = static_cast<double>(n) * d;
  const double D = hgc_load_bound(workers, partitions, edge_tolerance, worker_tolerance);
  for (Index i = 0; i < n; ++i) {
    out.worker_parts.push_back(1);
    out.worker_message.push_back(d);
    out.relay_received.push_back(static_cast<double>(edge_communication_load(workers, i, edge_tolerance, worker_tolerance)) * d);
    out.worker_computation.push_back(D);
  }
  return out;
}

// --- Remark 3 ------------------------------------------------------------------------------------

/// Remark 3's setting: N1 equal clusters of N2 workers, s2 stragglers in each, every partition on
/// r1 clusters and r2 workers in each of them; no straggling or adversarial relays.
struct flat_comparison_params {
  Index dimension = 0;            ///< d
  Index clusters = 0;             ///< N1
  Index workers_per_cluster = 0;  ///< N2
  Index relay_replication = 1;    ///< r1
  Index worker_replication = 1;   ///< r2 (in every cluster holding the partition)
  Index worker_stragglers = 0;    ///< s2 (per cluster)
  /// r_T, fewest copies of a partition among all N1·N2 workers, in [r1·r2, r1·N2]; 0 = r1·r2
  /// (place_partitions' placement).
  Index flat_replication = 0;
};

/// Remark 3's comparison (loads in reals; see the header for which senders are counted).
struct flat_vs_hierarchical {
  Index flat_workers = 0;                  ///< N1·N2
  Index flat_stragglers = 0;               ///< N1·s2, stragglers the flat code must tolerate
  Index flat_replication = 0;              ///< r_T
  bool flat_feasible = false;              ///< r_T > N1·s2: some flat code on this placement exists
  double flat_worker_message = 0;          ///< d/(r_T − N1 s2) ([10, Thm 1]); +∞ when infeasible
  double flat_server_load = 0;             ///< N1 N2 d/(r_T − N1 s2): Remark 3's flat load; +∞ when infeasible
  double flat_server_waited = 0;           ///< (N1 N2 − N1 s2)·d/(r_T − N1 s2): the results the server waits for
  double hierarchical_relay_message = 0;   ///< C1* = d/r1 (s1 = a1 = 0)
  double hierarchical_worker_message = 0;  ///< C2* = d/(r1 (r2 − s2))
  double hierarchical_server_load = 0;     ///< N1 d/r1: Remark 3's hierarchical load (all relays, none straggling)
  double hierarchical_relay_load = 0;      ///< (N2 − s2)·C2*: what each relay waits for
  double server_load_ratio = 0;            ///< flat_server_load / hierarchical_server_load (≥ 1; +∞ when infeasible)
};

/// Remark 3 for `p`. Throws invalid_parameters for d, N1 or N2 < 1, r1 ∉ [1, N1], r2 ∉ [1, N2],
/// s2 < 0 or s2 ≥ r2 (the hierarchical code needs m2 = r2 − s2 ≥ 1), an explicit r_T outside
/// [r1·r2, r1·N2] (the same placement cannot have fewer or more copies), or counts above 2^30.
inline flat_vs_hierarchical compare_flat_hierarchical(const flat_comparison_params& p) {
  detail::check_count(p.clusters, 1, "N1");
  detail::check_count(p.workers_per_cluster, 1, "N2");
  const auto loads =
      polynomial_hgc_loads({.dimension = p.dimension,
                            .workers = std::vector<Index>(static_cast<std::size_t>(p.clusters), p.workers_per_cluster),
                            .relay_replication = p.relay_replication,
                            .worker_replication = {p.worker_replication},
                            .relay_stragglers = 0,
                            .relay_adversaries = 0,
                            .worker_stragglers = {p.worker_stragglers},
                            .worker_adversaries = {},
                            .partitions = 0});
  const Index N1 = p.clusters, N2 = p.workers_per_cluster, r1 = p.relay_replication, r2 = p.worker_replication;
  const Index rT = p.flat_replication == 0 ? r1 * r2 : p.flat_replication;
  if (rT < r1 * r2 || rT > r1 * N2)
    throw invalid_parameters("Remark 3: r_T = " + std::to_string(rT) + " copies per partition; on a placement with r1 = " +
                             std::to_string(r1) + " clusters and r2 = " + std::to_string(r2) + " workers per cluster need " +
                             std::to_string(r1 * r2) + " = r1·r2 <= r_T <= r1·N2 = " + std::to_string(r1 * N2) + " (0 = r1·r2)");
  flat_vs_hierarchical out;
  const double d = static_cast<double>(p.dimension), inf = std::numeric_limits<double>::infinity();
  out.flat_workers = N1 * N2;
  out.flat_stragglers = N1 * p.worker_stragglers;
  out.flat_replication = rT;
  out.flat_feasible = rT > out.flat_stragglers;
  const double m = static_cast<double>(rT - out.flat_stragglers);
  out.flat_worker_message = out.flat_feasible ? d / m : inf;
  out.flat_server_load = out.flat_feasible ? static_cast<double>(out.flat_workers) * d / m : inf;
  out.flat_server_waited = out.flat_feasible ? static_cast<double>(out.flat_workers - out.flat_stragglers) * d / m : inf;
  out.hierarchical_relay_message = loads.relay_message;
  out.hierarchical_worker_message = loads.worker_message[0];
  out.hierarchical_server_load = loads.server_sent;
  out.hierarchical_relay_load = loads.relay_received[0];
  out.server_load_ratio = out.flat_feasible ? out.flat_server_load / out.hierarchical_server_load : inf;
  return out;
}

}  // namespace gradcode
