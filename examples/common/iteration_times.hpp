// SPDX-License-Identifier: MIT
// Summary statistics of the per-iteration wall times the MPI examples print. Not part of the library.
#pragma once

#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

namespace examples {

/// Mean and median of a list of times, leaving out iteration 1 (MPI sets up its connections
/// there) when there are more.
inline std::pair<double, double> mean_median(std::vector<double> v) {
  if (v.size() > 1) v.erase(v.begin());
  if (v.empty()) return {0, 0};
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  std::sort(v.begin(), v.end());
  return {mean, v[v.size() / 2]};
}

}  // namespace examples
