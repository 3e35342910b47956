// SPDX-License-Identifier: MIT
// One simulated round of the polynomial hierarchical code (tests, examples, benchmarks): the
// faults of gholami2025 §II (s1/s2 stragglers, a1/a2 adversaries at relays and workers), what the
// round produced, and the driver behind polynomial_hgc::simulate_round (§V-B end to end).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"
#include "gradcode/robust/reed_solomon.hpp"

namespace gradcode {

/// Faults of one simulated round (simulate_round): who straggles, who lies and how.
template <class Scalar>
struct polynomial_round {
  std::vector<worker_id> straggling_workers{};  ///< their messages never arrive (edge = cluster)
  std::vector<Index> straggling_relays{};
  std::vector<worker_id> adversarial_workers{};  ///< their messages pass through corrupt_worker
  std::vector<Index> adversarial_relays{};       ///< their messages pass through corrupt_relay
  /// Alters an adversarial worker's message in place; default: adds 1 to every element.
  std::function<void(worker_id, Eigen::Ref<vector<Scalar>>)> corrupt_worker{};
  /// Alters an adversarial relay's message in place; default: adds 1 to every element.
  std::function<void(Index, Eigen::Ref<vector<Scalar>>)> corrupt_relay{};
};

/// What a simulated round produced.
template <class Scalar>
struct polynomial_round_result {
  vector<Scalar> gradient{};            ///< the server's g (length d)
  std::vector<robust_report> relays{};  ///< per relay (empty report for straggling relays)
  robust_report server{};
};

namespace detail {

/// The round of polynomial_hgc<Scalar>::simulate_round over `code`'s public interface (the member
/// validates the fault ids first): every live worker of every live relay encodes (adversaries'
/// messages altered), relays decode, the server decodes with the relays' amplifications.
template <class Scalar, class Code>
polynomial_round_result<Scalar> run_polynomial_round(const Code& code, const Eigen::Ref<const matrix<Scalar>>& partials,
                                                     const polynomial_round<Scalar>& faults) {
  const auto live = pattern::all_except(code.relays(), faults.straggling_relays).ids();
  polynomial_round_result<Scalar> result;
  result.relays.resize(static_cast<std::size_t>(code.relays()));
  matrix<Scalar> relay_messages(code.relay_message_length(), static_cast<Index>(live.size()));
  std::vector<double> relay_amplification(live.size(), 1.0);
  for (std::size_t t = 0; t < live.size(); ++t) {
    const Index n = live[t];
    std::vector<Index> slow;
    for (const auto& w : faults.straggling_workers)
      if (w.edge == n) slow.push_back(w.worker);
    const auto ids = pattern::all_except(code.workers(n), slow).ids();
    matrix<Scalar> messages(code.worker_message_length(n), static_cast<Index>(ids.size()));
    for (std::size_t j = 0; j < ids.size(); ++j) {
      const worker_id w{n, ids[j]};
      auto col = messages.col(static_cast<Index>(j));
      code.encode(w, partials, col);
      if (std::find(faults.adversarial_workers.begin(), faults.adversarial_workers.end(), w) !=
          faults.adversarial_workers.end()) {
        if (faults.corrupt_worker)
          faults.corrupt_worker(w, col);
        else
          col.array() += Scalar(1);
      }
    }
    auto out = relay_messages.col(static_cast<Index>(t));
    result.relays[static_cast<std::size_t>(n)] = code.relay_decode(n, ids, messages, out);
    relay_amplification[t] = result.relays[static_cast<std::size_t>(n)].error_amplification;
    if (std::find(faults.adversarial_relays.begin(), faults.adversarial_relays.end(), n) != faults.adversarial_relays.end()) {
      if (faults.corrupt_relay)
        faults.corrupt_relay(n, out);
      else
        out.array() += Scalar(1);
    }
  }
  result.gradient.resize(code.dimension());
  result.server = code.server_decode(live, relay_messages, result.gradient, relay_amplification);  // both layers compounded
  return result;
}

}  // namespace detail

}  // namespace gradcode
