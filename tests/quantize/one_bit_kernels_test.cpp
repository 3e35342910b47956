// SPDX-License-Identifier: MIT
// quantize/one_bit_kernels.hpp: the portable kernel and every SIMD kernel compiled in give the
// scalar reference's bits exactly, at every length and 64-aligned offset (Q of li-skoglund eq. (6)).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include <gradcode/core/types.hpp>
#include <gradcode/quantize/one_bit_kernels.hpp>

using gradcode::Index;
using gradcode::vector;

namespace one_bit_kernels_test {  // named: the area compiles as one translation unit

template <class T>
vector<T> random_vector(Index w, std::uint64_t seed, double spread = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, spread);
  vector<T> x(w);
  for (Index k = 0; k < w; ++k) x[k] = static_cast<T>(normal(rng));
  return x;
}

}  // namespace one_bit_kernels_test

TEMPLATE_TEST_CASE(
    "one_bit: the portable kernel and every compiled SIMD kernel equal the scalar reference bit for bit (w = 1..4099, offsets)",
    "[one_bit][oracle]", float, double) {
  using T = TestType;
  for (Index w : {1, 2, 15, 16, 63, 64, 65, 127, 128, 200, 1000, 4099}) {
    const vector<T> x = one_bit_kernels_test::random_vector<T>(w, static_cast<std::uint64_t>(w), 3.0);
    const T s = static_cast<T>(2147483648.0) / static_cast<T>(x.template cast<double>().norm());
    for (std::uint64_t first : {0ULL, 64ULL, 6400ULL}) {
      INFO("w = " << w << ", first coordinate " << first);
      std::vector<std::uint64_t> ref(static_cast<std::size_t>((w + 63) / 64), ~0ULL), got(ref.size(), ~0ULL);
      gradcode::detail::quantize_reference<T>(x.data(), w, s, 0x1234ULL, first, ref.data());
      gradcode::detail::quantize_kernel<T>(x.data(), w, s, 0x1234ULL, first, got.data());
      CHECK(got == ref);
      std::vector<std::uint64_t> portable(ref.size(), ~0ULL);
      gradcode::detail::quantize_portable<T>(x.data(), w, s, 0x1234ULL, first, portable.data());
      CHECK(portable == ref);
#if defined(__SSE2__)
      std::vector<std::uint64_t> sse2(ref.size(), ~0ULL);
      gradcode::detail::quantize_sse2<T>(x.data(), w, s, 0x1234ULL, first, sse2.data());
      CHECK(sse2 == ref);
#endif
#if defined(__AVX2__)
      std::vector<std::uint64_t> avx2(ref.size(), ~0ULL);
      gradcode::detail::quantize_avx2<T>(x.data(), w, s, 0x1234ULL, first, avx2.data());
      CHECK(avx2 == ref);
#endif
#if defined(__AVX512F__) && defined(__AVX512DQ__)
      std::vector<std::uint64_t> avx512(ref.size(), ~0ULL);
      gradcode::detail::quantize_avx512<T>(x.data(), w, s, 0x1234ULL, first, avx512.data());
      CHECK(avx512 == ref);
#endif
      if (w % 64 != 0) CHECK((ref.back() >> (w % 64)) == 0);  // padding bits stay zero
    }
  }
}
