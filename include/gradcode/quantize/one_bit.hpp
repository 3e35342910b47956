// SPDX-License-Identifier: MIT
// The stochastic 1-bit quantizer Q of li-skoglund eq. (6): a worker sends h = Q(f) ∈ {±1}^w plus
// ‖f‖, ρ = w + ζ bits (§III), and E[‖f‖·h] = f (Q is unbiased with scale ‖f‖, the step (10) of
// Lemma 1 rests on). one_bit_quantizer quantizes, dequantizes/accumulates (eq. (8)) and serialises.
//
// Q's bits depend only on (seed, stream (worker j, iteration t), coordinate k, f_k, ‖f‖), so chunks
// of f may be quantized in any order or in parallel (quantize_range); ‖f‖ = 0 sends all-zero bits
// and scale 0. The kernels and their Algorithm block: quantize/one_bit_kernels.hpp; the message
// types and the byte layout: quantize/one_bit_wire.hpp.
//
// Seeds: the run seed lives in the params struct (one_bit_params::seed), as in the codes/ params,
// hgc_params and gc_dl_params; the per-call stream (worker, iteration) is a draw_stream argument.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/quantize/counter_rng.hpp"
#include "gradcode/quantize/one_bit_kernels.hpp"
#include "gradcode/quantize/one_bit_wire.hpp"

namespace gradcode {

/// Required parameters of a quantizer.
struct one_bit_params {
  Index length = 0;        ///< w, entries of every f (the model dimension), ≥ 1
  std::uint64_t seed = 0;  ///< run seed; Q's draws depend only on (seed, stream, coordinate)
};

/// Which independent draws Q uses. li-skoglund quantizes f_j^t once per worker j and iteration t;
/// equal (seed, worker, iteration) give equal bits, any other stream independent ones.
struct draw_stream {
  std::uint64_t worker = 0;     ///< j
  std::uint64_t iteration = 0;  ///< t
};

/// Q of li-skoglund eq. (6) over vectors of length w: quantize (pack), dequantize/accumulate
/// (unpack), to_wire/from_wire (bytes). Holds only (w, seed): const, copyable, safe to share
/// between threads.
template <class Scalar>
class one_bit_quantizer {
 public:
  using scalar_type = Scalar;
  /// ζ: bits of the real number ‖f‖ on the wire (32 for float, 64 for double).
  static constexpr Index scalar_bits = static_cast<Index>(8 * sizeof(Scalar));

  /// Largest w: the bit counts (w + ζ, and wζ of SGC-DL) and ⌈w/64⌉ stay within Index.
  static constexpr Index max_length = std::numeric_limits<Index>::max() / 64;

  /// Throws invalid_parameters when w < 1 or w > max_length (2^57 − 1).
  explicit one_bit_quantizer(const one_bit_params& params) : m_length(params.length), m_seed(params.seed) {
    static_assert(std::numeric_limits<Scalar>::is_iec559, "the wire format sends ‖f‖ as IEEE-754 binary32/binary64");
    if (m_length < 1) throw invalid_parameters("one_bit_quantizer: w = " + std::to_string(m_length) + "; need w >= 1");
    if (m_length > max_length)
      throw invalid_parameters("one_bit_quantizer: w = " + std::to_string(m_length) + " exceeds " + std::to_string(max_length) +
                               " (the bits per message w + ζ must fit in a 64-bit Index)");
  }

  /// w
  Index length() const noexcept { return m_length; }
  std::uint64_t seed() const noexcept { return m_seed; }
  /// ⌈w/64⌉, the packed words of one message.
  Index word_count() const noexcept { return (m_length + 63) / 64; }
  /// ρ = w + ζ, the bits one message carries (li-skoglund §III).
  Index bits_per_message() const noexcept { return m_length + scalar_bits; }
  /// ζ/8 + ⌈w/8⌉, the bytes of one message on the wire.
  std::size_t wire_bytes() const noexcept { return detail::one_bit_wire_bytes<Scalar>(m_length); }
  /// The draws Q uses for `stream`.
  counter_rng rng(draw_stream stream) const noexcept {
    return counter_rng::stream(m_seed, rng_domain::quantizer, stream.worker, stream.iteration);
  }

  /// h = Q(f) into `words` (⌈w/64⌉ of them, overwritten), returns ‖f‖. No allocation. Throws
  /// invalid_input (naming stream.worker as the node) on a wrong length or NaN/Inf in f, or when
  /// ‖f‖ does not fit in Scalar; `words` is untouched then.
  Scalar quantize(const Eigen::Ref<const vector<Scalar>>& f, draw_stream stream, std::span<std::uint64_t> words) const {
    const Scalar scale = checked_scale(f, stream);
    check_words(words.size(), static_cast<long long>(stream.worker));
    quantize_unchecked(f.data(), m_length, scale, rng(stream).key(), 0, words);
    return scale;
  }

  /// As above into `out` (its words are resized once, then reused); `out` is untouched on a throw.
  void quantize(const Eigen::Ref<const vector<Scalar>>& f, draw_stream stream, one_bit_vector<Scalar>& out) const {
    const Scalar scale = checked_scale(f, stream);
    out.words.resize(static_cast<std::size_t>(word_count()));
    quantize_unchecked(f.data(), m_length, scale, rng(stream).key(), 0, std::span<std::uint64_t>(out.words));
    out.scale = scale;
    out.length = m_length;
  }

  one_bit_vector<Scalar> quantize(const Eigen::Ref<const vector<Scalar>>& f, draw_stream stream) const {
    one_bit_vector<Scalar> out;
    quantize(f, stream, out);
    return out;
  }

  /// The streaming kernel alone: the signs of f[first, first + segment.size()) given ‖f‖ = `norm`
  /// (computed by the caller), into ⌈segment.size()/64⌉ `words` — the same bits quantize() puts
  /// there, so threads may each take a range. Precondition: segment entries finite. Throws
  /// invalid_input unless first % 64 == 0, the range lies in [0, w), the word count fits and
  /// norm is finite and ≥ 0.
  void quantize_range(std::span<const Scalar> segment, Scalar norm, draw_stream stream, Index first,
                      std::span<std::uint64_t> words) const {
    const auto len = static_cast<Index>(segment.size());
    const auto node = static_cast<long long>(stream.worker);
    // first + len is formed only once both are known to lie in [0, w] (no signed overflow).
    if (first < 0 || first % 64 != 0 || len < 0 || len > m_length || first > m_length - len)
      throw invalid_input("quantize_range: " + std::to_string(segment.size()) + " coordinates from " + std::to_string(first) +
                              " must start at a multiple of 64 and lie in [0, w = " + std::to_string(m_length) + ")",
                          node);
    if (static_cast<Index>(words.size()) != (len + 63) / 64)
      throw invalid_input("quantize_range: " + std::to_string(words.size()) + " words for " + std::to_string(len) +
                              " coordinates, need " + std::to_string((len + 63) / 64),
                          node);
    if (!(norm >= 0) || !std::isfinite(norm))
      throw invalid_input("quantize_range: ‖f‖ = " + std::to_string(static_cast<double>(norm)) + " must be finite and >= 0",
                          node);
    quantize_unchecked(segment.data(), len, norm, rng(stream).key(), static_cast<std::uint64_t>(first), words);
  }

  /// out = ‖f‖·h, the dequantized message (one_bit_vector converts to its view). Throws
  /// invalid_input on a malformed message or length.
  void dequantize(const one_bit_view<Scalar>& h, Eigen::Ref<vector<Scalar>> out) const {
    check_message(h, -1);
    check_out(out.size());
    out.setZero();
    const std::uint64_t* w = h.words.data();
    detail::accumulate_kernel<Scalar>(1, &w, &h.scale, m_length, out.data());
  }

  vector<Scalar> dequantize(const one_bit_view<Scalar>& h) const {
    check_message(h, -1);  // before allocating w entries: h must hold its ⌈w/64⌉ words
    vector<Scalar> out(m_length);
    dequantize(h, out);
    return out;
  }

  /// out += weight·h (the unpack + weighted accumulate kernel). Throws invalid_input on a
  /// malformed message, a non-finite weight or a wrong length (`out` untouched), or when a finite
  /// coordinate of `out` leaves the Scalar range (`out` then unspecified: the coordinates before
  /// it may hold the sum).
  void accumulate(const one_bit_view<Scalar>& h, Scalar weight, Eigen::Ref<vector<Scalar>> out) const {
    check_message(h, -1);
    check_out(out.size());
    if (!std::isfinite(weight))
      throw invalid_input("accumulate: weight " + std::to_string(static_cast<double>(weight)) + " is not finite");
    const std::uint64_t* w = h.words.data();
    detail::checked_accumulate<Scalar>(
        1, &w, &weight, m_length, out.data(), false, [](Index) { return -1LL; }, "accumulate");
  }

  /// out += Σ_j ‖f_j‖·h_j over `messages` (eq. (8) without the indicator: pass the arrived ones).
  /// 64 entries of `out` stay in registers while every message streams through once. Throws
  /// invalid_input naming the message (its index j as the node) when it is malformed (`out`
  /// untouched) or when adding it makes a finite coordinate of `out` leave the Scalar range (e.g.
  /// norms near FLT_MAX summed over workers; `out` then unspecified).
  void accumulate(std::span<const one_bit_vector<Scalar>> messages, Eigen::Ref<vector<Scalar>> out) const {
    accumulate_all(messages, out);
  }
  /// As above over views (e.g. messages parsed by from_wire into one receive buffer).
  void accumulate(std::span<const one_bit_view<Scalar>> messages, Eigen::Ref<vector<Scalar>> out) const {
    accumulate_all(messages, out);
  }

  /// Writes the wire form of `h` (layout in quantize/one_bit_wire.hpp) into exactly wire_bytes()
  /// bytes. Throws invalid_input on a malformed message or a wrong buffer size (`out` untouched).
  void to_wire(const one_bit_view<Scalar>& h, std::span<std::byte> out) const {
    check_message(h, -1);
    detail::write_one_bit_wire(h, m_length, out);
  }

  std::vector<std::byte> to_wire(const one_bit_view<Scalar>& h) const {
    check_message(h, -1);
    std::vector<std::byte> out(wire_bytes());
    detail::write_one_bit_wire(h, m_length, std::span<std::byte>(out));
    return out;
  }

  /// Parses a wire message from `node` (−1: unknown) into the caller's ⌈w/64⌉ `words`
  /// (overwritten) and returns a view of it over them: the one copy of the signs there is, no
  /// allocation. Throws invalid_input naming the node when `words` has the wrong size or overlaps
  /// `in`, the length is not wire_bytes(), ‖f‖ is not a finite number ≥ +0, a padding bit past w is
  /// set, or ‖f‖ = 0 comes with a set sign bit; `words` is untouched then.
  one_bit_view<Scalar> from_wire(std::span<const std::byte> in, std::span<std::uint64_t> words, long long node = -1) const {
    if (static_cast<Index>(words.size()) != word_count())
      throw invalid_input("from_wire: " + std::to_string(words.size()) + " words of storage for the message" +
                              detail::node_suffix(node) + ", w = " + std::to_string(m_length) + " needs " +
                              std::to_string(word_count()),
                          node);
    const auto* first = reinterpret_cast<const std::byte*>(words.data());
    if (std::less<>{}(first, in.data() + in.size()) && std::less<>{}(in.data(), first + words.size_bytes()))
      throw invalid_input("from_wire: the word storage overlaps the wire buffer of the message" + detail::node_suffix(node),
                          node);
    const Scalar scale = detail::check_one_bit_wire<Scalar>(in, m_length, node);
    detail::unpack_one_bit_wire<Scalar>(in, m_length, words);
    return {m_length, scale, std::span<const std::uint64_t>(words)};
  }

  /// As above into `out` (its words are resized to ⌈w/64⌉, reusing their capacity); `out` is
  /// untouched on a throw.
  void from_wire(std::span<const std::byte> in, one_bit_vector<Scalar>& out, long long node = -1) const {
    const Scalar scale = detail::check_one_bit_wire<Scalar>(in, m_length, node);
    out.words.resize(static_cast<std::size_t>(word_count()));
    detail::unpack_one_bit_wire<Scalar>(in, m_length, std::span<std::uint64_t>(out.words));
    out.length = m_length;
    out.scale = scale;
  }

  one_bit_vector<Scalar> from_wire(std::span<const std::byte> in, long long node = -1) const {
    one_bit_vector<Scalar> out;
    from_wire(in, out, node);
    return out;
  }

  /// Throws invalid_input (naming `node`) unless h is a well-formed message of this quantizer:
  /// length w, ⌈w/64⌉ words, zero padding bits, finite scale ≥ 0.
  void check_message(const one_bit_view<Scalar>& h, long long node) const { detail::check_one_bit_message(h, m_length, node); }

 private:
  /// ‖f‖ as sent (Scalar), after checking f's length, its entries and that ‖f‖ fits in Scalar.
  Scalar checked_scale(const Eigen::Ref<const vector<Scalar>>& f, draw_stream stream) const {
    const auto node = static_cast<long long>(stream.worker);
    if (f.size() != m_length)
      throw invalid_input("quantize: f has length " + std::to_string(f.size()) +
                              ", the quantizer has w = " + std::to_string(m_length) + detail::node_suffix(node),
                          node);
    const double norm = detail::checked_norm(f.data(), m_length, node);
    const auto scale = static_cast<Scalar>(norm);
    if (!std::isfinite(scale))
      throw invalid_input("quantize: ‖f‖ = " + std::to_string(norm) + " does not fit in the " + std::to_string(scalar_bits) +
                              "-bit norm field" + detail::node_suffix(node),
                          node);
    return scale;
  }

  /// `words` holds exactly ⌈len/64⌉ words (checked by the callers).
  void quantize_unchecked(const Scalar* x, Index len, Scalar norm, std::uint64_t key, std::uint64_t first,
                          std::span<std::uint64_t> words) const {
    if (norm == 0) {  // f = 0: Q(0) is undefined (0/0); send all −1 with scale 0, which is exact
      std::fill(words.begin(), words.end(), std::uint64_t{0});
      return;
    }
    const Scalar s = static_cast<Scalar>(2147483648.0) / norm;
    if (std::isfinite(s))
      detail::quantize_kernel(x, len, s, key, first, words.data());
    else
      detail::quantize_divide(x, len, norm, key, first, words.data());
  }

  void check_words(std::size_t count, long long node) const {
    if (static_cast<Index>(count) != word_count())
      throw invalid_input("quantize: " + std::to_string(count) + " output words, w = " + std::to_string(m_length) + " needs " +
                              std::to_string(word_count()),
                          node);
  }

  void check_out(Index size) const {
    if (size != m_length)
      throw invalid_input("output has length " + std::to_string(size) + ", the quantizer has w = " + std::to_string(m_length));
  }

  template <class Message>
  void accumulate_all(std::span<const Message> messages, Eigen::Ref<vector<Scalar>> out) const {
    check_out(out.size());
    std::vector<const std::uint64_t*> words(messages.size());
    std::vector<Scalar> weights(messages.size());
    for (std::size_t j = 0; j < messages.size(); ++j) {
      check_message(messages[j], static_cast<long long>(j));
      words[j] = messages[j].words.data();
      weights[j] = messages[j].scale;
    }
    detail::checked_accumulate<Scalar>(
        static_cast<Index>(messages.size()), words.data(), weights.data(), m_length, out.data(), false,
        [](Index j) { return static_cast<long long>(j); }, "accumulate");
  }

  Index m_length;
  std::uint64_t m_seed;
};

}  // namespace gradcode
