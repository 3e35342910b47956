// SPDX-License-Identifier: MIT
// Picks the encoding-matrix construction for a support (STYLE.md "Shape of a code"): the real
// cyclic-MDS code (Raviv et al. 2018) when the support is the cyclic block support and n − s is
// odd, the generic null-space construction otherwise; either can be forced. The one vocabulary
// (enum construction) every code's params use to choose how B is built (`method` field).
#pragma once

#include <cstdint>
#include <string>

#include "gradcode/codes/cyclic_mds.hpp"
#include "gradcode/codes/null_space.hpp"
#include "gradcode/core/assignment.hpp"
#include "gradcode/detail/cyclic_support.hpp"

namespace gradcode {

/// How a code builds its encoding matrix: the `method` field of hgc_params and
/// cyclic_repetition_params. A family that does not support a construction throws
/// invalid_parameters at construction, naming the family.
enum class construction {
  automatic,      ///< cyclic_mds where it applies, else null_space
  null_space,     ///< random null-space construction (any support), see null_space.hpp
  cyclic_mds,     ///< real cyclic MDS; needs the cyclic block support and n − s odd
  tandon_random,  ///< Tandon et al. 2017 Algorithm 2 literally: B from a seeded Gaussian H with H·1 = 0 on the
                  ///< cyclic repetition support; cyclic_repetition_params only (every other family throws)
};

/// "construction::null_space" etc., for messages; "construction(<value>)" for a value outside the enum.
inline std::string construction_name(construction how) {
  switch (how) {
    case construction::automatic:
      return "construction::automatic";
    case construction::null_space:
      return "construction::null_space";
    case construction::cyclic_mds:
      return "construction::cyclic_mds";
    case construction::tandon_random:
      return "construction::tandon_random";
  }
  return "construction(" + std::to_string(static_cast<int>(how)) + ")";
}

/// True when `support` is exactly the cyclic block support of (n, K, s) that cyclic_mds builds on.
inline bool is_cyclic_block_support(const assignment& support, Index tolerance) {
  const Index n = support.nodes(), K = support.partitions();
  if (K < n || tolerance < 0 || tolerance >= n) return false;
  // Compare the loads first, so the reference below is never larger than `support` itself.
  const detail::cyclic_support cyclic{n, K, tolerance};
  for (Index i = 0; i < n; ++i) {
    const Index last = i + tolerance;  // blocks i..i+s (mod n)
    const Index expected = last < n ? cyclic.block_begin(last + 1) - cyclic.block_begin(i)
                                    : K - cyclic.block_begin(i) + cyclic.block_begin(last + 1 - n);
    if (support.load(i) != expected) return false;
  }
  const auto reference = cyclic.support();
  for (Index i = 0; i < n; ++i) {
    const auto a = support.partitions_of(i), b = reference.partitions_of(i);
    if (!std::equal(a.begin(), a.end(), b.begin(), b.end())) return false;
  }
  return true;
}

/// Encoding matrix on `support` tolerating `tolerance` stragglers. Throws invalid_parameters
/// when cyclic_mds is forced on a support or (n, s) it does not apply to, and on
/// construction::tandon_random (cyclic_repetition_code builds that one itself) or a value outside the enum.
inline sparse_matrix<double> encoding_for(const assignment& support, Index tolerance, construction how, std::uint64_t seed = 1) {
  if (how == construction::tandon_random)
    throw invalid_parameters(
        "construction::tandon_random (Tandon et al. 2017, Algorithm 2) is defined for cyclic_repetition_code "
        "only; HGC (hgc_params::method) and encoding_for take construction::automatic, null_space or "
        "cyclic_mds");
  if (how != construction::automatic && how != construction::null_space && how != construction::cyclic_mds)
    throw invalid_parameters(construction_name(how) +
                             " is not a construction; use construction::automatic, null_space or cyclic_mds");
  if (how != construction::null_space && is_cyclic_block_support(support, tolerance))
    if (auto def = cyclic_mds_definition(support.nodes(), support.partitions(), tolerance)) return std::move(def->encoding);
  if (how == construction::cyclic_mds)
    throw invalid_parameters("cyclic MDS construction forced on n = " + std::to_string(support.nodes()) +
                             ", s = " + std::to_string(tolerance) +
                             ", which needs the cyclic block support and n − s odd; use "
                             "construction::automatic or construction::null_space");
  return null_space_encoding(support, tolerance, seed);
}

}  // namespace gradcode
