// SPDX-License-Identifier: MIT
// Worker history (throughput EWMA, straggler classification, P1's E[s_<i> | s_<i−1>]) and the
// epoch policy built on it (M1, which workers, T_comp, s), wang TSDCFL §4.2, eqs. (14), (16).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gradcode/dynamic/epoch_policy.hpp>
#include <gradcode/dynamic/history.hpp>
#include <gradcode/dynamic/two_stage.hpp>

#include "codes/code_properties.hpp"

using gradcode::Index;
using gradcode::worker_history;
using gradcode::worker_observation;
using gradcode::test::what_contains;

TEST_CASE("history: the throughput EWMA moves by alpha toward each observed rate and ignores idle workers", "[history]") {
  worker_history h({2, 4, 8}, {.smoothing = 0.5});
  const std::vector<worker_observation> epoch = {{10, 2.5}, {0, 0}, {8, 1}};  // rates 4, idle, 8
  CHECK(h.observe_epoch(epoch) == 0);
  CHECK(h.throughput(0) == Approx(3.0));  // 0.5·2 + 0.5·4
  CHECK(h.throughput(1) == Approx(4.0));  // not observed
  CHECK(h.throughput(2) == Approx(8.0));
  // Repeated observations converge geometrically to the true rate.
  for (int i = 0; i < 40; ++i) h.observe_epoch(std::vector<worker_observation>{{5, 1}, {1, 1}, {8, 1}});
  CHECK(h.throughput(0) == Approx(5.0).epsilon(1e-9));
  CHECK(h.throughput(1) == Approx(1.0).epsilon(1e-9));
}

TEST_CASE("history: a worker below straggler_ratio of its throughput counts as a straggler of the epoch", "[history]") {
  worker_history h({4, 4, 4, 4}, {.smoothing = 0.3, .straggler_ratio = 0.5});
  CHECK(h.observe_epoch(std::vector<worker_observation>{{4, 1}, {1, 1}, {2.1, 1}, {0, 0}}) == 1);  // rate 1 < 2; 2.1 is not
  CHECK(h.straggler_counts() == std::vector<Index>{1});
  CHECK(h.is_straggler(0, {1, 1}));
  CHECK_FALSE(h.is_straggler(0, {3, 1}));
}

TEST_CASE("history: the predicted straggler count is P1's conditional expectation given the last count, rounded up",
          "[history]") {
  worker_history h({1, 1, 1, 1, 1, 1}, {.initial_stragglers = 2});
  CHECK(h.expected_stragglers() == 2.0);  // no history yet
  CHECK(h.predicted_stragglers(5) == 2);
  CHECK(h.predicted_stragglers(1) == 1);  // clamped
  // Sequence 1, 2, 1, 2, 1, 1: transitions from 1 → {2, 2, 1}, from 2 → {1, 1}.
  for (Index s : {1, 2, 1, 2, 1, 1}) h.record_straggler_count(s);
  CHECK(h.expected_stragglers() == Approx(5.0 / 3.0));  // last = 1: E[s | 1] = (2 + 2 + 1)/3
  CHECK(h.predicted_stragglers(5) == 2);
  h.record_straggler_count(2);
  CHECK(h.expected_stragglers() == Approx(1.0));  // last = 2: E[s | 2] = 1
  CHECK(h.predicted_stragglers(5) == 1);
  h.record_straggler_count(3);  // state 3 never seen before: falls back to the mean of all counts
  CHECK(h.expected_stragglers() == Approx((1 + 2 + 1 + 2 + 1 + 1 + 2 + 3) / 8.0));
}

TEST_CASE("history: a persistent i.i.d. straggler process is predicted at its mean (rounded up)", "[history]") {
  std::mt19937_64 rng(gradcode::test::test_seed(3));
  worker_history h(std::vector<double>(6, 1.0));
  std::uniform_int_distribution<Index> one_or_two(1, 2);
  for (int i = 0; i < 2000; ++i) h.record_straggler_count(one_or_two(rng));
  CHECK(h.expected_stragglers() == Approx(1.5).margin(0.06));
  CHECK(h.predicted_stragglers(5) == 2);
}

TEST_CASE("history: invalid parameters and observations throw typed errors", "[history][errors]") {
  CHECK_THROWS_MATCHES(worker_history({}), gradcode::invalid_parameters, what_contains("no workers"));
  CHECK_THROWS_MATCHES(worker_history({1, 0}), gradcode::invalid_parameters,
                       what_contains("worker 1 has initial throughput W = 0"));
  CHECK_THROWS_MATCHES(worker_history({1, 1}, {.smoothing = 0}), gradcode::invalid_parameters,
                       what_contains("smoothing alpha = 0"));
  CHECK_THROWS_MATCHES(worker_history({1, 1}, {.smoothing = 0.3, .straggler_ratio = 1}), gradcode::invalid_parameters,
                       what_contains("straggler_ratio = 1 must be in (0, 1)"));
  worker_history h({1, 1});
  CHECK_THROWS_MATCHES(h.observe_epoch(std::vector<worker_observation>{{1, 1}}), gradcode::invalid_input,
                       what_contains("1 observations for M = 2 workers"));
  CHECK_THROWS_MATCHES(h.observe_epoch(std::vector<worker_observation>{{1, 1}, {-1, 1}}), gradcode::invalid_input,
                       what_contains("worker 1 reports -1 partitions"));
  CHECK_THROWS_MATCHES(h.record_straggler_count(3), gradcode::invalid_input,
                       what_contains("straggler count 3 outside [0, M = 2]"));
}

TEST_CASE(
    "epoch policy: by default M1 = M - s_hat workers start, T_comp is the predicted stage-1 makespan plus slack, and s fits the "
    "held-back workers",
    "[epoch_policy]") {
  worker_history h({2, 2, 4, 4, 8, 8}, {.initial_stragglers = 2});
  std::mt19937_64 rng(1);
  const auto d = gradcode::decide_epoch(h, 24, {.selection = gradcode::stage_one_selection::fastest}, rng);
  CHECK(d.predicted_stragglers == 2);
  CHECK(d.straggler_tolerance == 2);
  CHECK(d.stage_one_workers == std::vector<Index>{2, 3, 4, 5});
  // loads 24·(4,4,8,8)/24 = 4, 4, 8, 8: makespan 1 (every worker 1 time unit), T_comp = 1.25.
  CHECK(d.deadline == Approx(1.25));
  const auto slow =
      gradcode::decide_epoch(h, 24, {.selection = gradcode::stage_one_selection::slowest, .deadline_offset = 0.5}, rng);
  CHECK(slow.stage_one_workers == std::vector<Index>{0, 1, 2, 3});
  CHECK(slow.deadline == Approx(1.25 * 2 + 0.5));  // loads 4,4,8,8 on W 2,2,4,4
  // An explicit M1 leaving one worker in reserve caps s at 1.
  const auto tight = gradcode::decide_epoch(h, 24, {.stage_one_workers = 5, .fixed_deadline = 3}, rng);
  CHECK(tight.stage_one_workers.size() == 5);
  CHECK(tight.straggler_tolerance == 1);
  CHECK(tight.deadline == 3);
  // The decision builds a two-stage code whose stage-2 tolerance is feasible for any finished set.
  const gradcode::two_stage_code<double> epoch(
      {.throughputs = h.throughputs(), .partitions = 24, .stage_one_workers = tight.stage_one_workers});
  CHECK_NOTHROW(epoch.stage_two(std::vector<Index>{}, tight.straggler_tolerance));
}

TEST_CASE("epoch policy: random selection draws every worker over many epochs", "[epoch_policy]") {
  worker_history h(std::vector<double>(6, 1.0));
  std::mt19937_64 rng(gradcode::test::test_seed(5));
  std::vector<int> seen(6, 0);
  for (int i = 0; i < 200; ++i)
    for (Index m : gradcode::decide_epoch(h, 12, {}, rng).stage_one_workers) ++seen[static_cast<std::size_t>(m)];
  for (int c : seen) CHECK(c > 100);  // M1 = 5 of 6: expected 167 each
  CHECK_THROWS_MATCHES(gradcode::decide_epoch(h, 12, {.stage_one_workers = 7}, rng), gradcode::invalid_parameters,
                       what_contains("M1 = 7 outside [0, M = 6]"));
}

TEST_CASE(
    "history: rates near DBL_MAX or zero keep every W_m positive and finite, and a rate beyond the double range throws "
    "invalid_input naming the worker",
    "[history][errors][extreme]") {
  constexpr double big = std::numeric_limits<double>::max();
  worker_history h({big, big, std::numeric_limits<double>::denorm_min()}, {.smoothing = 0.3});
  // Worker 2 computed nothing: its rate floor 1e-6·W underflows to 0 for a subnormal W.
  h.observe_epoch(std::vector<worker_observation>{{big, 1}, {big / 2, 0.5}, {0, 1}});
  for (Index m = 0; m < 3; ++m) {
    INFO("worker " << m);
    CHECK(std::isfinite(h.throughput(m)));
    CHECK(h.throughput(m) > 0);
  }
  CHECK(h.throughput(0) == big);
  worker_history one({1, std::numeric_limits<double>::denorm_min()}, {.smoothing = 1});
  one.observe_epoch(std::vector<worker_observation>{{1, 1}, {0, 1}});
  CHECK(one.throughput(1) > 0);  // α = 1 takes the floored rate itself, never 0
  // 1e300 partitions in 1e-10 s: a rate of 1e310 would make W infinite.
  worker_history g({1, 1});
  CHECK_THROWS_MATCHES(g.observe_epoch(std::vector<worker_observation>{{1, 1}, {1e300, 1e-10}}), gradcode::invalid_input,
                       what_contains("worker 1 reports 1e+300 partitions in 1e-10 s, a rate beyond the double range"));
  CHECK(g.throughput(1) == 1);  // unchanged
  CHECK(g.straggler_counts().empty());
}

TEST_CASE(
    "epoch policy: throughputs near DBL_MAX give the loads of their ratios, and a T_comp beyond the double range throws "
    "invalid_parameters",
    "[epoch_policy][errors][extreme]") {
  const std::vector<double> ratio = {2, 2, 4, 4, 8, 8};
  std::vector<double> huge;
  for (double r : ratio) huge.push_back(std::ldexp(r, 1020));  // Σ W overflows double
  std::mt19937_64 rng(1);
  const auto unit = gradcode::decide_epoch(worker_history(ratio, {.initial_stragglers = 2}), 24,
                                           {.selection = gradcode::stage_one_selection::fastest}, rng);
  const auto d = gradcode::decide_epoch(worker_history(huge, {.initial_stragglers = 2}), 24,
                                        {.selection = gradcode::stage_one_selection::fastest}, rng);
  CHECK(d.stage_one_workers == unit.stage_one_workers);
  CHECK(d.deadline == std::ldexp(unit.deadline, -1020));  // loads 4, 4, 8, 8 as for the ratios
  // W = 2^-1070: 24 partitions take 2^1070·… time units, beyond double.
  const worker_history slow(std::vector<double>(4, std::ldexp(1.0, -1070)));
  CHECK_THROWS_MATCHES(gradcode::decide_epoch(slow, 24, {}, rng), gradcode::invalid_parameters,
                       what_contains("overflows double") && what_contains("fixed_deadline"));
  const worker_history h(std::vector<double>(4, 1.0));
  CHECK_THROWS_MATCHES(gradcode::decide_epoch(h, 24, {.deadline_slack = std::numeric_limits<double>::infinity()}, rng),
                       gradcode::invalid_parameters, what_contains("deadline_slack = inf"));
  CHECK_THROWS_MATCHES(gradcode::decide_epoch(h, Index{1} << 40, {}, rng), gradcode::invalid_parameters,
                       what_contains("exceeds limits::max_partitions"));
  CHECK_NOTHROW(gradcode::decide_epoch(slow, 24, {.fixed_deadline = 5}, rng));
}
