// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <gradcode/sim/tsdcfl.hpp>

#include <algorithm>
#include <random>

using namespace gradcode;

TEST_CASE("tsdcfl sim: an epoch's draw depends on (seed, epoch) only and slows 1–2 distinct stragglers by the slowdown",
          "[tsdcfl_sim]") {
  const tsdcfl::cluster c{};
  for (Index e = 0; e < 50; ++e) {
    const auto a = tsdcfl::draw_env(c, 7, e), b = tsdcfl::draw_env(c, 7, e);
    CHECK(a.ms_per_partition == b.ms_per_partition);
    REQUIRE(a.stragglers.size() >= 1);
    REQUIRE(a.stragglers.size() <= 2);
    if (a.stragglers.size() == 2) CHECK(a.stragglers[0] != a.stragglers[1]);
    for (Index m = 0; m < c.workers(); ++m) {
      const bool slow = std::find(a.stragglers.begin(), a.stragglers.end(), m) != a.stragglers.end();
      const double base = c.core_ms / c.cores[static_cast<std::size_t>(m)] * (slow ? c.straggler_slowdown : 1.0);
      CHECK(a.ms_per_partition[static_cast<std::size_t>(m)] >= base);  // jitter only slows down
    }
  }
  CHECK(tsdcfl::draw_env(c, 7, 0).ms_per_partition != tsdcfl::draw_env(c, 8, 0).ms_per_partition);
}

TEST_CASE("tsdcfl sim: every scheme's decoded gradient is the exact sum in every epoch, and epoch times are positive",
          "[tsdcfl_sim]") {
  const tsdcfl::cluster c{};
  auto schemes = tsdcfl::make_schemes(c, 3, 0.25);
  REQUIRE(schemes.size() == 5);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  const matrix<double> partials = matrix<double>::NullaryExpr(16, c.partitions, [&] { return normal(rng); });
  const vector<double> truth = partials.rowwise().sum();
  for (Index e = 0; e < 40; ++e) {
    const auto env = tsdcfl::draw_env(c, 3, e);
    for (auto& s : schemes) {
      vector<double> g;
      const auto r = s->run(env, &partials, &g);
      INFO(s->name() << " epoch " << e);
      CHECK(r.time > 0);
      CHECK(r.busy_share > 0);
      CHECK(r.busy_share <= 1 + 1e-12);
      CHECK(r.useful_share > 0);
      CHECK(r.useful_share <= 1 + 1e-9);
      CHECK((g - truth).norm() <= 1e-12 * truth.norm());
    }
  }
}

TEST_CASE("tsdcfl sim: invalid clusters, epoch counts and training data throw invalid_parameters naming the field",
          "[tsdcfl_sim][errors]") {
  tsdcfl::cluster c{};
  c.cores = {2, 0, 4};
  CHECK_THROWS_WITH(tsdcfl::make_schemes(c, 1, 0.25), Catch::Matchers::Contains("core count"));
  c = {};
  c.partitions = 3;
  CHECK_THROWS_WITH(tsdcfl::make_schemes(c, 1, 0.25), Catch::Matchers::Contains("K = 3"));
  c = {};
  c.max_stragglers = 7;
  CHECK_THROWS_AS(tsdcfl::make_schemes(c, 1, 0.25), invalid_parameters);
  c = {};
  c.code_tolerance = 6;
  CHECK_THROWS_AS(tsdcfl::make_schemes(c, 1, 0.25), invalid_parameters);
  CHECK_THROWS_AS(tsdcfl::compare_epoch_times(tsdcfl::cluster{}, 0, 1, 0.25), invalid_parameters);
  CHECK_THROWS_AS(tsdcfl::schedule(1, 1, 5), invalid_parameters);
  partitioned_data<double> data;
  data.features = matrix<double>::Zero(10, 3);
  data.labels.assign(10, 0);
  data.begin = {0, 5, 10};
  CHECK_THROWS_WITH(tsdcfl::train_softmax(tsdcfl::cluster{}, data, data.features, data.labels, 1, 1, 0.25),
                    Catch::Matchers::Contains("2 partitions"));
}
