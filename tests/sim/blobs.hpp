// SPDX-License-Identifier: MIT
// The sim tests' data set: three well-separated Gaussian blobs in 5 dimensions (class c has mean
// 2·e_c, noise σ = 0.3), so softmax regression reaches high accuracy in a few iterations.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <gradcode/core/types.hpp>

namespace gradcode::test {

inline void blobs(matrix<float>& x, std::vector<int>& y, Index samples, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.f, 0.3f);
  x.resize(samples, 5);
  y.resize(static_cast<std::size_t>(samples));
  for (Index s = 0; s < samples; ++s) {
    const int c = static_cast<int>(s % 3);
    y[static_cast<std::size_t>(s)] = c;
    for (Index j = 0; j < 5; ++j) x(s, j) = (j == c ? 2.f : 0.f) + noise(rng);
  }
}

}  // namespace gradcode::test
