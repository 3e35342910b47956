// SPDX-License-Identifier: MIT
// Per-worker history of the two-stage dynamic code (wang TSDCFL §II-4, §4.2): the throughput W_m
// (partitions finished per unit time, eq. (16)) as an exponentially weighted moving average of the
// observed rates, and the straggler count s_<i> predicted for the next epoch as P1's conditional
// expectation E[s_<i> | s_<i−1>] (eq. (14)) from the observed sequence s_<1>, s_<2>, …
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

namespace detail {
/// The throughputs W_m scaled by a power of two so that the largest is in [1, 2): eq. (16) only
/// uses ratios W_m/ΣW, which this keeps bit for bit, while ΣW and (copies)·W can no longer
/// overflow for W up to DBL_MAX. A W more than 2^1074 below the largest keeps the smallest
/// positive double (its share rounds to 0 either way). Precondition: every W positive, finite.
inline std::vector<double> relative_throughputs(std::span<const double> w) {
  double top = 0;
  for (double x : w) top = std::max(top, x);
  std::vector<double> out(w.size());
  if (w.empty()) return out;
  const int e = std::ilogb(top);
  for (std::size_t i = 0; i < w.size(); ++i) out[i] = std::max(std::ldexp(w[i], -e), std::numeric_limits<double>::denorm_min());
  return out;
}
}  // namespace detail

struct history_options {
  /// α of the EWMA W_m ← (1 − α)·W_m + α·(observed rate); in (0, 1].
  double smoothing = 0.3;
  /// A worker counts as a straggler of an epoch when its observed rate is below this fraction of
  /// its W_m before the epoch; in (0, 1).
  double straggler_ratio = 0.5;
  /// s predicted before any epoch was observed.
  Index initial_stragglers = 1;
};

/// One worker's measurement in an epoch: `partitions` computed in `seconds` of computing. A
/// worker cancelled before finishing reports the partitions it completed so far (its rate is as
/// informative as a finished worker's). seconds ≤ 0 means "not observed" (idle this epoch).
struct worker_observation {
  double partitions = 0;
  double seconds = 0;
};

/// Completion-time history of M workers. Not thread-safe for concurrent updates; const queries
/// may run concurrently.
class worker_history {
 public:
  /// `initial_throughputs[m]` is the W_m assumed before any observation (e.g. the core count),
  /// M = size. Throws invalid_parameters on an empty list, a non-positive or non-finite W_m, or
  /// options outside their ranges.
  explicit worker_history(std::vector<double> initial_throughputs, const history_options& options = {})
      : m_throughput(std::move(initial_throughputs)), m_options(options) {
    if (m_throughput.empty()) throw invalid_parameters("worker history: no workers (initial_throughputs is empty)");
    for (std::size_t m = 0; m < m_throughput.size(); ++m)
      if (!(m_throughput[m] > 0) || !std::isfinite(m_throughput[m]))
        throw invalid_parameters("worker history: worker " + std::to_string(m) + " has initial throughput W = " +
                                 detail::format_g(m_throughput[m]) + "; throughputs must be positive and finite");
    if (!(options.smoothing > 0 && options.smoothing <= 1))
      throw invalid_parameters("worker history: smoothing alpha = " + detail::format_g(options.smoothing) +
                               " must be in (0, 1] (0.3 would fit)");
    if (!(options.straggler_ratio > 0 && options.straggler_ratio < 1))
      throw invalid_parameters("worker history: straggler_ratio = " + detail::format_g(options.straggler_ratio) +
                               " must be in (0, 1) (0.5 would fit)");
    if (options.initial_stragglers < 0 || options.initial_stragglers >= workers())
      throw invalid_parameters("worker history: initial_stragglers = " + std::to_string(options.initial_stragglers) +
                               " must be in [0, M = " + std::to_string(workers()) + ")");
  }

  /// M.
  Index workers() const noexcept { return static_cast<Index>(m_throughput.size()); }
  /// W_m, partitions per unit time (eq. (16)).
  double throughput(Index worker) const { return m_throughput.at(check(worker)); }
  const std::vector<double>& throughputs() const noexcept { return m_throughput; }
  /// The observed straggler counts s_<1>, s_<2>, … in epoch order.
  const std::vector<Index>& straggler_counts() const noexcept { return m_counts; }
  const history_options& options() const noexcept { return m_options; }

  /// True when `obs` is slow enough to count as a straggler against the current W_m.
  bool is_straggler(Index worker, const worker_observation& obs) const {
    check(worker);
    if (!(obs.seconds > 0)) return false;
    return obs.partitions / obs.seconds < m_options.straggler_ratio * m_throughput[static_cast<std::size_t>(worker)];
  }

  /// Records one epoch: classifies every observed worker against its W_m before the epoch
  /// (straggler when its rate < straggler_ratio·W_m), appends the count to the straggler
  /// sequence, then folds the observed rates into the EWMA. Returns the count. Throws
  /// invalid_input when `epoch` does not have M entries, an entry is negative / non-finite, or a
  /// rate partitions/seconds overflows double; the history is unchanged then. W_m stays positive
  /// and finite whatever the (finite) observations.
  Index observe_epoch(std::span<const worker_observation> epoch) {
    if (static_cast<Index>(epoch.size()) != workers())
      throw invalid_input("worker history: " + std::to_string(epoch.size()) +
                          " observations for M = " + std::to_string(workers()) + " workers");
    for (std::size_t m = 0; m < epoch.size(); ++m) {
      if (!(epoch[m].partitions >= 0) || !std::isfinite(epoch[m].partitions) || !std::isfinite(epoch[m].seconds))
        throw invalid_input("worker history: worker " + std::to_string(m) + " reports " + detail::format_g(epoch[m].partitions) +
                                " partitions in " + detail::format_g(epoch[m].seconds) + " s",
                            static_cast<long long>(m));
      // A rate of +inf would make W_m infinite and every later share ∞/∞ (eq. (16)).
      if (epoch[m].seconds > 0 && !std::isfinite(epoch[m].partitions / epoch[m].seconds))
        throw invalid_input("worker history: worker " + std::to_string(m) + " reports " + detail::format_g(epoch[m].partitions) +
                                " partitions in " + detail::format_g(epoch[m].seconds) + " s, a rate beyond the double range",
                            static_cast<long long>(m));
    }
    Index count = 0;
    for (std::size_t m = 0; m < epoch.size(); ++m) count += is_straggler(static_cast<Index>(m), epoch[m]) ? 1 : 0;
    record_straggler_count(count);
    for (std::size_t m = 0; m < epoch.size(); ++m) {
      // A worker that computed nothing in a positive time gives rate 0: keep a floor so that W_m
      // stays positive (eq. (16) divides by Σ W) and the worker can recover.
      if (!(epoch[m].seconds > 0)) continue;
      const double W = m_throughput[m];
      const double rate = std::max({epoch[m].partitions / epoch[m].seconds, 1e-6 * W, std::numeric_limits<double>::denorm_min()});
      // W + α(rate − W) lies between W and rate (no overflow for W, rate up to DBL_MAX, unlike
      // (1 − α)W + α·rate); the clamp keeps rounding from leaving that interval.
      m_throughput[m] = std::clamp(W + m_options.smoothing * (rate - W), std::min(W, rate), std::max(W, rate));
    }
    return count;
  }

  /// Appends s_<i> directly (when stragglers are known by other means). Throws invalid_input on
  /// a count outside [0, M].
  void record_straggler_count(Index count) {
    if (count < 0 || count > workers())
      throw invalid_input("worker history: straggler count " + std::to_string(count) +
                          " outside [0, M = " + std::to_string(workers()) + "]");
    if (!m_counts.empty()) ++m_transitions[m_counts.back()][count];
    m_counts.push_back(count);
  }

  /// P1's E[s_<i> | s_<i−1>] (eq. (14)): the mean of the counts that followed earlier epochs with
  /// the same count as the last one (a first-order Markov estimate); the mean of all counts when
  /// that state has no successor yet; options().initial_stragglers before any history.
  double expected_stragglers() const {
    if (m_counts.empty()) return static_cast<double>(m_options.initial_stragglers);
    const auto it = m_transitions.find(m_counts.back());
    if (it != m_transitions.end()) {
      double n = 0, sum = 0;
      for (const auto& [next, times] : it->second) {
        n += static_cast<double>(times);
        sum += static_cast<double>(next) * static_cast<double>(times);
      }
      return sum / n;
    }
    double sum = 0;
    for (Index c : m_counts) sum += static_cast<double>(c);
    return sum / static_cast<double>(m_counts.size());
  }

  /// s_<i> for the next epoch: ⌈E[s_<i> | s_<i−1>]⌉ (rounded up: tolerating one straggler too
  /// many costs a few redundant copies, one too few costs a wait for a straggler), clamped to
  /// [0, max_tolerance].
  Index predicted_stragglers(Index max_tolerance) const {
    const double e = expected_stragglers();
    const auto s = static_cast<Index>(std::ceil(e - 1e-9));
    return std::clamp<Index>(s, 0, std::max<Index>(0, max_tolerance));
  }

 private:
  std::size_t check(Index worker) const {
    if (worker < 0 || worker >= workers())
      throw invalid_input("worker id " + std::to_string(worker) + " is outside [0, " + std::to_string(workers()) + ")", worker);
    return static_cast<std::size_t>(worker);
  }

  std::vector<double> m_throughput;
  history_options m_options;
  std::vector<Index> m_counts;
  std::map<Index, std::map<Index, Index>> m_transitions;  // s_<i−1> → (s_<i> → times seen)
};

}  // namespace gradcode
