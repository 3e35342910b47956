// SPDX-License-Identifier: MIT
// Ready-made runtime models: the heterogeneous setting of tang2024 §V-A (n = 4 edges of three
// link types, m = 10 workers per edge of four types, c = 10/50 ms per partition for the MNIST
// workload or 100/500 ms for CIFAR-10), and a homogeneous model for the closed forms of §IV-B.
#pragma once

#include <string>

#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// Which §V workload fixes the per-partition computation times c.
enum class tang2024_workload {
  mnist,   ///< strong computation c = 10 ms, weak c = 50 ms per partition
  cifar10  ///< strong computation c = 100 ms, weak c = 500 ms per partition
};

/// tang2024 §V-A: edges 0 (Type I: τ = 50 ms, p = 0.1), 1–2 (Type II: τ = 100 ms, p = 0.1),
/// 3 (Type III: τ = 500 ms, p = 0.2); in every edge workers 0–4 Type I (strong computation and
/// communication: τ = 50, p = 0.1, γ = 0.1), 5–6 Type II (strong computation, weak
/// communication: τ = 100, p = 0.5, γ = 0.1), 7–8 Type III (weak computation, strong
/// communication: τ = 50, p = 0.1, γ = 0.01), 9 Type IV (weak both: τ = 100, p = 0.5, γ = 0.01).
/// The paper does not say which index has which type; this order is the library's choice.
inline runtime_model tang2024_setting(tang2024_workload workload = tang2024_workload::mnist) {
  const double strong = workload == tang2024_workload::mnist ? 10 : 100;
  const double weak = workload == tang2024_workload::mnist ? 50 : 500;
  runtime_model model;
  model.edges = {{50, 0.1}, {100, 0.1}, {100, 0.1}, {500, 0.2}};
  std::vector<worker_timing> edge_workers;
  for (int j = 0; j < 5; ++j) edge_workers.push_back({strong, 0.1, 50, 0.1});
  for (int j = 0; j < 2; ++j) edge_workers.push_back({strong, 0.1, 100, 0.5});
  for (int j = 0; j < 2; ++j) edge_workers.push_back({weak, 0.01, 50, 0.1});
  edge_workers.push_back({weak, 0.01, 100, 0.5});
  model.workers.assign(4, edge_workers);
  return model;
}

/// Homogeneous model of §IV-B: n edges × m workers, all workers (c, γ, τ_w, p_w), all edges
/// (τ_e, p_e). Throws invalid_parameters unless n, m ≥ 1 and n·m ≤ limits::max_nodes (checked
/// before allocating), or when the timings fail runtime_model::validate().
inline runtime_model homogeneous_setting(Index edges, Index workers_per_edge, const worker_timing& worker,
                                         const edge_timing& edge) {
  if (edges < 1 || workers_per_edge < 1)
    throw invalid_parameters("homogeneous setting: n = " + std::to_string(edges) +
                             " edges of m = " + std::to_string(workers_per_edge) + " workers; need n, m >= 1");
  if (detail::bounded_product(edges, workers_per_edge, limits::max_nodes) < 0)
    throw invalid_parameters("homogeneous setting: n·m = " + std::to_string(edges) + "·" + std::to_string(workers_per_edge) +
                             " workers exceeds limits::max_nodes = " + std::to_string(limits::max_nodes));
  runtime_model model;
  model.edges.assign(static_cast<std::size_t>(edges), edge);
  model.workers.assign(static_cast<std::size_t>(edges),
                       std::vector<worker_timing>(static_cast<std::size_t>(workers_per_edge), worker));
  model.validate();
  return model;
}

}  // namespace gradcode
