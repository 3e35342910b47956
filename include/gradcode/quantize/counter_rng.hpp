// SPDX-License-Identifier: MIT
// Counter-based random numbers for the 1-bit scheme (li-skoglund §III, eq. (6)) and its
// simulations (§V: random placement, stragglers I_j^t): draw c of a stream is a pure function of
// (stream key, c), so runs are reproducible, workers share no state and SIMD lanes draw alone.
//
// Algorithm: draw(c) = mix64(key + (c + 1)·γ), γ = 0x9e3779b97f4a7c15 and mix64 the SplitMix64
// finaliser (Steele, Lea, Flood 2014; Stafford "variant 13") — i.e. SplitMix64 evaluated at
// position c of the Weyl sequence that starts at `key`, which passes BigCrush as a sequence.
// Stream keys are derived by hashing (seed, a, b, domain) with mix64; two streams of length L
// among N overlap with probability ≈ N²L/2⁶⁴ (3e-4 at N = 1e7 streams of L = 50 draws).
#pragma once

#include <cstdint>
#include <limits>

#include "gradcode/detail/splitmix.hpp"

namespace gradcode {

namespace detail {

__extension__ using uint128 = unsigned __int128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet

}  // namespace detail

/// Domain tags keep the streams of different uses apart under one run seed.
enum class rng_domain : std::uint64_t {
  quantizer = 0x51,   ///< Q's draws (one stream per worker j and iteration t)
  stragglers = 0x53,  ///< I_j^t (one stream per iteration t)
  placement = 0x50,   ///< random placement (one stream per sample i)
  user = 0x55,        ///< free for callers (examples: data, initial β)
};

/// A stream of 64-bit draws addressed by a counter. Immutable; every member is a pure function,
/// so one object may be used from any number of threads.
class counter_rng {
 public:
  /// The stream whose first draw is mix64(key + γ).
  constexpr explicit counter_rng(std::uint64_t key = 0) noexcept : m_key(key) {}

  /// The stream for (seed, a, b) in `domain`, e.g. (run seed, worker j, iteration t). Distinct
  /// arguments give unrelated keys (each step is a mix64 bijection of the previous one).
  static constexpr counter_rng stream(std::uint64_t seed, rng_domain domain, std::uint64_t a = 0, std::uint64_t b = 0) noexcept {
    std::uint64_t k = detail::mix64(seed ^ (static_cast<std::uint64_t>(domain) * detail::golden_gamma));
    k = detail::mix64(k + (a + 1) * 0xd1b54a32d192ed03ULL);
    k = detail::mix64(k + (b + 1) * 0x8cb92ba72f3d8dd7ULL);
    return counter_rng(k);
  }

  constexpr std::uint64_t key() const noexcept { return m_key; }

  /// Draw number `counter`: 64 uniform bits.
  constexpr std::uint64_t operator()(std::uint64_t counter) const noexcept {
    return detail::mix64(m_key + (counter + 1) * detail::golden_gamma);
  }

  /// Uniform on [0, 1) with 53 random bits (multiples of 2⁻⁵³).
  constexpr double uniform(std::uint64_t counter) const noexcept {
    return static_cast<double>((*this)(counter) >> 11) * 0x1.0p-53;
  }

  /// Integer in [0, bound) by Lemire's multiply-shift; the bias is at most bound/2⁶⁴ per value
  /// (< 1e-15 for bound < 2¹⁴), far below any test here. bound = 0 returns 0.
  constexpr std::uint64_t below(std::uint64_t counter, std::uint64_t bound) const noexcept {
    return static_cast<std::uint64_t>((static_cast<detail::uint128>((*this)(counter)) * bound) >> 64);
  }

 private:
  std::uint64_t m_key;
};

/// Sequential view of a counter_rng (draws 0, 1, 2, …) meeting UniformRandomBitGenerator, for
/// code that wants an engine. Note that std:: distributions are implementation-defined, so for
/// results that must match across standard libraries use counter_rng's own uniform/below.
class counter_engine {
 public:
  using result_type = std::uint64_t;
  constexpr explicit counter_engine(counter_rng rng, std::uint64_t first = 0) noexcept : m_rng(rng), m_next(first) {}
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }
  constexpr result_type operator()() noexcept { return m_rng(m_next++); }
  constexpr double uniform() noexcept { return m_rng.uniform(m_next++); }
  constexpr std::uint64_t below(std::uint64_t bound) noexcept { return m_rng.below(m_next++, bound); }
  /// Draws used so far (the next counter).
  constexpr std::uint64_t position() const noexcept { return m_next; }

 private:
  counter_rng m_rng;
  std::uint64_t m_next;
};

}  // namespace gradcode
