// SPDX-License-Identifier: MIT
// Lyapunov fairness scheduler of the gradient uploads (wang TSDCFL §II-3, §4.3): per time slot,
// the drift-plus-penalty decisions y*, d*, channel times v and stored energy (sub-problems
// P4–P7 of Lemma 4, eq. (20)) and the queue updates (7), (11)–(13) and the virtual queue H.
//
// Algorithm (one slot t; queues Q, H, E, R per worker, R_server; penalty weight V; admission
// weights λ_m > 0 of P2, eq. (15), default 1):
//   computation  f_m = min(f_m^max(t), R_m, E_m/δ_m)    (work-conserving: the paper leaves f given)
//   P4           y_m = 0 if V·λ_m/ln2 ≤ H_m, else min(V/(H_m ln2) − 1/λ_m, D_m)  (stationary point
//                of V·log2(1 + λ_m y) − H·y; at λ_m = 1 the paper's "V/(H ln2) − 1/ln2" with the
//                slip fixed: d/dy = 0 at 1 + y = V/(H ln2))
//   P5           d_m = D_m if Q_m < H_m, else 0
//   P7           channel time by greedy (fractional) knapsack on the per-unit-time weight
//                w_m = (Q_m − R_server·ξ_m)·r_m + (E_m − θ_m)·p_m, largest first, only w_m > 0:
//                v_m = min(T, (E_m − e_com)/p_m, Q_m/r_m, T·L(t) − Σ v assigned so far)   (5), (6), C4
//                (the paper's P7 reads "R_m ξ_m"; eq. (13) puts c_m ξ_m on R_server, so R_server)
//   P6           store e_m = min(E^H_m, cap_m − (E_m − e_up − e_com)) if E_m < θ_m, else 0
//                (perturbed battery: the paper's weight E_m ≥ 0 would never store, see below)
//   updates      Q ← Q + d − c (7), c = min(Q, r·v);  H ← max(H + y − d, 0);
//                E ← E − p·v − δ·f + e_store (9)–(11);  R ← max(R − f, 0) + new cycles (12);
//                R_server ← max(R_server − F, 0) + Σ c·ξ (13)
//
// Admission weights λ_m. P2 (eq. (15)) maximises log(1 + λ_m·d̄_m), "λ_m a positive constant to
// characterize the weight of the admission data"; Lemma 3 and P3/P4 then drop λ_m (P3 prints
// log(1 + y)). We keep it: the auxiliary-variable argument of Lemma 3 holds for any concave
// increasing utility, so P3 is max Σ log2(1 + λ_m ȳ_m) s.t. ȳ_m ≤ d̄_m and P4 becomes
// max V·log2(1 + λ_m y) − H·y, solved above. A larger λ_m raises y_m, hence H_m, hence the share
// of worker m's arrivals P5 admits (d = D while Q < H) and, through Q_m, its channel time in P7.
// The paper gives no values: the caller chooses them (empty = all 1, the unweighted P3 exactly).
//
// Energy rule. Minimising E_m·(e_store − e_up − e_com) over e_store ∈ [0, E^H] (P6 as printed)
// gives e_store = 0 whenever E_m > 0: the battery never charges and the workers stop after the
// first discharge. We use the standard perturbed battery of energy-harvesting Lyapunov control:
// the weight is E_m − θ_m with a target level θ_m (default half the capacity), so a worker stores
// what it harvests below θ_m and energy use is discouraged (P7's (E_m − θ_m)·p_m term) when low.
//
// Deterministic bounds (tested every slot in tests/dynamic/lyapunov_test.cpp): starting from
// empty queues, H_m ≤ V·λ_m/ln2 + D^max and Q_m ≤ V·λ_m/ln2 + 2·D^max; 0 ≤ E_m ≤ cap_m; Σ v ≤ T·L(t).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// What the system is: per-worker constants of eqs. (5)–(13) and the penalty weight V.
struct lyapunov_params {
  std::vector<double> transmit_power;    ///< p_m > 0, energy per unit channel time (eq. (9)); M = size
  std::vector<double> energy_per_cycle;  ///< δ_m ≥ 0 (eq. (10))
  std::vector<double> cycles_per_bit;    ///< ξ_m ≥ 0, server cycles per transmitted unit (eq. (13))
  std::vector<double> battery_capacity;  ///< largest battery level of worker m (> 0)
  double slot_length = 1;                ///< T (eq. (5))
  double tradeoff = 1;                   ///< V ≥ 0: utility weight of the drift-plus-penalty
  /// λ_m > 0, weight of worker m's admitted data in P2's log(1 + λ_m d̄_m) (eq. (15)); M entries,
  /// or empty for λ_m = 1 (the unweighted P3–P4 of the paper).
  std::vector<double> admission_weight{};
};

/// How it is run; all defaulted.
struct lyapunov_options {
  /// θ_m = this × battery_capacity_m: the perturbation of the battery weight, in [0, 1].
  double battery_target_fraction = 0.5;
  /// Initial battery levels (empty: θ_m).
  std::vector<double> initial_battery;
};

/// What slot t brings (the random state of the slot). Vectors have M entries unless said.
struct slot_observation {
  std::vector<double> arrivals;    ///< D_m(t) ≥ 0, arrived gradient data (eq. (8))
  std::vector<double> capacity;    ///< r_m(t) ≥ 0, data per unit channel time
  std::vector<double> harvest;     ///< E^H_m(t) ≥ 0, harvestable energy
  std::vector<double> cpu_cycles;  ///< f_m^max(t) ≥ 0, cycles worker m can execute
  std::vector<double> new_cycles;  ///< cycles of new gradient work joining R_m (empty: none, eq. (12) as printed)
  std::vector<char> active;        ///< non-stragglers of the slot (empty: all), the sums of (6), (13)
  Index channels = 1;              ///< L(t) ≥ 0
  double server_cycles = 0;        ///< F(t) ≥ 0
};

/// Decisions of one slot (M entries each) and its penalty term.
struct slot_decision {
  std::vector<double> auxiliary;        ///< y_m (P4)
  std::vector<double> admitted;         ///< d_m (P5)
  std::vector<double> channel_time;     ///< v_m (P7)
  std::vector<double> transmitted;      ///< c_m = min(Q_m, r_m v_m)
  std::vector<double> executed_cycles;  ///< f_m
  std::vector<double> upload_energy;    ///< e_up = p_m v_m (9)
  std::vector<double> compute_energy;   ///< e_com = f_m δ_m (10)
  std::vector<double> stored_energy;    ///< e_store (P6, perturbed)
  double utility = 0;                   ///< Σ_m log2(1 + λ_m y_m)
};

/// Running time averages since construction (or reset_statistics()).
struct lyapunov_statistics {
  Index slots = 0;
  std::vector<double> mean_admitted, mean_transmitted, mean_auxiliary;        ///< d̄_m, c̄_m, ȳ_m
  std::vector<double> mean_backlog, mean_virtual, mean_battery, mean_cycles;  ///< Q̄, H̄, Ē, R̄ per worker
  double mean_server_backlog = 0;                                             ///< R̄_server
  double mean_utility = 0;                                                    ///< mean of Σ log2(1 + λ_m y_m(t))
  std::vector<double> weights;                                                ///< λ_m of the scheduler (empty: all 1)
  /// Σ_m log2(1 + λ_m d̄_m): P2's objective (eq. (15)) evaluated on the time averages.
  double admission_utility() const {
    double u = 0;
    for (std::size_t m = 0; m < mean_admitted.size(); ++m)
      u += std::log2(1 + (weights.empty() ? 1.0 : weights[m]) * mean_admitted[m]);
    return u;
  }
};

class lyapunov_scheduler {
 public:
  /// Throws invalid_parameters on empty or mismatched vectors, p_m ≤ 0, negative δ/ξ, a
  /// non-positive capacity, λ_m ≤ 0 or non-finite, T ≤ 0, V < 0, or options outside their range.
  explicit lyapunov_scheduler(lyapunov_params params, const lyapunov_options& options = {})
      : m_params(std::move(params)), m_options(options) {
    const std::size_t M = m_params.transmit_power.size();
    if (M == 0) throw invalid_parameters("lyapunov scheduler: no workers (transmit_power is empty)");
    auto same = [&](const std::vector<double>& v, const char* name) {
      if (v.size() != M)
        throw invalid_parameters(std::string("lyapunov scheduler: ") + name + " has " + std::to_string(v.size()) +
                                 " entries, transmit_power has M = " + std::to_string(M));
    };
    same(m_params.energy_per_cycle, "energy_per_cycle");
    same(m_params.cycles_per_bit, "cycles_per_bit");
    same(m_params.battery_capacity, "battery_capacity");
    if (m_params.admission_weight.empty()) m_params.admission_weight.assign(M, 1.0);
    same(m_params.admission_weight, "admission_weight (lambda)");
    for (std::size_t m = 0; m < M; ++m) {
      if (!(m_params.admission_weight[m] > 0) || !std::isfinite(m_params.admission_weight[m]))
        throw invalid_parameters("lyapunov scheduler: worker " + std::to_string(m) + " has admission weight lambda = " +
                                 detail::format_g(m_params.admission_weight[m]) + "; need 0 < lambda < inf (1 = unweighted)");
      if (!(m_params.transmit_power[m] > 0) || !std::isfinite(m_params.transmit_power[m]))
        throw invalid_parameters("lyapunov scheduler: worker " + std::to_string(m) + " has transmit power p = " +
                                 detail::format_g(m_params.transmit_power[m]) + "; need 0 < p < inf");
      if (!(m_params.energy_per_cycle[m] >= 0) || !(m_params.cycles_per_bit[m] >= 0) ||
          !std::isfinite(m_params.energy_per_cycle[m]) || !std::isfinite(m_params.cycles_per_bit[m]))
        throw invalid_parameters("lyapunov scheduler: worker " + std::to_string(m) +
                                 " has delta = " + detail::format_g(m_params.energy_per_cycle[m]) +
                                 ", xi = " + detail::format_g(m_params.cycles_per_bit[m]) + "; both must be finite and >= 0");
      if (!(m_params.battery_capacity[m] > 0) || !std::isfinite(m_params.battery_capacity[m]))
        throw invalid_parameters("lyapunov scheduler: worker " + std::to_string(m) + " has battery capacity " +
                                 detail::format_g(m_params.battery_capacity[m]) + "; need 0 < capacity < inf");
    }
    if (!(m_params.slot_length > 0) || !std::isfinite(m_params.slot_length))
      throw invalid_parameters("lyapunov scheduler: slot length T = " + detail::format_g(m_params.slot_length) + "; need T > 0");
    if (!(m_params.tradeoff >= 0) || !std::isfinite(m_params.tradeoff))
      throw invalid_parameters("lyapunov scheduler: V = " + detail::format_g(m_params.tradeoff) + "; need V >= 0");
    if (!(options.battery_target_fraction >= 0 && options.battery_target_fraction <= 1))
      throw invalid_parameters("lyapunov scheduler: battery_target_fraction = " +
                               detail::format_g(options.battery_target_fraction) + " outside [0, 1] (0.5 would fit)");
    m_target.resize(M);
    for (std::size_t m = 0; m < M; ++m) m_target[m] = options.battery_target_fraction * m_params.battery_capacity[m];
    if (options.initial_battery.empty()) {
      m_battery = m_target;
    } else {
      same(options.initial_battery, "initial_battery");
      m_battery = options.initial_battery;
      for (std::size_t m = 0; m < M; ++m)
        if (!(m_battery[m] >= 0 && m_battery[m] <= m_params.battery_capacity[m]))
          throw invalid_parameters("lyapunov scheduler: worker " + std::to_string(m) + " starts with battery " +
                                   detail::format_g(m_battery[m]) +
                                   " outside [0, capacity = " + detail::format_g(m_params.battery_capacity[m]) + "]");
    }
    m_backlog.assign(M, 0);
    m_virtual.assign(M, 0);
    m_cycles.assign(M, 0);
    reset_statistics();
  }

  Index workers() const noexcept { return static_cast<Index>(m_backlog.size()); }
  /// The parameters, admission_weight filled in (λ_m = 1 when it was given empty).
  const lyapunov_params& params() const noexcept { return m_params; }
  /// λ_m, the admission weights of P2 (eq. (15)).
  const std::vector<double>& admission_weights() const noexcept { return m_params.admission_weight; }
  /// Q_m(t), data backlog (eq. (7)).
  const std::vector<double>& backlog() const noexcept { return m_backlog; }
  /// H_m(t), virtual queue of the auxiliary constraint C6.
  const std::vector<double>& virtual_queue() const noexcept { return m_virtual; }
  /// E_m(t), battery level (eq. (11)).
  const std::vector<double>& battery() const noexcept { return m_battery; }
  /// R_m(t), CPU cycles still required (eq. (12)).
  const std::vector<double>& cycles_backlog() const noexcept { return m_cycles; }
  /// R_server(t) (eq. (13)).
  double server_backlog() const noexcept { return m_server; }
  /// θ_m, the perturbation of the battery weight.
  const std::vector<double>& battery_target() const noexcept { return m_target; }
  const lyapunov_statistics& statistics() const noexcept { return m_stats; }
  void reset_statistics() {
    const std::size_t M = m_backlog.size();
    m_stats = {};
    for (auto* v : {&m_stats.mean_admitted, &m_stats.mean_transmitted, &m_stats.mean_auxiliary, &m_stats.mean_backlog,
                    &m_stats.mean_virtual, &m_stats.mean_battery, &m_stats.mean_cycles})
      v->assign(M, 0.0);
    m_stats.weights = m_params.admission_weight;
  }

  /// The slot's decisions for the current queues (no state change). Throws invalid_input on a
  /// malformed observation (sizes, negative or non-finite entries), naming the worker.
  slot_decision decide(const slot_observation& obs) const {
    validate(obs);
    const std::size_t M = m_backlog.size();
    const double V = m_params.tradeoff, T = m_params.slot_length, ln2 = std::log(2.0);
    slot_decision out;
    for (auto* v : {&out.auxiliary, &out.admitted, &out.channel_time, &out.transmitted, &out.executed_cycles, &out.upload_energy,
                    &out.compute_energy, &out.stored_energy})
      v->assign(M, 0.0);
    std::vector<std::size_t> candidates;
    std::vector<double> weight(M, 0.0);
    for (std::size_t m = 0; m < M; ++m) {
      if (!is_active(obs, m)) continue;
      const double D = obs.arrivals[m];
      // Computation first: an unfinished gradient makes the worker a computation straggler.
      const double delta = m_params.energy_per_cycle[m];
      double f = std::min(obs.cpu_cycles[m], m_cycles[m]);
      if (delta > 0) f = std::min(f, m_battery[m] / delta);
      out.executed_cycles[m] = f;
      out.compute_energy[m] = f * delta;
      // P4: maximise V·log2(1 + λy) − H·y over [0, D] (λ = 1: exactly the unweighted rule).
      const double H = m_virtual[m], lambda = m_params.admission_weight[m];
      if (H <= 0)
        out.auxiliary[m] = D;
      else if (V * lambda / ln2 > H)
        out.auxiliary[m] = std::min(V / (H * ln2) - 1 / lambda, D);
      out.auxiliary[m] = std::max(0.0, out.auxiliary[m]);
      // P5: minimise (Q − H)·d over [0, D].
      out.admitted[m] = m_backlog[m] < H ? D : 0.0;
      // P7: value per unit of channel time.
      const double r = obs.capacity[m];
      weight[m] =
          (m_backlog[m] - m_server * m_params.cycles_per_bit[m]) * r + (m_battery[m] - m_target[m]) * m_params.transmit_power[m];
      // A NaN or +∞ weight (a product beyond the double range) cannot be ranked: the greedy order
      // would be arbitrary. −∞ is an unambiguous "do not serve".
      if (r > 0 && m_backlog[m] > 0 && (std::isnan(weight[m]) || weight[m] == std::numeric_limits<double>::infinity()))
        throw invalid_input("lyapunov scheduler: the P7 weight (Q - R_server xi)·r + (E - theta)·p of worker " +
                                std::to_string(m) + " overflows double (Q = " + detail::format_g(m_backlog[m]) +
                                ", R_server = " + detail::format_g(m_server) + ", r = " + detail::format_g(r) + ", p = " +
                                detail::format_g(m_params.transmit_power[m]) + "); rescale the units of data, cycles or energy",
                            static_cast<long long>(m));
      if (weight[m] > 0 && r > 0 && m_backlog[m] > 0) candidates.push_back(m);
    }
    std::stable_sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
    double budget = T * static_cast<double>(obs.channels);
    for (std::size_t m : candidates) {
      if (budget <= 0) break;
      const double p = m_params.transmit_power[m], r = obs.capacity[m];
      const double energy_left = std::max(0.0, m_battery[m] - out.compute_energy[m]);
      const double v = std::max(0.0, std::min({T, energy_left / p, m_backlog[m] / r, budget}));
      out.channel_time[m] = v;
      out.transmitted[m] = std::min(m_backlog[m], r * v);
      out.upload_energy[m] = p * v;
      budget -= v;
    }
    for (std::size_t m = 0; m < M; ++m) {
      // P6 (perturbed): store below the target level, never beyond the capacity.
      const double after_use = m_battery[m] - out.upload_energy[m] - out.compute_energy[m];
      if (m_battery[m] < m_target[m])
        out.stored_energy[m] = std::clamp(m_params.battery_capacity[m] - after_use, 0.0, obs.harvest[m]);
      out.utility += std::log2(1 + m_params.admission_weight[m] * out.auxiliary[m]);
    }
    return out;
  }

  /// Applies `decision` (from decide(obs) on the current state) with the slot's `obs`: the queue
  /// updates (7), (11)–(13) and H. Throws invalid_input when the decision violates a constraint
  /// (C1–C4, (6), battery capacity, e_up = p·v, e_com = δ·f, f ≤ min(f^max, R), entries finite
  /// and ≥ 0) — so a hand-made decision cannot corrupt the state — or when a queue would grow
  /// beyond the double range (naming the worker and the queue); the state is unchanged then.
  void apply(const slot_observation& obs, const slot_decision& decision) {
    validate(obs);
    check_decision(obs, decision);
    const std::size_t M = m_backlog.size();
    // Computed aside and committed only when every queue stays finite: an overflowing queue would
    // turn into ∞ and every later weight into NaN.
    std::vector<double> backlog(M), virt(M), battery(M), cycles(M);
    double to_server = 0;
    auto finite = [](double x, std::size_t m, const char* queue) {
      if (!std::isfinite(x))
        throw invalid_input(std::string("lyapunov scheduler: the ") + queue + " of worker " + std::to_string(m) +
                                " overflows double in this slot; rescale the units",
                            static_cast<long long>(m));
      return x;
    };
    for (std::size_t m = 0; m < M; ++m) {
      const double c = decision.transmitted[m];
      backlog[m] = finite(std::max(0.0, m_backlog[m] + decision.admitted[m] - c), m, "data backlog Q (7)");
      virt[m] = finite(std::max(0.0, m_virtual[m] + decision.auxiliary[m] - decision.admitted[m]), m, "virtual queue H");
      battery[m] =
          std::clamp(m_battery[m] - decision.upload_energy[m] - decision.compute_energy[m] + decision.stored_energy[m], 0.0,
                     m_params.battery_capacity[m]);  // (11)
      cycles[m] =
          finite(std::max(0.0, m_cycles[m] - decision.executed_cycles[m]) + (obs.new_cycles.empty() ? 0.0 : obs.new_cycles[m]), m,
                 "cycle backlog R (12)");
      to_server = finite(to_server + finite(c * m_params.cycles_per_bit[m], m, "server load c·xi (13)"), m,
                         "server backlog R_server (13)");
    }
    const double server = std::max(0.0, m_server - obs.server_cycles) + to_server;  // (13)
    if (!std::isfinite(server))
      throw invalid_input(
          "lyapunov scheduler: the server backlog R_server (13) overflows double in this slot; rescale the units");
    m_backlog = std::move(backlog);
    m_virtual = std::move(virt);
    m_battery = std::move(battery);
    m_cycles = std::move(cycles);
    m_server = server;
    accumulate(decision);
  }

  /// decide + apply; returns the decision.
  slot_decision step(const slot_observation& obs) {
    auto d = decide(obs);
    apply(obs, d);
    return d;
  }

 private:
  static bool is_active(const slot_observation& obs, std::size_t m) { return obs.active.empty() || obs.active[m] != 0; }

  void validate(const slot_observation& obs) const {
    const std::size_t M = m_backlog.size();
    auto check = [&](const std::vector<double>& v, const char* name, bool optional) {
      if (optional && v.empty()) return;
      if (v.size() != M)
        throw invalid_input(std::string("slot observation: ") + name + " has " + std::to_string(v.size()) +
                            " entries for M = " + std::to_string(M) + " workers");
      for (std::size_t m = 0; m < M; ++m)
        if (!(v[m] >= 0) || !std::isfinite(v[m]))
          throw invalid_input(std::string("slot observation: ") + name + " of worker " + std::to_string(m) + " is " +
                                  detail::format_g(v[m]) + "; need a finite value >= 0",
                              static_cast<long long>(m));
    };
    check(obs.arrivals, "arrivals D", false);
    check(obs.capacity, "channel capacity r", false);
    check(obs.harvest, "harvestable energy E^H", false);
    check(obs.cpu_cycles, "cpu cycles f", false);
    check(obs.new_cycles, "new cycles", true);
    if (!obs.active.empty() && obs.active.size() != M)
      throw invalid_input("slot observation: active has " + std::to_string(obs.active.size()) +
                          " entries for M = " + std::to_string(M));
    if (obs.channels < 0)
      throw invalid_input("slot observation: L(t) = " + std::to_string(obs.channels) + " channels; need L >= 0");
    if (!(obs.server_cycles >= 0) || !std::isfinite(obs.server_cycles))
      throw invalid_input("slot observation: server cycles F(t) = " + detail::format_g(obs.server_cycles) +
                          "; need a finite value >= 0");
  }

  void check_decision(const slot_observation& obs, const slot_decision& d) const {
    const std::size_t M = m_backlog.size();
    for (const auto* v : {&d.auxiliary, &d.admitted, &d.channel_time, &d.transmitted, &d.executed_cycles, &d.upload_energy,
                          &d.compute_energy, &d.stored_energy})
      if (v->size() != M)
        throw invalid_input("slot decision: a decision vector does not have M = " + std::to_string(M) + " entries");
    const double T = m_params.slot_length, slack = 1e-9;
    if (!(d.utility >= 0) || !std::isfinite(d.utility))
      throw invalid_input("slot decision: utility " + detail::format_g(d.utility) + " must be finite and >= 0");
    double total = 0;
    for (std::size_t m = 0; m < M; ++m) {
      auto fail = [&](const std::string& what) {
        throw invalid_input("slot decision violates " + what + " for worker " + std::to_string(m), static_cast<long long>(m));
      };
      // NaN passes every comparison below; a NaN or negative entry would enter the queues.
      for (const auto* v : {&d.auxiliary, &d.admitted, &d.channel_time, &d.transmitted, &d.executed_cycles, &d.upload_energy,
                            &d.compute_energy, &d.stored_energy})
        if (!((*v)[m] >= 0) || !std::isfinite((*v)[m]))
          fail("finite, non-negative entries (one is " + detail::format_g((*v)[m]) + ")");
      const double tol = slack * (1 + T);
      if (d.channel_time[m] < 0 || d.channel_time[m] > T + tol) fail("C1: 0 <= v <= T (5)");
      if (d.admitted[m] < 0 || d.admitted[m] > obs.arrivals[m] * (1 + slack)) fail("C2: 0 <= d <= D (8)");
      if (d.stored_energy[m] < 0 || d.stored_energy[m] > obs.harvest[m] * (1 + slack)) fail("C3: 0 <= e_store <= E^H");
      const double used = d.upload_energy[m] + d.compute_energy[m];
      if (used > m_battery[m] * (1 + slack) + slack) fail("C4: e_up + e_com <= E");
      if (m_battery[m] - used + d.stored_energy[m] > m_params.battery_capacity[m] * (1 + slack) + slack)
        fail("the battery capacity");
      if (d.transmitted[m] < 0 ||
          d.transmitted[m] > std::min(m_backlog[m], obs.capacity[m] * d.channel_time[m]) * (1 + slack) + slack)
        fail("c = min(Q, r v)");
      if (!is_active(obs, m) && (d.channel_time[m] > 0 || d.admitted[m] > 0))
        fail("inactive (straggler) workers send and admit nothing");
      auto same = [&](double a, double b) { return std::abs(a - b) <= slack * std::max(std::abs(a), std::abs(b)) + slack; };
      if (d.executed_cycles[m] > std::min(obs.cpu_cycles[m], m_cycles[m]) * (1 + slack) + slack) fail("f <= min(f^max, R)");
      if (!same(d.upload_energy[m], m_params.transmit_power[m] * d.channel_time[m])) fail("e_up = p v (9)");
      if (!same(d.compute_energy[m], m_params.energy_per_cycle[m] * d.executed_cycles[m])) fail("e_com = delta f (10)");
      total += d.channel_time[m];
    }
    if (total > T * static_cast<double>(obs.channels) * (1 + slack) + slack)
      throw invalid_input("slot decision violates (6): sum of channel times " + detail::format_g(total) +
                          " > T L(t) = " + detail::format_g(T * static_cast<double>(obs.channels)));
  }

  void accumulate(const slot_decision& d) {
    auto& s = m_stats;
    const double n = static_cast<double>(++s.slots);
    auto mix = [n](double& mean, double x) { mean += (x - mean) / n; };
    for (std::size_t m = 0; m < m_backlog.size(); ++m) {
      mix(s.mean_admitted[m], d.admitted[m]);
      mix(s.mean_transmitted[m], d.transmitted[m]);
      mix(s.mean_auxiliary[m], d.auxiliary[m]);
      mix(s.mean_backlog[m], m_backlog[m]);
      mix(s.mean_virtual[m], m_virtual[m]);
      mix(s.mean_battery[m], m_battery[m]);
      mix(s.mean_cycles[m], m_cycles[m]);
    }
    mix(s.mean_server_backlog, m_server);
    mix(s.mean_utility, d.utility);
  }

  lyapunov_params m_params;
  lyapunov_options m_options;
  std::vector<double> m_target, m_backlog, m_virtual, m_battery, m_cycles;
  double m_server = 0;
  lyapunov_statistics m_stats;
};

}  // namespace gradcode
