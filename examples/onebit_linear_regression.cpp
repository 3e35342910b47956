// SPDX-License-Identifier: MIT
// li-skoglund §V-A (Fig. 2): linear regression on synthetic data (m = 1000 samples, 100 features
// x ~ N(0, 100), y = ⟨x, β*⟩ + N(0, 1)), n = 100 workers, p = 0.1, γ_t = 1e-5/t. Compares 1-bit
// GC-DL (d_i = 20), SGC-DL (d_i = 20) and ignore-stragglers 1-bit DL (d_i = 1) under the same
// communication overhead ψ_t = tρ, writes CSV + PNG of √(2L̂) and ‖β − β*‖ against ψ, and prints
// the bits each method needs to reach √(2L̂) ≤ threshold.
//
//   gradcode_onebit_linear_regression [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P]
#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>

#include <Eigen/QR>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/bits_table.hpp"
#include "common/plot.hpp"

namespace {

using gradcode::Index;
using vec = gradcode::vector<double>;
using mat = gradcode::matrix<double>;

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

/// §V-A data: A = [X, y], X ∈ R^{m×l} with N(0, 100) entries, β* ~ N(0, I), y = Xβ* + N(0, 1).
struct problem {
  mat Xt;  // l × m: column i is x_i (contiguous per sample)
  vec y, beta_star;
};

problem make_problem(Index m, Index l, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  problem p{mat(l, m), vec(m), vec(l)};
  for (Index k = 0; k < l; ++k) p.beta_star[k] = normal(rng);
  for (Index i = 0; i < m; ++i)
    for (Index k = 0; k < l; ++k) p.Xt(k, i) = 10.0 * normal(rng);  // N(0, 100): variance 100
  p.y = p.Xt.transpose() * p.beta_star;
  for (Index i = 0; i < m; ++i) p.y[i] += normal(rng);
  return p;
}

struct result {
  std::string label;
  examples::series loss, error;
  std::vector<double> bits_to_threshold;  // per threshold: ψ at the first √(2L̂) ≤ it, −1 if never
  std::uint64_t iterations = 0;
  double final_loss = 0, final_error = 0;
  bool diverged = false;
};

result run(const std::string& label, const gradcode::gc_dl<double>& scheme, const problem& prob, const vec& beta0,
           const options& o, double budget) {
  const Index m = scheme.samples();
  gradcode::communication_counter psi(scheme.bits_per_message());
  result r{label, {label, {}, {}}, {label, {}, {}}, std::vector<double>(o.thresholds.size(), -1.0)};
  vec beta = beta0, residual(m), g_hat(scheme.dimension());
  double next_mark = 0, next_report = budget / 5;
  const auto rho = static_cast<double>(scheme.bits_per_message());
  const double initial = (prob.Xt.transpose() * beta0 - prob.y).norm();
  for (std::uint64_t t = 1;; ++t) {
    residual.noalias() = prob.Xt.transpose() * beta - prob.y;  // ∇L(a_i, β) = r_i x_i
    const double metric = residual.norm();                     // √(2L̂(A, β)), eq. (28)
    const double bits = static_cast<double>(psi.psi());
    if (!std::isfinite(metric) || metric > 1e3 * initial) {  // diverged: stop before the plot's scale is lost
      r.diverged = true;
      break;
    }
    for (std::size_t h = 0; h < o.thresholds.size(); ++h)
      if (r.bits_to_threshold[h] < 0 && metric <= o.thresholds[h]) r.bits_to_threshold[h] = bits;
    const bool last = bits + rho > budget;
    if (bits >= next_mark || last) {  // ~300 points per curve, log-spaced in ψ
      r.loss.x.push_back(bits);
      r.loss.y.push_back(metric);
      r.error.x.push_back(bits);
      r.error.y.push_back((beta - prob.beta_star).norm());
      next_mark = std::max(bits * 1.03, bits + rho);
    }
    if (bits >= next_report || last) {
      std::printf("  %-28s t = %7llu  psi = %11.0f bits  sqrt(2L) = %10.3f  |beta - beta*| = %8.4f\n", label.c_str(),
                  static_cast<unsigned long long>(t - 1), bits, metric, (beta - prob.beta_star).norm());
      std::fflush(stdout);
      next_report += budget / 5;
    }
    if (last) {
      r.final_loss = metric;
      r.final_error = (beta - prob.beta_star).norm();
      break;
    }
    const auto report = scheme.step(
        t,
        [&](Index j, Eigen::Ref<vec> f) {  // eq. (5): f_j = Σ_{i∈S_j} r_i x_i / (d_i (1 − p))
          for (Index i : scheme.placement().partitions_of(j))
            f.noalias() += (scheme.sample_weight(i) * residual[i]) * prob.Xt.col(i);
        },
        g_hat);
    beta -= (1e-5 / static_cast<double>(t)) * g_hat;  // eq. (7), γ_t = 1e-5/t (§V-A)
    psi.record(report);
    r.iterations = t;
  }
  if (r.diverged) std::printf("  %-28s diverged after t = %llu\n", label.c_str(), static_cast<unsigned long long>(r.iterations));
  return r;
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
  const problem prob = make_problem(m, l, o.seed);
  vec beta0(l);
  {
    std::mt19937_64 rng(o.seed + 1000);
    std::normal_distribution<double> normal;
    for (Index k = 0; k < l; ++k) beta0[k] = normal(rng);
  }
  const vec best = prob.Xt.transpose().colPivHouseholderQr().solve(prob.y);
  std::printf("sqrt(2L) at beta_0 = %.1f, at the least-squares optimum = %.2f\n", (prob.Xt.transpose() * beta0 - prob.y).norm(),
              (prob.Xt.transpose() * best - prob.y).norm());

  using gradcode::gc_dl_method;
  const auto redundant = gradcode::place_samples({.workers = n, .samples = m, .replication = 20, .seed = o.seed});
  const auto single = gradcode::place_samples({.workers = n, .samples = m, .replication = 1, .seed = o.seed});
  struct method {
    gc_dl_method kind;
    const gradcode::assignment* placement;
    const char* label;
  };
  const std::vector<method> methods{{gc_dl_method::one_bit, &redundant, "1-bit GC-DL (d=20)"},
                                    {gc_dl_method::sgc, &redundant, "SGC-DL (d=20)"},
                                    {gc_dl_method::ignore_stragglers, &single, "Ignore-stragglers 1-bit (d=1)"}};
  std::vector<result> results;
  for (const auto& me : methods) {
    const gradcode::gc_dl<double> scheme(
        {.placement = *me.placement, .dimension = l, .straggler_probability = o.p, .method = me.kind}, {.seed = o.seed});
    std::printf("%s: rho = %ld bits per message\n", me.label, static_cast<long>(scheme.bits_per_message()));
    results.push_back(run(me.label, scheme, prob, beta0, o, budget));
  }

  std::vector<examples::series> loss, error;
  for (const auto& r : results) {
    loss.push_back(r.loss);
    error.push_back(r.error);
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
