// SPDX-License-Identifier: MIT
// Internal: the streaming kernels behind one_bit_quantizer (quantize/one_bit.hpp) and gc_dl
// (quantize/gc_dl.hpp) — Q of li-skoglund eq. (6) into packed bits, and ĝ += Σ_j ‖f_j‖h_j of
// eq. (8) straight from the bits — each SIMD kernel bit-identical to its scalar reference
// (tests/quantize/one_bit_kernels_test.cpp). Not API: namespace gradcode::detail.
//
// Algorithm (per coordinate k of f, stream (seed, worker j, iteration t) of counter_rng):
//   u_k  = int32 draw k: the low (k even) or high (k odd) half of draw ⌊k/2⌋ of the stream
//   T_k  = trunc(clamp(f_k · 2³¹/‖f‖, −2³¹, L)),  L = largest Scalar below 2³¹
//   h_k  = +1 ⇔ u_k < T_k, bit k%64 of word ⌊k/64⌋ set
// so P(h_k = +1) = (T_k + 2³¹)/2³² = ½ + ½ f_k/‖f‖ (eq. (6)) to within 2⁻³² + ε|f_k|/(2‖f‖), ε the
// unit roundoff of Scalar: E[‖f‖h_k] − f_k is below 2⁻³¹‖f‖ + ε|f_k| (measured in
// tests/quantize/one_bit_test.cpp, "Q is unbiased per coordinate"). Bits depend only on
// (seed, stream, k, f_k, ‖f‖): chunks of f may be quantized in any order or in parallel.
// One header (~490 lines): each SIMD kernel next to the scalar reference it must equal bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/quantize/counter_rng.hpp"

namespace gradcode::detail {

/// Largest Scalar strictly below 2³¹ (the top of the fixed-point threshold range).
template <class Scalar>
inline Scalar threshold_limit() {
  if constexpr (std::is_same_v<Scalar, float>)
    return 2147483520.0f;  // 2³¹ − 2⁷
  else if constexpr (std::numeric_limits<Scalar>::digits >= 32)
    return static_cast<Scalar>(2147483647.0);
  else
    return std::nextafter(static_cast<Scalar>(2147483648.0), Scalar(0));
}

/// T = trunc(clamp(x·s, −2³¹, L)) — the threshold every kernel computes identically. The clamp
/// is written as the SIMD min/max instructions define it (second operand on NaN), so even a NaN
/// (excluded by quantize()) gives a defined T = L in every kernel.
template <class Scalar>
inline std::int32_t threshold(Scalar x, Scalar s) {
  Scalar t = x * s;
  t = t < threshold_limit<Scalar>() ? t : threshold_limit<Scalar>();
  t = t > static_cast<Scalar>(-2147483648.0) ? t : static_cast<Scalar>(-2147483648.0);
  return static_cast<std::int32_t>(t);
}

/// The int32 draw of global coordinate k in the stream `key`.
inline std::int32_t coordinate_draw(std::uint64_t key, std::uint64_t k) {
  const std::uint64_t z = counter_rng(key)(k >> 1);
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(z >> ((k & 1) * 32)));
}

/// Reference kernel (and the tail of the SIMD ones): signs of x[0, len) whose global coordinates
/// start at `first` (even), s = 2³¹/‖f‖ finite. Writes ⌈len/64⌉ words, bits past len zero.
template <class Scalar>
void quantize_reference(const Scalar* x, Index len, Scalar s, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
  for (Index q = 0; q * 64 < len; ++q) {
    std::uint64_t word = 0;
    const Index end = std::min<Index>(64, len - q * 64);
    for (Index b = 0; b < end; ++b) {
      const Index k = q * 64 + b;
      if (coordinate_draw(key, first + static_cast<std::uint64_t>(k)) < threshold(x[k], s)) word |= std::uint64_t{1} << b;
    }
    words[q] = word;
  }
}

/// As quantize_reference, for a norm so small that 2³¹/‖f‖ overflows: T = clamp((x/‖f‖)·2³¹).
template <class Scalar>
void quantize_divide(const Scalar* x, Index len, Scalar norm, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
  for (Index q = 0; q * 64 < len; ++q) {
    std::uint64_t word = 0;
    const Index end = std::min<Index>(64, len - q * 64);
    for (Index b = 0; b < end; ++b) {
      const Index k = q * 64 + b;
      if (coordinate_draw(key, first + static_cast<std::uint64_t>(k)) < threshold(x[k] / norm, static_cast<Scalar>(2147483648.0)))
        word |= std::uint64_t{1} << b;
    }
    words[q] = word;
  }
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
inline __m512i mix64_avx512(__m512i z) {
  z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 30));
  z = _mm512_mullo_epi64(z, _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ULL)));
  z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 27));
  z = _mm512_mullo_epi64(z, _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebULL)));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

/// AVX-512 kernel: 64 coordinates per word = 4 × (16 thresholds vs 16 int32 halves of 8 draws).
/// Bit-identical to quantize_reference.
template <class Scalar>
void quantize_avx512(const Scalar* x, Index len, Scalar s, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>);
  const Index full = len / 64;
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(8 * golden_gamma));
  __m512i ctr = _mm512_add_epi64(
      _mm512_set1_epi64(static_cast<long long>(key + (first / 2 + 1) * golden_gamma)),
      _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64(static_cast<long long>(golden_gamma))));
  for (Index q = 0; q < full; ++q) {
    const Scalar* xq = x + q * 64;
    std::uint64_t word = 0;
    for (int r = 0; r < 4; ++r) {
      __m512i T;
      if constexpr (std::is_same_v<Scalar, float>) {
        const __m512 hi = _mm512_set1_ps(threshold_limit<float>()), lo = _mm512_set1_ps(-2147483648.0f);
        __m512 t = _mm512_mul_ps(_mm512_loadu_ps(xq + 16 * r), _mm512_set1_ps(s));
        t = _mm512_max_ps(_mm512_min_ps(t, hi), lo);
        T = _mm512_cvttps_epi32(t);
      } else {
        const __m512d hi = _mm512_set1_pd(threshold_limit<double>()), lo = _mm512_set1_pd(-2147483648.0);
        __m512d t0 = _mm512_mul_pd(_mm512_loadu_pd(xq + 16 * r), _mm512_set1_pd(s));
        __m512d t1 = _mm512_mul_pd(_mm512_loadu_pd(xq + 16 * r + 8), _mm512_set1_pd(s));
        t0 = _mm512_max_pd(_mm512_min_pd(t0, hi), lo);
        t1 = _mm512_max_pd(_mm512_min_pd(t1, hi), lo);
        T = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvttpd_epi32(t0)), _mm512_cvttpd_epi32(t1), 1);
      }
      const __m512i u = mix64_avx512(ctr);
      ctr = _mm512_add_epi64(ctr, step);
      word |= static_cast<std::uint64_t>(_mm512_cmplt_epi32_mask(u, T)) << (16 * r);
    }
    words[q] = word;
  }
  if (full * 64 < len)
    quantize_reference(x + full * 64, len - full * 64, s, key, first + static_cast<std::uint64_t>(full * 64), words + full);
}

/// out[k] += (bit k ? +w_j : −w_j) for each message j in order; 64 elements per pass stay in
/// registers while all messages stream through. Bit-identical to accumulate_reference.
template <class Scalar>
void accumulate_avx512(Index count, const std::uint64_t* const* words, const Scalar* weights, Index len, Scalar* out);
#endif

#if defined(__AVX2__)
inline __m256i mullo64_avx2(__m256i a, std::uint64_t b) {
  const __m256i b_lo = _mm256_set1_epi64x(static_cast<long long>(b & 0xffffffffULL));
  const __m256i b_hi = _mm256_set1_epi64x(static_cast<long long>(b >> 32));
  const __m256i lo_lo = _mm256_mul_epu32(a, b_lo);
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b_lo), _mm256_mul_epu32(a, b_hi));
  return _mm256_add_epi64(lo_lo, _mm256_slli_epi64(cross, 32));
}

inline __m256i mix64_avx2(__m256i z) {
  z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 30));
  z = mullo64_avx2(z, 0xbf58476d1ce4e5b9ULL);
  z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 27));
  z = mullo64_avx2(z, 0x94d049bb133111ebULL);
  return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

/// AVX2 kernel: 8 coordinates per compare, 64-bit multiplies emulated. Bit-identical to
/// quantize_reference.
template <class Scalar>
void quantize_avx2(const Scalar* x, Index len, Scalar s, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>);
  const Index full = len / 64;
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(4 * golden_gamma));
  const std::uint64_t base = key + (first / 2 + 1) * golden_gamma;
  __m256i ctr =
      _mm256_set_epi64x(static_cast<long long>(base + 3 * golden_gamma), static_cast<long long>(base + 2 * golden_gamma),
                        static_cast<long long>(base + golden_gamma), static_cast<long long>(base));
  for (Index q = 0; q < full; ++q) {
    const Scalar* xq = x + q * 64;
    std::uint64_t word = 0;
    for (int r = 0; r < 8; ++r) {
      __m256i T;
      if constexpr (std::is_same_v<Scalar, float>) {
        __m256 t = _mm256_mul_ps(_mm256_loadu_ps(xq + 8 * r), _mm256_set1_ps(s));
        t = _mm256_max_ps(_mm256_min_ps(t, _mm256_set1_ps(threshold_limit<float>())), _mm256_set1_ps(-2147483648.0f));
        T = _mm256_cvttps_epi32(t);
      } else {
        const __m256d hi = _mm256_set1_pd(threshold_limit<double>()), lo = _mm256_set1_pd(-2147483648.0);
        __m256d t0 = _mm256_mul_pd(_mm256_loadu_pd(xq + 8 * r), _mm256_set1_pd(s));
        __m256d t1 = _mm256_mul_pd(_mm256_loadu_pd(xq + 8 * r + 4), _mm256_set1_pd(s));
        t0 = _mm256_max_pd(_mm256_min_pd(t0, hi), lo);
        t1 = _mm256_max_pd(_mm256_min_pd(t1, hi), lo);
        T = _mm256_set_m128i(_mm256_cvttpd_epi32(t1), _mm256_cvttpd_epi32(t0));
      }
      const __m256i u = mix64_avx2(ctr);
      ctr = _mm256_add_epi64(ctr, step);
      const int m = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(T, u)));  // u < T
      word |= static_cast<std::uint64_t>(static_cast<unsigned>(m)) << (8 * r);
    }
    words[q] = word;
  }
  if (full * 64 < len)
    quantize_reference(x + full * 64, len - full * 64, s, key, first + static_cast<std::uint64_t>(full * 64), words + full);
}
#endif

#if defined(__SSE2__)
inline __m128i mullo64_sse2(__m128i a, std::uint64_t b) {
  const __m128i b_lo = _mm_set1_epi64x(static_cast<long long>(b & 0xffffffffULL));
  const __m128i b_hi = _mm_set1_epi64x(static_cast<long long>(b >> 32));
  const __m128i cross = _mm_add_epi64(_mm_mul_epu32(_mm_srli_epi64(a, 32), b_lo), _mm_mul_epu32(a, b_hi));
  return _mm_add_epi64(_mm_mul_epu32(a, b_lo), _mm_slli_epi64(cross, 32));
}

inline __m128i mix64_sse2(__m128i z) {
  z = _mm_xor_si128(z, _mm_srli_epi64(z, 30));
  z = mullo64_sse2(z, 0xbf58476d1ce4e5b9ULL);
  z = _mm_xor_si128(z, _mm_srli_epi64(z, 27));
  z = mullo64_sse2(z, 0x94d049bb133111ebULL);
  return _mm_xor_si128(z, _mm_srli_epi64(z, 31));
}

/// SSE2 kernel (the x86-64 baseline, so also what a build without -mavx2 runs): 4 coordinates
/// per compare, 64-bit multiplies emulated. Bit-identical to quantize_reference.
template <class Scalar>
void quantize_sse2(const Scalar* x, Index len, Scalar s, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>);
  const Index full = len / 64;
  const __m128i step = _mm_set1_epi64x(static_cast<long long>(2 * golden_gamma));
  const std::uint64_t base = key + (first / 2 + 1) * golden_gamma;
  __m128i ctr = _mm_set_epi64x(static_cast<long long>(base + golden_gamma), static_cast<long long>(base));
  for (Index q = 0; q < full; ++q) {
    const Scalar* xq = x + q * 64;
    std::uint64_t word = 0;
    for (int r = 0; r < 16; ++r) {
      __m128i T;
      if constexpr (std::is_same_v<Scalar, float>) {
        __m128 t = _mm_mul_ps(_mm_loadu_ps(xq + 4 * r), _mm_set1_ps(s));
        t = _mm_max_ps(_mm_min_ps(t, _mm_set1_ps(threshold_limit<float>())), _mm_set1_ps(-2147483648.0f));
        T = _mm_cvttps_epi32(t);
      } else {
        const __m128d hi = _mm_set1_pd(threshold_limit<double>()), lo = _mm_set1_pd(-2147483648.0);
        __m128d t0 = _mm_mul_pd(_mm_loadu_pd(xq + 4 * r), _mm_set1_pd(s));
        __m128d t1 = _mm_mul_pd(_mm_loadu_pd(xq + 4 * r + 2), _mm_set1_pd(s));
        t0 = _mm_max_pd(_mm_min_pd(t0, hi), lo);
        t1 = _mm_max_pd(_mm_min_pd(t1, hi), lo);
        T = _mm_unpacklo_epi64(_mm_cvttpd_epi32(t0), _mm_cvttpd_epi32(t1));
      }
      const __m128i u = mix64_sse2(ctr);
      ctr = _mm_add_epi64(ctr, step);
      const int m = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmplt_epi32(u, T)));
      word |= static_cast<std::uint64_t>(static_cast<unsigned>(m)) << (4 * r);
    }
    words[q] = word;
  }
  if (full * 64 < len)
    quantize_reference(x + full * 64, len - full * 64, s, key, first + static_cast<std::uint64_t>(full * 64), words + full);
}
#endif

/// Portable kernel, no intrinsics (what a non-x86 build runs): one draw per coordinate
/// pair and branch-free bit assembly. Bit-identical to quantize_reference.
template <class Scalar>
void quantize_portable(const Scalar* x, Index len, Scalar s, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
  const Index full = len / 64;
  std::uint64_t c = key + (first / 2 + 1) * golden_gamma;  // the Weyl state of draw ⌊first/2⌋
  for (Index q = 0; q < full; ++q) {
    const Scalar* xq = x + q * 64;
    std::uint64_t word = 0;
    for (int b = 0; b < 64; b += 2, c += golden_gamma) {
      const std::uint64_t z = mix64(c);
      const auto lo = static_cast<std::int32_t>(static_cast<std::uint32_t>(z));
      const auto hi = static_cast<std::int32_t>(static_cast<std::uint32_t>(z >> 32));
      word |= static_cast<std::uint64_t>(lo < threshold(xq[b], s)) << b;
      word |= static_cast<std::uint64_t>(hi < threshold(xq[b + 1], s)) << (b + 1);
    }
    words[q] = word;
  }
  if (full * 64 < len)
    quantize_reference(x + full * 64, len - full * 64, s, key, first + static_cast<std::uint64_t>(full * 64), words + full);
}

/// The widest kernel this translation unit was compiled for (bit-identical results on all).
template <class Scalar>
void quantize_kernel(const Scalar* x, Index len, Scalar s, std::uint64_t key, std::uint64_t first, std::uint64_t* words) {
#if defined(__AVX512F__) && defined(__AVX512DQ__)
  if constexpr (std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>) {
    quantize_avx512(x, len, s, key, first, words);
    return;
  }
#elif defined(__AVX2__)
  if constexpr (std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>) {
    quantize_avx2(x, len, s, key, first, words);
    return;
  }
#elif defined(__SSE2__)
  if constexpr (std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>) {
    quantize_sse2(x, len, s, key, first, words);
    return;
  }
#endif
  quantize_portable(x, len, s, key, first, words);
}

/// Reference: out[k] += (bit k of message j ? +w_j : −w_j), messages j = 0, 1, … in order.
template <class Scalar>
void accumulate_reference(Index count, const std::uint64_t* const* words, const Scalar* weights, Index len, Scalar* out) {
  for (Index q = 0; q * 64 < len; ++q) {
    const Index end = std::min<Index>(64, len - q * 64);
    Scalar* o = out + q * 64;
    for (Index j = 0; j < count; ++j) {
      const std::uint64_t word = words[j][q];
      const Scalar pos = weights[j], neg = -weights[j];
      for (Index b = 0; b < end; ++b) o[b] += ((word >> b) & 1u) ? pos : neg;
    }
  }
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
template <class Scalar>
void accumulate_avx512(Index count, const std::uint64_t* const* words, const Scalar* weights, Index len, Scalar* out) {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>);
  const Index full = len / 64;
  for (Index q = 0; q < full; ++q) {
    Scalar* o = out + q * 64;
    if constexpr (std::is_same_v<Scalar, float>) {
      __m512 a0 = _mm512_loadu_ps(o), a1 = _mm512_loadu_ps(o + 16), a2 = _mm512_loadu_ps(o + 32), a3 = _mm512_loadu_ps(o + 48);
      for (Index j = 0; j < count; ++j) {
        const std::uint64_t w = words[j][q];
        const __m512 pos = _mm512_set1_ps(weights[j]), neg = _mm512_set1_ps(-weights[j]);
        a0 = _mm512_add_ps(a0, _mm512_mask_blend_ps(static_cast<__mmask16>(w), neg, pos));
        a1 = _mm512_add_ps(a1, _mm512_mask_blend_ps(static_cast<__mmask16>(w >> 16), neg, pos));
        a2 = _mm512_add_ps(a2, _mm512_mask_blend_ps(static_cast<__mmask16>(w >> 32), neg, pos));
        a3 = _mm512_add_ps(a3, _mm512_mask_blend_ps(static_cast<__mmask16>(w >> 48), neg, pos));
      }
      _mm512_storeu_ps(o, a0);
      _mm512_storeu_ps(o + 16, a1);
      _mm512_storeu_ps(o + 32, a2);
      _mm512_storeu_ps(o + 48, a3);
    } else {
      __m512d a[8];
      for (int r = 0; r < 8; ++r) a[r] = _mm512_loadu_pd(o + 8 * r);
      for (Index j = 0; j < count; ++j) {
        const std::uint64_t w = words[j][q];
        const __m512d pos = _mm512_set1_pd(weights[j]), neg = _mm512_set1_pd(-weights[j]);
        for (int r = 0; r < 8; ++r)
          a[r] = _mm512_add_pd(a[r], _mm512_mask_blend_pd(static_cast<__mmask8>(w >> (8 * r)), neg, pos));
      }
      for (int r = 0; r < 8; ++r) _mm512_storeu_pd(o + 8 * r, a[r]);
    }
  }
  if (full * 64 < len) {  // the last partial word, as accumulate_reference does it
    Scalar* o = out + full * 64;
    for (Index j = 0; j < count; ++j) {
      const std::uint64_t word = words[j][full];
      const Scalar pos = weights[j], neg = -weights[j];
      for (Index b = 0; b < len - full * 64; ++b) o[b] += ((word >> b) & 1u) ? pos : neg;
    }
  }
}
#endif

/// The widest accumulate kernel compiled in (bit-identical results on all).
template <class Scalar>
void accumulate_kernel(Index count, const std::uint64_t* const* words, const Scalar* weights, Index len, Scalar* out) {
#if defined(__AVX512F__) && defined(__AVX512DQ__)
  if constexpr (std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>) {
    accumulate_avx512(count, words, weights, len, out);
    return;
  }
#endif
  accumulate_reference(count, words, weights, len, out);
}

/// ‖x‖ in double, computed blockwise in Scalar and redone in double where a block overflows or
/// underflows; when the total is still out of range, a scaled norm: every entry is multiplied by
/// 2^−e exactly (ldexp, e the exponent of max|x_k|), so neither squares of entries near DBL_MAX
/// overflow nor squares of subnormal entries underflow (Eigen's blueNorm flushes the latter to
/// 0). Throws invalid_input on a NaN/Inf entry, naming the coordinate and `node`. The result is
/// ≥ max|x_k| (it is +inf only when ‖x‖ exceeds the double range).
template <class Scalar>
double checked_norm(const Scalar* x, Index len, long long node) {
  using array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  constexpr Index block = 4096;
  double total = 0;
  for (Index b = 0; b < len; b += block) {
    const Eigen::Map<const array> part(x + b, std::min(block, len - b));
    double sum = static_cast<double>(part.square().sum());
    if (!(sum >= 1e-30 && sum <= 1e30)) sum = part.template cast<double>().square().sum();
    total += sum;
  }
  if (total >= 1e-280 && total <= 1e280) return std::sqrt(total);
  double top = 0;
  for (Index k = 0; k < len; ++k) {
    if (!std::isfinite(static_cast<double>(x[k])))
      throw invalid_input("quantize: f has a non-finite entry (" + std::to_string(static_cast<double>(x[k])) +
                              ") at coordinate " + std::to_string(k) +
                              (node >= 0 ? " of node " + std::to_string(node) + "'s update" : std::string()),
                          node);
    top = std::max(top, std::abs(static_cast<double>(x[k])));
  }
  if (top == 0) return 0;
  const int e = std::ilogb(top);  // max|x_k|·2^−e ∈ [1, 2): Σ (x_k 2^−e)² ∈ [1, 4w]
  double sum = 0;
  for (Index k = 0; k < len; ++k) {
    const double y = std::ldexp(static_cast<double>(x[k]), -e);
    sum += y * y;
  }
  return std::ldexp(std::sqrt(sum), e);
}

/// The running sums of an accumulation stay finite when Σ_j |w_j| added sequentially to the
/// largest |out_k| does (rounding is monotone, so every partial |out_k ± w_1 ± …| is below it).
template <class Scalar>
bool accumulation_bounded(Scalar top, Index count, const Scalar* weights) {
  Scalar t = top;
  for (Index j = 0; j < count; ++j) t += std::abs(weights[j]);
  return t <= std::numeric_limits<Scalar>::max();
}

/// Replays coordinate k of an accumulation (in the kernel's order, from `start`) and throws
/// invalid_input naming the first message j (node_of(j)) after which it is not finite.
template <class Scalar, class NodeOf>
[[noreturn]] void throw_overflow(Index count, const std::uint64_t* const* words, const Scalar* weights, Index k, Scalar start,
                                 NodeOf&& node_of, const char* where) {
  Scalar acc = start;
  for (Index j = 0; j < count; ++j) {
    acc += ((words[j][k >> 6] >> (k & 63)) & 1u) ? weights[j] : -weights[j];
    if (!std::isfinite(acc)) {
      const long long node = node_of(j);
      throw invalid_input(std::string(where) + ": the sum overflows the " + std::to_string(8 * sizeof(Scalar)) +
                              "-bit range at coordinate " + std::to_string(k) + " when adding the message" +
                              (node >= 0 ? " (node " + std::to_string(node) + ")" : std::string()) +
                              " with ‖f‖ = " + format_g(static_cast<double>(weights[j])),
                          node);
    }
  }
  throw invalid_input(std::string(where) + ": the sum is not finite at coordinate " + std::to_string(k));
}

/// out (+)= Σ_j ±w_j h_j (accumulate_kernel's sums, bit for bit) with overflow detection: a
/// coordinate that was finite and is not any more throws invalid_input naming the message whose
/// addition left the Scalar range (node_of(j)). A NaN/Inf the caller already had in `out` stays
/// NaN/Inf, as with any +=.
///   from_zero: out = Σ; its old content is not read, and on a throw `out` is untouched (the sum is
///   formed in a copy when Σ_j |w_j| does not bound it in range).
///   otherwise: out += Σ, in blocks of 4096 coordinates, each first bounded by max |out_k| of the
///   block while it is in cache (so the check costs no extra pass over memory); on a throw the
///   blocks before the overflowing one are already accumulated (`out` unspecified).
template <class Scalar, class NodeOf>
void checked_accumulate(Index count, const std::uint64_t* const* words, const Scalar* weights, Index len, Scalar* out,
                        bool from_zero, NodeOf&& node_of, const char* where) {
  Eigen::Map<vector<Scalar>> o(out, len);
  if (from_zero) {
    if (accumulation_bounded(Scalar(0), count, weights)) {  // the common case: straight into out
      o.setZero();
      accumulate_kernel<Scalar>(count, words, weights, len, out);
      return;
    }
    vector<Scalar> sum = vector<Scalar>::Zero(len);
    accumulate_kernel<Scalar>(count, words, weights, len, sum.data());
    for (Index k = 0; k < len; ++k)
      if (!std::isfinite(sum[k])) throw_overflow(count, words, weights, k, Scalar(0), node_of, where);
    o = sum;
    return;
  }
  constexpr Index block = 4096;  // a multiple of 64: every block starts at a word boundary
  const std::uint64_t* few[16];  // the per-block word pointers; no allocation for ≤ 16 messages
  std::vector<const std::uint64_t*> many(count > 16 ? static_cast<std::size_t>(count) : 0);
  const std::uint64_t** at = count > 16 ? many.data() : few;
  for (Index b = 0; b < len; b += block) {
    const Index n = std::min(block, len - b);
    for (Index j = 0; j < count; ++j) at[j] = words[j] + b / 64;
    Eigen::Map<vector<Scalar>> part(out + b, n);
    // PropagateNumbers: the largest |out_k| among the numbers (Inf gives Inf), vectorized; the
    // fast variant may return less than the maximum when a NaN is present.
    if (accumulation_bounded(part.cwiseAbs().template maxCoeff<Eigen::PropagateNumbers>(), count, weights)) {
      accumulate_kernel<Scalar>(count, at, weights, n, out + b);
      continue;
    }
    Scalar copy[block];
    std::copy(out + b, out + b + n, copy);
    accumulate_kernel<Scalar>(count, at, weights, n, out + b);
    for (Index k = 0; k < n; ++k)
      if (!std::isfinite(out[b + k]) && std::isfinite(copy[k])) {
        const Scalar start = copy[k];
        std::copy(copy, copy + n, out + b);  // this block as it was
        throw_overflow(count, words, weights, b + k, start, node_of, where);
      }
  }
}

}  // namespace gradcode::detail
