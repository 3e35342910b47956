// SPDX-License-Identifier: MIT
// Fuzz target over the 1-bit message of li-skoglund (include/gradcode/quantize/one_bit.hpp,
// one_bit_wire.hpp): the wire format, the quantizer Q and the accumulate kernel.
//
// Properties (each violation aborts with a message):
//   - parse: any bytes → invalid_input naming the given node, or a message; from_wire accepts
//     exactly the canonical buffers of the header's layout (independent re-implementation of
//     the rules: length ζ/8 + ⌈w/8⌉, ‖f‖ finite and ≥ +0, zero padding bits, all signs 0 when
//     ‖f‖ = 0), and an accepted buffer re-serialises to the same bytes; dequantize gives ±‖f‖;
//   - quantize: f → invalid_input only for NaN/Inf or a norm that does not fit Scalar; else
//     ‖f‖ to rounding, a non-zero f never sends the zero message, the message is well formed,
//     survives to_wire → from_wire, and quantize_range over 64-aligned chunks gives the same bits;
//   - accumulate: out += Σ_j ±‖f_j‖ equals the long double sum to rounding and is finite, or
//     invalid_input for a malformed message / non-finite weight / a sum past Scalar's range.
// fuzz-claim: any bytes parse to invalid_input or to a message that re-serialises to the same bytes
// fuzz-max-len: 512
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <gradcode/quantize/one_bit.hpp>

#include "fuzz_support.hpp"

namespace {

using namespace gradcode;
using fuzz::input;
using fuzz::outcome;
using fuzz::real;

/// The header's layout, re-stated: is `bytes` a canonical message of w signs?
template <class Scalar>
bool canonical(const std::vector<std::uint8_t>& bytes, Index w) {
  const std::size_t z = sizeof(Scalar);
  if (bytes.size() != z + static_cast<std::size_t>((w + 7) / 8)) return false;
  using bits = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
  bits b = 0;
  for (std::size_t i = 0; i < z; ++i) b |= static_cast<bits>(bytes[i]) << (8 * i);
  const auto scale = std::bit_cast<Scalar>(b);
  if (!std::isfinite(scale) || std::signbit(scale)) return false;
  if (w % 8 != 0 && (bytes.back() >> (w % 8)) != 0) return false;
  if (scale == 0)
    for (std::size_t i = z; i < bytes.size(); ++i)
      if (bytes[i] != 0) return false;
  return true;
}

/// Parses the input's remaining bytes as one wire message of a quantizer of w signs.
template <class Scalar>
void run_parse(input& in) {
  const auto how = in.byte();
  const long long node = how & 1u ? -1 : static_cast<long long>(in.byte());
  const auto header = in.byte();  // consumed before the body so both modes keep the same layout
  std::vector<std::uint8_t> bytes = in.rest();
  Index w = 1;
  if (how & 2u) {  // w from the input: the length usually mismatches
    w = 1 + (static_cast<Index>(header) << 3 | static_cast<Index>(how >> 2)) % 2048;
  } else {  // w matching the body: ⌈w/8⌉ = |body| − ζ/8 (when the body is long enough)
    const auto body = static_cast<Index>(bytes.size()) - static_cast<Index>(sizeof(Scalar));
    w = body >= 1 ? 8 * body - header % 8 : 1 + header % 8;
  }
  const one_bit_quantizer<Scalar> q({w, 7});
  const auto span = std::as_bytes(std::span<const std::uint8_t>(bytes));
  one_bit_vector<Scalar> m;
  m.length = -3;  // a refused from_wire must leave `out` as it was
  bool refused = false;
  try {
    q.from_wire(span, m, node);
  } catch (const invalid_input& e) {
    refused = true;
    GRADCODE_FUZZ_REQUIRE(e.node() == node, "1-bit from_wire names node %lld, the message came from node %lld", e.node(), node);
    GRADCODE_FUZZ_REQUIRE(std::strncmp(e.what(), "gradcode::invalid_input: ", 25) == 0, "untagged: %s", e.what());
  } catch (const std::exception& e) {
    GRADCODE_FUZZ_REQUIRE(false, "1-bit from_wire threw a non-invalid_input exception: %s", e.what());
  }
  const bool want = canonical<Scalar>(bytes, w);
  GRADCODE_FUZZ_REQUIRE(refused != want, "1-bit from_wire %s a %scanonical buffer of %zu bytes for w = %lld",
                        refused ? "refused" : "accepted", want ? "" : "non-", bytes.size(), static_cast<long long>(w));
  if (refused) {
    GRADCODE_FUZZ_REQUIRE(m.length == -3 && m.words.empty(), "1-bit from_wire refused but wrote into out");
    return;
  }
  GRADCODE_FUZZ_REQUIRE(m.length == w && static_cast<Index>(m.words.size()) == q.word_count(),
                        "1-bit from_wire: w = %lld, %zu words", static_cast<long long>(m.length), m.words.size());
  const auto check = fuzz::attempt([&] { q.check_message(m, node); });
  GRADCODE_FUZZ_REQUIRE(check == outcome::ok, "a parsed message fails check_message (%s)", fuzz::name(check));
  std::vector<std::byte> again;
  const auto enc = fuzz::attempt([&] { again = q.to_wire(m); });
  GRADCODE_FUZZ_REQUIRE(enc == outcome::ok, "re-serialising a parsed message threw %s", fuzz::name(enc));
  GRADCODE_FUZZ_REQUIRE(again.size() == bytes.size() && std::memcmp(again.data(), bytes.data(), bytes.size()) == 0,
                        "from_wire → to_wire changed the bytes (w = %lld, %zu bytes)", static_cast<long long>(w), bytes.size());
  vector<Scalar> out;
  const auto deq = fuzz::attempt([&] { out = q.dequantize(m); });
  GRADCODE_FUZZ_REQUIRE(deq == outcome::ok, "dequantize of a parsed message threw %s", fuzz::name(deq));
  for (Index k = 0; k < w; ++k) {
    const bool plus = bytes[sizeof(Scalar) + static_cast<std::size_t>(k / 8)] >> (k % 8) & 1u;
    GRADCODE_FUZZ_REQUIRE(out[k] == (plus ? m.scale : -m.scale) && m.sign(k) == (plus ? 1 : -1),
                          "dequantize: coordinate %lld is %g, bit %d, scale %g", static_cast<long long>(k),
                          static_cast<double>(out[k]), plus, static_cast<double>(m.scale));
  }
}

/// Quantizes f drawn from the input, then checks the message, its wire round trip and the
/// chunked kernel.
template <class Scalar>
void run_quantize(input& in) {
  const Index w = in.pick(1, 300);
  const std::uint64_t seed = in.byte();
  const draw_stream stream{in.byte(), in.byte()};
  const one_bit_quantizer<Scalar> q({w, seed});
  const auto mode = fuzz::pick_mode(in);
  const int e = fuzz::pick_exponent<Scalar>(in, mode);
  vector<Scalar> f(w);
  for (Index k = 0; k < w; ++k) f[k] = in.byte() < 64 ? Scalar(0) : fuzz::draw_value<Scalar>(in, mode, e);
  const bool finite = fuzz::all_finite(f.data(), w);
  const real norm = fuzz::norm(f);
  one_bit_vector<Scalar> m;
  std::string what;
  const auto got = fuzz::attempt([&] { m = q.quantize(f, stream); }, &what);
  const real top = static_cast<real>(std::numeric_limits<Scalar>::max());
  if (got == outcome::invalid_input) {
    GRADCODE_FUZZ_REQUIRE(!finite || norm >= top * (1 - 4 * fuzz::epsilon<Scalar>()),
                          "quantize refused a finite f with ‖f‖ = %.3Lg: %s", norm, what.c_str());
    return;
  }
  GRADCODE_FUZZ_REQUIRE(got == outcome::ok, "quantize threw %s: %s", fuzz::name(got), what.c_str());
  GRADCODE_FUZZ_REQUIRE(finite, "quantize accepted a NaN/Inf entry");
  // ‖f‖ is summed blockwise (≤ w·ε relative on the squares) and cast to Scalar (½ε).
  GRADCODE_FUZZ_REQUIRE(
      std::fabs(static_cast<real>(m.scale) - norm) <= static_cast<real>(w + 4) * fuzz::epsilon<Scalar>() * norm +
                                                          static_cast<real>(std::numeric_limits<Scalar>::denorm_min()),
      "quantize: scale %.9g, ‖f‖ = %.9Lg", static_cast<double>(m.scale), norm);
  GRADCODE_FUZZ_REQUIRE(!(norm > 0 && m.scale == 0), "quantize sent the zero message for a non-zero f (‖f‖ = %.3Lg)", norm);
  const auto check = fuzz::attempt([&] { q.check_message(m, 0); });
  GRADCODE_FUZZ_REQUIRE(check == outcome::ok, "quantize produced a malformed message (%s)", fuzz::name(check));
  if (m.scale == 0)
    for (auto word : m.words) GRADCODE_FUZZ_REQUIRE(word == 0, "scale 0 with sign bits set");
  // Wire round trip.
  one_bit_vector<Scalar> back;
  const auto rt = fuzz::attempt([&] { back = q.from_wire(q.to_wire(m)); });
  GRADCODE_FUZZ_REQUIRE(rt == outcome::ok && std::memcmp(&back.scale, &m.scale, sizeof(Scalar)) == 0 && back.words == m.words,
                        "to_wire → from_wire of a quantized message changed it (%s)", fuzz::name(rt));
  // The streaming kernel in 64-aligned chunks gives the same bits.
  const Index chunk = 64 * (1 + in.byte() % 3);
  std::vector<std::uint64_t> words(static_cast<std::size_t>(q.word_count()));
  for (Index first = 0; first < w; first += chunk) {
    const Index len = std::min(chunk, w - first);
    std::span<std::uint64_t> part(words.data() + first / 64, static_cast<std::size_t>((len + 63) / 64));
    const auto r = fuzz::attempt([&] {
      q.quantize_range(std::span<const Scalar>(f.data() + first, static_cast<std::size_t>(len)), m.scale, stream, first, part);
    });
    GRADCODE_FUZZ_REQUIRE(r == outcome::ok, "quantize_range [%lld, %lld) threw %s", static_cast<long long>(first),
                          static_cast<long long>(first + len), fuzz::name(r));
  }
  GRADCODE_FUZZ_REQUIRE(words == m.words, "quantize_range in chunks of %lld differs from quantize",
                        static_cast<long long>(chunk));
  // Misaligned or out-of-range chunks are invalid_input.
  const Index bad_first = 1 + in.byte() % 63;
  std::vector<std::uint64_t> one(1);
  const auto r = fuzz::attempt([&] {
    q.quantize_range(std::span<const Scalar>(f.data(), static_cast<std::size_t>(std::min<Index>(w, 1))), m.scale, stream,
                     bad_first, one);
  });
  GRADCODE_FUZZ_REQUIRE(r == outcome::invalid_input, "quantize_range at first = %lld gave %s", static_cast<long long>(bad_first),
                        fuzz::name(r));
}

/// Accumulates messages built directly from the input (valid or not) into `out`.
template <class Scalar>
void run_accumulate(input& in) {
  const Index w = in.pick(1, 200);
  const one_bit_quantizer<Scalar> q({w, 3});
  const Index count = in.pick(1, 6);
  using bits = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
  std::vector<one_bit_vector<Scalar>> messages(static_cast<std::size_t>(count));
  bool all_valid = true;
  for (auto& m : messages) {
    const auto how = in.byte();
    m.length = how >= 250 ? w + 1 : w;
    m.words.assign(static_cast<std::size_t>(how >= 246 && how < 250 ? q.word_count() + 1 : q.word_count()), 0);
    for (auto& word : m.words)
      for (int b = 0; b < 8; ++b) word = word << 8 | in.tail_byte();
    if (!(how & 1u) && w % 64 != 0) m.words.back() &= (std::uint64_t{1} << (w % 64)) - 1;  // usually clean padding
    // The scale: raw bits sometimes (NaN, Inf, negative, subnormal), else a moderate or top-of-range value.
    const auto sb = in.byte();
    if (sb >= 224) {
      m.scale = std::bit_cast<Scalar>(in.tail_bits<bits>());
    } else {
      const int top = std::numeric_limits<Scalar>::max_exponent - 1;
      const int x = sb >= 160 ? top - sb % 4 : sb % 41 - 20;
      m.scale = static_cast<Scalar>(std::ldexp(1.0L + in.tail_byte() / 256.0L, x));
    }
    const bool valid = m.length == w && static_cast<Index>(m.words.size()) == q.word_count() && std::isfinite(m.scale) &&
                       m.scale >= 0 && (w % 64 == 0 || (m.words.back() >> (w % 64)) == 0);
    all_valid = all_valid && valid;
    if (valid) {  // dequantize is exact: ±‖f‖
      vector<Scalar> d;
      const auto got = fuzz::attempt([&] { d = q.dequantize(m); });
      GRADCODE_FUZZ_REQUIRE(got == outcome::ok, "dequantize of a well-formed message threw %s", fuzz::name(got));
      for (Index k = 0; k < w; ++k)
        GRADCODE_FUZZ_REQUIRE(d[k] == static_cast<Scalar>(m.sign(k)) * m.scale, "dequantize coordinate %lld",
                              static_cast<long long>(k));
    } else {
      const auto got = fuzz::attempt([&] { q.check_message(m, 0); });
      GRADCODE_FUZZ_REQUIRE(got == outcome::invalid_input, "check_message of a malformed message gave %s", fuzz::name(got));
    }
  }
  vector<Scalar> out(w);
  const Index e0 = in.byte() % 41 - 20;
  for (Index k = 0; k < w; ++k)
    out[k] = static_cast<Scalar>(std::ldexp(static_cast<double>(static_cast<std::int8_t>(in.tail_byte())), static_cast<int>(e0)));
  const vector<Scalar> before = out;
  std::string what;
  const auto got = fuzz::attempt([&] { q.accumulate(std::span<const one_bit_vector<Scalar>>(messages), out); }, &what);
  // The exact result, and whether any running sum leaves Scalar's range.
  const real top = static_cast<real>(std::numeric_limits<Scalar>::max());
  bool overflow = false;
  std::vector<real> exact(static_cast<std::size_t>(w)), magnitude(static_cast<std::size_t>(w));
  for (Index k = 0; k < w && all_valid; ++k) {
    real s = static_cast<real>(before[k]), mag = std::fabs(s);
    for (const auto& m : messages) {
      s += m.sign(k) * static_cast<real>(m.scale);
      mag += static_cast<real>(m.scale);
      if (std::fabs(s) >= top * (1 - 4 * static_cast<real>(count) * fuzz::epsilon<Scalar>())) overflow = true;
    }
    exact[static_cast<std::size_t>(k)] = s;
    magnitude[static_cast<std::size_t>(k)] = mag;
  }
  if (got == outcome::invalid_input) {
    GRADCODE_FUZZ_REQUIRE(!all_valid || overflow, "accumulate refused well-formed messages whose sum fits: %s", what.c_str());
    return;
  }
  GRADCODE_FUZZ_REQUIRE(got == outcome::ok, "accumulate threw %s: %s", fuzz::name(got), what.c_str());
  GRADCODE_FUZZ_REQUIRE(all_valid, "accumulate accepted a malformed message");
  GRADCODE_FUZZ_REQUIRE(fuzz::all_finite(out.data(), w), "accumulate of %lld well-formed messages returned a non-finite sum",
                        static_cast<long long>(count));
  for (Index k = 0; k < w; ++k) {
    const real diff = std::fabs(static_cast<real>(out[k]) - exact[static_cast<std::size_t>(k)]);
    GRADCODE_FUZZ_REQUIRE(diff <= static_cast<real>(count + 1) * fuzz::epsilon<Scalar>() * magnitude[static_cast<std::size_t>(k)],
                          "accumulate coordinate %lld: %.9g, exact %.9Lg", static_cast<long long>(k), static_cast<double>(out[k]),
                          exact[static_cast<std::size_t>(k)]);
  }
  // The single-message overload with a weight from the input (non-finite → invalid_input).
  const Scalar weight = std::bit_cast<Scalar>(in.tail_bits<bits>());
  vector<Scalar> one = vector<Scalar>::Zero(w);
  const auto single = fuzz::attempt([&] { q.accumulate(messages[0], weight, one); });
  if (!std::isfinite(weight))
    GRADCODE_FUZZ_REQUIRE(single == outcome::invalid_input, "accumulate with weight %g gave %s", static_cast<double>(weight),
                          fuzz::name(single));
  else if (single == outcome::ok)
    GRADCODE_FUZZ_REQUIRE(fuzz::all_finite(one.data(), w), "accumulate(h, %g) returned a non-finite result",
                          static_cast<double>(weight));
  else
    GRADCODE_FUZZ_REQUIRE(single == outcome::invalid_input, "accumulate(h, weight) threw %s", fuzz::name(single));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const auto head = in.byte();
  const bool single = head & 1u;
  switch (head >> 1 & 3u) {
    case 0:
    case 1:
      if (single)
        run_parse<float>(in);
      else
        run_parse<double>(in);
      break;
    case 2:
      if (single)
        run_quantize<float>(in);
      else
        run_quantize<double>(in);
      break;
    default:
      if (single)
        run_accumulate<float>(in);
      else
        run_accumulate<double>(in);
      break;
  }
  return 0;
}
