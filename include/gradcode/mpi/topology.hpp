// SPDX-License-Identifier: MIT
// Roles and communicators of a three-level run over MPI (issue 8): rank 0 of the parent
// communicator is the master, ranks 1..n the edges (relays), then the Σm_i workers edge by edge.
// One sub-communicator per edge (the edge and its workers) and one for the master and the edges,
// so the same layout runs on one box (mpirun --oversubscribe) or spread over hosts.
#pragma once

#include <mpi.h>

#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/hgc.hpp"  // worker_id
#include "gradcode/mpi/errors.hpp"

namespace gradcode::mpi {

/// What this rank does in the tree.
enum class role {
  master,  ///< rank 0: broadcasts, decodes the gradient from the first edges
  edge,    ///< edge node / relay: decodes from the first workers of its cluster
  worker,  ///< computes partial gradients and sends its coded message to its edge
  idle     ///< a rank beyond 1 + n + Σm_i: takes no part
};

/// Rank layout over a parent communicator (MPI_COMM_WORLD or a user's). Parent rank 0 = master,
/// 1 + i = edge i, then worker (i, j) at 1 + n + Σ_{i'<i} m_i' + j.
/// Owns the sub-communicators and frees them on destruction (destroy it before MPI_Finalize).
class topology {
 public:
  /// Collective over `parent` (every rank calls it with the same m_i). Throws invalid_parameters
  /// when there are no edges, an m_i < 1, or fewer than 1 + n + Σm_i ranks.
  topology(MPI_Comm parent, std::vector<Index> workers_per_edge) : m_workers(std::move(workers_per_edge)) {
    if (m_workers.empty()) throw invalid_parameters("mpi topology: no edges (workers_per_edge is empty); need n >= 1");
    for (std::size_t i = 0; i < m_workers.size(); ++i)
      if (m_workers[i] < 1)
        throw invalid_parameters("mpi topology: edge " + std::to_string(i) + " has m_i = " + std::to_string(m_workers[i]) +
                                 " workers; need m_i >= 1");
    detail::check(MPI_Comm_rank(parent, &m_rank), "MPI_Comm_rank");
    detail::check(MPI_Comm_size(parent, &m_size), "MPI_Comm_size");
    if (m_size < ranks_needed())
      throw invalid_parameters("mpi topology: " + std::to_string(m_size) + " ranks for 1 master + " + std::to_string(edges()) +
                               " edges + " + std::to_string(total_workers()) + " workers; start at least " +
                               std::to_string(ranks_needed()) + " (mpirun -n " + std::to_string(ranks_needed()) + ")");
    // Our role from the parent rank.
    const Index r = m_rank, n = edges();
    if (r == 0) {
      m_role = role::master;
    } else if (r <= n) {
      m_role = role::edge, m_edge = r - 1;
    } else if (r < ranks_needed()) {
      m_role = role::worker;
      Index first = 1 + n;
      for (Index i = 0; i < n; ++i) {
        if (r < first + workers(i)) {
          m_edge = i, m_worker = r - first;
          break;
        }
        first += workers(i);
      }
    }
    // Both splits are collective over the parent, so every rank (idle too) takes part.
    const int upper_color = (m_role == role::master || m_role == role::edge) ? 0 : MPI_UNDEFINED;
    detail::check(MPI_Comm_split(parent, upper_color, m_rank, &m_upper), "MPI_Comm_split (master + edges)");
    const int lower_color = (m_role == role::edge || m_role == role::worker) ? static_cast<int>(m_edge) : MPI_UNDEFINED;
    const int lower_key = m_role == role::worker ? static_cast<int>(m_worker) + 1 : 0;  // edge = rank 0
    detail::check(MPI_Comm_split(parent, lower_color, lower_key, &m_lower), "MPI_Comm_split (edge + its workers)");
    // Errors come back as codes, which detail::check turns into transport_error naming the call,
    // instead of aborting the whole job from inside MPI.
    for (MPI_Comm c : {m_upper, m_lower})
      if (c != MPI_COMM_NULL) detail::check(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    void* value = nullptr;
    int flag = 0;
    detail::check(MPI_Comm_get_attr(parent, MPI_TAG_UB, &value, &flag), "MPI_Comm_get_attr(MPI_TAG_UB)");
    m_tag_bound = flag ? *static_cast<int*>(value) : 32767;  // the standard's guaranteed minimum
  }
  topology(const topology&) = delete;
  topology& operator=(const topology&) = delete;
  topology(topology&& o) noexcept { swap(o); }
  topology& operator=(topology&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  ~topology() { release(); }

  /// This rank's role, and where it sits: edge() for edges and workers, worker() for workers.
  role my_role() const noexcept { return m_role; }
  Index edge() const noexcept { return m_edge; }
  worker_id worker() const noexcept { return {m_edge, m_worker}; }
  /// "master", "edge 1", "worker (1,2)", "idle rank 14".
  std::string describe() const {
    switch (m_role) {
      case role::master:
        return "master";
      case role::edge:
        return "edge " + std::to_string(m_edge);
      case role::worker:
        return "worker (" + std::to_string(m_edge) + "," + std::to_string(m_worker) + ")";
      case role::idle:
        break;
    }
    return "idle rank " + std::to_string(m_rank);
  }

  /// Parent rank of edge i and of worker (i,j).
  int rank_of_edge(Index edge) const {
    if (edge < 0 || edge >= edges())
      throw invalid_input("mpi topology: edge " + std::to_string(edge) + " of n = " + std::to_string(edges()), edge);
    return static_cast<int>(1 + edge);
  }
  int rank_of(worker_id w) const {
    if (w.edge < 0 || w.edge >= edges() || w.worker < 0 || w.worker >= workers(w.edge))
      throw invalid_input("mpi topology: no worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) + ")");
    Index r = 1 + edges();
    for (Index i = 0; i < w.edge; ++i) r += workers(i);
    return static_cast<int>(r + w.worker);
  }

  /// n.
  Index edges() const noexcept { return static_cast<Index>(m_workers.size()); }
  /// m_i.
  Index workers(Index edge) const { return m_workers.at(static_cast<std::size_t>(edge)); }
  const std::vector<Index>& workers_per_edge() const noexcept { return m_workers; }
  /// Σ m_i.
  Index total_workers() const noexcept { return std::accumulate(m_workers.begin(), m_workers.end(), Index{0}); }
  /// 1 + n + Σ m_i.
  int ranks_needed() const noexcept { return static_cast<int>(1 + edges() + total_workers()); }
  /// This rank in the parent communicator, and the parent's size.
  int rank() const noexcept { return m_rank; }
  int size() const noexcept { return m_size; }

  /// Master + edges (master = rank 0, edge i = rank i + 1); MPI_COMM_NULL on workers and idle ranks.
  MPI_Comm upper() const noexcept { return m_upper; }
  /// This rank's edge and its workers (edge = rank 0, worker j = rank j + 1); MPI_COMM_NULL on
  /// the master and idle ranks.
  MPI_Comm lower() const noexcept { return m_lower; }
  /// MPI_TAG_UB of the parent: the round tags wrap below it.
  int tag_bound() const noexcept { return m_tag_bound; }

 private:
  void swap(topology& o) noexcept {
    std::swap(m_workers, o.m_workers);
    std::swap(m_rank, o.m_rank);
    std::swap(m_size, o.m_size);
    std::swap(m_role, o.m_role);
    std::swap(m_edge, o.m_edge);
    std::swap(m_worker, o.m_worker);
    std::swap(m_upper, o.m_upper);
    std::swap(m_lower, o.m_lower);
    std::swap(m_tag_bound, o.m_tag_bound);
  }
  void release() noexcept {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;  // too late to free; the MPI library has released everything
    if (m_upper != MPI_COMM_NULL) MPI_Comm_free(&m_upper);
    if (m_lower != MPI_COMM_NULL) MPI_Comm_free(&m_lower);
  }

  std::vector<Index> m_workers;
  int m_rank = 0, m_size = 0;
  role m_role = role::idle;
  Index m_edge = -1, m_worker = -1;
  MPI_Comm m_upper = MPI_COMM_NULL, m_lower = MPI_COMM_NULL;
  int m_tag_bound = 32767;
};

}  // namespace gradcode::mpi
