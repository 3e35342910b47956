// SPDX-License-Identifier: MIT
// A code's fingerprint (issue 13, item 5): a 64-bit FNV-1a hash of what defines a codec — its
// shape, loads, placement, scalar type and the codec's own parameters — that every rank of an MPI
// run sends at start-up, so a rank that built a different code is named before round 1 instead
// of contributing a silently wrong message. Needs no MPI.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace gradcode::mpi {

/// Accumulates a hash over integers, strings and real coefficients. Two runs that feed the same
/// values in the same order get the same value() on any host.
class fingerprint {
 public:
  fingerprint& add(std::int64_t v) noexcept {
    for (int b = 0; b < 8; ++b) mix(static_cast<unsigned char>(static_cast<std::uint64_t>(v) >> (8 * b)));  // little-endian
    return *this;
  }
  fingerprint& add(std::string_view text) noexcept {
    add(static_cast<std::int64_t>(text.size()));
    for (char c : text) mix(static_cast<unsigned char>(c));
    return *this;
  }
  /// A real coefficient, rounded to float first: hosts that compute a code's coefficients with
  /// different vector widths or FMA differ in the last bits of a double, not in a float (unless a
  /// value sits within ~1e-16 of a float rounding boundary).
  fingerprint& add_real(double v) noexcept {
    float f = static_cast<float>(v);
    if (f == 0) f = 0;  // -0 and +0 are the same coefficient
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return add(static_cast<std::int64_t>(bits));
  }
  std::uint64_t value() const noexcept { return m_hash; }

 private:
  void mix(unsigned char byte) noexcept {
    m_hash ^= byte;
    m_hash *= 0x100000001b3ull;  // FNV-1a 64 prime
  }
  std::uint64_t m_hash = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
};

}  // namespace gradcode::mpi
