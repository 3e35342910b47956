// SPDX-License-Identifier: MIT
// gholami2025 polynomial hierarchical gradient coding over MPI (issues 8, 14): tree_runner over
// polynomial_hgc as it is (relay = edge, server = master). Worker (i,j) sends f_intraC^(i)(α_j)
// (C2^(i) reals); relay i waits for N2^(i) − s2^(i) workers (not the interpolation minimum
// N2 − 2a2 − s2: the spare messages locate adversaries), locates up to a2^(i) of them and sends
// g̃_i (C1 reals) with its amplification A_i; the master waits for N1 − s1 relays, locates up to
// a1 adversarial relays and decodes g, checking both layers' rounding together.
// Located nodes come back in round_report::corrupted_edges / edge_summary::corrupted_workers.
// The start-up fingerprint covers K, s1, a1, every s2^(i), a2^(i) and the evaluation points of
// both layers (so another point family or point order is caught, not only another shape).
#pragma once

#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/polynomial.hpp"
#include "gradcode/mpi/code_fingerprint.hpp"
#include "gradcode/mpi/fingerprint.hpp"
#include "gradcode/mpi/tree_runner.hpp"

namespace gradcode::mpi {

/// K, s1, a1, s2^(i), a2^(i) and the points α, β of both layers into the start-up fingerprint.
template <class Scalar>
struct code_parameters<polynomial_hgc<Scalar>> {
  static void add(fingerprint& f, const polynomial_hgc<Scalar>& code) {
    f.add("polynomial").add(code.partitions()).add(code.relay_stragglers()).add(code.relay_adversaries());
    f.add(static_cast<Index>(code.points()));
    add_points(f, code.relay_points());
    for (Index i = 0; i < code.relays(); ++i) {
      f.add(code.worker_stragglers(i)).add(code.worker_adversaries(i));
      add_points(f, code.worker_points(i));
    }
  }
  static void add_points(fingerprint& f, const evaluation_points& p) {
    f.add(static_cast<Index>(p.real)).add(static_cast<Index>(p.nodes.size())).add(static_cast<Index>(p.targets.size()));
    for (const auto& z : p.nodes) f.add_real(z.real()).add_real(z.imag());
    for (const auto& z : p.targets) f.add_real(z.real()).add_real(z.imag());
  }
};

/// The polynomial round protocol: `polynomial_runner<double> runner(layout, code, code.dimension(), faults)`.
template <class Scalar>
using polynomial_runner = tree_runner<polynomial_hgc<Scalar>>;

}  // namespace gradcode::mpi
