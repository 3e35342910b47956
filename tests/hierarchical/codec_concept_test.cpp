// SPDX-License-Identifier: MIT
// The codec concepts (include/gradcode/core/codec.hpp, issue 14): every scheme satisfies its
// concept as it is, and one round written once against gradcode::hierarchical_codec decodes the
// exact sum for both hierarchical schemes (tang2024 HGC, gholami2025 polynomial HGC) on every
// straggler pattern of a small system, with reports that say what was used; a refused master
// decode leaves `out` untouched.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/core/codec.hpp>
#include <gradcode/core/errors.hpp>
#include <gradcode/hierarchical/hgc.hpp>
#include <gradcode/hierarchical/polynomial.hpp>

#include "codec_round.hpp"
#include "codes/code_properties.hpp"

using gradcode::decode_report;
using gradcode::hgc_code;
using gradcode::Index;
using gradcode::matrix;
using gradcode::polynomial_hgc;
using gradcode::vector;
using gradcode::worker_id;
using gradcode::test::error_bound;
using gradcode::test::random_partials;
using gradcode::test::relative_error;
using gradcode::test::run_round;
using gradcode::test::scalar_name;

static_assert(gradcode::codec<gradcode::linear_code<float>> && gradcode::codec<gradcode::linear_code<double>>);
static_assert(gradcode::codec<gradcode::cyclic_repetition_code<double>> &&
              gradcode::codec<gradcode::fractional_repetition_code<float>>);
static_assert(gradcode::codec<gradcode::heterogeneous_code<float>> && gradcode::codec<gradcode::cyclic_mds_code<double>>);
static_assert(gradcode::hierarchical_codec<hgc_code<float>> && gradcode::hierarchical_codec<hgc_code<double>>);
static_assert(gradcode::hierarchical_codec<polynomial_hgc<float>> && gradcode::hierarchical_codec<polynomial_hgc<double>>);
// The layers are not interchangeable: a single-layer code is no hierarchical one and vice versa.
static_assert(!gradcode::hierarchical_codec<gradcode::linear_code<double>> && !gradcode::codec<hgc_code<double>>);

namespace {

/// Every pattern of ≤ 1 straggling edge × ≤ 1 straggling worker in each live edge (3 × 3 systems)
/// through run_round; returns the worst relative error. HGC compounds the layers as a product
/// (amp_master · max amp_edge ≥ every edge's); the polynomial code as a root-sum-square over its
/// relays (robust/reed_solomon.hpp), which may be below the largest relay's.
template <gradcode::hierarchical_codec C>
double every_pattern(const C& code, Index d, std::mt19937_64& rng, int& rounds, bool product_compounding) {
  using Scalar = typename C::scalar_type;
  const auto g = random_partials<Scalar>(d, code.partitions(), rng);
  double worst = 0;
  for (Index slow_edge = -1; slow_edge < code.edges(); ++slow_edge)
    for (Index w0 = -1; w0 < code.workers(0); ++w0)
      for (Index w1 = -1; w1 < code.workers(1); ++w1) {
        std::vector<Index> edges;
        if (slow_edge >= 0) edges.push_back(slow_edge);
        std::vector<worker_id> workers;
        if (w0 >= 0) workers.push_back({0, w0});
        if (w1 >= 0) workers.push_back({1, w1});
        const auto r = run_round(code, g, edges, workers);
        const double err = relative_error(r.sum, g);
        CHECK(err <= error_bound<Scalar>());
        CHECK(r.master.estimated_error <= error_bound<Scalar>());
        for (const auto& e : r.edges)
          if (product_compounding) CHECK(r.master.amplification >= e.amplification);
        worst = std::max(worst, err);
        ++rounds;
      }
  return worst;
}

}  // namespace

TEMPLATE_TEST_CASE(
    "codec concept: one round written against hierarchical_codec decodes the exact sum for HGC and the "
    "polynomial code on every pattern of one straggling edge and one straggling worker per edge",
    "[codec][hierarchical]", float, double) {
  std::mt19937_64 rng(71);
  int rounds = 0;
  const hgc_code<TestType> hgc({.workers = {3, 3, 3}, .partitions = 6, .edge_tolerance = 1, .worker_tolerance = 1});
  const double hgc_worst = every_pattern(hgc, 10, rng, rounds, true);
  const gradcode::polynomial_placement placement{
      .workers = {3, 3, 3}, .partitions = 6, .relay_replication = 2, .worker_replication = {2}};
  const polynomial_hgc<TestType> poly(
      {.dimension = 12, .clusters = gradcode::place_partitions(placement), .relay_stragglers = 1, .worker_stragglers = {1}});
  const double poly_worst = every_pattern(poly, 12, rng, rounds, false);
  std::printf("codec concept <%s>: %d rounds, worst relative error HGC %.2e, polynomial %.2e\n", scalar_name<TestType>(), rounds,
              hgc_worst, poly_worst);
  CHECK(rounds == 2 * 4 * 4 * 4);
}

TEST_CASE(
    "codec concept: a master decode refused on too few edges, on a compounded estimate over budget, or on a report "
    "count that does not match leaves out untouched",
    "[codec][hierarchical]") {
  std::mt19937_64 rng(72);
  const hgc_code<double> code({.workers = {3, 3, 3}, .partitions = 6, .edge_tolerance = 1, .worker_tolerance = 1});
  const auto g = random_partials<double>(8, 6, rng);
  const auto r = run_round(code, g, {}, {});
  REQUIRE(relative_error(r.sum, g) <= error_bound<double>());
  matrix<double> results(8, 2);
  const std::vector<Index> two{0, 1};
  for (Index e = 0; e < 2; ++e) {
    std::vector<Index> ids{0, 1};
    matrix<double> messages(8, 2);
    for (Index j = 0; j < 2; ++j) code.encode(worker_id{e, j}, g, messages.col(j));
    code.edge_decode(e, ids, messages, results.col(e));
  }
  vector<double> out = vector<double>::Constant(8, 7.0);
  const std::vector<decode_report> one_report(1);
  try {
    code.master_decode(std::vector<Index>{0}, results.leftCols(1), one_report, out);
    FAIL("one of three edges decoded");
  } catch (const gradcode::not_decodable& e) {  // the layers' context added, one tag (it was nested twice)
    const std::string what = e.what();
    CHECK(what.rfind("gradcode::not_decodable: master: 1 of 3 edges responded, 2 needed (", 0) == 0);
    CHECK(what.find("gradcode::", 1) == std::string::npos);
  }
  CHECK((out.array() == 7.0).all());
  std::vector<decode_report> reports(2);
  reports[1].amplification = 1e12;  // an edge whose own decode amplified rounding 1e12-fold
  CHECK_THROWS_AS(code.master_decode(two, results, reports, out), gradcode::not_decodable);
  CHECK((out.array() == 7.0).all());
  CHECK_THROWS_AS(code.master_decode(two, results, one_report, out), gradcode::invalid_input);
  CHECK((out.array() == 7.0).all());
  reports[1].amplification = 1;
  const auto report = code.master_decode(two, results, reports, out);
  CHECK(relative_error(out, g) <= error_bound<double>());
  CHECK(report.used == two);
  CHECK(report.corrupted.empty());
  CHECK(report.exact);
}
