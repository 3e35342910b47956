// SPDX-License-Identifier: MIT
// Which node holds which of the K data partitions (the support of an encoding matrix), with the
// coverage check every gradient code relies on: each partition on at least s+1 nodes.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// Integer loads proportional to `weights` that sum to `total`, each at most `cap`, by the
/// largest-remainder method; weight caps are water-filled (a capped node's surplus goes to the
/// others in proportion). Throws invalid_parameters when total > cap·n, total < 0 or
/// total > 2^53 (the shares are computed in double), cap < 0, or a weight is not a positive
/// finite number. Weights anywhere in (0, DBL_MAX] work: only their ratios matter.
inline std::vector<Index> proportional_loads(Index total, std::span<const double> weights, Index cap) {
  const auto n = static_cast<Index>(weights.size());
  if (n == 0) throw invalid_parameters("proportional_loads: no nodes to share " + std::to_string(total) + " copies");
  double wmax = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] > 0) || !std::isfinite(weights[i]))
      throw invalid_parameters("node " + std::to_string(i) + " has capacity " + std::to_string(weights[i]) +
                               "; capacities must be positive and finite");
    wmax = std::max(wmax, weights[i]);
  }
  if (cap < 0) throw invalid_parameters("proportional_loads: cap " + std::to_string(cap) + " is negative; need cap >= 0");
  constexpr Index exact = Index{1} << 53;  // every share below is an exact integer or a double's rounding of one
  if (total < 0 || total > exact)
    throw invalid_parameters("cannot place " + std::to_string(total) +
                             " partition copies: proportional_loads needs 0 <= total <= 2^53");
  if (const Index room = detail::bounded_product(cap, n, exact); room >= 0 && total > room)
    throw invalid_parameters("cannot place " + std::to_string(total) + " partition copies on " + std::to_string(n) +
                             " nodes holding at most " + std::to_string(cap) + " each (need total <= " + std::to_string(room) +
                             ")");
  // Scale by a power of two so that max w = [1, 2): ratios (and so every share) are bit-identical,
  // and neither Σw nor remaining·w can overflow (capacities up to DBL_MAX). A weight more than
  // 2^1074 below the largest would underflow; it keeps the smallest positive double (share ≈ 0).
  const int scale = std::ilogb(wmax);
  std::vector<double> w(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i)
    w[i] = std::max(std::ldexp(weights[i], -scale), std::numeric_limits<double>::denorm_min());
  std::vector<Index> load(weights.size(), 0);
  std::vector<bool> capped(weights.size(), false);
  Index remaining = total;
  // Water-filling: nodes whose proportional share exceeds the cap are fixed at the cap.
  for (bool changed = true; changed;) {
    changed = false;
    double wsum = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
      if (!capped[i]) wsum += w[i];
    for (std::size_t i = 0; i < w.size(); ++i)
      if (!capped[i] && static_cast<double>(remaining) * w[i] / wsum > static_cast<double>(cap)) {
        capped[i] = true;
        load[i] = cap;
        remaining -= cap;
        changed = true;
      }
  }
  double wsum = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    if (!capped[i]) wsum += w[i];
  std::vector<std::pair<double, std::size_t>> remainders;
  Index given = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (capped[i]) continue;
    const double share = static_cast<double>(std::max<Index>(remaining, 0)) * w[i] / wsum;  // in [0, 2^53]
    load[i] = std::min<Index>(cap, static_cast<Index>(std::floor(share)));
    given += load[i];
    remainders.emplace_back(share - std::floor(share), i);
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](auto a, auto b) { return a.first > b.first; });
  // Largest remainder: one more copy each, in order of the fractional parts (a pass gives at most
  // one per node). Rounding of the shares can leave the floors a few copies off in either
  // direction; every pass must make progress, so the loops end.
  while (given < remaining) {
    bool progressed = false;
    for (const auto& r : remainders)
      if (given < remaining && load[r.second] < cap) {
        ++load[r.second];
        ++given;
        progressed = true;
      }
    if (!progressed) break;
  }
  while (given > remaining) {
    bool progressed = false;
    for (auto r = remainders.rbegin(); r != remainders.rend(); ++r)
      if (given > remaining && load[r->second] > 0) {
        --load[r->second];
        --given;
        progressed = true;
      }
    if (!progressed) break;
  }
  if (given != remaining)  // not reached for total <= cap·n; never return loads that do not sum to total
    throw invalid_parameters("proportional_loads: could not share " + std::to_string(total) + " copies on " + std::to_string(n) +
                             " nodes of cap " + std::to_string(cap));
  return load;
}

/// Node → partitions map (and its transpose). Immutable after construction.
class assignment {
 public:
  assignment() = default;

  /// `holdings[i]` lists the partitions node i holds. Throws invalid_parameters on a partition
  /// outside [0, partitions) or listed twice for one node, or K > limits::max_partitions.
  assignment(Index partitions, std::vector<std::vector<Index>> holdings)
      : m_partitions(partitions), m_by_node(std::move(holdings)) {
    if (partitions <= 0) throw invalid_parameters("assignment: K = " + std::to_string(partitions) + " partitions; need K >= 1");
    if (partitions > limits::max_partitions)
      throw invalid_parameters("assignment: K = " + std::to_string(partitions) +
                               " partitions exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
    if (m_by_node.empty()) throw invalid_parameters("assignment: no nodes; need n >= 1");
    m_by_partition.assign(static_cast<std::size_t>(partitions), {});
    for (std::size_t i = 0; i < m_by_node.size(); ++i) {
      auto& parts = m_by_node[i];
      std::sort(parts.begin(), parts.end());
      for (std::size_t t = 0; t < parts.size(); ++t) {
        if (parts[t] < 0 || parts[t] >= partitions)
          throw invalid_parameters("assignment: node " + std::to_string(i) + " holds partition " + std::to_string(parts[t]) +
                                   ", outside [0, " + std::to_string(partitions) + ")");
        if (t > 0 && parts[t] == parts[t - 1])
          throw invalid_parameters("assignment: node " + std::to_string(i) + " lists partition " + std::to_string(parts[t]) +
                                   " twice");
        m_by_partition[static_cast<std::size_t>(parts[t])].push_back(static_cast<Index>(i));
      }
    }
  }

  /// Cyclic consecutive placement (tang2024 eq. (15)–(16), Wang et al. 2019): the sequence
  /// 0, 1, …, K−1, 0, 1, … is cut into consecutive runs of `loads[i]` entries, run i going to node
  /// i. With every load ≤ K a node never gets a partition twice, and Σ loads = c·K puts every
  /// partition on exactly c distinct nodes (±1 copy when Σ loads is not a multiple of K).
  /// Throws invalid_parameters on a load outside [0, K], K outside [1, limits::max_partitions] or
  /// Σ loads > limits::max_support_entries (all checked before anything is allocated).
  static assignment cyclic_consecutive(Index partitions, std::span<const Index> loads) {
    if (partitions <= 0) throw invalid_parameters("cyclic assignment: K = " + std::to_string(partitions) + "; need K >= 1");
    if (partitions > limits::max_partitions)
      throw invalid_parameters("cyclic assignment: K = " + std::to_string(partitions) +
                               " exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
    Index entries = 0;
    for (std::size_t i = 0; i < loads.size(); ++i) {
      if (loads[i] < 0 || loads[i] > partitions)
        throw invalid_parameters("cyclic assignment: node " + std::to_string(i) + " load " + std::to_string(loads[i]) +
                                 " outside [0, K = " + std::to_string(partitions) + "]");
      entries += loads[i];  // ≤ K ≤ 2^24 per node: cannot overflow before the check below trips
      if (entries > limits::max_support_entries)
        throw invalid_parameters("cyclic assignment: the loads sum past limits::max_support_entries = " +
                                 std::to_string(limits::max_support_entries) + " partition copies");
    }
    std::vector<std::vector<Index>> holdings(loads.size());
    Index pos = 0;
    for (std::size_t i = 0; i < loads.size(); ++i)
      for (Index t = 0; t < loads[i]; ++t, ++pos) holdings[i].push_back(pos % partitions);
    return assignment(partitions, std::move(holdings));
  }

  Index nodes() const noexcept { return static_cast<Index>(m_by_node.size()); }
  Index partitions() const noexcept { return m_partitions; }
  /// Partitions held by `node`, increasing. Throws invalid_input when node ∉ [0, n).
  std::span<const Index> partitions_of(Index node) const {
    if (node < 0 || node >= nodes())
      throw invalid_input("assignment: node " + std::to_string(node) + " is outside [0, " + std::to_string(nodes()) + ")", node);
    return m_by_node[static_cast<std::size_t>(node)];
  }
  /// Nodes holding `partition`, increasing. Throws invalid_input when partition ∉ [0, K).
  std::span<const Index> holders_of(Index partition) const {
    if (partition < 0 || partition >= m_partitions)
      throw invalid_input("assignment: partition " + std::to_string(partition) +
                          " is outside [0, K = " + std::to_string(m_partitions) + ")");
    return m_by_partition[static_cast<std::size_t>(partition)];
  }
  /// Number of partitions node i computes on (its computation load).
  Index load(Index node) const { return static_cast<Index>(partitions_of(node).size()); }
  Index max_load() const noexcept {
    Index m = 0;
    for (const auto& p : m_by_node) m = std::max<Index>(m, static_cast<Index>(p.size()));
    return m;
  }
  /// Smallest number of nodes holding any one partition.
  Index min_replication() const noexcept {
    Index m = nodes();
    for (const auto& h : m_by_partition) m = std::min<Index>(m, static_cast<Index>(h.size()));
    return m;
  }

  /// Throws invalid_parameters unless every partition sits on at least s+1 distinct nodes, the
  /// necessary condition for tolerating any s stragglers.
  void require_replication(Index tolerance) const {
    if (tolerance < 0) throw invalid_parameters("straggler tolerance s = " + std::to_string(tolerance) + " is negative");
    if (tolerance >= nodes())
      throw invalid_parameters("straggler tolerance s = " + std::to_string(tolerance) +
                               " needs s < n = " + std::to_string(nodes()) +
                               " (at least one node must respond); s <= " + std::to_string(nodes() - 1) + " would fit");
    for (std::size_t k = 0; k < m_by_partition.size(); ++k)
      if (static_cast<Index>(m_by_partition[k].size()) < tolerance + 1)
        throw invalid_parameters("partition " + std::to_string(k) + " is held by " + std::to_string(m_by_partition[k].size()) +
                                 " nodes; tolerating s = " + std::to_string(tolerance) +
                                 " stragglers needs every partition on >= " + std::to_string(tolerance + 1) +
                                 " nodes (s <= " + std::to_string(min_replication() - 1) + " would fit)");
  }

 private:
  Index m_partitions = 0;
  std::vector<std::vector<Index>> m_by_node;
  std::vector<std::vector<Index>> m_by_partition;
};

}  // namespace gradcode
