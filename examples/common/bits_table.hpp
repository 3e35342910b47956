// SPDX-License-Identifier: MIT
// The li-skoglund experiments' summary: for each method, the communication ψ_t = tρ (bits per
// worker) at which a metric first reaches each threshold, relative to the first method. Shared
// by the examples/onebit_*.cpp programs; not part of the library.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

#include "common/onebit_experiments.hpp"

namespace examples {

/// One row per method: ψ at each threshold (relative to the first row), final metric, iterations.
inline void print_bits_table(const std::vector<onebit_run>& results, const std::vector<double>& thresholds, double budget,
                             const char* metric) {
  std::printf("\nbits per worker psi_t = t*rho to first reach %s <= threshold (budget %.0f bits):\n  %-32s", metric, budget,
              "method");
  for (double h : thresholds) {
    char head[32];
    std::snprintf(head, sizeof head, "<= %g", h);
    std::printf(" %20s", head);
  }
  std::printf(" %12s %11s\n", "final", "iterations");
  for (const auto& r : results) {
    std::printf("  %-32s", r.label.c_str());
    for (std::size_t h = 0; h < thresholds.size(); ++h) {
      char cell[64] = "not reached";
      const double bits = r.result.bits_to_threshold[h];
      if (bits >= 0) {
        const double base = results[0].result.bits_to_threshold[h];
        if (&r != &results[0] && base > 0)
          std::snprintf(cell, sizeof cell, "%.0f (%.1fx)", bits, bits / base);
        else
          std::snprintf(cell, sizeof cell, "%.0f", bits);
      }
      std::printf(" %20s", cell);
    }
    std::printf(" %12.4g %11llu%s\n", r.result.final_metric, static_cast<unsigned long long>(r.result.iterations),
                r.result.diverged ? " (diverged)" : "");
  }
  std::printf("  (x: bits relative to the first row)\n");
}

}  // namespace examples
