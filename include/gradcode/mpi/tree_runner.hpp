// SPDX-License-Identifier: MIT
// One decoding round of a three-level code over MPI (issues 8, 13, 14), for any code that satisfies
// gradcode::hierarchical_codec (core/codec.hpp; hgc_code: tang2024, polynomial_hgc: gholami2025),
// used as it is, without an adapter: the master
// sends the round's broadcast down the tree, workers compute and encode, each edge decodes as soon
// as its first `edge_wait` worker messages arrived, the master as soon as its first `master_wait`
// edge results arrived. Every message is a wire message (wire.hpp) received as bytes and parsed
// before use: late ones (an older round), malformed ones (wrong length, scalar type or kind) and
// those of a rank that built another code are dropped and counted, never mixed in.
//
// Algorithm (tags from transport.hpp):
//   start-up  the master's first round() sends hello(fingerprint) to the edges, each edge answers
//             and forwards it to its workers, which answer; edges compare their workers'
//             fingerprints with their own (and drop the messages of a worker that differs) and
//             forward every answer up. The master waits for all n + Σm_i answers (bounded by
//             handshake_wait) and throws code_mismatch naming the first rank that differs.
//   round r   master: Isend broadcast → receive edge results until f edges delivered (decode), too
//             many failed, or master_wait passed (not_decodable with counts).
//             edge: on a broadcast of round r abandon round < r and forward; collect worker
//             messages until edge_wait of them arrived (decode, send result with its counts) or
//             edge_wait time passed (send a failure with the counts).
//             worker: take the newest broadcast (skip superseded rounds), compute, encode, apply
//             its injected fault, Isend.
//   stop      master → edges → workers; each rank answers with a goodbye after its last data, so
//             every pending send is matched before anyone returns (bounded by shutdown_wait).
//
// This header is the public entry (tree_runner: construction, round, stop, serve by role). The
// pieces, one concept each: code_fingerprint.hpp (the start-up fingerprint), round_types.hpp
// (worker_task, round_report, edge_summary, serve_report), rank_context.hpp (what the roles of a
// rank share), master_role.hpp, edge_role.hpp, worker_role.hpp (the three state machines).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/mpi/code_fingerprint.hpp"
#include "gradcode/mpi/edge_role.hpp"
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/injection.hpp"
#include "gradcode/mpi/master_role.hpp"
#include "gradcode/mpi/rank_context.hpp"
#include "gradcode/mpi/round_types.hpp"
#include "gradcode/mpi/topology.hpp"
#include "gradcode/mpi/transport.hpp"
#include "gradcode/mpi/worker_role.hpp"

namespace gradcode::mpi {

template <gradcode::hierarchical_codec Codec>
class tree_runner {
 public:
  using scalar_type = typename Codec::scalar_type;
  /// Fills `held` (d × task.partitions.size()) with the partial gradients g_k of the task's
  /// partitions, column t = g_{partitions[t]}.
  using worker_function = detail::worker_function<scalar_type>;

  /// Every rank builds the same runner (same code, d, faults, options); a rank that builds another
  /// code is reported by the master at start-up (code_mismatch). No communication. Throws
  /// invalid_parameters when the code's shape differs from the topology's, d < 1, a fault names a
  /// node that does not exist, or edge_wait >= master_wait; invalid_input when the code is built
  /// for another d (polynomial_hgc). `layout` and `code` must outlive the runner.
  tree_runner(const topology& layout, const Codec& code, Index dimension, injection_plan faults = {},
              transport_options options = {})
      : m_ctx(layout, code, dimension, std::move(faults), options), m_master(m_ctx) {}
  tree_runner(const topology&&, const Codec&, Index, injection_plan = {}, transport_options = {}) = delete;
  tree_runner(const topology&, const Codec&&, Index, injection_plan = {}, transport_options = {}) = delete;
  // Sends in flight keep pointers into the runner's outbox, and the master role refers to the
  // shared context: a runner stays where it was built.
  tree_runner(const tree_runner&) = delete;
  tree_runner& operator=(const tree_runner&) = delete;

  const Codec& code() const noexcept { return *m_ctx.code; }
  /// d, the gradient length.
  Index dimension() const noexcept { return m_ctx.d; }
  const topology& layout() const noexcept { return *m_ctx.layout; }
  const injection_plan& faults() const noexcept { return m_ctx.faults; }
  /// This rank's code fingerprint (code_fingerprint of the codec).
  std::uint64_t code_id() const noexcept { return m_ctx.code_id; }
  /// Master: parent ranks (edges and workers) whose hello matched the master's fingerprint so far.
  std::vector<int> verified_ranks() const { return m_master.verified_ranks(); }

  // --- master -----------------------------------------------------------------------------
  /// Runs one round: sends `broadcast` to every worker, waits for the first master_wait() edge
  /// results, decodes the gradient into `gradient` (length d). The first call runs the start-up
  /// handshake. Throws code_mismatch naming a rank whose code differs (before anything is
  /// broadcast when its hello arrived within handshake_wait, and on every later call); not_decodable
  /// naming the counts of the master and of every edge when too few edges delivered within
  /// master_wait or too many failed; corrupted_result / not_decodable from the master's decoder;
  /// invalid_input on a wrong `gradient` length or a broadcast above max_broadcast_bytes;
  /// transport_error when called on another role or after stop().
  round_report round(std::span<const scalar_type> broadcast, Eigen::Ref<vector<scalar_type>> gradient) {
    require(role::master, "round()");
    return m_master.round(broadcast, gradient);
  }
  vector<scalar_type> round(std::span<const scalar_type> broadcast, round_report* report = nullptr) {
    vector<scalar_type> g(m_ctx.d);
    auto r = round(broadcast, g);
    if (report) *report = std::move(r);
    return g;
  }

  /// Ends the run: edges and workers return from serve(). Drains late replies and waits for
  /// every edge's goodbye (bounded by shutdown_wait; transport_error naming the silent edges).
  void stop() {
    require(role::master, "stop()");
    m_master.stop();
  }

  // --- edges, workers, idle ranks -----------------------------------------------------------
  /// Serves rounds until the master calls stop(). Edges decode and forward; workers call
  /// `compute` for their partitions, encode and reply (after their injected delay; crashed
  /// workers stay silent). Idle ranks return at once. Throws transport_error when nothing arrives
  /// for idle_wait, or the stop handshake exceeds shutdown_wait.
  serve_report serve(const worker_function& compute) {
    switch (m_ctx.layout->my_role()) {
      case role::master:
        throw transport_error("master: serve() is for edges and workers; the master calls round() and stop()");
      case role::edge:
        return detail::serve_edge(m_ctx);
      case role::worker:
        return detail::serve_worker(m_ctx, compute);
      case role::idle:
        break;
    }
    return {};
  }

 private:
  void require(role r, const char* what) const {
    if (m_ctx.layout->my_role() != r)
      throw transport_error(m_ctx.layout->describe() + ": " + what + " is for the " +
                            (r == role::master ? "master" : "other roles"));
  }

  detail::rank_context<Codec> m_ctx;    // what every role of this rank reads and sends through
  detail::master_role<Codec> m_master;  // the master's state across rounds (allocated on every rank, used on the master)
};

}  // namespace gradcode::mpi
