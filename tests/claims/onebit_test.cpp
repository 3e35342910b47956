// SPDX-License-Identifier: MIT
// li-skoglund §V's claim "1-bit GC-DL attains better learning performance under the same
// communication overhead" as the examples measure it (examples/onebit_*.cpp print the bits each
// method needs to reach a threshold), asserted on the same experiment functions
// (examples/common/onebit_experiments.hpp) at a smaller ψ budget. Every run is seeded (seed 1,
// the examples' default), so the figures in the comments are what the examples print.
#include <catch2/catch.hpp>

#include <cstdio>

#include "common/onebit_experiments.hpp"

namespace {
enum method { one_bit = 0, sgc = 1, ignore = 2 };

double bits(const std::vector<examples::onebit_run>& runs, method m, std::size_t threshold) {
  return runs[static_cast<std::size_t>(m)].result.bits_to_threshold[threshold];
}

void print(const char* what, const std::vector<examples::onebit_run>& runs, const std::vector<double>& thresholds) {
  for (const auto& r : runs) {
    std::printf("claims onebit %s: %-30s", what, r.label.c_str());
    for (std::size_t h = 0; h < thresholds.size(); ++h)
      std::printf("  <= %g: %.0f", thresholds[h], r.result.bits_to_threshold[h]);
    std::printf("  final %.4g%s\n", r.result.final_metric, r.result.diverged ? " (diverged)" : "");
  }
}
}  // namespace

TEST_CASE(
    "onebit §V-A linear regression: 1-bit GC-DL reaches √(2L̂) ≤ 1000 and ≤ 100 with ≥ 1.5× fewer bits than SGC-DL, "
    "≤ 40 within a budget SGC-DL does not, and ≥ 10× fewer than ignore-stragglers",
    "[claims][onebit]") {
  // Budget 6.4e5 bits = 100 SGC-DL messages (the example: 600). Measured: ≤ 1000 at 2788 vs 12800
  // bits (4.6×), ≤ 100 at 70520 vs 128000 (1.8×), ≤ 40 at 468876 (SGC-DL: 889600, beyond this
  // budget); ignore-stragglers reaches ≤ 1000 only at 484620 (174×).
  const examples::onebit_setup setup{
      .seed = 1, .budget = 6400.0 * 100, .thresholds = {1000, 100, 40}, .p = 0.1, .pixel_scale = 1};
  const auto runs = examples::linear_regression_experiment(setup, nullptr);
  REQUIRE(runs.size() == 3);
  print("linear regression", runs, setup.thresholds);
  for (std::size_t h = 0; h < 2; ++h) {
    INFO("threshold " << setup.thresholds[h]);
    REQUIRE(bits(runs, one_bit, h) >= 0);
    REQUIRE(bits(runs, sgc, h) >= 0);
    CHECK(bits(runs, one_bit, h) * 1.5 <= bits(runs, sgc, h));
  }
  CHECK(bits(runs, one_bit, 2) >= 0);
  CHECK(bits(runs, one_bit, 2) <= 0.8 * setup.budget);
  CHECK(bits(runs, sgc, 2) < 0);  // not reached within the budget
  CHECK((bits(runs, ignore, 0) < 0 || bits(runs, ignore, 0) >= 10 * bits(runs, one_bit, 0)));
  CHECK(runs[one_bit].result.final_metric < runs[sgc].result.final_metric);
}

TEST_CASE(
    "onebit §V-B Rosenbrock: 1-bit GC-DL reaches L̂ ≤ 1e5 with ≥ 10× fewer bits than SGC-DL and L̂ ≤ 1e4 within a budget "
    "SGC-DL does not, while ignore-stragglers diverges",
    "[claims][onebit]") {
  // Budget 50 SGC-DL messages (64·1001 bits each; the example: 2000). Measured: ≤ 1e5 at 79875 vs
  // 2242240 bits (28×), ≤ 1e4 at 479250 (SGC-DL: not within the budget), ignore-stragglers
  // diverges after 5 iterations (li-skoglund Fig. 6 omits it "due to its convergence failure").
  const double rho_sgc = 64.0 * 1001;
  const examples::onebit_setup setup{.seed = 1, .budget = rho_sgc * 50, .thresholds = {1e5, 1e4}, .p = 0.1, .pixel_scale = 1};
  const auto runs = examples::rosenbrock_experiment(setup, nullptr);
  REQUIRE(runs.size() == 3);
  print("rosenbrock", runs, setup.thresholds);
  REQUIRE(bits(runs, one_bit, 0) >= 0);
  REQUIRE(bits(runs, sgc, 0) >= 0);
  CHECK(bits(runs, one_bit, 0) * 10 <= bits(runs, sgc, 0));
  CHECK(bits(runs, one_bit, 1) >= 0);
  CHECK(bits(runs, sgc, 1) < 0);
  CHECK(runs[ignore].result.diverged);
  CHECK_FALSE(runs[one_bit].result.diverged);
  CHECK(runs[one_bit].result.final_metric < runs[sgc].result.final_metric);
}

TEST_CASE(
    "onebit §V-C Fashion-MNIST logistic regression: 1-bit GC-DL reaches L̂ ≤ 100 with ≥ 10× fewer bits than SGC-DL and "
    "L̂ ≤ 60 within a budget SGC-DL does not",
    "[claims][onebit]") {
  // Budget 50 SGC-DL messages (64·784 bits each; the example: 2000). Measured: ≤ 100 at 5088 vs
  // 451584 bits (89×), ≤ 60 at 46640 (SGC-DL: not within the budget). Ignore-stragglers 1-bit
  // (d_i = 1) needs *fewer* bits than 1-bit GC-DL here (4240, 31376) — no claim is made about it.
  const auto problem = examples::load_logistic_problem(100, 1, 1, nullptr);
  const double rho_sgc = 64.0 * 784;
  const examples::onebit_setup setup{.seed = 1, .budget = rho_sgc * 50, .thresholds = {100, 60}, .p = 0.1, .pixel_scale = 1};
  const auto runs = examples::logistic_experiment(problem, setup, nullptr);
  REQUIRE(runs.size() == 3);
  print(problem.synthetic ? "logistic (SYNTHETIC stand-in)" : "logistic", runs, setup.thresholds);
  REQUIRE(bits(runs, one_bit, 0) >= 0);
  REQUIRE(bits(runs, sgc, 0) >= 0);
  CHECK(bits(runs, one_bit, 0) * 10 <= bits(runs, sgc, 0));
  CHECK(bits(runs, one_bit, 1) >= 0);
  CHECK(bits(runs, sgc, 1) < 0);
  CHECK(runs[one_bit].result.final_metric < runs[sgc].result.final_metric);
}
