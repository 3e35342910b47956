// SPDX-License-Identifier: MIT
// li-skoglund §V-B (Fig. 6): the non-convex Rosenbrock loss L̂(β) = Σ_{i=1}^{m} 100(β_{i+1} − β_i²)² +
// (1 − β_i)² (eq. (30)), m = 1000 terms over β ∈ R^1001, n = 100 workers, d_i = 10, p = 0.1, fixed
// γ = 1e-5, β_0 ~ N(0, I). Compares 1-bit GC-DL, SGC-DL and ignore-stragglers 1-bit DL (d_i = 1)
// under the same communication overhead ψ_t = tρ, writes CSV + PNG of L̂ and ‖β − 1‖ against ψ, and
// prints the bits each method needs to reach L̂ ≤ each threshold.
//
//   gradcode_onebit_rosenbrock [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/bits_table.hpp"
#include "common/flags.hpp"
#include "common/onebit_experiments.hpp"
#include "common/plot.hpp"

namespace {

using gradcode::Index;

struct options {
  bool smoke = false;
  std::uint64_t seed = 1;
  std::string out = ".";
  double budget = 0;                              // ψ budget in bits per worker (0: default)
  std::vector<double> thresholds{1e5, 1e4, 2e3};  // L̂ targets (L̂(β_0) ≈ 4e5; the global minimum is 0 at β = 1)
  double p = 0.1;
};

options parse(int argc, char** argv) {
  options o;
  examples::flags f(argc, argv, "usage: %s [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P]\n");
  while (f.next()) {
    if (f.is("--smoke"))
      o.smoke = true;
    else if (f.is("--seed"))
      o.seed = f.unsigned_integer();
    else if (f.is("--out"))
      o.out = f.text();
    else if (f.is("--budget"))
      o.budget = f.number();
    else if (f.is("--threshold"))
      o.thresholds = {f.number()};
    else if (f.is("--p"))
      o.p = f.number();
    else
      f.unknown();
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::filesystem::create_directories(o.out);
  const Index m = 1000, w = m + 1, n = 100;
  const double rho_sgc = 64.0 * static_cast<double>(w);
  const double budget = o.budget > 0 ? o.budget : (o.smoke ? rho_sgc * 3 : rho_sgc * 2000);
  std::printf(
      "li-skoglund §V-B Rosenbrock: m = %ld, w = %ld, n = %ld, d = 10, p = %.2f, gamma = 1e-5, budget psi <= %.0f bits%s\n",
      static_cast<long>(m), static_cast<long>(w), static_cast<long>(n), o.p, budget, o.smoke ? " (smoke)" : "");
  const auto results = examples::rosenbrock_experiment(
      {.seed = o.seed, .budget = budget, .thresholds = o.thresholds, .p = o.p, .pixel_scale = 1}, stdout);

  std::vector<examples::series> loss, distance;
  for (const auto& r : results) {
    examples::series first{r.label, {}, {}}, second{r.label, {}, {}};
    for (const auto& point : r.result.curve) {
      first.x.push_back(point.bits), first.y.push_back(point.metric);
      second.x.push_back(point.bits), second.y.push_back(point.secondary);
    }
    loss.push_back(std::move(first));
    distance.push_back(std::move(second));
  }
  examples::write_plot(loss, o.out + "/onebit_rosenbrock_loss.csv", o.out + "/onebit_rosenbrock_loss.png",
                       "li-skoglund Fig. 6: Rosenbrock, n = 100, d = 10, p = 0.1", "communication overhead psi_t = t rho (bits)",
                       "training loss L(A, beta_t)", true, true);
  examples::write_plot(distance, o.out + "/onebit_rosenbrock_distance.csv", o.out + "/onebit_rosenbrock_distance.png",
                       "Rosenbrock: distance to the optimum beta* = 1", "communication overhead psi_t = t rho (bits)",
                       "|beta_t - 1|", true, true);
  examples::print_bits_table(results, o.thresholds, budget, "L");
  return 0;
}
