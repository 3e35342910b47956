// SPDX-License-Identifier: MIT
// The §III experiment of wang TSDCFL as functions returning the measured numbers: a seeded timing
// model of a small heterogeneous cluster (it replaces the paper's KubeEdge testbed), the two-stage
// dynamic code against static cyclic / fractional repetition and an uncoded reference, softmax
// training with every scheme's decoded gradient, and the §4.3 Lyapunov fairness scheduler for a V.
// examples/tsdcfl.cpp prints these; tests/claims/ asserts README's figures from the same calls.
//
// Reading (README "Notes on the papers", wang TSDCFL): every scheme decodes at the first arrival
// after which its received set is decodable (the real codes' decodable()); TSDCFL's history
// (EWMA throughputs, Markov straggler estimate) picks M1, T_comp and s each epoch and learns from
// every started worker's progress rate, cancelled ones included.
//
// Uploads (cluster::channel). By default every message takes a fixed upload_ms and uploads never
// contend (README's §III figures). With upload_model::lyapunov the messages share L(t) slotted
// sub-channels (slot length T, eqs. (5)–(6)): a worker's message (one unit of data, a coded
// gradient) joins its arrivals D_m(t) at the first slot boundary after its computation ends; each
// slot the §4.3 scheduler (dynamic/lyapunov.hpp: P4 y*, P5 d*, P7 channel-time knapsack, λ_m)
// admits and transmits c_m = min(Q_m, r_m(t) v_m), and the upload completes when the whole unit
// has been sent, within its last slot where its channel time ends once the slot's channel times
// are laid onto the L sub-channels (McNaughton's wrap-around). upload_model::max_rate is the unfair
// reference on the same channels: everything is admitted at once and the channel time goes to the
// strongest instantaneous channels first (max C/I), whatever the backlogs; upload_model::
// equal_share splits each slot equally among the pending uploads (no scheduler). The queues are per
// epoch (Q_{m,<i>}(t), H_{m,<i>}(t) of the paper): an epoch starts with empty queues and its
// unsent messages are cancelled when the master decodes. Readings: arrivals P5 does not admit
// stay at the worker and are offered again next slot (a gradient is not dropped); the energy and
// CPU queues are kept out of the way (p_m = 1e-3 per ms, harvest p_m·T per slot, δ = ξ = 0), so
// the channel split is P7's Q_m·r_m(t) order. λ_m (cluster::channel.admission_weight) reaches the
// scheduler but cannot change a one-message epoch: H_m starts at 0, so P5 admits the message in the
// second slot whatever y_m is; it acts on streams of arrivals (schedule() below). Measured
// (tests/claims/tsdcfl_test.cpp, README's cluster): the fair scheduler does not shorten epochs —
// max-rate is 1–2 % faster for every scheme, since the master needs any M − s messages and
// shortest-upload-first delivers them soonest, and P5's admission adds two slots per upload.
// One header (~700 lines): the timing model, the upload channel, the epoch loop and the training
// driver share one seeded cluster state.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/codes/cyclic_repetition.hpp"
#include "gradcode/codes/fractional_repetition.hpp"
#include "gradcode/codes/heterogeneous.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/detail/splitmix.hpp"
#include "gradcode/dynamic/epoch_policy.hpp"
#include "gradcode/dynamic/history.hpp"
#include "gradcode/dynamic/lyapunov.hpp"
#include "gradcode/dynamic/two_stage.hpp"
#include "gradcode/sim/models.hpp"

namespace gradcode::tsdcfl {

/// How the messages of an epoch reach the master.
enum class upload_model {
  fixed,        ///< every message takes cluster::upload_ms, uploads never contend (README's §III figures)
  lyapunov,     ///< shared slotted sub-channels; the §4.3 drift-plus-penalty scheduler decides the channel times
  max_rate,     ///< the same channels, strongest instantaneous channel first (max C/I): the unfair reference
  equal_share,  ///< the same channels shared equally among the pending uploads (no scheduler)
};

inline const char* upload_model_name(upload_model m) noexcept {
  switch (m) {
    case upload_model::fixed:
      return "fixed upload time";
    case upload_model::lyapunov:
      return "Lyapunov (fair)";
    case upload_model::max_rate:
      return "max-rate (unfair)";
    case upload_model::equal_share:
      return "equal share";
  }
  return "?";
}

/// The shared uplink of upload_model::lyapunov and ::max_rate (wang §II-3, eqs. (5)–(6)).
/// Defaults: two sub-channels, workers 0–1 (the 2-core ones) with channels four times weaker.
struct uplink {
  upload_model model = upload_model::fixed;
  double slot_ms = 0.25;                             ///< T, slot length (ms)
  Index channels = 2;                                ///< L(t) = L, sub-channels per slot
  std::vector<double> rate{0.25, 0.25, 1, 1, 1, 1};  ///< r̄_m: messages per ms of channel time; M entries
  double fading = 0.5;                               ///< r_m(t) = r̄_m·(1 + fading·u), u ~ U[−1, 1) per slot and worker
  double tradeoff = 50;                              ///< V of the scheduler (upload_model::lyapunov)
  std::vector<double> admission_weight{};            ///< λ_m of P2 (eq. (15)); empty = all 1
};

/// The simulated cluster of §III (defaults: README's setting — 6 workers with 2/2/4/4/8/8 cores,
/// K = 24, static codes tolerating s = 2, 1–2 stragglers per epoch slowed 5×).
struct cluster {
  std::vector<double> cores{2, 2, 4, 4, 8, 8};   ///< per worker: partitions run in parallel; M = size
  Index partitions = 24;                         ///< K (4 per worker for CR, 12 per group for FR)
  Index code_tolerance = 2;                      ///< s of the static baselines: the most stragglers injected
  double core_ms = 8.0;                          ///< one partition on one core (ms)
  double upload_ms = 2.0;                        ///< one message to the master (ms)
  double jitter_mean = 0.05;                     ///< mean of the Exp slowdown per worker and epoch (+5 %)
  double straggler_slowdown = 5.0;               ///< factor applied to an injected straggler
  Index min_stragglers = 1, max_stragglers = 2;  ///< injected stragglers per epoch, uniform in this range
  uplink channel{};                              ///< how messages reach the master (default: fixed upload_ms)

  Index workers() const noexcept { return static_cast<Index>(cores.size()); }
  /// Throws invalid_parameters naming the first field out of range.
  void validate() const {
    if (cores.empty() || std::any_of(cores.begin(), cores.end(), [](double c) { return !(c > 0) || !std::isfinite(c); }))
      throw invalid_parameters("tsdcfl cluster: every worker needs a finite core count > 0 (e.g. {2, 2, 4, 4, 8, 8})");
    if (partitions < workers())
      throw invalid_parameters("tsdcfl cluster: K = " + std::to_string(partitions) + " < M = " + std::to_string(workers()) +
                               " workers; need K >= M");
    if (code_tolerance < 0 || code_tolerance >= workers())
      throw invalid_parameters("tsdcfl cluster: code_tolerance = " + std::to_string(code_tolerance) +
                               "; need 0 <= s < M = " + std::to_string(workers()));
    if (!(core_ms > 0) || !std::isfinite(core_ms) || !(upload_ms >= 0) || !std::isfinite(upload_ms) || !(jitter_mean > 0) ||
        !std::isfinite(jitter_mean) || !(straggler_slowdown >= 1) || !std::isfinite(straggler_slowdown))
      throw invalid_parameters(
          "tsdcfl cluster: need core_ms > 0, upload_ms >= 0, jitter_mean > 0, straggler_slowdown >= 1, all finite");
    if (min_stragglers < 0 || max_stragglers < min_stragglers || max_stragglers > workers())
      throw invalid_parameters("tsdcfl cluster: stragglers per epoch in [" + std::to_string(min_stragglers) + ", " +
                               std::to_string(max_stragglers) + "]; need 0 <= min <= max <= M = " + std::to_string(workers()));
    if (channel.model == upload_model::fixed) return;
    const auto& u = channel;
    if (static_cast<Index>(u.rate.size()) != workers() ||
        std::any_of(u.rate.begin(), u.rate.end(), [](double r) { return !(r > 0) || !std::isfinite(r); }))
      throw invalid_parameters("tsdcfl cluster: channel.rate needs M = " + std::to_string(workers()) +
                               " finite rates > 0 (messages per ms), has " + std::to_string(u.rate.size()));
    if (!(u.slot_ms > 0) || !std::isfinite(u.slot_ms) || u.channels < 1 || !(u.fading >= 0 && u.fading < 1) ||
        !(u.tradeoff >= 0) || !std::isfinite(u.tradeoff))
      throw invalid_parameters(
          "tsdcfl cluster: channel needs slot_ms > 0, channels >= 1, fading in [0, 1), tradeoff V >= 0 "
          "(have T = " +
          detail::format_g(u.slot_ms) + ", L = " + std::to_string(u.channels) + ", fading = " + detail::format_g(u.fading) +
          ", V = " + detail::format_g(u.tradeoff) + ")");
    if (!u.admission_weight.empty() && (static_cast<Index>(u.admission_weight.size()) != workers() ||
                                        std::any_of(u.admission_weight.begin(), u.admission_weight.end(),
                                                    [](double l) { return !(l > 0) || !std::isfinite(l); })))
      throw invalid_parameters("tsdcfl cluster: channel.admission_weight (lambda) needs M = " + std::to_string(workers()) +
                               " finite weights > 0 or none, has " + std::to_string(u.admission_weight.size()));
  }
};

/// One epoch's draw, shared by every scheme: per-worker ms per partition (jitter and injected
/// stragglers included).
struct epoch_env {
  std::vector<double> ms_per_partition;
  std::vector<Index> stragglers;
  std::uint64_t channel_seed = 0;  ///< the epoch's fading draws r_m(t) (shared uplink models)
};

/// The draw of epoch `epoch`: a function of (seed, epoch) only, so every scheme sees the same one.
inline epoch_env draw_env(const cluster& c, std::uint64_t seed, Index epoch) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<std::uint64_t>(epoch));
  std::exponential_distribution<double> jitter(1 / c.jitter_mean);
  epoch_env env;
  for (Index m = 0; m < c.workers(); ++m)
    env.ms_per_partition.push_back(c.core_ms / c.cores[static_cast<std::size_t>(m)] * (1 + jitter(rng)));
  std::vector<Index> ids(static_cast<std::size_t>(c.workers()));
  std::iota(ids.begin(), ids.end(), Index{0});
  std::shuffle(ids.begin(), ids.end(), rng);
  const Index count = std::uniform_int_distribution<Index>(c.min_stragglers, c.max_stragglers)(rng);
  env.stragglers.assign(ids.begin(), ids.begin() + count);
  for (Index m : env.stragglers) env.ms_per_partition[static_cast<std::size_t>(m)] *= c.straggler_slowdown;
  env.channel_seed = gradcode::detail::mix64(seed * 1000003u + static_cast<std::uint64_t>(epoch) + 0x243f6a8885a308d3ULL);
  return env;
}

/// What one epoch of one scheme measured.
struct epoch_outcome {
  double time = 0;          ///< ms until the master can decode Σ g_k
  double busy_share = 0;    ///< Σ_m busy_m / (M · time): computing capacity in use
  double useful_share = 0;  ///< K / Σ_m partitions computed: computation that was not redundant
  bool coded = false;       ///< TSDCFL: stage 2 coded something
  Index tolerance = 0;      ///< TSDCFL: s of stage 2
  double channel_time = 0;  ///< shared uplink: Σ_t Σ_m v_m(t) spent until the decode (ms); 0 with fixed uploads
  Index undelivered = 0;    ///< communication stragglers: messages computed but not received when the master decodes
  double upload_delay = 0;  ///< mean (reception − ready) of the messages received by then (ms)
};

namespace detail {
/// Busy time of every worker → the utilisation figures of an epoch.
inline void utilisation(const cluster& c, epoch_outcome& out, const std::vector<double>& busy, const epoch_env& env) {
  double total = 0, computed = 0;
  for (Index m = 0; m < c.workers(); ++m) {
    total += busy[static_cast<std::size_t>(m)];
    computed += busy[static_cast<std::size_t>(m)] / env.ms_per_partition[static_cast<std::size_t>(m)];
  }
  out.busy_share = total / (static_cast<double>(c.workers()) * out.time);
  out.useful_share = static_cast<double>(c.partitions) / std::max(computed, 1e-12);
}
}  // namespace detail

/// The uploads of one epoch under cluster::channel: workers report when their message is ready
/// (computation done), and completions come out in time order (ties by worker id). Fixed model:
/// ready + upload_ms. Shared models: slot by slot from t = 0 as described at the top.
class upload_session {
 public:
  /// Throws invalid_parameters for an invalid cluster.
  upload_session(const cluster& c, const epoch_env& env) : m_cluster(c), m_seed(env.channel_seed) {
    c.validate();
    const auto M = static_cast<std::size_t>(c.workers());
    m_entry.assign(M, -1);
    m_ready.assign(M, std::numeric_limits<double>::infinity());
    m_completion.assign(M, std::numeric_limits<double>::infinity());
    m_waiting.assign(M, 0.0);
    m_sent.assign(M, 0.0);
    if (c.channel.model == upload_model::lyapunov) {
      const double p = 1e-3;  // energy per ms of channel time: E/p never binds, (E − θ)p stays ≪ Q r
      m_scheduler = std::make_unique<lyapunov_scheduler>(lyapunov_params{.transmit_power = std::vector<double>(M, p),
                                                                         .energy_per_cycle = std::vector<double>(M, 0.0),
                                                                         .cycles_per_bit = std::vector<double>(M, 0.0),
                                                                         .battery_capacity = std::vector<double>(M, 1.0),
                                                                         .slot_length = c.channel.slot_ms,
                                                                         .tradeoff = c.channel.tradeoff,
                                                                         .admission_weight = c.channel.admission_weight});
    }
  }

  /// Worker m's message is ready at time `t` ≥ 0 (ms from the epoch start). Once per worker.
  void ready(Index m, double t) {
    const auto i = static_cast<std::size_t>(m);
    m_ready[i] = t;
    if (m_cluster.channel.model == upload_model::fixed) {
      m_completion[i] = t + m_cluster.upload_ms;
      m_done.emplace_back(t + m_cluster.upload_ms, m);
      std::sort(m_done.begin(), m_done.end(), std::greater<>());  // the earliest at the back
      return;
    }
    // It joins D_m at the first slot boundary at or after t, and never in a slot already run.
    m_entry[i] = std::max(m_slot, static_cast<Index>(std::ceil(t / m_cluster.channel.slot_ms)));
    ++m_pending;
  }

  /// The next upload to complete at or before `horizon` (ms), as (time, worker); false when none
  /// does (a later call with a larger horizon, or after more ready() calls, may still return it).
  bool next(double horizon, std::pair<double, Index>& out) {
    if (m_cluster.channel.model != upload_model::fixed)
      while (m_done.empty() && m_pending > 0 && static_cast<double>(m_slot) * m_cluster.channel.slot_ms <= horizon) run_slot();
    if (m_done.empty() || m_done.back().first > horizon) return false;
    out = m_done.back();
    m_done.pop_back();
    return true;
  }

  /// Part of worker m's message sent so far (0..1).
  double sent(Index m) const { return m_sent.at(static_cast<std::size_t>(m)); }
  /// Channel time used so far, Σ_t Σ_m v_m(t) (ms).
  double channel_time() const noexcept { return m_channel_time; }
  /// Communication stragglers at time t: workers whose message was ready by t but not received by t.
  Index undelivered(double t) const noexcept {
    Index n = 0;
    for (std::size_t i = 0; i < m_ready.size(); ++i) n += m_ready[i] <= t && m_completion[i] > t ? 1 : 0;
    return n;
  }
  /// Σ over the messages received by t of (reception − ready), and their number.
  std::pair<double, Index> upload_delays(double t) const noexcept {
    std::pair<double, Index> out{0.0, 0};
    for (std::size_t i = 0; i < m_ready.size(); ++i)
      if (m_completion[i] <= t) out.first += m_completion[i] - m_ready[i], ++out.second;
    return out;
  }

 private:
  /// r_m(t): r̄_m·(1 + fading·u), u a function of (epoch, slot, worker) only.
  double rate(Index m) const {
    const auto M = static_cast<std::uint64_t>(m_cluster.workers());
    std::uint64_t state =
        m_seed + gradcode::detail::golden_gamma * (static_cast<std::uint64_t>(m_slot) * M + static_cast<std::uint64_t>(m));
    return m_cluster.channel.rate[static_cast<std::size_t>(m)] *
           (1 + m_cluster.channel.fading * gradcode::detail::splitmix_uniform(state));
  }

  void run_slot() {
    const auto& u = m_cluster.channel;
    const Index M = m_cluster.workers();
    const double T = u.slot_ms, start = static_cast<double>(m_slot) * T;
    std::vector<double> r(static_cast<std::size_t>(M)), v(static_cast<std::size_t>(M), 0.0), c(static_cast<std::size_t>(M), 0.0);
    std::vector<Index> served;  // the order the channel time is packed onto the L sub-channels
    for (Index m = 0; m < M; ++m) {
      const auto i = static_cast<std::size_t>(m);
      r[i] = rate(m);
      if (m_entry[i] == m_slot) m_waiting[i] = 1;  // one message = one unit of data
    }
    if (u.model == upload_model::lyapunov) {
      slot_observation obs{.arrivals = m_waiting,
                           .capacity = r,
                           .harvest = std::vector<double>(static_cast<std::size_t>(M), 1e-3 * T),
                           .cpu_cycles = std::vector<double>(static_cast<std::size_t>(M), 0.0),
                           .new_cycles = {},
                           .active = {},
                           .channels = u.channels,
                           .server_cycles = 0};
      const auto d = m_scheduler->step(obs);
      for (std::size_t i = 0; i < v.size(); ++i) {
        m_waiting[i] -= d.admitted[i];  // P5 admits all or nothing: 0 or the whole unit
        v[i] = d.channel_time[i];
        c[i] = d.transmitted[i];
        if (v[i] > 0) served.push_back(static_cast<Index>(i));
      }
      // P7's knapsack order is by weight; pack the longest channel times first (ties by id).
      std::stable_sort(served.begin(), served.end(),
                       [&](Index a, Index b) { return v[static_cast<std::size_t>(a)] > v[static_cast<std::size_t>(b)]; });
    } else {  // everything admitted at once
      std::vector<Index> order;
      for (Index m = 0; m < M; ++m) {
        const auto i = static_cast<std::size_t>(m);
        if (m_entry[i] >= 0 && m_entry[i] <= m_slot && m_sent[i] < 1 - completion_slack) order.push_back(m);
      }
      const auto demand = [&](Index m) {
        const auto i = static_cast<std::size_t>(m);
        return std::min(T, (1 - m_sent[i]) / r[i]);
      };
      // max rate: strongest r_m(t) first; equal share: water-filling, smallest demand first.
      if (u.model == upload_model::max_rate)
        std::stable_sort(order.begin(), order.end(),
                         [&](Index a, Index b) { return r[static_cast<std::size_t>(a)] > r[static_cast<std::size_t>(b)]; });
      else
        std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return demand(a) < demand(b); });
      double budget = T * static_cast<double>(u.channels);
      for (std::size_t j = 0; j < order.size() && budget > 0; ++j) {
        const auto i = static_cast<std::size_t>(order[j]);
        const double share = u.model == upload_model::max_rate ? budget : budget / static_cast<double>(order.size() - j);
        v[i] = std::min(demand(order[j]), share);
        c[i] = std::min(1 - m_sent[i], r[i] * v[i]);
        budget -= v[i];
        if (v[i] > 0) served.push_back(order[j]);
      }
    }
    // McNaughton's wrap-around: the channel times, each ≤ T, laid end to end over the L
    // sub-channels of the slot; a worker ends where its time ends on its sub-channel, or at the
    // slot end when its time wraps onto the next sub-channel (the two pieces never overlap).
    std::vector<double> ends(static_cast<std::size_t>(M), start);
    double offset = 0;
    for (Index m : served) {
      const auto i = static_cast<std::size_t>(m);
      const double channel = std::floor(offset / T + 1e-12), end = offset + v[i];
      ends[i] = start + (end <= (channel + 1) * T * (1 + 1e-12) ? end - channel * T : T);
      offset = end;
    }
    std::vector<std::pair<double, Index>> finished;
    for (Index m = 0; m < M; ++m) {
      const auto i = static_cast<std::size_t>(m);
      m_channel_time += v[i];
      if (c[i] <= 0 || m_sent[i] >= 1 - completion_slack) continue;
      m_sent[i] += c[i];
      if (m_sent[i] >= 1 - completion_slack) {
        finished.emplace_back(ends[i], m);
        m_completion[i] = ends[i];
      }
    }
    m_pending -= static_cast<Index>(finished.size());
    std::sort(finished.begin(), finished.end(), std::greater<>());
    m_done = std::move(finished);  // empty before the slot: next() drains m_done first
    if (++m_slot > max_slots)
      throw invalid_parameters("tsdcfl uplink: uploads still pending after " + std::to_string(max_slots) +
                               " slots; raise the channel rates or the slot length");
  }

  static constexpr double completion_slack = 1e-9;  ///< c = min(Q, r·v) can leave an ulp behind
  static constexpr Index max_slots = Index{1} << 24;
  cluster m_cluster;  // a copy: a session may outlive the caller's cluster
  std::uint64_t m_seed;
  std::unique_ptr<lyapunov_scheduler> m_scheduler;
  std::vector<Index> m_entry;                    ///< slot at which the message joins D_m (−1: not ready yet)
  std::vector<double> m_ready, m_completion;     ///< when the message was ready / received (∞: not yet)
  std::vector<double> m_waiting;                 ///< arrived, not admitted (Lyapunov)
  std::vector<double> m_sent;                    ///< transmitted part of the message
  std::vector<std::pair<double, Index>> m_done;  ///< completed, not yet returned; latest first
  Index m_slot = 0, m_pending = 0;
  double m_channel_time = 0;
};

/// A scheme: one epoch of timing, and (when `partials` is given) the master's decoded gradient.
/// Stateful (TSDCFL learns from each epoch), so run epochs in order.
class epoch_scheme {
 public:
  virtual ~epoch_scheme() = default;
  virtual const char* name() const = 0;
  virtual epoch_outcome run(const epoch_env& env, const matrix<double>* partials, vector<double>* gradient) = 0;
};

/// A static gradient code on all M workers (cyclic / fractional repetition; the uncoded reference
/// is the heterogeneous code with s = 0): every worker starts at 0, the master decodes at the first
/// arrival after which the responders are decodable.
class static_scheme final : public epoch_scheme {
 public:
  static_scheme(const char* label, const cluster& c, linear_code<double> code)
      : m_label(label), m_cluster(c), m_code(std::move(code)) {}
  const char* name() const override { return m_label; }
  epoch_outcome run(const epoch_env& env, const matrix<double>* partials, vector<double>* gradient) override {
    const Index M = m_cluster.workers();
    upload_session uploads(m_cluster, env);
    for (Index m = 0; m < M; ++m)
      uploads.ready(m, static_cast<double>(m_code.load(m)) * env.ms_per_partition[static_cast<std::size_t>(m)]);
    pattern responders(M);
    std::vector<Index> ids;
    epoch_outcome out;
    for (std::pair<double, Index> arrival; uploads.next(std::numeric_limits<double>::infinity(), arrival);) {
      const auto [t, m] = arrival;
      responders.insert(m);
      ids.push_back(m);
      if (m_code.decodable(responders)) {
        out.time = t;
        break;
      }
    }
    out.channel_time = uploads.channel_time();
    out.undelivered = uploads.undelivered(out.time);
    const auto delays = uploads.upload_delays(out.time);
    out.upload_delay = delays.second > 0 ? delays.first / static_cast<double>(delays.second) : 0.0;
    std::vector<double> busy(static_cast<std::size_t>(M));
    for (Index m = 0; m < M; ++m)
      busy[static_cast<std::size_t>(m)] =
          std::min(static_cast<double>(m_code.load(m)) * env.ms_per_partition[static_cast<std::size_t>(m)], out.time);
    detail::utilisation(m_cluster, out, busy, env);
    if (partials) {
      matrix<double> messages(partials->rows(), static_cast<Index>(ids.size()));
      for (std::size_t j = 0; j < ids.size(); ++j) messages.col(static_cast<Index>(j)) = m_code.encode(ids[j], *partials);
      *gradient = m_code.decode(ids, messages);
    }
    return out;
  }

 private:
  const char* m_label;
  cluster m_cluster;
  linear_code<double> m_code;
};

/// TSDCFL: the history picks M1 workers, T_comp and s; stage 1 runs uncoded, the deadline builds
/// the stage-2 code over the unfinished and the held-back workers; the history learns from the
/// epoch (EWMA α = 0.3, straggler below ½·W_m, initial ŝ = 1).
class tsdcfl_scheme final : public epoch_scheme {
 public:
  tsdcfl_scheme(const char* label, const cluster& c, stage_one_selection selection, double slack, std::uint64_t seed)
      : m_label(label),
        m_cluster(c),
        m_history(initial_throughputs(c), {.smoothing = 0.3, .straggler_ratio = 0.5, .initial_stragglers = 1}),
        m_policy{.stage_one_workers = 0,
                 .selection = selection,
                 .deadline_slack = slack,
                 .fixed_deadline = 0,
                 .deadline_offset = c.upload_ms},
        m_rng(seed) {}
  const char* name() const override { return m_label; }
  const worker_history& history() const { return m_history; }

  epoch_outcome run(const epoch_env& env, const matrix<double>* partials, vector<double>* gradient) override {
    const Index M = m_cluster.workers();
    const auto decision = decide_epoch(m_history, m_cluster.partitions, m_policy, m_rng);
    const two_stage_code<double> code({.throughputs = m_history.throughputs(),
                                       .partitions = m_cluster.partitions,
                                       .stage_one_workers = decision.stage_one_workers,
                                       .seed = ++m_code_seed});
    const auto tau = [&](Index m) { return env.ms_per_partition[static_cast<std::size_t>(m)]; };
    upload_session uploads(m_cluster, env);
    for (Index m : decision.stage_one_workers) uploads.ready(m, static_cast<double>(code.stage_one_load(m)) * tau(m));
    // Stage 1: the results that reached the master by T_comp (with the fixed model: computation +
    // upload_ms <= T_comp; with a shared channel, the uploads the scheduler completed by then).
    std::vector<Index> finished;
    double last_stage_one = 0;
    for (std::pair<double, Index> arrival; uploads.next(decision.deadline, arrival);) {
      finished.push_back(arrival.second);
      last_stage_one = std::max(last_stage_one, arrival.first);
    }
    std::sort(finished.begin(), finished.end());
    const auto two = code.stage_two(finished, decision.straggler_tolerance);
    epoch_outcome out;
    out.coded = two.coded();
    out.tolerance = two.tolerance();
    // The master holds the finished workers' stage-1 results and adds stage-2 results as they
    // arrive until the epoch is decodable (one pattern over the M workers, gradcode::codec).
    std::vector<Index> ids = finished;
    pattern heard = pattern::from_ids(M, ids);
    if (!two.coded()) {
      out.time = last_stage_one;  // every stage-1 result arrived before the deadline
    } else {
      // Unfinished stage-1 workers are already uploading (or computing) their block; the new ones
      // start at T_comp.
      for (Index m : two.stage_two_workers())
        if (!code.is_stage_one(m)) uploads.ready(m, decision.deadline + static_cast<double>(two.stage_two_load(m)) * tau(m));
      for (std::pair<double, Index> arrival; uploads.next(std::numeric_limits<double>::infinity(), arrival);) {
        const auto [t, m] = arrival;
        ids.push_back(m);
        heard.insert(m);
        if (two.decodable(heard)) {
          out.time = t;
          break;
        }
      }
    }
    out.channel_time = uploads.channel_time();
    out.undelivered = uploads.undelivered(out.time);
    const auto delays = uploads.upload_delays(out.time);
    out.upload_delay = delays.second > 0 ? delays.first / static_cast<double>(delays.second) : 0.0;
    // Busy time within the epoch; the history sees every started worker's progress rate.
    std::vector<double> busy(static_cast<std::size_t>(M), 0.0);
    std::vector<worker_observation> seen(static_cast<std::size_t>(M));
    for (Index m = 0; m < M; ++m) {
      const auto i = static_cast<std::size_t>(m);
      if (code.is_stage_one(m))
        busy[i] = std::min(static_cast<double>(code.stage_one_load(m)) * tau(m), out.time);
      else if (two.coded())
        busy[i] = std::clamp(out.time - decision.deadline, 0.0, static_cast<double>(two.stage_two_load(m)) * tau(m));
      if (busy[i] > 0) seen[i] = {busy[i] / tau(m), busy[i]};
    }
    detail::utilisation(m_cluster, out, busy, env);
    m_history.observe_epoch(seen);
    if (partials) {
      matrix<double> messages(partials->rows(), static_cast<Index>(ids.size()));
      for (std::size_t j = 0; j < ids.size(); ++j) two.encode(ids[j], *partials, messages.col(static_cast<Index>(j)));
      *gradient = two.decode(ids, messages);
    }
    return out;
  }

 private:
  static std::vector<double> initial_throughputs(const cluster& c) {
    std::vector<double> w;
    for (double cores : c.cores) w.push_back(cores / c.core_ms);  // partitions per ms, from the core counts
    return w;
  }
  const char* m_label;
  cluster m_cluster;
  worker_history m_history;
  epoch_policy m_policy;
  std::mt19937_64 m_rng;
  std::uint64_t m_code_seed = 0;
};

/// The schemes of §III in table order: TSDCFL (random M1), TSDCFL with the fastest workers held
/// back ("fast reserve"), cyclic repetition, fractional repetition (both s = code_tolerance),
/// uncoded (wait for all). `slack` is TSDCFL's deadline slack: T_comp = (1 + slack) × the
/// predicted stage-1 makespan + upload. Throws invalid_parameters for an invalid cluster.
inline std::vector<std::unique_ptr<epoch_scheme>> make_schemes(const cluster& c, std::uint64_t seed, double slack) {
  c.validate();
  std::vector<std::unique_ptr<epoch_scheme>> all;
  all.push_back(std::make_unique<tsdcfl_scheme>("TSDCFL", c, stage_one_selection::random, slack, seed));
  all.push_back(std::make_unique<tsdcfl_scheme>("TSDCFL fast reserve", c, stage_one_selection::slowest, slack, seed));
  all.push_back(std::make_unique<static_scheme>(
      "cyclic repetition", c,
      cyclic_repetition_code<double>({.nodes = c.workers(), .partitions = c.partitions, .tolerance = c.code_tolerance})));
  all.push_back(std::make_unique<static_scheme>(
      "fractional repetition", c,
      fractional_repetition_code<double>({.nodes = c.workers(), .partitions = c.partitions, .tolerance = c.code_tolerance})));
  all.push_back(std::make_unique<static_scheme>(
      "uncoded (wait for all)", c,
      heterogeneous_code<double>({.capacities = c.cores, .partitions = c.partitions, .tolerance = 0})));
  return all;
}

/// Per scheme, what `compare_epoch_times` measured.
struct scheme_timing {
  std::string name;
  std::vector<double> times;  ///< ms per epoch, in epoch order
  double busy_share = 0;      ///< Σ over epochs of epoch_outcome::busy_share (divide by epochs for the mean)
  double useful_share = 0;    ///< Σ over epochs of epoch_outcome::useful_share
  double coded_epochs = 0;    ///< epochs in which stage 2 coded (TSDCFL)
  double tolerance = 0;       ///< Σ over epochs of stage-2 s (TSDCFL)
  double undelivered = 0;     ///< Σ over epochs of epoch_outcome::undelivered (communication stragglers)
  double upload_delay = 0;    ///< Σ over epochs of epoch_outcome::upload_delay (ms)
  double channel_time = 0;    ///< Σ over epochs of epoch_outcome::channel_time (ms)

  double mean() const {
    double m = 0;
    for (double t : times) m += t / static_cast<double>(times.size());
    return m;
  }
  /// The q-quantile (nearest rank below) of the epoch times.
  double percentile(double q) const {
    std::vector<double> v = times;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
  }
};

/// §III timing: `epochs` epochs of every scheme of make_schemes on the same draws. `progress`
/// (optional) is called after every epoch with the number done and the timings so far.
/// Throws invalid_parameters when epochs < 1 or the cluster is invalid.
inline std::vector<scheme_timing> compare_epoch_times(
    const cluster& c, Index epochs, std::uint64_t seed, double slack,
    const std::function<void(Index, const std::vector<scheme_timing>&)>& progress = {}) {
  if (epochs < 1) throw invalid_parameters("tsdcfl: epochs = " + std::to_string(epochs) + "; need >= 1");
  auto schemes = make_schemes(c, seed, slack);
  std::vector<scheme_timing> out(schemes.size());
  for (std::size_t i = 0; i < schemes.size(); ++i) out[i].name = schemes[i]->name();
  for (Index e = 0; e < epochs; ++e) {
    const auto env = draw_env(c, seed, e);
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      const auto r = schemes[i]->run(env, nullptr, nullptr);
      out[i].times.push_back(r.time);
      out[i].busy_share += r.busy_share;
      out[i].useful_share += r.useful_share;
      out[i].coded_epochs += r.coded ? 1 : 0;
      out[i].tolerance += static_cast<double>(r.tolerance);
      out[i].undelivered += static_cast<double>(r.undelivered);
      out[i].upload_delay += r.upload_delay;
      out[i].channel_time += r.channel_time;
    }
    if (progress) progress(e + 1, out);
  }
  return out;
}

/// One scheme's training run (training below).
struct training_run {
  std::string name;
  std::vector<double> accuracy;  ///< test accuracy before epoch 1, then after every epoch
  std::vector<double> clock_ms;  ///< simulated time at the same points (starts at 0)
  double worst_error = 0;        ///< max over epochs of ‖ĝ − Σ g_k‖ / ‖Σ g_k‖
};

/// Gradient descent of softmax regression (step 0.5 / samples on Σ g_k) for `epochs` epochs with
/// every scheme's decoded gradient (TSDCFL, CR, FR, uncoded — make_schemes without the fast
/// reserve), epoch e drawn as in compare_epoch_times. `data` must have K = c.partitions
/// partitions. `done` (optional) is called after each scheme. Throws invalid_parameters when the
/// partition counts differ.
inline std::vector<training_run> train_softmax(const cluster& c, const partitioned_data<double>& data,
                                               const matrix<double>& test_features, const std::vector<int>& test_labels,
                                               Index epochs, std::uint64_t seed, double slack,
                                               const std::function<void(const training_run&)>& done = {}) {
  if (data.partitions() != c.partitions)
    throw invalid_parameters("tsdcfl: training data has " + std::to_string(data.partitions()) +
                             " partitions, the cluster K = " + std::to_string(c.partitions));
  const softmax_regression<double> model(data.features.cols(), 10);
  auto schemes = make_schemes(c, seed, slack);
  schemes.erase(schemes.begin() + 1);  // the paper's TSDCFL, CR, FR, uncoded
  std::vector<training_run> runs;
  const double lr = 0.5 / static_cast<double>(data.samples());
  for (auto& s : schemes) {
    training_run run{s->name(), {}, {0}, 0};
    vector<double> w = vector<double>::Zero(model.parameters()), g(model.parameters());
    matrix<double> partials;
    run.accuracy.push_back(model.accuracy(w, test_features, test_labels));
    double clock = 0;
    for (Index e = 0; e < epochs; ++e) {
      model.partial_gradients(w, data, partials);
      const auto r = s->run(draw_env(c, seed, e), &partials, &g);
      const vector<double> exact = partials.rowwise().sum();
      run.worst_error = std::max(run.worst_error, (g - exact).norm() / exact.norm());
      w -= lr * g;
      clock += r.time;
      run.accuracy.push_back(model.accuracy(w, test_features, test_labels));
      run.clock_ms.push_back(clock);
    }
    if (done) done(run);
    runs.push_back(std::move(run));
  }
  return runs;
}

/// Time averages of one Lyapunov run (schedule below), second half of the slots.
struct fairness_run {
  double utility = 0;            ///< Σ_m log2(1 + λ_m d̄_m) (P2, eq. (15))
  double jain = 0;               ///< Jain's index of the d̄_m
  double backlog = 0;            ///< Σ_m Q̄_m
  double battery = 0;            ///< mean over workers of Ē_m
  double server_backlog = 0;     ///< R̄_server
  std::vector<double> admitted;  ///< d̄_m per worker
};

/// §4.3 scheduler on 6 workers for `slots` slots at penalty weight V: L(t) ∈ {1, 2} channels,
/// arrivals ~U(0, 2) per slot, workers 0–1 with the weakest channels, 10 % stragglers per slot,
/// battery capacity 20. Time averages over the second half. `admission_weight` are the λ_m of P2
/// (eq. (15); empty = all 1, README's figures). Throws invalid_parameters when slots < 2 or the
/// weights are not 6 positive finite numbers.
inline fairness_run schedule(Index slots, std::uint64_t seed, double V, std::vector<double> admission_weight = {}) {
  if (slots < 2) throw invalid_parameters("tsdcfl: slots = " + std::to_string(slots) + "; need >= 2");
  constexpr Index M = 6;
  lyapunov_scheduler sched({.transmit_power = {1, 1, 1.5, 1.5, 2, 2},
                            .energy_per_cycle = std::vector<double>(M, 0.01),
                            .cycles_per_bit = std::vector<double>(M, 0.1),
                            .battery_capacity = std::vector<double>(M, 20.0),
                            .slot_length = 1,
                            .tradeoff = V,
                            .admission_weight = std::move(admission_weight)});
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (Index t = 0; t < slots; ++t) {
    slot_observation obs;
    for (Index m = 0; m < M; ++m) {
      obs.arrivals.push_back(2 * u(rng));
      obs.capacity.push_back((m < 2 ? 0.8 : 2.0) * (0.5 + u(rng)));
      obs.harvest.push_back(1.6 * u(rng));
      obs.cpu_cycles.push_back(50);
      obs.new_cycles.push_back(60 * u(rng));
      obs.active.push_back(u(rng) < 0.9 ? 1 : 0);
    }
    obs.channels = u(rng) < 0.5 ? 1 : 2;
    obs.server_cycles = 1;
    if (t == slots / 2) sched.reset_statistics();  // time averages over the second half
    sched.step(obs);
  }
  const auto& st = sched.statistics();
  double sum = 0, squares = 0;
  fairness_run out;
  for (Index m = 0; m < M; ++m) {
    const auto i = static_cast<std::size_t>(m);
    sum += st.mean_admitted[i];
    out.admitted.push_back(st.mean_admitted[i]);
    squares += st.mean_admitted[i] * st.mean_admitted[i];
    out.backlog += st.mean_backlog[i];
    out.battery += st.mean_battery[i] / static_cast<double>(M);
  }
  out.utility = st.admission_utility();
  out.jain = sum * sum / (static_cast<double>(M) * squares);
  out.server_backlog = st.mean_server_backlog;
  return out;
}

}  // namespace gradcode::tsdcfl
