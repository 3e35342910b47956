// SPDX-License-Identifier: MIT
// SplitMix64 (Steele, Lea, Flood 2014; Stafford's "variant 13" finaliser), the one copy every
// part of gradcode uses: the counter-based streams of quantize/counter_rng.hpp, the projection
// draws of robust/reed_solomon.hpp and the benchmarks' data. The SIMD lanes of
// quantize/one_bit.hpp evaluate the same mix64 on vector registers.
#pragma once

#include <cstdint>

namespace gradcode::detail {

/// γ, the SplitMix64 Weyl increment (2⁶⁴/φ, odd).
inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

/// SplitMix64 output function: a bijection of 64-bit words with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The next draw of the sequential generator whose state is `state` (advanced by γ).
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept { return mix64(state += golden_gamma); }

/// Uniform in [−1, 1) from the top 53 bits of the next draw.
constexpr double splitmix_uniform(std::uint64_t& state) noexcept {
  return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-52 - 1.0;
}

}  // namespace gradcode::detail
