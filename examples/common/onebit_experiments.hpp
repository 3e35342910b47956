// SPDX-License-Identifier: MIT
// The three li-skoglund §V experiments of examples/onebit_*.cpp — linear regression (§V-A,
// Fig. 2), Rosenbrock (§V-B, Fig. 6), Fashion-MNIST logistic regression (§V-C, Fig. 8(b)) — each
// as one function that builds the problem and runs 1-bit GC-DL, SGC-DL and ignore-stragglers
// 1-bit DL on it under the same ψ budget (gradcode/sim/gc_dl_training.hpp). The programs print
// and plot the result; tests/claims/ asserts the bit counts from the same functions. `log`
// (nullable) gets the programs' progress lines. Not part of the library.
#pragma once

#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>
#include <gradcode/sim/gc_dl_training.hpp>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/fashion_mnist.hpp"

namespace examples {

/// One experiment's knobs (the programs' flags).
struct onebit_setup {
  std::uint64_t seed = 1;
  double budget = 0;               ///< ψ budget in bits per worker (> 0)
  std::vector<double> thresholds;  ///< metric targets
  double p = 0.1;                  ///< straggler probability
  double pixel_scale = 1;          ///< logistic only: features are pixel/255 · pixel_scale
};

/// One method's run.
struct onebit_run {
  std::string label;
  gradcode::Index rho = 0;  ///< bits per message
  gradcode::gc_dl_training_result result;
};

namespace detail {
using gradcode::Index;
using vec = gradcode::vector<double>;

/// printf to `log` unless it is null.
__attribute__((format(printf, 2, 3))) inline void say(std::FILE* log, const char* format, ...) {
  if (!log) return;
  std::va_list args;
  va_start(args, format);
  std::vfprintf(log, format, args);
  va_end(args);
  std::fflush(log);
}

/// β_0 ~ N(0, I) from seed + 1000 (every experiment).
inline vec initial_beta(Index w, std::uint64_t seed) {
  std::mt19937_64 rng(seed + 1000);
  std::normal_distribution<double> normal;
  vec beta0(w);
  for (Index k = 0; k < w; ++k) beta0[k] = normal(rng);
  return beta0;
}

/// The three methods on one problem: 1-bit GC-DL and SGC-DL with d_i = `replication`, the
/// ignore-stragglers 1-bit scheme with d_i = 1. `run(label, scheme)` runs one of them; a
/// diverged run is reported on `log` with the label padded to `label_width`.
template <class Run>
std::vector<onebit_run> three_methods(Index workers, Index samples, Index w, Index replication, const onebit_setup& s,
                                      std::FILE* log, int label_width, Run&& run) {
  using gradcode::gc_dl_method;
  const auto redundant =
      gradcode::place_samples({.workers = workers, .samples = samples, .replication = replication, .seed = s.seed});
  const auto single = gradcode::place_samples({.workers = workers, .samples = samples, .replication = 1, .seed = s.seed});
  const std::string d = std::to_string(replication);
  struct method {
    gc_dl_method kind;
    const gradcode::assignment* placement;
    std::string label;
  };
  const std::vector<method> methods{{gc_dl_method::one_bit, &redundant, "1-bit GC-DL (d=" + d + ")"},
                                    {gc_dl_method::sgc, &redundant, "SGC-DL (d=" + d + ")"},
                                    {gc_dl_method::ignore_stragglers, &single, "Ignore-stragglers 1-bit (d=1)"}};
  std::vector<onebit_run> out;
  for (const auto& me : methods) {
    const gradcode::gc_dl<double> scheme(
        {.placement = *me.placement, .dimension = w, .straggler_probability = s.p, .method = me.kind, .seed = s.seed});
    say(log, "%s: rho = %ld bits per message\n", me.label.c_str(), static_cast<long>(scheme.bits_per_message()));
    out.push_back({me.label, scheme.bits_per_message(), run(me.label, scheme)});
    if (out.back().result.diverged)
      say(log, "  %-*s diverged after t = %llu\n", label_width, me.label.c_str(),
          static_cast<unsigned long long>(out.back().result.iterations));
  }
  return out;
}

/// Options of one run: γ_t, the setup's budget and thresholds, progress lines printed by `print`.
template <class Print>
gradcode::gc_dl_training_options run_options(const onebit_setup& s, std::function<double(std::uint64_t)> step, std::FILE* log,
                                             Print print) {
  gradcode::gc_dl_training_options o;
  o.budget = s.budget;
  o.thresholds = s.thresholds;
  o.step_size = std::move(step);
  if (log) o.progress = [log, print](const gradcode::gc_dl_point& p) { print(p), std::fflush(log); };
  return o;
}
}  // namespace detail

// ---- §V-A linear regression ---------------------------------------------------------------------

/// §V-A data: A = [X, y], X ∈ R^{m×l} with N(0, 100) entries, β* ~ N(0, I), y = Xβ* + N(0, 1).
struct regression_problem {
  gradcode::matrix<double> Xt;  ///< l × m: column i is x_i (contiguous per sample)
  gradcode::vector<double> y, beta_star;
};

inline regression_problem make_regression_problem(gradcode::Index m, gradcode::Index l, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  regression_problem p{gradcode::matrix<double>(l, m), gradcode::vector<double>(m), gradcode::vector<double>(l)};
  for (gradcode::Index k = 0; k < l; ++k) p.beta_star[k] = normal(rng);
  for (gradcode::Index i = 0; i < m; ++i)
    for (gradcode::Index k = 0; k < l; ++k) p.Xt(k, i) = 10.0 * normal(rng);  // N(0, 100): variance 100
  p.y = p.Xt.transpose() * p.beta_star;
  for (gradcode::Index i = 0; i < m; ++i) p.y[i] += normal(rng);
  return p;
}

/// §V-A: m = 1000 samples, w = 100, n = 100 workers, d_i = 20, γ_t = 1e-5/t; metric √(2L̂)
/// (eq. (28)), secondary ‖β − β*‖.
inline std::vector<onebit_run> linear_regression_experiment(const onebit_setup& s, std::FILE* log) {
  using detail::vec;
  const gradcode::Index m = 1000, l = 100, n = 100;
  const regression_problem prob = make_regression_problem(m, l, s.seed);
  const vec beta0 = detail::initial_beta(l, s.seed);
  if (log) {
    const vec best = prob.Xt.transpose().colPivHouseholderQr().solve(prob.y);
    detail::say(log, "sqrt(2L) at beta_0 = %.1f, at the least-squares optimum = %.2f\n",
                (prob.Xt.transpose() * beta0 - prob.y).norm(), (prob.Xt.transpose() * best - prob.y).norm());
  }
  return detail::three_methods(n, m, l, 20, s, log, 28, [&](const std::string& label, const gradcode::gc_dl<double>& scheme) {
    vec residual(m);
    const auto evaluate = [&](const vec& beta) {
      residual.noalias() = prob.Xt.transpose() * beta - prob.y;           // ∇L(a_i, β) = r_i x_i
      return std::pair{residual.norm(), (beta - prob.beta_star).norm()};  // √(2L̂(A, β)), eq. (28)
    };
    const auto local = [&](const vec&, gradcode::Index j,
                           Eigen::Ref<vec> f) {  // eq. (5): f_j = Σ_{i∈S_j} r_i x_i / (d_i (1 − p))
      for (gradcode::Index i : scheme.placement().partitions_of(j))
        f.noalias() += (scheme.sample_weight(i) * residual[i]) * prob.Xt.col(i);
    };
    const auto options = detail::run_options(
        s, [](std::uint64_t t) { return 1e-5 / static_cast<double>(t); }, log,  // γ_t = 1e-5/t (§V-A)
        [log, label](const gradcode::gc_dl_point& p) {
          std::fprintf(log, "  %-28s t = %7llu  psi = %11.0f bits  sqrt(2L) = %10.3f  |beta - beta*| = %8.4f\n", label.c_str(),
                       static_cast<unsigned long long>(p.iteration), p.bits, p.metric, p.secondary);
        });
    return gradcode::train_gc_dl(scheme, beta0, evaluate, local, options);
  });
}

// ---- §V-B Rosenbrock ----------------------------------------------------------------------------

/// eq. (30): sample i (0-based) is the term 100(β_{i+1} − β_i²)² + (1 − β_i)²; its gradient has
/// two nonzeros, at i and i + 1.
struct rosenbrock_problem {
  gradcode::Index m;
  double loss(const gradcode::vector<double>& b) const {
    double s = 0;
    for (gradcode::Index i = 0; i < m; ++i)
      s += 100 * (b[i + 1] - b[i] * b[i]) * (b[i + 1] - b[i] * b[i]) + (1 - b[i]) * (1 - b[i]);
    return s;
  }
  /// f += c·∇L_i(β)
  static void add_gradient(const gradcode::vector<double>& b, gradcode::Index i, double c,
                           Eigen::Ref<gradcode::vector<double>> f) {
    const double u = b[i + 1] - b[i] * b[i];
    f[i] += c * (-400 * b[i] * u - 2 * (1 - b[i]));
    f[i + 1] += c * 200 * u;
  }
};

/// §V-B: m = 1000 terms, w = 1001, n = 100 workers, d_i = 10, γ = 1e-5; metric L̂, secondary
/// ‖β − 1‖.
inline std::vector<onebit_run> rosenbrock_experiment(const onebit_setup& s, std::FILE* log) {
  using detail::vec;
  const gradcode::Index m = 1000, w = m + 1, n = 100;
  const rosenbrock_problem prob{m};
  const vec beta0 = detail::initial_beta(w, s.seed);
  detail::say(log, "L at beta_0 = %.1f, at the optimum beta = 1: 0\n", prob.loss(beta0));
  return detail::three_methods(n, m, w, 10, s, log, 30, [&](const std::string& label, const gradcode::gc_dl<double>& scheme) {
    const vec ones = vec::Ones(w);
    const auto evaluate = [&](const vec& beta) { return std::pair{prob.loss(beta), (beta - ones).norm()}; };
    const auto local = [&](const vec& beta, gradcode::Index j,
                           Eigen::Ref<vec> f) {  // eq. (5): f_j = Σ_{i∈S_j} ∇L_i / (d_i (1 − p))
      for (gradcode::Index i : scheme.placement().partitions_of(j))
        rosenbrock_problem::add_gradient(beta, i, scheme.sample_weight(i), f);
    };
    const auto options = detail::run_options(
        s, [](std::uint64_t) { return 1e-5; }, log,  // γ = 1e-5 (§V-B)
        [log, label](const gradcode::gc_dl_point& p) {
          std::fprintf(log, "  %-30s t = %8llu  psi = %12.0f bits  L = %12.4f  |beta - 1| = %9.4f\n", label.c_str(),
                       static_cast<unsigned long long>(p.iteration), p.bits, p.metric, p.secondary);
        });
    return gradcode::train_gc_dl(scheme, beta0, evaluate, local, options);
  });
}

// ---- §V-C Fashion-MNIST logistic regression ------------------------------------------------------

/// eq. (31) on m images: Xt is 784 × m (column i = x_i), y_i = ±1.
struct logistic_problem {
  gradcode::matrix<double> Xt;
  gradcode::vector<double> y;
  bool synthetic = false;  ///< the loader's stand-in was used
  /// log(1 + e^{−u}) without overflow.
  static double softplus_neg(double u) { return u > 0 ? std::log1p(std::exp(-u)) : -u + std::log1p(std::exp(u)); }
  /// σ(−u) = 1/(1 + e^{u}), the weight of −y_i x_i in ∇L_i.
  static double sigma_neg(double u) { return u > 0 ? std::exp(-u) / (1 + std::exp(-u)) : 1 / (1 + std::exp(u)); }
};

/// m images of classes 0 (T-shirt/top, y = −1) and 1 (Trouser, y = +1) drawn at random from the
/// first 12000 training images (§V-C uses 100 "randomly selected" samples of the two classes).
inline logistic_problem load_logistic_problem(gradcode::Index m, std::uint64_t seed, double pixel_scale, std::FILE* log) {
  const auto data = load_fashion_mnist("train", 12000);
  std::vector<gradcode::Index> pool;
  for (std::size_t s = 0; s < data.labels.size(); ++s)
    if (data.labels[s] == 0 || data.labels[s] == 1) pool.push_back(static_cast<gradcode::Index>(s));
  std::mt19937_64 rng(seed);
  std::shuffle(pool.begin(), pool.end(), rng);
  m = std::min<gradcode::Index>(m, static_cast<gradcode::Index>(pool.size()));
  logistic_problem out{gradcode::matrix<double>(data.features.cols(), m), gradcode::vector<double>(m), data.synthetic};
  int plus = 0;
  for (gradcode::Index i = 0; i < m; ++i) {
    const gradcode::Index s = pool[static_cast<std::size_t>(i)];
    out.Xt.col(i) = pixel_scale * data.features.row(s).transpose();
    out.y[i] = data.labels[static_cast<std::size_t>(s)] == 1 ? 1.0 : -1.0;
    plus += out.y[i] > 0;
  }
  detail::say(log, "data: %ld images (%d Trouser, %ld T-shirt/top), %ld pixels%s\n", static_cast<long>(m), plus,
              static_cast<long>(m - plus), static_cast<long>(out.Xt.rows()), data.synthetic ? " [SYNTHETIC stand-in]" : "");
  return out;
}

/// §V-C on `prob`: n = 10 workers, d_i = 2, γ_t = 0.001/t; metric L̂ (eq. (31)), secondary the
/// training accuracy.
inline std::vector<onebit_run> logistic_experiment(const logistic_problem& prob, const onebit_setup& s, std::FILE* log) {
  using detail::vec;
  const gradcode::Index n = 10, m = prob.Xt.cols(), w = prob.Xt.rows();
  const vec beta0 = detail::initial_beta(w, s.seed);
  if (log) {
    const vec u = (prob.Xt.transpose() * beta0).cwiseProduct(prob.y);
    double l0 = 0;
    for (gradcode::Index i = 0; i < m; ++i) l0 += logistic_problem::softplus_neg(u[i]);
    detail::say(log, "L at beta_0 = %.2f, training accuracy %.0f%%\n", l0,
                100.0 * static_cast<double>((u.array() > 0).count()) / static_cast<double>(m));
  }
  return detail::three_methods(n, m, w, 2, s, log, 30, [&](const std::string& label, const gradcode::gc_dl<double>& scheme) {
    vec margin(m);
    const auto evaluate = [&](const vec& beta) {
      margin.noalias() = prob.Xt.transpose() * beta;
      margin.array() *= prob.y.array();  // u_i = y_i⟨β, x_i⟩
      double metric = 0;
      for (gradcode::Index i = 0; i < m; ++i) metric += logistic_problem::softplus_neg(margin[i]);
      return std::pair{metric, static_cast<double>((margin.array() > 0).count()) / static_cast<double>(m)};
    };
    const auto local = [&](const vec&, gradcode::Index j, Eigen::Ref<vec> f) {  // eq. (5), ∇L_i = −y_i σ(−u_i) x_i
      for (gradcode::Index i : scheme.placement().partitions_of(j))
        f.noalias() += (-scheme.sample_weight(i) * prob.y[i] * logistic_problem::sigma_neg(margin[i])) * prob.Xt.col(i);
    };
    const auto options = detail::run_options(
        s, [](std::uint64_t t) { return 1e-3 / static_cast<double>(t); }, log,  // γ_t = 0.001/t (§V-C)
        [log, label](const gradcode::gc_dl_point& p) {
          std::fprintf(log, "  %-30s t = %8llu  psi = %12.0f bits  L = %10.4f  training accuracy = %5.1f%%\n", label.c_str(),
                       static_cast<unsigned long long>(p.iteration), p.bits, p.metric, 100 * p.secondary);
        });
    return gradcode::train_gc_dl(scheme, beta0, evaluate, local, options);
  });
}

}  // namespace examples
