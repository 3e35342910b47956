// SPDX-License-Identifier: MIT
// The name of a worker in a two-layer (hierarchical) system: worker j of edge node / relay i,
// W_(i,j) in tang2024 and (i,j) in gholami2025. Shared by both hierarchical codecs and the MPI
// transport.
#pragma once

#include "gradcode/core/types.hpp"

namespace gradcode {

/// Worker j of edge (relay, cluster) i, 0-based.
struct worker_id {
  Index edge = 0;
  Index worker = 0;
  friend bool operator==(const worker_id&, const worker_id&) = default;
};

}  // namespace gradcode
