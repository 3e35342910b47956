// SPDX-License-Identifier: MIT
// li-skoglund §V-C (Fig. 8(b)): logistic regression on Fashion-MNIST 'T-shirt/top' (label −1)
// vs 'Trouser' (+1), m = 100 random training images, L̂(β) = Σ log(1 + exp(−y_i⟨β, x_i⟩)) (eq. (31)),
// n = 10 workers, d_i = 2, p = 0.1, γ_t = 0.001/t, β_0 ~ N(0, I). Compares 1-bit GC-DL, SGC-DL and
// ignore-stragglers 1-bit DL (d_i = 1) under the same communication overhead ψ_t = tρ, writes CSV +
// PNG of L̂ and the training accuracy against ψ, and prints the bits each method needs to reach
// L̂ ≤ each threshold. Without Debian's dataset-fashion-mnist the loader's synthetic stand-in is
// used (it says so on stderr).
//
//   gradcode_onebit_logistic_fashion [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P] [--pixel-scale S]
#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/fashion_mnist.hpp"
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
  double budget = 0;                            // ψ budget in bits per worker (0: default)
  std::vector<double> thresholds{100, 60, 50};  // L̂ targets (L̂(β_0) ≈ 500; γ_t = 0.001/t leaves L̂ ≈ 45 after 1e8 bits)
  double p = 0.1;
  double pixel_scale = 1;  // features are pixel/255 · pixel_scale (255: raw 0–255 intensities)
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
    else if (arg == "--pixel-scale")
      o.pixel_scale = std::stod(value());
    else {
      std::fprintf(stderr,
                   "usage: %s [--smoke] [--seed N] [--out DIR] [--budget BITS] [--threshold X] [--p P] [--pixel-scale S]\n",
                   argv[0]);
      std::exit(arg == "--help" ? 0 : 2);
    }
  }
  return o;
}

/// eq. (31) on m images: Xt is 784 × m (column i = x_i, pixels in [0, 1]), y_i = ±1.
struct logistic {
  mat Xt;
  vec y;
  /// log(1 + e^{−u}) without overflow.
  static double softplus_neg(double u) { return u > 0 ? std::log1p(std::exp(-u)) : -u + std::log1p(std::exp(u)); }
  /// σ(−u) = 1/(1 + e^{u}), the weight of −y_i x_i in ∇L_i.
  static double sigma_neg(double u) { return u > 0 ? std::exp(-u) / (1 + std::exp(-u)) : 1 / (1 + std::exp(u)); }
};

/// m images of classes 0 (T-shirt/top, y = −1) and 1 (Trouser, y = +1) drawn at random from the
/// first 12000 training images (§V-C uses 100 "randomly selected" samples of the two classes).
logistic load(Index m, std::uint64_t seed, double pixel_scale) {
  const auto data = examples::load_fashion_mnist("train", 12000);
  std::vector<Index> pool;
  for (std::size_t s = 0; s < data.labels.size(); ++s)
    if (data.labels[s] == 0 || data.labels[s] == 1) pool.push_back(static_cast<Index>(s));
  std::mt19937_64 rng(seed);
  std::shuffle(pool.begin(), pool.end(), rng);
  m = std::min<Index>(m, static_cast<Index>(pool.size()));
  logistic out{mat(data.features.cols(), m), vec(m)};
  int plus = 0;
  for (Index i = 0; i < m; ++i) {
    const Index s = pool[static_cast<std::size_t>(i)];
    out.Xt.col(i) = pixel_scale * data.features.row(s).transpose();
    out.y[i] = data.labels[static_cast<std::size_t>(s)] == 1 ? 1.0 : -1.0;
    plus += out.y[i] > 0;
  }
  std::printf("data: %ld images (%d Trouser, %ld T-shirt/top), %ld pixels%s\n", static_cast<long>(m), plus,
              static_cast<long>(m - plus), static_cast<long>(out.Xt.rows()), data.synthetic ? " [SYNTHETIC stand-in]" : "");
  return out;
}

struct result {
  std::string label;
  examples::series loss, accuracy;
  std::vector<double> bits_to_threshold;  // per threshold: ψ at the first L̂ ≤ it, −1 if never
  std::uint64_t iterations = 0;
  double final_loss = 0;
  bool diverged = false;
};

result run(const std::string& label, const gradcode::gc_dl<double>& scheme, const logistic& prob, const vec& beta0,
           const options& o, double budget) {
  const Index m = scheme.samples();
  gradcode::communication_counter psi(scheme.bits_per_message());
  result r{label, {label, {}, {}}, {label, {}, {}}, std::vector<double>(o.thresholds.size(), -1.0)};
  vec beta = beta0, margin(m), g_hat(scheme.dimension());
  double next_mark = 0, next_report = budget / 5, initial = -1;
  const auto rho = static_cast<double>(scheme.bits_per_message());
  for (std::uint64_t t = 1;; ++t) {
    margin.noalias() = prob.Xt.transpose() * beta;
    margin.array() *= prob.y.array();  // u_i = y_i⟨β, x_i⟩
    double metric = 0;
    for (Index i = 0; i < m; ++i) metric += logistic::softplus_neg(margin[i]);
    const double accuracy = static_cast<double>((margin.array() > 0).count()) / static_cast<double>(m);
    if (initial < 0) initial = metric;
    const double bits = static_cast<double>(psi.psi());
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
      r.accuracy.x.push_back(bits);
      r.accuracy.y.push_back(accuracy);
      next_mark = std::max(bits * 1.03, bits + rho);
    }
    if (bits >= next_report || last) {
      std::printf("  %-30s t = %8llu  psi = %12.0f bits  L = %10.4f  training accuracy = %5.1f%%\n", label.c_str(),
                  static_cast<unsigned long long>(t - 1), bits, metric, 100 * accuracy);
      std::fflush(stdout);
      next_report += budget / 5;
    }
    if (last) {
      r.final_loss = metric;
      break;
    }
    const auto report = scheme.step(
        t,
        [&](Index j, Eigen::Ref<vec> f) {  // eq. (5): f_j = Σ_{i∈S_j} ∇L_i/(d_i(1 − p)), ∇L_i = −y_i σ(−u_i) x_i
          for (Index i : scheme.placement().partitions_of(j))
            f.noalias() += (-scheme.sample_weight(i) * prob.y[i] * logistic::sigma_neg(margin[i])) * prob.Xt.col(i);
        },
        g_hat);
    psi.record(report);
    beta -= (1e-3 / static_cast<double>(t)) * g_hat;  // eq. (7), γ_t = 0.001/t (§V-C)
    r.iterations = t;
  }
  if (r.diverged) std::printf("  %-30s diverged after t = %llu\n", label.c_str(), static_cast<unsigned long long>(r.iterations));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::filesystem::create_directories(o.out);
  const Index n = 10;
  const logistic prob = load(100, o.seed, o.pixel_scale);
  const Index m = prob.Xt.cols(), w = prob.Xt.rows();
  const double rho_sgc = 64.0 * static_cast<double>(w);
  const double budget = o.budget > 0 ? o.budget : (o.smoke ? rho_sgc * 5 : rho_sgc * 2000);
  std::printf(
      "li-skoglund §V-C logistic regression: m = %ld, w = %ld, n = %ld, d = 2, p = %.2f, gamma_t = 0.001/t, budget psi <= %.0f "
      "bits%s\n",
      static_cast<long>(m), static_cast<long>(w), static_cast<long>(n), o.p, budget, o.smoke ? " (smoke)" : "");
  vec beta0(w);
  {
    std::mt19937_64 rng(o.seed + 1000);
    std::normal_distribution<double> normal;
    for (Index k = 0; k < w; ++k) beta0[k] = normal(rng);
  }
  {
    const vec u = (prob.Xt.transpose() * beta0).cwiseProduct(prob.y);
    double l0 = 0;
    for (Index i = 0; i < m; ++i) l0 += logistic::softplus_neg(u[i]);
    std::printf("L at beta_0 = %.2f, training accuracy %.0f%%\n", l0,
                100.0 * static_cast<double>((u.array() > 0).count()) / static_cast<double>(m));
  }

  using gradcode::gc_dl_method;
  const auto redundant = gradcode::place_samples({.workers = n, .samples = m, .replication = 2, .seed = o.seed});
  const auto single = gradcode::place_samples({.workers = n, .samples = m, .replication = 1, .seed = o.seed});
  struct method {
    gc_dl_method kind;
    const gradcode::assignment* placement;
    const char* label;
  };
  const std::vector<method> methods{{gc_dl_method::one_bit, &redundant, "1-bit GC-DL (d=2)"},
                                    {gc_dl_method::sgc, &redundant, "SGC-DL (d=2)"},
                                    {gc_dl_method::ignore_stragglers, &single, "Ignore-stragglers 1-bit (d=1)"}};
  std::vector<result> results;
  for (const auto& me : methods) {
    const gradcode::gc_dl<double> scheme(
        {.placement = *me.placement, .dimension = w, .straggler_probability = o.p, .method = me.kind}, {.seed = o.seed});
    std::printf("%s: rho = %ld bits per message\n", me.label, static_cast<long>(scheme.bits_per_message()));
    results.push_back(run(me.label, scheme, prob, beta0, o, budget));
  }

  std::vector<examples::series> loss, accuracy;
  for (const auto& r : results) {
    loss.push_back(r.loss);
    accuracy.push_back(r.accuracy);
  }
  examples::write_plot(loss, o.out + "/onebit_logistic_fashion_loss.csv", o.out + "/onebit_logistic_fashion_loss.png",
                       "li-skoglund Fig. 8(b): Fashion-MNIST T-shirt vs Trouser, n = 10, d = 2, p = 0.1",
                       "communication overhead psi_t = t rho (bits)", "training loss L(A, beta_t)", true, true);
  examples::write_plot(accuracy, o.out + "/onebit_logistic_fashion_accuracy.csv", o.out + "/onebit_logistic_fashion_accuracy.png",
                       "Fashion-MNIST T-shirt vs Trouser: training accuracy", "communication overhead psi_t = t rho (bits)",
                       "training accuracy", true);
  examples::print_bits_table(results, o.thresholds, budget, "L");
  return 0;
}
