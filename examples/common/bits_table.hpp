// SPDX-License-Identifier: MIT
// The li-skoglund experiments' summary: for each method, the communication ψ_t = tρ (bits per
// worker) at which a metric first reaches each threshold, relative to the first method. Shared
// by the examples/onebit_*.cpp programs; not part of the library.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

namespace examples {

/// `Result` has label, bits_to_threshold (per threshold, −1 = never), final_loss, iterations,
/// diverged.
template <class Result>
void print_bits_table(const std::vector<Result>& results, const std::vector<double>& thresholds, double budget, const char* metric) {
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
      if (r.bits_to_threshold[h] >= 0) {
        const double base = results[0].bits_to_threshold[h];
        if (&r != &results[0] && base > 0)
          std::snprintf(cell, sizeof cell, "%.0f (%.1fx)", r.bits_to_threshold[h], r.bits_to_threshold[h] / base);
        else
          std::snprintf(cell, sizeof cell, "%.0f", r.bits_to_threshold[h]);
      }
      std::printf(" %20s", cell);
    }
    std::printf(" %12.4g %11llu%s\n", r.final_loss, static_cast<unsigned long long>(r.iterations),
                r.diverged ? " (diverged)" : "");
  }
  std::printf("  (x: bits relative to the first row)\n");
}

}  // namespace examples
