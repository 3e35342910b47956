// SPDX-License-Identifier: MIT
// gholami2025 polynomial hierarchical gradient coding over MPI (issue 8): the polynomial_hgc
// adapter for tree_runner. Worker (i,j) sends f_intraC^(i)(α_j) (C2^(i) reals); relay i waits
// for N2^(i) − s2^(i) workers, locates up to a2^(i) adversaries and sends g̃_i (C1 reals); the
// master waits for N1 − s1 relays, locates up to a1 adversarial relays and decodes g.
// Located nodes come back in round_report::corrupted_edges / edge_summary::corrupted_workers.
// The start-up fingerprint covers K, s1, a1, every s2^(i), a2^(i) and the evaluation points of
// both layers (so another point family or point order is caught, not only another shape).
#pragma once

#include <span>
#include <vector>

#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/polynomial.hpp"
#include "gradcode/mpi/fingerprint.hpp"
#include "gradcode/mpi/tree_runner.hpp"

namespace gradcode::mpi {

/// polynomial_hgc as a hierarchical_codec. Holds a reference: `code` must outlive the adapter.
template <class Scalar>
class polynomial_codec {
 public:
  using scalar_type = Scalar;
  explicit polynomial_codec(const polynomial_hgc<Scalar>& code) : m_code(&code) {}
  explicit polynomial_codec(const polynomial_hgc<Scalar>&&) = delete;

  const polynomial_hgc<Scalar>& code() const noexcept { return *m_code; }
  Index edges() const noexcept { return m_code->relays(); }
  Index workers(Index relay) const { return m_code->workers(relay); }
  Index dimension() const noexcept { return m_code->dimension(); }
  /// Theorem 1's loads as the code realizes them: C2^(i) and C1 reals.
  Index worker_message_length(Index relay) const { return m_code->worker_message_length(relay); }
  Index edge_message_length() const noexcept { return m_code->relay_message_length(); }
  /// Waiting for N − s (not the interpolation minimum N − 2a − s) leaves the 2a spare messages
  /// that locate a adversaries.
  Index edge_wait(Index relay) const { return m_code->workers(relay) - m_code->worker_stragglers(relay); }
  Index master_wait() const noexcept { return m_code->relays() - m_code->relay_stragglers(); }
  std::vector<Index> worker_partitions(worker_id w) const {
    const auto p = m_code->worker_partitions(w);
    return {p.begin(), p.end()};
  }
  void encode_held(worker_id w, const Eigen::Ref<const matrix<Scalar>>& held, Eigen::Ref<vector<Scalar>> out) const {
    m_code->encode_held(w, held, out);
  }
  std::vector<Index> edge_decode(Index relay, std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                 Eigen::Ref<vector<Scalar>> out) const {
    return m_code->relay_decode(relay, ids, messages, out).corrupted;
  }
  std::vector<Index> master_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                                   Eigen::Ref<vector<Scalar>> out) const {
    return m_code->server_decode(ids, messages, out).corrupted;
  }
  /// K, s1, a1, s2^(i), a2^(i) and the points α, β of both layers into the start-up fingerprint.
  void add_parameters(fingerprint& f) const {
    f.add("polynomial").add(m_code->partitions()).add(m_code->relay_stragglers()).add(m_code->relay_adversaries());
    f.add(static_cast<Index>(m_code->points()));
    add_points(f, m_code->relay_points());
    for (Index i = 0; i < edges(); ++i) {
      f.add(m_code->worker_stragglers(i)).add(m_code->worker_adversaries(i));
      add_points(f, m_code->worker_points(i));
    }
  }

 private:
  static void add_points(fingerprint& f, const evaluation_points& p) {
    f.add(static_cast<Index>(p.real)).add(static_cast<Index>(p.nodes.size())).add(static_cast<Index>(p.targets.size()));
    for (const auto& z : p.nodes) f.add_real(z.real()).add_real(z.imag());
    for (const auto& z : p.targets) f.add_real(z.real()).add_real(z.imag());
  }

  const polynomial_hgc<Scalar>* m_code;
};

/// The polynomial round protocol: `polynomial_runner<double> runner(layout, polynomial_codec<double>(code), faults)`.
template <class Scalar>
using polynomial_runner = tree_runner<polynomial_codec<Scalar>>;

}  // namespace gradcode::mpi
