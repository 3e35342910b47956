// SPDX-License-Identifier: MIT
// counter_rng: SplitMix64 known answers, stream separation, and uniformity of what the 1-bit
// quantizer, the straggler draws and the random placement consume (fixed seeds).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include <gradcode/quantize/counter_rng.hpp>

using gradcode::counter_engine;
using gradcode::counter_rng;
using gradcode::rng_domain;

TEST_CASE("counter_rng: draw c of key 0 is SplitMix64's (c+1)-th output from state 0 (known answers)", "[counter_rng][kat]") {
  // Vigna's splitmix64.c seeded with x = 0: 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f.
  const counter_rng rng(0);
  CHECK(rng(0) == 0xe220a8397b1dcdafULL);
  CHECK(rng(1) == 0x6e789e6aa1b965f4ULL);
  CHECK(rng(2) == 0x06c45d188009454fULL);
  // A stream key is a starting state: key k's draw c equals key (k + γ)'s draw c − 1.
  const counter_rng shifted(gradcode::detail::golden_gamma);
  CHECK(shifted(0) == rng(1));
  static_assert(counter_rng(0)(0) == 0xe220a8397b1dcdafULL, "usable in constant expressions");
}

TEST_CASE("counter_rng: equal (seed, domain, a, b) give equal streams, changing any one gives another",
          "[counter_rng][streams]") {
  const auto base = counter_rng::stream(7, rng_domain::quantizer, 3, 11);
  CHECK(base.key() == counter_rng::stream(7, rng_domain::quantizer, 3, 11).key());
  const std::vector<std::uint64_t> others{
      counter_rng::stream(8, rng_domain::quantizer, 3, 11).key(), counter_rng::stream(7, rng_domain::stragglers, 3, 11).key(),
      counter_rng::stream(7, rng_domain::quantizer, 4, 11).key(), counter_rng::stream(7, rng_domain::quantizer, 3, 12).key(),
      counter_rng::stream(7, rng_domain::quantizer, 11, 3).key()};
  for (auto k : others) CHECK(k != base.key());
  // 10^5 streams (a = worker, b = iteration) have distinct keys.
  std::vector<std::uint64_t> keys;
  for (std::uint64_t a = 0; a < 100; ++a)
    for (std::uint64_t b = 0; b < 1000; ++b) keys.push_back(counter_rng::stream(1, rng_domain::quantizer, a, b).key());
  std::sort(keys.begin(), keys.end());
  CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
}

TEST_CASE("counter_rng: uniform() has mean 1/2 and variance 1/12 within 4 sigma, each of the 64 bits is set half the time",
          "[counter_rng][statistical]") {
  const auto rng = counter_rng::stream(2024, rng_domain::user);
  constexpr int N = 1'000'000;
  double sum = 0, sum2 = 0;
  std::vector<int> ones(64, 0);
  for (int c = 0; c < N; ++c) {
    const double u = rng.uniform(static_cast<std::uint64_t>(c));
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum2 += u * u;
    const auto z = rng(static_cast<std::uint64_t>(c));
    for (int b = 0; b < 64; ++b) ones[static_cast<std::size_t>(b)] += static_cast<int>((z >> b) & 1u);
  }
  const double mean = sum / N, var = sum2 / N - mean * mean;
  INFO("mean " << mean << ", variance " << var);
  CHECK(std::abs(mean - 0.5) <= 4 * std::sqrt(1.0 / 12 / N));
  CHECK(std::abs(var - 1.0 / 12) <= 4 * std::sqrt(1.0 / 180 / N));  // Var(U²-ish): 1/180 for the variance estimator of U(0,1)
  for (int b = 0; b < 64; ++b) {
    INFO("bit " << b);
    CHECK(std::abs(ones[static_cast<std::size_t>(b)] - N / 2.0) <= 4 * std::sqrt(N / 4.0));
  }
}

TEST_CASE("counter_rng: neighbouring streams (worker j and j + 1) are uncorrelated within 4 sigma",
          "[counter_rng][statistical]") {
  constexpr int N = 200'000;
  for (std::uint64_t j : {0ULL, 1ULL, 99ULL}) {
    const auto a = counter_rng::stream(5, rng_domain::quantizer, j, 0),
               b = counter_rng::stream(5, rng_domain::quantizer, j + 1, 0);
    double s = 0;
    for (int c = 0; c < N; ++c)
      s += (a.uniform(static_cast<std::uint64_t>(c)) - 0.5) * (b.uniform(static_cast<std::uint64_t>(c)) - 0.5);
    INFO("worker " << j << ": mean product " << s / N);
    CHECK(std::abs(s / N) <= 4 * (1.0 / 12) / std::sqrt(N));
  }
}

TEST_CASE("counter_rng: below(bound) stays below bound and fills 10 bins evenly (chi-square, 9 dof, < 27.9 = p 0.001)",
          "[counter_rng][statistical]") {
  const auto rng = counter_rng::stream(3, rng_domain::placement, 1);
  constexpr int N = 100'000;
  std::vector<int> bins(10, 0);
  for (int c = 0; c < N; ++c) {
    const auto v = rng.below(static_cast<std::uint64_t>(c), 10);
    REQUIRE(v < 10);
    ++bins[v];
  }
  double chi2 = 0;
  for (int b : bins) chi2 += (b - N / 10.0) * (b - N / 10.0) / (N / 10.0);
  INFO("chi2 " << chi2);
  CHECK(chi2 < 27.9);
  CHECK(rng.below(0, 0) == 0);
  CHECK(rng.below(5, 1) == 0);
}

TEST_CASE("counter_engine: the sequential view yields draws 0, 1, 2, ... of its counter_rng", "[counter_rng][engine]") {
  const auto rng = counter_rng::stream(9, rng_domain::user, 4);
  counter_engine engine(rng, 10);
  CHECK(engine() == rng(10));
  CHECK(engine.uniform() == rng.uniform(11));
  CHECK(engine.below(7) == rng.below(12, 7));
  CHECK(engine.position() == 13);
  std::vector<int> v(20);
  std::iota(v.begin(), v.end(), 0);
  std::shuffle(v.begin(), v.end(), engine);  // meets UniformRandomBitGenerator
  std::sort(v.begin(), v.end());
  CHECK(v[19] == 19);
}

TEST_CASE(
    "splitmix64: the sequential generator every part of gradcode shares gives Vigna's splitmix64.c outputs from state 0, "
    "and its uniform draws lie in [-1, 1)",
    "[counter_rng][kat]") {
  std::uint64_t state = 0;
  CHECK(gradcode::detail::splitmix64(state) == 0xe220a8397b1dcdafULL);
  CHECK(gradcode::detail::splitmix64(state) == 0x6e789e6aa1b965f4ULL);
  CHECK(gradcode::detail::splitmix64(state) == 0x06c45d188009454fULL);
  std::uint64_t u = 1;
  double lo = 1, hi = -1;
  for (int i = 0; i < 100000; ++i) {
    const double x = gradcode::detail::splitmix_uniform(u);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  CHECK(lo >= -1.0);
  CHECK(hi < 1.0);
  CHECK(lo < -0.999);
  CHECK(hi > 0.999);
}
