// SPDX-License-Identifier: MIT
// The streaming kernel behind every linear encode and decode: out = Σ_j w_j · x_j over d-length
// vectors, blocked so that each block of `out` stays in L1 while all inputs stream through once
// (memory traffic = inputs read once + output written once, the bound the benchmarks compare to
// the triad). Non-finite results are detected per block while still in cache.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <Eigen/Core>

#include "gradcode/core/types.hpp"

namespace gradcode::detail {

/// Elements per block: 4 KiB of doubles / 8 KiB of floats fits L1 alongside 4 input streams.
inline constexpr Index weighted_sum_block = 1024;

/// True when [a, a + a_len) and [b, b + b_len) share memory: the kernel below may not write
/// into an input it is still reading (the sum would silently use partial results).
template <class T>
bool overlaps(const T* a, Index a_len, const T* b, Index b_len) noexcept {
  if (a_len <= 0 || b_len <= 0) return false;
  const auto pa = reinterpret_cast<std::uintptr_t>(a), pb = reinterpret_cast<std::uintptr_t>(b);
  return pa < pb + sizeof(T) * static_cast<std::size_t>(b_len) && pb < pa + sizeof(T) * static_cast<std::size_t>(a_len);
}

/// out[0..d) = Σ_{j<count} weight(j) · column(j)[0..d). `column(j)` returns a pointer to d
/// contiguous Scalars; `out` may not alias any input. Returns the index of the first block
/// whose result is not finite, or -1 when every element is finite. count = 0 writes zeros.
template <class Scalar, class Weight, class Column>
Index weighted_sum(Index count, Index d, Weight&& weight, Column&& column, Scalar* out) {
  using array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  using cmap = Eigen::Map<const array>;
  Index first_bad = -1;
  for (Index b = 0; b < d; b += weighted_sum_block) {
    const Index len = std::min(weighted_sum_block, d - b);
    Eigen::Map<array> o(out + b, len);
    if (count == 0) {
      o.setZero();
      continue;
    }
    // Four inputs per pass over the block: fewer L1 round trips of `o` than one at a time.
    Index j = 0;
    switch (count % 4) {
      case 1:
        o = weight(0) * cmap(column(0) + b, len);
        j = 1;
        break;
      case 2:
        o = weight(0) * cmap(column(0) + b, len) + weight(1) * cmap(column(1) + b, len);
        j = 2;
        break;
      case 3:
        o = weight(0) * cmap(column(0) + b, len) + weight(1) * cmap(column(1) + b, len) + weight(2) * cmap(column(2) + b, len);
        j = 3;
        break;
      default:
        o = weight(0) * cmap(column(0) + b, len) + weight(1) * cmap(column(1) + b, len) + weight(2) * cmap(column(2) + b, len) +
            weight(3) * cmap(column(3) + b, len);
        j = 4;
        break;
    }
    for (; j < count; j += 4)
      o += weight(j) * cmap(column(j) + b, len) + weight(j + 1) * cmap(column(j + 1) + b, len) +
           weight(j + 2) * cmap(column(j + 2) + b, len) + weight(j + 3) * cmap(column(j + 3) + b, len);
    // x − x is 0 exactly for finite x and NaN for NaN/±Inf, so one vectorised sum tests the
    // whole block (Eigen's isFinite().all() is a scalar early-exit loop: ~80 % of encode time).
    if (first_bad < 0 && !((o - o).sum() == Scalar(0))) first_bad = b / weighted_sum_block;
  }
  return first_bad;
}

}  // namespace gradcode::detail
