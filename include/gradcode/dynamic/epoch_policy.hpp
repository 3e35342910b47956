// SPDX-License-Identifier: MIT
// The per-epoch choices of the two-stage dynamic code (wang TSDCFL §II-2, §4.2): how many and
// which workers start in stage 1 (M1), the stage-1 deadline T_comp, and the straggler tolerance
// s_<i> of stage 2, all from the worker history (throughputs W_m, P1's predicted s, eq. (14)).
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/dynamic/history.hpp"

namespace gradcode {

/// Which workers start in stage 1.
enum class stage_one_selection {
  random,   ///< M1 workers uniformly at random (§4.2: "we random select M_1 workers")
  fastest,  ///< the M1 workers of highest W_m; the slowest are held back for stage 2
  slowest,  ///< the M1 workers of lowest W_m; the fastest are held back to rescue stage 2
};

/// How an epoch is set up; all defaulted.
struct epoch_policy {
  /// M1. 0 selects M − ŝ (hold back as many workers as stragglers are predicted, so stage 2 can
  /// place the s further copies of eq. (16) on distinct new workers), at least 1.
  Index stage_one_workers = 0;
  stage_one_selection selection = stage_one_selection::random;
  /// T_comp = (1 + slack)·max_m n_m/W_m over the stage-1 workers (their predicted makespan).
  double deadline_slack = 0.25;
  /// > 0: use this T_comp instead of the predicted one (same time unit as 1/W_m).
  double fixed_deadline = 0;
  /// > 0: add this to the predicted T_comp (e.g. the upload latency of a stage-1 result).
  double deadline_offset = 0;
};

/// What the master does in an epoch.
struct epoch_decision {
  std::vector<Index> stage_one_workers;  ///< the M1 workers, increasing
  double deadline = 0;                   ///< T_comp
  Index straggler_tolerance = 0;         ///< s_<i> for stage 2 (≤ M − M1)
  Index predicted_stragglers = 0;        ///< ŝ of the history before clamping to M − M1
};

/// Epoch decision from `history` for K = `partitions`. `rng` drives the random selection only.
/// Throws invalid_parameters when K < 1 or K > limits::max_partitions (what two_stage_code
/// accepts), M1 > M, a negative or non-finite slack, fixed deadline or offset, or when the
/// predicted T_comp overflows double (throughputs so small, or a slack so large, that
/// (1 + slack)·max n_m/W_m + offset is beyond the double range; use fixed_deadline).
template <class URNG>
epoch_decision decide_epoch(const worker_history& history, Index partitions, const epoch_policy& policy, URNG& rng) {
  const Index M = history.workers();
  if (partitions < 1) throw invalid_parameters("epoch policy: K = " + std::to_string(partitions) + "; need K >= 1");
  if (partitions > limits::max_partitions)
    throw invalid_parameters("epoch policy: K = " + std::to_string(partitions) +
                             " exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
  if (policy.stage_one_workers < 0 || policy.stage_one_workers > M)
    throw invalid_parameters("epoch policy: M1 = " + std::to_string(policy.stage_one_workers) +
                             " outside [0, M = " + std::to_string(M) + "] (0 = choose from the predicted stragglers)");
  if (!(policy.deadline_slack >= 0) || !std::isfinite(policy.deadline_slack) || !std::isfinite(policy.fixed_deadline) ||
      !(policy.fixed_deadline >= 0) || !(policy.deadline_offset >= 0) || !std::isfinite(policy.deadline_offset))
    throw invalid_parameters("epoch policy: deadline_slack = " + detail::format_g(policy.deadline_slack) +
                             ", fixed_deadline = " + detail::format_g(policy.fixed_deadline) +
                             ", deadline_offset = " + detail::format_g(policy.deadline_offset) + "; all must be finite and >= 0");
  epoch_decision out;
  out.predicted_stragglers = history.predicted_stragglers(M - 1);
  const Index m1 = policy.stage_one_workers > 0 ? policy.stage_one_workers : std::max<Index>(1, M - out.predicted_stragglers);
  out.straggler_tolerance = std::min(out.predicted_stragglers, M - m1);

  std::vector<Index> order(static_cast<std::size_t>(M));
  std::iota(order.begin(), order.end(), Index{0});
  const auto& W = history.throughputs();
  switch (policy.selection) {
    case stage_one_selection::random:
      std::shuffle(order.begin(), order.end(), rng);
      break;
    case stage_one_selection::fastest:
      std::stable_sort(order.begin(), order.end(),
                       [&](Index a, Index b) { return W[static_cast<std::size_t>(a)] > W[static_cast<std::size_t>(b)]; });
      break;
    case stage_one_selection::slowest:
      std::stable_sort(order.begin(), order.end(),
                       [&](Index a, Index b) { return W[static_cast<std::size_t>(a)] < W[static_cast<std::size_t>(b)]; });
      break;
  }
  out.stage_one_workers.assign(order.begin(), order.begin() + m1);
  std::sort(out.stage_one_workers.begin(), out.stage_one_workers.end());

  if (policy.fixed_deadline > 0) {
    out.deadline = policy.fixed_deadline;
  } else {
    // The same loads two_stage_code gives the stage-1 workers (sorted ids, n_m ∝ W_m).
    std::vector<double> w;
    for (Index m : out.stage_one_workers) w.push_back(W[static_cast<std::size_t>(m)]);
    const auto loads = proportional_loads(partitions, detail::relative_throughputs(w), partitions);
    double makespan = 0;
    for (std::size_t j = 0; j < w.size(); ++j) makespan = std::max(makespan, static_cast<double>(loads[j]) / w[j]);
    out.deadline = (1 + policy.deadline_slack) * makespan + policy.deadline_offset;
    if (!std::isfinite(out.deadline))
      throw invalid_parameters("epoch policy: the predicted T_comp = (1 + " + detail::format_g(policy.deadline_slack) + ")·" +
                               detail::format_g(makespan) + " + " + detail::format_g(policy.deadline_offset) +
                               " overflows double (stage-1 throughputs too small or deadline_slack too large); "
                               "set fixed_deadline instead");
  }
  return out;
}

}  // namespace gradcode
