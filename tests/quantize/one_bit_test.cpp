// SPDX-License-Identifier: MIT
// one_bit_quantizer<Scalar>: li-skoglund eq. (6) — quantize against the scalar reference and in
// chunks, unbiasedness and variance of Q (statistical, fixed seeds), zero/tiny/huge vectors,
// dequantize/accumulate against the dense oracle, and every error path. The kernels alone:
// one_bit_kernels_test.cpp; the message's bytes: one_bit_wire_test.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gradcode/quantize/one_bit.hpp>
#include <gradcode/quantize/one_bit_kernels.hpp>

#include "test_support.hpp"

using gradcode::draw_stream;
using gradcode::Index;
using gradcode::one_bit_quantizer;
using gradcode::one_bit_vector;
using gradcode::vector;

namespace {
using gradcode::test::what_contains;

/// Exception matcher: what() contains `part` (Catch2 2.x string matchers do not apply to exceptions).
template <class T>
vector<T> random_vector(Index w, std::uint64_t seed, double spread = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, spread);
  vector<T> x(w);
  for (Index k = 0; k < w; ++k) x[k] = static_cast<T>(normal(rng));
  return x;
}

template <class T>
std::vector<std::uint64_t> reference_bits(const one_bit_quantizer<T>& q, const vector<T>& f, draw_stream s) {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(q.word_count()));
  const T norm = static_cast<T>(f.template cast<double>().norm());
  gradcode::detail::quantize_reference<T>(f.data(), f.size(), static_cast<T>(2147483648.0) / norm, q.rng(s).key(), 0, out.data());
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE(
    "one_bit: quantize equals the reference, and quantize_range over 64-aligned chunks in any order gives the same bits",
    "[one_bit][parallel]", float, double) {
  using T = TestType;
  const Index w = 1000;
  const one_bit_quantizer<T> q({.length = w, .seed = 77});
  const vector<T> f = random_vector<T>(w, 5);
  const draw_stream s{.worker = 3, .iteration = 41};
  const auto whole = q.quantize(f, s);
  CHECK(whole.words == reference_bits(q, f, s));
  std::vector<std::uint64_t> pieces(whole.words.size(), 0);
  const std::vector<std::pair<Index, Index>> chunks{
      {512, 384}, {0, 128}, {896, 104}, {128, 384}};  // (first, length), out of order
  for (const auto& [first, len] : chunks) {
    q.quantize_range(std::span<const T>(f.data() + first, static_cast<std::size_t>(len)), whole.scale, s, first,
                     std::span<std::uint64_t>(pieces.data() + first / 64, static_cast<std::size_t>((len + 63) / 64)));
  }
  CHECK(pieces == whole.words);
}

TEST_CASE("one_bit: the same (seed, worker, iteration) reproduces the bits, another worker, iteration or seed changes them",
          "[one_bit][streams]") {
  const Index w = 256;
  const vector<double> f = vector<double>::Zero(w).array() + 0.01;  // P(+1) ≈ ½ per coordinate
  const one_bit_quantizer<double> q({.length = w, .seed = 1}), other_seed({.length = w, .seed = 2});
  const auto a = q.quantize(f, {.worker = 4, .iteration = 9});
  CHECK(a.words == q.quantize(f, {.worker = 4, .iteration = 9}).words);
  CHECK(a.words != q.quantize(f, {.worker = 5, .iteration = 9}).words);
  CHECK(a.words != q.quantize(f, {.worker = 4, .iteration = 10}).words);
  CHECK(a.words != other_seed.quantize(f, {.worker = 4, .iteration = 9}).words);
}

TEMPLATE_TEST_CASE("one_bit: Q is unbiased per coordinate within 4 sigma over 20000 draws", "[one_bit][statistical]", float,
                   double) {
  using T = TestType;
  const Index w = 64;
  const one_bit_quantizer<T> q({.length = w, .seed = 20240601});
  vector<T> f = random_vector<T>(w, 11);
  f[0] = 0;                   // P(+1) = ½
  f[1] = static_cast<T>(40);  // dominant coordinate: P(+1) close to 1
  constexpr int N = 20000;
  std::vector<double> sum(static_cast<std::size_t>(w), 0.0);
  vector<T> deq(w);
  double scale = 0;
  for (int t = 0; t < N; ++t) {
    const auto h = q.quantize(f, {.worker = 0, .iteration = static_cast<std::uint64_t>(t)});
    q.dequantize(h, deq);
    scale = static_cast<double>(h.scale);
    for (Index k = 0; k < w; ++k) sum[static_cast<std::size_t>(k)] += static_cast<double>(deq[k]);
  }
  double worst = 0;
  for (Index k = 0; k < w; ++k) {
    const double fk = static_cast<double>(f[k]), mean = sum[static_cast<std::size_t>(k)] / N;
    const double sigma = std::sqrt(std::max(scale * scale - fk * fk, 0.0) / N);  // Var(‖f‖h_k) = ‖f‖² − f_k²
    const double z = sigma > 0 ? std::abs(mean - fk) / sigma : 0.0;
    worst = std::max(worst, z);
    INFO("coordinate " << k << ": f_k = " << fk << ", mean of ‖f‖h_k = " << mean << ", " << z << " sigma");
    CHECK(std::abs(mean - fk) <= 4 * sigma + 1e-6 * scale);
  }
  WARN("one_bit<" << (sizeof(T) == 4 ? "float" : "double") << ">: worst |bias| over 64 coordinates = " << worst << " sigma");
}

TEST_CASE("one_bit: E‖ ‖f‖h − f ‖² = (w − 1)‖f‖² (the j1 = j2 term of Appendix A) within 4 sigma", "[one_bit][statistical]") {
  const Index w = 100;
  const one_bit_quantizer<double> q({.length = w, .seed = 3});
  const vector<double> f = random_vector<double>(w, 8, 2.0);
  constexpr int N = 20000;
  double sum = 0, sum2 = 0;
  for (int t = 0; t < N; ++t) {
    const double e = (q.dequantize(q.quantize(f, {.worker = 1, .iteration = static_cast<std::uint64_t>(t)})) - f).squaredNorm();
    sum += e;
    sum2 += e * e;
  }
  const double mean = sum / N, sd = std::sqrt((sum2 / N - mean * mean) / N),
               expect = static_cast<double>(w - 1) * f.squaredNorm();
  INFO("mean " << mean << ", expected " << expect << ", sd of the mean " << sd);
  CHECK(std::abs(mean - expect) <= 4 * sd);
}

TEST_CASE("one_bit: a vector with one nonzero entry sends that entry's sign always and fair coins elsewhere", "[one_bit][edge]") {
  const Index w = 128;
  const one_bit_quantizer<double> q({.length = w, .seed = 5});
  vector<double> f = vector<double>::Zero(w);
  f[70] = -3.5;
  int ones_elsewhere = 0;
  for (std::uint64_t t = 0; t < 200; ++t) {
    const auto h = q.quantize(f, {.worker = 0, .iteration = t});
    CHECK(h.scale == 3.5);
    CHECK(h.sign(70) == -1);
    for (Index k = 0; k < w; ++k)
      if (k != 70) ones_elsewhere += h.sign(k) > 0;
  }
  const double n = 200.0 * 127;
  CHECK(std::abs(ones_elsewhere - n / 2) <= 4 * std::sqrt(n / 4));
}

TEMPLATE_TEST_CASE("one_bit: the zero vector gives scale 0 and all-zero bits, and dequantizes to exact zeros", "[one_bit][edge]",
                   float, double) {
  using T = TestType;
  const one_bit_quantizer<T> q({.length = 130, .seed = 1});
  const auto h = q.quantize(vector<T>::Zero(130), {.worker = 2, .iteration = 3});
  CHECK(h.scale == T(0));
  for (auto word : h.words) CHECK(word == 0);
  const vector<T> d = q.dequantize(h);
  CHECK(d.allFinite());
  CHECK(d.isZero(0));
  CHECK(q.from_wire(q.to_wire(h)).words == h.words);
}

TEST_CASE("one_bit: subnormal float entries and 1e300 doubles keep a finite norm and unbiased signs",
          "[one_bit][edge][statistical]") {
  {  // 2³¹/‖f‖ overflows float: the division path. f = (a, −a, 0, …), P(h_0 = +1) = ½ + ½/√2.
    const one_bit_quantizer<float> q({.length = 8, .seed = 9});
    vector<float> f = vector<float>::Zero(8);
    f[0] = 1e-44f;
    f[1] = -1e-44f;
    int plus0 = 0, plus1 = 0, plus2 = 0;
    constexpr int N = 4000;
    for (int t = 0; t < N; ++t) {
      const auto h = q.quantize(f, {.worker = 0, .iteration = static_cast<std::uint64_t>(t)});
      REQUIRE(h.scale > 0);
      REQUIRE(std::isfinite(h.scale));
      plus0 += h.sign(0) > 0;
      plus1 += h.sign(1) > 0;
      plus2 += h.sign(2) > 0;
    }
    const double p = 0.5 + 0.5 / std::sqrt(2.0), sd = std::sqrt(N * p * (1 - p));
    CHECK(std::abs(plus0 - N * p) <= 4 * sd);
    CHECK(std::abs(plus1 - N * (1 - p)) <= 4 * sd);
    CHECK(std::abs(plus2 - N * 0.5) <= 4 * std::sqrt(N * 0.25));
  }
  {  // Σ f_k² overflows double: the scaled norm
    const one_bit_quantizer<double> q({.length = 4, .seed = 9});
    vector<double> f(4);
    f << 1e300, -1e300, 1e300, 0;
    const auto h = q.quantize(f, {});
    CHECK(h.scale == Approx(std::sqrt(3.0) * 1e300));
  }
}

TEMPLATE_TEST_CASE("one_bit: dequantize and accumulate equal the dense oracle ‖f‖·h, one message or many, bit for bit",
                   "[one_bit][oracle]", float, double) {
  using T = TestType;
  for (Index w : {1, 63, 64, 100, 1001, 9000}) {  // 9000: accumulate's 4096-coordinate blocks
    INFO("w = " << w);
    const one_bit_quantizer<T> q({.length = w, .seed = 4});
    std::vector<one_bit_vector<T>> msgs;
    for (std::uint64_t j = 0; j < 5; ++j) msgs.push_back(q.quantize(random_vector<T>(w, 100 + j), {.worker = j}));
    vector<T> oracle = random_vector<T>(w, 1), got = oracle, single = oracle;
    for (const auto& h : msgs)
      for (Index k = 0; k < w; ++k) oracle[k] += h.sign(k) > 0 ? h.scale : -h.scale;
    q.accumulate(std::span<const one_bit_vector<T>>(msgs), got);
    CHECK(got == oracle);
    for (const auto& h : msgs) q.accumulate(h, h.scale, single);
    CHECK(single == oracle);
    vector<T> deq = q.dequantize(msgs[0]);
    for (Index k = 0; k < w; ++k) CHECK(deq[k] == static_cast<T>(msgs[0].sign(k)) * msgs[0].scale);
  }
}

TEST_CASE("one_bit: ρ = w + ζ is 164 bits at w = 100 in double (li-skoglund §V-A) and 132 in float, wire bytes ζ/8 + ⌈w/8⌉",
          "[one_bit][kat]") {
  const one_bit_quantizer<double> d({.length = 100});
  const one_bit_quantizer<float> f({.length = 100});
  CHECK(d.bits_per_message() == 164);
  CHECK(f.bits_per_message() == 132);
  CHECK(d.wire_bytes() == 8 + 13);
  CHECK(f.wire_bytes() == 4 + 13);
  CHECK(d.word_count() == 2);
}

TEST_CASE("one_bit: NaN/Inf in f, wrong lengths and bad word counts throw invalid_input naming the worker", "[one_bit][errors]") {
  const one_bit_quantizer<float> q({.length = 100});
  vector<float> f = vector<float>::Ones(100);
  f[37] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_MATCHES(q.quantize(f, {.worker = 6}), gradcode::invalid_input,
                       what_contains("coordinate 37") && what_contains("node 6"));
  f[37] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(q.quantize(f, {.worker = 6}), gradcode::invalid_input);
  CHECK_THROWS_MATCHES(q.quantize(vector<float>::Ones(99), {.worker = 2}), gradcode::invalid_input, what_contains("w = 100"));
  std::vector<std::uint64_t> words(1);
  CHECK_THROWS_MATCHES(q.quantize(vector<float>::Ones(100), {}, std::span<std::uint64_t>(words)), gradcode::invalid_input,
                       what_contains("needs 2"));
  vector<float> big = vector<float>::Constant(100, 3e38f);  // ‖f‖ = 3e39 does not fit in binary32
  CHECK_THROWS_MATCHES(q.quantize(big, {}), gradcode::invalid_input, what_contains("32-bit norm"));
  std::vector<std::uint64_t> two(2);
  CHECK_THROWS_AS(
      q.quantize_range(std::span<const float>(f.data() + 10, 20), 1.0f, {}, 10, std::span<std::uint64_t>(two.data(), 1)),
      gradcode::invalid_input);
  one_bit_vector<float> h{.length = 100, .scale = 1.0f, .words = {0, 1ULL << 40}};  // bit 104 ≥ w
  vector<float> out(100);
  CHECK_THROWS_MATCHES(q.dequantize(h, out), gradcode::invalid_input, what_contains("past w"));
  h.words[1] = 0;
  h.scale = -1;
  CHECK_THROWS_AS(q.dequantize(h, out), gradcode::invalid_input);
  h.scale = 1;
  vector<float> wrong(50);
  CHECK_THROWS_AS(q.dequantize(h, wrong), gradcode::invalid_input);
  CHECK_THROWS_AS(q.accumulate(h, std::numeric_limits<float>::infinity(), out), gradcode::invalid_input);
}

TEST_CASE("one_bit: w < 1 throws invalid_parameters", "[one_bit][errors]") {
  CHECK_THROWS_MATCHES(one_bit_quantizer<double>({.length = 0}), gradcode::invalid_parameters, what_contains("need w >= 1"));
}

TEST_CASE(
    "one_bit: a double vector of subnormal entries sends its exact norm and the signs of its 2^1100-scaled copy, not the zero "
    "message",
    "[one_bit][edge][extreme]") {
  const Index w = 200;
  const one_bit_quantizer<double> q({.length = w, .seed = 21});
  // x_k ∈ {0, ±3u, ±4u}, u = 2^−1074: ‖f‖ = 10u exactly, and every square flushes to 0 (Eigen's
  // blueNorm, the fallback before, returned ‖f‖ = 0: the zero message).
  const double u = std::numeric_limits<double>::denorm_min();
  vector<double> f = vector<double>::Zero(w);
  for (Index k = 0; k < 8; ++k) f[25 * k + 1] = (k % 2 ? -1 : 1) * (k < 4 ? 3 : 4) * u;
  const vector<double> big = f.unaryExpr([](double x) { return std::ldexp(x, 1100); });  // exact: normal, same ratios
  for (std::uint64_t t = 0; t < 5; ++t) {
    INFO("iteration " << t);
    const auto h = q.quantize(f, {.worker = 3, .iteration = t});
    const auto H = q.quantize(big, {.worker = 3, .iteration = t});
    CHECK(h.scale == 10 * u);
    CHECK(H.scale == std::ldexp(10 * u, 1100));
    CHECK(h.words == H.words);
  }
  // The smallest positive double alone: ‖f‖ = 2^−1074 and h_3 = +1 (P = 1 − 2^−32).
  vector<double> tiny = vector<double>::Zero(w);
  tiny[3] = std::numeric_limits<double>::denorm_min();
  const auto h = q.quantize(tiny, {.worker = 1});
  CHECK(h.scale == std::numeric_limits<double>::denorm_min());
  CHECK(h.sign(3) == 1);
  CHECK(q.dequantize(h)[3] == std::numeric_limits<double>::denorm_min());
}

TEMPLATE_TEST_CASE(
    "one_bit: accumulating valid messages whose norms sum past the Scalar range throws invalid_input naming the message and "
    "coordinate",
    "[one_bit][errors][extreme]", float, double) {
  using T = TestType;
  // w = 1 and f = (0.6·max): ‖f‖ = 0.6·max is finite, h_0 = +1 (P = 1 − 2⁻³² in double, 1 − 2⁻²⁵
  // in float), so every message adds +0.6·max and the second one leaves the range.
  const one_bit_quantizer<T> q({.length = 1, .seed = 2});
  const T scale = std::numeric_limits<T>::max() / 4 * T(2.4);
  const vector<T> f = vector<T>::Constant(1, scale);
  std::vector<one_bit_vector<T>> msgs;
  for (std::uint64_t j = 0; j < 3; ++j) msgs.push_back(q.quantize(f, {.worker = j}));
  REQUIRE(msgs[0].scale == scale);
  for (const auto& h : msgs) REQUIRE(h.sign(0) == 1);
  vector<T> out = vector<T>::Zero(1);
  CHECK_THROWS_MATCHES(q.accumulate(std::span<const one_bit_vector<T>>(msgs), out), gradcode::invalid_input,
                       what_contains("overflows") && what_contains("coordinate 0") && what_contains("(node 1)"));
  CHECK(out[0] == 0);  // the overflowing block is restored (w = 1: all of out)
  out[0] = scale;
  CHECK_THROWS_MATCHES(q.accumulate(msgs[0], msgs[0].scale, out), gradcode::invalid_input, what_contains("overflows"));
  CHECK(out[0] == scale);
  // One message fits, and opposite signs cancel: no false alarm.
  out.setZero();
  q.accumulate(std::span<const one_bit_vector<T>>(msgs.data(), 1), out);
  CHECK(out[0] == scale);
  q.accumulate(msgs[1], -msgs[1].scale, out);
  CHECK(out[0] == 0);
  // Past the first 4096-coordinate block: only coordinate 4500 (which starts at 0.6·max) overflows.
  const one_bit_quantizer<T> wide({.length = 5000, .seed = 2});
  vector<T> fw = vector<T>::Zero(5000);
  fw[4500] = scale;
  const auto hw = wide.quantize(fw, {.worker = 9});
  REQUIRE(hw.sign(4500) == 1);
  vector<T> acc = vector<T>::Zero(5000);
  acc[4500] = scale;
  CHECK_THROWS_MATCHES(wide.accumulate(hw, hw.scale, acc), gradcode::invalid_input, what_contains("coordinate 4500"));
  // A NaN/Inf the caller put in out stays NaN/Inf (as with any +=); it neither hides an overflow
  // elsewhere nor is reported as one.
  vector<T> two(2);
  const one_bit_quantizer<T> q2({.length = 2, .seed = 2});
  vector<T> f2(2);
  f2 << scale, T(0);
  const auto h2 = q2.quantize(f2, {});
  REQUIRE(h2.sign(0) == 1);
  two << scale, std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_MATCHES(q2.accumulate(h2, h2.scale, two), gradcode::invalid_input, what_contains("coordinate 0"));
  two << T(1), std::numeric_limits<T>::infinity();
  q2.accumulate(h2, h2.scale, two);
  CHECK(two[0] == T(1) + h2.scale);
  CHECK(std::isinf(two[1]));
}

TEST_CASE("one_bit: quantize_range with first near 2^63 throws invalid_input before forming first + len",
          "[one_bit][errors][extreme]") {
  const one_bit_quantizer<double> q({.length = 128});
  const vector<double> f = vector<double>::Ones(128);
  std::vector<std::uint64_t> words(1);
  const Index first = std::numeric_limits<Index>::max() / 64 * 64;  // a multiple of 64; first + 64 overflows
  CHECK_THROWS_MATCHES(q.quantize_range(std::span<const double>(f.data(), 64), 1.0, {.worker = 4}, first, words),
                       gradcode::invalid_input, what_contains("must start at a multiple of 64 and lie in [0, w = 128)"));
  CHECK_THROWS_AS(q.quantize_range(std::span<const double>(f.data(), 64), 1.0, {}, 128, words), gradcode::invalid_input);
  CHECK_NOTHROW(q.quantize_range(std::span<const double>(f.data() + 64, 64), 1.0, {}, 64, words));
}

TEST_CASE(
    "one_bit: w beyond 2^57, sign() outside [0, w) and a malformed message to dequantize at w = 2^50 throw typed errors, never "
    "bad_alloc",
    "[one_bit][errors][extreme]") {
  CHECK_THROWS_MATCHES(one_bit_quantizer<float>({.length = std::numeric_limits<Index>::max()}), gradcode::invalid_parameters,
                       what_contains("exceeds"));
  CHECK_NOTHROW(one_bit_quantizer<float>({.length = one_bit_quantizer<float>::max_length}));
  const one_bit_quantizer<float> q({.length = 100});
  const auto h = q.quantize(vector<float>::Ones(100), {});
  CHECK_THROWS_AS(h.sign(100), gradcode::invalid_input);
  CHECK_THROWS_AS(h.sign(-1), gradcode::invalid_input);
  // The convenience dequantize allocated w entries before looking at the message.
  const one_bit_quantizer<float> huge({.length = Index{1} << 50});
  CHECK_THROWS_AS(huge.dequantize(one_bit_vector<float>{}), gradcode::invalid_input);
}
