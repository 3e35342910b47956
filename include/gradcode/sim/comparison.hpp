// SPDX-License-Identifier: MIT
// tang2024 §V's comparison (Table I, Fig. 6, Fig. 8) as one function: trains softmax regression
// with each of the seven schemes of §V-A through its real encode/decode path on the runtime model
// and returns, per scheme, its tolerances, loads, learning curve against simulated time, mean
// iteration time and time to a target accuracy. examples/demo.cpp prints it as the table;
// tests/claims/ asserts README's ordering from the same call.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/hierarchical/tradeoff.hpp"
#include "gradcode/optimize/runtime_model.hpp"
#include "gradcode/sim/models.hpp"
#include "gradcode/sim/schemes.hpp"
#include "gradcode/sim/training.hpp"

namespace gradcode {

/// What is compared; required fields first.
struct comparison_params {
  runtime_model timing;              ///< §IV-A runtime model (e.g. tang2024_setting())
  Index partitions = 40;             ///< K
  std::vector<scheme> schemes;       ///< one row each, in this order
  Index edge_tolerance = 1;          ///< s_e of the fixed schemes (the paper does not state it; README)
  Index worker_tolerance = 1;        ///< s_w of the fixed schemes
  Index jncss_edge_tolerance = 0;    ///< ŝ_e of HGC-JNCSS (jncss(timing, K).edge_tolerance)
  Index jncss_worker_tolerance = 0;  ///< ŝ_w of HGC-JNCSS
  double target_accuracy = 0.75;     ///< Table I's "time to target"
  std::uint64_t seed = 1;            ///< seed of the codes' constructions (scheme_runner)
};

/// One row of the table.
struct comparison_row {
  std::string name;
  scheme which = scheme::uncoded;
  Index edge_tolerance = 0, worker_tolerance = 0;  ///< the scheme's (s_e, s_w)
  Index load = 0;                                  ///< partitions of worker (0, 0)
  Index master_load = 0;                           ///< d-vectors the master receives per iteration (Fig. 7)
  training_result result;                          ///< curve, mean iteration time, gradient error
  double time_to_target_ms = -1;  ///< simulated time of the first curve point with test accuracy ≥ target; −1: never
};

/// Trains `model` from zero weights with every scheme of `params` (the same training options,
/// hence the same runtime-model draws per seed, for each) and returns the rows in order.
/// `progress` (optional) is called at every evaluation with the scheme's runner and the point;
/// options.progress is ignored. Throws invalid_parameters when a scheme's code cannot be built
/// or the list of schemes is empty.
template <class Scalar>
std::vector<comparison_row> compare_schemes(
    const comparison_params& params, const softmax_regression<Scalar>& model, const partitioned_data<Scalar>& train,
    const matrix<Scalar>& test_features, const std::vector<int>& test_labels, training_options options,
    const std::function<void(const scheme_runner<Scalar>&, const training_point&)>& progress = {}) {
  if (params.schemes.empty()) throw invalid_parameters("compare_schemes: no schemes given; pass at least one");
  std::vector<comparison_row> rows;
  for (const scheme which : params.schemes) {
    const bool jn = which == scheme::hgc_jncss;
    const scheme_runner<Scalar> runner(which, params.timing, params.partitions,
                                       jn ? params.jncss_edge_tolerance : params.edge_tolerance,
                                       jn ? params.jncss_worker_tolerance : params.worker_tolerance, params.seed);
    options.progress = nullptr;
    if (progress) options.progress = [&](const training_point& p) { progress(runner, p); };
    comparison_row row{runner.name(),
                       which,
                       runner.edge_tolerance(),
                       runner.worker_tolerance(),
                       runner.load(0, 0),
                       runner.master_load(),
                       train_softmax(runner, model, train, test_features, test_labels, options),
                       -1};
    for (const auto& p : row.result.curve)
      if (p.test_accuracy >= params.target_accuracy) {
        row.time_to_target_ms = p.time_ms;
        break;
      }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace gradcode
