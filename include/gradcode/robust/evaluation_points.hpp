// SPDX-License-Identifier: MIT
// Evaluation points of the polynomial (Reed–Solomon-type) codes over R and C: the nodes
// α_1..α_N at which the N senders evaluate, and the targets β_1..β_m at which the decoder reads
// the result (gholami2025 §V-A "Design of the … Encoding": N + m distinct values).
//
// The paper takes integers (its §IV example: α = 1, 2, 3, β^(1) = 0, −1, β^(2) = 0). Those
// make every interpolation an extrapolation from equispaced points and the encoding
// coefficients ratios of factorials. The default family puts the nodes at the N-th roots of
// unity, where the Vandermonde matrix of the full set is unitary up to scale, and the targets
// midway between them; complex points carry the real gradient as pairs of reals (one complex
// number per pair), so messages stay real and no longer than the paper's
// (robust/reed_solomon.hpp). Which node gets which point matters as much as the points
// (robust/point_order.hpp; polynomial_hgc chooses it unless told not to).
//
// Where each family is numerically safe — worst relative error of whole gholami2025 rounds
// (double), measured by tests/hierarchical/polynomial_test.cpp:
//   "worst decode error vs N" (cyclic placement, r = N/2, s = 2, a = 0, random stragglers):
//        N      4       8      12      16      20      24      32      64
//   unit_circle 9e-16  1e-15  2e-15   7e-15   6e-15   6e-15   3e-14   1e-14
//   chebyshev   6e-16  2e-15  1e-14   8e-14   1e-13   1e-12   5e-14     –
//   paper       1e-15  2e-12  2e-4    3e3     3e13    1e20    1e37      –
//   "N1 = N2 = 32 …" (1024 workers, r = 12, s = a = 2 per layer, adversaries at both layers):
//        unit_circle 5e-15 (double), 1e-6 (float; ≤ 3e-5 per layer over 1000 patterns).
//   "a user assignment of arcs … and a scattered random assignment …" (N1 = N2 = 32):
//        unit_circle after point ordering 1e-14 (arcs), 2e-13 (scattered); without it 9e-4, 2e-10.
// So: unit_circle is safe (≤ 1e-9 double, ≤ 1e-4 float) at least up to N = 64 per layer for the
// placements above; chebyshev up to N = 32 for cyclic placements only (real arithmetic, half
// the decode flops); paper only up to N ≈ 8 — keep it for known-answer tests.
#pragma once

#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// Which evaluation points a polynomial code uses.
enum class point_family {
  /// α_j = e^{2πi j/N} (j = 0..N−1); β_l = e^{2πi (g_l + ½)/N}, g_l = ⌊l·N/m⌋: the targets sit
  /// midway between nodes, spread over the circle. Complex: messages carry pairs of reals.
  unit_circle,
  /// Real: α_j = cos((2j+1)π/(2N)) (Chebyshev points of the first kind); β_l = cos(g_l π/N),
  /// g_l = ⌊(2l+1)·N/(2m)⌋ (extrema of T_N, between the nodes).
  chebyshev,
  /// gholami2025 §IV: α_j = j (1, 2, …, N), β_l = 1 − l (0, −1, …). Real. Unsafe beyond N ≈ 8.
  paper,
};

inline std::string to_string(point_family f) {
  switch (f) {
    case point_family::unit_circle:
      return "unit_circle";
    case point_family::chebyshev:
      return "chebyshev";
    case point_family::paper:
      return "paper";
  }
  return "?";
}

/// N nodes and m targets of one layer of a polynomial code; all N + m distinct.
struct evaluation_points {
  std::vector<std::complex<double>> nodes{};    ///< α_1..α_N: sender i evaluates at nodes[i]
  std::vector<std::complex<double>> targets{};  ///< β_1..β_m: the decoder evaluates at targets[l]
  /// True when every point is real: messages are then real vectors and the arithmetic is real;
  /// otherwise one complex unit carries two consecutive reals of the gradient.
  bool real = false;
};

/// Most nodes (and targets) of one layer of a polynomial code (evaluation points, Reed–Solomon
/// codes, polynomial_hgc layers). The decoders' solves cost O(N³) per kept set and locating
/// corrupted nodes O(N⁴) in the worst case, the point order O(N²) memory: beyond this a decode
/// would be a hang rather than a code. Accuracy is measured up to N = 64 (see above).
inline constexpr Index max_layer_nodes = 1024;

/// The points of `family` for `nodes` senders (1 ≤ N ≤ max_layer_nodes) and `targets` read-out
/// points (1 ≤ m ≤ N). Throws invalid_parameters outside that range.
inline evaluation_points make_evaluation_points(point_family family, Index nodes, Index targets) {
  if (nodes < 1) throw invalid_parameters("evaluation points: N = " + std::to_string(nodes) + " nodes; need N >= 1");
  if (nodes > max_layer_nodes)
    throw invalid_parameters("evaluation points: N = " + std::to_string(nodes) +
                             " nodes; need N <= " + std::to_string(max_layer_nodes));
  if (targets < 1 || targets > nodes)
    throw invalid_parameters("evaluation points: m = " + std::to_string(targets) + " targets for N = " + std::to_string(nodes) +
                             " nodes; need 1 <= m <= N");
  const double pi = std::numbers::pi;
  const auto N = static_cast<double>(nodes);
  const auto m = static_cast<double>(targets);
  evaluation_points p;
  p.nodes.resize(static_cast<std::size_t>(nodes));
  p.targets.resize(static_cast<std::size_t>(targets));
  switch (family) {
    case point_family::unit_circle:
      p.real = false;
      for (Index j = 0; j < nodes; ++j)
        p.nodes[static_cast<std::size_t>(j)] = std::polar(1.0, 2 * pi * static_cast<double>(j) / N);
      for (Index l = 0; l < targets; ++l) {
        const double g = std::floor(static_cast<double>(l) * N / m);
        p.targets[static_cast<std::size_t>(l)] = std::polar(1.0, 2 * pi * (g + 0.5) / N);
      }
      break;
    case point_family::chebyshev:
      p.real = true;
      for (Index j = 0; j < nodes; ++j)
        p.nodes[static_cast<std::size_t>(j)] = std::cos((2 * static_cast<double>(j) + 1) * pi / (2 * N));
      for (Index l = 0; l < targets; ++l) {
        const double g = std::floor((2 * static_cast<double>(l) + 1) * N / (2 * m));
        p.targets[static_cast<std::size_t>(l)] = std::cos(g * pi / N);
      }
      break;
    case point_family::paper:
      p.real = true;
      for (Index j = 0; j < nodes; ++j) p.nodes[static_cast<std::size_t>(j)] = static_cast<double>(j + 1);
      for (Index l = 0; l < targets; ++l) p.targets[static_cast<std::size_t>(l)] = -static_cast<double>(l);
      break;
  }
  return p;
}

}  // namespace gradcode
