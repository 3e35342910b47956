// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <gradcode/optimize/presets.hpp>
#include <gradcode/sim/comparison.hpp>

#include <random>

#include "sim/blobs.hpp"

using namespace gradcode;

TEST_CASE(
    "comparison: one row per scheme in order, time to target is the first curve point at the target, progress sees "
    "every evaluation",
    "[comparison]") {
  matrix<float> x, xt;
  std::vector<int> y, yt;
  gradcode::test::blobs(x, y, 400, 1);
  gradcode::test::blobs(xt, yt, 400, 2);
  const auto data = split_non_iid<float>(x, y, 40, non_iid_level::i, 4);
  const softmax_regression<float> model(5, 3);
  const comparison_params params{.timing = tang2024_setting(),
                                 .partitions = 40,
                                 .schemes = {scheme::hgc_jncss, scheme::uncoded, scheme::hgc},
                                 .edge_tolerance = 1,
                                 .worker_tolerance = 2,
                                 .jncss_edge_tolerance = 1,
                                 .jncss_worker_tolerance = 5,
                                 .target_accuracy = 0.9,
                                 .seed = 1};
  training_options o;
  o.iterations = 20;
  o.evaluate_every = 2;
  o.learning_rate = 0.5;
  int calls = 0;
  o.progress = [&](const training_point&) { FAIL("options.progress must be ignored"); };
  const auto rows = compare_schemes<float>(params, model, data, xt, yt, o,
                                           [&](const scheme_runner<float>&, const training_point&) { ++calls; });
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].which == scheme::hgc_jncss);
  CHECK(rows[0].edge_tolerance == 1);
  CHECK(rows[0].worker_tolerance == 5);
  CHECK(rows[1].which == scheme::uncoded);
  CHECK(rows[1].edge_tolerance == 0);
  CHECK(rows[2].worker_tolerance == 2);
  CHECK(rows[2].master_load == 3);
  CHECK(calls == 3 * 11);  // iteration 0, 2, …, 20
  for (const auto& r : rows) {
    INFO(r.name);
    double expected = -1;
    for (const auto& p : r.result.curve)
      if (p.test_accuracy >= 0.9) {
        expected = p.time_ms;
        break;
      }
    REQUIRE(expected > 0);
    CHECK(r.time_to_target_ms == expected);
  }
  CHECK(rows[0].time_to_target_ms < rows[1].time_to_target_ms);
}

TEST_CASE("comparison: no schemes, or a scheme whose code cannot exist, throws invalid_parameters", "[comparison][errors]") {
  const partitioned_data<float> empty;
  const softmax_regression<float> model(5, 3);
  comparison_params params{.timing = tang2024_setting(), .partitions = 40, .schemes = {}};
  CHECK_THROWS_AS(compare_schemes<float>(params, model, empty, matrix<float>(), {}, {}), invalid_parameters);
  params.schemes = {scheme::hgc};
  params.edge_tolerance = 4;
  CHECK_THROWS_AS(compare_schemes<float>(params, model, empty, matrix<float>(), {}, {}), invalid_parameters);
}
