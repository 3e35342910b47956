// SPDX-License-Identifier: MIT
// tang2024 hierarchical gradient coding over MPI (issue 8): the hgc_code adapter for tree_runner.
// Worker (i,j) sends G_ij (eq. 22, d scalars); edge i decodes G_i from its first m_i − s_w
// workers (eq. 25, d scalars); the master decodes g from its first n − s_e edges (eq. 27).
//
// The two layers decode on different ranks: each edge sends the amplification of its decode
// with G_i, and the master checks the compounded estimate as simulate_round() does. The start-up
// fingerprint covers K, s_e, s_w and the coefficients of B and every D̄^i (so another seed or
// construction is caught, not only another shape).
#pragma once

#include <span>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/hgc.hpp"
#include "gradcode/mpi/fingerprint.hpp"
#include "gradcode/mpi/tree_runner.hpp"

namespace gradcode::mpi {

/// hgc_code as a hierarchical_codec. The code knows no gradient length, so d is given here.
/// Holds a reference: `code` must outlive the adapter (and the runner).
template <class Scalar>
class hgc_codec {
 public:
  using scalar_type = Scalar;
  /// Throws invalid_parameters when d < 1.
  hgc_codec(const hgc_code<Scalar>& code, Index dimension) : m_code(&code), m_d(dimension) {
    if (dimension < 1) throw invalid_parameters("mpi hgc_codec: d = " + std::to_string(dimension) + "; need d >= 1");
  }
  hgc_codec(const hgc_code<Scalar>&&, Index) = delete;

  const hgc_code<Scalar>& code() const noexcept { return *m_code; }
  Index edges() const noexcept { return m_code->edges(); }
  Index workers(Index edge) const { return m_code->workers(edge); }
  Index dimension() const noexcept { return m_d; }
  /// Communication loads: every message is one d-vector (tang2024 §II).
  Index worker_message_length(Index) const noexcept { return m_d; }
  Index edge_message_length() const noexcept { return m_d; }
  /// m_i − s_w workers per edge, n − s_e edges.
  Index edge_wait(Index edge) const { return m_code->workers(edge) - m_code->worker_tolerance(); }
  Index master_wait() const noexcept { return m_code->edges() - m_code->edge_tolerance(); }
  std::vector<Index> worker_partitions(worker_id w) const { return m_code->worker_partitions(w); }
  void encode_held(worker_id w, const Eigen::Ref<const matrix<Scalar>>& held, Eigen::Ref<vector<Scalar>> out) const {
    m_code->encode_held(w, held, out);
  }
  std::vector<Index> edge_decode(Index edge, std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                 Eigen::Ref<vector<Scalar>> out) const {
    m_code->edge_decode(edge, ids, messages, out);
    return {};  // HGC locates no adversaries
  }
  std::vector<Index> master_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                   Eigen::Ref<vector<Scalar>> out) const {
    m_code->master_decode(ids, messages, out);
    return {};
  }
  /// Rounding amplification of edge i's decode from `ids`, sent to the master with G_i.
  double edge_amplification(Index edge, std::span<const Index> ids) const { return m_code->edge_amplification(edge, ids); }
  /// The master's decode with the end-to-end check 4ε·amp_master·max amp_edge ≤ max_relative_error.
  std::vector<Index> master_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                   Eigen::Ref<vector<Scalar>> out, double edge_amplification) const {
    m_code->master_decode(ids, messages, out, edge_amplification);
    return {};
  }
  /// K, s_e, s_w, B and every D̄^i (support and coefficients) into the start-up fingerprint.
  void add_parameters(fingerprint& f) const {
    f.add("hgc").add(m_code->partitions()).add(m_code->edge_tolerance()).add(m_code->worker_tolerance());
    add_matrix(f, m_code->edge_encoding());
    for (Index i = 0; i < edges(); ++i) add_matrix(f, m_code->worker_encoding(i));
  }

 private:
  static void add_matrix(fingerprint& f, const sparse_matrix<double>& a) {
    f.add(a.rows()).add(a.cols()).add(a.nonZeros());
    for (Index r = 0; r < a.outerSize(); ++r)
      for (typename sparse_matrix<double>::InnerIterator it(a, r); it; ++it) f.add(it.col()).add_real(it.value());
  }

  const hgc_code<Scalar>* m_code;
  Index m_d;
};

/// The HGC round protocol: `hgc_runner<double> runner(layout, hgc_codec<double>(code, d), faults)`.
/// An uncoded baseline is the same runner over an hgc_code with s_e = s_w = 0 (every partition
/// on one worker; edges and master wait for everyone).
template <class Scalar>
using hgc_runner = tree_runner<hgc_codec<Scalar>>;

}  // namespace gradcode::mpi
