// SPDX-License-Identifier: MIT
// Placement generator for the polynomial hierarchical code: builds the data assignment Γ_(i,j)
// of gholami2025 §II-A (each partition on r1 clusters and, inside cluster i, on r2,i workers,
// eqs. 5–6) from cluster and worker capacities, cyclic consecutive as tang2024 eq. (16).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/robust/evaluation_points.hpp"  // max_layer_nodes

namespace gradcode {

/// A placement to generate (instead of giving Γ_(i,j)): cluster loads ∝ cluster capacity, each
/// partition on exactly r1 clusters (cyclic consecutive, as tang2024 eq. 16); inside cluster i
/// worker loads ∝ worker capacity, each of its partitions on exactly r2,i workers.
struct polynomial_placement {
  std::vector<Index> workers{};                   ///< N2^(i); N1 = workers.size()
  Index partitions = 0;                           ///< K
  Index relay_replication = 1;                    ///< r1: clusters per partition
  std::vector<Index> worker_replication{};        ///< r2,i: one per cluster, or one for all
  std::vector<std::vector<double>> capacities{};  ///< per cluster, relative worker speeds (empty = equal)
};

/// Most partition copies (Σ over clusters and workers of the partitions each holds), and most
/// N1·K, that place_partitions builds: 2^26 (about 1 GiB of ids), far above any code
/// polynomial_hgc decodes in useful time.
inline constexpr Index max_placed_copies = Index{1} << 26;

/// Γ_(i,j) for `placement`. Throws invalid_parameters (naming the field and a value that fits)
/// when N1 or some N2^(i) is outside [1, max_layer_nodes], K < 1, r1 outside [1, N1], r2,i outside
/// [1, N2^(i)], a capacity is not positive and finite, or the placement would hold more than
/// max_placed_copies partition copies. Capacities are relative: only their ratios matter, any
/// finite magnitude is fine.
inline std::vector<assignment> place_partitions(const polynomial_placement& placement) {
  const auto n1 = static_cast<Index>(placement.workers.size());
  const Index K = placement.partitions, r1 = placement.relay_replication;
  if (n1 < 1) throw invalid_parameters("placement: no clusters");
  if (n1 > max_layer_nodes)
    throw invalid_parameters("placement: N1 = " + std::to_string(n1) +
                             " clusters; need N1 <= " + std::to_string(max_layer_nodes));
  if (K < 1) throw invalid_parameters("placement: K = " + std::to_string(K) + " partitions; need K >= 1");
  if (r1 < 1 || r1 > n1)
    throw invalid_parameters("placement: r1 = " + std::to_string(r1) +
                             " clusters per partition; need 1 <= r1 <= N1 = " + std::to_string(n1));
  // Each cluster's Γ indexes all K partitions, and r1·K ≤ N1·K copies sit at the relay layer.
  if (K > max_placed_copies / n1)
    throw invalid_parameters("placement: K = " + std::to_string(K) + " partitions over N1 = " + std::to_string(n1) +
                             " clusters exceeds " + std::to_string(max_placed_copies) +
                             " entries; K <= " + std::to_string(max_placed_copies / n1) + " would fit");
  if (!placement.capacities.empty() && static_cast<Index>(placement.capacities.size()) != n1)
    throw invalid_parameters("placement: capacities for " + std::to_string(placement.capacities.size()) +
                             " clusters, N1 = " + std::to_string(n1));
  auto per_cluster = [&](const std::vector<Index>& v, Index i) {
    if (v.empty()) throw invalid_parameters("placement: worker_replication (r2) is empty");
    if (v.size() == 1) return v[0];
    if (static_cast<Index>(v.size()) != n1)
      throw invalid_parameters("placement: " + std::to_string(v.size()) + " values of r2 for N1 = " + std::to_string(n1) +
                               " clusters");
    return v[static_cast<std::size_t>(i)];
  };
  std::vector<std::vector<double>> caps(static_cast<std::size_t>(n1));
  std::vector<double> cluster_weight(static_cast<std::size_t>(n1));
  double largest = 0;  // of all capacities: they are divided by it, so no sum can overflow
  for (Index i = 0; i < n1; ++i) {
    const Index n2 = placement.workers[static_cast<std::size_t>(i)];
    if (n2 < 1)
      throw invalid_parameters("placement: cluster " + std::to_string(i) + " has N2 = " + std::to_string(n2) + " workers");
    if (n2 > max_layer_nodes)
      throw invalid_parameters("placement: cluster " + std::to_string(i) + " has N2 = " + std::to_string(n2) +
                               " workers; need N2 <= " + std::to_string(max_layer_nodes));
    auto& c = caps[static_cast<std::size_t>(i)];
    if (placement.capacities.empty() || placement.capacities[static_cast<std::size_t>(i)].empty())
      c.assign(static_cast<std::size_t>(n2), 1.0);
    else
      c = placement.capacities[static_cast<std::size_t>(i)];
    if (static_cast<Index>(c.size()) != n2)
      throw invalid_parameters("placement: cluster " + std::to_string(i) + " has " + std::to_string(n2) + " workers but " +
                               std::to_string(c.size()) + " capacities");
    for (std::size_t j = 0; j < c.size(); ++j) {
      if (!(c[j] > 0) || !std::isfinite(c[j]))
        throw invalid_parameters("placement: worker " + std::to_string(j) + " of cluster " + std::to_string(i) +
                                 " has capacity " + detail::format_g(c[j]) + "; capacities must be positive and finite (e.g. 1)");
      largest = std::max(largest, c[j]);
    }
  }
  for (Index i = 0; i < n1; ++i) {
    double sum = 0;
    for (double& x : caps[static_cast<std::size_t>(i)]) {
      // relative speeds in (0, 1]; one below 1e-300 of the fastest gets no share either way
      x = std::max(x / largest, std::numeric_limits<double>::min());
      sum += x;
    }
    cluster_weight[static_cast<std::size_t>(i)] = sum;
  }
  // Cluster loads n_i ∝ capacity, Σ n_i = r1·K, n_i ≤ K: cyclic consecutive puts every partition
  // on exactly r1 distinct clusters.
  const auto loads = proportional_loads(r1 * K, cluster_weight, K);
  // Inside the clusters: Σ_i r2,i·n_i copies (n_i ≤ K, r2,i ≤ 1024), checked before building.
  Index copies = 0;
  std::vector<Index> r2s(static_cast<std::size_t>(n1));  // r2,i, validated
  for (Index i = 0; i < n1; ++i) {
    const Index r2 = per_cluster(placement.worker_replication, i);
    const Index n2 = placement.workers[static_cast<std::size_t>(i)];
    if (r2 < 1 || r2 > n2)
      throw invalid_parameters("placement: r2," + std::to_string(i) + " = " + std::to_string(r2) +
                               " workers per partition; need 1 <= r2 <= N2 = " + std::to_string(n2));
    r2s[static_cast<std::size_t>(i)] = r2;
    copies += r2 * loads[static_cast<std::size_t>(i)];
    if (copies > max_placed_copies)
      throw invalid_parameters("placement: K = " + std::to_string(K) + " partitions on r1 = " + std::to_string(r1) +
                               " clusters and r2 workers each exceeds " + std::to_string(max_placed_copies) +
                               " partition copies; fewer partitions or lower replication would fit");
  }
  const auto cluster_support = assignment::cyclic_consecutive(K, loads);
  std::vector<assignment> out;
  for (Index i = 0; i < n1; ++i) {
    const auto held = cluster_support.partitions_of(i);
    const auto ni = static_cast<Index>(held.size());
    const Index n2 = placement.workers[static_cast<std::size_t>(i)];
    const Index r2 = r2s[static_cast<std::size_t>(i)];
    std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n2));
    if (ni > 0) {
      const auto wl = proportional_loads(r2 * ni, caps[static_cast<std::size_t>(i)], ni);
      const auto local = assignment::cyclic_consecutive(ni, wl);
      for (Index j = 0; j < n2; ++j)
        for (Index pos : local.partitions_of(j))
          holdings[static_cast<std::size_t>(j)].push_back(held[static_cast<std::size_t>(pos)]);
    }
    out.emplace_back(K, std::move(holdings));
  }
  return out;
}

}  // namespace gradcode
