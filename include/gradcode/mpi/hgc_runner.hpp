// SPDX-License-Identifier: MIT
// tang2024 hierarchical gradient coding over MPI (issues 8, 14): tree_runner over hgc_code as it
// is. Worker (i,j) sends G_ij (eq. 22, d scalars); edge i decodes G_i from its first m_i − s_w
// workers (eq. 25, d scalars); the master decodes g from its first n − s_e edges (eq. 27).
//
// The two layers decode on different ranks: each edge sends the amplification of its decode
// (its decode_report) with G_i, and the master checks the compounded estimate as
// simulate_round() does. The start-up fingerprint covers K, s_e, s_w and the coefficients of B
// and every D̄^i (so another seed or construction is caught, not only another shape).
#pragma once

#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/hgc.hpp"
#include "gradcode/mpi/code_fingerprint.hpp"
#include "gradcode/mpi/fingerprint.hpp"
#include "gradcode/mpi/tree_runner.hpp"

namespace gradcode::mpi {

/// K, s_e, s_w, B and every D̄^i (support and coefficients) into the start-up fingerprint.
template <class Scalar>
struct code_parameters<hgc_code<Scalar>> {
  static void add(fingerprint& f, const hgc_code<Scalar>& code) {
    f.add("hgc").add(code.partitions()).add(code.edge_tolerance()).add(code.worker_tolerance());
    add_matrix(f, code.edge_encoding());
    for (Index i = 0; i < code.edges(); ++i) add_matrix(f, code.worker_encoding(i));
  }
  static void add_matrix(fingerprint& f, const sparse_matrix<double>& a) {
    f.add(a.rows()).add(a.cols()).add(a.nonZeros());
    for (Index r = 0; r < a.outerSize(); ++r)
      for (typename sparse_matrix<double>::InnerIterator it(a, r); it; ++it) f.add(it.col()).add_real(it.value());
  }
};

/// The HGC round protocol: `hgc_runner<double> runner(layout, code, d, faults)`. An uncoded
/// baseline is the same runner over an hgc_code with s_e = s_w = 0 (every partition on one
/// worker; edges and master wait for everyone).
template <class Scalar>
using hgc_runner = tree_runner<hgc_code<Scalar>>;

}  // namespace gradcode::mpi
