// SPDX-License-Identifier: MIT
// Lyapunov fairness scheduler (wang TSDCFL §4.3): the closed forms of P4/P5, the greedy channel
// knapsack of P7, the perturbed energy rule, the invariants of every slot (queues ≥ 0,
// Σ v ≤ T·L(t), v_m ≤ min(T, E_m/p_m, Q_m/r_m), 0 ≤ E_m ≤ capacity, the deterministic bounds
// on H and Q), utility growing with V, and long-run stability of the queues on a fixed seed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gradcode/dynamic/lyapunov.hpp>

#include "codes/code_properties.hpp"

using gradcode::Index;
using gradcode::lyapunov_scheduler;
using gradcode::slot_observation;
using gradcode::test::what_contains;

namespace {

constexpr Index scheduled_workers = 6;
constexpr double max_arrival = 2.0;

gradcode::lyapunov_params params(double V) {
  return {.transmit_power = {1, 1, 1.5, 1.5, 2, 2},
          .energy_per_cycle = std::vector<double>(scheduled_workers, 0.01),
          .cycles_per_bit = std::vector<double>(scheduled_workers, 0.1),
          .battery_capacity = std::vector<double>(scheduled_workers, 20.0),
          .slot_length = 1,
          .tradeoff = V};
}

/// An overloaded random workload: mean arrivals 6 per slot against ≈ 3 of channel capacity, so
/// admission control and the channel split decide who gets served; workers 0 and 1 have the
/// worst channels. 10% of the workers are stragglers (inactive) in a slot.
struct workload {
  std::mt19937_64 rng;
  explicit workload(std::uint64_t seed) : rng(seed) {}
  slot_observation next() {
    std::uniform_real_distribution<double> u(0, 1);
    slot_observation o;
    for (Index m = 0; m < scheduled_workers; ++m) {
      o.arrivals.push_back(max_arrival * u(rng));
      o.capacity.push_back((m < 2 ? 0.8 : 2.0) * (0.5 + u(rng)));
      o.harvest.push_back(1.6 * u(rng));
      o.cpu_cycles.push_back(50);
      o.new_cycles.push_back(60 * u(rng));
      o.active.push_back(u(rng) < 0.9 ? 1 : 0);
    }
    o.channels = u(rng) < 0.5 ? 1 : 2;
    o.server_cycles = 1.0;
    return o;
  }
};

struct run_result {
  gradcode::lyapunov_statistics first_half, second_half;
  double utility = 0;
};

run_result run(double V, Index slots, std::uint64_t seed) {
  lyapunov_scheduler sched(params(V));
  workload w(seed);
  run_result r;
  for (Index t = 0; t < slots; ++t) {
    if (t == slots / 2) {
      r.first_half = sched.statistics();
      sched.reset_statistics();
    }
    sched.step(w.next());
  }
  r.second_half = sched.statistics();
  r.utility = r.second_half.admission_utility();
  return r;
}

}  // namespace

TEST_CASE(
    "lyapunov: every slot keeps the queues non-negative, sum v <= T L(t), v_m <= min(T, E_m/p_m, Q_m/r_m), the battery within "
    "[0, capacity] and H, Q under V/ln2 + D, + 2D",
    "[lyapunov][invariants]") {
  for (double V : {0.0, 1.0, 20.0, 300.0}) {
    INFO("V = " << V);
    lyapunov_scheduler sched(params(V));
    workload w(gradcode::test::test_seed(11));
    const double ln2 = std::log(2.0);
    Index transmitted_slots = 0, stored_slots = 0;
    for (Index t = 0; t < 4000; ++t) {
      const auto obs = w.next();
      const auto Q = sched.backlog();
      const auto E = sched.battery();
      const auto d = sched.decide(obs);
      double total = 0;
      for (Index m = 0; m < scheduled_workers; ++m) {
        const auto i = static_cast<std::size_t>(m);
        const double v = d.channel_time[i];
        total += v;
        CHECK(v >= 0);
        CHECK(v <= 1.0 + 1e-12);
        CHECK(v * params(V).transmit_power[i] + d.compute_energy[i] <= E[i] + 1e-9);
        if (obs.capacity[i] > 0) CHECK(v <= Q[i] / obs.capacity[i] + 1e-9);
        CHECK(d.auxiliary[i] >= 0);
        CHECK(d.auxiliary[i] <= obs.arrivals[i] + 1e-12);
        CHECK((d.admitted[i] == 0 || d.admitted[i] == obs.arrivals[i]));
        if (!obs.active[i]) {
          CHECK(v == 0);
          CHECK(d.admitted[i] == 0);
        }
        transmitted_slots += d.transmitted[i] > 0 ? 1 : 0;
        stored_slots += d.stored_energy[i] > 0 ? 1 : 0;
      }
      CHECK(total <= static_cast<double>(obs.channels) + 1e-9);
      sched.apply(obs, d);
      for (Index m = 0; m < scheduled_workers; ++m) {
        const auto i = static_cast<std::size_t>(m);
        CHECK(sched.backlog()[i] >= 0);
        CHECK(sched.virtual_queue()[i] >= 0);
        CHECK(sched.cycles_backlog()[i] >= 0);
        CHECK(sched.battery()[i] >= 0);
        CHECK(sched.battery()[i] <= 20.0);
        CHECK(sched.virtual_queue()[i] <= V / ln2 + max_arrival + 1e-9);
        CHECK(sched.backlog()[i] <= V / ln2 + 2 * max_arrival + 1e-9);
      }
      CHECK(sched.server_backlog() >= 0);
    }
    if (V > 0) CHECK(transmitted_slots > 1000);
    CHECK(stored_slots > 100);
  }
}

TEST_CASE("lyapunov: P4 and P5 follow their closed forms", "[lyapunov][kat]") {
  // One worker, no channel (L = 0) so only y, d and the queues move.
  gradcode::lyapunov_params p{.transmit_power = {1},
                              .energy_per_cycle = {0},
                              .cycles_per_bit = {0},
                              .battery_capacity = {10},
                              .slot_length = 1,
                              .tradeoff = 4};
  lyapunov_scheduler sched(p);
  slot_observation o{.arrivals = {3},
                     .capacity = {1},
                     .harvest = {0},
                     .cpu_cycles = {0},
                     .new_cycles = {},
                     .active = {},
                     .channels = 0,
                     .server_cycles = 0};
  auto d = sched.step(o);  // H = 0: y = D; Q = 0 < H = 0 is false: d = 0
  CHECK(d.auxiliary[0] == 3);
  CHECK(d.admitted[0] == 0);
  CHECK(sched.virtual_queue()[0] == 3);
  d = sched.step(o);  // H = 3 < V/ln2 = 5.77: y = min(4/(3 ln2) − 1, 3) = 0.9236; Q = 0 < H: d = D = 3
  CHECK(d.auxiliary[0] == Approx(4 / (3 * std::log(2.0)) - 1));
  CHECK(d.admitted[0] == 3);
  CHECK(sched.backlog()[0] == 3);
  CHECK(sched.virtual_queue()[0] == Approx(0.9236).epsilon(1e-3));
  CHECK(d.utility == Approx(std::log2(1 + d.auxiliary[0])));
  lyapunov_scheduler saturated(p);
  for (int t = 0; t < 50; ++t) saturated.step(o);
  // With no channel Q only grows while Q < H; H stops growing at V/ln2: y = 0 from then on.
  CHECK(saturated.virtual_queue()[0] <= 4 / std::log(2.0) + 3 + 1e-12);
  CHECK(saturated.step(o).admitted[0] == 0);
}

TEST_CASE("lyapunov: the channel knapsack serves the largest weights first within T L(t), backlog and energy",
          "[lyapunov][kat]") {
  gradcode::lyapunov_params p{.transmit_power = {1, 1, 1},
                              .energy_per_cycle = {0, 0, 0},
                              .cycles_per_bit = {0, 0, 0},
                              .battery_capacity = {10, 10, 10},
                              .slot_length = 1,
                              .tradeoff = 50};
  lyapunov_scheduler sched(p, {.battery_target_fraction = 0.0, .initial_battery = {10, 10, 0.3}});
  // Fill the backlogs: Q = 0, 0, 0 → admit (Q < H after the first slot).
  slot_observation fill{.arrivals = {4, 1, 3},
                        .capacity = {1, 1, 1},
                        .harvest = {0, 0, 0},
                        .cpu_cycles = {0, 0, 0},
                        .new_cycles = {},
                        .active = {},
                        .channels = 0,
                        .server_cycles = 0};
  sched.step(fill);
  sched.step(fill);
  REQUIRE(sched.backlog() == std::vector<double>{4, 1, 3});
  // Weights Q·r + (E − θ)·p: 4·1 + 10, 1·3 + 10, 3·2 + 0.3 → order 0 (14), 1 (13), 2 (6.3).
  slot_observation o{.arrivals = {0, 0, 0},
                     .capacity = {1, 3, 2},
                     .harvest = {0, 0, 0},
                     .cpu_cycles = {0, 0, 0},
                     .new_cycles = {},
                     .active = {},
                     .channels = 2,
                     .server_cycles = 0};
  const auto d = sched.decide(o);
  CHECK(d.channel_time[0] == 1);                // min(T = 1, E/p = 10, Q/r = 4)
  CHECK(d.channel_time[1] == Approx(1.0 / 3));  // Q/r = 1/3
  CHECK(d.channel_time[2] == Approx(0.3));      // E/p = 0.3 < remaining budget 2/3
  CHECK(d.transmitted[0] == 1);
  CHECK(d.transmitted[1] == Approx(1));
  CHECK(d.transmitted[2] == Approx(0.6));
}

TEST_CASE(
    "lyapunov: the perturbed battery stores harvest below theta, not above, never beyond capacity — the printed rule never "
    "stores",
    "[lyapunov][energy]") {
  auto p = params(10);
  lyapunov_scheduler sched(p, {.battery_target_fraction = 0.5, .initial_battery = {0, 5, 9.9, 10, 15, 19.5}});
  workload w(5);
  auto o = w.next();
  std::fill(o.harvest.begin(), o.harvest.end(), 1.0);
  std::fill(o.active.begin(), o.active.end(), 1);
  std::fill(o.new_cycles.begin(), o.new_cycles.end(), 0.0);
  const auto d = sched.decide(o);
  CHECK(d.stored_energy[0] == 1);  // below θ = 10
  CHECK(d.stored_energy[1] == 1);
  CHECK(d.stored_energy[2] == 1);
  CHECK(d.stored_energy[3] == 0);  // at θ
  CHECK(d.stored_energy[4] == 0);
  CHECK(d.stored_energy[5] == 0);
  lyapunov_scheduler full(p, {.battery_target_fraction = 1.0, .initial_battery = {19.5, 19.5, 19.5, 19.5, 19.5, 19.5}});
  const auto capped = full.decide(o);
  for (Index m = 0; m < scheduled_workers; ++m) CHECK(capped.stored_energy[static_cast<std::size_t>(m)] <= 0.5 + 1e-12);
  // θ = 0 is P6 as printed (minimise E·e_store with E ≥ 0): nothing is ever stored, the batteries
  // drain and the uploads stop — the degeneracy the perturbation removes.
  lyapunov_scheduler printed(p, {.battery_target_fraction = 0.0, .initial_battery = std::vector<double>(scheduled_workers, 5.0)});
  workload w2(6);
  double late_transmitted = 0, stored = 0;
  for (int t = 0; t < 2000; ++t) {
    const auto dd = printed.step(w2.next());
    for (double e : dd.stored_energy) stored += e;
    if (t >= 1000)
      for (double c : dd.transmitted) late_transmitted += c;
  }
  CHECK(stored == 0);
  CHECK(late_transmitted == 0);
  const auto perturbed = run(10, 2000, 6);
  double served = 0;
  for (double c : perturbed.second_half.mean_transmitted) served += c;
  CHECK(served > 1.0);  // per slot, with the perturbed rule
}

TEST_CASE("lyapunov: the time-average utility sum log2(1 + mean d) grows with V", "[lyapunov][utility]") {
  const std::uint64_t seed = gradcode::test::test_seed(21);
  std::vector<double> utilities;
  // V up to 32: the batteries (capacity 20, θ = 10) keep up; far beyond, the fixed perturbation
  // θ no longer covers V (the theory wants θ ∝ V) and utility saturates (examples/tsdcfl.cpp).
  for (double V : {0.5, 2.0, 8.0, 32.0}) {
    const auto r = run(V, 6000, seed);
    utilities.push_back(r.utility);
    double backlog = 0;
    for (double q : r.second_half.mean_backlog) backlog += q;
    WARN("lyapunov V = " << V << ": sum log2(1 + mean admitted) = " << r.utility << ", mean total backlog " << backlog);
  }
  // Drift-plus-penalty: utility within O(1/V) of the optimum, so it rises with V (1% slack for
  // finite-horizon averages).
  for (std::size_t i = 1; i < utilities.size(); ++i) CHECK(utilities[i] >= 0.99 * utilities[i - 1]);
  CHECK(utilities.back() > utilities.front() + 0.4);
}

TEST_CASE(
    "lyapunov: on a fixed-seed run of 40000 slots every queue's time average stays bounded (second half no larger than the "
    "first)",
    "[lyapunov][stability]") {
  const double V = 50;
  const auto r = run(V, 40000, gradcode::test::test_seed(33));
  const auto& a = r.first_half;
  const auto& b = r.second_half;
  for (Index m = 0; m < scheduled_workers; ++m) {
    const auto i = static_cast<std::size_t>(m);
    INFO("worker " << m);
    CHECK(b.mean_backlog[i] <= 1.1 * a.mean_backlog[i] + 0.5);
    CHECK(b.mean_virtual[i] <= 1.1 * a.mean_virtual[i] + 0.5);
    CHECK(b.mean_cycles[i] <= 1.1 * a.mean_cycles[i] + 5);
    CHECK(b.mean_backlog[i] <= V / std::log(2.0) + 2 * max_arrival);
    CHECK(b.mean_cycles[i] < 200);  // mean new work 30 < 50 cycles per slot
    CHECK(b.mean_battery[i] > 0);
    // Admitted = transmitted in the long run (Q is stable).
    CHECK(b.mean_admitted[i] == Approx(b.mean_transmitted[i]).margin(0.02));
  }
  CHECK(b.mean_server_backlog <= 1.1 * a.mean_server_backlog + 1);
}

TEST_CASE("lyapunov: invalid parameters, observations and decisions throw typed errors", "[lyapunov][errors]") {
  auto p = params(1);
  p.transmit_power[2] = 0;
  CHECK_THROWS_MATCHES(lyapunov_scheduler(p), gradcode::invalid_parameters, what_contains("worker 2 has transmit power p = 0"));
  p = params(1);
  p.battery_capacity.pop_back();
  CHECK_THROWS_MATCHES(lyapunov_scheduler(p), gradcode::invalid_parameters,
                       what_contains("battery_capacity has 5 entries, transmit_power has M = 6"));
  CHECK_THROWS_MATCHES(lyapunov_scheduler(params(-1)), gradcode::invalid_parameters, what_contains("V = -1; need V >= 0"));
  lyapunov_scheduler sched(params(1));
  workload w(1);
  auto o = w.next();
  o.arrivals[4] = -1;
  CHECK_THROWS_MATCHES(sched.decide(o), gradcode::invalid_input, what_contains("arrivals D of worker 4 is -1"));
  o = w.next();
  o.capacity.pop_back();
  CHECK_THROWS_MATCHES(sched.step(o), gradcode::invalid_input, what_contains("channel capacity r has 5 entries for M = 6"));
  o = w.next();
  auto d = sched.decide(o);
  d.channel_time[0] = 5;
  CHECK_THROWS_MATCHES(sched.apply(o, d), gradcode::invalid_input, what_contains("C1: 0 <= v <= T (5) for worker 0"));
}

TEST_CASE("lyapunov: a hand-made decision with NaN, negative or inconsistent entries is refused and leaves the state unchanged",
          "[lyapunov][errors]") {
  lyapunov_scheduler sched(params(10));
  workload w(11);
  for (int t = 0; t < 30; ++t) sched.step(w.next());
  auto o = w.next();
  std::fill(o.active.begin(), o.active.end(), 1);
  const auto good = sched.decide(o);
  const auto backlog = sched.backlog(), virt = sched.virtual_queue(), battery = sched.battery(), cycles = sched.cycles_backlog();
  const double server = sched.server_backlog();
  auto unchanged = [&] {
    CHECK(sched.backlog() == backlog);
    CHECK(sched.virtual_queue() == virt);
    CHECK(sched.battery() == battery);
    CHECK(sched.cycles_backlog() == cycles);
    CHECK(sched.server_backlog() == server);
  };
  // NaN passes every "<" and ">" test: max(0, Q + NaN − c) silently reset the backlog to 0.
  auto d = good;
  d.admitted[1] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(sched.apply(o, d), gradcode::invalid_input,
                       what_contains("finite, non-negative entries") && what_contains("worker 1"));
  unchanged();
  d = good;
  d.auxiliary[2] = -5;  // would lower H below what the admissions justify
  CHECK_THROWS_MATCHES(sched.apply(o, d), gradcode::invalid_input, what_contains("for worker 2"));
  unchanged();
  std::size_t sender = scheduled_workers;
  for (std::size_t m = 0; m < static_cast<std::size_t>(scheduled_workers); ++m)
    if (good.channel_time[m] > 0) sender = m;
  REQUIRE(sender < static_cast<std::size_t>(scheduled_workers));
  d = good;
  d.upload_energy[sender] = 0;  // transmits without paying the energy of (9)
  CHECK_THROWS_MATCHES(sched.apply(o, d), gradcode::invalid_input,
                       what_contains("e_up = p v (9) for worker " + std::to_string(sender)));
  d = good;
  d.executed_cycles[0] = o.cpu_cycles[0] + 1;  // more cycles than the CPU had
  CHECK_THROWS_MATCHES(sched.apply(o, d), gradcode::invalid_input, what_contains("f <= min(f^max, R) for worker 0"));
  std::size_t computer = scheduled_workers;
  for (std::size_t m = 0; m < static_cast<std::size_t>(scheduled_workers); ++m)
    if (good.compute_energy[m] > 0) computer = m;
  REQUIRE(computer < static_cast<std::size_t>(scheduled_workers));
  d = good;
  d.compute_energy[computer] *= 0.5;  // computes at half the energy of (10)
  CHECK_THROWS_MATCHES(sched.apply(o, d), gradcode::invalid_input,
                       what_contains("e_com = delta f (10) for worker " + std::to_string(computer)));
  unchanged();
  CHECK_NOTHROW(sched.apply(o, good));
}

TEST_CASE(
    "lyapunov: a queue pushed beyond the double range throws invalid_input naming the worker and the queue, the state unchanged",
    "[lyapunov][errors][extreme]") {
  lyapunov_scheduler sched(params(1));
  slot_observation o{.arrivals = std::vector<double>(scheduled_workers, 0.0),
                     .capacity = std::vector<double>(scheduled_workers, 1.0),
                     .harvest = std::vector<double>(scheduled_workers, 0.0),
                     .cpu_cycles = std::vector<double>(scheduled_workers, 0.0),
                     .new_cycles = std::vector<double>(scheduled_workers, 0.0),
                     .active = {},
                     .channels = 1,
                     .server_cycles = 0};
  o.new_cycles[3] = 1e308;  // R_3 = 1e308, then 2e308 = inf by (12)
  sched.step(o);
  REQUIRE(sched.cycles_backlog()[3] == 1e308);
  CHECK_THROWS_MATCHES(sched.step(o), gradcode::invalid_input,
                       what_contains("cycle backlog R (12) of worker 3 overflows double"));
  CHECK(sched.cycles_backlog()[3] == 1e308);
  CHECK(sched.statistics().slots == 1);

  // Q = 1e200 against r = 1e200: the P7 weight Q·r is beyond double and cannot be ranked.
  gradcode::lyapunov_params p{.transmit_power = {1},
                              .energy_per_cycle = {0},
                              .cycles_per_bit = {0},
                              .battery_capacity = {10},
                              .slot_length = 1,
                              .tradeoff = 4};
  lyapunov_scheduler one(p);
  slot_observation fill{.arrivals = {1e200},
                        .capacity = {1},
                        .harvest = {0},
                        .cpu_cycles = {0},
                        .new_cycles = {},
                        .active = {},
                        .channels = 0,
                        .server_cycles = 0};
  one.step(fill);  // H = D
  one.step(fill);  // Q < H: admits D
  REQUIRE(one.backlog()[0] == 1e200);
  fill.capacity = {1e200};
  fill.channels = 1;
  CHECK_THROWS_MATCHES(one.decide(fill), gradcode::invalid_input,
                       what_contains("P7 weight") && what_contains("worker 0 overflows double"));
  fill.capacity = {1};
  CHECK_NOTHROW(one.decide(fill));
}

// ---- admission weights λ_m (P2, eq. (15)) --------------------------------------------------------

TEST_CASE(
    "lyapunov: P4 with admission weights lambda follows V log2(1 + lambda y) − H y: y = V/(H ln2) − 1/lambda, 0 once H ≥ V "
    "lambda/ln2",
    "[lyapunov][kat][lambda]") {
  const double ln2 = std::log(2.0);
  for (double lambda : {0.5, 1.0, 2.0}) {
    INFO("lambda = " << lambda);
    gradcode::lyapunov_params p{.transmit_power = {1},
                                .energy_per_cycle = {0},
                                .cycles_per_bit = {0},
                                .battery_capacity = {10},
                                .slot_length = 1,
                                .tradeoff = 4,
                                .admission_weight = {lambda}};
    lyapunov_scheduler sched(p);
    CHECK(sched.admission_weights() == std::vector<double>{lambda});
    slot_observation o{.arrivals = {3},
                       .capacity = {1},
                       .harvest = {0},
                       .cpu_cycles = {0},
                       .new_cycles = {},
                       .active = {},
                       .channels = 0,
                       .server_cycles = 0};
    auto d = sched.step(o);  // H = 0: y = D whatever lambda
    CHECK(d.auxiliary[0] == 3);
    CHECK(d.utility == Approx(std::log2(1 + lambda * 3)));
    d = sched.step(o);  // H = 3
    // V lambda / ln2 = 2.885 (lambda 0.5) < H = 3: y = 0; 5.77 and 11.5 > 3: the stationary point.
    const double expected = 4 * lambda / ln2 <= 3 ? 0.0 : std::min(4 / (3 * ln2) - 1 / lambda, 3.0);
    CHECK(d.auxiliary[0] == Approx(expected).margin(1e-15));
    CHECK(d.utility == Approx(std::log2(1 + lambda * expected)).margin(1e-15));
  }
  // The three values typed out: 4/(3 ln2) − 1/2 = 1.4236, 4/(3 ln2) − 1 = 0.9236, and 0.
  gradcode::lyapunov_params p{.transmit_power = {1, 1, 1},
                              .energy_per_cycle = {0, 0, 0},
                              .cycles_per_bit = {0, 0, 0},
                              .battery_capacity = {10, 10, 10},
                              .slot_length = 1,
                              .tradeoff = 4,
                              .admission_weight = {2, 1, 0.5}};
  lyapunov_scheduler sched(p);
  slot_observation o{.arrivals = {3, 3, 3},
                     .capacity = {1, 1, 1},
                     .harvest = {0, 0, 0},
                     .cpu_cycles = {0, 0, 0},
                     .new_cycles = {},
                     .active = {},
                     .channels = 0,
                     .server_cycles = 0};
  sched.step(o);
  const auto d = sched.step(o);
  CHECK(d.auxiliary[0] == Approx(1.4236).epsilon(1e-4));
  CHECK(d.auxiliary[1] == Approx(0.9236).epsilon(1e-4));
  CHECK(d.auxiliary[2] == 0);
}

TEST_CASE("lyapunov: without admission weights every P4 decision is bitwise today's unweighted rule (lambda = 1)",
          "[lyapunov][lambda]") {
  lyapunov_scheduler sched(params(20));  // admission_weight left empty
  CHECK(sched.admission_weights() == std::vector<double>(scheduled_workers, 1.0));
  auto explicit_ones = params(20);
  explicit_ones.admission_weight.assign(scheduled_workers, 1.0);
  lyapunov_scheduler same(explicit_ones);
  workload w(gradcode::test::test_seed(41));
  const double V = 20, ln2 = std::log(2.0);
  for (Index t = 0; t < 3000; ++t) {
    const auto o = w.next();
    const auto H = sched.virtual_queue();
    const auto d = sched.decide(o);
    double utility = 0;
    for (Index m = 0; m < scheduled_workers; ++m) {
      const auto i = static_cast<std::size_t>(m);
      // The rule before admission weights existed, typed out.
      double y = 0;
      if (o.active[i]) {
        if (H[i] <= 0)
          y = o.arrivals[i];
        else if (V / ln2 > H[i])
          y = std::min(V / (H[i] * ln2) - 1, o.arrivals[i]);
        y = std::max(0.0, y);
      }
      CHECK(d.auxiliary[i] == y);
      utility += std::log2(1 + y);
    }
    CHECK(d.utility == utility);
    const auto e = same.decide(o);
    CHECK(e.auxiliary == d.auxiliary);
    CHECK(e.channel_time == d.channel_time);
    sched.apply(o, d);
    same.apply(o, e);
  }
  CHECK(sched.statistics().admission_utility() == same.statistics().admission_utility());
}

namespace {
/// Two identical workers on one channel of capacity 1 per slot against mean arrivals 2 (overload):
/// only the admission weights tell them apart. Returns the second-half statistics.
gradcode::lyapunov_statistics weighted_pair(std::vector<double> lambda, std::uint64_t seed) {
  lyapunov_scheduler sched({.transmit_power = {1e-3, 1e-3},
                            .energy_per_cycle = {0, 0},
                            .cycles_per_bit = {0, 0},
                            .battery_capacity = {1e3, 1e3},
                            .slot_length = 1,
                            .tradeoff = 10,
                            .admission_weight = std::move(lambda)});
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (Index t = 0; t < 20000; ++t) {
    slot_observation o{.arrivals = {2 * u(rng), 2 * u(rng)},
                       .capacity = {1, 1},
                       .harvest = {1e-3, 1e-3},
                       .cpu_cycles = {0, 0},
                       .new_cycles = {},
                       .active = {},
                       .channels = 1,
                       .server_cycles = 0};
    if (t == 10000) sched.reset_statistics();
    sched.step(o);
  }
  return sched.statistics();
}
}  // namespace

TEST_CASE(
    "lyapunov: a larger admission weight lambda_m shifts admitted data and channel time to worker m (P2: lambda weighs its "
    "admission), symmetric in the workers",
    "[lyapunov][lambda]") {
  const std::uint64_t seed = gradcode::test::test_seed(43);
  const auto equal = weighted_pair({1, 1}, seed);
  const auto first = weighted_pair({4, 1}, seed);
  const auto second = weighted_pair({1, 4}, seed);
  WARN("lambda = (1, 1): admitted " << equal.mean_admitted[0] << ", " << equal.mean_admitted[1]
                                    << "; (4, 1): " << first.mean_admitted[0] << ", " << first.mean_admitted[1]
                                    << "; (1, 4): " << second.mean_admitted[0] << ", " << second.mean_admitted[1]);
  // Equal weights: an even split of the one unit of capacity per slot.
  CHECK(equal.mean_admitted[0] == Approx(equal.mean_admitted[1]).epsilon(0.05));
  // lambda = 4 for one worker: it gets clearly more, of the same total.
  CHECK(first.mean_admitted[0] > 1.3 * first.mean_admitted[1]);
  CHECK(second.mean_admitted[1] > 1.3 * second.mean_admitted[0]);
  CHECK(first.mean_transmitted[0] > first.mean_transmitted[1]);
  CHECK(first.mean_backlog[0] > first.mean_backlog[1]);
  const double total = equal.mean_admitted[0] + equal.mean_admitted[1];
  CHECK(first.mean_admitted[0] + first.mean_admitted[1] == Approx(total).epsilon(0.05));
  // P2's objective is weighted: the lambda-weighted scheduler scores its own weighted utility higher.
  CHECK(first.admission_utility() > equal.admission_utility());
}

TEST_CASE("lyapunov: admission weights that are not positive and finite, or not one per worker, throw invalid_parameters",
          "[lyapunov][errors][lambda]") {
  auto p = params(1);
  p.admission_weight = {1, 1, 0, 1, 1, 1};
  CHECK_THROWS_MATCHES(lyapunov_scheduler(p), gradcode::invalid_parameters,
                       what_contains("worker 2 has admission weight lambda = 0"));
  p.admission_weight = {1, 1, 1, 1, 1, std::numeric_limits<double>::infinity()};
  CHECK_THROWS_MATCHES(lyapunov_scheduler(p), gradcode::invalid_parameters, what_contains("worker 5 has admission weight"));
  p.admission_weight = {1, 2};
  CHECK_THROWS_MATCHES(lyapunov_scheduler(p), gradcode::invalid_parameters,
                       what_contains("admission_weight (lambda) has 2 entries, transmit_power has M = 6"));
}

TEST_CASE("lyapunov: with admission weights H_m stays under V lambda_m/ln2 + D every slot", "[lyapunov][invariants][lambda]") {
  auto p = params(10);
  p.admission_weight = {0.25, 0.5, 1, 2, 4, 8};
  lyapunov_scheduler sched(p);
  workload w(gradcode::test::test_seed(45));
  const double ln2 = std::log(2.0);
  for (Index t = 0; t < 4000; ++t) {
    sched.step(w.next());
    for (std::size_t i = 0; i < static_cast<std::size_t>(scheduled_workers); ++i) {
      CHECK(sched.virtual_queue()[i] <= 10 * p.admission_weight[i] / ln2 + max_arrival + 1e-9);
      CHECK(sched.backlog()[i] <= 10 * p.admission_weight[i] / ln2 + 2 * max_arrival + 1e-9);
    }
  }
}
