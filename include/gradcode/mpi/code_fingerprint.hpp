// SPDX-License-Identifier: MIT
// The start-up fingerprint of a code over MPI (issue 13 item 5, issue 14): what every rank of a
// tree_runner run hashes from the code it built (shapes, loads, placement, scalar type, and the
// code's own parameters through code_parameters) so the master names a rank that built another.
#pragma once

#include <cstdint>
#include <type_traits>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"
#include "gradcode/mpi/fingerprint.hpp"

namespace gradcode::mpi {

/// What a code adds to its start-up fingerprint beyond what the concept shows (seeds,
/// constructions, coefficients, evaluation points): specialised with a static
/// `add(fingerprint&, const Code&)` next to the code's MPI header (hgc_runner.hpp,
/// polynomial_runner.hpp). Without one, only the shapes are compared.
template <class Code>
struct code_parameters;

/// The fingerprint every rank of a run sends at start-up: the scalar type, n, every m_i, d, the
/// message lengths and waits, every worker's partitions, and code_parameters<Codec>::add when
/// the code has it. Equal on two ranks that built the same code (on any host); a different K, s_e, s_w, d,
/// scalar type or placement — and, through code_parameters, seed or points — changes it.
template <gradcode::hierarchical_codec Codec>
std::uint64_t code_fingerprint(const Codec& c, Index d) {
  using scalar = typename Codec::scalar_type;
  fingerprint f;
  f.add("gradcode::mpi::tree_runner/1").add(std::is_same_v<scalar, float> ? "float" : "double");
  const Index n = c.edges();
  f.add(n).add(d).add(c.edge_message_length(d)).add(c.master_wait());
  for (Index i = 0; i < n; ++i) {
    f.add(c.workers(i)).add(c.worker_message_length(i, d)).add(c.edge_wait(i));
    for (Index j = 0; j < c.workers(i); ++j) {
      const auto parts = c.worker_partitions(worker_id{i, j});
      f.add(static_cast<Index>(parts.size()));
      for (Index k : parts) f.add(k);
    }
  }
  if constexpr (requires { code_parameters<Codec>::add(f, c); }) code_parameters<Codec>::add(f, c);
  return f.value();
}

}  // namespace gradcode::mpi
