// SPDX-License-Identifier: MIT
// condition_report: the amplification distribution and refusal shares it reports agree with
// what the codes themselves do on the same patterns.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gradcode/codes/cyclic_repetition.hpp"
#include "gradcode/codes/fractional_repetition.hpp"
#include "gradcode/core/condition_report.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/hierarchical/hgc.hpp"

using gradcode::Index;

TEST_CASE("condition_report: fractional repetition amplifies by exactly 1 on every tolerated pattern", "[condition]") {
  const gradcode::fractional_repetition_code<float> code({.nodes = 12, .partitions = 12, .tolerance = 2});
  const auto r = gradcode::condition_of(code);
  CHECK(r.exhaustive);
  CHECK(r.patterns == 66);  // C(12, 2)
  CHECK(r.not_spanning == 0);
  CHECK(r.worst == Approx(1).epsilon(1e-12));
  CHECK(r.median == Approx(1).epsilon(1e-12));
  CHECK(r.refused_float == 0);
  CHECK(r.refused_double == 0);
}

TEST_CASE("condition_report: one straggler beyond the tolerance leaves patterns that do not span", "[condition]") {
  // Fractional repetition, groups of s + 1 = 3: losing a whole group loses its partitions.
  const gradcode::fractional_repetition_code<double> code({.nodes = 12, .partitions = 12, .tolerance = 2});
  const auto r = gradcode::condition_of(code, {.stragglers = 3});
  CHECK(r.patterns == 220);    // C(12, 3)
  CHECK(r.not_spanning == 4);  // one pattern per group
  CHECK(r.refused_float == 4);
  CHECK(r.refused_double == 4);
}

TEST_CASE("condition_report: its refusal counts equal the code's own plan refusals on the same patterns", "[condition]") {
  // n = 40, s = 4 in float is where the issue measured a few refusals of 200 random patterns.
  const gradcode::condition_options options{.samples = 200, .seed = 7};
  const gradcode::cyclic_repetition_code<float> f32({.nodes = 40, .partitions = 40, .tolerance = 4});
  const gradcode::cyclic_repetition_code<double> f64({.nodes = 40, .partitions = 40, .tolerance = 4});
  const auto r = gradcode::condition_of(f32, options);
  CHECK_FALSE(r.exhaustive);
  REQUIRE(r.patterns == 200);
  Index refused32 = 0, refused64 = 0, seen = 0;
  gradcode::condition_options same = options;
  gradcode::detail::for_straggler_patterns(40, 4, same, [&](const std::vector<Index>& gone) {
    const auto p = gradcode::pattern::all_except(40, gone);
    refused32 += f32.decodable(p) ? 0 : 1;
    refused64 += f64.decodable(p) ? 0 : 1;
    ++seen;
  });
  CHECK(seen == 200);
  CHECK(r.refused_float == refused32);
  CHECK(r.refused_double == refused64);
  CHECK(r.not_spanning == 0);
  CHECK(r.worst >= r.p99);
  CHECK(r.p99 >= r.p90);
  CHECK(r.p90 >= r.median);
  CHECK(r.median >= 1);
  WARN("cyclic repetition n = 40, s = 4: worst amplification " << r.worst << ", median " << r.median << ", float refuses "
                                                               << r.refused_float << " of 200");
}

TEST_CASE("condition_report: exhaustive enumeration visits every k-subset once", "[condition]") {
  std::vector<std::vector<Index>> seen;
  const bool all =
      gradcode::detail::for_straggler_patterns(7, 3, {}, [&](const std::vector<Index>& gone) { seen.push_back(gone); });
  CHECK(all);
  REQUIRE(seen.size() == 35);
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  for (const auto& s : seen) CHECK(std::is_sorted(s.begin(), s.end()));
}

TEST_CASE("condition_report: both HGC layers and their compounded worst", "[condition]") {
  const gradcode::hgc_code<float> code(
      gradcode::hgc_params{.workers = {3, 3, 3}, .partitions = 9, .edge_tolerance = 1, .worker_tolerance = 1});
  const auto r = gradcode::condition_of_layers(code);
  CHECK(r.master.patterns == 3);
  REQUIRE(r.edges.size() == 3);
  double edge_worst = 0;
  for (const auto& e : r.edges) {
    CHECK(e.patterns == 3);
    CHECK(e.not_spanning == 0);
    edge_worst = std::max(edge_worst, e.worst);
  }
  CHECK(r.compounded_worst == Approx(r.master.worst * edge_worst));
  CHECK(r.float_accepts_worst);
}

TEST_CASE("condition_report: bad options are typed errors", "[condition]") {
  const gradcode::fractional_repetition_code<double> code({.nodes = 6, .partitions = 6, .tolerance = 1});
  CHECK_THROWS_AS(gradcode::condition_of(code, {.stragglers = 6}), gradcode::invalid_input);
  CHECK_THROWS_AS(gradcode::condition_of(code, {.exhaustive_limit = 0, .samples = 0}), gradcode::invalid_input);
}
