// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <gradcode/quantize/placement.hpp>
#include <gradcode/sim/gc_dl_training.hpp>

#include <cmath>
#include <limits>

using namespace gradcode;

namespace {
// ½‖β − c‖² split into m = 20 samples of ½‖β − c‖²/m, w = 8, n = 10 workers, d_i = 2.
struct quadratic {
  vector<double> c = vector<double>::LinSpaced(8, -1, 1);
  double metric(const vector<double>& b) const { return (b - c).norm(); }
};

gc_dl<double> make_scheme(gc_dl_method method, double p = 0.1) {
  return gc_dl<double>({.placement = place_samples({.workers = 10, .samples = 20, .replication = 2, .seed = 1}),
                        .dimension = 8,
                        .straggler_probability = p,
                        .method = method,
                        .seed = 3});
}

template <class Scheme>
gc_dl_training_result run(const Scheme& s, const gc_dl_training_options& o, double scale = 1) {
  const quadratic q;
  return train_gc_dl(
      s, vector<double>::Zero(8),
      [&](const vector<double>& b) {
        return std::pair{q.metric(b), 0.0};
      },
      [&](const vector<double>& b, Index j, Eigen::Ref<vector<double>> f) {
        for (Index i : s.placement().partitions_of(j)) f += (scale * s.sample_weight(i) / 20) * (b - q.c);
      },
      o);
}
}  // namespace

TEST_CASE("gc_dl training: stops at the last iteration whose ψ fits the budget and records the first ψ at each threshold",
          "[gc_dl_training]") {
  const auto s = make_scheme(gc_dl_method::sgc);
  gc_dl_training_options o;
  o.budget = 100.5 * static_cast<double>(s.bits_per_message());
  o.thresholds = {1.0, 0.1, -1.0};  // a norm never reaches −1
  o.step_size = [](std::uint64_t) { return 0.5; };
  Index reports = 0;
  o.progress = [&](const gc_dl_point&) { ++reports; };
  const auto r = run(s, o);
  CHECK(r.iterations == 100);
  CHECK_FALSE(r.diverged);
  REQUIRE(r.curve.size() >= 2);
  CHECK(r.curve.back().bits == Approx(100.0 * static_cast<double>(s.bits_per_message())));
  CHECK(r.curve.front().bits == 0);
  CHECK(reports == 5);  // at ψ ≥ budget/5, 2·budget/5, 3·budget/5, 4·budget/5, and at the end
  // SGC-DL with p = 0.1 is an unbiased, noisy step: the distance falls below 1 and 0.1 within the budget.
  REQUIRE(r.bits_to_threshold[0] >= 0);
  REQUIRE(r.bits_to_threshold[1] >= 0);
  CHECK(r.bits_to_threshold[0] <= r.bits_to_threshold[1]);
  CHECK(std::fmod(r.bits_to_threshold[1], static_cast<double>(s.bits_per_message())) == 0);
  CHECK(r.bits_to_threshold[2] == -1);
  CHECK(r.final_metric < 0.1);
}

TEST_CASE("gc_dl training: a growing metric stops the run as diverged, and an overflowing local update too", "[gc_dl_training]") {
  const auto s = make_scheme(gc_dl_method::one_bit);
  gc_dl_training_options o;
  o.budget = 1e7;
  o.step_size = [](std::uint64_t) { return -1.0; };  // ascent: the distance grows geometrically
  const auto up = run(s, o);
  CHECK(up.diverged);
  CHECK(up.final_metric > 1e3 * quadratic{}.metric(vector<double>::Zero(8)));
  CHECK(up.iterations < 10000);

  o.step_size = [](std::uint64_t) { return 0.5; };
  const auto overflow = run(s, o, std::numeric_limits<double>::infinity());
  CHECK(overflow.diverged);
  CHECK(overflow.final_metric == std::numeric_limits<double>::infinity());
  CHECK(overflow.iterations == 0);
}

TEST_CASE("gc_dl training: a missing step size, a non-positive budget or a β of the wrong length throw typed errors",
          "[gc_dl_training][errors]") {
  const auto s = make_scheme(gc_dl_method::one_bit);
  gc_dl_training_options o;
  o.budget = 1000;
  CHECK_THROWS_AS(run(s, o), invalid_parameters);
  o.step_size = [](std::uint64_t) { return 0.1; };
  o.budget = 0;
  CHECK_THROWS_WITH(run(s, o), Catch::Matchers::Contains("budget"));
  o.budget = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(run(s, o), invalid_parameters);
  o.budget = 1000;
  o.reports = 0;
  CHECK_THROWS_AS(run(s, o), invalid_parameters);
  o.reports = 5;
  const auto none = [](const vector<double>&) { return std::pair{0.0, 0.0}; };
  const auto nothing = [](const vector<double>&, Index, Eigen::Ref<vector<double>>) {};
  CHECK_THROWS_AS(train_gc_dl(s, vector<double>::Zero(7), none, nothing, o), invalid_input);
}
