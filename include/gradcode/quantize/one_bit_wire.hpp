// SPDX-License-Identifier: MIT
// One 1-bit message of li-skoglund §III — h = Q(f) ∈ {±1}^w and ‖f‖, ρ = w + ζ bits — in memory
// (one_bit_vector owns its packed words, one_bit_view borrows them) and as bytes on the wire.
// The serialisation is reached through one_bit_quantizer::to_wire / from_wire (quantize/one_bit.hpp).
//
// Wire format of one message (all little-endian, no header — the receiver knows w):
//   bytes [0, ζ/8)            ‖f‖ as IEEE-754 binary32 (float) or binary64 (double); finite, ≥ +0
//   bytes [ζ/8, ζ/8 + ⌈w/8⌉)  signs: bit b (LSB first) of byte q is h_{8q+b} = +1; the bits past w
//                             in the last byte are 0, and all bits are 0 when ‖f‖ = 0
// Any other length or content is rejected with gradcode::invalid_input (canonical form: an
// accepted buffer re-serialises to the same bytes). The sign bytes start at offset 4 or 8 and
// end mid-word, so a parsed message is copied once into 64-bit words (caller storage allowed:
// from_wire into a std::span<std::uint64_t> returns a one_bit_view over it, no allocation).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

template <class Scalar>
struct one_bit_view;

namespace detail {

inline std::string node_suffix(long long node) { return node >= 0 ? " (node " + std::to_string(node) + ")" : std::string(); }

/// h_k of packed words (shared by one_bit_vector and one_bit_view).
inline int packed_sign(Index length, std::span<const std::uint64_t> words, Index k) {
  if (k < 0 || k >= length || static_cast<std::size_t>(k >> 6) >= words.size())
    throw invalid_input("one_bit message sign: coordinate " + std::to_string(k) + " is outside [0, w = " +
                        std::to_string(length) + ") or past its " + std::to_string(words.size()) + " words");
  return (words[static_cast<std::size_t>(k >> 6)] >> (k & 63)) & 1u ? 1 : -1;
}

}  // namespace detail

/// One 1-bit message (h, ‖f‖) of li-skoglund eqs. (4)–(6), packed 64 signs per word; owns its words.
template <class Scalar>
struct one_bit_vector {
  Index length = 0;                  ///< w
  Scalar scale = 0;                  ///< ‖f‖, sent beside the bits
  std::vector<std::uint64_t> words;  ///< ⌈w/64⌉ words; bit b of word q is h_{64q+b} = +1; bits ≥ w are 0

  /// h_k ∈ {−1, +1}. Throws invalid_input unless 0 ≤ k < length and `words` holds word ⌊k/64⌋.
  int sign(Index k) const { return detail::packed_sign(length, words, k); }
  /// A view of this message (valid while `words` is neither resized nor destroyed).
  one_bit_view<Scalar> view() const noexcept { return {length, scale, std::span<const std::uint64_t>(words)}; }
  /// Implicit, so every function taking a one_bit_view takes a one_bit_vector too.
  operator one_bit_view<Scalar>() const noexcept { return view(); }
};

/// The same message over words someone else owns (from_wire into caller storage, a slice of a
/// contiguous receive buffer, or one_bit_vector::view()). Holds no memory: the words must outlive it.
template <class Scalar>
struct one_bit_view {
  Index length = 0;                        ///< w
  Scalar scale = 0;                        ///< ‖f‖
  std::span<const std::uint64_t> words{};  ///< ⌈w/64⌉ words, layout as one_bit_vector::words

  /// h_k ∈ {−1, +1}. Throws invalid_input unless 0 ≤ k < length and `words` holds word ⌊k/64⌋.
  int sign(Index k) const { return detail::packed_sign(length, words, k); }
};

namespace detail {

/// ζ/8 + ⌈w/8⌉, the bytes of one message of w signs on the wire (w ≥ 0).
template <class Scalar>
constexpr std::size_t one_bit_wire_bytes(Index w) noexcept {
  return sizeof(Scalar) + static_cast<std::size_t>((w + 7) / 8);
}

/// Throws invalid_input (naming `node`) unless h is a well-formed message of w signs: length w,
/// ⌈w/64⌉ words, zero padding bits, finite scale ≥ 0.
template <class Scalar>
void check_one_bit_message(const one_bit_view<Scalar>& h, Index w, long long node) {
  const auto words = static_cast<Index>(h.words.size()), need = (w + 63) / 64;
  if (h.length != w || words != need)
    throw invalid_input("message" + node_suffix(node) + " has w = " + std::to_string(h.length) + " and " + std::to_string(words) +
                            " words; expected w = " + std::to_string(w) + " and " + std::to_string(need),
                        node);
  if (!std::isfinite(h.scale) || h.scale < 0)
    throw invalid_input("message" + node_suffix(node) + " has scale ‖f‖ = " + std::to_string(static_cast<double>(h.scale)) +
                            "; must be finite and >= 0",
                        node);
  if (w % 64 != 0 && (h.words.back() >> (w % 64)) != 0)
    throw invalid_input("message" + node_suffix(node) + " sets bits past w = " + std::to_string(w), node);
}

/// The wire form of a well-formed message h of w signs (check_one_bit_message) into exactly
/// one_bit_wire_bytes(w) bytes. Throws invalid_input on a wrong buffer size (`out` untouched).
template <class Scalar>
void write_one_bit_wire(const one_bit_view<Scalar>& h, Index w, std::span<std::byte> out) {
  static_assert(std::numeric_limits<Scalar>::is_iec559, "the wire format sends ‖f‖ as IEEE-754 binary32/binary64");
  const std::size_t bytes = one_bit_wire_bytes<Scalar>(w), sign_bytes = bytes - sizeof(Scalar);
  if (out.size() != bytes)
    throw invalid_input("to_wire: buffer of " + std::to_string(out.size()) + " bytes, a message takes " + std::to_string(bytes) +
                        " (ζ/8 = " + std::to_string(sizeof(Scalar)) + " + ⌈w/8⌉ = " + std::to_string(sign_bytes) + ")");
  using bits_type = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
  const auto scale_bits = std::bit_cast<bits_type>(h.scale);
  for (std::size_t b = 0; b < sizeof(Scalar); ++b) out[b] = static_cast<std::byte>((scale_bits >> (8 * b)) & 0xffu);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out.data() + sizeof(Scalar), h.words.data(), sign_bytes);
  } else {
    for (std::size_t q = 0; q < sign_bytes; ++q)
      out[sizeof(Scalar) + q] = static_cast<std::byte>((h.words[q / 8] >> (8 * (q % 8))) & 0xffu);
  }
}

/// Validates a wire message of w signs from `node` (−1: unknown) and returns its ‖f‖; reads only
/// `in`. Throws invalid_input naming the node when the length is not one_bit_wire_bytes(w), ‖f‖
/// is not a finite number ≥ +0, a padding bit past w is set, or ‖f‖ = 0 comes with a set sign bit.
template <class Scalar>
Scalar check_one_bit_wire(std::span<const std::byte> in, Index w, long long node) {
  static_assert(std::numeric_limits<Scalar>::is_iec559, "the wire format sends ‖f‖ as IEEE-754 binary32/binary64");
  const std::size_t bytes = one_bit_wire_bytes<Scalar>(w);
  if (in.size() != bytes)
    throw invalid_input("from_wire: message" + node_suffix(node) + " has " + std::to_string(in.size()) + " bytes, expected " +
                            std::to_string(bytes) + " (ζ/8 = " + std::to_string(sizeof(Scalar)) + " for ‖f‖ + ⌈w/8⌉ = " +
                            std::to_string(bytes - sizeof(Scalar)) + " for w = " + std::to_string(w) + " signs)",
                        node);
  using bits_type = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
  bits_type scale_bits = 0;
  for (std::size_t b = 0; b < sizeof(Scalar); ++b)
    scale_bits |= static_cast<bits_type>(std::to_integer<unsigned>(in[b])) << (8 * b);
  const auto scale = std::bit_cast<Scalar>(scale_bits);
  if (!std::isfinite(scale) || std::signbit(scale))
    throw invalid_input("from_wire: message" + node_suffix(node) +
                            " carries ‖f‖ = " + std::to_string(static_cast<double>(scale)) + "; a norm must be finite and >= +0",
                        node);
  const auto tail_bits = static_cast<unsigned>(w % 8);
  const auto last = std::to_integer<unsigned>(in[in.size() - 1]);
  if (tail_bits != 0 && (last >> tail_bits) != 0) {
    const char* digits = "0123456789abcdef";
    throw invalid_input("from_wire: message" + node_suffix(node) + " sets padding bits past w = " + std::to_string(w) +
                            " in its last byte (0x" + std::string{digits[(last >> 4) & 15], digits[last & 15]} + ")",
                        node);
  }
  if (scale == 0 && std::any_of(in.begin() + sizeof(Scalar), in.end(), [](std::byte b) { return b != std::byte{0}; }))
    throw invalid_input(
        "from_wire: message" + node_suffix(node) + " has ‖f‖ = 0 but sign bits set (not the canonical zero message)", node);
  return scale;
}

/// The sign bytes of a validated wire message (check_one_bit_wire) into ⌈w/64⌉ `words`
/// (overwritten, the bits past w zero).
template <class Scalar>
void unpack_one_bit_wire(std::span<const std::byte> in, Index w, std::span<std::uint64_t> words) {
  const std::size_t sign_bytes = one_bit_wire_bytes<Scalar>(w) - sizeof(Scalar);
  if constexpr (std::endian::native == std::endian::little) {
    if (!words.empty()) words.back() = 0;  // the memcpy below ends mid-word: the bits past w
    std::memcpy(words.data(), in.data() + sizeof(Scalar), sign_bytes);
  } else {
    std::fill(words.begin(), words.end(), std::uint64_t{0});
    for (std::size_t q = 0; q < sign_bytes; ++q)
      words[q / 8] |= static_cast<std::uint64_t>(std::to_integer<unsigned>(in[sizeof(Scalar) + q])) << (8 * (q % 8));
  }
}

}  // namespace detail
}  // namespace gradcode
