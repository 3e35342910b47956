// SPDX-License-Identifier: MIT
// quantize/one_bit_wire.hpp through one_bit_quantizer::to_wire / from_wire: the byte layout of a
// 1-bit message of li-skoglund §III (known bytes), round trips into an owning one_bit_vector and
// into caller storage (one_bit_view), malformed buffers (typed errors naming the node), fuzz.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <random>
#include <span>
#include <vector>

#include <gradcode/quantize/one_bit.hpp>
#include <gradcode/quantize/one_bit_wire.hpp>

#include "test_support.hpp"

using gradcode::Index;
using gradcode::one_bit_quantizer;
using gradcode::one_bit_vector;
using gradcode::one_bit_view;
using gradcode::vector;

namespace wire_test {  // named: the area compiles as one translation unit
using gradcode::test::what_contains;

template <class T>
vector<T> random_vector(Index w, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  vector<T> x(w);
  for (Index k = 0; k < w; ++k) x[k] = static_cast<T>(normal(rng));
  return x;
}

std::vector<std::byte> bytes(std::initializer_list<unsigned> v) {
  std::vector<std::byte> out;
  for (auto b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

}  // namespace wire_test

TEST_CASE("one_bit: the wire format is little-endian ‖f‖ then LSB-first sign bytes (known bytes for w = 10)",
          "[one_bit][wire][kat]") {
  one_bit_vector<double> h{.length = 10, .scale = 1.0, .words = {0x205}};  // h_0 = h_2 = h_9 = +1
  const one_bit_quantizer<double> qd({.length = 10});
  CHECK(qd.to_wire(h) == wire_test::bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x05, 0x02}));
  one_bit_vector<float> hf{.length = 10, .scale = 1.0f, .words = {0x205}};
  const one_bit_quantizer<float> qf({.length = 10});
  CHECK(qf.to_wire(hf) == wire_test::bytes({0x00, 0x00, 0x80, 0x3f, 0x05, 0x02}));
  const auto back = qf.from_wire(wire_test::bytes({0x00, 0x00, 0x80, 0x3f, 0x05, 0x02}));
  CHECK(back.scale == 1.0f);
  CHECK(back.words == std::vector<std::uint64_t>{0x205});
  CHECK(back.sign(0) == 1);
  CHECK(back.sign(1) == -1);
  CHECK(back.sign(9) == 1);
}

TEMPLATE_TEST_CASE("one_bit: to_wire then from_wire returns the message for w in {1, 7, 8, 9, 63, 64, 65, 1000}",
                   "[one_bit][wire]", float, double) {
  using T = TestType;
  for (Index w : {1, 7, 8, 9, 63, 64, 65, 1000}) {
    INFO("w = " << w);
    const one_bit_quantizer<T> q({.length = w, .seed = 12});
    const auto h = q.quantize(wire_test::random_vector<T>(w, static_cast<std::uint64_t>(w)), {.worker = 1, .iteration = 2});
    const auto wire = q.to_wire(h);
    CHECK(wire.size() == q.wire_bytes());
    const auto back = q.from_wire(wire, 1);
    CHECK(back.scale == h.scale);
    CHECK(back.words == h.words);
    CHECK(back.length == w);
  }
}

TEST_CASE("one_bit: malformed wire buffers throw invalid_input naming the node", "[one_bit][wire][errors]") {
  const one_bit_quantizer<double> q({.length = 10});
  const auto good = wire_test::bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x05, 0x02});
  CHECK_NOTHROW(q.from_wire(good, 7));
  auto bad = good;
  bad.pop_back();
  CHECK_THROWS_MATCHES(q.from_wire(bad, 7), gradcode::invalid_input,
                       wire_test::what_contains("node 7") && wire_test::what_contains("has 9 bytes, expected 10"));
  bad = good;
  bad.push_back(std::byte{0});
  CHECK_THROWS_AS(q.from_wire(bad, 7), gradcode::invalid_input);
  bad = good;
  bad[9] = std::byte{0x06};  // bit 10 > w = 10 is padding
  CHECK_THROWS_MATCHES(q.from_wire(bad, 7), gradcode::invalid_input, wire_test::what_contains("padding"));
  bad = good;
  bad[7] = std::byte{0x7f};  // exponent all ones: NaN
  bad[6] = std::byte{0xf8};
  CHECK_THROWS_MATCHES(q.from_wire(bad, 7), gradcode::invalid_input, wire_test::what_contains("finite"));
  bad = good;
  bad[7] = std::byte{0xbf};  // −1.0
  CHECK_THROWS_AS(q.from_wire(bad, 7), gradcode::invalid_input);
  bad = wire_test::bytes({0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0});  // −0.0
  CHECK_THROWS_AS(q.from_wire(bad, 7), gradcode::invalid_input);
  bad = wire_test::bytes({0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0});  // ‖f‖ = 0 with a sign bit set
  CHECK_THROWS_MATCHES(q.from_wire(bad, 7), gradcode::invalid_input, wire_test::what_contains("canonical"));
  try {
    q.from_wire(wire_test::bytes({1, 2, 3}), 5);
    FAIL("no throw");
  } catch (const gradcode::invalid_input& e) {
    CHECK(e.node() == 5);
  }
  one_bit_vector<double> h{.length = 10, .scale = 1.0, .words = {0x205}};
  std::vector<std::byte> small(9);
  CHECK_THROWS_AS(q.to_wire(h, small), gradcode::invalid_input);
}

TEST_CASE(
    "one_bit: 20000 random buffers parse or throw invalid_input, never anything else, and accepted ones re-serialise identically",
    "[one_bit][wire][fuzz]") {
  std::mt19937_64 rng(31337);
  int accepted = 0;
  for (int t = 0; t < 20000; ++t) {
    const Index w = 1 + static_cast<Index>(rng() % 70);
    const one_bit_quantizer<float> q({.length = w});
    std::size_t len = q.wire_bytes();
    if (rng() % 4 == 0) len = rng() % (q.wire_bytes() + 3);  // wrong lengths too
    std::vector<std::byte> buf(len);
    for (auto& b : buf) b = static_cast<std::byte>(rng() & 0xff);
    if (len == q.wire_bytes() && len > 4 && rng() % 2) {  // a plausible norm and clean padding half the time
      const float norm = static_cast<float>(rng() % 1000) / 7.0f;
      std::memcpy(buf.data(), &norm, 4);
      if (w % 8) buf.back() = static_cast<std::byte>(std::to_integer<unsigned>(buf.back()) & ((1u << (w % 8)) - 1));
    }
    try {
      const auto h = q.from_wire(buf);
      ++accepted;
      REQUIRE(q.to_wire(h) == buf);
    } catch (const gradcode::invalid_input&) {
    }
  }
  INFO("accepted " << accepted);
  CHECK(accepted > 1000);
}

TEMPLATE_TEST_CASE(
    "one_bit: from_wire into caller storage returns a view equal to the message bit for bit and re-serialises to the same bytes "
    "(w in {1, 7, 63, 64, 65, 1000})",
    "[one_bit][wire][view]", float, double) {
  using T = TestType;
  for (Index w : {1, 7, 63, 64, 65, 1000}) {
    INFO("w = " << w);
    const one_bit_quantizer<T> q({.length = w, .seed = 5});
    const auto h = q.quantize(wire_test::random_vector<T>(w, static_cast<std::uint64_t>(w) + 1), {.worker = 2, .iteration = 7});
    const auto wire = q.to_wire(h);
    std::vector<std::uint64_t> storage(static_cast<std::size_t>(q.word_count()), ~0ULL);  // stale bits must not survive
    const one_bit_view<T> v = q.from_wire(wire, std::span<std::uint64_t>(storage), 2);
    CHECK(v.words.data() == storage.data());  // a view over the caller's words, no copy of its own
    CHECK(v.length == w);
    CHECK(std::memcmp(&v.scale, &h.scale, sizeof(T)) == 0);
    CHECK(storage == h.words);
    for (Index k = 0; k < w; ++k) REQUIRE(v.sign(k) == h.sign(k));
    CHECK(q.to_wire(v) == wire);
    CHECK(q.dequantize(v) == q.dequantize(h));
    one_bit_vector<T> reused{.length = 0, .scale = 0, .words = std::vector<std::uint64_t>(64, ~0ULL)};
    q.from_wire(wire, reused, 2);  // the owning overload reuses `words`
    CHECK(reused.words == h.words);
    CHECK(reused.length == w);
  }
}

TEST_CASE(
    "one_bit: from_wire into caller storage throws invalid_input naming the node on a wrong length, word count or overlap and "
    "leaves the storage untouched",
    "[one_bit][wire][view][errors]") {
  const one_bit_quantizer<double> q({.length = 10});
  const auto good = wire_test::bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x05, 0x02});
  std::vector<std::uint64_t> storage{0xdeadbeefULL};
  auto short_buf = good;
  short_buf.pop_back();
  CHECK_THROWS_MATCHES(q.from_wire(short_buf, std::span<std::uint64_t>(storage), 7), gradcode::invalid_input,
                       wire_test::what_contains("node 7") && wire_test::what_contains("has 9 bytes, expected 10"));
  auto long_buf = good;
  long_buf.push_back(std::byte{0});
  try {
    (void)q.from_wire(long_buf, std::span<std::uint64_t>(storage), 3);
    FAIL("no throw");
  } catch (const gradcode::invalid_input& e) {
    CHECK(e.node() == 3);
  }
  auto padded = good;
  padded[9] = std::byte{0x06};  // bit 10 ≥ w
  CHECK_THROWS_MATCHES(q.from_wire(padded, std::span<std::uint64_t>(storage), 7), gradcode::invalid_input,
                       wire_test::what_contains("padding"));
  CHECK(storage == std::vector<std::uint64_t>{0xdeadbeefULL});  // untouched by every refusal
  std::vector<std::uint64_t> two(2);
  CHECK_THROWS_MATCHES(q.from_wire(good, std::span<std::uint64_t>(two), 7), gradcode::invalid_input,
                       wire_test::what_contains("2 words of storage") && wire_test::what_contains("needs 1"));
  std::vector<std::uint64_t> both(3);  // the message's bytes inside the storage it is parsed into
  std::memcpy(both.data(), good.data(), good.size());
  CHECK_THROWS_MATCHES(
      q.from_wire(std::as_bytes(std::span<const std::uint64_t>(both)).first(10), std::span<std::uint64_t>(both.data() + 1, 1), 7),
      gradcode::invalid_input, wire_test::what_contains("overlaps"));
  const auto v = q.from_wire(good, std::span<std::uint64_t>(storage), 7);
  CHECK(v.scale == 1.0);
  CHECK(storage == std::vector<std::uint64_t>{0x205});
}
