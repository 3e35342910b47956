// SPDX-License-Identifier: MIT
// The coded gradient of a CNN equals the uncoded one (issue 15): the per-partition gradients come
// from gradcode::libtorch::partition_gradients, every tolerated straggler pattern of a small HGC
// (tang2024) and polynomial code (gholami2025) goes through one round of the codec concept, and
// the decoded sum is compared with ONE backward over every partition's samples (what all-reduce
// sums), not with the partials it was encoded from.
#include "torch/torch_support.hpp"  // first: Catch, LibTorch, then Catch's CHECK back over glog's

#include <gradcode/hierarchical/hgc.hpp>
#include <gradcode/hierarchical/polynomial.hpp>
#include <gradcode/torch/flat_parameters.hpp>
#include <gradcode/torch/partition_gradients.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <vector>

#include "codec_round.hpp"

GRADCODE_REQUIRE_CATCH_CHECK();

using gradcode::Index;
using gradcode::matrix;
using gradcode::vector;
using gradcode::worker_id;

namespace {

/// The CNN's K partial gradients (d × K) and its gradient over all K partitions in one backward.
struct cnn_gradients {
  matrix<float> partials;
  vector<float> uncoded;
};

cnn_gradients cnn_partials(Index partitions, std::uint64_t seed) {
  torch::manual_seed(seed);
  gradcode::test::tiny_cnn net;
  gradcode::libtorch::flat_parameters<float> flat(net->parameters());
  const auto batches = gradcode::test::tiny_batches(static_cast<int>(partitions), 5, seed + 1);
  auto loss = [&](Index k) { return net->loss(batches[static_cast<std::size_t>(k)]); };
  std::vector<Index> all(static_cast<std::size_t>(partitions));
  std::iota(all.begin(), all.end(), Index{0});
  cnn_gradients g;
  g.partials.resize(flat.size(), partitions);
  gradcode::libtorch::partition_gradients(flat, std::span<const Index>(all), g.partials, loss);
  const std::vector<float> ones(all.size(), 1.f);
  gradcode::libtorch::combined_gradient(flat, std::span<const Index>(all), std::span<const float>(ones), loss);
  g.uncoded = flat.gradient_vector();
  return g;
}

/// Every pattern of ≤ 1 straggling edge and ≤ 1 straggling worker in each of 3 edges of 3
/// workers; returns the worst relative error against the uncoded gradient.
template <gradcode::hierarchical_codec C>
double every_pattern(const C& code, const cnn_gradients& g, int& rounds) {
  double worst = 0;
  for (Index slow_edge = -1; slow_edge < code.edges(); ++slow_edge)
    for (Index w0 = -1; w0 < 3; ++w0)
      for (Index w1 = -1; w1 < 3; ++w1)
        for (Index w2 = -1; w2 < 3; ++w2) {
          std::vector<Index> edges;
          if (slow_edge >= 0) edges.push_back(slow_edge);
          std::vector<worker_id> workers;
          for (auto [e, w] : {std::pair{0, w0}, std::pair{1, w1}, std::pair{2, w2}})
            if (w >= 0) workers.push_back({e, w});
          const auto r = gradcode::test::run_round(code, g.partials, edges, workers);
          const double err = (r.sum - g.uncoded).norm() / g.uncoded.norm();
          CHECK(err <= 1e-5);
          worst = std::max(worst, err);
          ++rounds;
        }
  return worst;
}

}  // namespace

TEST_CASE(
    "the coded gradient of a CNN equals its uncoded gradient for every tolerated straggler pattern of HGC and of the "
    "polynomial code",
    "[torch]") {
  const cnn_gradients g = cnn_partials(6, 11);
  REQUIRE(g.uncoded.norm() > 0);
  // The partials really are the gradient's pieces: they add up to the one-backward gradient.
  const double pieces = (g.partials.rowwise().sum() - g.uncoded).norm() / g.uncoded.norm();
  CHECK(pieces <= 1e-6);
  int rounds = 0;
  const gradcode::hgc_code<float> hgc({.workers = {3, 3, 3}, .partitions = 6, .edge_tolerance = 1, .worker_tolerance = 1});
  const double hgc_worst = every_pattern(hgc, g, rounds);
  const gradcode::polynomial_placement placement{
      .workers = {3, 3, 3}, .partitions = 6, .relay_replication = 2, .worker_replication = {2}};
  const gradcode::polynomial_hgc<float> poly({.dimension = g.partials.rows(),
                                              .clusters = gradcode::place_partitions(placement),
                                              .relay_stragglers = 1,
                                              .worker_stragglers = {1}});
  const double poly_worst = every_pattern(poly, g, rounds);
  std::printf("CNN (d = %ld): %d rounds, worst relative error against the uncoded gradient: HGC %.2e, polynomial %.2e\n",
              static_cast<long>(g.partials.rows()), rounds, hgc_worst, poly_worst);
  CHECK(rounds == 2 * 4 * 4 * 4 * 4);
}
