// SPDX-License-Identifier: MIT
// Training driver of li-skoglund §V: gradient descent β_{t+1} = β_t − γ_t ĝ_t (eq. (7)) with ĝ_t
// from a gc_dl scheme (1-bit GC-DL or a baseline), run until the communication overhead
// ψ_t = tρ (eq. (29)) would exceed a budget; records the metric against ψ (the x-axis of Figs. 2,
// 6, 8) and the ψ at which the metric first reaches each threshold. examples/onebit_*.cpp print
// it; tests/claims/ asserts "1-bit GC-DL needs fewer bits than SGC-DL" from the same calls.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/quantize/gc_dl.hpp"

namespace gradcode {

/// One point of a run: before iteration `iteration + 1`, after ψ = `bits` bits per worker.
struct gc_dl_point {
  std::uint64_t iteration = 0;  ///< t − 1: iterations done
  double bits = 0;              ///< ψ_{t−1}
  double metric = 0;            ///< the run's metric at β_t (what the thresholds apply to)
  double secondary = 0;         ///< a second figure at β_t (distance to the optimum, accuracy, …)
};

/// How a run goes; `budget` and `step_size` are required.
struct gc_dl_training_options {
  double budget = 0;                               ///< ψ budget: stop before ψ + ρ would exceed it (> 0)
  std::vector<double> thresholds;                  ///< metric targets, any order
  std::function<double(std::uint64_t)> step_size;  ///< γ_t for t = 1, 2, … (eq. (7))
  double divergence_factor = 1e3;  ///< diverged when the metric exceeds this × its value at β_0 (or is not finite)
  int reports = 5;                 ///< progress at ψ ≥ budget/reports, 2·budget/reports, …, and at the end
  std::function<void(const gc_dl_point&)> progress;  ///< optional
};

/// What a run measured.
struct gc_dl_training_result {
  std::vector<gc_dl_point> curve;         ///< log-spaced in ψ (a point when ψ grew by 3 %, at least by ρ), and the last
  std::vector<double> bits_to_threshold;  ///< per threshold: ψ at the first metric ≤ it, −1 if never
  std::uint64_t iterations = 0;           ///< iterations done
  double final_metric = 0;                ///< metric at the end (∞ when a local update overflowed)
  double final_secondary = 0;
  bool diverged = false;  ///< stopped by divergence_factor or an overflowing local update
};

/// Runs gradient descent from `beta` with `scheme`'s ĝ. `evaluate(β)` returns (metric,
/// secondary) and is called once per iteration before the step, so it may cache what `local`
/// needs (residuals, margins); `local(β, j, f)` adds worker j's eq. (5) update to f (zeroed).
/// Throws invalid_parameters for a budget ≤ 0, a missing step size or reports < 1. A local update
/// with NaN/Inf ends the run as diverged (the scheme refuses it with invalid_input).
template <class Scalar, class Evaluate, class LocalUpdate>
gc_dl_training_result train_gc_dl(const gc_dl<Scalar>& scheme, std::type_identity_t<vector<Scalar>> beta, Evaluate&& evaluate,
                                  LocalUpdate&& local, const gc_dl_training_options& options) {
  if (!(options.budget > 0) || !std::isfinite(options.budget))
    throw invalid_parameters("train_gc_dl: budget = " + detail::format_g(options.budget) + " bits; need a finite budget > 0");
  if (!options.step_size) throw invalid_parameters("train_gc_dl: no step size γ_t given (e.g. [](auto t) { return 1e-5 / t; })");
  if (options.reports < 1) throw invalid_parameters("train_gc_dl: reports = " + std::to_string(options.reports) + "; need >= 1");
  if (beta.size() != scheme.dimension())
    throw invalid_input("train_gc_dl: β has length " + std::to_string(beta.size()) +
                        ", the scheme w = " + std::to_string(scheme.dimension()));
  communication_counter psi(scheme.bits_per_message());
  gc_dl_training_result r;
  r.bits_to_threshold.assign(options.thresholds.size(), -1.0);
  vector<Scalar> g_hat(scheme.dimension());
  const double budget = options.budget, report_step = budget / options.reports;
  const auto rho = static_cast<double>(scheme.bits_per_message());
  double next_mark = 0, next_report = report_step, initial = -1;
  for (std::uint64_t t = 1;; ++t) {
    const auto [metric, secondary] = evaluate(static_cast<const vector<Scalar>&>(beta));
    if (initial < 0) initial = metric;
    const double bits = static_cast<double>(psi.psi());
    const gc_dl_point point{t - 1, bits, metric, secondary};
    if (!std::isfinite(metric) || metric > options.divergence_factor * initial) {  // stop before the plot's scale is lost
      r.diverged = true;
      r.final_metric = metric;
      r.final_secondary = secondary;
      break;
    }
    for (std::size_t h = 0; h < options.thresholds.size(); ++h)
      if (r.bits_to_threshold[h] < 0 && metric <= options.thresholds[h]) r.bits_to_threshold[h] = bits;
    const bool last = bits + rho > budget;
    if (bits >= next_mark || last) {
      r.curve.push_back(point);
      next_mark = std::max(bits * 1.03, bits + rho);
    }
    if ((bits >= next_report || last) && options.progress) options.progress(point);
    if (bits >= next_report) next_report += report_step;
    if (last) {
      r.final_metric = metric;
      r.final_secondary = secondary;
      break;
    }
    try {
      const auto report = scheme.step(
          t, [&](Index j, Eigen::Ref<vector<Scalar>> f) { local(static_cast<const vector<Scalar>&>(beta), j, f); }, g_hat);
      psi.record(report);
    } catch (const invalid_input&) {  // an overflowing f_j: the run has diverged
      r.diverged = true;
      r.final_metric = std::numeric_limits<double>::infinity();
      r.final_secondary = secondary;
      break;
    }
    beta -= static_cast<Scalar>(options.step_size(t)) * g_hat;
    r.iterations = t;
  }
  return r;
}

}  // namespace gradcode
