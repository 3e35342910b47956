// SPDX-License-Identifier: MIT
// li-skoglund §V-A (Fig. 2): linear regression on synthetic data (m = 1000 samples, 100 features
// x ~ N(0, 100), y = ⟨x, β*⟩ + N(0, 1)), n = 100 workers, p = 0.1, γ_t = 1e-5/t. Compares 1-bit
// GC-DL (d_i = 20), SGC-DL (d_i = 20) and ignore-stragglers 1-bit DL (d_i = 1) under the same
// communication overhead ψ_t = tρ, writes CSV + PNG of √(2L̂) and ‖β − β*‖ against ψ, and prints
// the bits each method needs to reach √(2L̂) ≤ threshold.
//
//   gradcode_onebit_linear_regression [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P]
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
  double budget = 0;                                  // ψ budget in bits per worker (0: default)
  std::vector<double> thresholds{1000, 100, 40, 32};  // √(2L̂) targets: Fig. 4(c)'s 1000, then towards the optimum (≈ 28)
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
  const Index m = 1000, l = 100, n = 100;
  const double budget = o.budget > 0 ? o.budget : (o.smoke ? 6400.0 * 5 : 6400.0 * 600);
  std::printf(
      "li-skoglund §V-A linear regression: m = %ld, w = %ld, n = %ld, p = %.2f, gamma_t = 1e-5/t, budget psi <= %.0f bits%s\n",
      static_cast<long>(m), static_cast<long>(l), static_cast<long>(n), o.p, budget, o.smoke ? " (smoke)" : "");
  const auto results = examples::linear_regression_experiment(
      {.seed = o.seed, .budget = budget, .thresholds = o.thresholds, .p = o.p, .pixel_scale = 1}, stdout);

  std::vector<examples::series> loss, error;
  for (const auto& r : results) {
    examples::series first{r.label, {}, {}}, second{r.label, {}, {}};
    for (const auto& point : r.result.curve) {
      first.x.push_back(point.bits), first.y.push_back(point.metric);
      second.x.push_back(point.bits), second.y.push_back(point.secondary);
    }
    loss.push_back(std::move(first));
    error.push_back(std::move(second));
  }
  examples::write_plot(loss, o.out + "/onebit_linear_regression_loss.csv", o.out + "/onebit_linear_regression_loss.png",
                       "li-skoglund Fig. 2(a): linear regression, n = 100, p = 0.1",
                       "communication overhead psi_t = t rho (bits)", "sqrt(2 L(A, beta_t))", true, true);
  examples::write_plot(error, o.out + "/onebit_linear_regression_error.csv", o.out + "/onebit_linear_regression_error.png",
                       "li-skoglund Fig. 2(b): linear regression, n = 100, p = 0.1",
                       "communication overhead psi_t = t rho (bits)", "|beta_t - beta*|", true, true);

  examples::print_bits_table(results, o.thresholds, budget, "sqrt(2L)");
  return 0;
}
