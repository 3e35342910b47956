// SPDX-License-Identifier: MIT
// README's demo claims (tang2024 §V: the table like Table I, JNCSS's choice, the per-iteration
// times and their ordering), asserted on the calls examples/demo.cpp makes: jncss() on the §V
// preset and compare_schemes() (gradcode/sim/comparison.hpp).
//
// The iteration times depend only on the runtime-model draws (seeded by training_options::seed),
// not on the data, so the table's timing columns at CI size (fewer samples) equal the demo's for
// the same iteration count and seed. Measured over seeds 1–40 at 200 iterations: the ordering
// below held for every seed, HGC/Uncoded ∈ [0.433, 0.474], HGC-JNCSS/HGC ≤ 0.636.
#include <catch2/catch.hpp>

#include <gradcode/optimize/jncss.hpp>
#include <gradcode/optimize/presets.hpp>
#include <gradcode/sim/comparison.hpp>

#include <cmath>
#include <cstdio>
#include <map>

#include "common/fashion_mnist.hpp"

using namespace gradcode;

namespace {
const std::vector<scheme> demo_schemes{scheme::uncoded,     scheme::greedy, scheme::cgc_w,    scheme::cgc_e,
                                       scheme::standard_gc, scheme::hgc,    scheme::hgc_jncss};

/// The demo's run (examples/demo.cpp defaults: K = 40, (s_e, s_w) = (1, 1), non-IID level I, lr 0.1,
/// seed 1) at CI size: 2000 training and 2000 test images (the demo's --smoke data), 200 iterations.
struct demo_table {
  jncss_result choice;
  std::map<scheme, comparison_row> rows;
  double target = 0;
};

const demo_table& run_demo() {
  static const demo_table table = [] {
    demo_table t;
    const Index partitions = 40, iterations = 200;
    const auto train_raw = examples::load_fashion_mnist("train", 2000);
    const auto test_raw = examples::load_fashion_mnist("t10k", 2000);
    const matrix<float> train_x = train_raw.features.cast<float>(), test_x = test_raw.features.cast<float>();
    const auto train = split_non_iid<float>(train_x, train_raw.labels, partitions, non_iid_level::i, 1);
    const softmax_regression<float> model(784, 10);
    const runtime_model timing = tang2024_setting(tang2024_workload::mnist);
    t.choice = jncss(timing, partitions);
    // 2000 samples learn less than the demo's 15000: the target is 70 % instead of 75 %.
    t.target = 0.70;
    const comparison_params params{.timing = timing,
                                   .partitions = partitions,
                                   .schemes = demo_schemes,
                                   .edge_tolerance = 1,
                                   .worker_tolerance = 1,
                                   .jncss_edge_tolerance = t.choice.edge_tolerance,
                                   .jncss_worker_tolerance = t.choice.worker_tolerance,
                                   .target_accuracy = t.target,
                                   .seed = 1};
    training_options o;
    o.iterations = iterations;
    o.learning_rate = 0.1;
    o.evaluate_every = std::max<Index>(1, iterations / 30);
    o.seed = 1;
    for (auto& row : compare_schemes<float>(params, model, train, test_x, test_raw.labels, o)) {
      std::printf(
          "claims demo: %-12s (%ld,%ld) avg iter %7.1f ms, time to %.0f %% %7.1f s, final accuracy %.4f, grad error %.1e\n",
          row.name.c_str(), static_cast<long>(row.edge_tolerance), static_cast<long>(row.worker_tolerance),
          row.result.mean_iteration_ms, 100 * t.target, row.time_to_target_ms / 1000, row.result.curve.back().test_accuracy,
          row.result.max_gradient_error);
      t.rows.emplace(row.which, std::move(row));
    }
    return t;
  }();
  return table;
}

double mean_ms(scheme s) { return run_demo().rows.at(s).result.mean_iteration_ms; }
}  // namespace

TEST_CASE("demo: on the §V preset (MNIST workload, K = 40) HGC-JNCSS chooses (s_e, s_w) = (1, 5)", "[claims][demo]") {
  // The demo's own calls: jncss() on the preset, then the HGC-JNCSS runner built from its choice.
  const runtime_model timing = tang2024_setting(tang2024_workload::mnist);
  const auto choice = jncss(timing, 40);
  CHECK(choice.edge_tolerance == 1);
  CHECK(choice.worker_tolerance == 5);
  const scheme_runner<float> jn(scheme::hgc_jncss, timing, 40, choice.edge_tolerance, choice.worker_tolerance, 1);
  CHECK(jn.edge_tolerance() == 1);
  CHECK(jn.worker_tolerance() == 5);
  CHECK(jn.load(0, 0) == 12);  // K(ŝ_e+1)(ŝ_w+1)/Σm = 40·2·6/40
  CHECK(jn.master_load() == 3);
}

TEST_CASE(
    "demo: mean iteration time orders HGC-JNCSS < Greedy < HGC < CGC-E < Standard GC < CGC-W < Uncoded, each ≥ 3 % "
    "below the next",
    "[claims][demo]") {
  const std::vector<scheme> order{scheme::hgc_jncss,   scheme::greedy, scheme::hgc,    scheme::cgc_e,
                                  scheme::standard_gc, scheme::cgc_w,  scheme::uncoded};
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    INFO(scheme_name(order[i]) << " " << mean_ms(order[i]) << " ms vs " << scheme_name(order[i + 1]) << " "
                               << mean_ms(order[i + 1]) << " ms");
    CHECK(mean_ms(order[i]) <= 0.97 * mean_ms(order[i + 1]));
  }
}

TEST_CASE("demo: HGC(1,1)'s per-iteration time is 50–60 % below Uncoded and HGC-JNCSS's ≥ 30 % below HGC(1,1)",
          "[claims][demo]") {
  // Full demo (300 iterations): 855.6 vs 1887.5 ms (55 % below), JNCSS 528.5 ms (38 % below HGC).
  // tang2024 Fig. 8: HGC up to 59.8 % over Uncoded, JNCSS up to 33.7 % over HGC.
  const double hgc = mean_ms(scheme::hgc), uncoded = mean_ms(scheme::uncoded), jn = mean_ms(scheme::hgc_jncss);
  std::printf("claims demo: HGC/Uncoded %.3f, HGC-JNCSS/HGC %.3f\n", hgc / uncoded, jn / hgc);
  CHECK(hgc / uncoded >= 0.40);
  CHECK(hgc / uncoded <= 0.50);
  CHECK(jn / hgc <= 0.70);
}

TEST_CASE(
    "demo: every exact scheme reaches the target at the same iteration, so time to target follows the iteration-time "
    "ordering, HGC-JNCSS first and Uncoded last",
    "[claims][demo]") {
  const auto& t = run_demo();
  const std::vector<scheme> exact{scheme::hgc_jncss,   scheme::hgc,   scheme::cgc_e,
                                  scheme::standard_gc, scheme::cgc_w, scheme::uncoded};
  auto reached_at = [&](scheme s) {
    const auto& r = t.rows.at(s);
    for (const auto& p : r.result.curve)
      if (p.test_accuracy >= t.target) return p.iteration;
    return Index{-1};
  };
  const Index at = reached_at(scheme::uncoded);
  REQUIRE(at > 0);
  for (std::size_t i = 0; i < exact.size(); ++i) {
    INFO(scheme_name(exact[i]));
    CHECK(reached_at(exact[i]) == at);
    CHECK(t.rows.at(exact[i]).result.curve.back().test_accuracy ==
          Approx(t.rows.at(scheme::uncoded).result.curve.back().test_accuracy).margin(2e-3));
    if (i + 1 < exact.size()) CHECK(t.rows.at(exact[i]).time_to_target_ms < t.rows.at(exact[i + 1]).time_to_target_ms);
  }
  // Greedy ignores stragglers: its gradient is not Σ g_k (the table's grad error column).
  CHECK(t.rows.at(scheme::greedy).result.max_gradient_error > 1e-3);
  for (const scheme s : exact) CHECK(t.rows.at(s).result.max_gradient_error <= 1e-6);
}

TEST_CASE("demo: 500 Uncoded iterations of the §IV model take ≈ 0.27 h (README: Table I's 0.86 h cannot come from it)",
          "[claims][demo]") {
  const double hours = 500 * mean_ms(scheme::uncoded) / 3.6e6;
  std::printf("claims demo: 500 Uncoded iterations = %.3f h\n", hours);
  CHECK(hours == Approx(0.27).epsilon(0.1));
  CHECK(hours < 0.5 * 0.86);
}
