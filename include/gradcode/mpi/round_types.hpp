// SPDX-License-Identifier: MIT
// What a tree_runner round (tree_runner.hpp) hands to user code and reports back: a worker's task,
// the master's per-round report with one summary per edge, and what serve() did on an edge or
// worker. Plain data; needs no MPI.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"

namespace gradcode::mpi {

/// What a worker is asked to compute in a round.
template <class Scalar>
struct worker_task {
  Index round = 0;
  worker_id worker{};
  std::span<const Scalar> broadcast{};  ///< the master's payload of this round (e.g. the model)
  std::span<const Index> partitions{};  ///< global ids of the partitions this worker holds, ascending
};

/// What the master learnt about one edge in a round.
struct edge_summary {
  bool replied = false;                         ///< a result, a failure notice or a malformed message arrived in time
  bool used = false;                            ///< the master decoded from this edge's result
  std::string failure;                          ///< why it could not deliver (empty when it could)
  std::vector<Index> workers_used;              ///< workers it decoded from, arrival order
  std::vector<long long> worker_message_bytes;  ///< payload bytes of each of those workers' messages
  std::vector<Index> corrupted_workers;         ///< workers its decoder located and excluded
  std::vector<Index> rejected_workers;          ///< workers whose message of this round it dropped as malformed
  Index late_messages = 0;                      ///< worker messages of earlier rounds it dropped since its previous report
  long long message_bytes = 0;                  ///< payload bytes of its message to the master (wire header not counted)
  double amplification = 1;                     ///< rounding amplification of its decode (decode_report), for the master
  double decoded_after_ms = 0;                  ///< from the round reaching the edge to its decode
};

/// One round at the master.
struct round_report {
  Index round = 0;
  std::vector<Index> edges_used;       ///< edges the master decoded from, arrival order
  std::vector<Index> corrupted_edges;  ///< located by the master's decoder and excluded
  std::vector<edge_summary> edges;     ///< one per edge
  Index late_messages = 0;             ///< edge results of earlier rounds dropped during this round
  Index malformed_messages = 0;        ///< edge messages dropped as malformed during this round
  double wall_ms = 0;                  ///< broadcast sent → gradient decoded
};

/// What serve() did on an edge or worker.
struct serve_report {
  Index rounds = 0;                         ///< rounds this rank replied to
  Index abandoned = 0;                      ///< rounds an edge gave up on (newer round, deadline, crash)
  Index late_messages = 0;                  ///< messages of earlier rounds dropped
  Index malformed_messages = 0;             ///< messages dropped as malformed or from a rank with another code
  std::vector<long long> received_bytes{};  ///< edges: payload bytes of every worker message used in a decode
};

}  // namespace gradcode::mpi
