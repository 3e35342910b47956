// SPDX-License-Identifier: MIT
// li-skoglund §V-B (Fig. 6): the non-convex Rosenbrock loss L̂(β) = Σ_{i=1}^{m} 100(β_{i+1} − β_i²)² +
// (1 − β_i)² (eq. (30)), m = 1000 terms over β ∈ R^1001, n = 100 workers, d_i = 10, p = 0.1, fixed
// γ = 1e-5, β_0 ~ N(0, I). Compares 1-bit GC-DL, SGC-DL and ignore-stragglers 1-bit DL (d_i = 1)
// under the same communication overhead ψ_t = tρ, writes CSV + PNG of L̂ and ‖β − 1‖ against ψ, and
// prints the bits each method needs to reach L̂ ≤ each threshold.
//
//   gradcode_onebit_rosenbrock [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P]
#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/bits_table.hpp"
#include "common/plot.hpp"

namespace {

using gradcode::Index;
using vec = gradcode::vector<double>;

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
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++a];
    };
    if (arg == "--smoke")
      o.smoke = true;
    else if (arg == "--seed")
      o.seed = std::stoull(value());
    else if (arg == "--out")
      o.out = value();
    else if (arg == "--budget")
      o.budget = std::stod(value());
    else if (arg == "--threshold")
      o.thresholds = {std::stod(value())};
    else if (arg == "--p")
      o.p = std::stod(value());
    else {
      std::fprintf(stderr, "usage: %s [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P]\n", argv[0]);
      std::exit(arg == "--help" ? 0 : 2);
    }
  }
  return o;
}

/// eq. (30): sample i (0-based) is the term 100(β_{i+1} − β_i²)² + (1 − β_i)²; its gradient has
/// two nonzeros, at i and i + 1.
struct rosenbrock {
  Index m;
  double loss(const vec& b) const {
    double s = 0;
    for (Index i = 0; i < m; ++i) s += 100 * (b[i + 1] - b[i] * b[i]) * (b[i + 1] - b[i] * b[i]) + (1 - b[i]) * (1 - b[i]);
    return s;
  }
  /// f += c·∇L_i(β)
  static void add_gradient(const vec& b, Index i, double c, Eigen::Ref<vec> f) {
    const double u = b[i + 1] - b[i] * b[i];
    f[i] += c * (-400 * b[i] * u - 2 * (1 - b[i]));
    f[i + 1] += c * 200 * u;
  }
};

struct result {
  std::string label;
  examples::series loss, distance;
  std::vector<double> bits_to_threshold;  // per threshold: ψ at the first L̂ ≤ it, −1 if never
  std::uint64_t iterations = 0;
  double final_loss = 0;
  bool diverged = false;
};

result run(const std::string& label, const gradcode::gc_dl<double>& scheme, const rosenbrock& prob, const vec& beta0,
           const options& o, double budget) {
  gradcode::communication_counter psi(scheme.bits_per_message());
  result r{label, {label, {}, {}}, {label, {}, {}}, std::vector<double>(o.thresholds.size(), -1.0)};
  vec beta = beta0, g_hat(scheme.dimension());
  const vec ones = vec::Ones(scheme.dimension());
  double next_mark = 0, next_report = budget / 5;
  const auto rho = static_cast<double>(scheme.bits_per_message());
  const double initial = prob.loss(beta0);
  for (std::uint64_t t = 1;; ++t) {
    const double metric = prob.loss(beta), bits = static_cast<double>(psi.psi());
    if (!std::isfinite(metric) || metric > 1e3 * initial) {  // diverged: stop before the plot's scale is lost
      r.diverged = true;
      r.final_loss = metric;
      break;
    }
    for (std::size_t h = 0; h < o.thresholds.size(); ++h)
      if (r.bits_to_threshold[h] < 0 && metric <= o.thresholds[h]) r.bits_to_threshold[h] = bits;
    const bool last = bits + rho > budget;
    if (bits >= next_mark || last) {  // ~300 points per curve, log-spaced in ψ
      r.loss.x.push_back(bits);
      r.loss.y.push_back(metric);
      r.distance.x.push_back(bits);
      r.distance.y.push_back((beta - ones).norm());
      next_mark = std::max(bits * 1.03, bits + rho);
    }
    if (bits >= next_report || last) {
      std::printf("  %-30s t = %8llu  psi = %12.0f bits  L = %12.4f  |beta - 1| = %9.4f\n", label.c_str(),
                  static_cast<unsigned long long>(t - 1), bits, metric, (beta - ones).norm());
      std::fflush(stdout);
      next_report += budget / 5;
    }
    if (last) {
      r.final_loss = metric;
      break;
    }
    try {
      const auto report = scheme.step(
          t,
          [&](Index j, Eigen::Ref<vec> f) {  // eq. (5): f_j = Σ_{i∈S_j} ∇L_i / (d_i (1 − p))
            for (Index i : scheme.placement().partitions_of(j)) rosenbrock::add_gradient(beta, i, scheme.sample_weight(i), f);
          },
          g_hat);
      psi.record(report);
    } catch (const gradcode::invalid_input&) {  // an overflowing f_j: the run has diverged
      r.diverged = true;
      r.final_loss = std::numeric_limits<double>::infinity();
      break;
    }
    beta -= 1e-5 * g_hat;  // eq. (7), γ = 1e-5 (§V-B)
    r.iterations = t;
  }
  if (r.diverged) std::printf("  %-30s diverged after t = %llu\n", label.c_str(), static_cast<unsigned long long>(r.iterations));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::filesystem::create_directories(o.out);
  const Index m = 1000, w = m + 1, n = 100;
  const rosenbrock prob{m};
  const double rho_sgc = 64.0 * static_cast<double>(w);
  const double budget = o.budget > 0 ? o.budget : (o.smoke ? rho_sgc * 3 : rho_sgc * 2000);
  std::printf(
      "li-skoglund §V-B Rosenbrock: m = %ld, w = %ld, n = %ld, d = 10, p = %.2f, gamma = 1e-5, budget psi <= %.0f bits%s\n",
      static_cast<long>(m), static_cast<long>(w), static_cast<long>(n), o.p, budget, o.smoke ? " (smoke)" : "");
  vec beta0(w);
  {
    std::mt19937_64 rng(o.seed + 1000);
    std::normal_distribution<double> normal;
    for (Index k = 0; k < w; ++k) beta0[k] = normal(rng);
  }
  std::printf("L at beta_0 = %.1f, at the optimum beta = 1: 0\n", prob.loss(beta0));

  using gradcode::gc_dl_method;
  const auto redundant = gradcode::place_samples({.workers = n, .samples = m, .replication = 10, .seed = o.seed});
  const auto single = gradcode::place_samples({.workers = n, .samples = m, .replication = 1, .seed = o.seed});
  struct method {
    gc_dl_method kind;
    const gradcode::assignment* placement;
    const char* label;
  };
  const std::vector<method> methods{{gc_dl_method::one_bit, &redundant, "1-bit GC-DL (d=10)"},
                                    {gc_dl_method::sgc, &redundant, "SGC-DL (d=10)"},
                                    {gc_dl_method::ignore_stragglers, &single, "Ignore-stragglers 1-bit (d=1)"}};
  std::vector<result> results;
  for (const auto& me : methods) {
    const gradcode::gc_dl<double> scheme(
        {.placement = *me.placement, .dimension = w, .straggler_probability = o.p, .method = me.kind}, {.seed = o.seed});
    std::printf("%s: rho = %ld bits per message\n", me.label, static_cast<long>(scheme.bits_per_message()));
    results.push_back(run(me.label, scheme, prob, beta0, o, budget));
  }

  std::vector<examples::series> loss, distance;
  for (const auto& r : results) {
    loss.push_back(r.loss);
    distance.push_back(r.distance);
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
