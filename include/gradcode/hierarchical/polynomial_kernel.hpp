// SPDX-License-Identifier: MIT
// The complex streaming kernel of the polynomial hierarchical code's worker encode (gholami2025
// §V-B, eq. 15 with complex evaluation points): out = Σ_t w_t · x_t over interleaved complex units,
// blocked like detail/weighted_sum.hpp (the real-point case uses that kernel). Internal.
#pragma once

#include <algorithm>
#include <cstddef>

#include "gradcode/core/types.hpp"

namespace gradcode::detail {

/// out[0..2·units) (complex units stored as interleaved reals) = Σ_t terms[t].weight ·
/// terms[t].source[0..units), blocked like weighted_sum (each 2048-unit block of `out` stays in
/// cache while the sources stream through once, four per pass). Real arithmetic on the interleaved pairs: Eigen's
/// complex<float> scalar broadcast loads a 4-byte-aligned value as a double, which UBSan rejects.
template <class Real, class Terms>
void complex_weighted_sum(Index count, Index units, const Terms& terms, Real* out) {
  constexpr Index block = 2048;  // units: 32 KiB of complex<double> output stays in L1/L2
  for (Index b = 0; b < units; b += block) {
    const Index n = 2 * std::min(block, units - b);  // reals
    Real* __restrict o = out + 2 * b;
    for (Index i = 0; i < n; ++i) o[i] = Real(0);
    auto source = [&](Index t) { return reinterpret_cast<const Real*>(terms[static_cast<std::size_t>(t)].source) + 2 * b; };
    Index t = 0;
    for (; t + 4 <= count; t += 4) {  // four terms per pass over the output block
      const auto& w0 = terms[static_cast<std::size_t>(t)].weight;
      const auto& w1 = terms[static_cast<std::size_t>(t + 1)].weight;
      const auto& w2 = terms[static_cast<std::size_t>(t + 2)].weight;
      const auto& w3 = terms[static_cast<std::size_t>(t + 3)].weight;
      const Real a0 = w0.real(), c0 = w0.imag(), a1 = w1.real(), c1 = w1.imag();
      const Real a2 = w2.real(), c2 = w2.imag(), a3 = w3.real(), c3 = w3.imag();
      const Real* __restrict x0 = source(t);
      const Real* __restrict x1 = source(t + 1);
      const Real* __restrict x2 = source(t + 2);
      const Real* __restrict x3 = source(t + 3);
      for (Index i = 0; i < n; i += 2) {
        o[i] +=
            a0 * x0[i] - c0 * x0[i + 1] + a1 * x1[i] - c1 * x1[i + 1] + a2 * x2[i] - c2 * x2[i + 1] + a3 * x3[i] - c3 * x3[i + 1];
        o[i + 1] +=
            a0 * x0[i + 1] + c0 * x0[i] + a1 * x1[i + 1] + c1 * x1[i] + a2 * x2[i + 1] + c2 * x2[i] + a3 * x3[i + 1] + c3 * x3[i];
      }
    }
    for (; t < count; ++t) {
      const auto& w = terms[static_cast<std::size_t>(t)].weight;
      const Real a = w.real(), c = w.imag();
      const Real* __restrict x = source(t);
      for (Index i = 0; i < n; i += 2) {
        o[i] += a * x[i] - c * x[i + 1];
        o[i + 1] += a * x[i + 1] + c * x[i];
      }
    }
  }
}

}  // namespace gradcode::detail
