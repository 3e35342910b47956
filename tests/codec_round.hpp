// SPDX-License-Identifier: MIT
// One straggler round written once against gradcode::hierarchical_codec (core/codec.hpp): the
// workers of each live edge that do not straggle encode, each live edge decodes from the first
// edge_wait() of them, the master decodes from the first master_wait() live edges with their
// reports. Shared by the codec concept tests and the LibTorch tests.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include <gradcode/core/codec.hpp>
#include <gradcode/core/types.hpp>
#include <gradcode/core/worker_id.hpp>

namespace gradcode::test {

/// What one round through the concept gave.
template <class Scalar>
struct round_result {
  vector<Scalar> sum;
  std::vector<decode_report> edges;
  decode_report master;
};

template <gradcode::hierarchical_codec C>
round_result<typename C::scalar_type> run_round(const C& code, const matrix<typename C::scalar_type>& partials,
                                                const std::vector<Index>& slow_edges,
                                                const std::vector<worker_id>& slow_workers) {
  using Scalar = typename C::scalar_type;
  const Index d = partials.rows();
  round_result<Scalar> r;
  std::vector<Index> edge_ids;
  for (Index i = 0; i < code.edges() && static_cast<Index>(edge_ids.size()) < code.master_wait(); ++i)
    if (std::find(slow_edges.begin(), slow_edges.end(), i) == slow_edges.end()) edge_ids.push_back(i);
  matrix<Scalar> edge_results(code.edge_message_length(d), static_cast<Index>(edge_ids.size()));
  for (std::size_t e = 0; e < edge_ids.size(); ++e) {
    const Index i = edge_ids[e];
    std::vector<Index> ids;
    for (Index j = 0; j < code.workers(i) && static_cast<Index>(ids.size()) < code.edge_wait(i); ++j)
      if (std::find(slow_workers.begin(), slow_workers.end(), worker_id{i, j}) == slow_workers.end()) ids.push_back(j);
    matrix<Scalar> messages(code.worker_message_length(i, d), static_cast<Index>(ids.size()));
    for (std::size_t j = 0; j < ids.size(); ++j) code.encode(worker_id{i, ids[j]}, partials, messages.col(static_cast<Index>(j)));
    r.edges.push_back(code.edge_decode(i, ids, messages, edge_results.col(static_cast<Index>(e))));
    CHECK(r.edges.back().used == ids);
  }
  r.sum.resize(d);
  r.master = code.master_decode(edge_ids, edge_results, r.edges, r.sum);
  CHECK(r.master.used == edge_ids);
  return r;
}

}  // namespace gradcode::test
